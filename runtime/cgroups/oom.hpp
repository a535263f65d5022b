// OOM notifications of a container's cgroup, as a pollable fd (`berth events`): v1 through an
// eventfd registered on memory.oom_control (cgroup.event_control), v2 through inotify on
// memory.events, whose oom_kill counter is compared with the last value seen.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/cgroups/layout.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::cgroups {

class OomWatcher {
 public:
  // Throws when the cgroup has no memory controller.
  explicit OomWatcher(const Paths& paths);
  int fd() const { return fd_.get(); }
  // After fd() polled readable: how many OOM kills (v2) or OOM events (v1) happened since the
  // last call (0 for an unrelated change).
  std::uint64_t consume();

 private:
  std::uint64_t v2_count() const;
  sys::Fd fd_;
  sys::Fd control_;  // v1: memory.oom_control, kept open while the eventfd is registered
  std::string v1_dir_;
  std::string v2_dir_;
  std::uint64_t last_ = 0;
};

}  // namespace berth::cgroups
