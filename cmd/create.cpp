// berth create: sets up a container from a bundle and leaves its init
// process waiting for `berth start` (runc create).
#include <climits>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cmd/commands.hpp"
#include "cmd/create_flags.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

const CommandInfo kCreateCommand{
    .name = "create",
    .summary = "create a container",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"berth spec --help" for more explanation.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct CreateArgs {
  std::string id;
  CreateFlags f;
};

}  // namespace

int cmd_create(const GlobalOptions& global, const std::vector<std::string>& args) {
  CreateArgs a;
  po::options_description flags;
  flags.add_options()
      ("bundle,b", po::value(&a.f.bundle),
       "path to the root of the bundle directory, defaults to the current directory")
      ("console-socket", po::value(&a.f.console_socket),
       "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the "
       "console's pseudoterminal")
      ("pid-file", po::value(&a.f.pid_file), "specify the file to write the process id to")
      ("no-pivot", flag(&a.f.no_pivot),
       "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on "
       "top of a ramdisk")
      ("no-new-keyring", flag(&a.f.no_new_keyring),
       "do not create a new session keyring for the container.  This will cause the container to inherit the "
       "calling processes session key")
      ("preserve-fds",
       po::value<std::string>()->notifier(
           [&a](const std::string& v) { a.f.preserve_fds = static_cast<unsigned>(parse_uint("preserve-fds", v, INT_MAX)); }),
       "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)");
  const auto positional = parse_command(kCreateCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  spdlog::debug("create `{}` from bundle `{}`", a.id, a.f.bundle.empty() ? "." : a.f.bundle);
  Factory factory(global.root);
  factory.create(create_options(global, a.id, a.f));
  return 0;
}

}  // namespace berth::cmd
