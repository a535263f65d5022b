#include "runtime/mount/rootfs.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "runtime/mount/cgroupfs.hpp"
#include "runtime/mount/devices.hpp"
#include "runtime/mount/mounts.hpp"
#include "runtime/mount/options.hpp"
#include "runtime/mount/syscalls.hpp"
#include "runtime/process/lsm.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::mount {

namespace {

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// pivot_root(2) refuses a new root whose parent mount is shared, and a shared
// parent would also propagate the rootfs bind to the host: make the mount that
// holds the rootfs private. MS_PRIVATE on a path that is not a mount point is
// EINVAL, so walk up until one is found (runc's rootfsParentMountPrivate).
void make_parent_private(std::string path) {
  for (;;) {
    if (::mount(nullptr, path.c_str(), nullptr, MS_PRIVATE, nullptr) == 0) return;
    if (errno != EINVAL || path == "/") throw_errno("make private the mount holding", path);
    path = parent_dir(path);
  }
}

// runc's pivotRoot: pivot_root(".", ".") stacks the old root on top of the new
// one at "/", so no put_old directory is needed; it is then detached from
// under us. It is made rslave first so the unmount cannot propagate to the host.
void pivot(const std::string& rootfs) {
  sys::Fd old_root = sys::openat(AT_FDCWD, "/", O_DIRECTORY | O_RDONLY);
  sys::Fd new_root = sys::openat(AT_FDCWD, rootfs, O_DIRECTORY | O_RDONLY);
  if (::fchdir(new_root.get()) < 0) throw_errno("chdir", rootfs);
  pivot_root_to(".", ".");
  // The kernel leaves "." at the old root today, but does not promise it.
  if (::fchdir(old_root.get()) < 0) throw_errno("chdir to the old root");
  mount_path(nullptr, ".", nullptr, MS_SLAVE | MS_REC);
  detach(".");
  if (::chdir("/") < 0) throw_errno("chdir", "/");
}

// --no-pivot (runc's msMoveRoot): chroot leaves the host's mounts reachable in
// this mount namespace, and the kernel's "is procfs/sysfs fully visible" check
// for new proc/sysfs mounts in the container looks at all of them: detach (or
// cover) the host's full proc and sysfs mounts first. Then move the rootfs onto
// "/" and chroot into it.
void move_root(const std::string& rootfs) {
  if (::chdir(rootfs.c_str()) < 0) throw_errno("chdir", rootfs);
  const auto mounts = parse_mountinfo(sys::read_file(AT_FDCWD, "/proc/self/mountinfo"));
  for (const MountInfoEntry& m : mounts) {
    if (m.root != "/" || (m.fstype != "proc" && m.fstype != "sysfs")) continue;
    if (m.mount_point == rootfs || m.mount_point.rfind(rootfs + "/", 0) == 0) continue;
    if (::mount(nullptr, m.mount_point.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
      if (errno == ENOENT || errno == EINVAL) continue;  // already gone with its parent
      throw_errno("make rslave", m.mount_point);
    }
    if (::umount2(m.mount_point.c_str(), MNT_DETACH) < 0) {
      if (errno != EINVAL && errno != EPERM) throw_errno("umount", m.mount_point);
      // Not ours to unmount (locked in a user namespace): cover it.
      mount_path("tmpfs", m.mount_point.c_str(), "tmpfs", 0);
    }
  }
  mount_path(rootfs.c_str(), "/", nullptr, MS_MOVE);
  if (::chroot(".") < 0) throw_errno("chroot", rootfs);
  if (::chdir("/") < 0) throw_errno("chdir", "/");
}

// After pivot_root nothing below goes through /proc/self/fd: the container's /proc is
// whatever its config and image made it (a fake directory, a symlink). Mounts are made
// and changed with fds only: open_tree + move_mount, mount_setattr, fsmount.

// Adds read-only to the mount at `path` (root.readonly, the /dev tmpfs); the other
// flags, locked ones included, stay as they are.
void make_readonly(const std::string& path) {
  sys::Fd fd = openat2(AT_FDCWD, path, O_PATH, RESOLVE_NO_MAGICLINKS);
  set_mount_attrs(fd.get(), path, false, MOUNT_ATTR_RDONLY, 0);
}

// runc's readonlyPath: a recursive bind of the path onto itself, whose top mount is made
// read-only (while still detached, so it is never writable in the container's view).
void readonly_path(const std::string& path) {
  auto fd = try_openat2(AT_FDCWD, path, O_PATH, RESOLVE_NO_MAGICLINKS);
  if (!fd) return;  // nothing to protect
  sys::Fd tree = clone_fd(fd->get(), path, true);
  set_mount_attrs(tree.get(), path, false, MOUNT_ATTR_RDONLY, 0);
  move_tree(tree.get(), fd->get(), path);
}

// What masks are made of, opened on first use.
struct MaskSources {
  sys::Fd dev_null;
  sys::Fd tmpfs;
  bool tmpfs_attached = false;  // moved over the first masked directory: clones come from there
  bool no_fsopen = false;  // fsopen(2) hidden (ENOSYS from a seccomp profile)
  std::string mount_label;  // linux.mountLabel, on the tmpfs as runc labels it
};

// CVE-2025-31133: /dev/null is the container's own, and its /dev may not be the tmpfs
// berth filled (an image's /dev, a bind mount shared with another container): a symlink
// to a /proc file, or a file, put there would be bound over the masked path instead of
// hiding it. Only the null device itself is used; the fd is what gets bound.
sys::Fd open_dev_null(const std::string& masked) {
  sys::Fd fd = openat2(AT_FDCWD, "/dev/null", O_PATH | O_NOFOLLOW, RESOLVE_NO_MAGICLINKS);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) throw_errno("stat", "/dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
    const char* kind = S_ISLNK(st.st_mode) ? "a symlink" : S_ISREG(st.st_mode) ? "a regular file" : "not the null device";
    throw Error(fmt::format("`/dev/null` is {}, not the character device 1:3: refusing to mask `{}` with it", kind, masked),
                EPERM);
  }
  return fd;
}

void mask_path(const std::string& path, MaskSources& src) {
  auto fd = try_openat2(AT_FDCWD, path, O_PATH, RESOLVE_NO_MAGICLINKS);
  if (!fd) return;
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) throw_errno("stat", path);
  if (S_ISDIR(st.st_mode)) {
    // One empty read-only tmpfs for every masked directory.
    if (!src.tmpfs.valid() && !src.no_fsopen) {
      try {
        src.tmpfs = lsm::with_mount_label(src.mount_label, "tmpfs", [&] { return empty_ro_tmpfs(src.mount_label); });
      } catch (const Error& e) {
        if (e.errnum() != ENOSYS) throw;
        src.no_fsopen = true;
      }
    }
    if (src.no_fsopen) {
      // mount(2) by name then: the path was just resolved inside the root, and nothing of
      // the container runs yet to swap it.
      const std::string data = lsm::mount_label_option("", src.mount_label);
      lsm::with_mount_label(src.mount_label, "tmpfs", [&] {
        mount_path("tmpfs", path.c_str(), "tmpfs", MS_RDONLY, data.empty() ? nullptr : data.c_str());
      });
      return;
    }
    // The detached tmpfs itself goes over the first directory, clones of it over the others:
    // kernels before 6.15 cannot clone a mount that is not attached yet (EINVAL).
    if (!src.tmpfs_attached) {
      move_tree(src.tmpfs.get(), fd->get(), path);
      src.tmpfs_attached = true;
      return;
    }
    sys::Fd tree = clone_fd(src.tmpfs.get(), "tmpfs", false);
    move_tree(tree.get(), fd->get(), path);
    return;
  }
  if (!src.dev_null.valid()) src.dev_null = open_dev_null(path);
  bind_fd("/dev/null", src.dev_null.get(), fd->get(), path, false);
}

}  // namespace

void prepare_rootfs(const oci::Spec& spec, const RootfsOptions& opt) {
  // Everything that can be wrong with the spec is found before the first mount.
  const std::vector<MountPlan> plans = plan_mounts(spec);
  const bool setup_dev = needs_dev_setup(plans);
  const std::vector<DeviceNode> nodes = setup_dev ? plan_devices(spec) : std::vector<DeviceNode>{};
  if (opt.rootfs.empty() || opt.rootfs[0] != '/')
    throw Error(fmt::format("root.path: rootfs `{}` is not an absolute path", opt.rootfs));

  const bool explicit_prop = spec.linux && spec.linux->rootfs_propagation;
  with_context(explicit_prop ? "linux.rootfsPropagation" : "rootfs propagation",
               [&] { mount_path(nullptr, "/", nullptr, root_propagation(spec)); });
  with_context("root.path", [&] {
    make_parent_private(opt.rootfs);
    mount_path(opt.rootfs.c_str(), opt.rootfs.c_str(), nullptr, MS_BIND | MS_REC);
  });
  sys::Fd root = sys::openat(AT_FDCWD, opt.rootfs, O_PATH | O_DIRECTORY);
  const MountContext ctx{root.get(), opt};
  for (const MountPlan& p : plans)
    with_context(fmt::format("mounts[{}]", p.index),
                 [&] { lsm::with_mount_label(opt.mount_label, p.type, [&] { apply_mount(p, ctx); }); });
  if (setup_dev) create_devices(nodes, root.get(), opt.user_ns);
}

void enter_rootfs(const RootfsOptions& opt) {
  with_context("enter rootfs", [&] {
    if (opt.no_pivot)
      move_root(opt.rootfs);
    else
      pivot(opt.rootfs);
  });
}

void finish_rootfs(const oci::Spec& spec) {
  const std::vector<MountPlan> plans = plan_mounts(spec);
  if (const unsigned long prop = final_root_propagation(spec))
    with_context("linux.rootfsPropagation", [&] { mount_path(nullptr, "/", nullptr, prop); });

  // /dev was mounted read-write so its nodes could be created (mount_fs).
  const MountPlan* dev = nullptr;
  for (const MountPlan& p : plans)
    if (p.destination == "/dev") dev = &p;
  if (dev && dev->kind == MountKind::Tmpfs && (dev->options.flags & MS_RDONLY))
    with_context(fmt::format("mounts[{}]", dev->index), [&] { make_readonly("/dev"); });

  if (spec.root && spec.root->readonly.value_or(false))
    with_context("root.readonly", [&] { make_readonly("/"); });

  if (spec.linux && spec.linux->readonly_paths) {
    const auto& paths = *spec.linux->readonly_paths;
    for (size_t i = 0; i < paths.size(); ++i)
      with_context(fmt::format("linux.readonlyPaths[{}]", i), [&] { readonly_path(paths[i]); });
  }
  if (spec.linux && spec.linux->masked_paths) {
    MaskSources sources;
    sources.mount_label = spec.linux->mount_label.value_or("");
    const auto& paths = *spec.linux->masked_paths;
    for (size_t i = 0; i < paths.size(); ++i)
      with_context(fmt::format("linux.maskedPaths[{}]", i), [&] { mask_path(paths[i], sources); });
  }
}

}  // namespace berth::mount
