// The host's cgroup layout, read from /proc/self/mountinfo and /proc/self/cgroup: which v1
// hierarchies are mounted where (with which controllers), where cgroup2 is, and where berth's
// own process sits in each (relative cgroupsPath values are below it, as in runc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/cgroups/layout.hpp"

namespace berth::cgroups {

struct Hierarchy {
  std::vector<std::string> controllers;  // "cpu", "cpuacct", "name=systemd"; empty for cgroup2
  std::string mount_point;               // "/sys/fs/cgroup/memory"
  std::string root;                      // the mount's root within the hierarchy (mountinfo field 4)
  std::string own;                       // our process's cgroup in this hierarchy ("/", "/a/b")
};

struct Host {
  Mode mode = Mode::Legacy;
  std::vector<Hierarchy> v1;  // in mountinfo order, one per hierarchy (first mount wins)
  Hierarchy unified;          // mount_point "" when cgroup2 is not mounted
  // Controllers cgroup2 offers (its root's cgroup.controllers): all of them on a unified host,
  // the ones no v1 hierarchy has taken on a hybrid host.
  std::vector<std::string> unified_controllers;

  bool has_v1(std::string_view controller) const;
  bool unified_has(std::string_view controller) const;
};

// Pure: from the text of /proc/self/mountinfo and /proc/self/cgroup (unified_controllers is left
// empty), for the unit tests.
Host parse_host(std::string_view mountinfo, std::string_view proc_cgroup);
// The running host. Throws when no cgroup filesystem is mounted at all.
Host detect_host();

}  // namespace berth::cgroups
