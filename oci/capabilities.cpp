#include "oci/capabilities.hpp"

#include <array>

#include <linux/capability.h>

namespace berth::oci {

namespace {

// Every name, in number order. Capabilities newer than the build headers are
// left out by the #ifdefs, so the table is exactly what this build knows.
constexpr Capability kCapabilities[] = {
    {"CAP_CHOWN", CAP_CHOWN},
    {"CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE},
    {"CAP_DAC_READ_SEARCH", CAP_DAC_READ_SEARCH},
    {"CAP_FOWNER", CAP_FOWNER},
    {"CAP_FSETID", CAP_FSETID},
    {"CAP_KILL", CAP_KILL},
    {"CAP_SETGID", CAP_SETGID},
    {"CAP_SETUID", CAP_SETUID},
    {"CAP_SETPCAP", CAP_SETPCAP},
    {"CAP_LINUX_IMMUTABLE", CAP_LINUX_IMMUTABLE},
    {"CAP_NET_BIND_SERVICE", CAP_NET_BIND_SERVICE},
    {"CAP_NET_BROADCAST", CAP_NET_BROADCAST},
    {"CAP_NET_ADMIN", CAP_NET_ADMIN},
    {"CAP_NET_RAW", CAP_NET_RAW},
    {"CAP_IPC_LOCK", CAP_IPC_LOCK},
    {"CAP_IPC_OWNER", CAP_IPC_OWNER},
    {"CAP_SYS_MODULE", CAP_SYS_MODULE},
    {"CAP_SYS_RAWIO", CAP_SYS_RAWIO},
    {"CAP_SYS_CHROOT", CAP_SYS_CHROOT},
    {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
    {"CAP_SYS_PACCT", CAP_SYS_PACCT},
    {"CAP_SYS_ADMIN", CAP_SYS_ADMIN},
    {"CAP_SYS_BOOT", CAP_SYS_BOOT},
    {"CAP_SYS_NICE", CAP_SYS_NICE},
    {"CAP_SYS_RESOURCE", CAP_SYS_RESOURCE},
    {"CAP_SYS_TIME", CAP_SYS_TIME},
    {"CAP_SYS_TTY_CONFIG", CAP_SYS_TTY_CONFIG},
    {"CAP_MKNOD", CAP_MKNOD},
    {"CAP_LEASE", CAP_LEASE},
    {"CAP_AUDIT_WRITE", CAP_AUDIT_WRITE},
    {"CAP_AUDIT_CONTROL", CAP_AUDIT_CONTROL},
    {"CAP_SETFCAP", CAP_SETFCAP},
    {"CAP_MAC_OVERRIDE", CAP_MAC_OVERRIDE},
    {"CAP_MAC_ADMIN", CAP_MAC_ADMIN},
    {"CAP_SYSLOG", CAP_SYSLOG},
    {"CAP_WAKE_ALARM", CAP_WAKE_ALARM},
    {"CAP_BLOCK_SUSPEND", CAP_BLOCK_SUSPEND},
#ifdef CAP_AUDIT_READ
    {"CAP_AUDIT_READ", CAP_AUDIT_READ},
#endif
#ifdef CAP_PERFMON
    {"CAP_PERFMON", CAP_PERFMON},
#endif
#ifdef CAP_BPF
    {"CAP_BPF", CAP_BPF},
#endif
#ifdef CAP_CHECKPOINT_RESTORE
    {"CAP_CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE},
#endif
};

constexpr bool dense_and_complete() {
  int i = 0;
  for (const Capability& c : kCapabilities)
    if (c.number != i++) return false;
  return i == CAP_LAST_CAP + 1;
}
// A new capability in the headers must be added above (the table is indexed by number).
static_assert(dense_and_complete(), "kCapabilities must list CAP_CHOWN .. CAP_LAST_CAP in order");

}  // namespace

std::span<const Capability> capabilities() noexcept { return kCapabilities; }

int last_capability() noexcept { return CAP_LAST_CAP; }

std::optional<int> capability_from_name(std::string_view name) noexcept {
  for (const Capability& c : kCapabilities)
    if (c.name == name) return c.number;
  return std::nullopt;
}

std::optional<std::string_view> capability_name(int number) noexcept {
  if (number < 0 || number > CAP_LAST_CAP) return std::nullopt;
  return kCapabilities[number].name;
}

}  // namespace berth::oci
