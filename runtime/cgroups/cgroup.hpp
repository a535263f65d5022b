// One container's cgroup: its directories in every hierarchy of the host, created at `create`,
// joined by the container's init, frozen by `pause`, listed by `ps`, removed by `delete`.
// Resource limits are written by runtime/cgroups/resources.hpp.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cgroups/hierarchy.hpp"
#include "runtime/cgroups/layout.hpp"

namespace berth::cgroups {

// linux.cgroupsPath as runc reads it: an absolute path is below each hierarchy's root, a
// relative one below berth's own cgroup; absent means "/<id>". Cleaned lexically, so ".."
// cannot climb out of the hierarchy.
struct Location {
  std::string path;  // "/a/b" or "a/b"
  bool relative = false;
};
Location location(const std::optional<std::string>& cgroups_path, std::string_view id);

// The directories `loc` names on `host` (pure). On a hybrid host the cgroup2 directory is
// included, as runc does, so cgroup2-only controllers and BPF device filters have a place.
Paths resolve(const Host& host, const Location& loc);

class Cgroup {
 public:
  Cgroup() = default;
  explicit Cgroup(Paths p) : paths_(std::move(p)) {}

  // Makes the directories of `paths` (and missing parents), copying cpuset.cpus/mems down in
  // v1 so that tasks can join, and enabling `v2_controllers` in each cgroup2 parent's
  // cgroup.subtree_control. On failure the directories it made are removed again.
  static Cgroup create(Paths paths, const std::vector<std::string>& v2_controllers);

  const Paths& paths() const { return paths_; }
  // Whether create() found any of the directories already there (so it may hold processes).
  bool existed() const { return existed_; }
  bool valid() const { return !paths_.empty(); }

  // Moves pid (and its threads) into the cgroup in every hierarchy.
  void add(pid_t pid) const;
  // Every process in the cgroup and its descendants, host pids, sorted.
  std::vector<pid_t> pids() const;
  // The freezer: v1 freezer.state, v2 cgroup.freeze; both wait until the kernel says frozen.
  void freeze() const;
  void thaw() const;
  bool frozen() const;
  // Removes the cgroup (and any child cgroups the container made) in every hierarchy. The
  // processes must be gone; a cgroup still busy after a short retry is an error naming it.
  void destroy() const;

 private:
  std::vector<std::string> unique_dirs() const;
  Paths paths_;
  bool existed_ = false;
};

}  // namespace berth::cgroups
