// The flags `berth create` and `berth run` share, and the library's CreateOptions they become
// (with the caller's environment: LISTEN_FDS, NOTIFY_SOCKET, and the global --systemd-cgroup).
// Each command declares the flags itself, in runc's order for its --help.
#pragma once

#include <string>

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

CreateOptions create_options(const GlobalOptions& global, const std::string& id, const CreateFlags& f);

}  // namespace berth::cmd
