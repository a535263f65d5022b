#include "runtime/cgroups/stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <iterator>
#include <limits>
#include <set>
#include <span>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "runtime/proc.hpp"
#include "runtime/sys/dir.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::cgroups {
namespace {

namespace json = boost::json;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kNsPerSec = 1'000'000'000;
constexpr std::uint64_t kNsPerUsec = 1'000;

// A file's text and its path, which every parse error names.
struct File {
  std::string path;
  std::string text;
};

[[noreturn]] void malformed(std::string_view path, std::string_view detail) {
  throw Error(fmt::format("parse `{}`: {}", path, detail));
}

// nullopt when the file does not exist: this kernel, or this cgroup, lacks the counter.
std::optional<File> read_opt(const std::string& dir, std::string_view name) {
  std::string path = fmt::format("{}/{}", dir, name);
  auto text = sys::try_read_file(AT_FDCWD, path);
  if (!text) return std::nullopt;
  return File{std::move(path), std::move(*text)};
}

// For the files every directory of a hierarchy has: their absence means the container's cgroup
// is gone, which must not read as a container using nothing.
File read_req(const std::string& dir, std::string_view name) {
  std::string path = fmt::format("{}/{}", dir, name);
  std::string text = sys::read_file(AT_FDCWD, path);
  return File{std::move(path), std::move(text)};
}

std::optional<File> read_either(const std::string& dir, std::string_view name, bool required) {
  if (required) return read_req(dir, name);
  return read_opt(dir, name);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits on any of `seps`, dropping empty pieces (Go's strings.FieldsFunc).
std::vector<std::string_view> split(std::string_view s, std::string_view seps = " \t") {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const size_t start = s.find_first_not_of(seps);
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    const size_t end = s.find_first_of(seps);
    out.push_back(s.substr(0, end));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  return out;
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!trim(line).empty()) f(line);
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// runc's fscommon.ParseUint: a negative value reads as 0, because some kernels let
// memory.stat counters dip below zero for a moment.
std::optional<std::uint64_t> to_u64(std::string_view s) {
  if (s.size() > 1 && s.front() == '-') {
    if (all_digits(s.substr(1))) return 0;
    return std::nullopt;
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A one-number file. v2's "max" (no limit) reads as 2^64-1, as runc reports it.
std::uint64_t single_u64(const File& f) {
  const std::string_view v = trim(f.text);
  if (v == "max") return kMax;
  const auto n = to_u64(v);
  if (!n) malformed(f.path, fmt::format("expected a number, got `{}`", v));
  return *n;
}

void read_u64(const std::string& dir, std::string_view name, std::uint64_t& out) {
  if (auto f = read_opt(dir, name)) out = single_u64(*f);
}

// Flat keyed files: "key value" lines (cpu.stat, memory.stat, memory.events, ...).
template <class F>
void for_each_key(const File& f, F&& fn) {
  for_each_line(f.text, [&](std::string_view line) {
    const size_t sp = line.find(' ');
    std::optional<std::uint64_t> v;
    if (sp != std::string_view::npos) v = to_u64(trim(line.substr(sp + 1)));
    if (!v) malformed(f.path, fmt::format("expected `<key> <number>`, got `{}`", line));
    fn(line.substr(0, sp), *v);
  });
}

std::optional<std::uint64_t> keyed_value(const std::string& dir, std::string_view name,
                                         std::string_view key) {
  std::optional<std::uint64_t> out;
  if (auto f = read_opt(dir, name))
    for_each_key(*f, [&](std::string_view k, std::uint64_t v) {
      if (k == key) out = v;
    });
  return out;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) { return a > kMax - b ? kMax : a + b; }

// --- psi ---------------------------------------------------------------------------------

// "some avg10=0.12 avg60=0.05 avg300=0.00 total=12345" and a "full" line (cpu has one since
// Linux 5.13).
std::optional<PsiStats> read_psi(const std::string& dir, std::string_view name) {
  std::optional<File> f;
  try {
    f = read_opt(dir, name);
  } catch (const Error& e) {
    // A kernel built with PSI but booted without psi=1 has the file and fails the read.
    if (e.errnum() == EOPNOTSUPP) return std::nullopt;
    throw;
  }
  if (!f) return std::nullopt;
  PsiStats p;
  for_each_line(f->text, [&](std::string_view line) {
    const auto parts = split(line);
    PsiData* d = parts[0] == "some" ? &p.some : parts[0] == "full" ? &p.full : nullptr;
    if (!d) return;  // a kind a newer kernel added
    for (size_t i = 1; i < parts.size(); ++i) {
      const size_t eq = parts[i].find('=');
      const std::string_view k = parts[i].substr(0, eq);
      const std::string_view v = eq == std::string_view::npos ? std::string_view{} : parts[i].substr(eq + 1);
      bool ok = true;
      if (k == "total") {
        const auto n = to_u64(v);
        ok = n.has_value();
        d->total = n.value_or(0);
      } else {
        double* dst = k == "avg10" ? &d->avg10 : k == "avg60" ? &d->avg60 : k == "avg300" ? &d->avg300 : nullptr;
        if (!dst) continue;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *dst);
        ok = !v.empty() && ec == std::errc() && end == v.data() + v.size();
      }
      if (!ok) malformed(f->path, fmt::format("bad value in `{}`", line));
    }
  });
  return p;
}

// --- cpu ---------------------------------------------------------------------------------

void read_cpu_v1(const std::string& dir, Throttling& t) {
  if (auto f = read_opt(dir, "cpu.stat"))
    for_each_key(*f, [&](std::string_view k, std::uint64_t v) {
      if (k == "nr_periods") t.periods = v;
      else if (k == "nr_throttled") t.throttled_periods = v;
      else if (k == "throttled_time") t.throttled_time = v;
    });
}

std::vector<std::uint64_t> number_list(const File& f) {
  std::vector<std::uint64_t> out;
  for (std::string_view w : split(f.text, " \t\n")) {
    const auto n = to_u64(w);
    if (!n) malformed(f.path, fmt::format("expected a number, got `{}`", w));
    out.push_back(*n);
  }
  return out;
}

// cpuacct.stat counts in USER_HZ ticks. Split so that ticks * 1e9 cannot overflow.
std::uint64_t ticks_to_ns(std::uint64_t ticks) {
  static const std::uint64_t hz = [] {
    const long v = ::sysconf(_SC_CLK_TCK);
    return v > 0 ? static_cast<std::uint64_t>(v) : 100;
  }();
  return ticks / hz * kNsPerSec + ticks % hz * kNsPerSec / hz;
}

void read_cpuacct_v1(const std::string& dir, CpuUsage& u) {
  u.total = single_u64(read_req(dir, "cpuacct.usage"));
  if (auto f = read_opt(dir, "cpuacct.usage_percpu")) u.percpu = number_list(*f);
  if (auto f = read_opt(dir, "cpuacct.stat"))
    for_each_key(*f, [&](std::string_view k, std::uint64_t v) {
      if (k == "user") u.user = ticks_to_ns(v);
      else if (k == "system") u.kernel = ticks_to_ns(v);
    });
  // "cpu user system" then one "<cpu> <user ns> <system ns>" line per CPU (Linux 4.7+).
  if (auto f = read_opt(dir, "cpuacct.usage_all")) {
    bool header = true;
    for_each_line(f->text, [&](std::string_view line) {
      if (std::exchange(header, false)) return;
      const auto parts = split(line);
      std::optional<std::uint64_t> user, sys;
      if (parts.size() == 3) {
        user = to_u64(parts[1]);
        sys = to_u64(parts[2]);
      }
      if (!user || !sys) malformed(f->path, fmt::format("expected `<cpu> <user> <system>`, got `{}`", line));
      u.percpu_user.push_back(*user);
      u.percpu_kernel.push_back(*sys);
    });
  }
}

void read_cpu_v2(const std::string& dir, bool required, CpuStats& c) {
  if (auto f = read_either(dir, "cpu.stat", required))
    for_each_key(*f, [&](std::string_view k, std::uint64_t v) {
      if (k == "usage_usec") c.usage.total = v * kNsPerUsec;
      else if (k == "user_usec") c.usage.user = v * kNsPerUsec;
      else if (k == "system_usec") c.usage.kernel = v * kNsPerUsec;
      else if (k == "nr_periods") c.throttling.periods = v;
      else if (k == "nr_throttled") c.throttling.throttled_periods = v;
      else if (k == "throttled_usec") c.throttling.throttled_time = v * kNsPerUsec;
    });
  c.psi = read_psi(dir, "cpu.pressure");
}

// --- cpuset ------------------------------------------------------------------------------

// "0-3,8,10-11"
std::vector<std::uint16_t> cpu_list(const File& f) {
  std::vector<std::uint16_t> out;
  for (std::string_view item : split(trim(f.text), ",")) {
    const size_t dash = item.find('-');
    const std::string_view a = item.substr(0, dash);
    const std::string_view b = dash == std::string_view::npos ? a : item.substr(dash + 1);
    std::uint16_t from = 0, to = 0;
    const auto r1 = std::from_chars(a.data(), a.data() + a.size(), from);
    const auto r2 = std::from_chars(b.data(), b.data() + b.size(), to);
    if (a.empty() || b.empty() || r1.ec != std::errc() || r1.ptr != a.data() + a.size() ||
        r2.ec != std::errc() || r2.ptr != b.data() + b.size() || from > to)
      malformed(f.path, fmt::format("bad list item `{}`", item));
    for (unsigned i = from; i <= to; ++i) out.push_back(static_cast<std::uint16_t>(i));
  }
  return out;
}

void read_cpuset_v1(const std::string& dir, CpusetStats& c) {
  c.cpus = cpu_list(read_req(dir, "cpuset.cpus"));
  if (auto f = read_opt(dir, "cpuset.mems")) c.mems = cpu_list(*f);
  read_u64(dir, "cpuset.cpu_exclusive", c.cpu_exclusive);
  read_u64(dir, "cpuset.mem_hardwall", c.mem_hardwall);
  read_u64(dir, "cpuset.mem_exclusive", c.mem_exclusive);
  read_u64(dir, "cpuset.memory_migrate", c.memory_migrate);
  read_u64(dir, "cpuset.memory_spread_page", c.memory_spread_page);
  read_u64(dir, "cpuset.memory_spread_slab", c.memory_spread_slab);
  read_u64(dir, "cpuset.memory_pressure", c.memory_pressure);
  read_u64(dir, "cpuset.sched_load_balance", c.sched_load_balance);
  if (auto f = read_opt(dir, "cpuset.sched_relax_domain_level")) {
    const std::string_view v = trim(f->text);
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), c.sched_relax_domain_level);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size())
      malformed(f->path, fmt::format("expected a number, got `{}`", v));
  }
}

// --- memory ------------------------------------------------------------------------------

void read_raw(const File& f, MemoryStats& m) {
  for_each_key(f, [&](std::string_view k, std::uint64_t v) { m.raw[std::string(k)] = v; });
}

// <prefix>.{usage_in_bytes,max_usage_in_bytes,failcnt,limit_in_bytes}
void read_entry_v1(const std::string& dir, std::string_view prefix, MemoryEntry& e) {
  read_u64(dir, fmt::format("{}.usage_in_bytes", prefix), e.usage);
  read_u64(dir, fmt::format("{}.max_usage_in_bytes", prefix), e.max);
  read_u64(dir, fmt::format("{}.failcnt", prefix), e.failcnt);
  read_u64(dir, fmt::format("{}.limit_in_bytes", prefix), e.limit);
}

void read_memory_v1(const std::string& dir, MemoryStats& m) {
  m.usage.usage = single_u64(read_req(dir, "memory.usage_in_bytes"));
  if (auto f = read_opt(dir, "memory.stat")) read_raw(*f, m);
  if (auto it = m.raw.find("cache"); it != m.raw.end()) m.cache = it->second;
  read_u64(dir, "memory.max_usage_in_bytes", m.usage.max);
  read_u64(dir, "memory.failcnt", m.usage.failcnt);
  read_u64(dir, "memory.limit_in_bytes", m.usage.limit);
  // Each of these exists only with swap accounting / kernel memory accounting built in.
  read_entry_v1(dir, "memory.memsw", m.swap);
  read_entry_v1(dir, "memory.kmem", m.kernel);
  read_entry_v1(dir, "memory.kmem.tcp", m.kernel_tcp);
}

void read_memory_v2(const std::string& dir, MemoryStats& m) {
  if (auto f = read_opt(dir, "memory.stat")) read_raw(*f, m);
  if (auto it = m.raw.find("file"); it != m.raw.end()) m.cache = it->second;
  m.psi = read_psi(dir, "memory.pressure");
  auto current = read_opt(dir, "memory.current");
  if (!current) return;  // the memory controller is not enabled for this cgroup
  m.usage.usage = single_u64(*current);
  read_u64(dir, "memory.max", m.usage.limit);
  read_u64(dir, "memory.peak", m.usage.max);  // Linux 5.19+
  // runc leaves failcnt 0 on v2; "max" here counts what v1's failcnt counted, hitting the limit.
  m.usage.failcnt = keyed_value(dir, "memory.events", "max").value_or(0);

  // v1's memsw is memory plus swap; runc reports v2 the same way for readers written for v1,
  // and leaves the combined peak at 0 since it cannot be derived.
  MemoryEntry swap_only;
  if (auto f = read_opt(dir, "memory.swap.current")) {  // absent without swap accounting
    swap_only.usage = single_u64(*f);
    read_u64(dir, "memory.swap.max", swap_only.limit);
  }
  m.swap.usage = saturating_add(swap_only.usage, m.usage.usage);
  m.swap.limit = swap_only.limit == kMax ? kMax : saturating_add(swap_only.limit, m.usage.limit);
}

// --- pids --------------------------------------------------------------------------------

void read_pids(const std::string& dir, bool required, PidsStats& p) {
  if (auto f = read_either(dir, "pids.current", required)) p.current = single_u64(*f);
  if (auto f = read_opt(dir, "pids.max")) {
    // runc reports "max" (no limit) as 0, which its omitempty then leaves out.
    if (trim(f->text) != "max") p.limit = single_u64(*f);
  }
}

// --- blkio / io --------------------------------------------------------------------------

// "8:0 Read 1282048" lines, "8:0 6792" (no op) in sectors and time files; the "Total 3477504"
// summary line is skipped.
std::vector<BlkioEntry> read_blkio_file(const std::string& dir, std::string_view name) {
  std::vector<BlkioEntry> out;
  const auto f = read_opt(dir, name);
  if (!f) return out;
  for_each_line(f->text, [&](std::string_view line) {
    const auto parts = split(line, " \t:");
    if (parts.size() == 2 && parts[0] == "Total") return;
    std::optional<std::uint64_t> major, minor, value;
    BlkioEntry e;
    if (parts.size() == 3 || parts.size() == 4) {
      major = to_u64(parts[0]);
      minor = to_u64(parts[1]);
      value = to_u64(parts.back());
      if (parts.size() == 4) e.op = std::string(parts[2]);
    }
    if (!major || !minor || !value)
      malformed(f->path, fmt::format("expected `<major>:<minor> [<op>] <value>`, got `{}`", line));
    e.major = *major;
    e.minor = *minor;
    e.value = *value;
    out.push_back(std::move(e));
  });
  return out;
}

using BlkioList = std::vector<BlkioEntry> BlkioStats::*;
struct BlkioSource {
  const char* file;
  BlkioList list;
};

// runc's order of preference (libcontainer/cgroups/fs/blkio.go): the I/O scheduler's own
// counters (bfq with its debug files, bfq, cfq), then the throttle layer's. Which set a kernel
// fills depends on the scheduler, so a group whose first file is absent or empty gives way
// to the next.
constexpr BlkioSource kBfqDebug[] = {
    {"blkio.bfq.sectors_recursive", &BlkioStats::sectors_recursive},
    {"blkio.bfq.io_service_time_recursive", &BlkioStats::io_service_time_recursive},
    {"blkio.bfq.io_wait_time_recursive", &BlkioStats::io_wait_time_recursive},
    {"blkio.bfq.io_merged_recursive", &BlkioStats::io_merged_recursive},
    {"blkio.bfq.io_queued_recursive", &BlkioStats::io_queue_recursive},
    {"blkio.bfq.time_recursive", &BlkioStats::io_time_recursive},
    {"blkio.bfq.io_serviced_recursive", &BlkioStats::io_serviced_recursive},
    {"blkio.bfq.io_service_bytes_recursive", &BlkioStats::io_service_bytes_recursive},
};
constexpr BlkioSource kBfq[] = {
    {"blkio.bfq.io_serviced_recursive", &BlkioStats::io_serviced_recursive},
    {"blkio.bfq.io_service_bytes_recursive", &BlkioStats::io_service_bytes_recursive},
};
constexpr BlkioSource kCfq[] = {
    {"blkio.sectors_recursive", &BlkioStats::sectors_recursive},
    {"blkio.io_service_time_recursive", &BlkioStats::io_service_time_recursive},
    {"blkio.io_wait_time_recursive", &BlkioStats::io_wait_time_recursive},
    {"blkio.io_merged_recursive", &BlkioStats::io_merged_recursive},
    {"blkio.io_queued_recursive", &BlkioStats::io_queue_recursive},
    {"blkio.time_recursive", &BlkioStats::io_time_recursive},
    {"blkio.io_serviced_recursive", &BlkioStats::io_serviced_recursive},
    {"blkio.io_service_bytes_recursive", &BlkioStats::io_service_bytes_recursive},
};
constexpr BlkioSource kThrottleRecursive[] = {
    {"blkio.throttle.io_serviced_recursive", &BlkioStats::io_serviced_recursive},
    {"blkio.throttle.io_service_bytes_recursive", &BlkioStats::io_service_bytes_recursive},
};
constexpr BlkioSource kThrottle[] = {
    {"blkio.throttle.io_serviced", &BlkioStats::io_serviced_recursive},
    {"blkio.throttle.io_service_bytes", &BlkioStats::io_service_bytes_recursive},
};
constexpr std::span<const BlkioSource> kBlkioGroups[] = {kBfqDebug, kBfq, kCfq, kThrottleRecursive, kThrottle};

void read_blkio_v1(const std::string& dir, BlkioStats& b) {
  for (const auto group : kBlkioGroups) {
    auto first = read_blkio_file(dir, group.front().file);
    if (first.empty()) continue;
    b.*group.front().list = std::move(first);
    for (const BlkioSource& src : group.subspan(1)) b.*src.list = read_blkio_file(dir, src.file);
    return;
  }
}

// io.stat: "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0", turned
// into v1's tables as runc's fs2 does: bytes and ios as Read/Write, the rest dropped.
struct IoKey {
  std::string_view key;
  BlkioList list;
  const char* op;
};
constexpr IoKey kIoKeys[] = {
    {"rbytes", &BlkioStats::io_service_bytes_recursive, "Read"},
    {"wbytes", &BlkioStats::io_service_bytes_recursive, "Write"},
    {"rios", &BlkioStats::io_serviced_recursive, "Read"},
    {"wios", &BlkioStats::io_serviced_recursive, "Write"},
};

void read_io_v2(const std::string& dir, BlkioStats& b) {
  b.psi = read_psi(dir, "io.pressure");
  const auto f = read_opt(dir, "io.stat");
  if (!f) return;
  for_each_line(f->text, [&](std::string_view line) {
    const auto parts = split(line);
    if (parts.size() < 2) return;
    const size_t colon = parts[0].find(':');
    if (colon == std::string_view::npos) return;
    const auto major = to_u64(parts[0].substr(0, colon));
    const auto minor = to_u64(parts[0].substr(colon + 1));
    if (!major || !minor) malformed(f->path, fmt::format("bad device in `{}`", line));
    for (size_t i = 1; i < parts.size(); ++i) {
      const size_t eq = parts[i].find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view key = parts[i].substr(0, eq);
      const auto* k = std::find_if(std::begin(kIoKeys), std::end(kIoKeys), [&](const IoKey& x) { return x.key == key; });
      if (k == std::end(kIoKeys)) continue;
      const auto value = to_u64(parts[i].substr(eq + 1));
      if (!value) malformed(f->path, fmt::format("bad value `{}`", parts[i]));
      (b.*k->list).push_back(BlkioEntry{*major, *minor, k->op, *value});
    }
  });
}

// --- hugetlb -----------------------------------------------------------------------------

// The names in dir; empty when it does not exist and !required.
std::set<std::string> list_dir(const std::string& dir, bool required) {
  std::set<std::string> out;
  sys::Dir d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT && !required) return out;
    throw_errno("opendir", dir);
  }
  for (;;) {
    errno = 0;  // readdir's NULL means the end or, with errno set, an error
    const dirent* e = ::readdir(d.get());
    if (!e) break;
    out.emplace(e->d_name);
  }
  if (errno != 0) throw_errno("readdir", dir);
  return out;
}

// The page sizes a hugetlb directory has counters for: "hugetlb.2MB.current" -> "2MB". Listing
// the directory gives the kernel's own names for them, which /sys/kernel/mm/hugepages spells
// differently ("hugepages-2048kB").
std::vector<std::string> page_sizes(const std::set<std::string>& names, std::string_view suffix) {
  constexpr std::string_view kPrefix = "hugetlb.";
  std::vector<std::string> out;
  for (std::string_view n : names) {
    if (n.size() <= kPrefix.size() + suffix.size() || !n.starts_with(kPrefix) || !n.ends_with(suffix))
      continue;
    const std::string_view size = n.substr(kPrefix.size(), n.size() - kPrefix.size() - suffix.size());
    if (size.find('.') == std::string_view::npos) out.emplace_back(size);  // not "2MB.rsvd"
  }
  return out;
}

// runc prefers the reservation counters (Linux 5.7+) where the kernel has them: they charge
// pages when a mapping reserves them, which is when a limit runc sets on both takes effect.
void read_hugetlb_v1(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
  const auto names = list_dir(dir, /*required=*/true);
  for (const std::string& size : page_sizes(names, ".usage_in_bytes")) {
    std::string prefix = fmt::format("hugetlb.{}.rsvd", size);
    if (!names.contains(prefix + ".usage_in_bytes")) prefix = fmt::format("hugetlb.{}", size);
    HugetlbStats h;
    read_u64(dir, prefix + ".usage_in_bytes", h.usage);
    read_u64(dir, prefix + ".max_usage_in_bytes", h.max);
    read_u64(dir, prefix + ".failcnt", h.failcnt);
    out[size] = h;
  }
}

void read_hugetlb_v2(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
  const auto names = list_dir(dir, /*required=*/false);
  for (const std::string& size : page_sizes(names, ".current")) {
    const std::string rsvd = fmt::format("hugetlb.{}.rsvd.current", size);
    HugetlbStats h;
    read_u64(dir, names.contains(rsvd) ? rsvd : fmt::format("hugetlb.{}.current", size), h.usage);
    // There is no rsvd.events (runc asks for one and so loses these stats on 5.7+ kernels).
    h.failcnt = keyed_value(dir, fmt::format("hugetlb.{}.events", size), "max").value_or(0);
    out[size] = h;
  }
}

// --- network -----------------------------------------------------------------------------

std::vector<NetworkInterface> read_interfaces(pid_t pid) {
  const auto theirs = proc::ns_id(pid, "net");
  // Gone: nothing to report rather than a failed stats call.
  if (!theirs) return {};
  // Sharing berth's namespace, these would be the host's interfaces; runc has none to report
  // for such a container either.
  if (theirs == proc::ns_id(::getpid(), "net")) return {};
  const auto f = read_opt(fmt::format("/proc/{}", pid), "net/dev");
  if (!f) return {};
  auto all = parse_net_dev(f->text, f->path);
  // runc reports only the veth pairs it made itself, never the loopback.
  std::erase_if(all, [](const NetworkInterface& i) { return i.name == "lo"; });
  return all;
}

// --- json --------------------------------------------------------------------------------

// Go's omitempty: a zero number is left out.
void put_nz(json::object& o, std::string_view key, std::uint64_t v) {
  if (v != 0) o[key] = v;
}

template <class T>
void put_list(json::object& o, std::string_view key, const std::vector<T>& v) {
  if (v.empty()) return;
  json::array a;
  a.reserve(v.size());
  for (const T& x : v) a.emplace_back(static_cast<std::uint64_t>(x));
  o[key] = std::move(a);
}

bool is_zero(const PsiData& d) { return d.avg10 == 0 && d.avg60 == 0 && d.avg300 == 0 && d.total == 0; }

json::object psi_data(const PsiData& d) {
  return {{"avg10", d.avg10}, {"avg60", d.avg60}, {"avg300", d.avg300}, {"total", d.total}};
}

// runc's PSIStats tags are omitzero: an all-zero "full" line is left out.
void put_psi(json::object& o, const std::optional<PsiStats>& p) {
  if (!p) return;
  json::object j;
  if (!is_zero(p->some)) j["some"] = psi_data(p->some);
  if (!is_zero(p->full)) j["full"] = psi_data(p->full);
  o["psi"] = std::move(j);
}

json::object memory_entry(const MemoryEntry& e) {
  json::object o;
  o["limit"] = e.limit;
  put_nz(o, "usage", e.usage);
  put_nz(o, "max", e.max);
  o["failcnt"] = e.failcnt;
  return o;
}

void put_blkio(json::object& o, std::string_view key, const std::vector<BlkioEntry>& list) {
  if (list.empty()) return;
  json::array a;
  a.reserve(list.size());
  for (const BlkioEntry& e : list) {
    json::object j;
    put_nz(j, "major", e.major);
    put_nz(j, "minor", e.minor);
    if (!e.op.empty()) j["op"] = e.op;
    put_nz(j, "value", e.value);
    a.emplace_back(std::move(j));
  }
  o[key] = std::move(a);
}

}  // namespace

std::vector<NetworkInterface> parse_net_dev(std::string_view text, std::string_view path) {
  // Inter-|   Receive                                                |  Transmit
  //  face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets ...
  //   eth0: 39209300    1341    0    0    0     0          0         0    66488     871 ...
  std::vector<NetworkInterface> out;
  for_each_line(text, [&](std::string_view line) {
    if (line.find('|') != std::string_view::npos) return;  // the two header lines
    // The name is padded, and the counters follow the colon without a space once they are wide.
    const size_t colon = line.rfind(':');
    std::vector<std::string_view> v;
    if (colon != std::string_view::npos) v = split(line.substr(colon + 1));
    const std::string_view name = colon == std::string_view::npos ? "" : trim(line.substr(0, colon));
    std::uint64_t n[16] = {};
    bool ok = !name.empty() && v.size() >= 16;
    for (size_t i = 0; ok && i < 16; ++i) {
      const auto x = to_u64(v[i]);
      ok = x.has_value();
      n[i] = x.value_or(0);
    }
    if (!ok) malformed(path, fmt::format("expected `<name>: <16 counters>`, got `{}`", trim(line)));
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes
    // packets errs drop fifo colls carrier compressed.
    out.push_back(NetworkInterface{.name = std::string(name),
                                   .rx_bytes = n[0], .rx_packets = n[1], .rx_errors = n[2], .rx_dropped = n[3],
                                   .tx_bytes = n[8], .tx_packets = n[9], .tx_errors = n[10], .tx_dropped = n[11]});
  });
  return out;
}

Stats read_stats(const Paths& paths, pid_t init_pid) {
  Stats s;
  const std::string& v2 = paths.unified;
  // cpu.stat is in every cgroup2 directory, controller or not, so on a unified host it tells
  // a cgroup that is gone from one with nothing enabled.
  const bool unified_host = paths.mode == Mode::Unified;

  // Each controller from its v1 hierarchy when it has one, else from the cgroup2 directory.
  const std::string& cpu = paths.v1_dir("cpu");
  const std::string& cpuacct = paths.v1_dir("cpuacct");
  if (!cpu.empty() || !cpuacct.empty()) {
    if (!cpu.empty()) read_cpu_v1(cpu, s.cpu.throttling);
    if (!cpuacct.empty()) read_cpuacct_v1(cpuacct, s.cpu.usage);
  } else if (!v2.empty()) {
    read_cpu_v2(v2, unified_host, s.cpu);
  }

  if (const std::string& d = paths.v1_dir("cpuset"); !d.empty()) read_cpuset_v1(d, s.cpuset);

  if (const std::string& d = paths.v1_dir("memory"); !d.empty()) read_memory_v1(d, s.memory);
  else if (!v2.empty()) read_memory_v2(v2, s.memory);

  if (const std::string& d = paths.v1_dir("pids"); !d.empty()) read_pids(d, /*required=*/true, s.pids);
  else if (!v2.empty()) read_pids(v2, /*required=*/false, s.pids);

  if (const std::string& d = paths.v1_dir("blkio"); !d.empty()) read_blkio_v1(d, s.blkio);
  else if (!v2.empty()) read_io_v2(v2, s.blkio);

  if (const std::string& d = paths.v1_dir("hugetlb"); !d.empty()) read_hugetlb_v1(d, s.hugetlb);
  else if (!v2.empty()) read_hugetlb_v2(v2, s.hugetlb);

  if (init_pid > 0) s.network_interfaces = read_interfaces(init_pid);
  return s;
}

json::value to_json(const Stats& s) {
  json::object usage;
  put_nz(usage, "total", s.cpu.usage.total);
  put_list(usage, "percpu", s.cpu.usage.percpu);
  put_list(usage, "percpu_kernel", s.cpu.usage.percpu_kernel);
  put_list(usage, "percpu_user", s.cpu.usage.percpu_user);
  usage["kernel"] = s.cpu.usage.kernel;
  usage["user"] = s.cpu.usage.user;
  json::object throttling;
  put_nz(throttling, "periods", s.cpu.throttling.periods);
  put_nz(throttling, "throttledPeriods", s.cpu.throttling.throttled_periods);
  put_nz(throttling, "throttledTime", s.cpu.throttling.throttled_time);
  json::object cpu{{"usage", std::move(usage)}, {"throttling", std::move(throttling)}};
  put_psi(cpu, s.cpu.psi);

  const CpusetStats& cs = s.cpuset;
  json::object cpuset;
  put_list(cpuset, "cpus", cs.cpus);
  cpuset["cpu_exclusive"] = cs.cpu_exclusive;
  put_list(cpuset, "mems", cs.mems);
  cpuset["mem_hardwall"] = cs.mem_hardwall;
  cpuset["mem_exclusive"] = cs.mem_exclusive;
  cpuset["memory_migrate"] = cs.memory_migrate;
  cpuset["memory_spread_page"] = cs.memory_spread_page;
  cpuset["memory_spread_slab"] = cs.memory_spread_slab;
  cpuset["memory_pressure"] = cs.memory_pressure;
  cpuset["sched_load_balance"] = cs.sched_load_balance;
  cpuset["sched_relax_domain_level"] = cs.sched_relax_domain_level;

  json::object memory;
  put_nz(memory, "cache", s.memory.cache);
  memory["usage"] = memory_entry(s.memory.usage);
  memory["swap"] = memory_entry(s.memory.swap);
  memory["kernel"] = memory_entry(s.memory.kernel);
  memory["kernelTCP"] = memory_entry(s.memory.kernel_tcp);
  if (!s.memory.raw.empty()) {
    json::object raw;
    for (const auto& [k, v] : s.memory.raw) raw[k] = v;
    memory["raw"] = std::move(raw);
  }
  put_psi(memory, s.memory.psi);

  json::object pids;
  put_nz(pids, "current", s.pids.current);
  put_nz(pids, "limit", s.pids.limit);

  const BlkioStats& b = s.blkio;
  json::object blkio;
  put_blkio(blkio, "ioServiceBytesRecursive", b.io_service_bytes_recursive);
  put_blkio(blkio, "ioServicedRecursive", b.io_serviced_recursive);
  put_blkio(blkio, "ioQueueRecursive", b.io_queue_recursive);
  put_blkio(blkio, "ioServiceTimeRecursive", b.io_service_time_recursive);
  put_blkio(blkio, "ioWaitTimeRecursive", b.io_wait_time_recursive);
  put_blkio(blkio, "ioMergedRecursive", b.io_merged_recursive);
  put_blkio(blkio, "ioTimeRecursive", b.io_time_recursive);
  put_blkio(blkio, "sectorsRecursive", b.sectors_recursive);
  put_psi(blkio, b.psi);

  json::object hugetlb;
  for (const auto& [size, h] : s.hugetlb) {
    json::object j;
    put_nz(j, "usage", h.usage);
    put_nz(j, "max", h.max);
    j["failcnt"] = h.failcnt;
    hugetlb[size] = std::move(j);
  }

  // runc's NetworkInterface has no json tags, so its keys are the Go field names.
  json::value interfaces;  // null, as runc's nil slice
  if (!s.network_interfaces.empty()) {
    json::array a;
    for (const NetworkInterface& i : s.network_interfaces)
      a.emplace_back(json::object{{"Name", i.name},
                                  {"RxBytes", i.rx_bytes},
                                  {"RxPackets", i.rx_packets},
                                  {"RxErrors", i.rx_errors},
                                  {"RxDropped", i.rx_dropped},
                                  {"TxBytes", i.tx_bytes},
                                  {"TxPackets", i.tx_packets},
                                  {"TxErrors", i.tx_errors},
                                  {"TxDropped", i.tx_dropped}});
    interfaces = std::move(a);
  }

  return json::object{{"cpu", std::move(cpu)},
                      {"cpuset", std::move(cpuset)},
                      {"memory", std::move(memory)},
                      {"pids", std::move(pids)},
                      {"blkio", std::move(blkio)},
                      {"hugetlb", std::move(hugetlb)},
                      {"intel_rdt", json::object{}},  // berth has no Intel RDT support
                      {"network_interfaces", std::move(interfaces)}};
}

}  // namespace berth::cgroups
