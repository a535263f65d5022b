// The config.json that `berth spec` writes.
#pragma once

#include <cstdint>

#include "oci/spec.hpp"

namespace berth::oci {

// Exactly what `runc spec` (runc 1.1.5) writes, except ociVersion = "1.3.0".
// With `rootless`, what `runc spec --rootless` writes: no network namespace, a
// user namespace mapping container root to the caller's effective uid/gid
// (geteuid()/getegid(), as runc), /sys bind-mounted, no gid= mount option, no
// cgroup resources.
Spec default_spec(bool rootless);

// The same with an explicit host uid/gid for the rootless mappings (tests).
Spec default_spec(bool rootless, std::uint32_t host_uid, std::uint32_t host_gid);

}  // namespace berth::oci
