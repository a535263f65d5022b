// Capability names <-> numbers, as known to the kernel headers berth is built
// against (<linux/capability.h>). The runtime uses it to turn
// process.capabilities into capset/prctl calls; validate() uses it to refuse
// unknown names.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace berth::oci {

struct Capability {
  std::string_view name;  // "CAP_CHOWN"
  int number;             // CAP_CHOWN
};

// Every known capability, ordered by number (0 .. last_capability()).
std::span<const Capability> capabilities() noexcept;

// CAP_LAST_CAP of the build headers.
int last_capability() noexcept;

// "CAP_SYS_ADMIN" -> 21; exact, case-sensitive match as in config.json.
std::optional<int> capability_from_name(std::string_view name) noexcept;

// 21 -> "CAP_SYS_ADMIN"; nullopt when the number is unknown to the headers.
std::optional<std::string_view> capability_name(int number) noexcept;

}  // namespace berth::oci
