#include "runtime/mount/cgroupfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "runtime/mount/mounts.hpp"
#include "runtime/mount/resolve.hpp"
#include "runtime/mount/syscalls.hpp"
#include "runtime/process/lsm.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::mount {

namespace {

// What runc mounts the cgroup root tmpfs with.
constexpr unsigned long kCgroupFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
constexpr std::uint64_t kCgroupAttrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t next = s.find(sep, pos);
    if (next == std::string_view::npos) next = s.size();
    out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string_view oct = s.substr(i + 1, 3);
      if (std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool under(std::string_view path, std::string_view dir) {
  if (dir.empty()) return false;
  if (path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/' || dir == "/";
}

std::string basename(std::string_view p) {
  const size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

// Our cgroup directory on the host: the mount point plus our path below the mount's root.
std::string own_dir(const MountInfoEntry& m, const std::string& path) {
  if (!under(path, m.root)) return m.mount_point;
  const std::string rel = m.root == "/" ? path : path.substr(m.root.size());
  if (rel.empty() || rel == "/") return m.mount_point;
  return m.mount_point + rel;
}

bool is_pure_v2_host() {
  struct statfs sf {};
  return ::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

std::string proc_cgroup_path(const std::vector<std::pair<std::string, std::string>>& own) {
  for (const auto& [ctrl, path] : own)
    if (ctrl.empty()) return path;
  return "/";
}

}  // namespace

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    const auto f = split(line, ' ');
    // id parent maj:min root mount_point options [optional...] - fstype source super_options
    const auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 10 || dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 4) continue;
    MountInfoEntry e;
    e.root = unescape(f[3]);
    e.mount_point = unescape(f[4]);
    e.fstype = std::string(dash[1]);
    e.source = unescape(dash[2]);
    e.super_options = std::string(dash[3]);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_proc_cgroup(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view line : split(text, '\n')) {
    const size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    const size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    out.emplace_back(std::string(line.substr(a + 1, b - a - 1)), std::string(line.substr(b + 1)));
  }
  return out;
}

std::vector<CgroupSubMount> plan_cgroup_v1(const std::vector<MountInfoEntry>& mounts,
                                           const std::vector<std::pair<std::string, std::string>>& own,
                                           bool new_cgroup_ns, std::string_view rootfs) {
  std::vector<CgroupSubMount> out;
  auto have = [&](const CgroupSubMount& s) {
    return std::any_of(out.begin(), out.end(), [&](const CgroupSubMount& o) {
      return o.name == s.name || (o.v2 && s.v2) || (!s.v2 && !o.v2 && o.data == s.data);
    });
  };
  for (const MountInfoEntry& m : mounts) {
    if (under(m.mount_point, rootfs)) continue;
    CgroupSubMount s;
    s.name = basename(m.mount_point);
    if (s.name.empty() || s.name == "." || s.name == "..") continue;
    const std::string* path = nullptr;
    if (m.fstype == "cgroup") {
      const auto opts = split(m.super_options, ',');
      for (const auto& [ctrl, p] : own) {
        if (ctrl.empty()) continue;
        const auto items = split(ctrl, ',');
        const bool all = std::all_of(items.begin(), items.end(), [&](std::string_view it) {
          return std::find(opts.begin(), opts.end(), it) != opts.end();
        });
        if (all) {
          s.data = ctrl;
          path = &p;
          break;
        }
      }
    } else if (m.fstype == "cgroup2") {
      s.v2 = true;
      for (const auto& [ctrl, p] : own)
        if (ctrl.empty()) path = &p;
    }
    if (!path || have(s)) continue;  // not our hierarchy, or seen at another mount point
    if (!new_cgroup_ns) s.bind_source = own_dir(m, *path);
    out.push_back(std::move(s));
  }
  // "cpu" -> "cpu,cpuacct": the names programs look for (runc).
  for (CgroupSubMount& s : out) {
    if (s.v2 || s.name.find(',') == std::string::npos) continue;
    for (std::string_view part : split(s.name, ',')) {
      if (part.empty() || part.rfind("name=", 0) == 0) continue;
      const bool taken = std::any_of(out.begin(), out.end(), [&](const CgroupSubMount& o) { return o.name == part; });
      if (!taken) s.links.emplace_back(part);
    }
  }
  return out;
}

void mount_cgroup2(const MountPlan& p, const MountContext& ctx) {
  sys::Fd dest = open_in_root(ctx.root_fd, p.destination, Create::Dir);
  const char* source = p.source.empty() ? "cgroup2" : p.source.c_str();
  const char* data = p.options.data.empty() ? nullptr : p.options.data.c_str();
  const int e = try_mount_on(source, dest.get(), "cgroup2", p.options.flags, data);
  if (e == 0) return finish_mount(p, ctx, false);
  if (e != EPERM && e != EBUSY) throw Error(describe_mount(source, p.destination, "cgroup2", p.options.flags), e);
  // A user namespace without its own cgroup namespace cannot mount cgroup2:
  // bind the host's, limited to our own cgroup when we have a namespace (runc).
  std::string host = "/sys/fs/cgroup";
  if (ctx.opt.new_cgroup_ns) {
    const auto own = parse_proc_cgroup(sys::read_file(AT_FDCWD, "/proc/self/cgroup"));
    const std::string path = proc_cgroup_path(own);
    if (path != "/") host += path;
  }
  mount_on(host.c_str(), dest.get(), p.destination, nullptr, MS_BIND | MS_REC);
  MountPlan bound = p;
  bound.options.flags |= MS_BIND;
  finish_mount(bound, ctx, true);
}

void mount_cgroup(const MountPlan& p, const MountContext& ctx) {
  if (is_pure_v2_host()) {
    MountPlan v2 = p;
    v2.type = "cgroup2";
    return mount_cgroup2(v2, ctx);
  }
  const auto mounts = parse_mountinfo(sys::read_file(AT_FDCWD, "/proc/self/mountinfo"));
  const auto own = parse_proc_cgroup(sys::read_file(AT_FDCWD, "/proc/self/cgroup"));
  const auto subs = plan_cgroup_v1(mounts, own, ctx.opt.new_cgroup_ns, ctx.opt.rootfs);
  const unsigned long ro = p.options.flags & MS_RDONLY;

  // The tmpfs is made detached and attached by fd; its fd, which then refers to the attached
  // mount, is where every subsystem directory is made: nothing is looked up again by name.
  sys::Fd top;
  {
    sys::Fd dest = open_in_root(ctx.root_fd, p.destination, Create::Dir);
    const std::string data = lsm::mount_data("tmpfs", "mode=755", ctx.opt.mount_label);
    lsm::with_mount_label(ctx.opt.mount_label, "tmpfs", [&] {
      try {
        top = make_fs("tmpfs", "tmpfs", kCgroupFlags, data, p.destination);
        move_tree(top.get(), dest.get(), p.destination);
      } catch (const Error& e) {
        if (e.errnum() != ENOSYS) throw;
        // fsopen(2) hidden (a seccomp profile on berth): mount(2), and the new mount's root
        // opened by name, checked to be it: the path is inside a fresh sysfs or the
        // container's rootfs, where no process of the container runs yet.
        mount_on("tmpfs", dest.get(), p.destination, "tmpfs", kCgroupFlags, data.c_str());
        top = open_in_root(ctx.root_fd, p.destination, Create::None);
        check_mount_root(top.get(), p.destination);
      }
    });
  }
  for (const CgroupSubMount& s : subs) {
    const std::string what = p.destination + "/" + s.name;
    if (::mkdirat(top.get(), s.name.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("mkdir", what);
    sys::Fd dir = sys::openat(top.get(), s.name, O_PATH | O_NOFOLLOW | O_DIRECTORY);
    if (s.bind_source.empty()) {
      const bool named = s.data.rfind("name=", 0) == 0;
      const char* source = s.v2 ? "cgroup2" : named ? s.data.c_str() + 5 : "cgroup";
      mount_on(source, dir.get(), what, s.v2 ? "cgroup2" : "cgroup", kCgroupFlags | ro,
               s.v2 ? nullptr : s.data.c_str());
    } else {
      sys::Fd bound = bind_fd(s.bind_source, -1, dir.get(), what, false);
      set_mount_attrs(bound.get(), what, false, kCgroupAttrs | (ro ? MOUNT_ATTR_RDONLY : 0), 0);
    }
    for (const std::string& link : s.links)
      if (::symlinkat(s.name.c_str(), top.get(), link.c_str()) < 0 && errno != EEXIST)
        throw_errno(fmt::format("symlink -> `{}`", s.name), p.destination + "/" + link);
  }
  for (unsigned long prop : p.options.propagation) mount_on(nullptr, top.get(), p.destination, nullptr, prop);
  if (ro) set_mount_attrs(top.get(), p.destination, false, kCgroupAttrs | MOUNT_ATTR_RDONLY, 0);
}

}  // namespace berth::mount
