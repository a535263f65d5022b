// The mount syscalls the rootfs code uses, one wrapper each. Targets are fds
// (reached through /proc/self/fd/N) so that a path is resolved once, safely,
// and never again by name; `what` is the container path shown in errors.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/sys/fd.hpp"

namespace berth::mount {

// "/proc/self/fd/N": how mount(2) reaches the file an fd refers to.
std::string fd_path(int fd);

// mount(2) onto the file `target_fd` refers to. Throws with the operation as
// describe_mount() spells it, naming `what`.
void mount_on(const char* source, int target_fd, std::string_view what, const char* fstype,
              unsigned long flags, const char* data = nullptr);
// As mount_on, but returns the errno (0 on success) for callers with a fallback.
int try_mount_on(const char* source, int target_fd, const char* fstype, unsigned long flags,
                 const char* data = nullptr) noexcept;
// mount(2) on a path, for "/" and "." where no fd is needed.
void mount_path(const char* source, const char* target, const char* fstype, unsigned long flags,
                const char* data = nullptr);

// openat2(2): path under dirfd with `resolve` (RESOLVE_*) flags; O_CLOEXEC is added.
sys::Fd openat2(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t resolve,
                mode_t mode = 0);
// As openat2, but nullopt when the path does not exist (ENOENT).
std::optional<sys::Fd> try_openat2(int dirfd, const std::string& path, std::uint64_t flags,
                                   std::uint64_t resolve);

// mount_setattr(2) on the mount fd refers to (AT_EMPTY_PATH).
void set_mount_attrs(int fd, std::string_view what, bool recursive, std::uint64_t attr_set,
                     std::uint64_t attr_clr, std::uint64_t propagation = 0, int userns_fd = -1);
// open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount at path.
sys::Fd clone_tree(const std::string& path, bool recursive);
// As clone_tree, of the file fd refers to (AT_EMPTY_PATH): no path is resolved again.
sys::Fd clone_fd(int fd, std::string_view what, bool recursive);
// move_mount(2) of the detached tree `from` onto the file `to` refers to.
void move_tree(int from, int to, std::string_view what);
// A bind mount of `source` (a path, or the file source_fd refers to when source_fd >= 0)
// onto the file target_fd refers to, made with open_tree + move_mount so that nothing is
// resolved by name through /proc. Returns an fd of the new mount (its root): later
// remounts and attributes go to exactly this mount. Errors read as describe_mount's.
sys::Fd bind_fd(std::string_view source, int source_fd, int target_fd, std::string_view what, bool recursive);
// A fresh filesystem as a detached mount (fsopen, fsconfig, fsmount): `source`, the
// comma-separated `data` and the superblock and per-mount flags of mount(2) `flags`
// (MS_RDONLY, MS_NOSUID, atime, ...) turned into their fsconfig/fsmount equivalents. For
// mounts that need work after mounting (copy-up, recursive attributes, propagation): the
// work acts on the returned fd, before or after move_tree, never on a path looked up again.
// Errors read as describe_mount's, with the kernel's own message when it gave one.
sys::Fd make_fs(const std::string& type, const std::string& source, unsigned long flags, const std::string& data,
                std::string_view what);
// A fresh, detached read-only tmpfs (fsopen/fsmount), for masking directories: moved onto the
// first, cloned for the others, without going through /proc. `context`: linux.mountLabel.
sys::Fd empty_ro_tmpfs(const std::string& context = {});

// pivot_root(2).
void pivot_root_to(const char* new_root, const char* put_old);
// umount2(2) with MNT_DETACH.
void detach(const char* target);

// statfs(2) f_flags of the mount fd is on, as ST_* bits.
unsigned long statfs_flags(int fd, std::string_view what);

}  // namespace berth::mount
