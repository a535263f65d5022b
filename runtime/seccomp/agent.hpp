// Handing a seccomp listener to the agent at linux.seccomp.listenerPath (config-linux.md "The
// Container Process State"): one connection, one JSON document with the fd as SCM_RIGHTS, closed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "oci/state.hpp"

namespace berth::seccomp {

// The container process state document ("fds": ["seccompFd"]).
std::string process_state_json(pid_t pid, const std::optional<std::string>& metadata, const oci::State& state);
// Connects to path and sends process_state_json(...) with `listener`. Errors name
// linux.seccomp.listenerPath: the container must not run without its agent.
void send_to_agent(const std::string& path, const std::optional<std::string>& metadata, pid_t pid,
                   const oci::State& state, int listener);

}  // namespace berth::seccomp
