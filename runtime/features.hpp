// What this build of berth supports, as the OCI features document
// (features.md, features-linux.md) that `berth features` prints.
#pragma once

#include "oci/features.hpp"

namespace berth {

// The features document of this build. Fields are filled only for what berth
// really implements, so that callers (containerd, podman) never rely on a
// feature berth would ignore.
oci::Features runtime_features();

}  // namespace berth
