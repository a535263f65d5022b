// The Features structure (features.md, features-linux.md): what `berth features`
// prints. Every field but the two versions is optional: absent means "not
// reported". Filling it with what berth supports is runtime/features.cpp's job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "oci/enums.hpp"
#include "oci/spec.hpp"

namespace berth::oci {

struct CgroupFeatures {
  std::optional<bool> v1;
  std::optional<bool> v2;
  std::optional<bool> systemd;
  std::optional<bool> systemd_user;
  std::optional<bool> rdma;
  friend bool operator==(const CgroupFeatures&, const CgroupFeatures&) = default;
};

struct SeccompFeatures {
  std::optional<bool> enabled;
  std::optional<std::vector<SeccompAction>> actions;
  std::optional<std::vector<SeccompOperator>> operators;
  std::optional<std::vector<SeccompArch>> archs;
  std::optional<std::vector<SeccompFlag>> known_flags;
  std::optional<std::vector<SeccompFlag>> supported_flags;
  friend bool operator==(const SeccompFeatures&, const SeccompFeatures&) = default;
};

struct EnabledFeature {  // apparmor, selinux, netDevices, mountExtensions.idmap
  std::optional<bool> enabled;
  friend bool operator==(const EnabledFeature&, const EnabledFeature&) = default;
};

struct IntelRdtFeatures {
  std::optional<bool> enabled;
  std::optional<bool> schemata;    // linux.intelRdt.schemata is supported
  std::optional<bool> monitoring;  // linux.intelRdt.enableMonitoring is supported
  friend bool operator==(const IntelRdtFeatures&, const IntelRdtFeatures&) = default;
};

struct MountExtensionsFeatures {
  std::optional<EnabledFeature> idmap;
  friend bool operator==(const MountExtensionsFeatures&, const MountExtensionsFeatures&) = default;
};

struct MemoryPolicyFeatures {
  std::optional<std::vector<MemoryPolicyMode>> modes;
  std::optional<std::vector<MemoryPolicyFlag>> flags;
  friend bool operator==(const MemoryPolicyFeatures&, const MemoryPolicyFeatures&) = default;
};

struct LinuxFeatures {
  std::optional<std::vector<NamespaceType>> namespaces;
  std::optional<Strings> capabilities;  // "CAP_CHOWN", ... (oci/capabilities.hpp)
  std::optional<CgroupFeatures> cgroup;
  std::optional<SeccompFeatures> seccomp;
  std::optional<EnabledFeature> apparmor;
  std::optional<EnabledFeature> selinux;
  std::optional<IntelRdtFeatures> intel_rdt;
  std::optional<MountExtensionsFeatures> mount_extensions;
  std::optional<EnabledFeature> net_devices;
  std::optional<MemoryPolicyFeatures> memory_policy;
  friend bool operator==(const LinuxFeatures&, const LinuxFeatures&) = default;
};

struct Features {
  std::string oci_version_min;  // REQUIRED
  std::string oci_version_max;  // REQUIRED
  std::optional<Strings> hooks;
  std::optional<Strings> mount_options;
  std::optional<LinuxFeatures> linux;
  std::optional<StringMap> annotations;
  std::optional<Strings> potentially_unsafe_config_annotations;
  friend bool operator==(const Features&, const Features&) = default;
};

// Key order as features.md's example: ociVersionMin, ociVersionMax, hooks,
// mountOptions, linux, annotations, potentiallyUnsafeConfigAnnotations.
boost::json::value to_json(const Features& features);

// The inverse (e.g. to read another runtime's `features` output); null values
// count as absent, as features.md allows. Throws berth::Error naming the field.
Features features_from_json(const boost::json::value& doc);

}  // namespace berth::oci
