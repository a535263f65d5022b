#include "runtime/exe_seal.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth {

sys::Fd memfd_sealed_copy() {
  sys::Fd src = sys::openat(AT_FDCWD, "/proc/self/exe", O_RDONLY);
  const int mfd = ::memfd_create("berth", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) throw_errno("memfd_create berth");
  sys::Fd dst(mfd);
  struct stat st;
  if (::fstat(src.get(), &st) < 0) throw_errno("fstat", "/proc/self/exe");
  off_t off = 0;
  while (off < st.st_size) {
    const ssize_t n = ::sendfile(dst.get(), src.get(), &off, static_cast<size_t>(st.st_size - off));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("sendfile", "/proc/self/exe");
    }
    if (n == 0) break;
  }
  if (::fcntl(dst.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    throw_errno("fcntl F_ADD_SEALS", "memfd:berth");
  return dst;
}

sys::Fd sealed_self_exe() {
  const long tree = ::syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) {
    if (errno == EPERM || errno == ENOSYS) return memfd_sealed_copy();
    throw_errno("open_tree", "/proc/self/exe");
  }
  sys::Fd fd(static_cast<int>(tree));
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::syscall(SYS_mount_setattr, fd.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    if (errno == EPERM || errno == ENOSYS || errno == EINVAL) return memfd_sealed_copy();
    throw_errno("mount_setattr MOUNT_ATTR_RDONLY", "/proc/self/exe");
  }
  return fd;
}

}  // namespace berth
