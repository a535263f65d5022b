// What container.cpp and container_exec.cpp share, beyond the public API.
#pragma once

#include <sys/types.h>

#include <string>

#include "oci/state.hpp"
#include "runtime/state_store.hpp"

namespace berth::detail {

// The state document of a record with this status (pid only while not stopped).
oci::State make_state(const ContainerRecord& r, oci::Status status);

// Writes pid to path atomically (temporary file + rename), as runc's --pid-file.
void write_pid_file(const std::string& path, pid_t pid);

}  // namespace berth::detail
