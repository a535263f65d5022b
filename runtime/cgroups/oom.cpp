#include "runtime/cgroups/oom.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <charconv>

#include "runtime/cgroups/files.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cgroups {

OomWatcher::OomWatcher(const Paths& paths) {
  if (paths.mode != Mode::Unified) {
    if (const std::string& dir = paths.v1_dir("memory"); !dir.empty()) {
      fd_ = sys::Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
      if (!fd_.valid()) throw_errno("eventfd");
      const std::string control = dir + "/memory.oom_control";
      control_ = sys::Fd(::open(control.c_str(), O_RDONLY | O_CLOEXEC));
      if (!control_.valid()) throw_errno("open", control);
      write(dir, "cgroup.event_control", fmt::format("{} {}", fd_.get(), control_.get()));
      v1_dir_ = dir;
      return;
    }
  }
  if (paths.unified.empty() || !exists(paths.unified, "memory.events"))
    throw Error("events: the container's cgroup has no memory controller to report OOM from");
  v2_dir_ = paths.unified;
  fd_ = sys::Fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!fd_.valid()) throw_errno("inotify_init1");
  const std::string events = v2_dir_ + "/memory.events";
  if (::inotify_add_watch(fd_.get(), events.c_str(), IN_MODIFY) < 0) throw_errno("inotify_add_watch", events);
  last_ = v2_count();
}

std::uint64_t OomWatcher::v2_count() const {
  const std::string text = read(v2_dir_, "memory.events").value_or("");
  const size_t p = text.find("oom_kill ");
  if (p == std::string::npos) return 0;
  std::uint64_t n = 0;
  std::from_chars(text.data() + p + 9, text.data() + text.size(), n);
  return n;
}

std::uint64_t OomWatcher::consume() {
  if (v2_dir_.empty()) {
    std::uint64_t n = 0;
    if (::read(fd_.get(), &n, sizeof n) != sizeof n) return 0;
    // The eventfd also fires when the cgroup is removed: that is no OOM. Its count is of OOM
    // invocations, several per kill, so one read is one event (as runc reports it).
    return n > 0 && exists(v1_dir_, "cgroup.event_control") ? 1 : 0;
  }
  char buf[4096];
  while (::read(fd_.get(), buf, sizeof buf) > 0) {
  }
  const std::uint64_t now = v2_count();
  const std::uint64_t n = now > last_ ? now - last_ : 0;
  last_ = now;
  return n;
}

}  // namespace berth::cgroups
