// oci::Features <-> the features document (features.md, features-linux.md).
#include "oci/features.hpp"

#include "oci/codec.hpp"

namespace berth::oci {

json::value to_value(const CgroupFeatures& c) {
  json::object o;
  put(o, "v1", c.v1);
  put(o, "v2", c.v2);
  put(o, "systemd", c.systemd);
  put(o, "systemdUser", c.systemd_user);
  put(o, "rdma", c.rdma);
  return o;
}

json::value to_value(const SeccompFeatures& s) {
  json::object o;
  put(o, "enabled", s.enabled);
  put(o, "actions", s.actions);
  put(o, "operators", s.operators);
  put(o, "archs", s.archs);
  put(o, "knownFlags", s.known_flags);
  put(o, "supportedFlags", s.supported_flags);
  return o;
}

json::value to_value(const EnabledFeature& e) {
  json::object o;
  put(o, "enabled", e.enabled);
  return o;
}

json::value to_value(const IntelRdtFeatures& r) {
  json::object o;
  put(o, "enabled", r.enabled);
  put(o, "schemata", r.schemata);
  put(o, "monitoring", r.monitoring);
  return o;
}

json::value to_value(const MountExtensionsFeatures& m) {
  json::object o;
  put(o, "idmap", m.idmap);
  return o;
}

json::value to_value(const MemoryPolicyFeatures& m) {
  json::object o;
  put(o, "modes", m.modes);
  put(o, "flags", m.flags);
  return o;
}

json::value to_value(const LinuxFeatures& l) {
  json::object o;
  put(o, "namespaces", l.namespaces);
  put(o, "capabilities", l.capabilities);
  put(o, "cgroup", l.cgroup);
  put(o, "seccomp", l.seccomp);
  put(o, "apparmor", l.apparmor);
  put(o, "selinux", l.selinux);
  put(o, "intelRdt", l.intel_rdt);
  put(o, "mountExtensions", l.mount_extensions);
  put(o, "netDevices", l.net_devices);
  put(o, "memoryPolicy", l.memory_policy);
  return o;
}

json::value to_json(const Features& f) {
  json::object o;
  put(o, "ociVersionMin", f.oci_version_min);
  put(o, "ociVersionMax", f.oci_version_max);
  put(o, "hooks", f.hooks);
  put(o, "mountOptions", f.mount_options);
  put(o, "linux", f.linux);
  put(o, "annotations", f.annotations);
  put(o, "potentiallyUnsafeConfigAnnotations", f.potentially_unsafe_config_annotations);
  return o;
}

void decode_into(const json::value& v, const JsonPath& w, CgroupFeatures& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "v1", w, out.v1);
  read_optional(o, "v2", w, out.v2);
  read_optional(o, "systemd", w, out.systemd);
  read_optional(o, "systemdUser", w, out.systemd_user);
  read_optional(o, "rdma", w, out.rdma);
}

void decode_into(const json::value& v, const JsonPath& w, SeccompFeatures& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "enabled", w, out.enabled);
  read_optional(o, "actions", w, out.actions);
  read_optional(o, "operators", w, out.operators);
  read_optional(o, "archs", w, out.archs);
  read_optional(o, "knownFlags", w, out.known_flags);
  read_optional(o, "supportedFlags", w, out.supported_flags);
}

void decode_into(const json::value& v, const JsonPath& w, EnabledFeature& out) {
  read_optional(expect_object(v, w), "enabled", w, out.enabled);
}

void decode_into(const json::value& v, const JsonPath& w, IntelRdtFeatures& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "enabled", w, out.enabled);
  read_optional(o, "schemata", w, out.schemata);
  read_optional(o, "monitoring", w, out.monitoring);
}

void decode_into(const json::value& v, const JsonPath& w, MountExtensionsFeatures& out) {
  read_optional(expect_object(v, w), "idmap", w, out.idmap);
}

void decode_into(const json::value& v, const JsonPath& w, MemoryPolicyFeatures& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "modes", w, out.modes);
  read_optional(o, "flags", w, out.flags);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxFeatures& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "namespaces", w, out.namespaces);
  read_optional(o, "capabilities", w, out.capabilities);
  read_optional(o, "cgroup", w, out.cgroup);
  read_optional(o, "seccomp", w, out.seccomp);
  read_optional(o, "apparmor", w, out.apparmor);
  read_optional(o, "selinux", w, out.selinux);
  read_optional(o, "intelRdt", w, out.intel_rdt);
  read_optional(o, "mountExtensions", w, out.mount_extensions);
  read_optional(o, "netDevices", w, out.net_devices);
  read_optional(o, "memoryPolicy", w, out.memory_policy);
}

Features features_from_json(const json::value& doc) {
  const JsonPath root;
  const json::object& o = expect_object(doc, root);
  Features f;
  read_required(o, "ociVersionMin", root, f.oci_version_min);
  read_required(o, "ociVersionMax", root, f.oci_version_max);
  read_optional(o, "hooks", root, f.hooks);
  read_optional(o, "mountOptions", root, f.mount_options);
  read_optional(o, "linux", root, f.linux);
  read_optional(o, "annotations", root, f.annotations);
  read_optional(o, "potentiallyUnsafeConfigAnnotations", root, f.potentially_unsafe_config_annotations);
  return f;
}

}  // namespace berth::oci
