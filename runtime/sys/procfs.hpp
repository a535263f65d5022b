// Reads and writes of /proc knobs that cannot be redirected.
//
// A container's mounts can cover any file under /proc (a bind of /dev/null over
// /proc/self/attr/exec, a tmpfs over /proc/sys/kernel, a symlink swapped in while we
// work: CVE-2025-52881, CVE-2019-16884). Every /proc path berth writes to is therefore
// opened beneath a procfs root that is checked to be a real procfs, without crossing
// into another mount (RESOLVE_NO_XDEV) or following magic links, and the opened file
// is checked again (fstatfs == PROC_SUPER_MAGIC) before anything is written.
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

// Forgets the cached procfs root: call after the mount namespace or root changed
// (pivot_root), so the next open_proc finds the container's /proc.
void reset_proc_root() noexcept;

}  // namespace berth::sys
