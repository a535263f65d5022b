// The statistics behind `berth events --stats`: a container's cgroup counters (v1, v2, or a
// hybrid host's mix) and its network interfaces, shaped as runc's types.Stats
// (runc/types/events.go) so that consumers of `runc events` (containerd, podman) parse ours.
//
// Units follow runc: CPU times in nanoseconds (v2's microseconds and v1's cpuacct.stat ticks
// are converted), memory and I/O in bytes. "No limit" is what the kernel file says: v1's
// 9223372036854771712, v2's "max" as 2^64-1; pids.max "max" is 0, as runc reports it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "runtime/cgroups/layout.hpp"

namespace berth::cgroups {

// One line of a v2 *.pressure file.
struct PsiData {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  std::uint64_t total = 0;  // microseconds stalled
};
struct PsiStats {
  PsiData some, full;
};

struct CpuUsage {
  std::uint64_t total = 0;
  std::vector<std::uint64_t> percpu;         // v1 only
  std::vector<std::uint64_t> percpu_kernel;  // v1 cpuacct.usage_all only
  std::vector<std::uint64_t> percpu_user;
  std::uint64_t kernel = 0;
  std::uint64_t user = 0;
};

struct Throttling {
  std::uint64_t periods = 0;
  std::uint64_t throttled_periods = 0;
  std::uint64_t throttled_time = 0;
};

struct CpuStats {
  CpuUsage usage;
  Throttling throttling;
  std::optional<PsiStats> psi;  // v2 only, when the kernel has PSI
};

// v1 only, as runc: the v2 cpuset controller has no counters worth reporting.
struct CpusetStats {
  std::vector<std::uint16_t> cpus;
  std::uint64_t cpu_exclusive = 0;
  std::vector<std::uint16_t> mems;
  std::uint64_t mem_hardwall = 0;
  std::uint64_t mem_exclusive = 0;
  std::uint64_t memory_migrate = 0;
  std::uint64_t memory_spread_page = 0;
  std::uint64_t memory_spread_slab = 0;
  std::uint64_t memory_pressure = 0;
  std::uint64_t sched_load_balance = 0;
  std::int64_t sched_relax_domain_level = 0;
};

struct MemoryEntry {
  std::uint64_t limit = 0;
  std::uint64_t usage = 0;
  std::uint64_t max = 0;  // peak usage
  std::uint64_t failcnt = 0;
};

struct MemoryStats {
  std::uint64_t cache = 0;  // memory.stat "cache" (v1) or "file" (v2)
  // On v2, failcnt is memory.events "max" (the limit was hit), where runc leaves 0.
  MemoryEntry usage;
  // Memory plus swap, on v2 too (runc adds memory.current to memory.swap.current so that
  // readers written for v1 see the same meaning).
  MemoryEntry swap;
  MemoryEntry kernel;      // v1 memory.kmem.*
  MemoryEntry kernel_tcp;  // v1 memory.kmem.tcp.*
  std::map<std::string, std::uint64_t> raw;  // memory.stat as is
  std::optional<PsiStats> psi;
};

struct PidsStats {
  std::uint64_t current = 0;
  std::uint64_t limit = 0;  // 0: no limit
};

struct BlkioEntry {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total"; "" for sectors
  std::uint64_t value = 0;
  friend bool operator==(const BlkioEntry&, const BlkioEntry&) = default;
};

struct BlkioStats {
  std::vector<BlkioEntry> io_service_bytes_recursive;
  std::vector<BlkioEntry> io_serviced_recursive;
  std::vector<BlkioEntry> io_queue_recursive;
  std::vector<BlkioEntry> io_service_time_recursive;
  std::vector<BlkioEntry> io_wait_time_recursive;
  std::vector<BlkioEntry> io_merged_recursive;
  std::vector<BlkioEntry> io_time_recursive;
  std::vector<BlkioEntry> sectors_recursive;
  std::optional<PsiStats> psi;
};

struct HugetlbStats {
  std::uint64_t usage = 0;
  std::uint64_t max = 0;  // peak usage; v1 only
  std::uint64_t failcnt = 0;
};

// Counters as the container sees them (its receive is its receive).
struct NetworkInterface {
  std::string name;
  std::uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  std::uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

struct Stats {
  CpuStats cpu;
  CpusetStats cpuset;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // by page size as the kernel names it: "2MB"
  std::vector<NetworkInterface> network_interfaces;
};

// Reads the counters of the cgroup at `paths`. Each controller is read from its v1 directory
// when it has one, else from paths.unified (all of them on a unified host; on a hybrid host
// those bound to no v1 hierarchy, typically hugetlb). A file the kernel lacks is skipped; a
// file that cannot be parsed is an Error naming it.
//
// init_pid > 0 adds the interfaces of init's network namespace (/proc/<pid>/net/dev) except
// the loopback, which runc never reports; none when init shares berth's own namespace (those
// would be the host's) or has exited.
Stats read_stats(const Paths& paths, pid_t init_pid);

// The `data` of runc's stats event ({"type":"stats","id":...,"data":...}), with runc's keys,
// key order and omitempty rules: zero numbers and empty lists are left out where runc's tags
// say omitempty, sections (cpu, memory, ...) are always present, and network_interfaces is
// null when there are none.
boost::json::value to_json(const Stats& s);

// Parses the text of /proc/<pid>/net/dev: every interface, loopback included. `path` only
// names the file in errors.
std::vector<NetworkInterface> parse_net_dev(std::string_view text, std::string_view path = "/proc/net/dev");

}  // namespace berth::cgroups
