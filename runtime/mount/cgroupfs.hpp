// The cgroup filesystems a `cgroup` mount shows inside the container. The pure
// part (parsing /proc/self/mountinfo and /proc/self/cgroup, choosing what to
// mount) is here for the unit tests; mounting is in cgroupfs.cpp.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::mount {

struct MountInfoEntry {
  std::string root;         // field 4: the mount's root within its filesystem
  std::string mount_point;  // field 5, unescaped
  std::string fstype;
  std::string source;
  std::string super_options;
  friend bool operator==(const MountInfoEntry&, const MountInfoEntry&) = default;
};

// proc(5) /proc/<pid>/mountinfo. Malformed lines are skipped.
std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);

// /proc/self/cgroup as (controllers, path) pairs: "4:cpu,cpuacct:/a" gives
// ("cpu,cpuacct", "/a"); the cgroup2 line "0::/a" gives ("", "/a").
std::vector<std::pair<std::string, std::string>> parse_proc_cgroup(std::string_view text);

struct CgroupSubMount {
  std::string name;         // directory under the destination: "cpu,cpuacct", "systemd", "unified"
  bool v2 = false;          // cgroup2 (hybrid hosts' `unified`)
  std::string data;         // fresh v1 mount data: "cpu,cpuacct", "name=systemd"
  std::string bind_source;  // host directory to bind (without a cgroup namespace); "" = mount fresh
  std::vector<std::string> links;  // symlinks to `name`: "cpu" and "cpuacct" for "cpu,cpuacct"
  friend bool operator==(const CgroupSubMount&, const CgroupSubMount&) = default;
};

// One entry per cgroup v1 hierarchy mounted on the host (and the cgroup2 one of
// a hybrid host) that our process belongs to, in mountinfo order, skipping
// mounts inside `rootfs`. With a new cgroup namespace each is mounted fresh
// (the namespace makes our cgroup its root); without one, our own cgroup
// directory is bound instead, as runc does, so the host tree stays hidden.
std::vector<CgroupSubMount> plan_cgroup_v1(const std::vector<MountInfoEntry>& mounts,
                                           const std::vector<std::pair<std::string, std::string>>& own,
                                           bool new_cgroup_ns, std::string_view rootfs);

}  // namespace berth::mount
