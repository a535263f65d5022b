#include "runtime/features.hpp"

// The runtime-spec version berth implements comes from the build (meson's
// `oci_spec_version`); the fallback keeps this file compiling where the
// build does not pass it.
#ifndef BERTH_OCI_SPEC_VERSION
#define BERTH_OCI_SPEC_VERSION "1.3.0"
#endif

namespace berth {

oci::Features runtime_features() {
  oci::Features f;
  f.oci_version_min = "1.0.0";
  f.oci_version_max = BERTH_OCI_SPEC_VERSION;
  // Nothing else is reported yet: berth does not run containers so far. Each
  // later issue fills the entries of what it lands (hooks and mountOptions
  // with the lifecycle in #3, linux.namespaces and mount extensions with #3,
  // linux.cgroup with #5, linux.seccomp, capabilities, apparmor and selinux
  // with #6, ...). An absent field means "not reported", never "supported".
  return f;
}

}  // namespace berth
