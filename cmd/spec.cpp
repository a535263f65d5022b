// berth spec: writes a starter config.json into a bundle (runc spec).
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cmd/commands.hpp"
#include "oci/defaults.hpp"
#include "oci/json.hpp"
#include "oci/spec.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::cmd {

const CommandInfo kSpecCommand{
    .name = "spec",
    .summary = "create a new specification file",
    .args_usage = "",
    .description = R"(The spec command creates the new specification file named "config.json" for
the bundle.

The spec generated is just a starter file. Editing of the spec is required to
achieve desired results. For example, the newly generated spec includes an args
parameter that is initially set to call the "sh" command when the container is
started. Calling "sh" may work for an ubuntu container or busybox, but will not
work for containers that do not include the "sh" program.

EXAMPLE:
  To run docker's hello-world container one needs to set the args parameter
in the spec to call hello. This can be done using the sed command or a text
editor. The following commands create a bundle for hello-world, change the
default args parameter in the spec from "sh" to "/hello", then run the hello
command in a new hello-world container named container1:

    mkdir hello
    cd hello
    docker pull hello-world
    docker export $(docker create hello-world) > hello-world.tar
    mkdir rootfs
    tar -C rootfs -xf hello-world.tar
    berth spec
    sed -i 's;"sh";"/hello";' config.json
    berth run container1

In the run command above, "container1" is the name for the instance of the
container that you are starting. The name you provide for the container instance
must be unique on your host.

When starting a container through berth, berth needs root privilege. If not
already running as root, you can use sudo to give berth root privilege. For
example: "sudo berth start container1" will give berth root privilege to start the
container on your host.

Alternatively, you can start a rootless container, which has the ability to run
without root privileges. For this to work, the specification file needs to be
adjusted accordingly. You can pass the parameter --rootless to this command to
generate a proper rootless spec file.

Note that --rootless is not needed when you execute berth as the root in a user namespace
created by an unprivileged user.)",
    .min_args = 0,
    .max_args = 0,
};

namespace {

struct SpecArgs {
  std::string bundle;  // empty: the current directory
  bool rootless = false;
};

constexpr std::string_view kConfigName = "config.json";

// Writes `text` to a new config.json in the bundle. O_EXCL makes the check
// for an existing file and the creation one step, so a file that appears
// meanwhile is never overwritten; mode 0666 is narrowed by the umask.
void write_new_config(const std::string& bundle, std::string_view text) {
  const std::string dir = bundle.empty() ? std::string(".") : bundle;
  const std::string path = bundle.empty() ? std::string(kConfigName) : fmt::format("{}/{}", bundle, kConfigName);
  sys::Fd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) throw_errno("open bundle directory", dir);

  int raw;
  do raw = ::openat(dirfd.get(), kConfigName.data(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  while (raw < 0 && errno == EINTR);
  if (raw < 0 && errno == EEXIST) throw Error(fmt::format("file `{}` exists, remove it first", path));
  if (raw < 0) throw_errno("create", path);
  sys::Fd fd(raw);

  // A partial config.json would be mistaken for a real one: remove it on failure.
  const auto fail = [&](std::string_view op) {
    const int e = errno;
    fd.reset();
    ::unlinkat(dirfd.get(), kConfigName.data(), 0);
    errno = e;
    throw_errno(op, path);
  };
  while (!text.empty()) {
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write");
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::close(fd.release()) != 0 && errno != EINTR) fail("close");
}

}  // namespace

int cmd_spec([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  SpecArgs a;
  po::options_description flags;
  flags.add_options()
      ("bundle,b", po::value(&a.bundle), "path to the root of the bundle directory")
      ("rootless", flag(&a.rootless), "generate a configuration for a rootless container");
  if (!parse_command(kSpecCommand, flags, args)) return 0;

  const std::string text = oci::pretty_json(oci::to_json(oci::default_spec(a.rootless)));
  write_new_config(a.bundle, text);
  spdlog::debug("wrote {} config.json in `{}`", a.rootless ? "a rootless" : "a", a.bundle.empty() ? "." : a.bundle);
  return 0;
}

}  // namespace berth::cmd
