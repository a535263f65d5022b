#include "runtime/sys/procfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::sys {

namespace {

// The root of a procfs has inode 1 (PROC_ROOT_INO).
constexpr ino_t kProcRootIno = 1;

Fd g_root;  // cached procfs root (O_PATH)

void check_procfs(int fd, const std::string& what) {
  struct statfs sf {};
  if (::fstatfs(fd, &sf) < 0) throw Error(fmt::format("fstatfs {}", what), errno);
  if (sf.f_type != PROC_SUPER_MAGIC)
    throw Error(fmt::format("{} is not on a procfs (filesystem type {:#x})", what, static_cast<unsigned long>(sf.f_type)),
                EXDEV);
}

int proc_root() {
  if (g_root.valid()) return g_root.get();
  const int fd = ::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw Error("open /proc", errno);
  Fd root(fd);
  check_procfs(root.get(), "/proc");
  struct stat st {};
  if (::fstat(root.get(), &st) < 0) throw Error("fstat /proc", errno);
  if (st.st_ino != kProcRootIno) throw Error("/proc is not the root of a procfs (something is mounted over it)", EXDEV);
  g_root = std::move(root);
  return g_root.get();
}

}  // namespace

Fd open_proc(std::string_view path, int flags) {
  const std::string what = fmt::format("/proc/{}", path);
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOCTTY);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const std::string rel(path);
  int fd;
  do {
    fd = static_cast<int>(::syscall(SYS_openat2, proc_root(), rel.c_str(), &how, sizeof how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) {
    const int e = errno;
    if (e == EXDEV) throw Error(fmt::format("open {}: the path crosses a mount (is something mounted over it?)", what), e);
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

void reset_proc_root() noexcept { g_root.reset(); }

}  // namespace berth::sys
