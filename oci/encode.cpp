// oci::Spec -> config.json. Only set optional fields are emitted; keys follow
// the field order of runtime-spec's Go structs (specs-go/config.go), which is
// the order `runc spec` prints.
#include "oci/codec.hpp"
#include "oci/spec.hpp"

namespace berth::oci {

// Not in an unnamed namespace: put<T>() in codec.hpp finds these by ADL, which
// does not look into unnamed namespaces.

json::value to_value(const Root& r) {
  json::object o;
  put(o, "path", r.path);
  put(o, "readonly", r.readonly);
  return o;
}

json::value to_value(const LinuxIdMapping& m) {
  json::object o;
  put(o, "containerID", m.container_id);
  put(o, "hostID", m.host_id);
  put(o, "size", m.size);
  return o;
}

json::value to_value(const Mount& m) {
  json::object o;
  put(o, "destination", m.destination);
  put(o, "type", m.type);
  put(o, "source", m.source);
  put(o, "options", m.options);
  put(o, "uidMappings", m.uid_mappings);
  put(o, "gidMappings", m.gid_mappings);
  return o;
}

json::value to_value(const ConsoleSize& c) {
  json::object o;
  put(o, "height", c.height);
  put(o, "width", c.width);
  return o;
}

json::value to_value(const User& u) {
  json::object o;
  put(o, "uid", u.uid);
  put(o, "gid", u.gid);
  put(o, "umask", u.umask);
  put(o, "additionalGids", u.additional_gids);
  put(o, "username", u.username);
  return o;
}

json::value to_value(const LinuxCapabilities& c) {
  json::object o;
  put(o, "bounding", c.bounding);
  put(o, "effective", c.effective);
  put(o, "inheritable", c.inheritable);
  put(o, "permitted", c.permitted);
  put(o, "ambient", c.ambient);
  return o;
}

json::value to_value(const PosixRlimit& r) {
  json::object o;
  put(o, "type", r.type);
  put(o, "hard", r.hard);
  put(o, "soft", r.soft);
  return o;
}

json::value to_value(const Scheduler& s) {
  json::object o;
  put(o, "policy", s.policy);
  put(o, "nice", s.nice);
  put(o, "priority", s.priority);
  put(o, "flags", s.flags);
  put(o, "runtime", s.runtime);
  put(o, "deadline", s.deadline);
  put(o, "period", s.period);
  return o;
}

json::value to_value(const IoPriority& p) {
  json::object o;
  put(o, "class", p.class_);
  put(o, "priority", p.priority);
  return o;
}

json::value to_value(const CpuAffinity& a) {
  json::object o;
  put(o, "initial", a.initial);
  put(o, "final", a.final);
  return o;
}

json::value to_value(const Process& p) {
  json::object o;
  put(o, "terminal", p.terminal);
  put(o, "consoleSize", p.console_size);
  put(o, "user", p.user);
  put(o, "args", p.args);
  put(o, "commandLine", p.command_line);
  put(o, "env", p.env);
  put(o, "cwd", p.cwd);
  put(o, "capabilities", p.capabilities);
  put(o, "rlimits", p.rlimits);
  put(o, "noNewPrivileges", p.no_new_privileges);
  put(o, "apparmorProfile", p.apparmor_profile);
  put(o, "oomScoreAdj", p.oom_score_adj);
  put(o, "scheduler", p.scheduler);
  put(o, "selinuxLabel", p.selinux_label);
  put(o, "ioPriority", p.io_priority);
  put(o, "execCPUAffinity", p.exec_cpu_affinity);
  return o;
}

json::value to_value(const Hook& h) {
  json::object o;
  put(o, "path", h.path);
  put(o, "args", h.args);
  put(o, "env", h.env);
  put(o, "timeout", h.timeout);
  return o;
}

json::value to_value(const Hooks& h) {
  json::object o;
  put(o, "prestart", h.prestart);
  put(o, "createRuntime", h.create_runtime);
  put(o, "createContainer", h.create_container);
  put(o, "startContainer", h.start_container);
  put(o, "poststart", h.poststart);
  put(o, "poststop", h.poststop);
  return o;
}

json::value to_value(const LinuxNamespace& n) {
  json::object o;
  put(o, "type", n.type);
  put(o, "path", n.path);
  return o;
}

json::value to_value(const LinuxTimeOffset& t) {
  json::object o;
  put(o, "secs", t.secs);
  put(o, "nanosecs", t.nanosecs);
  return o;
}

json::value to_value(const LinuxDevice& d) {
  json::object o;
  put(o, "path", d.path);
  put(o, "type", d.type);
  put(o, "major", d.major);
  put(o, "minor", d.minor);
  put(o, "fileMode", d.file_mode);
  put(o, "uid", d.uid);
  put(o, "gid", d.gid);
  return o;
}

json::value to_value(const LinuxNetDevice& d) {
  json::object o;
  put(o, "name", d.name);
  return o;
}

json::value to_value(const LinuxDeviceCgroup& d) {
  json::object o;
  put(o, "allow", d.allow);
  put(o, "type", d.type);
  put(o, "major", d.major);
  put(o, "minor", d.minor);
  put(o, "access", d.access);
  return o;
}

json::value to_value(const LinuxMemory& m) {
  json::object o;
  put(o, "limit", m.limit);
  put(o, "reservation", m.reservation);
  put(o, "swap", m.swap);
  put(o, "kernel", m.kernel);
  put(o, "kernelTCP", m.kernel_tcp);
  put(o, "swappiness", m.swappiness);
  put(o, "disableOOMKiller", m.disable_oom_killer);
  put(o, "useHierarchy", m.use_hierarchy);
  put(o, "checkBeforeUpdate", m.check_before_update);
  return o;
}

json::value to_value(const LinuxCpu& c) {
  json::object o;
  put(o, "shares", c.shares);
  put(o, "quota", c.quota);
  put(o, "burst", c.burst);
  put(o, "period", c.period);
  put(o, "realtimeRuntime", c.realtime_runtime);
  put(o, "realtimePeriod", c.realtime_period);
  put(o, "cpus", c.cpus);
  put(o, "mems", c.mems);
  put(o, "idle", c.idle);
  return o;
}

json::value to_value(const LinuxWeightDevice& d) {
  json::object o;
  put(o, "major", d.major);
  put(o, "minor", d.minor);
  put(o, "weight", d.weight);
  put(o, "leafWeight", d.leaf_weight);
  return o;
}

json::value to_value(const LinuxThrottleDevice& d) {
  json::object o;
  put(o, "major", d.major);
  put(o, "minor", d.minor);
  put(o, "rate", d.rate);
  return o;
}

json::value to_value(const LinuxBlockIo& b) {
  json::object o;
  put(o, "weight", b.weight);
  put(o, "leafWeight", b.leaf_weight);
  put(o, "weightDevice", b.weight_device);
  put(o, "throttleReadBpsDevice", b.throttle_read_bps_device);
  put(o, "throttleWriteBpsDevice", b.throttle_write_bps_device);
  put(o, "throttleReadIOPSDevice", b.throttle_read_iops_device);
  put(o, "throttleWriteIOPSDevice", b.throttle_write_iops_device);
  return o;
}

json::value to_value(const LinuxHugepageLimit& h) {
  json::object o;
  put(o, "pageSize", h.page_size);
  put(o, "limit", h.limit);
  return o;
}

json::value to_value(const LinuxInterfacePriority& p) {
  json::object o;
  put(o, "name", p.name);
  put(o, "priority", p.priority);
  return o;
}

json::value to_value(const LinuxNetwork& n) {
  json::object o;
  put(o, "classID", n.class_id);
  put(o, "priorities", n.priorities);
  return o;
}

json::value to_value(const LinuxPids& p) {
  json::object o;
  put(o, "limit", p.limit);
  return o;
}

json::value to_value(const LinuxRdma& r) {
  json::object o;
  put(o, "hcaHandles", r.hca_handles);
  put(o, "hcaObjects", r.hca_objects);
  return o;
}

json::value to_value(const LinuxResources& r) {
  json::object o;
  put(o, "devices", r.devices);
  put(o, "memory", r.memory);
  put(o, "cpu", r.cpu);
  put(o, "pids", r.pids);
  put(o, "blockIO", r.block_io);
  put(o, "hugepageLimits", r.hugepage_limits);
  put(o, "network", r.network);
  put(o, "rdma", r.rdma);
  put(o, "unified", r.unified);
  return o;
}

json::value to_value(const LinuxSyscallArg& a) {
  json::object o;
  put(o, "index", a.index);
  put(o, "value", a.value);
  put(o, "valueTwo", a.value_two);
  put(o, "op", a.op);
  return o;
}

json::value to_value(const LinuxSyscall& s) {
  json::object o;
  put(o, "names", s.names);
  put(o, "action", s.action);
  put(o, "errnoRet", s.errno_ret);
  put(o, "args", s.args);
  return o;
}

json::value to_value(const LinuxSeccomp& s) {
  json::object o;
  put(o, "defaultAction", s.default_action);
  put(o, "defaultErrnoRet", s.default_errno_ret);
  put(o, "architectures", s.architectures);
  put(o, "flags", s.flags);
  put(o, "listenerPath", s.listener_path);
  put(o, "listenerMetadata", s.listener_metadata);
  put(o, "syscalls", s.syscalls);
  return o;
}

json::value to_value(const LinuxIntelRdt& r) {
  json::object o;
  put(o, "closID", r.clos_id);
  put(o, "schemata", r.schemata);
  put(o, "l3CacheSchema", r.l3_cache_schema);
  put(o, "memBwSchema", r.mem_bw_schema);
  put(o, "enableMonitoring", r.enable_monitoring);
  return o;
}

json::value to_value(const LinuxPersonality& p) {
  json::object o;
  put(o, "domain", p.domain);
  put(o, "flags", p.flags);
  return o;
}

json::value to_value(const LinuxMemoryPolicy& m) {
  json::object o;
  put(o, "mode", m.mode);
  put(o, "nodes", m.nodes);
  put(o, "flags", m.flags);
  return o;
}

json::value to_value(const Linux& l) {
  json::object o;
  put(o, "uidMappings", l.uid_mappings);
  put(o, "gidMappings", l.gid_mappings);
  put(o, "sysctl", l.sysctl);
  put(o, "resources", l.resources);
  put(o, "cgroupsPath", l.cgroups_path);
  put(o, "namespaces", l.namespaces);
  put(o, "devices", l.devices);
  put(o, "netDevices", l.net_devices);
  put(o, "seccomp", l.seccomp);
  put(o, "rootfsPropagation", l.rootfs_propagation);
  put(o, "maskedPaths", l.masked_paths);
  put(o, "readonlyPaths", l.readonly_paths);
  put(o, "mountLabel", l.mount_label);
  put(o, "intelRdt", l.intel_rdt);
  put(o, "memoryPolicy", l.memory_policy);
  put(o, "personality", l.personality);
  put(o, "timeOffsets", l.time_offsets);
  return o;
}

json::value to_json(const Spec& s) {
  json::object o;
  put(o, "ociVersion", s.oci_version);
  put(o, "process", s.process);
  put(o, "root", s.root);
  put(o, "hostname", s.hostname);
  put(o, "domainname", s.domainname);
  put(o, "mounts", s.mounts);
  put(o, "hooks", s.hooks);
  put(o, "annotations", s.annotations);
  put(o, "linux", s.linux);
  return o;
}

}  // namespace berth::oci
