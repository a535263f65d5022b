// The systemd side of --systemd-cgroup, after runc's libcontainer/cgroups/systemd (common.go,
// v1.go, v2.go): unit naming, slice expansion, the translation of linux.resources into unit
// properties, and the StartTransientUnit / StopUnit calls with their job waits.
#include "runtime/cgroups/systemd.hpp"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"

namespace berth::cgroups::systemd {

namespace {

using dbus::Clock;
using dbus::Message;
using dbus::MessageType;
using dbus::Value;

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kObject = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kPrivateSocket = "/run/systemd/private";
constexpr const char* kSystemBusSocket = "/run/dbus/system_bus_socket";

// systemd's USEC_INFINITY and CGROUP_LIMIT_MAX: "no limit" for both times and sizes.
constexpr std::uint64_t kInfinity = std::numeric_limits<std::uint64_t>::max();
// The kernel's default CFS period, assumed when only a quota is given (as runc does).
constexpr std::uint64_t kDefaultCpuPeriod = 100000;
// Far above any kernel's NR_CPUS or MAX_NUMNODES; it bounds the bitmask a typo could ask for.
constexpr std::uint32_t kMaxCpusetBit = 1u << 16;

Message manager_call(std::string member, std::vector<Value> body) {
  return dbus::method_call(kService, kObject, kManager, std::move(member), std::move(body));
}

Value prop(std::string name, Value v) { return Value::structure({Value::string(std::move(name)), Value::variant(std::move(v))}); }

std::uint64_t limit_value(std::int64_t v) { return v < 0 ? kInfinity : static_cast<std::uint64_t>(v); }

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_i64(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\n") - first + 1);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return out;
    s.remove_prefix(p + 1);
  }
}

// Characters systemd accepts in a unit name (unit_name_is_valid), so that a bad name is an
// Error about linux.cgroupsPath here rather than an InvalidArgument from systemd later.
void check_unit_name(std::string_view name) {
  if (name.size() > 255) throw Error(fmt::format("unit name `{}` is longer than 255 characters", name));
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view(":-_.\\@").find(c) != std::string_view::npos;
    if (!ok) throw Error(fmt::format("unit name `{}` has `{}`, which systemd does not allow in unit names", name, c));
  }
}

// runc's ConvertCPUSharesToCgroupV2Value: shares 2..262144 onto weight 1..10000, linearly.
std::uint64_t shares_to_weight(std::uint64_t shares) {
  shares = std::clamp<std::uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

// runc's ConvertMemorySwapToCgroupV2Value: the spec's swap is memory+swap (v1's memsw), v2's
// memory.swap.max is swap alone. Returns -1 for "max", 0 for "leave unset".
std::int64_t swap_for_v2(std::int64_t swap, std::int64_t memory) {
  if (memory == -1 && swap == 0) return -1;  // unlimited memory with swap unset: both unlimited
  if (swap == -1 || swap == 0) return swap;
  if (memory == 0 || memory == -1)
    throw Error("linux.resources.memory.swap: a swap limit needs a memory limit (linux.resources.memory.limit)");
  if (memory < 0) throw Error(fmt::format("linux.resources.memory.limit: invalid value {}", memory));
  if (swap < memory)
    throw Error(fmt::format("linux.resources.memory.swap: {} is below the memory limit {} (swap is memory+swap)",
                            swap, memory));
  return swap - memory;
}

// runc's RangeToBits: "0-3,8" as systemd's AllowedCPUs byte array, byte i holding CPUs 8i..8i+7.
std::vector<Value> range_to_bits(std::string_view list, std::string_view field) {
  std::vector<std::uint8_t> bytes;
  const auto bad = [&](std::string_view why) {
    return Error(fmt::format("{}: `{}`: {}", field, list, why));
  };
  const auto number = [&](std::string_view s) {
    const auto v = parse_u64(trim(s));
    if (!v) throw bad(fmt::format("`{}` is not a number", trim(s)));
    if (*v >= kMaxCpusetBit) throw bad(fmt::format("{} is too large", *v));
    return static_cast<std::uint32_t>(*v);
  };
  for (std::string_view r : split(list, ',')) {
    r = trim(r);
    if (r.empty()) continue;  // runc allows extra commas
    const auto dash = r.find('-');
    const std::uint32_t first = number(r.substr(0, dash));
    const std::uint32_t last = dash == std::string_view::npos ? first : number(r.substr(dash + 1));
    if (first > last) throw bad(fmt::format("invalid range `{}`", r));
    if (bytes.size() < last / 8 + 1) bytes.resize(last / 8 + 1);
    for (std::uint32_t i = first; i <= last; ++i) bytes[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
  }
  if (bytes.empty()) throw bad("empty list");
  std::vector<Value> out;
  for (std::uint8_t b : bytes) out.push_back(Value::byte(b));
  return out;
}

void add_cpu_quota(std::vector<Value>& p, std::int64_t quota, std::uint64_t period, const Host& host) {
  if (period != 0 && host.systemd_version >= 242) p.push_back(prop("CPUQuotaPeriodUSec", Value::uint64(period)));
  if (quota == 0 && period == 0) return;
  std::uint64_t per_sec = kInfinity;
  if (quota > 0) {
    if (period == 0) period = kDefaultCpuPeriod;
    const auto q = static_cast<std::uint64_t>(quota);
    if (q <= kInfinity / 1000000) {
      per_sec = q * 1000000 / period;
      // systemd keeps the quota as a whole percentage of a CPU: round up to the next 10ms so the
      // cgroup gets at least the quota asked for.
      if (per_sec % 10000 != 0) per_sec = (per_sec / 10000 + 1) * 10000;
    }
  }
  p.push_back(prop("CPUQuotaPerSecUSec", Value::uint64(per_sec)));
}

void add_cpuset(std::vector<Value>& p, std::string_view cpus, std::string_view mems, std::string_view where,
                const Host& host) {
  // AllowedCPUs/AllowedMemoryNodes exist since systemd 244; berth's cgroupfs writer still
  // applies cpuset.* on older ones.
  if (host.systemd_version < 244) return;
  if (!cpus.empty())
    p.push_back(prop("AllowedCPUs", Value::array("y", range_to_bits(cpus, fmt::format("{}.cpus", where)))));
  if (!mems.empty())
    p.push_back(prop("AllowedMemoryNodes", Value::array("y", range_to_bits(mems, fmt::format("{}.mems", where)))));
}

// runc's unifiedResToSystemdProps: the cgroup v2 files systemd has a property for. The others
// are left to berth's cgroupfs writer.
void add_unified(std::vector<Value>& p, const oci::StringMap& unified, const Host& host) {
  for (const auto& [key, raw] : unified) {
    const std::string where = fmt::format("linux.resources.unified[\"{}\"]", key);
    if (key.find('/') != std::string::npos) throw Error(where + ": the key must be a file name (no `/`)");
    if (key.find('.') == std::string::npos) throw Error(where + ": the key must be of the form CONTROLLER.PARAMETER");
    const std::string_view v = trim(raw);
    const auto number_or_max = [&] {
      if (v == "max") return kInfinity;
      const auto n = parse_u64(v);
      if (!n) throw Error(fmt::format("{}: `{}` is neither a number nor \"max\"", where, v));
      return *n;
    };
    if (key == "cpu.max") {
      std::vector<std::string_view> fields;
      for (std::string_view f : split(v, ' '))
        if (!f.empty()) fields.push_back(f);
      if (fields.empty() || fields.size() > 2) throw Error(fmt::format("{}: `{}` is not \"QUOTA [PERIOD]\"", where, v));
      std::int64_t quota = 0;  // "max": no quota
      if (fields[0] != "max") {
        const auto q = parse_i64(fields[0]);
        if (!q) throw Error(fmt::format("{}: quota `{}` is not a number", where, fields[0]));
        quota = *q;
      }
      std::uint64_t period = kDefaultCpuPeriod;
      if (fields.size() == 2) {
        const auto n = parse_u64(fields[1]);
        if (!n) throw Error(fmt::format("{}: period `{}` is not a number", where, fields[1]));
        period = *n;
      }
      add_cpu_quota(p, quota, period, host);
    } else if (key == "cpu.weight") {
      const auto n = parse_u64(v);
      if (!n) throw Error(fmt::format("{}: `{}` is not a number", where, v));
      p.push_back(prop("CPUWeight", Value::uint64(*n)));
    } else if (key == "cpuset.cpus" || key == "cpuset.mems") {
      if (host.systemd_version >= 244)
        p.push_back(prop(key == "cpuset.cpus" ? "AllowedCPUs" : "AllowedMemoryNodes",
                         Value::array("y", range_to_bits(v, where))));
    } else if (key == "memory.high" || key == "memory.low" || key == "memory.min" || key == "memory.max" ||
               key == "memory.swap.max") {
      const char* name = key == "memory.high"  ? "MemoryHigh"
                         : key == "memory.low" ? "MemoryLow"
                         : key == "memory.min" ? "MemoryMin"
                         : key == "memory.max" ? "MemoryMax"
                                               : "MemorySwapMax";
      p.push_back(prop(name, Value::uint64(number_or_max())));
    } else if (key == "pids.max") {
      p.push_back(prop("TasksMax", Value::uint64(number_or_max())));
    }
  }
}

void add_resources(std::vector<Value>& p, const oci::LinuxResources& r, const Host& host) {
  if (r.memory) {
    const oci::LinuxMemory& m = *r.memory;
    if (m.limit && *m.limit != 0)
      p.push_back(prop(host.unified ? "MemoryMax" : "MemoryLimit", Value::uint64(limit_value(*m.limit))));
    if (host.unified) {
      if (m.reservation && *m.reservation != 0)
        p.push_back(prop("MemoryLow", Value::uint64(limit_value(*m.reservation))));
      if (const std::int64_t swap = swap_for_v2(m.swap.value_or(0), m.limit.value_or(0)); swap != 0)
        p.push_back(prop("MemorySwapMax", Value::uint64(limit_value(swap))));
    }
  }
  if (r.cpu) {
    const oci::LinuxCpu& c = *r.cpu;
    if (c.shares && *c.shares != 0)
      p.push_back(host.unified ? prop("CPUWeight", Value::uint64(shares_to_weight(*c.shares)))
                               : prop("CPUShares", Value::uint64(*c.shares)));
    add_cpu_quota(p, c.quota.value_or(0), c.period.value_or(0), host);
  }
  if (!host.unified && r.block_io && r.block_io->weight && *r.block_io->weight != 0)
    p.push_back(prop("BlockIOWeight", Value::uint64(*r.block_io->weight)));
  if (r.pids && r.pids->limit && (*r.pids->limit > 0 || *r.pids->limit == -1))
    p.push_back(prop("TasksMax", Value::uint64(limit_value(*r.pids->limit))));
  if (r.cpu) add_cpuset(p, r.cpu->cpus.value_or(""), r.cpu->mems.value_or(""), "linux.resources.cpu", host);
  if (host.unified && r.unified) add_unified(p, *r.unified, host);
}

// Whether unit_properties would look at Host::systemd_version for these resources.
bool needs_version(const oci::LinuxResources* r) {
  if (!r) return false;
  if (r->cpu && ((r->cpu->period && *r->cpu->period != 0) || r->cpu->cpus || r->cpu->mems)) return true;
  return r->unified && (r->unified->contains("cpu.max") || r->unified->contains("cpuset.cpus") ||
                        r->unified->contains("cpuset.mems"));
}

bool is_unified() {
  struct statfs sf {};
  return ::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

// runc's systemdVersionAtoi: "252.22-1~deb12u1", "v245.4-1.fc32" -> 252, 245.
int manager_version(dbus::Connection& c, Clock::time_point deadline) {
  try {
    const Message reply = c.call(dbus::method_call(kService, kObject, "org.freedesktop.DBus.Properties", "Get",
                                                   {Value::string(kManager), Value::string("Version")}),
                                 deadline);
    if (reply.signature() != "v" || reply.body[0].inner().type() != "s") return -1;
    std::string_view v = reply.body[0].inner().as_string();
    while (!v.empty() && (v.front() == '"' || v.front() == 'v')) v.remove_prefix(1);
    int n = -1;
    std::from_chars(v.data(), v.data() + v.size(), n);
    return n;
  } catch (const Error&) {
    return -1;  // as runc: an unknown version only leaves out the newer properties
  }
}

std::string job_path(const Message& reply, std::string_view method) {
  if (reply.signature() != "o")
    throw Error(fmt::format("{}: reply of signature `{}`, not `o`", method, reply.signature()));
  return reply.body[0].as_string();
}

// The result of JobRemoved(id, job, unit, result) for `job`: "done", "canceled", "timeout",
// "failed", "dependency" or "skipped".
std::string wait_job(dbus::Connection& c, const std::string& job, Clock::time_point deadline) {
  return with_context(fmt::format("waiting for job `{}`", job), [&] {
    const Message s = c.wait_signal(
        [&](const Message& m) {
          return m.interface == kManager && m.member == "JobRemoved" && m.signature() == "uoss" &&
                 m.body[1].as_string() == job;
        },
        deadline);
    return s.body[3].as_string();
  });
}

// Lets systemd forget a failed unit, so that the name can be used again. Best effort, as in
// runc: it fails for units that are not loaded, which is fine.
void reset_failed(dbus::Connection& c, const std::string& name) {
  try {
    c.call(manager_call("ResetFailedUnit", {Value::string(name)}), Clock::now() + std::chrono::seconds(5));
  } catch (const Error&) {
  }
}

[[noreturn]] void not_booted() {
  throw Error(
      "--systemd-cgroup: systemd is not running as PID 1 on this host (/run/systemd/system is missing); "
      "use the default cgroupfs driver");
}

}  // namespace

Unit parse_cgroups_path(std::string_view cgroups_path, std::string_view id) {
  std::string_view slice;
  std::string_view prefix = "berth";
  std::string_view name = id;
  if (!cgroups_path.empty()) {
    const std::vector<std::string_view> parts = split(cgroups_path, ':');
    if (parts.size() != 3)
      throw Error(fmt::format(
          "linux.cgroupsPath: `{}` is not of the form \"slice:prefix:name\" that --systemd-cgroup expects "
          "(e.g. \"system.slice:berth:{}\")",
          cgroups_path, id));
    slice = parts[0];
    prefix = parts[1];
    name = parts[2];
  }
  return with_context("linux.cgroupsPath", [&] {
    Unit u;
    u.slice = slice.empty() ? "system.slice" : std::string(slice);
    expand_slice(u.slice);
    if (name.empty()) throw Error(fmt::format("`{}`: the name (after the last `:`) is empty", cgroups_path));
    // As runc's getUnitName, even for an empty prefix ("-name.scope").
    u.name = name.ends_with(".slice") ? std::string(name) : fmt::format("{}-{}.scope", prefix, name);
    if (u.is_slice()) expand_slice(u.name);
    check_unit_name(u.name);
    return u;
  });
}

std::string expand_slice(std::string_view slice) {
  constexpr std::string_view kSuffix = ".slice";
  const auto bad = [&](std::string_view why) { return Error(fmt::format("invalid slice name `{}`: {}", slice, why)); };
  if (!slice.ends_with(kSuffix)) throw bad("a slice name ends in \".slice\"");
  if (slice.find('/') != std::string_view::npos) throw bad("a slice name has no `/`; use `-` for nesting (a-b.slice)");
  const std::string_view base = slice.substr(0, slice.size() - kSuffix.size());
  if (base == "-") return "/";
  std::string path;
  std::string prefix;
  for (std::string_view part : split(base, '-')) {
    if (part.empty()) throw bad("empty component (leading, trailing or doubled `-`)");
    path += fmt::format("/{}{}{}", prefix, part, kSuffix);
    prefix += fmt::format("{}-", part);
  }
  return path;
}

std::string cgroup_path(const Unit& u) {
  if (u.is_slice()) return expand_slice(u.name);
  const std::string parent = expand_slice(u.slice);
  return parent == "/" ? "/" + u.name : parent + "/" + u.name;
}

bool booted() {
  struct stat st {};
  return ::lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<Value> unit_properties(const Unit& u, pid_t pid, const oci::LinuxResources* resources, const Host& host) {
  std::vector<Value> p;
  p.push_back(prop("Description", Value::string("berth container " + u.name)));
  if (u.is_slice()) {
    // A slice's place in the tree comes from its name; Wants= only orders it after its parent.
    p.push_back(prop("Wants", Value::array("s", {Value::string(u.slice)})));
  } else {
    p.push_back(prop("Slice", Value::string(u.slice)));
    // systemd refuses PIDs= for slices, which cannot hold processes themselves.
    if (pid > 0) p.push_back(prop("PIDs", Value::array("u", {Value::uint32(static_cast<std::uint32_t>(pid))})));
    // Delegate: the cgroup below the scope is ours (sub-cgroups, controllers); systemd keeps out.
    p.push_back(prop("Delegate", Value::boolean(true)));
  }
  // As runc: accounting on, so the controllers are enabled for the unit as with cgroupfs.
  p.push_back(prop("MemoryAccounting", Value::boolean(true)));
  p.push_back(prop("CPUAccounting", Value::boolean(true)));
  p.push_back(prop(host.unified ? "IOAccounting" : "BlockIOAccounting", Value::boolean(true)));
  p.push_back(prop("TasksAccounting", Value::boolean(true)));
  // No implicit ordering against shutdown.target & co.: the container's lifetime is berth's.
  p.push_back(prop("DefaultDependencies", Value::boolean(false)));
  if (resources) add_resources(p, *resources, host);
  return p;
}

void start_scope(dbus::Connection& c, const Unit& u, pid_t pid, const oci::LinuxResources* resources,
                 std::chrono::milliseconds timeout) {
  with_context(fmt::format("start systemd unit `{}`", u.name), [&] {
    const auto deadline = Clock::now() + timeout;
    Host host;
    host.unified = is_unified();
    if (needs_version(resources)) host.systemd_version = manager_version(c, deadline);
    const std::vector<Value> props = unit_properties(u, pid, resources, host);
    for (int attempt = 0;; ++attempt) {
      const Message reply = c.call_raw(
          manager_call("StartTransientUnit", {Value::string(u.name), Value::string("replace"),
                                              Value::array("(sv)", props), Value::array("(sa(sv))", {})}),
          deadline);
      if (reply.type == MessageType::Error) {
        // A unit of that name left failed by an earlier container: reset it and retry once.
        if (reply.error_name == "org.freedesktop.systemd1.UnitExists" && attempt == 0) {
          reset_failed(c, u.name);
          continue;
        }
        throw Error("StartTransientUnit: " + reply.error_text());
      }
      const std::string job = job_path(reply, "StartTransientUnit");
      std::string result;
      try {
        result = wait_job(c, job, deadline);
      } catch (const Error&) {
        reset_failed(c, u.name);  // as runc on a timeout: do not leave a failed unit behind
        throw;
      }
      if (result != "done") {
        reset_failed(c, u.name);
        throw Error(fmt::format("job `{}` ended with result `{}`, not `done`", job, result));
      }
      return;
    }
  });
}

void stop_scope(dbus::Connection& c, const Unit& u, std::chrono::milliseconds timeout) {
  with_context(fmt::format("stop systemd unit `{}`", u.name), [&] {
    const auto deadline = Clock::now() + timeout;
    const Message reply =
        c.call_raw(manager_call("StopUnit", {Value::string(u.name), Value::string("replace")}), deadline);
    if (reply.type == MessageType::Error) {
      // A scope whose processes have all exited is gone already: systemd collects it.
      if (reply.error_name == "org.freedesktop.systemd1.NoSuchUnit") return;
      throw Error("StopUnit: " + reply.error_text());
    }
    const std::string job = job_path(reply, "StopUnit");
    const std::string result = wait_job(c, job, deadline);
    reset_failed(c, u.name);
    if (result != "done") throw Error(fmt::format("job `{}` ended with result `{}`, not `done`", job, result));
  });
}

dbus::Connection connect() {
  std::string private_error;
  if (::geteuid() == 0) {
    try {
      return dbus::Connection::open(kPrivateSocket, dbus::Peer::Direct);
    } catch (const Error& e) {
      private_error = e.what();
    }
  }
  return with_context("connect to systemd", [&] {
    try {
      dbus::Connection c = dbus::Connection::open(kSystemBusSocket, dbus::Peer::Bus);
      // The bus daemon forwards a signal only to those with a matching rule.
      c.call(dbus::method_call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
                               {Value::string(fmt::format("type='signal',sender='{}',path='{}',interface='{}',"
                                                          "member='JobRemoved'",
                                                          kService, kObject, kManager))}),
             Clock::now() + std::chrono::seconds(30));
      return c;
    } catch (const Error& e) {
      if (private_error.empty()) throw;
      throw Error(fmt::format("{} (after {})", e.what(), private_error));
    }
  });
}

void start_scope(const Unit& u, pid_t pid, const oci::LinuxResources* resources) {
  if (!booted()) not_booted();
  dbus::Connection c = connect();
  start_scope(c, u, pid, resources);
}

void stop_scope(const Unit& u) {
  if (!booted()) not_booted();
  dbus::Connection c = connect();
  stop_scope(c, u);
}

}  // namespace berth::cgroups::systemd
