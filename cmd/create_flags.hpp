// The flags `berth create` and `berth run` share, and the library's CreateOptions they become
// (with the caller's environment: LISTEN_FDS, NOTIFY_SOCKET, and the global --systemd-cgroup).
// runc lists them in this order in --help: bundle, console-socket, then each command's own flags
// (pid-file among them), then no-pivot, no-new-keyring, preserve-fds.
#pragma once

#include <string>
#include <string_view>

#include "cmd/options.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

struct CreateFlags {
  std::string bundle;          // empty: the current directory
  std::string console_socket;  // AF_UNIX socket that receives the pty master
  std::string pid_file;
  bool no_pivot = false;
  bool no_new_keyring = false;
  unsigned preserve_fds = 0;
};

// The description `create` and `run` show in --help (runc's); command: "create" or "run".
std::string_view create_description(std::string_view command);

// --bundle and --console-socket.
void add_leading_create_flags(po::options_description& flags, CreateFlags& f);
// --no-pivot, --no-new-keyring and --preserve-fds.
void add_trailing_create_flags(po::options_description& flags, CreateFlags& f);

CreateOptions create_options(const GlobalOptions& global, const std::string& id, const CreateFlags& f);

}  // namespace berth::cmd
