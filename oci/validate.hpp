// Semantic checks of a decoded config (STYLE.md §3): a list of small checks run
// in order before anything touches the system. Each turns a statically
// checkable MUST of config.md / config-linux.md (or a runc rule berth keeps)
// into a berth::Error naming the JSON path, e.g.
//   linux.namespaces[3].type: duplicate namespace "pid"
#pragma once

#include "oci/spec.hpp"

namespace berth::oci {

// Throws berth::Error on the first violation.
void validate(const Spec& spec);

}  // namespace berth::oci
