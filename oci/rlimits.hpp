// process.rlimits[].type names <-> RLIMIT_* resource numbers (getrlimit(2)).
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace berth::oci {

struct RlimitName {
  std::string_view name;  // "RLIMIT_NOFILE"
  int resource;           // RLIMIT_NOFILE
};

// Every resource getrlimit(2) knows on Linux, ordered by number.
std::span<const RlimitName> rlimit_names() noexcept;

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; nullopt for unknown names.
std::optional<int> rlimit_from_name(std::string_view name) noexcept;

}  // namespace berth::oci
