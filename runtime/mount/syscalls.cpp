#include "runtime/mount/syscalls.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cerrno>

#include <fmt/format.h>

#include "runtime/mount/options.hpp"
#include "runtime/sys/error.hpp"

namespace berth::mount {

std::string fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

int try_mount_on(const char* source, int target_fd, const char* fstype, unsigned long flags,
                 const char* data) noexcept {
  char target[32];
  fmt::format_to_n(target, sizeof target - 1, "/proc/self/fd/{}", target_fd).out[0] = '\0';
  if (::mount(source, target, fstype, flags, data) == 0) return 0;
  return errno;
}

void mount_on(const char* source, int target_fd, std::string_view what, const char* fstype,
              unsigned long flags, const char* data) {
  const int e = try_mount_on(source, target_fd, fstype, flags, data);
  if (e != 0)
    throw Error(describe_mount(source ? source : "", what, fstype ? fstype : "", flags), e);
}

void mount_path(const char* source, const char* target, const char* fstype, unsigned long flags,
                const char* data) {
  if (::mount(source, target, fstype, flags, data) < 0) {
    const int e = errno;
    throw Error(describe_mount(source ? source : "", target, fstype ? fstype : "", flags), e);
  }
}

namespace {

long raw_openat2(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t resolve, mode_t mode) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  long fd;
  // RESOLVE_IN_ROOT answers EAGAIN when a concurrent rename might have let ".."
  // escape; the documented answer is to try again.
  int again = 0;
  do fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++again < 16)));
  return fd;
}

}  // namespace

sys::Fd openat2(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t resolve, mode_t mode) {
  const long fd = raw_openat2(dirfd, path, flags, resolve, mode);
  if (fd < 0) throw_errno("open", path);
  return sys::Fd(static_cast<int>(fd));
}

std::optional<sys::Fd> try_openat2(int dirfd, const std::string& path, std::uint64_t flags,
                                   std::uint64_t resolve) {
  const long fd = raw_openat2(dirfd, path, flags, resolve, 0);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open", path);
  }
  return sys::Fd(static_cast<int>(fd));
}

void set_mount_attrs(int fd, std::string_view what, bool recursive, std::uint64_t attr_set,
                     std::uint64_t attr_clr, std::uint64_t propagation, int userns_fd) {
  mount_attr attr{};
  attr.attr_set = attr_set;
  attr.attr_clr = attr_clr;
  attr.propagation = propagation;
  attr.userns_fd = userns_fd >= 0 ? static_cast<std::uint64_t>(userns_fd) : 0;
  const unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (::mount_setattr(fd, "", flags, &attr, sizeof attr) < 0)
    throw_errno(fmt::format("mount_setattr{} (set {:#x}, clear {:#x})", recursive ? " recursive" : "",
                            attr_set, attr_clr),
                what);
}

sys::Fd clone_tree(const std::string& path, bool recursive) {
  const int fd = ::open_tree(AT_FDCWD, path.c_str(),
                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (fd < 0) throw_errno("open_tree", path);
  return sys::Fd(fd);
}

void move_tree(int from, int to, std::string_view what) {
  if (::move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    throw_errno("move_mount to", what);
}

void pivot_root_to(const char* new_root, const char* put_old) {
  if (::syscall(SYS_pivot_root, new_root, put_old) < 0) throw_errno("pivot_root", new_root);
}

void detach(const char* target) {
  if (::umount2(target, MNT_DETACH) < 0) throw_errno("umount", target);
}

unsigned long statfs_flags(int fd, std::string_view what) {
  struct statvfs st {};
  if (::fstatvfs(fd, &st) < 0) throw_errno("statfs", what);
  return st.f_flag;
}

}  // namespace berth::mount
