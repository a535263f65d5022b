#include "runtime/cgroups/resources.hpp"

#include <algorithm>

#include "runtime/cgroups/files.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cgroups {

namespace {

// Where a controller's files are: its v1 hierarchy, else cgroup2 (see resources.hpp).
struct Target {
  std::string dir;
  bool v2 = false;
};

Target target(const Paths& p, const std::string& v1_name, std::string_view field) {
  if (p.mode != Mode::Unified) {
    if (const std::string& d = p.v1_dir(v1_name); !d.empty()) return {d, false};
  }
  if (!p.unified.empty()) return {p.unified, true};
  throw Error(fmt::format("{}: this host has no `{}` cgroup controller (no v1 hierarchy mounts it and there is no cgroup2)",
                          field, v1_name));
}

// net_cls and net_prio exist only as v1 hierarchies: cgroup2 has no equivalent.
std::string v1_only_dir(const Paths& p, const std::string& v1_name, std::string_view field) {
  if (p.mode != Mode::Unified)
    if (const std::string& d = p.v1_dir(v1_name); !d.empty()) return d;
  throw Error(fmt::format("{}: this host has no {} cgroup hierarchy (cgroup2 has no {})", field, v1_name, v1_name));
}

oci::LinuxDeviceCgroup rule(bool allow, const char* type, std::int64_t major, std::int64_t minor, const char* access) {
  oci::LinuxDeviceCgroup r;
  r.allow = allow;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

}  // namespace

std::uint64_t shares_to_weight(std::uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  return 1 + ((shares - 2) * 9999) / 262142;
}

std::uint64_t blkio_to_io_weight(std::uint64_t weight) {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

std::string swap_to_v2(std::int64_t limit, std::int64_t swap) {
  if (swap == 0) return "";
  if (swap == -1) return "max";
  if (limit == 0 || limit == -1)
    throw Error("linux.resources.memory.swap: on cgroup v2 a swap limit needs a memory limit (swap is memory+swap)");
  if (swap < limit)
    throw Error(fmt::format("linux.resources.memory.swap: {} is less than the memory limit {} (swap is memory+swap)", swap,
                            limit));
  return std::to_string(swap - limit);
}

std::vector<oci::LinuxDeviceCgroup> device_rules(const oci::Spec& spec) {
  std::vector<oci::LinuxDeviceCgroup> out;
  out.push_back(rule(false, "a", -1, -1, "rwm"));
  if (spec.linux && spec.linux->resources && spec.linux->resources->devices)
    out.insert(out.end(), spec.linux->resources->devices->begin(), spec.linux->resources->devices->end());
  if (spec.linux && spec.linux->devices)
    for (const oci::LinuxDevice& d : *spec.linux->devices) {
      if (d.type != "c" && d.type != "b" && d.type != "u") continue;  // fifos need no rule
      out.push_back(rule(true, d.type == "b" ? "b" : "c", d.major.value_or(-1), d.minor.value_or(-1), "rwm"));
    }
  // runc's AllowedDevices (libcontainer/specconv).
  out.push_back(rule(true, "c", -1, -1, "m"));
  out.push_back(rule(true, "b", -1, -1, "m"));
  for (auto [maj, min] : {std::pair{1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9}, {5, 1}, {136, -1}, {5, 2}, {10, 200}})
    out.push_back(rule(true, "c", maj, min, "rwm"));
  return out;
}

std::vector<std::string> v2_controllers_for(const Paths& paths, const oci::LinuxResources* r) {
  std::vector<std::string> out;
  if (paths.unified.empty()) return out;
  if (paths.mode == Mode::Unified) {
    // As runc: everything cgroup2 offers, so stats and later updates find their files.
    return {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};
  }
  if (!r) return out;
  auto need = [&](const char* v1_name, const char* v2_name, bool wanted) {
    if (wanted && paths.v1_dir(v1_name).empty()) out.emplace_back(v2_name);
  };
  need("memory", "memory", r->memory.has_value());
  need("cpu", "cpu", r->cpu && (r->cpu->shares || r->cpu->quota || r->cpu->period || r->cpu->burst || r->cpu->idle));
  need("cpuset", "cpuset", r->cpu && (r->cpu->cpus || r->cpu->mems));
  need("pids", "pids", r->pids.has_value());
  need("blkio", "io", r->block_io.has_value());
  need("hugetlb", "hugetlb", r->hugepage_limits && !r->hugepage_limits->empty());
  need("rdma", "rdma", r->rdma && !r->rdma->empty());
  if (r->unified)
    for (const auto& [key, value] : *r->unified) {
      const std::string c = key.substr(0, key.find('.'));
      if (c != "cgroup" && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
  return out;
}

void set_rdma(const std::string& dir, const std::map<std::string, oci::LinuxRdma>& r) {
  for (const auto& [device, limits] : r) {
    std::string v = device;
    if (limits.hca_handles) v += fmt::format(" hca_handle={}", *limits.hca_handles);
    if (limits.hca_objects) v += fmt::format(" hca_object={}", *limits.hca_objects);
    write_field(fmt::format("linux.resources.rdma.{}", device), dir, "rdma.max", v);
  }
}

void set_resources(const Paths& p, const oci::LinuxResources& r) {
  if (r.cpu && (r.cpu->cpus || r.cpu->mems)) {
    // cpuset first: a cpu limit may only make sense on the new cpus.
    const Target t = target(p, "cpuset", "linux.resources.cpu.cpus");
    t.v2 ? v2::set_cpuset(t.dir, *r.cpu) : v1::set_cpuset(t.dir, *r.cpu);
  }
  if (r.memory) {
    const Target t = target(p, "memory", "linux.resources.memory");
    t.v2 ? v2::set_memory(t.dir, *r.memory) : v1::set_memory(t.dir, *r.memory);
  }
  if (r.cpu) {
    const Target t = target(p, "cpu", "linux.resources.cpu");
    t.v2 ? v2::set_cpu(t.dir, *r.cpu) : v1::set_cpu(t.dir, *r.cpu);
  }
  if (r.pids) {
    const Target t = target(p, "pids", "linux.resources.pids");
    t.v2 ? v2::set_pids(t.dir, *r.pids) : v1::set_pids(t.dir, *r.pids);
  }
  if (r.block_io) {
    const Target t = target(p, "blkio", "linux.resources.blockIO");
    t.v2 ? v2::set_io(t.dir, *r.block_io) : v1::set_blkio(t.dir, *r.block_io);
  }
  if (r.hugepage_limits && !r.hugepage_limits->empty()) {
    const Target t = target(p, "hugetlb", "linux.resources.hugepageLimits");
    t.v2 ? v2::set_hugetlb(t.dir, *r.hugepage_limits) : v1::set_hugetlb(t.dir, *r.hugepage_limits);
  }
  if (r.network && r.network->class_id)
    v1::set_net_cls(v1_only_dir(p, "net_cls", "linux.resources.network.classID"), *r.network);
  if (r.network && r.network->priorities && !r.network->priorities->empty())
    v1::set_net_prio(v1_only_dir(p, "net_prio", "linux.resources.network.priorities"), *r.network);
  if (r.rdma && !r.rdma->empty()) set_rdma(target(p, "rdma", "linux.resources.rdma").dir, *r.rdma);
  if (r.unified && !r.unified->empty()) {
    if (p.unified.empty())
      throw Error("linux.resources.unified: needs cgroup v2, and this host has only cgroup v1 hierarchies");
    v2::set_unified(p.unified, *r.unified);
  }
  if (r.devices) {
    const Target t = target(p, "devices", "linux.resources.devices");
    t.v2 ? v2::set_devices(t.dir, *r.devices) : v1::set_devices(t.dir, *r.devices);
  }
}

}  // namespace berth::cgroups
