// Internal to runtime/mount: performing one planned spec mount inside the
// rootfs (mounts.cpp), and the cgroup filesystems (cgroupfs.cpp).
#pragma once

#include <string_view>
#include <vector>

#include "runtime/mount/options.hpp"
#include "runtime/mount/rootfs.hpp"

namespace berth::mount {

struct MountContext {
  int root_fd;                // O_PATH fd of the rootfs (after it was bound on itself)
  const RootfsOptions& opt;
};

// Performs p; errors carry no "mounts[i]" prefix (the caller adds it).
void apply_mount(const MountPlan& p, const MountContext& ctx);

// After mounting at p.destination: the bind remount (when `bind`), the
// propagation options and the recursive attributes, on the new mount: top_fd
// when the caller has an fd of it (open_tree/move_mount), else p.destination
// opened again inside the root.
void finish_mount(const MountPlan& p, const MountContext& ctx, bool bind, int top_fd = -1);

// Throws (EBUSY) unless fd is the root of a mount: for a destination opened again by
// name after mounting on it, where a swapped path component would lead elsewhere.
void check_mount_root(int fd, std::string_view what);

// MS_BIND|MS_REMOUNT with `flags` on the mount fd is the root of; on EPERM
// retries keeping the flags the kernel locked (user namespaces), as runc.
void remount_bind(int fd, std::string_view what, unsigned long flags, const MountOptions& o);

// type "cgroup": cgroup2 on a pure v2 host; else a tmpfs with one hierarchy per
// host v1 hierarchy, plus `unified`, and the combined-controller symlinks.
void mount_cgroup(const MountPlan& p, const MountContext& ctx);
// type "cgroup2" (or "cgroup" on a v2 host); binds the host's when mounting fails.
void mount_cgroup2(const MountPlan& p, const MountContext& ctx);

}  // namespace berth::mount
