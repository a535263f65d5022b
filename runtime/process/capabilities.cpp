#include "runtime/process/capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "oci/capabilities.hpp"
#include "runtime/sys/error.hpp"

namespace berth::process::caps {

namespace {

// The sets are 64-bit masks, so 63 is the highest number a kernel could report.
constexpr int kMaxCap = 63;

int g_last_cap = -1;

std::string label(int c) {
  const auto name = oci::capability_name(c);
  return name ? std::string(*name) : fmt::format("capability {}", c);
}

bool bounding_readable(int n) { return ::prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0; }

}  // namespace

int last_cap() {
  if (g_last_cap >= 0) return g_last_cap;
  // Invariant: lo is known, hi+1 is not (or is past kMaxCap). CAP_CHOWN (0) always exists.
  int lo = 0, hi = kMaxCap;
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    if (bounding_readable(mid)) lo = mid;
    else hi = mid - 1;
  }
  g_last_cap = lo;
  return lo;
}

Sets get() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) throw Error("capget", errno);
  const auto join = [](std::uint32_t low, std::uint32_t high) { return std::uint64_t{high} << 32 | low; };
  return Sets{join(data[0].effective, data[1].effective), join(data[0].permitted, data[1].permitted),
              join(data[0].inheritable, data[1].inheritable)};
}

void set(const Sets& s) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  const auto split = [&](std::uint64_t v, __u32 __user_cap_data_struct::*field) {
    data[0].*field = static_cast<__u32>(v);
    data[1].*field = static_cast<__u32>(v >> 32);
  };
  split(s.effective, &__user_cap_data_struct::effective);
  split(s.permitted, &__user_cap_data_struct::permitted);
  split(s.inheritable, &__user_cap_data_struct::inheritable);
  if (::syscall(SYS_capset, &header, data) != 0) throw Error("capset", errno);
}

void limit_bounding(std::uint64_t keep, int last) {
  for (int c = 0; c <= last && c <= kMaxCap; ++c) {
    if ((keep >> c) & 1U) continue;
    // Dropping a capability that is already gone succeeds: no read needed first.
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
      throw Error(fmt::format("process.capabilities.bounding: prctl PR_CAPBSET_DROP {}", label(c)), errno);
  }
}

bool in_bounding(int n) { return ::prctl(PR_CAPBSET_READ, n, 0, 0, 0) > 0; }

}  // namespace berth::process::caps
