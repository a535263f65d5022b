// The thread's capability sets through the raw syscalls: capget/capset (version 3, 64-bit
// sets) and prctl(PR_CAPBSET_*). libcap-ng does the same through a state machine that reads
// /proc/sys/kernel/cap_last_cap and /proc/<pid>/status and probes the bounding set one
// capability at a time (~100 syscalls per container); on the start path the few calls below
// are all that is needed.
#pragma once

#include <cstdint>

namespace berth::process::caps {

// Bit n = capability n.
struct Sets {
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;

  friend bool operator==(const Sets&, const Sets&) = default;
};

// The highest capability number the running kernel knows (40 on 6.x), found by a binary
// search with PR_CAPBSET_READ (EINVAL past the last one): ~6 syscalls, no /proc needed.
// Cached after the first call.
int last_cap();

// capget(2) of this thread.
Sets get();
// capset(2) of this thread. Throws berth::Error("capset", errno).
void set(const Sets& s);

// Drops every capability 0..last not in `keep` from the bounding set (needs CAP_SETPCAP).
// Throws naming the first capability the kernel refused.
void limit_bounding(std::uint64_t keep, int last);

// True when capability n is in this thread's bounding set.
bool in_bounding(int n);

}  // namespace berth::process::caps
