#include "runtime/features.hpp"

#include "oci/capabilities.hpp"
#include "runtime/mount/options.hpp"
#include "runtime/seccomp/filter.hpp"

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
  // Only what berth really does; an absent field means "not reported", never "supported".
  f.hooks = oci::Strings{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  f.mount_options = mount::known_option_names();
  oci::LinuxFeatures l;
  l.namespaces = std::vector<oci::NamespaceType>{oci::NamespaceType::Cgroup, oci::NamespaceType::Ipc,
                                                 oci::NamespaceType::Mount,  oci::NamespaceType::Network,
                                                 oci::NamespaceType::Pid,    oci::NamespaceType::Time,
                                                 oci::NamespaceType::User,   oci::NamespaceType::Uts};
  oci::Strings caps;
  for (const auto& c : oci::capabilities()) caps.emplace_back(c.name);
  l.capabilities = std::move(caps);
  // What berth can drive, as runc reports it (not what this host mounts): cgroupfs v1 and v2,
  // systemd's system instance over D-Bus (not yet a user instance: rootless is issue #6), rdma.max.
  l.cgroup = oci::CgroupFeatures{.v1 = true, .v2 = true, .systemd = true, .systemd_user = false, .rdma = true};
  l.seccomp = seccomp::features();
  // Both are written through /proc (runtime/process/lsm.cpp), no library needed, so berth always
  // supports them, as runc reports. Whether this host has them enabled is another matter, which
  // features-linux.md keeps out of this document.
  l.apparmor = oci::EnabledFeature{.enabled = true};
  l.selinux = oci::EnabledFeature{.enabled = true};
  l.mount_extensions = oci::MountExtensionsFeatures{.idmap = oci::EnabledFeature{.enabled = true}};
  f.linux = std::move(l);
  return f;
}

}  // namespace berth
