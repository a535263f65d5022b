// Facts about processes read from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace berth::proc {

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); nullopt when the
// process is gone. Comparing it guards every signal against PID reuse.
std::optional<std::uint64_t> start_time(pid_t pid);

// True when pid exists, is not a zombie, and started at start_time.
bool alive(pid_t pid, std::uint64_t start_time);

// "pid:[4026531836]": the target of /proc/<pid>/ns/<ns>; nullopt when the process is gone.
std::optional<std::string> ns_id(pid_t pid, const char* ns);

}  // namespace berth::proc
