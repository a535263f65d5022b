// The config-linux.md checks of validate() (see validate.cpp for the list).
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "oci/validate_checks.hpp"

namespace berth::oci::checks {

namespace {

const JsonPath kRoot;
const JsonPath kLinux = kRoot.field("linux");

bool in(std::string_view s, std::initializer_list<std::string_view> set) noexcept {
  for (std::string_view x : set)
    if (s == x) return true;
  return false;
}

const LinuxResources* resources(const Spec& s) noexcept {
  return s.linux && s.linux->resources ? &*s.linux->resources : nullptr;
}

// A memory-like limit: bytes, or -1 for "unlimited".
void require_limit(const JsonPath& where, const std::optional<std::int64_t>& v) {
  if (v && *v < -1) fail(where, fmt::format("must be -1 (unlimited) or at least 0, got {}", *v));
}

// dev_valid_name() of the kernel: 1 to 15 bytes, not "." or "..", no '/', ':'
// or blank.
bool is_interface_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\0')
      return false;
  return true;
}

}  // namespace

void namespaces(const Spec& s) {
  if (!s.linux || !s.linux->namespaces) return;
  const JsonPath w = kLinux.field("namespaces");
  const std::vector<LinuxNamespace>& list = *s.linux->namespaces;
  std::array<bool, EnumTraits<NamespaceType>::kNames.size()> seen{};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto index = static_cast<std::size_t>(list[i].type);
    if (index >= seen.size()) fail(w[i].field("type"), "invalid namespace type");  // a Spec built in code
    bool& dup = seen[index];
    if (dup) fail(w[i].field("type"), fmt::format("duplicate namespace {}", quote(to_string(list[i].type))));
    dup = true;
    if (list[i].path) require_absolute(w[i].field("path"), *list[i].path);
  }
}

void id_mappings(const Spec& s) {
  if (!s.linux) return;
  const bool userns = find_namespace(s, NamespaceType::User) != nullptr;
  const std::pair<std::string_view, const std::optional<std::vector<LinuxIdMapping>>*> lists[] = {
      {"uidMappings", &s.linux->uid_mappings}, {"gidMappings", &s.linux->gid_mappings}};
  for (const auto& [name, list] : lists) {
    if (!*list) continue;
    const JsonPath w = kLinux.field(name);
    if (!userns && !(*list)->empty()) fail(w, "needs a user namespace in linux.namespaces");
    check_id_mappings(w, **list);
  }
}

void time_offsets(const Spec& s) {
  if (!s.linux || !s.linux->time_offsets) return;
  const JsonPath w = kLinux.field("timeOffsets");
  // Offsets can only be written before the first process enters a new time
  // namespace: joining one (path set) cannot honour them.
  const LinuxNamespace* ns = find_namespace(s, NamespaceType::Time);
  if (!s.linux->time_offsets->empty() && (!ns || ns->path))
    fail(w, "needs a new time namespace (a \"time\" entry without path) in linux.namespaces");
  for (const auto& [clock, offset] : *s.linux->time_offsets) {
    if (clock != "boottime" && clock != "monotonic")
      fail(w.field(clock), fmt::format("unknown clock {}: expected \"boottime\" or \"monotonic\"", quote(clock)));
    if (offset.nanosecs && *offset.nanosecs >= 1000000000)
      fail(w.field(clock).field("nanosecs"), fmt::format("must be less than 1000000000, got {}", *offset.nanosecs));
  }
}

void devices(const Spec& s) {
  if (!s.linux || !s.linux->devices) return;
  const JsonPath list = kLinux.field("devices");
  for (std::size_t i = 0; i < s.linux->devices->size(); ++i) {
    const LinuxDevice& d = (*s.linux->devices)[i];
    const JsonPath w = list[i];
    require_absolute(w.field("path"), d.path);
    require_no_nul(w.field("path"), d.path);
    if (!in(d.type, {"c", "b", "u", "p"}))
      fail(w.field("type"), fmt::format("must be one of \"c\", \"b\", \"u\" or \"p\", got {}", quote(d.type)));
    if (d.type != "p" && !d.major) fail(w.field("major"), fmt::format("required for type {}", quote(d.type)));
    if (d.type != "p" && !d.minor) fail(w.field("minor"), fmt::format("required for type {}", quote(d.type)));
    if (d.major && *d.major < 0) fail(w.field("major"), fmt::format("must not be negative, got {}", *d.major));
    if (d.minor && *d.minor < 0) fail(w.field("minor"), fmt::format("must not be negative, got {}", *d.minor));
    // A whole st_mode is accepted, as runc does (podman passes the host device's, 020666): its
    // file-type bits, if any, must name the device's type; mknod takes the type from "type".
    if (d.file_mode) {
      const std::uint32_t mode = *d.file_mode;
      const std::uint32_t kind = mode & S_IFMT;
      const std::uint32_t want = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
      if (mode & ~std::uint32_t{S_IFMT | 07777})
        fail(w.field("fileMode"), fmt::format("must be a file mode (at most 0177777), got {} ({:#o})", mode, mode));
      else if (kind != 0 && kind != want)
        fail(w.field("fileMode"), fmt::format("file type bits {:#o} contradict type {} ({:#o})", kind, quote(d.type), want));
    }
  }
}

void cgroup_devices(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->devices) return;
  const JsonPath res = kLinux.field("resources");
  const JsonPath list = res.field("devices");
  for (std::size_t i = 0; i < r->devices->size(); ++i) {
    const LinuxDeviceCgroup& d = (*r->devices)[i];
    const JsonPath w = list[i];
    if (d.type && !in(*d.type, {"a", "c", "b"}))
      fail(w.field("type"), fmt::format("must be one of \"a\", \"c\" or \"b\", got {}", quote(*d.type)));
    if (d.major && *d.major < -1) fail(w.field("major"), fmt::format("must be -1 (any) or at least 0, got {}", *d.major));
    if (d.minor && *d.minor < -1) fail(w.field("minor"), fmt::format("must be -1 (any) or at least 0, got {}", *d.minor));
    if (d.access && d.access->find_first_not_of("rwm") != std::string::npos)
      fail(w.field("access"), fmt::format("must be made of \"r\", \"w\" and \"m\", got {}", quote(*d.access)));
  }
}

void memory(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->memory) return;
  const LinuxMemory& m = *r->memory;
  const JsonPath res = kLinux.field("resources");
  const JsonPath w = res.field("memory");
  require_limit(w.field("limit"), m.limit);
  require_limit(w.field("reservation"), m.reservation);
  require_limit(w.field("swap"), m.swap);
  require_limit(w.field("kernel"), m.kernel);
  require_limit(w.field("kernelTCP"), m.kernel_tcp);
  // swap is memory+swap (cgroup v1 memsw semantics), so it cannot be below the limit.
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit)
    fail(w.field("swap"), fmt::format("memory+swap limit {} is lower than the memory limit {}", *m.swap, *m.limit));
  if (m.swappiness && *m.swappiness > 100)
    fail(w.field("swappiness"), fmt::format("must be between 0 and 100, got {}", *m.swappiness));
}

void cpu(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->cpu) return;
  const LinuxCpu& c = *r->cpu;
  const JsonPath res = kLinux.field("resources");
  const JsonPath w = res.field("cpu");
  // config-linux.md: a positive quota MUST be no smaller than burst.
  if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<std::uint64_t>(*c.quota))
    fail(w.field("burst"), fmt::format("must not be larger than quota {}, got {}", *c.quota, *c.burst));
  if (c.cpus && !is_id_list(*c.cpus)) fail(w.field("cpus"), fmt::format("invalid CPU list {}", quote(*c.cpus)));
  if (c.mems && !is_id_list(*c.mems)) fail(w.field("mems"), fmt::format("invalid memory node list {}", quote(*c.mems)));
  if (c.idle && *c.idle != 0 && *c.idle != 1) fail(w.field("idle"), fmt::format("must be 0 or 1, got {}", *c.idle));
}

void pids(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->pids) return;
  const JsonPath res = kLinux.field("resources");
  const JsonPath w = res.field("pids");
  require_limit(w.field("limit"), r->pids->limit);
}

void block_io(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->block_io || !r->block_io->weight_device) return;
  const JsonPath res = kLinux.field("resources");
  const JsonPath bio = res.field("blockIO");
  const JsonPath list = bio.field("weightDevice");
  for (std::size_t i = 0; i < r->block_io->weight_device->size(); ++i) {
    const LinuxWeightDevice& d = (*r->block_io->weight_device)[i];
    if (!d.weight && !d.leaf_weight) fail(list[i], "needs weight or leafWeight");
  }
}

void hugepages(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->hugepage_limits) return;
  const JsonPath res = kLinux.field("resources");
  const JsonPath list = res.field("hugepageLimits");
  for (std::size_t i = 0; i < r->hugepage_limits->size(); ++i) {
    // defs: ^[1-9][0-9]*[KMG]B$
    const std::string& p = (*r->hugepage_limits)[i].page_size;
    std::size_t n = 0;
    while (n < p.size() && p[n] >= '0' && p[n] <= '9') ++n;
    const bool ok = n > 0 && p[0] != '0' && p.size() == n + 2 && in(std::string_view(p).substr(n), {"KB", "MB", "GB"});
    if (!ok)
      fail(list[i].field("pageSize"),
           fmt::format("invalid page size {}: expected a number followed by KB, MB or GB (\"2MB\")", quote(p)));
  }
}

void network(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->network || !r->network->priorities) return;
  const JsonPath res = kLinux.field("resources");
  const JsonPath net = res.field("network");
  const JsonPath list = net.field("priorities");
  for (std::size_t i = 0; i < r->network->priorities->size(); ++i) {
    const std::string& name = (*r->network->priorities)[i].name;
    if (!is_interface_name(name)) fail(list[i].field("name"), fmt::format("invalid interface name {}", quote(name)));
  }
}

void rdma(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->rdma) return;
  const JsonPath res = kLinux.field("resources");
  const JsonPath w = res.field("rdma");
  for (const auto& [device, limits] : *r->rdma) {
    if (device.empty()) fail(w.field(device), "device names must not be empty");
    if (!limits.hca_handles && !limits.hca_objects) fail(w.field(device), "needs hcaHandles or hcaObjects");
  }
}

void unified(const Spec& s) {
  const LinuxResources* r = resources(s);
  if (!r || !r->unified) return;
  const JsonPath res = kLinux.field("resources");
  const JsonPath w = res.field("unified");
  for (const auto& [file, value] : *r->unified) {
    // Each key is a file in the container's cgroup directory: it must not
    // reach outside it (as runc).
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos)
      fail(w.field(file), fmt::format("must be a file name of the cgroup directory, got {}", quote(file)));
    require_no_nul(w.field(file), value);
  }
}

void seccomp(const Spec& s) {
  if (!s.linux || !s.linux->seccomp) return;
  const LinuxSeccomp& sc = *s.linux->seccomp;
  const JsonPath w = kLinux.field("seccomp");
  const auto takes_errno = [](SeccompAction a) { return a == SeccompAction::Errno || a == SeccompAction::Trace; };
  // libseccomp refuses a notifying default action (seccomp_init: EINVAL).
  if (sc.default_action == SeccompAction::Notify)
    fail(w.field("defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action");
  if (sc.default_errno_ret && !takes_errno(sc.default_action))
    fail(w.field("defaultErrnoRet"),
         fmt::format("only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not {}", to_string(sc.default_action)));
  if (sc.listener_metadata && !sc.listener_path) fail(w.field("listenerMetadata"), "must not be set without listenerPath");
  if (!sc.syscalls) return;
  const JsonPath list = w.field("syscalls");
  for (std::size_t i = 0; i < sc.syscalls->size(); ++i) {
    const LinuxSyscall& sys = (*sc.syscalls)[i];
    const JsonPath sw = list[i];
    if (sys.names.empty()) fail(sw.field("names"), "must contain at least one entry");
    const JsonPath names = sw.field("names");
    for (std::size_t j = 0; j < sys.names.size(); ++j) {
      if (sys.names[j].empty()) fail(names[j], "must not be empty");
      // As runc: the runtime writes to its sync socket after loading the
      // filter, which would block forever on its own notification.
      if (sys.action == SeccompAction::Notify && sys.names[j] == "write")
        fail(names[j], "SCMP_ACT_NOTIFY cannot be used for \"write\"");
    }
    if (sys.action == SeccompAction::Notify && !sc.listener_path)
      fail(sw.field("action"), "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    if (sys.errno_ret && !takes_errno(sys.action))
      fail(sw.field("errnoRet"),
           fmt::format("only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not {}", to_string(sys.action)));
    if (!sys.args) continue;
    const JsonPath args = sw.field("args");
    for (std::size_t j = 0; j < sys.args->size(); ++j)
      if ((*sys.args)[j].index >= 6)  // a syscall has at most 6 arguments
        fail(args[j].field("index"), fmt::format("must be less than 6, got {}", (*sys.args)[j].index));
  }
}

void sysctl(const Spec& s) {
  if (!s.linux || !s.linux->sysctl) return;
  const JsonPath w = kLinux.field("sysctl");
  // As runc: only sysctls of a namespace the container owns may be set; any
  // other would change the host.
  static constexpr std::array<std::string_view, 8> kIpc = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [raw, value] : *s.linux->sysctl) {
    const JsonPath kw = w.field(raw);
    if (raw.empty()) fail(kw, "keys must not be empty");
    require_no_nul(kw, value);
    std::string key = raw;  // "net/ipv4/ip_forward" is the same as "net.ipv4.ip_forward"
    for (char& c : key)
      if (c == '/') c = '.';
    if (std::find(kIpc.begin(), kIpc.end(), key) != kIpc.end() || key.starts_with("fs.mqueue.")) {
      if (find_namespace(s, NamespaceType::Ipc)) continue;
      fail(kw, fmt::format("sysctl {} needs an IPC namespace in linux.namespaces", quote(raw)));
    }
    if (key.starts_with("net.")) {
      if (find_namespace(s, NamespaceType::Network)) continue;
      fail(kw, fmt::format("sysctl {} needs a network namespace in linux.namespaces", quote(raw)));
    }
    if (key == "kernel.hostname") fail(kw, "sysctl \"kernel.hostname\" is not allowed: use the hostname field");
    if (key == "kernel.domainname") {
      if (find_namespace(s, NamespaceType::Uts)) continue;
      fail(kw, fmt::format("sysctl {} needs a UTS namespace in linux.namespaces", quote(raw)));
    }
    fail(kw, fmt::format("sysctl {} is not namespaced: setting it would change the host", quote(raw)));
  }
}

void masked_and_readonly_paths(const Spec& s) {
  if (!s.linux) return;
  const std::pair<std::string_view, const std::optional<Strings>*> lists[] = {
      {"maskedPaths", &s.linux->masked_paths}, {"readonlyPaths", &s.linux->readonly_paths}};
  for (const auto& [name, list] : lists) {
    if (!*list) continue;
    const JsonPath w = kLinux.field(name);
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      require_absolute(w[i], (**list)[i]);
      require_no_nul(w[i], (**list)[i]);
    }
  }
}

void intel_rdt(const Spec& s) {
  if (!s.linux || !s.linux->intel_rdt) return;
  const LinuxIntelRdt& r = *s.linux->intel_rdt;
  const JsonPath w = kLinux.field("intelRdt");
  const auto no_newline = [](const JsonPath& where, const std::string& v) {
    if (v.find_first_of("\n\r") != std::string::npos) fail(where, "must not contain a newline");
  };
  if (r.clos_id) {
    // A directory of the resctrl filesystem, or "/" for its root.
    const std::string& c = *r.clos_id;
    if (c != "/" && (c.empty() || c == "." || c == ".." || c.find('/') != std::string::npos))
      fail(w.field("closID"), fmt::format("must be \"/\" or a directory name, got {}", quote(c)));
    no_newline(w.field("closID"), c);
  }
  if (r.l3_cache_schema) no_newline(w.field("l3CacheSchema"), *r.l3_cache_schema);
  if (r.mem_bw_schema) {
    if (!r.mem_bw_schema->starts_with("MB:"))
      fail(w.field("memBwSchema"), fmt::format("must start with \"MB:\", got {}", quote(*r.mem_bw_schema)));
    no_newline(w.field("memBwSchema"), *r.mem_bw_schema);
  }
  if (r.schemata) {
    const JsonPath list = w.field("schemata");
    for (std::size_t i = 0; i < r.schemata->size(); ++i) no_newline(list[i], (*r.schemata)[i]);
  }
}

void personality(const Spec& s) {
  if (!s.linux || !s.linux->personality || !s.linux->personality->flags) return;
  const JsonPath p = kLinux.field("personality");
  const JsonPath w = p.field("flags");
  const Strings& flags = *s.linux->personality->flags;
  // config-linux.md: "Currently no flag values are supported."
  if (!flags.empty()) fail(w[0], fmt::format("unsupported personality flag {}: none is defined", quote(flags[0])));
}

void net_devices(const Spec& s) {
  if (!s.linux || !s.linux->net_devices) return;
  const JsonPath w = kLinux.field("netDevices");
  // No network namespace is required here: the spec's own valid example
  // (schema/test/config/good/linux-netdevice.json) has none; the runtime
  // refuses what it cannot do when it moves the devices.
  for (const auto& [host_name, dev] : *s.linux->net_devices) {
    if (!is_interface_name(host_name))
      fail(w.field(host_name), fmt::format("invalid interface name {}", quote(host_name)));
    // "eth%d" is a template the kernel completes: it is a valid name.
    if (dev.name && !is_interface_name(*dev.name))
      fail(w.field(host_name).field("name"), fmt::format("invalid interface name {}", quote(*dev.name)));
  }
}

void memory_policy(const Spec& s) {
  if (!s.linux || !s.linux->memory_policy) return;
  const LinuxMemoryPolicy& m = *s.linux->memory_policy;
  const JsonPath w = kLinux.field("memoryPolicy");
  const std::string_view nodes = m.nodes ? std::string_view(*m.nodes) : std::string_view();
  if (!is_id_list(nodes)) fail(w.field("nodes"), fmt::format("invalid memory node list {}", quote(nodes)));
  const bool empty = nodes.find_first_not_of(" \t") == std::string_view::npos;
  // set_mempolicy(2): DEFAULT and LOCAL take no nodes; BIND, INTERLEAVE,
  // WEIGHTED_INTERLEAVE and PREFERRED_MANY need at least one.
  switch (m.mode) {
    case MemoryPolicyMode::Default:
    case MemoryPolicyMode::Local:
      if (!empty) fail(w.field("nodes"), fmt::format("{} takes no nodes, got {}", to_string(m.mode), quote(nodes)));
      break;
    case MemoryPolicyMode::Bind:
    case MemoryPolicyMode::Interleave:
    case MemoryPolicyMode::WeightedInterleave:
    case MemoryPolicyMode::PreferredMany:
      if (empty) fail(w.field("nodes"), fmt::format("{} needs at least one node", to_string(m.mode)));
      break;
    case MemoryPolicyMode::Preferred:
      break;
  }
  if (!m.flags) return;
  bool is_static = false, is_relative = false;
  const JsonPath list = w.field("flags");
  for (std::size_t i = 0; i < m.flags->size(); ++i) {
    is_static = is_static || (*m.flags)[i] == MemoryPolicyFlag::StaticNodes;
    is_relative = is_relative || (*m.flags)[i] == MemoryPolicyFlag::RelativeNodes;
    if (is_static && is_relative)
      fail(list[i], "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES are mutually exclusive");
  }
}

}  // namespace berth::oci::checks
