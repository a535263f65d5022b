#include "runtime/mount/mounts.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "runtime/mount/resolve.hpp"
#include "runtime/mount/syscalls.hpp"
#include "runtime/process/lsm.hpp"
#include "runtime/sys/dir.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::mount {

namespace {

const char* c_str_or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// After resolution the destination may lie inside a procfs that an earlier mount
// put there through a symlink ("/foo" -> "/proc/sys"): check the real place.
void check_resolved(int fd, const MountPlan& p, const MountContext& ctx) {
  struct statfs sf {};
  if (::fstatfs(fd, &sf) < 0) throw_errno("statfs", p.destination);
  if (sf.f_type != PROC_SUPER_MAGIC) return;
  char buf[4096];
  const ssize_t n = ::readlink(fd_path(fd).c_str(), buf, sizeof buf - 1);
  if (n < 0) throw_errno("readlink", p.destination);
  std::string real(buf, static_cast<size_t>(n));
  const std::string& root = ctx.opt.rootfs;
  if (real.compare(0, root.size(), root) == 0 && (real.size() == root.size() || real[root.size()] == '/'))
    real = real.substr(root.size());
  check_proc_destination(clean_path(real), p.kind);
}

sys::Fd open_destination(const MountPlan& p, const MountContext& ctx, Create create) {
  sys::Fd fd = open_in_root(ctx.root_fd, p.destination, create);
  check_resolved(fd.get(), p, ctx);
  return fd;
}

std::string id_map(const std::vector<oci::LinuxIdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) out += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  return out;
}

// A user namespace holding the mount's uidMappings/gidMappings, for
// MOUNT_ATTR_IDMAP: a child unshares it and waits while we write its maps, then
// its /proc/<pid>/ns/user fd keeps the namespace alive after it exits.
sys::Fd make_userns(const MountPlan& p) {
  auto [ready_r, ready_w] = sys::pipe();
  auto [done_r, done_w] = sys::pipe();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    // Only async-signal-safe calls until _exit. Our copies of the parent's ends
    // must go, or the read below never sees EOF.
    ::close(ready_r.get());
    ::close(done_w.get());
    if (::unshare(CLONE_NEWUSER) < 0) ::_exit(1);
    // Our pid as /proc knows it: at this point /proc is still the host's, whose pids differ
    // from the ones fork() returns inside the container's pid namespace.
    char self[32];
    const ssize_t len = ::readlink("/proc/self", self, sizeof self);
    if (len <= 0 || ::write(ready_w.get(), self, static_cast<size_t>(len)) != len) ::_exit(1);
    char c;
    (void)!::read(done_r.get(), &c, 1);  // returns at EOF: the parent is done
    ::_exit(0);
  }
  ready_w.reset();
  done_r.reset();
  struct Reaper {
    pid_t pid;
    sys::Fd& done;
    ~Reaper() {
      done.reset();
      int st;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
    }
  } reaper{pid, done_w};
  char self[32];
  ssize_t n;
  do n = ::read(ready_r.get(), self, sizeof self);
  while (n < 0 && errno == EINTR);
  if (n <= 0) throw Error("idmap: unshare user namespace for the mapping", EPERM);
  const std::string dir = fmt::format("/proc/{}", std::string_view(self, static_cast<size_t>(n)));
  sys::write_file(AT_FDCWD, dir + "/uid_map", id_map(p.uid_mappings));
  sys::write_file(AT_FDCWD, dir + "/gid_map", id_map(p.gid_mappings));
  return sys::openat(AT_FDCWD, dir + "/ns/user", O_RDONLY);
}

sys::Fd userns_for(const MountPlan& p, const MountContext& ctx) {
  if (!p.uid_mappings.empty() || !p.gid_mappings.empty()) return make_userns(p);
  // config.md: without mappings, the container's user namespace mapping.
  if (ctx.opt.user_ns) return sys::openat(AT_FDCWD, "/proc/self/ns/user", O_RDONLY);
  throw Error("idmap: no uidMappings/gidMappings and the container has no user namespace");
}

// runc's rule for "/proc" itself: a bind mount there must come from a procfs, or the
// container's /proc (which berth and the container's tools trust) could be any directory.
void check_proc_bind_source(const MountPlan& p) {
  struct statfs sf {};
  if (::statfs(p.source.c_str(), &sf) < 0) throw_errno("statfs bind source", p.source);
  if (sf.f_type != PROC_SUPER_MAGIC)
    throw Error(fmt::format("`/proc` cannot be mounted because its source `{}` is not a procfs", p.source));
}

void mount_bind(const MountPlan& p, const MountContext& ctx) {
  struct stat st {};
  if (::stat(p.source.c_str(), &st) < 0) throw_errno("stat bind source", p.source);
  if (p.destination == "/proc") check_proc_bind_source(p);
  sys::Fd dest = open_destination(p, ctx, S_ISDIR(st.st_mode) ? Create::Dir : Create::File);
  const bool rec = (p.options.flags & MS_REC) != 0;
  sys::Fd top;
  if (p.options.idmap == Idmap::None) {
    // open_tree + move_mount rather than mount(2): the fd of the new mount is what the
    // remount below acts on, never the destination resolved again by name.
    top = bind_fd(p.source, -1, dest.get(), p.destination, rec);
  } else {
    // The clone is idmapped while still detached (the kernel refuses an attached mount),
    // then moved onto the destination fd.
    sys::Fd ns = userns_for(p, ctx);
    top = clone_tree(p.source, rec);
    set_mount_attrs(top.get(), p.source, p.options.idmap == Idmap::Recursive, MOUNT_ATTR_IDMAP, 0, 0, ns.get());
    move_tree(top.get(), dest.get(), p.destination);
  }
  finish_mount(p, ctx, true, top.get());
}

// A fresh filesystem (proc, tmpfs, devpts, overlay, ...).
void mount_fs(const MountPlan& p, const MountContext& ctx) {
  unsigned long flags = p.options.flags;
  // Only propagation or attributes to change: there is nothing to mount.
  if (p.type.empty() && !(flags & MS_REMOUNT)) {
    sys::Fd dest = open_destination(p, ctx, Create::Dir);
    finish_mount(p, ctx, false, dest.get());
    return;
  }
  // /dev is filled after the mounts; finish_rootfs makes it read-only (runc).
  if (p.kind == MountKind::Tmpfs && p.destination == "/dev") flags &= ~MS_RDONLY;
  sys::Fd dest = open_destination(p, ctx, Create::Dir);
  const std::string& source = p.source.empty() ? p.type : p.source;
  const std::string data = lsm::mount_data(p.type, p.options.data, ctx.opt.mount_label);
  if (!p.options.propagation.empty() || p.options.has_recursive_attrs()) {
    // More to do on the new mount: made detached, so that work has its fd.
    sys::Fd top = make_fs(p.type, source, flags, data, p.destination);
    move_tree(top.get(), dest.get(), p.destination);
    return finish_mount(p, ctx, false, top.get());
  }
  mount_on(source.c_str(), dest.get(), p.destination, c_str_or_null(p.type), flags, c_str_or_null(data));
}

// Mounts p fresh (when `fresh`), or binds the host's `host_path` instead when
// that is refused (EPERM/EBUSY: a user namespace without the namespace the
// filesystem belongs to) or pointless (sysfs without a new network namespace).
// Returns whether p was mounted fresh.
bool mount_or_bind_host(const MountPlan& p, const MountContext& ctx, const char* host_path, bool fresh) {
  sys::Fd dest = open_destination(p, ctx, Create::Dir);
  if (fresh) {
    const std::string& source = p.source.empty() ? p.type : p.source;
    const int e = try_mount_on(source.c_str(), dest.get(), p.type.c_str(), p.options.flags,
                               c_str_or_null(p.options.data));
    if (e == 0) {
      finish_mount(p, ctx, false);
      return true;
    }
    if (e != EPERM && e != EBUSY) throw Error(describe_mount(source, p.destination, p.type, p.options.flags), e);
  }
  sys::Fd top = bind_fd(host_path, -1, dest.get(), p.destination, true);
  // The whole rbound tree gets the requested ro/nosuid/nodev/noexec: a plain
  // remount would only change its top mount.
  std::uint64_t set = flags_to_attrs(p.options.flags);
  std::uint64_t clr = 0;
  if (p.options.atime_given)
    clr = MOUNT_ATTR__ATIME;
  else
    set &= ~static_cast<std::uint64_t>(MOUNT_ATTR__ATIME);
  if (set != 0 || clr != 0) set_mount_attrs(top.get(), p.destination, true, set, clr);
  finish_mount(p, ctx, false, top.get());
  return false;
}

// Copies the tree under src into dst (both directory fds): contents, modes,
// owners and times; for tmpcopyup.
void copy_tree(int src, int dst, const std::string& what) {
  const int dup = ::fcntl(src, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) throw_errno("dup", what);
  sys::Dir dir(::fdopendir(dup));
  if (!dir) {
    const int e = errno;
    ::close(dup);
    throw Error(fmt::format("opendir `{}`", what), e);
  }
  while (const dirent* ent = ::readdir(dir.get())) {
    const std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = what + "/" + name;
    struct stat st {};
    if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat", path);
    const mode_t perm = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dst, name.c_str(), 0700) < 0) throw_errno("mkdir", path);
      sys::Fd s = sys::openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      sys::Fd d = sys::openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      copy_tree(s.get(), d.get(), path);
    } else if (S_ISREG(st.st_mode)) {
      sys::Fd in = sys::openat(src, name, O_RDONLY | O_NOFOLLOW);
      sys::Fd out = sys::openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
      for (off_t left = st.st_size; left > 0;) {
        const ssize_t n = ::sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("copy", path);
        if (n == 0) break;  // the file shrank meanwhile
        left -= n;
      }
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      const ssize_t n = ::readlinkat(src, name.c_str(), buf, sizeof buf - 1);
      if (n < 0) throw_errno("readlink", path);
      buf[n] = '\0';
      if (::symlinkat(buf, dst, name.c_str()) < 0) throw_errno("symlink", path);
    } else {
      if (::mknodat(dst, name.c_str(), st.st_mode, st.st_rdev) < 0) throw_errno("mknod", path);
    }
    if (::fchownat(dst, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
      throw_errno(fmt::format("chown {}:{}", st.st_uid, st.st_gid), path);
    if (!S_ISLNK(st.st_mode) && ::fchmodat(dst, name.c_str(), perm, 0) < 0) throw_errno("chmod", path);
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dst, name.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("utimensat", path);
  }
}

// tmpfs with `tmpcopyup`: the tmpfs is made detached and filled from the fd of the
// directory it will cover, then moved there: the container never sees it half-copied, and
// nothing is looked up again by name after mounting.
void mount_tmpfs_copyup(const MountPlan& p, const MountContext& ctx) {
  sys::Fd dest = open_destination(p, ctx, Create::Dir);
  sys::Fd under = sys::openat(dest.get(), ".", O_RDONLY | O_DIRECTORY);
  const unsigned long flags = p.options.flags;
  sys::Fd top = make_fs("tmpfs", p.source.empty() ? "tmpfs" : p.source, flags & ~MS_RDONLY,
                        lsm::mount_data("tmpfs", p.options.data, ctx.opt.mount_label), p.destination);
  {
    sys::Fd into = sys::openat(top.get(), ".", O_RDONLY | O_DIRECTORY);
    with_context("tmpcopyup", [&] { copy_tree(under.get(), into.get(), p.destination); });
  }
  if (flags & MS_RDONLY) set_mount_attrs(top.get(), p.destination, false, MOUNT_ATTR_RDONLY, 0);
  move_tree(top.get(), dest.get(), p.destination);
  finish_mount(p, ctx, false, top.get());
}

}  // namespace

// A path opened again after mounting on it must lead to the root of a mount: if a
// component was swapped meanwhile (a shared volume written by another container), the
// lookup most likely ends on a plain directory, and applying the remount, propagation
// or attributes there would fail or miss the mount just made.
void check_mount_root(int fd, std::string_view what) {
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0) throw_errno("statx", what);
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    throw Error(fmt::format("`{}` is no longer the mount just made there (was a path component swapped?)", what), EBUSY);
}

void remount_bind(int fd, std::string_view what, unsigned long flags, const MountOptions& o) {
  const int e = try_mount_on(nullptr, fd, nullptr, flags);
  if (e == 0) return;
  if (e == EPERM) {
    if (auto retry = keep_locked_flags(flags, o, statfs_flags(fd, what)))
      if (try_mount_on(nullptr, fd, nullptr, *retry) == 0) return;
  }
  throw Error(describe_mount("", what, "", flags), e);
}

void finish_mount(const MountPlan& p, const MountContext& ctx, bool bind, int top_fd) {
  const unsigned long remount = bind ? bind_remount_flags(p.options) : 0;
  if (remount == 0 && p.options.propagation.empty() && !p.options.has_recursive_attrs()) return;
  sys::Fd reopened;
  if (top_fd < 0) {
    // mount(2) gave no fd of the new mount, and the one opened before mounting refers
    // to the covered directory: reopen, inside the root, and check that it is a mount's
    // root (what a swapped path component would most likely not be).
    reopened = open_in_root(ctx.root_fd, p.destination, Create::None);
    check_mount_root(reopened.get(), p.destination);
    top_fd = reopened.get();
  }
  if (remount != 0) remount_bind(top_fd, p.destination, remount, p.options);
  for (unsigned long prop : p.options.propagation) mount_on(nullptr, top_fd, p.destination, nullptr, prop);
  if (p.options.has_recursive_attrs())
    set_mount_attrs(top_fd, p.destination, true, p.options.attr_set, p.options.attr_clr);
}

void apply_mount(const MountPlan& p, const MountContext& ctx) {
  switch (p.kind) {
    case MountKind::Bind:
      return mount_bind(p, ctx);
    case MountKind::Sysfs:
      // A fresh sysfs shows the network devices of the current netns: without a
      // new one, bind the host's (runc falls back the same way).
      mount_or_bind_host(p, ctx, "/sys", ctx.opt.new_net_ns);
      return;
    case MountKind::Mqueue:
      // Needs the ipc namespace owned by our user namespace. Mounted without context= (older
      // kernels refuse it on mqueue): its root is labelled instead, as runc does; never the
      // host's, when that was bound.
      if (mount_or_bind_host(p, ctx, "/dev/mqueue", true) && !ctx.opt.mount_label.empty())
        lsm::label_mount_root(open_in_root(ctx.root_fd, p.destination, Create::None).get(), p.destination,
                              ctx.opt.mount_label);
      return;
    case MountKind::Cgroup:
      return mount_cgroup(p, ctx);
    case MountKind::Cgroup2:
      return mount_cgroup2(p, ctx);
    case MountKind::Tmpfs:
      if (p.options.tmpcopyup) return mount_tmpfs_copyup(p, ctx);
      return mount_fs(p, ctx);
    case MountKind::Proc:
    case MountKind::Devpts:
    case MountKind::Other:
      return mount_fs(p, ctx);
  }
}

}  // namespace berth::mount
