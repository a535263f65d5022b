// The container's root filesystem, in the three steps `berth init` runs as pid 1
// of the container, already inside its new mount namespace (and user namespace,
// if any, with the id maps written). Errors are berth::Error naming the spec
// field first: "mounts[3]: mount `proc` on `/proc` (proc): Operation not permitted".
#pragma once

#include <string>

#include "oci/spec.hpp"

namespace berth::mount {

struct RootfsOptions {
  std::string rootfs;      // absolute, canonical host path of the rootfs (bundle-relative already resolved)
  bool no_pivot = false;   // --no-pivot: MS_MOVE + chroot instead of pivot_root
  bool user_ns = false;    // the container has a new user namespace (mknod not allowed: bind devices)
  bool new_net_ns = false; // sysfs can only be mounted fresh with a new netns (else rbind /sys)
  bool new_cgroup_ns = false;
  std::string mount_label;  // linux.mountLabel: context= of the fresh mounts runc labels (process/lsm.hpp)
};

// Step 1, before the createRuntime/createContainer hooks: applies
// linux.rootfsPropagation to "/" (rslave by default, as runc), makes the
// rootfs's parent mount private and the rootfs a mount point (bound on itself),
// performs spec.mounts in order, and creates /dev content (default devices,
// linux.devices, /dev/ptmx, /dev/fd...) unless /dev is a bind mount.
// Relative bind sources are resolved against the current directory: the
// caller runs this with the bundle as cwd (as runc does).
void prepare_rootfs(const oci::Spec& spec, const RootfsOptions& opt);

// Step 2, after the createContainer hooks: pivot_root(".", ".") into the rootfs
// and detach the old root (or, with no_pivot, hide the host's proc/sys, MS_MOVE
// the rootfs onto "/" and chroot), then chdir("/").
void enter_rootfs(const RootfsOptions& opt);

// Step 3, inside the new root: the final propagation of "/" (shared or
// unbindable), /dev read-only if its mount asked for it, root.readonly,
// linux.readonlyPaths, then linux.maskedPaths (runc's order).
void finish_rootfs(const oci::Spec& spec);

}  // namespace berth::mount
