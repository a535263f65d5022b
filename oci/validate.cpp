// validate(): the list of checks, and those of config.md (version, root, mounts,
// process, hooks, annotations). The config-linux.md checks are in
// validate_linux.cpp. Each check walks only its own part of the spec and
// throws berth::Error naming the JSON path of the first violation.
#include "oci/validate.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <set>
#include <string>

#include <fmt/format.h>

#include "oci/capabilities.hpp"
#include "oci/rlimits.hpp"
#include "oci/validate_checks.hpp"

namespace berth::oci {

namespace checks {

namespace {

const JsonPath kRoot;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

// A SemVer 2.0.0 numeric field: "0" or no leading zero.
bool take_number(std::string_view& s, std::uint64_t& out) noexcept {
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n == 0 || (n > 1 && s[0] == '0')) return false;
  if (std::from_chars(s.data(), s.data() + n, out).ec != std::errc()) return false;
  s.remove_prefix(n);
  return true;
}

// Dot-separated non-empty identifiers of [0-9A-Za-z-]; in a pre-release, a
// purely numeric identifier has no leading zero.
bool take_identifiers(std::string_view& s, bool prerelease) noexcept {
  while (true) {
    std::size_t n = 0;
    bool numeric = true;
    for (; n < s.size() && is_ident_char(s[n]); ++n) numeric = numeric && is_digit(s[n]);
    if (n == 0 || (prerelease && numeric && n > 1 && s[0] == '0')) return false;
    s.remove_prefix(n);
    if (s.empty() || s[0] != '.') return true;
    s.remove_prefix(1);
  }
}

// MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] per semver.org 2.0.0; sets the major.
bool parse_semver(std::string_view s, std::uint64_t& major) noexcept {
  std::uint64_t minor = 0, patch = 0;
  if (!take_number(s, major) || s.empty() || s[0] != '.') return false;
  s.remove_prefix(1);
  if (!take_number(s, minor) || s.empty() || s[0] != '.') return false;
  s.remove_prefix(1);
  if (!take_number(s, patch)) return false;
  if (!s.empty() && s[0] == '-') {
    s.remove_prefix(1);
    if (!take_identifiers(s, true)) return false;
  }
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!take_identifiers(s, false)) return false;
  }
  return s.empty();
}

// Mount propagation options, by kind; a mount may carry at most one kind.
std::optional<std::string_view> propagation_kind(std::string_view option) noexcept {
  if (option.size() > 1 && option[0] == 'r') option.remove_prefix(1);  // rshared -> shared
  if (option == "private" || option == "shared" || option == "slave" || option == "unbindable") return option;
  return std::nullopt;
}

}  // namespace

// exec and the environment are C strings: an embedded NUL would silently cut
// the value, so it is refused instead.
void require_no_nul(const JsonPath& where, std::string_view s) {
  if (s.find('\0') != std::string_view::npos) fail(where, "must not contain a NUL byte");
}

void require_no_nul(const JsonPath& where, const std::optional<Strings>& list) {
  if (!list) return;
  for (std::size_t i = 0; i < list->size(); ++i) require_no_nul(where[i], (*list)[i]);
}

void check_id_mappings(const JsonPath& where, const std::vector<LinuxIdMapping>& maps) {
  for (std::size_t i = 0; i < maps.size(); ++i) {
    const LinuxIdMapping& m = maps[i];
    if (m.size == 0) fail(where[i].field("size"), "must be greater than 0");
    // The kernel refuses ranges that wrap around the 32-bit id space.
    constexpr std::uint64_t kIds = std::uint64_t{1} << 32;
    if (std::uint64_t{m.container_id} + m.size > kIds || std::uint64_t{m.host_id} + m.size > kIds)
      fail(where[i], fmt::format("the range of {} ids from containerID {} / hostID {} exceeds the 32-bit id space",
                                 m.size, m.container_id, m.host_id));
  }
}

void require_absolute(const JsonPath& where, std::string_view path) {
  if (!is_absolute(path)) fail(where, fmt::format("must be an absolute path, got {}", quote(path)));
}

const LinuxNamespace* find_namespace(const Spec& spec, NamespaceType type) noexcept {
  if (!spec.linux || !spec.linux->namespaces) return nullptr;
  for (const LinuxNamespace& ns : *spec.linux->namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

bool is_id_list(std::string_view list) noexcept {
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  const auto number = [](std::string_view& s, std::uint32_t& out) {
    std::size_t n = 0;
    while (n < s.size() && is_digit(s[n])) ++n;
    if (n == 0 || std::from_chars(s.data(), s.data() + n, out).ec != std::errc()) return false;
    s.remove_prefix(n);
    return true;
  };
  if (trim(list).empty()) return true;
  while (true) {
    const std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    std::uint32_t first = 0, last = 0;
    if (!number(item, first)) return false;
    if (!item.empty() && item[0] == '-') {
      item.remove_prefix(1);
      if (!number(item, last) || last < first) return false;
      if (!item.empty() && item[0] == ':') {  // N-M:used/group
        std::uint32_t used = 0, group = 0;
        item.remove_prefix(1);
        if (!number(item, used) || item.empty() || item[0] != '/') return false;
        item.remove_prefix(1);
        if (!number(item, group) || used == 0 || group == 0 || used > group) return false;
      }
    }
    if (!item.empty()) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

void oci_version(const Spec& s) {
  const JsonPath w = kRoot.field("ociVersion");
  std::uint64_t major = 0;
  if (!parse_semver(s.oci_version, major))
    fail(w, fmt::format("{} is not a SemVer 2.0.0 version", quote(s.oci_version)));
  // Versions are compatible within a major version; 0.x are the drafts that
  // led to 1.0 (the spec's own examples still use them).
  if (major > 1) fail(w, fmt::format("unsupported version {}: berth implements runtime-spec 1.x", quote(s.oci_version)));
}

void root(const Spec& s) {
  if (!s.root) fail(kRoot.field("root"), "required field is missing");
  const JsonPath w = kRoot.field("root");
  if (s.root->path.empty()) fail(w.field("path"), "must not be empty");
  require_no_nul(w.field("path"), s.root->path);
}

void mounts(const Spec& s) {
  if (!s.mounts) return;
  const JsonPath list = kRoot.field("mounts");
  const bool userns = find_namespace(s, NamespaceType::User) != nullptr;
  for (std::size_t i = 0; i < s.mounts->size(); ++i) {
    const Mount& m = (*s.mounts)[i];
    const JsonPath w = list[i];
    // Relative destinations are deprecated by config.md; berth refuses them
    // rather than guessing what they were relative to.
    require_absolute(w.field("destination"), m.destination);
    require_no_nul(w.field("destination"), m.destination);
    if (m.uid_mappings && !m.gid_mappings) fail(w.field("uidMappings"), "must be set together with gidMappings");
    if (m.gid_mappings && !m.uid_mappings) fail(w.field("gidMappings"), "must be set together with uidMappings");
    if (m.uid_mappings) check_id_mappings(w.field("uidMappings"), *m.uid_mappings);
    if (m.gid_mappings) check_id_mappings(w.field("gidMappings"), *m.gid_mappings);
    if (!m.options) continue;
    const JsonPath opts = w.field("options");
    std::optional<std::string_view> propagation;
    for (std::size_t j = 0; j < m.options->size(); ++j) {
      const std::string& o = (*m.options)[j];
      require_no_nul(opts[j], o);
      if ((o == "idmap" || o == "ridmap") && !m.uid_mappings && !userns)
        fail(opts[j], fmt::format("{} needs uidMappings and gidMappings on the mount or a user namespace", quote(o)));
      const std::optional<std::string_view> kind = propagation_kind(o);
      if (!kind) continue;
      if (propagation && *propagation != *kind)
        fail(opts[j], fmt::format("propagation {} conflicts with an earlier {} option", quote(o), quote(*propagation)));
      propagation = kind;
    }
  }
}

void process(const Spec& s) {
  if (!s.process) return;
  const Process& p = *s.process;
  const JsonPath w = kRoot.field("process");
  require_absolute(w.field("cwd"), p.cwd);
  require_no_nul(w.field("cwd"), p.cwd);
  // config.md: "at least one entry is REQUIRED (non-Windows)".
  if (!p.args) fail(w.field("args"), "required field is missing");
  if (p.args->empty()) fail(w.field("args"), "must contain at least one entry");
  require_no_nul(w.field("args"), p.args);
  if (p.env) {
    const JsonPath env = w.field("env");
    for (std::size_t i = 0; i < p.env->size(); ++i) {
      const std::string& kv = (*p.env)[i];
      require_no_nul(env[i], kv);
      const std::size_t eq = kv.find('=');
      if (eq == std::string::npos) fail(env[i], fmt::format("invalid environment variable {}: missing '='", quote(kv)));
      if (eq == 0) fail(env[i], fmt::format("invalid environment variable {}: empty name", quote(kv)));
    }
  }
  if (p.console_size && p.console_size->height > 0xFFFF)
    fail(w.field("consoleSize").field("height"), fmt::format("must be at most 65535, got {}", p.console_size->height));
  if (p.console_size && p.console_size->width > 0xFFFF)
    fail(w.field("consoleSize").field("width"), fmt::format("must be at most 65535, got {}", p.console_size->width));
}

void capabilities(const Spec& s) {
  if (!s.process || !s.process->capabilities) return;
  const LinuxCapabilities& c = *s.process->capabilities;
  const JsonPath proc = kRoot.field("process");
  const JsonPath w = proc.field("capabilities");
  const std::pair<std::string_view, const std::optional<Strings>*> sets[] = {
      {"bounding", &c.bounding},   {"effective", &c.effective}, {"inheritable", &c.inheritable},
      {"permitted", &c.permitted}, {"ambient", &c.ambient},
  };
  for (const auto& [name, set] : sets) {
    if (!*set) continue;
    const JsonPath list = w.field(name);
    for (std::size_t i = 0; i < (*set)->size(); ++i) {
      const std::string& cap = (**set)[i];
      if (!capability_from_name(cap)) fail(list[i], fmt::format("unknown capability {}", quote(cap)));
    }
  }
}

void rlimits(const Spec& s) {
  if (!s.process || !s.process->rlimits) return;
  const JsonPath proc = kRoot.field("process");
  const JsonPath w = proc.field("rlimits");
  const std::vector<PosixRlimit>& limits = *s.process->rlimits;
  std::set<int> seen;
  for (std::size_t i = 0; i < limits.size(); ++i) {
    const PosixRlimit& r = limits[i];
    const std::optional<int> resource = rlimit_from_name(r.type);
    if (!resource) fail(w[i].field("type"), fmt::format("unknown rlimit {}", quote(r.type)));
    if (!seen.insert(*resource).second) fail(w[i].field("type"), fmt::format("duplicate rlimit {}", quote(r.type)));
    if (r.soft > r.hard)
      fail(w[i].field("soft"), fmt::format("soft limit {} is greater than hard limit {}", r.soft, r.hard));
  }
}

void scheduler(const Spec& s) {
  if (!s.process || !s.process->scheduler) return;
  const Scheduler& sc = *s.process->scheduler;
  const JsonPath proc = kRoot.field("process");
  const JsonPath w = proc.field("scheduler");
  if (sc.nice && (*sc.nice < -20 || *sc.nice > 19))
    fail(w.field("nice"), fmt::format("must be between -20 and 19, got {}", *sc.nice));
  const bool realtime = sc.policy == SchedulerPolicy::Fifo || sc.policy == SchedulerPolicy::Rr;
  if (sc.priority && *sc.priority != 0 && !realtime)
    fail(w.field("priority"), fmt::format("only SCHED_FIFO and SCHED_RR take a priority, not {}", to_string(sc.policy)));
  if (sc.priority && realtime && (*sc.priority < 1 || *sc.priority > 99))
    fail(w.field("priority"), fmt::format("must be between 1 and 99 for {}, got {}", to_string(sc.policy), *sc.priority));
  const bool deadline = sc.policy == SchedulerPolicy::Deadline;
  const std::pair<std::string_view, const std::optional<std::uint64_t>*> times[] = {
      {"runtime", &sc.runtime}, {"deadline", &sc.deadline}, {"period", &sc.period}};
  for (const auto& [name, t] : times)
    if (!deadline && t->value_or(0) != 0)
      fail(w.field(name), fmt::format("only SCHED_DEADLINE takes runtime, deadline and period, not {}",
                                      to_string(sc.policy)));
  // sched_setattr(2): runtime <= deadline <= period (a period of 0 means "= deadline").
  const std::uint64_t rt = sc.runtime.value_or(0), dl = sc.deadline.value_or(0), pe = sc.period.value_or(0);
  if (deadline && rt > dl) fail(w.field("runtime"), fmt::format("must not exceed deadline {}, got {}", dl, rt));
  if (deadline && pe != 0 && dl > pe) fail(w.field("deadline"), fmt::format("must not exceed period {}, got {}", pe, dl));
}

void io_priority(const Spec& s) {
  if (!s.process || !s.process->io_priority) return;
  const std::int32_t prio = s.process->io_priority->priority;
  const JsonPath proc = kRoot.field("process");
  if (prio < 0 || prio > 7)
    fail(proc.field("ioPriority").field("priority"), fmt::format("must be between 0 and 7, got {}", prio));
}

void oom_score_adj(const Spec& s) {
  if (!s.process || !s.process->oom_score_adj) return;
  const std::int64_t v = *s.process->oom_score_adj;
  const JsonPath proc = kRoot.field("process");
  if (v < -1000 || v > 1000) fail(proc.field("oomScoreAdj"), fmt::format("must be between -1000 and 1000, got {}", v));
}

void exec_cpu_affinity(const Spec& s) {
  if (!s.process || !s.process->exec_cpu_affinity) return;
  const CpuAffinity& a = *s.process->exec_cpu_affinity;
  const JsonPath proc = kRoot.field("process");
  const JsonPath w = proc.field("execCPUAffinity");
  if (a.initial && !is_id_list(*a.initial)) fail(w.field("initial"), fmt::format("invalid CPU list {}", quote(*a.initial)));
  if (a.final && !is_id_list(*a.final)) fail(w.field("final"), fmt::format("invalid CPU list {}", quote(*a.final)));
}

void uts(const Spec& s) {
  // As runc: setting them in the runtime's UTS namespace would rename the host.
  const bool uts = find_namespace(s, NamespaceType::Uts) != nullptr;
  if (s.hostname && !uts) fail(kRoot.field("hostname"), "setting the hostname needs a UTS namespace in linux.namespaces");
  if (s.domainname && !uts)
    fail(kRoot.field("domainname"), "setting the domainname needs a UTS namespace in linux.namespaces");
}

void hooks(const Spec& s) {
  if (!s.hooks) return;
  const JsonPath w = kRoot.field("hooks");
  const std::pair<std::string_view, const std::optional<std::vector<Hook>>*> kinds[] = {
      {"prestart", &s.hooks->prestart},         {"createRuntime", &s.hooks->create_runtime},
      {"createContainer", &s.hooks->create_container}, {"startContainer", &s.hooks->start_container},
      {"poststart", &s.hooks->poststart},       {"poststop", &s.hooks->poststop},
  };
  for (const auto& [name, list] : kinds) {
    if (!*list) continue;
    const JsonPath lw = w.field(name);
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
      const Hook& h = (**list)[i];
      const JsonPath hw = lw[i];
      require_absolute(hw.field("path"), h.path);
      require_no_nul(hw.field("path"), h.path);
      require_no_nul(hw.field("args"), h.args);
      require_no_nul(hw.field("env"), h.env);
      if (h.timeout && *h.timeout <= 0) fail(hw.field("timeout"), fmt::format("must be greater than 0, got {}", *h.timeout));
    }
  }
}

void annotations(const Spec& s) {
  if (!s.annotations) return;
  const JsonPath w = kRoot.field("annotations");
  for (const auto& [key, value] : *s.annotations)
    if (key.empty()) fail(w.field(key), "keys must not be empty");
}

}  // namespace checks

namespace {

// In document order, so the error reported is the first one a reader meets.
constexpr checks::Check kChecks[] = {
    checks::oci_version,
    checks::root,
    checks::mounts,
    checks::process,
    checks::capabilities,
    checks::rlimits,
    checks::scheduler,
    checks::io_priority,
    checks::oom_score_adj,
    checks::exec_cpu_affinity,
    checks::uts,
    checks::hooks,
    checks::annotations,
    checks::namespaces,
    checks::id_mappings,
    checks::time_offsets,
    checks::devices,
    checks::cgroup_devices,
    checks::memory,
    checks::cpu,
    checks::pids,
    checks::block_io,
    checks::hugepages,
    checks::network,
    checks::rdma,
    checks::unified,
    checks::seccomp,
    checks::sysctl,
    checks::masked_and_readonly_paths,
    checks::intel_rdt,
    checks::personality,
    checks::net_devices,
    checks::memory_policy,
};

}  // namespace

void validate(const Spec& spec) {
  for (const checks::Check check : kChecks) check(spec);
}

}  // namespace berth::oci
