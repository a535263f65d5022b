#include "runtime/cgroups/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "runtime/cgroups/files.hpp"
#include "runtime/sys/dir.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cgroups {

namespace {

std::string clean(std::string_view p) {
  std::vector<std::string_view> parts;
  while (!p.empty()) {
    const size_t s = p.find('/');
    const std::string_view c = p.substr(0, s);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    if (s == std::string_view::npos) break;
    p.remove_prefix(s + 1);
  }
  std::string out;
  for (std::string_view c : parts) out.append("/").append(c);
  return out.empty() ? "/" : out;
}

// `path` (absolute within the hierarchy) as a directory of the mount at mount_point whose root
// is `root`: a mount of a sub-tree (inside a container) shows it without the root prefix.
std::string dir_in(const Hierarchy& h, const std::string& path) {
  if (h.root == "/" || h.root.empty()) return path == "/" ? h.mount_point : h.mount_point + path;
  if (path == h.root) return h.mount_point;
  if (path.starts_with(h.root) && path[h.root.size()] == '/') return h.mount_point + path.substr(h.root.size());
  return h.mount_point + path;
}

std::string hierarchy_path(const Hierarchy& h, const Location& loc) {
  if (!loc.relative) return loc.path;
  return clean(h.own + "/" + loc.path);
}

std::string parent_of(const std::string& dir) { return dir.substr(0, dir.rfind('/')); }

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// mkdir -p that costs one syscall when only the leaf is missing; appends the directories it
// made, outermost first.
void make_dirs(const std::string& dir, std::vector<std::string>& made) {
  if (::mkdir(dir.c_str(), 0755) == 0) {
    made.push_back(dir);
    return;
  }
  if (errno == EEXIST) return;
  if (errno != ENOENT || dir.rfind('/') == 0 || dir.rfind('/') == std::string::npos) throw_errno("mkdir", dir);
  make_dirs(parent_of(dir), made);
  if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("mkdir", dir);
  made.push_back(dir);
}

// A new v1 cpuset cgroup starts with no cpus and no mems, and no task can join it until both
// are set: copy the parent's down, as runc does.
void inherit_cpuset(const std::string& dir) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    // Unless the kernel copies them itself (cgroup.clone_children, cpuset_v2_mode).
    auto own = read(dir, file);
    if (own && !own->empty()) continue;
    auto parent = read(parent_of(dir), file);
    if (parent && !parent->empty()) write(dir, file, *parent);
  }
}

// Enables `wanted` (those the parent offers) in the cgroup.subtree_control of every cgroup2
// directory from the hierarchy's mount down to the leaf's parent, so the leaf has the files.
void enable_controllers(const std::string& mount, const std::string& leaf, const std::vector<std::string>& wanted) {
  if (wanted.empty() || leaf.size() <= mount.size()) return;
  std::string dir = mount;
  size_t pos = mount.size();
  for (;;) {
    const auto offered = read(dir, "cgroup.controllers").value_or("");
    const auto enabled = read(dir, "cgroup.subtree_control").value_or("");
    auto has = [](const std::string& list, const std::string& c) {
      size_t p = 0;
      while ((p = list.find(c, p)) != std::string::npos) {
        const bool start = p == 0 || list[p - 1] == ' ', end = p + c.size() == list.size() || list[p + c.size()] == ' ';
        if (start && end) return true;
        p += c.size();
      }
      return false;
    };
    std::string add;
    for (const std::string& c : wanted)
      if (has(offered, c) && !has(enabled, c)) add += (add.empty() ? "+" : " +") + c;
    if (!add.empty()) with_context("cgroup2: enable controllers", [&] { write(dir, "cgroup.subtree_control", add); });
    const size_t next = leaf.find('/', pos + 1);
    if (next == std::string::npos) break;
    dir = leaf.substr(0, next);
    pos = next;
  }
}

// Removes dir and its sub-cgroups. rmdir of a cgroup whose last task has just exited can fail
// with EBUSY for a moment, so it is retried briefly.
void remove_tree(const std::string& dir) {
  // The common case, a cgroup without children, is one syscall.
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
  if (DIR* d = ::opendir(dir.c_str())) {
    sys::Dir guard(d);
    std::vector<std::string> children;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..")
        children.push_back(dir + "/" + e->d_name);
    for (const std::string& c : children) remove_tree(c);
  } else if (errno == ENOENT) {
    return;
  }
  for (long delay = 10;; delay *= 2) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY || delay > 320) throw_errno("cgroups: rmdir", dir);
    sleep_ms(delay);
  }
}

void collect_pids(const std::string& dir, std::vector<pid_t>& out) {
  const auto procs = read(dir, "cgroup.procs");
  if (!procs) return;
  std::string_view s = *procs;
  while (!s.empty()) {
    const size_t nl = s.find('\n');
    const std::string_view line = s.substr(0, nl);
    pid_t p = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), p).ec == std::errc() && p > 0) out.push_back(p);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  if (DIR* d = ::opendir(dir.c_str())) {
    sys::Dir guard(d);
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..")
        collect_pids(dir + "/" + e->d_name, out);
  }
}

// Polls `file` in dir until it reads `want`, up to about 10 s (a process stuck in an
// uninterruptible sleep delays freezing). Returns whether it got there.
template <class Retry>
bool wait_for(const std::string& dir, std::string_view file, std::string_view want, Retry retry) {
  long delay = 1;
  for (int i = 0; i < 1000; ++i) {
    if (read(dir, file).value_or("") == want) return true;
    if (i % 50 == 49) retry();
    sleep_ms(delay);
    delay = std::min(delay * 2, 10L);
  }
  return false;
}

bool v2_frozen_is(const std::string& dir, bool want) {
  const std::string line = want ? "frozen 1" : "frozen 0";
  long delay = 1;
  for (int i = 0; i < 1000; ++i) {
    const std::string events = read(dir, "cgroup.events").value_or("");
    if (events.find(line) != std::string::npos) return true;
    sleep_ms(delay);
    delay = std::min(delay * 2, 10L);
  }
  return false;
}

}  // namespace

Location location(const std::optional<std::string>& cgroups_path, std::string_view id) {
  if (!cgroups_path || cgroups_path->empty()) return {fmt::format("/{}", id), false};
  Location loc;
  loc.relative = !cgroups_path->starts_with('/');
  loc.path = clean(*cgroups_path);
  if (loc.path == "/")
    throw Error(fmt::format("linux.cgroupsPath: `{}` names the root cgroup; the container needs a cgroup of its own",
                            *cgroups_path));
  if (loc.relative) loc.path.erase(0, 1);
  return loc;
}

Paths resolve(const Host& host, const Location& loc) {
  Paths p;
  p.mode = host.mode;
  for (const Hierarchy& h : host.v1) {
    const std::string dir = dir_in(h, hierarchy_path(h, loc));
    for (const std::string& c : h.controllers) p.v1[c] = dir;
  }
  if (!host.unified.mount_point.empty()) p.unified = dir_in(host.unified, hierarchy_path(host.unified, loc));
  return p;
}

Cgroup Cgroup::create(Paths paths, const std::vector<std::string>& v2_controllers) {
  Cgroup cg(std::move(paths));
  std::vector<std::string> made;
  try {
    for (const std::string& dir : cg.unique_dirs()) {
      const size_t first = made.size();
      make_dirs(dir, made);
      if (made.size() == first) cg.existed_ = true;
      if (dir == cg.paths_.v1_dir("cpuset"))
        for (size_t i = first; i < made.size(); ++i) inherit_cpuset(made[i]);
    }
    if (!cg.paths_.unified.empty() && !v2_controllers.empty()) {
      // The cgroup2 mount point is the unified directory with the path's components removed:
      // find it as the longest prefix that is a mount point we know of.
      std::string mount = cg.paths_.unified;
      struct stat leaf_st {}, st {};
      ::stat(mount.c_str(), &leaf_st);
      while (mount.rfind('/') > 0) {
        const std::string up = parent_of(mount);
        if (::stat(up.c_str(), &st) < 0 || st.st_dev != leaf_st.st_dev) break;
        mount = up;
      }
      enable_controllers(mount, cg.paths_.unified, v2_controllers);
    }
  } catch (...) {
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    throw;
  }
  return cg;
}

std::vector<std::string> Cgroup::unique_dirs() const {
  std::vector<std::string> out;
  for (const auto& [c, dir] : paths_.v1)
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
  if (!paths_.unified.empty()) out.push_back(paths_.unified);
  return out;
}

void Cgroup::add(pid_t pid) const {
  char buf[16];
  const auto r = std::to_chars(buf, buf + sizeof buf, pid);
  const std::string_view value(buf, static_cast<size_t>(r.ptr - buf));
  for (const std::string& dir : unique_dirs())
    with_context(fmt::format("cgroups: join `{}`", dir), [&] { write(dir, "cgroup.procs", value); });
}

std::vector<pid_t> Cgroup::pids() const {
  std::string dir;
  if (paths_.mode == Mode::Unified) {
    dir = paths_.unified;
  } else {
    for (const char* c : {"pids", "memory", "freezer", "devices", "cpu"})
      if (!(dir = paths_.v1_dir(c)).empty()) break;
    if (dir.empty() && !paths_.v1.empty()) dir = paths_.v1.begin()->second;
    if (dir.empty()) dir = paths_.unified;
  }
  std::vector<pid_t> out;
  if (!dir.empty()) collect_pids(dir, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void Cgroup::freeze() const {
  if (const std::string& dir = paths_.v1_dir("freezer"); !dir.empty()) {
    write(dir, "freezer.state", "FROZEN");
    if (!wait_for(dir, "freezer.state", "FROZEN", [&] { write(dir, "freezer.state", "FROZEN"); })) {
      write(dir, "freezer.state", "THAWED");
      throw Error(fmt::format("cgroups: `{}/freezer.state` did not reach FROZEN", dir));
    }
    return;
  }
  if (!paths_.unified.empty() && exists(paths_.unified, "cgroup.freeze")) {
    write(paths_.unified, "cgroup.freeze", "1");
    if (!v2_frozen_is(paths_.unified, true)) {
      write(paths_.unified, "cgroup.freeze", "0");
      throw Error(fmt::format("cgroups: `{}/cgroup.events` did not report frozen", paths_.unified));
    }
    return;
  }
  throw Error("cgroups: this host has no freezer (no v1 freezer hierarchy and no cgroup2 cgroup.freeze)");
}

void Cgroup::thaw() const {
  if (const std::string& dir = paths_.v1_dir("freezer"); !dir.empty()) {
    write(dir, "freezer.state", "THAWED");
    if (!wait_for(dir, "freezer.state", "THAWED", [&] { write(dir, "freezer.state", "THAWED"); }))
      throw Error(fmt::format("cgroups: `{}/freezer.state` did not reach THAWED", dir));
    return;
  }
  if (!paths_.unified.empty() && exists(paths_.unified, "cgroup.freeze")) {
    write(paths_.unified, "cgroup.freeze", "0");
    if (!v2_frozen_is(paths_.unified, false))
      throw Error(fmt::format("cgroups: `{}/cgroup.events` still reports frozen", paths_.unified));
    return;
  }
  throw Error("cgroups: this host has no freezer (no v1 freezer hierarchy and no cgroup2 cgroup.freeze)");
}

bool Cgroup::frozen() const {
  if (const std::string& dir = paths_.v1_dir("freezer"); !dir.empty())
    return read(dir, "freezer.state").value_or("") == "FROZEN";
  if (!paths_.unified.empty()) return read(paths_.unified, "cgroup.freeze").value_or("0") == "1";
  return false;
}

void Cgroup::destroy() const {
  for (const std::string& dir : unique_dirs()) remove_tree(dir);
}

}  // namespace berth::cgroups
