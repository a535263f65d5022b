#include "cmd/create_flags.hpp"

namespace berth::cmd {

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
