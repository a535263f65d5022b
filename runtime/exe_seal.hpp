// Protection against CVE-2019-5736: a container must never be able to open the berth binary
// that runs its init stage for writing (through /proc/<pid>/exe) and so overwrite the host's
// runtime.
//
// berth re-executes itself from a detached, read-only bind mount of its own binary
// (open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_RDONLY) + execveat(AT_EMPTY_PATH)):
// /proc/<pid>/exe of the init stage then resolves to a read-only mount, and any open for
// writing fails with EROFS, even after berth itself has exited. Cost: two syscalls and no copy,
// against runc's and crun's memfd copy of the whole binary. When the caller may not clone
// mounts (rootless, no CAP_SYS_ADMIN over its mount namespace), fall back to a sealed memfd copy.
#pragma once

#include "runtime/sys/fd.hpp"

namespace berth {

// An fd of berth's own executable that cannot be written through; pass it to execveat.
sys::Fd sealed_self_exe();

// The fallback alone: a sealed memfd copy of the binary (what runc and crun do). Exposed for
// tests/bench/exe_seal.cpp, which compares the two.
sys::Fd memfd_sealed_copy();

}  // namespace berth
