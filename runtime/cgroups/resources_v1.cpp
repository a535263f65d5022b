// linux.resources on cgroup v1 hierarchies (the kernel's cgroup-v1 documentation; the write
// orders follow runc's libcontainer/cgroups/fs, which learned them from the kernel's checks).
#include <cerrno>

#include <spdlog/spdlog.h>

#include "runtime/cgroups/files.hpp"
#include "runtime/cgroups/resources.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cgroups::v1 {

namespace {

std::string num(std::int64_t v) { return std::to_string(v); }

std::string dev(std::int64_t major, std::int64_t minor) { return fmt::format("{}:{}", major, minor); }

void throttle(const std::string& dir, const char* file, const char* field,
              const std::optional<std::vector<oci::LinuxThrottleDevice>>& list) {
  if (!list) return;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& t = (*list)[i];
    write_field(fmt::format("linux.resources.blockIO.{}[{}]", field, i), dir, file,
                fmt::format("{} {}", dev(t.major, t.minor), t.rate));
  }
}

}  // namespace

void set_memory(const std::string& dir, const oci::LinuxMemory& m) {
  const std::int64_t limit = m.limit.value_or(0);
  std::int64_t swap = m.swap.value_or(0);
  // runc: unlimited memory without a swap value means unlimited swap too.
  if (limit == -1 && swap == 0 && exists(dir, "memory.memsw.limit_in_bytes")) swap = -1;
  if (m.check_before_update.value_or(false) && limit > 0) {
    const auto usage = read(dir, "memory.usage_in_bytes");
    if (usage && std::stoll(*usage) > limit)
      throw Error(fmt::format("linux.resources.memory.limit: {} is below the current usage {} (checkBeforeUpdate)", limit,
                              *usage));
  }
  auto set_limit = [&] {
    if (limit != 0) write_field("linux.resources.memory.limit", dir, "memory.limit_in_bytes", num(limit));
  };
  auto set_swap = [&] {
    if (swap != 0) write_field("linux.resources.memory.swap", dir, "memory.memsw.limit_in_bytes", num(swap));
  };
  // The kernel requires memory <= memory+swap at every step: raise memsw before memory,
  // lower memory before memsw.
  bool swap_first = false;
  if (limit != 0 && swap != 0) {
    const auto cur = read(dir, "memory.limit_in_bytes");
    swap_first = swap == -1 || (cur && std::stoull(*cur) < static_cast<std::uint64_t>(swap));
  }
  if (swap_first) {
    set_swap();
    set_limit();
  } else {
    set_limit();
    set_swap();
  }
  if (m.reservation && *m.reservation != 0)
    write_field("linux.resources.memory.reservation", dir, "memory.soft_limit_in_bytes", num(*m.reservation));
  if (m.kernel && *m.kernel != 0)
    spdlog::warn("linux.resources.memory.kernel: kernel memory limits are deprecated and ignored (as runc)");
  if (m.kernel_tcp && *m.kernel_tcp != 0)
    write_field("linux.resources.memory.kernelTCP", dir, "memory.kmem.tcp.limit_in_bytes", num(*m.kernel_tcp));
  if (m.swappiness) {
    if (*m.swappiness > 100)
      throw Error(fmt::format("linux.resources.memory.swappiness: {} is not in [0, 100]", *m.swappiness));
    write_field("linux.resources.memory.swappiness", dir, "memory.swappiness", std::to_string(*m.swappiness));
  }
  if (m.disable_oom_killer.value_or(false))
    write_field("linux.resources.memory.disableOOMKiller", dir, "memory.oom_control", "1");
  if (m.use_hierarchy)
    write_field("linux.resources.memory.useHierarchy", dir, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0");
}

void set_cpu(const std::string& dir, const oci::LinuxCpu& c) {
  if (c.shares && *c.shares != 0) write_field("linux.resources.cpu.shares", dir, "cpu.shares", std::to_string(*c.shares));
  const bool period = c.period && *c.period != 0, quota = c.quota && *c.quota != 0;
  if (period) {
    try {
      write(dir, "cpu.cfs_period_us", std::to_string(*c.period));
    } catch (const Error& e) {
      // A period the current quota does not fit: set the quota first, then the period.
      if (e.errnum() != EINVAL || !quota) throw Error(fmt::format("linux.resources.cpu.period: {}", e.what()));
      write_field("linux.resources.cpu.quota", dir, "cpu.cfs_quota_us", num(*c.quota));
      write_field("linux.resources.cpu.period", dir, "cpu.cfs_period_us", std::to_string(*c.period));
    }
  }
  if (quota) write_field("linux.resources.cpu.quota", dir, "cpu.cfs_quota_us", num(*c.quota));
  if (c.burst) write_field("linux.resources.cpu.burst", dir, "cpu.cfs_burst_us", std::to_string(*c.burst));
  // The period bounds the runtime: period first.
  if (c.realtime_period && *c.realtime_period != 0)
    write_field("linux.resources.cpu.realtimePeriod", dir, "cpu.rt_period_us", std::to_string(*c.realtime_period));
  if (c.realtime_runtime && *c.realtime_runtime != 0)
    write_field("linux.resources.cpu.realtimeRuntime", dir, "cpu.rt_runtime_us", num(*c.realtime_runtime));
  if (c.idle) write_field("linux.resources.cpu.idle", dir, "cpu.idle", num(*c.idle));
}

void set_cpuset(const std::string& dir, const oci::LinuxCpu& c) {
  if (c.cpus && !c.cpus->empty()) write_field("linux.resources.cpu.cpus", dir, "cpuset.cpus", *c.cpus);
  if (c.mems && !c.mems->empty()) write_field("linux.resources.cpu.mems", dir, "cpuset.mems", *c.mems);
}

void set_pids(const std::string& dir, const oci::LinuxPids& p) {
  // As runc: 0 leaves the limit, a negative value removes it.
  if (!p.limit || *p.limit == 0) return;
  write_field("linux.resources.pids.limit", dir, "pids.max", *p.limit < 0 ? "max" : num(*p.limit));
}

void set_blkio(const std::string& dir, const oci::LinuxBlockIo& b) {
  // Kernels whose only proportional policy is BFQ name the weight files blkio.bfq.*.
  const bool bfq = !exists(dir, "blkio.weight") && exists(dir, "blkio.bfq.weight");
  if (b.weight && *b.weight != 0)
    write_field("linux.resources.blockIO.weight", dir, bfq ? "blkio.bfq.weight" : "blkio.weight",
                std::to_string(*b.weight));
  if (b.leaf_weight && *b.leaf_weight != 0)
    write_field("linux.resources.blockIO.leafWeight", dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight));
  if (b.weight_device)
    for (size_t i = 0; i < b.weight_device->size(); ++i) {
      const auto& w = (*b.weight_device)[i];
      if (w.weight)
        write_field(fmt::format("linux.resources.blockIO.weightDevice[{}].weight", i), dir,
                    bfq ? "blkio.bfq.weight_device" : "blkio.weight_device",
                    fmt::format("{} {}", dev(w.major, w.minor), *w.weight));
      if (w.leaf_weight)
        write_field(fmt::format("linux.resources.blockIO.weightDevice[{}].leafWeight", i), dir,
                    "blkio.leaf_weight_device", fmt::format("{} {}", dev(w.major, w.minor), *w.leaf_weight));
    }
  throttle(dir, "blkio.throttle.read_bps_device", "throttleReadBpsDevice", b.throttle_read_bps_device);
  throttle(dir, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice", b.throttle_write_bps_device);
  throttle(dir, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice", b.throttle_read_iops_device);
  throttle(dir, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice", b.throttle_write_iops_device);
}

void set_hugetlb(const std::string& dir, const std::vector<oci::LinuxHugepageLimit>& h) {
  for (size_t i = 0; i < h.size(); ++i)
    write_field(fmt::format("linux.resources.hugepageLimits[{}] ({})", i, h[i].page_size), dir,
                fmt::format("hugetlb.{}.limit_in_bytes", h[i].page_size), std::to_string(h[i].limit));
}

void set_net_cls(const std::string& dir, const oci::LinuxNetwork& n) {
  if (n.class_id) write_field("linux.resources.network.classID", dir, "net_cls.classid", std::to_string(*n.class_id));
}

void set_net_prio(const std::string& dir, const oci::LinuxNetwork& n) {
  if (!n.priorities) return;
  for (size_t i = 0; i < n.priorities->size(); ++i) {
    const auto& p = (*n.priorities)[i];
    write_field(fmt::format("linux.resources.network.priorities[{}]", i), dir, "net_prio.ifpriomap",
                fmt::format("{} {}", p.name, p.priority));
  }
}

void set_devices(const std::string& dir, const std::vector<oci::LinuxDeviceCgroup>& rules) {
  // Replayed in order: the kernel's list has the same last-rule-wins meaning as the config's.
  auto part = [](const std::optional<std::int64_t>& x) { return !x || *x < 0 ? std::string("*") : std::to_string(*x); };
  for (const oci::LinuxDeviceCgroup& r : rules) {
    const std::string type = r.type.value_or("a");
    // Type "a" resets the list to allow-all or deny-all whatever else the rule says.
    const std::string v = type == "a" ? type
                                      : fmt::format("{} {}:{} {}", type, part(r.major), part(r.minor), r.access.value_or("rwm"));
    write_field(fmt::format("linux.resources.devices (rule `{} {}`)", r.allow ? "allow" : "deny", v), dir,
                r.allow ? "devices.allow" : "devices.deny", v);
  }
}

}  // namespace berth::cgroups::v1
