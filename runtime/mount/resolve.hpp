// Opening and creating paths inside the rootfs without ever leaving it.
//
// A container image controls its rootfs, so any component of a mount
// destination may be a symlink, and may be swapped for one while we work. Paths
// are therefore resolved as if root_fd were "/" (openat2 RESOLVE_IN_ROOT
// semantics: "..", absolute symlinks and dangling symlinks all stay inside),
// one component at a time with O_NOFOLLOW when something has to be created,
// and the caller mounts onto the returned fd (/proc/self/fd/N), never onto a
// path string that could be re-resolved differently.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "runtime/sys/fd.hpp"

namespace berth::mount {

enum class Create {
  None,  // the path must exist
  Dir,   // missing components, the last included, become directories
  File,  // missing parents become directories, a missing last component an empty file
};

// An O_PATH fd of `path` (a container path; absolute or relative to the root)
// resolved inside root_fd, creating what is missing as `create` says. Throws
// berth::Error naming the path (ENOENT with Create::None).
sys::Fd open_in_root(int root_fd, std::string_view path, Create create, mode_t dir_mode = 0755);

// As open_in_root with Create::None, but nullopt when the path does not exist.
std::optional<sys::Fd> try_open_in_root(int root_fd, std::string_view path);

}  // namespace berth::mount
