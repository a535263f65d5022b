#include "cmd/create_flags.hpp"

#include <climits>
#include <string>

#include <fmt/format.h>

namespace berth::cmd {

std::string_view create_description(std::string_view command) {
  // runc's text, which names the command once.
  constexpr std::string_view kText = R"(Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

The {} command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"berth spec --help" for more explanation.)";
  // Built on first use: the commands' CommandInfo are globals of other files.
  static const std::string create = fmt::format(kText, "create");
  static const std::string run = fmt::format(kText, "run");
  return command == "run" ? run : create;
}

void add_leading_create_flags(po::options_description& flags, CreateFlags& f) {
  flags.add_options()
      ("bundle,b", po::value(&f.bundle),
       "path to the root of the bundle directory, defaults to the current directory")
      ("console-socket", po::value(&f.console_socket),
       "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the "
       "console's pseudoterminal");
}

void add_trailing_create_flags(po::options_description& flags, CreateFlags& f) {
  flags.add_options()
      ("no-pivot", flag(&f.no_pivot),
       "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on "
       "top of a ramdisk")
      ("no-new-keyring", flag(&f.no_new_keyring),
       "do not create a new session keyring for the container.  This will cause the container to inherit the "
       "calling processes session key")
      ("preserve-fds",
       po::value<std::string>()->notifier(
           [&f](const std::string& v) { f.preserve_fds = static_cast<unsigned>(parse_uint("preserve-fds", v, INT_MAX)); }),
       "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)");
}

CreateOptions create_options(const GlobalOptions& global, const std::string& id, const CreateFlags& f) {
  return {.id = id,
          .bundle = f.bundle,
          .console_socket = f.console_socket,
          .pid_file = f.pid_file,
          .no_pivot = f.no_pivot,
          .no_new_keyring = f.no_new_keyring,
          .listen_fds = listen_fds_from_env(),
          .notify_socket = env_or_empty("NOTIFY_SOCKET"),
          .preserve_fds = static_cast<int>(f.preserve_fds),
          .systemd_cgroup = global.systemd_cgroup,
          .rootless = global.rootless};
}

}  // namespace berth::cmd
