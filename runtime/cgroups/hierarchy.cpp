#include "runtime/cgroups/hierarchy.hpp"

#include <fcntl.h>

#include <algorithm>

#include "runtime/mount/cgroupfs.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::cgroups {

namespace {

// The v1 controllers the kernel can have; a v1 mount's super options list its controllers
// among mount options ("rw,cpu,cpuacct", "rw,xattr,name=systemd").
constexpr std::string_view kV1Controllers[] = {"cpuset", "cpu",      "cpuacct", "blkio",   "memory",
                                               "devices", "freezer", "net_cls", "perf_event", "net_prio",
                                               "hugetlb", "pids",    "rdma",    "misc"};

std::vector<std::string> split_words(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t p = s.find(sep);
    std::string_view w = s.substr(0, p);
    while (!w.empty() && (w.back() == '\n' || w.back() == ' ')) w.remove_suffix(1);
    if (!w.empty()) out.emplace_back(w);
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

std::vector<std::string> v1_controllers(std::string_view super_options) {
  std::vector<std::string> out;
  for (std::string& o : split_words(super_options, ',')) {
    const bool known = std::find(std::begin(kV1Controllers), std::end(kV1Controllers), o) != std::end(kV1Controllers);
    if (known || o.starts_with("name=")) out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

bool Host::has_v1(std::string_view controller) const {
  for (const Hierarchy& h : v1)
    if (std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end()) return true;
  return false;
}

bool Host::unified_has(std::string_view controller) const {
  return std::find(unified_controllers.begin(), unified_controllers.end(), controller) != unified_controllers.end();
}

Host parse_host(std::string_view mountinfo, std::string_view proc_cgroup) {
  Host host;
  const auto own = mount::parse_proc_cgroup(proc_cgroup);
  auto own_path = [&](const std::vector<std::string>& controllers) -> std::string {
    for (const auto& [list, path] : own) {
      if (controllers.empty() ? list.empty() : (!list.empty() && split_words(list, ',') == controllers)) return path;
    }
    // A controller listed in a different combination (e.g. "cpu,cpuacct" against separate
    // mounts) still tells where we are: match any one.
    for (const auto& [list, path] : own)
      for (const std::string& c : split_words(list, ','))
        if (std::find(controllers.begin(), controllers.end(), c) != controllers.end()) return path;
    return "/";
  };
  for (const mount::MountInfoEntry& m : mount::parse_mountinfo(mountinfo)) {
    if (m.fstype == "cgroup") {
      Hierarchy h;
      h.controllers = v1_controllers(m.super_options);
      if (h.controllers.empty()) continue;
      // The same hierarchy mounted twice (a bind, a container's view): the first is enough.
      const bool seen = std::any_of(host.v1.begin(), host.v1.end(),
                                    [&](const Hierarchy& o) { return o.controllers == h.controllers; });
      if (seen) continue;
      h.mount_point = m.mount_point;
      h.root = m.root;
      h.own = own_path(h.controllers);
      host.v1.push_back(std::move(h));
    } else if (m.fstype == "cgroup2" && host.unified.mount_point.empty()) {
      host.unified.mount_point = m.mount_point;
      host.unified.root = m.root;
      host.unified.own = own_path({});
    }
  }
  if (host.v1.empty() && host.unified.mount_point.empty()) throw Error("cgroups: no cgroup filesystem is mounted on this host");
  host.mode = host.v1.empty() ? Mode::Unified : (host.unified.mount_point.empty() ? Mode::Legacy : Mode::Hybrid);
  return host;
}

Host detect_host() {
  Host host = parse_host(sys::read_file(AT_FDCWD, "/proc/self/mountinfo"), sys::read_file(AT_FDCWD, "/proc/self/cgroup"));
  if (!host.unified.mount_point.empty())
    host.unified_controllers =
        split_words(sys::try_read_file(AT_FDCWD, host.unified.mount_point + "/cgroup.controllers").value_or(""), ' ');
  return host;
}

}  // namespace berth::cgroups
