// Where a container's cgroup lives: the host's cgroup layout (legacy v1, hybrid, or unified v2)
// and the directories one container has in it. Everything that reads or writes cgroup files
// (resources, freezer, stats, events, devices) works from a Paths.
#pragma once

#include <map>
#include <string>

namespace berth::cgroups {

enum class Mode {
  Legacy,   // only cgroup v1 hierarchies
  Hybrid,   // v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified (systemd's hybrid)
  Unified,  // cgroup2 at /sys/fs/cgroup
};

// The directories of one container's cgroup, absolute host paths.
struct Paths {
  // v1 hierarchies by controller name ("memory", "cpu", "cpuacct", "name=systemd"; a hierarchy
  // mounted with several controllers appears once per controller, with the same directory).
  std::map<std::string, std::string> v1;
  // The cgroup2 directory: the cgroup itself on a unified host, the hybrid hierarchy's one on a
  // hybrid host, "" when there is none.
  std::string unified;
  // On a unified host every controller is in `unified`; on a hybrid host only those not bound
  // to a v1 hierarchy (e.g. hugetlb) are.
  Mode mode = Mode::Legacy;

  bool empty() const { return v1.empty() && unified.empty(); }
  // The v1 directory of a controller, or "" when that controller has none.
  const std::string& v1_dir(const std::string& controller) const {
    static const std::string none;
    auto it = v1.find(controller);
    return it == v1.end() ? none : it->second;
  }
  friend bool operator==(const Paths&, const Paths&) = default;
};

}  // namespace berth::cgroups
