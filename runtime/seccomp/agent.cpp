#include "runtime/seccomp/agent.hpp"

#include <boost/json.hpp>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::seccomp {

std::string process_state_json(pid_t pid, const std::optional<std::string>& metadata, const oci::State& state) {
  boost::json::object o;
  o["ociVersion"] = state.oci_version;
  o["fds"] = boost::json::array{"seccompFd"};
  o["pid"] = pid;
  if (metadata) o["metadata"] = *metadata;
  o["state"] = oci::to_json(state);
  return boost::json::serialize(o);
}

void send_to_agent(const std::string& path, const std::optional<std::string>& metadata, pid_t pid,
                   const oci::State& state, int listener) {
  with_context("linux.seccomp.listenerPath", [&] {
    const sys::Fd sock = sys::connect_unix(path, "seccomp agent");
    sys::send_fd(sock.get(), process_state_json(pid, metadata, state), listener, path);
  });
}

}  // namespace berth::seccomp
