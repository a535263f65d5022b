// config.json `linux` object -> oci::Linux (config-linux.md, config-linux.json,
// defs-linux.json). Readers are defined leaves first, members read in schema order.
#include "oci/codec.hpp"
#include "oci/json.hpp"
#include "oci/spec.hpp"

namespace berth::oci {

void decode_into(const json::value& v, const JsonPath& w, LinuxNamespace& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "type", w, out.type);
  read_optional(o, "path", w, out.path);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxTimeOffset& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "secs", w, out.secs);
  read_optional(o, "nanosecs", w, out.nanosecs);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxDevice& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "path", w, out.path);
  read_required(o, "type", w, out.type);
  read_optional(o, "major", w, out.major);
  read_optional(o, "minor", w, out.minor);
  read_optional(o, "fileMode", w, out.file_mode);
  read_optional(o, "uid", w, out.uid);
  read_optional(o, "gid", w, out.gid);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxNetDevice& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "name", w, out.name);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxDeviceCgroup& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "allow", w, out.allow);
  read_optional(o, "type", w, out.type);
  read_optional(o, "major", w, out.major);
  read_optional(o, "minor", w, out.minor);
  read_optional(o, "access", w, out.access);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxMemory& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "limit", w, out.limit);
  read_optional(o, "reservation", w, out.reservation);
  read_optional(o, "swap", w, out.swap);
  read_optional(o, "kernel", w, out.kernel);
  read_optional(o, "kernelTCP", w, out.kernel_tcp);
  read_optional(o, "swappiness", w, out.swappiness);
  read_optional(o, "disableOOMKiller", w, out.disable_oom_killer);
  read_optional(o, "useHierarchy", w, out.use_hierarchy);
  read_optional(o, "checkBeforeUpdate", w, out.check_before_update);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxCpu& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "shares", w, out.shares);
  read_optional(o, "quota", w, out.quota);
  read_optional(o, "burst", w, out.burst);
  read_optional(o, "period", w, out.period);
  read_optional(o, "realtimeRuntime", w, out.realtime_runtime);
  read_optional(o, "realtimePeriod", w, out.realtime_period);
  read_optional(o, "cpus", w, out.cpus);
  read_optional(o, "mems", w, out.mems);
  read_optional(o, "idle", w, out.idle);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxWeightDevice& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "major", w, out.major);
  read_required(o, "minor", w, out.minor);
  read_optional(o, "weight", w, out.weight);
  read_optional(o, "leafWeight", w, out.leaf_weight);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxThrottleDevice& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "major", w, out.major);
  read_required(o, "minor", w, out.minor);
  read_required(o, "rate", w, out.rate);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxBlockIo& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "weight", w, out.weight);
  read_optional(o, "leafWeight", w, out.leaf_weight);
  read_optional(o, "weightDevice", w, out.weight_device);
  read_optional(o, "throttleReadBpsDevice", w, out.throttle_read_bps_device);
  read_optional(o, "throttleWriteBpsDevice", w, out.throttle_write_bps_device);
  read_optional(o, "throttleReadIOPSDevice", w, out.throttle_read_iops_device);
  read_optional(o, "throttleWriteIOPSDevice", w, out.throttle_write_iops_device);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxHugepageLimit& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "pageSize", w, out.page_size);
  read_required(o, "limit", w, out.limit);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxInterfacePriority& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "name", w, out.name);
  read_required(o, "priority", w, out.priority);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxNetwork& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "classID", w, out.class_id);
  read_optional(o, "priorities", w, out.priorities);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxPids& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "limit", w, out.limit);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxRdma& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "hcaHandles", w, out.hca_handles);
  read_optional(o, "hcaObjects", w, out.hca_objects);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxResources& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "devices", w, out.devices);
  read_optional(o, "memory", w, out.memory);
  read_optional(o, "cpu", w, out.cpu);
  read_optional(o, "pids", w, out.pids);
  read_optional(o, "blockIO", w, out.block_io);
  read_optional(o, "hugepageLimits", w, out.hugepage_limits);
  read_optional(o, "network", w, out.network);
  read_optional(o, "rdma", w, out.rdma);
  read_optional(o, "unified", w, out.unified);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxSyscallArg& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "index", w, out.index);
  read_required(o, "value", w, out.value);
  read_optional(o, "valueTwo", w, out.value_two);
  read_required(o, "op", w, out.op);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxSyscall& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "names", w, out.names);
  read_required(o, "action", w, out.action);
  read_optional(o, "errnoRet", w, out.errno_ret);
  read_optional(o, "args", w, out.args);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxSeccomp& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "defaultAction", w, out.default_action);
  read_optional(o, "defaultErrnoRet", w, out.default_errno_ret);
  read_optional(o, "architectures", w, out.architectures);
  read_optional(o, "flags", w, out.flags);
  read_optional(o, "listenerPath", w, out.listener_path);
  read_optional(o, "listenerMetadata", w, out.listener_metadata);
  read_optional(o, "syscalls", w, out.syscalls);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxIntelRdt& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "closID", w, out.clos_id);
  read_optional(o, "schemata", w, out.schemata);
  read_optional(o, "l3CacheSchema", w, out.l3_cache_schema);
  read_optional(o, "memBwSchema", w, out.mem_bw_schema);
  read_optional(o, "enableMonitoring", w, out.enable_monitoring);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxPersonality& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "domain", w, out.domain);
  read_optional(o, "flags", w, out.flags);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxMemoryPolicy& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "mode", w, out.mode);
  read_optional(o, "nodes", w, out.nodes);
  read_optional(o, "flags", w, out.flags);
}

void decode_into(const json::value& v, const JsonPath& w, Linux& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "uidMappings", w, out.uid_mappings);
  read_optional(o, "gidMappings", w, out.gid_mappings);
  read_optional(o, "sysctl", w, out.sysctl);
  read_optional(o, "resources", w, out.resources);
  read_optional(o, "cgroupsPath", w, out.cgroups_path);
  read_optional(o, "namespaces", w, out.namespaces);
  read_optional(o, "devices", w, out.devices);
  read_optional(o, "netDevices", w, out.net_devices);
  read_optional(o, "seccomp", w, out.seccomp);
  read_optional(o, "rootfsPropagation", w, out.rootfs_propagation);
  read_optional(o, "maskedPaths", w, out.masked_paths);
  read_optional(o, "readonlyPaths", w, out.readonly_paths);
  read_optional(o, "mountLabel", w, out.mount_label);
  read_optional(o, "intelRdt", w, out.intel_rdt);
  read_optional(o, "memoryPolicy", w, out.memory_policy);
  read_optional(o, "personality", w, out.personality);
  read_optional(o, "timeOffsets", w, out.time_offsets);
}

LinuxResources parse_resources(std::string_view text) {
  const json::value doc = parse_json(text);
  LinuxResources r;
  decode_into(doc, JsonPath(), r);
  return r;
}

}  // namespace berth::oci
