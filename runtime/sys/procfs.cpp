#include "runtime/sys/procfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::sys {

namespace {

// The root of a procfs has inode 1 (PROC_ROOT_INO).
constexpr ino_t kProcRootIno = 1;

Fd g_root;               // cached procfs root (a detached mount, or an O_PATH fd of /proc)
bool g_private = false;  // g_root is our own instance

void check_procfs(int fd, const std::string& what) {
  struct statfs sf {};
  if (::fstatfs(fd, &sf) < 0) throw Error(fmt::format("fstatfs {}", what), errno);
  if (sf.f_type != PROC_SUPER_MAGIC)
    throw Error(fmt::format("{} is not on a procfs (filesystem type {:#x})", what, static_cast<unsigned long>(sf.f_type)),
                EXDEV);
}

// A procfs instance nobody else can reach: fsmount returns a detached mount, so no
// mount in any namespace covers anything in it. It shows the pid namespace of the
// caller (the container's, when init makes it). Every failure means "not available
// here" (ENOSYS, EPERM without CAP_SYS_ADMIN over the pid namespace's owner, EPERM when
// the kernel finds the mount "too revealing" in a user namespace): the caller falls back.
Fd private_procfs() noexcept {
  const int fs = static_cast<int>(::syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC));
  if (fs < 0) return Fd();
  Fd ctx(fs);
  if (::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return Fd();
  const int mnt = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                                             MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  return Fd(mnt);  // invalid on failure
}

Fd mounted_procfs() {
  const int fd = ::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw Error("open /proc", errno);
  Fd root(fd);
  check_procfs(root.get(), "/proc");
  struct stat st {};
  if (::fstat(root.get(), &st) < 0) throw Error("fstat /proc", errno);
  if (st.st_ino != kProcRootIno) throw Error("/proc is not the root of a procfs (something is mounted over it)", EXDEV);
  return root;
}

int proc_root() {
  if (g_root.valid()) return g_root.get();
  if (Fd own = private_procfs(); own.valid()) {
    g_root = std::move(own);
    g_private = true;
  } else {
    g_root = mounted_procfs();
    g_private = false;
  }
  return g_root.get();
}

}  // namespace

Fd open_proc(std::string_view path, int flags) {
  const std::string what = fmt::format("/proc/{}", path);
  open_how how{};
  // openat2 refuses O_PATH with flags open(2) would ignore, such as O_NOCTTY.
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY));
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const std::string rel(path);
  const int root = proc_root();
  int fd;
  do {
    fd = static_cast<int>(::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) {
    const int e = errno;
    if (e == EXDEV)
      throw Error(fmt::format("open {}: the path crosses a mount or leaves /proc (is something mounted over it?)", what), e);
    if (e == ELOOP) throw Error(fmt::format("open {}: the path goes through a magic link or a symlink loop", what), e);
    throw Error(fmt::format("open {}", what), e);
  }
  Fd out(fd);
  check_procfs(out.get(), what);
  return out;
}

void write_proc(std::string_view path, std::string_view data) {
  Fd fd = open_proc(path, O_WRONLY);
  write_all(fd.get(), data, fmt::format("/proc/{}", path));
}

void reset_proc_root() noexcept {
  g_root.reset();
  g_private = false;
}

bool proc_root_is_private() noexcept { return g_root.valid() && g_private; }

}  // namespace berth::sys
