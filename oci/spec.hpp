// oci::Spec: the Linux part of the OCI runtime-spec v1.3.0 config.json as typed
// structs (config.md, config-linux.md; schema/config-schema.json,
// config-linux.json, defs.json and defs-linux.json are the precise reference).
//
// Conventions:
// - Members are the snake_case of the JSON key ("oomScoreAdj" -> oom_score_adj).
// - A field the spec marks OPTIONAL is a std::optional, so that "absent" and
//   "present but empty/zero/false" stay distinct and serialise(parse(doc))
//   gives back doc. REQUIRED fields are plain values.
// - Integer widths follow the schema: uint32 for ids, int64 for limits that can
//   be -1, uint64 for shares and periods.
// - Closed sets of strings are enum classes (oci/enums.hpp); open sets
//   (capability names, rlimit types, device types) stay strings and are checked
//   by validate() (oci/validate.hpp).
// - Non-Linux platform objects (windows, solaris, vm, zos, freebsd) are not
//   modelled: like any unknown property they are ignored.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "oci/enums.hpp"

// In GNU mode (-std=gnu++20) the compiler predefines the macro `linux`, which
// would rename Spec::linux. The project builds with -std=c++20.
#ifdef linux
#error "oci/spec.hpp needs -std=c++20 (not gnu++20): the predefined macro `linux` clashes with Spec::linux"
#endif

namespace berth::oci {

using StringMap = std::map<std::string, std::string>;
using Strings = std::vector<std::string>;

// --- config.md ---------------------------------------------------------------

struct Root {
  std::string path;
  std::optional<bool> readonly;
  friend bool operator==(const Root&, const Root&) = default;
};

// defs.json IDMapping; used by linux.uidMappings/gidMappings and by mounts.
struct LinuxIdMapping {
  std::uint32_t container_id = 0;
  std::uint32_t host_id = 0;
  std::uint32_t size = 0;
  friend bool operator==(const LinuxIdMapping&, const LinuxIdMapping&) = default;
};

struct Mount {
  std::string destination;
  std::optional<std::string> type;
  std::optional<std::string> source;
  std::optional<Strings> options;
  std::optional<std::vector<LinuxIdMapping>> uid_mappings;
  std::optional<std::vector<LinuxIdMapping>> gid_mappings;
  friend bool operator==(const Mount&, const Mount&) = default;
};

struct ConsoleSize {
  std::uint64_t height = 0;
  std::uint64_t width = 0;
  friend bool operator==(const ConsoleSize&, const ConsoleSize&) = default;
};

// POSIX user: uid and gid are REQUIRED by config.md; username is the Windows field.
struct User {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::optional<std::uint32_t> umask;
  std::optional<std::vector<std::uint32_t>> additional_gids;
  std::optional<std::string> username;
  friend bool operator==(const User&, const User&) = default;
};

struct LinuxCapabilities {
  std::optional<Strings> bounding;
  std::optional<Strings> effective;
  std::optional<Strings> inheritable;
  std::optional<Strings> permitted;
  std::optional<Strings> ambient;
  friend bool operator==(const LinuxCapabilities&, const LinuxCapabilities&) = default;
};

struct PosixRlimit {
  std::string type;  // "RLIMIT_NOFILE"; oci/rlimits.hpp maps it to the resource number
  std::uint64_t hard = 0;
  std::uint64_t soft = 0;
  friend bool operator==(const PosixRlimit&, const PosixRlimit&) = default;
};

struct Scheduler {
  SchedulerPolicy policy = SchedulerPolicy::Other;
  std::optional<std::int32_t> nice;
  std::optional<std::int32_t> priority;
  std::optional<std::vector<SchedulerFlag>> flags;
  std::optional<std::uint64_t> runtime;
  std::optional<std::uint64_t> deadline;
  std::optional<std::uint64_t> period;
  friend bool operator==(const Scheduler&, const Scheduler&) = default;
};

struct IoPriority {
  IoPriorityClass class_ = IoPriorityClass::Be;  // JSON "class" (a C++ keyword)
  std::int32_t priority = 0;                     // REQUIRED in config.md
  friend bool operator==(const IoPriority&, const IoPriority&) = default;
};

struct CpuAffinity {
  std::optional<std::string> initial;
  std::optional<std::string> final;
  friend bool operator==(const CpuAffinity&, const CpuAffinity&) = default;
};

struct Process {
  std::optional<bool> terminal;
  std::optional<ConsoleSize> console_size;
  std::optional<User> user;
  std::optional<Strings> args;  // at least one entry on Linux: checked by validate()
  std::optional<std::string> command_line;
  std::optional<Strings> env;
  std::string cwd;
  std::optional<LinuxCapabilities> capabilities;
  std::optional<std::vector<PosixRlimit>> rlimits;
  std::optional<bool> no_new_privileges;
  std::optional<std::string> apparmor_profile;
  std::optional<std::int64_t> oom_score_adj;
  std::optional<Scheduler> scheduler;
  std::optional<std::string> selinux_label;
  std::optional<IoPriority> io_priority;
  std::optional<CpuAffinity> exec_cpu_affinity;
  friend bool operator==(const Process&, const Process&) = default;
};

struct Hook {
  std::string path;
  std::optional<Strings> args;
  std::optional<Strings> env;
  std::optional<std::int64_t> timeout;  // seconds; > 0 when set
  friend bool operator==(const Hook&, const Hook&) = default;
};

struct Hooks {
  std::optional<std::vector<Hook>> prestart;  // deprecated by the spec, still run
  std::optional<std::vector<Hook>> create_runtime;
  std::optional<std::vector<Hook>> create_container;
  std::optional<std::vector<Hook>> start_container;
  std::optional<std::vector<Hook>> poststart;
  std::optional<std::vector<Hook>> poststop;
  friend bool operator==(const Hooks&, const Hooks&) = default;
};

// --- config-linux.md ---------------------------------------------------------

struct LinuxNamespace {
  NamespaceType type = NamespaceType::Mount;
  std::optional<std::string> path;  // join this namespace instead of creating one
  friend bool operator==(const LinuxNamespace&, const LinuxNamespace&) = default;
};

struct LinuxTimeOffset {
  std::optional<std::int64_t> secs;
  std::optional<std::uint32_t> nanosecs;
  friend bool operator==(const LinuxTimeOffset&, const LinuxTimeOffset&) = default;
};

// linux.devices[]: a node to create in the container.
struct LinuxDevice {
  std::string path;
  std::string type;  // "c", "b", "u" or "p"
  std::optional<std::int64_t> major;
  std::optional<std::int64_t> minor;
  std::optional<std::uint32_t> file_mode;  // permission bits, or a whole st_mode of the same type
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  friend bool operator==(const LinuxDevice&, const LinuxDevice&) = default;
};

struct LinuxNetDevice {
  std::optional<std::string> name;  // name inside the container; default: the host name
  friend bool operator==(const LinuxNetDevice&, const LinuxNetDevice&) = default;
};

// linux.resources.devices[]: one rule of the device cgroup allow list.
struct LinuxDeviceCgroup {
  bool allow = false;
  std::optional<std::string> type;  // "a", "c" or "b"; unset means "a"
  std::optional<std::int64_t> major;
  std::optional<std::int64_t> minor;
  std::optional<std::string> access;  // subset of "rwm"
  friend bool operator==(const LinuxDeviceCgroup&, const LinuxDeviceCgroup&) = default;
};

struct LinuxMemory {
  std::optional<std::int64_t> limit;  // bytes, -1 = unlimited
  std::optional<std::int64_t> reservation;
  std::optional<std::int64_t> swap;
  std::optional<std::int64_t> kernel;
  std::optional<std::int64_t> kernel_tcp;
  std::optional<std::uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
  std::optional<bool> use_hierarchy;
  std::optional<bool> check_before_update;
  friend bool operator==(const LinuxMemory&, const LinuxMemory&) = default;
};

struct LinuxCpu {
  std::optional<std::uint64_t> shares;
  std::optional<std::int64_t> quota;
  std::optional<std::uint64_t> burst;
  std::optional<std::uint64_t> period;
  std::optional<std::int64_t> realtime_runtime;
  std::optional<std::uint64_t> realtime_period;
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<std::int64_t> idle;
  friend bool operator==(const LinuxCpu&, const LinuxCpu&) = default;
};

struct LinuxWeightDevice {
  std::int64_t major = 0;
  std::int64_t minor = 0;
  std::optional<std::uint16_t> weight;
  std::optional<std::uint16_t> leaf_weight;
  friend bool operator==(const LinuxWeightDevice&, const LinuxWeightDevice&) = default;
};

struct LinuxThrottleDevice {
  std::int64_t major = 0;
  std::int64_t minor = 0;
  std::uint64_t rate = 0;
  friend bool operator==(const LinuxThrottleDevice&, const LinuxThrottleDevice&) = default;
};

struct LinuxBlockIo {
  std::optional<std::uint16_t> weight;
  std::optional<std::uint16_t> leaf_weight;
  std::optional<std::vector<LinuxWeightDevice>> weight_device;
  std::optional<std::vector<LinuxThrottleDevice>> throttle_read_bps_device;
  std::optional<std::vector<LinuxThrottleDevice>> throttle_write_bps_device;
  std::optional<std::vector<LinuxThrottleDevice>> throttle_read_iops_device;
  std::optional<std::vector<LinuxThrottleDevice>> throttle_write_iops_device;
  friend bool operator==(const LinuxBlockIo&, const LinuxBlockIo&) = default;
};

struct LinuxHugepageLimit {
  std::string page_size;  // "2MB", "64KB", "1GB"
  std::uint64_t limit = 0;
  friend bool operator==(const LinuxHugepageLimit&, const LinuxHugepageLimit&) = default;
};

struct LinuxInterfacePriority {
  std::string name;
  std::uint32_t priority = 0;
  friend bool operator==(const LinuxInterfacePriority&, const LinuxInterfacePriority&) = default;
};

struct LinuxNetwork {
  std::optional<std::uint32_t> class_id;
  std::optional<std::vector<LinuxInterfacePriority>> priorities;
  friend bool operator==(const LinuxNetwork&, const LinuxNetwork&) = default;
};

struct LinuxPids {
  std::optional<std::int64_t> limit;  // -1 = max
  friend bool operator==(const LinuxPids&, const LinuxPids&) = default;
};

struct LinuxRdma {
  std::optional<std::uint32_t> hca_handles;
  std::optional<std::uint32_t> hca_objects;
  friend bool operator==(const LinuxRdma&, const LinuxRdma&) = default;
};

struct LinuxResources {
  std::optional<std::vector<LinuxDeviceCgroup>> devices;
  std::optional<LinuxMemory> memory;
  std::optional<LinuxCpu> cpu;
  std::optional<LinuxPids> pids;
  std::optional<LinuxBlockIo> block_io;
  std::optional<std::vector<LinuxHugepageLimit>> hugepage_limits;
  std::optional<LinuxNetwork> network;
  std::optional<std::map<std::string, LinuxRdma>> rdma;  // key: device name
  std::optional<StringMap> unified;                      // key: cgroup v2 file name
  friend bool operator==(const LinuxResources&, const LinuxResources&) = default;
};

struct LinuxSyscallArg {
  std::uint32_t index = 0;
  std::uint64_t value = 0;
  std::optional<std::uint64_t> value_two;
  SeccompOperator op = SeccompOperator::Equal;
  friend bool operator==(const LinuxSyscallArg&, const LinuxSyscallArg&) = default;
};

struct LinuxSyscall {
  Strings names;
  SeccompAction action = SeccompAction::Allow;
  std::optional<std::uint32_t> errno_ret;
  std::optional<std::vector<LinuxSyscallArg>> args;
  friend bool operator==(const LinuxSyscall&, const LinuxSyscall&) = default;
};

struct LinuxSeccomp {
  SeccompAction default_action = SeccompAction::Allow;
  std::optional<std::uint32_t> default_errno_ret;
  std::optional<std::vector<SeccompArch>> architectures;
  std::optional<std::vector<SeccompFlag>> flags;
  std::optional<std::string> listener_path;
  std::optional<std::string> listener_metadata;
  std::optional<std::vector<LinuxSyscall>> syscalls;
  friend bool operator==(const LinuxSeccomp&, const LinuxSeccomp&) = default;
};

struct LinuxIntelRdt {
  std::optional<std::string> clos_id;
  std::optional<Strings> schemata;
  std::optional<std::string> l3_cache_schema;
  std::optional<std::string> mem_bw_schema;
  std::optional<bool> enable_monitoring;
  friend bool operator==(const LinuxIntelRdt&, const LinuxIntelRdt&) = default;
};

struct LinuxPersonality {
  PersonalityDomain domain = PersonalityDomain::Linux;
  std::optional<Strings> flags;  // no flag is defined yet: any entry is refused by validate()
  friend bool operator==(const LinuxPersonality&, const LinuxPersonality&) = default;
};

struct LinuxMemoryPolicy {
  MemoryPolicyMode mode = MemoryPolicyMode::Default;
  std::optional<std::string> nodes;  // "0-3,7"
  std::optional<std::vector<MemoryPolicyFlag>> flags;
  friend bool operator==(const LinuxMemoryPolicy&, const LinuxMemoryPolicy&) = default;
};

struct Linux {
  std::optional<std::vector<LinuxIdMapping>> uid_mappings;
  std::optional<std::vector<LinuxIdMapping>> gid_mappings;
  std::optional<StringMap> sysctl;
  std::optional<LinuxResources> resources;
  std::optional<std::string> cgroups_path;
  std::optional<std::vector<LinuxNamespace>> namespaces;
  std::optional<std::vector<LinuxDevice>> devices;
  std::optional<std::map<std::string, LinuxNetDevice>> net_devices;  // key: host interface name
  std::optional<LinuxSeccomp> seccomp;
  std::optional<RootfsPropagation> rootfs_propagation;
  std::optional<Strings> masked_paths;
  std::optional<Strings> readonly_paths;
  std::optional<std::string> mount_label;
  std::optional<LinuxIntelRdt> intel_rdt;
  std::optional<LinuxMemoryPolicy> memory_policy;
  std::optional<LinuxPersonality> personality;
  std::optional<std::map<std::string, LinuxTimeOffset>> time_offsets;  // key: "boottime", "monotonic"
  friend bool operator==(const Linux&, const Linux&) = default;
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;
  std::optional<Root> root;  // REQUIRED on Linux: checked by validate()
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::optional<std::vector<Mount>> mounts;
  std::optional<Hooks> hooks;
  std::optional<StringMap> annotations;
  std::optional<Linux> linux;
  friend bool operator==(const Spec&, const Spec&) = default;
};

// --- parse and serialise (oci/decode.cpp, oci/encode.cpp) --------------------

// Parses config.json text. Throws berth::Error on invalid JSON ("invalid JSON at
// line 3, column 7: ...") and on any type or required-field error, naming the
// JSON path ("process.args[1]: expected a string"). Unknown properties are
// ignored (config.md "Extensibility"). Does not run validate().
Spec parse_config(std::string_view text);

// The same, from an already parsed JSON value.
Spec decode_config(const boost::json::value& doc);

// A linux.resources document on its own (`berth update --resources`); errors name the field
// from the document's root ("memory.limit: expected an integer").
LinuxResources parse_resources(std::string_view text);

// The JSON document of `spec`, emitting only the optional fields that are set,
// in the key order of runc's Go structs. pretty_json() (oci/json.hpp) prints it.
boost::json::value to_json(const Spec& spec);

}  // namespace berth::oci
