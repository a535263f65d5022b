// Reads and writes of /proc knobs that cannot be redirected.
//
// A container's mounts can cover any file under /proc (a bind of /dev/null over
// /proc/self/attr/exec, a tmpfs over /proc/sys/kernel, a symlink swapped in while we
// work: CVE-2025-52881, CVE-2019-16884). Every /proc path berth writes to is therefore
// opened beneath a procfs root that nothing can cover:
//   - preferably a private procfs instance of our own (fsopen("proc") + fsmount): a
//     detached mount that is in no mount namespace, so no mount made by anyone, the
//     container's config included, can cover a file in it;
//   - else (no new mount API, or no privilege to mount a procfs: rootless without a pid
//     namespace, "mount too revealing") the process's /proc, checked to be the root of
//     a real procfs (fstatfs == PROC_SUPER_MAGIC, inode 1).
// Paths are opened with openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
// RESOLVE_NO_XDEV, so a lookup that crosses a mount or follows a magic link fails, and
// the opened file is checked again (fstatfs) before anything is written.
#pragma once

#include <string>
#include <string_view>

#include "runtime/sys/fd.hpp"

namespace berth::sys {

// An fd of path (relative to the procfs root: "sys/net/ipv4/ip_forward",
// "self/oom_score_adj", "thread-self/attr/exec") opened with flags. Throws berth::Error
// naming the path when /proc is not a procfs, the path crosses a mount or a magic link,
// or the file is not on a procfs.
Fd open_proc(std::string_view path, int flags);

// Writes data to /proc/<path> opened with open_proc(path, O_WRONLY).
void write_proc(std::string_view path, std::string_view data);

// Forgets (closes) the cached procfs root: call after the mount namespace or root changed
// (pivot_root), so the next open_proc finds the container's /proc, and before handing
// control to anything that must not inherit it.
void reset_proc_root() noexcept;

// Whether the cached procfs root is a private instance (false: the verified /proc, or
// nothing cached yet). For tests and debug logs.
bool proc_root_is_private() noexcept;

}  // namespace berth::sys
