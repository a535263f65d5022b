// linux.resources on cgroup v2 (the kernel's cgroup-v2 documentation), with the spec's v1-style
// values translated as runc and crun do.
#include <fcntl.h>

#include <spdlog/spdlog.h>

#include "runtime/cgroups/devices_bpf.hpp"
#include "runtime/cgroups/files.hpp"
#include "runtime/cgroups/resources.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::cgroups::v2 {

namespace {

std::string num(std::int64_t v) { return std::to_string(v); }
std::string max_or(std::int64_t v) { return v < 0 ? "max" : std::to_string(v); }

[[noreturn]] void no_v2(std::string_view field, std::string_view why) {
  throw Error(fmt::format("{}: not available on cgroup v2 ({})", field, why));
}

}  // namespace

void set_memory(const std::string& dir, const oci::LinuxMemory& m) {
  const std::int64_t limit = m.limit.value_or(0);
  if (m.swappiness) no_v2("linux.resources.memory.swappiness", "cgroup v2 has no per-cgroup swappiness");
  if (m.disable_oom_killer.value_or(false)) no_v2("linux.resources.memory.disableOOMKiller", "cgroup v2 has no OOM-killer switch");
  if (m.use_hierarchy && !*m.use_hierarchy) no_v2("linux.resources.memory.useHierarchy", "cgroup v2 is always hierarchical");
  if (m.kernel_tcp && *m.kernel_tcp != 0) no_v2("linux.resources.memory.kernelTCP", "cgroup v2 has no separate TCP limit");
  if (m.kernel && *m.kernel != 0)
    spdlog::warn("linux.resources.memory.kernel: kernel memory limits are deprecated and ignored (as runc)");
  if (m.check_before_update.value_or(false) && limit > 0) {
    const auto usage = read(dir, "memory.current");
    if (usage && std::stoll(*usage) > limit)
      throw Error(fmt::format("linux.resources.memory.limit: {} is below the current usage {} (checkBeforeUpdate)", limit,
                              *usage));
  }
  const std::string swap = with_context("linux.resources.memory.swap", [&] { return swap_to_v2(limit, m.swap.value_or(0)); });
  // As in v1, never let memory exceed the old swap bound midway: swap first when raising.
  if (!swap.empty()) write_field("linux.resources.memory.swap", dir, "memory.swap.max", swap);
  if (limit != 0) write_field("linux.resources.memory.limit", dir, "memory.max", max_or(limit));
  if (m.reservation && *m.reservation != 0)
    write_field("linux.resources.memory.reservation", dir, "memory.low", max_or(*m.reservation));
}

void set_cpu(const std::string& dir, const oci::LinuxCpu& c) {
  if (c.realtime_runtime && *c.realtime_runtime != 0) no_v2("linux.resources.cpu.realtimeRuntime", "no realtime group scheduling");
  if (c.realtime_period && *c.realtime_period != 0) no_v2("linux.resources.cpu.realtimePeriod", "no realtime group scheduling");
  if (c.shares && *c.shares != 0)
    write_field("linux.resources.cpu.shares", dir, "cpu.weight", std::to_string(shares_to_weight(*c.shares)));
  const std::int64_t quota = c.quota.value_or(0);
  const std::uint64_t period = c.period.value_or(0);
  if (quota != 0 || period != 0) {
    std::string v = quota > 0 ? num(quota) : "max";
    v += " " + std::to_string(period != 0 ? period : 100000);
    write_field(quota != 0 ? "linux.resources.cpu.quota" : "linux.resources.cpu.period", dir, "cpu.max", v);
  }
  if (c.burst) write_field("linux.resources.cpu.burst", dir, "cpu.max.burst", std::to_string(*c.burst));
  if (c.idle) write_field("linux.resources.cpu.idle", dir, "cpu.idle", num(*c.idle));
}

void set_cpuset(const std::string& dir, const oci::LinuxCpu& c) {
  if (c.cpus && !c.cpus->empty()) write_field("linux.resources.cpu.cpus", dir, "cpuset.cpus", *c.cpus);
  if (c.mems && !c.mems->empty()) write_field("linux.resources.cpu.mems", dir, "cpuset.mems", *c.mems);
}

void set_pids(const std::string& dir, const oci::LinuxPids& p) {
  if (!p.limit || *p.limit == 0) return;
  write_field("linux.resources.pids.limit", dir, "pids.max", max_or(*p.limit));
}

void set_io(const std::string& dir, const oci::LinuxBlockIo& b) {
  // io.bfq.weight takes blkio's range unchanged; io.weight needs it converted.
  const bool bfq = exists(dir, "io.bfq.weight");
  if (b.leaf_weight && *b.leaf_weight != 0) no_v2("linux.resources.blockIO.leafWeight", "cgroup v2 has no leaf weights");
  if (b.weight && *b.weight != 0)
    write_field("linux.resources.blockIO.weight", dir, bfq ? "io.bfq.weight" : "io.weight",
                std::to_string(bfq ? *b.weight : blkio_to_io_weight(*b.weight)));
  if (b.weight_device)
    for (size_t i = 0; i < b.weight_device->size(); ++i) {
      const auto& w = (*b.weight_device)[i];
      if (w.leaf_weight) no_v2(fmt::format("linux.resources.blockIO.weightDevice[{}].leafWeight", i), "no leaf weights");
      if (!w.weight) continue;
      write_field(fmt::format("linux.resources.blockIO.weightDevice[{}].weight", i), dir, bfq ? "io.bfq.weight" : "io.weight",
                  fmt::format("{}:{} {}", w.major, w.minor, bfq ? *w.weight : blkio_to_io_weight(*w.weight)));
    }
  auto throttle = [&](const std::optional<std::vector<oci::LinuxThrottleDevice>>& list, const char* field, const char* key) {
    if (!list) return;
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& t = (*list)[i];
      write_field(fmt::format("linux.resources.blockIO.{}[{}]", field, i), dir, "io.max",
                  fmt::format("{}:{} {}={}", t.major, t.minor, key, t.rate == 0 ? std::string("max") : std::to_string(t.rate)));
    }
  };
  throttle(b.throttle_read_bps_device, "throttleReadBpsDevice", "rbps");
  throttle(b.throttle_write_bps_device, "throttleWriteBpsDevice", "wbps");
  throttle(b.throttle_read_iops_device, "throttleReadIOPSDevice", "riops");
  throttle(b.throttle_write_iops_device, "throttleWriteIOPSDevice", "wiops");
}

void set_hugetlb(const std::string& dir, const std::vector<oci::LinuxHugepageLimit>& h) {
  for (size_t i = 0; i < h.size(); ++i) {
    const std::string field = fmt::format("linux.resources.hugepageLimits[{}] ({})", i, h[i].page_size);
    write_field(field, dir, fmt::format("hugetlb.{}.max", h[i].page_size), std::to_string(h[i].limit));
    // Reservations are charged separately; runc limits them alike where the kernel has them.
    const std::string rsvd = fmt::format("hugetlb.{}.rsvd.max", h[i].page_size);
    if (exists(dir, rsvd)) write_field(field, dir, rsvd, std::to_string(h[i].limit));
  }
}

void set_devices(const std::string& dir, const std::vector<oci::LinuxDeviceCgroup>& rules) {
  sys::Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw_errno("linux.resources.devices: open cgroup", dir);
  with_context("linux.resources.devices", [&] { apply_device_program(fd.get(), rules); });
}

void set_unified(const std::string& dir, const oci::StringMap& u) {
  for (const auto& [key, value] : u) {
    const std::string field = fmt::format("linux.resources.unified.{}", key);
    if (key.empty() || key.find('/') != std::string::npos || key == "." || key == "..")
      throw Error(fmt::format("{}: not a cgroup file name", field));
    write_field(field, dir, key, value);
  }
}

}  // namespace berth::cgroups::v2
