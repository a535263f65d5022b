#include "runtime/terminal.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "runtime/mount/syscalls.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::terminal {

sys::Fd setup_console(const oci::Process& p, bool bind_console) {
  // /dev/ptmx is the symlink to pts/ptmx that the rootfs set-up made: the container's devpts.
  // No magic link (/proc/self/fd/N, /proc/1/root/...) may stand in for /dev/ptmx.
  sys::Fd master = with_context("process.terminal", [] {
    return mount::openat2(AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY, RESOLVE_NO_MAGICLINKS);
  });
  if (::unlockpt(master.get()) < 0) throw_errno("process.terminal: unlockpt", "/dev/ptmx");
  char name[64];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) throw_errno("process.terminal: ptsname", "/dev/ptmx");
  // TIOCGPTPEER opens the slave of this very master, whatever the path resolves to.
  const int slave_fd = ::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave_fd < 0) throw_errno("process.terminal: ioctl TIOCGPTPEER", name);
  sys::Fd slave(slave_fd);
  if (p.console_size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(p.console_size->height);
    ws.ws_col = static_cast<unsigned short>(p.console_size->width);
    if (::ioctl(master.get(), TIOCSWINSZ, &ws) < 0) throw_errno("process.consoleSize: ioctl TIOCSWINSZ", name);
  }
  // /dev/console: a file the slave is bound on (CVE-2025-52565). /dev may be the image's
  // rather than our tmpfs, so what is there is opened without following a symlink (which
  // would carry the bind to its target: /proc/sysrq-trigger, a /proc/sys file) and must be
  // a regular file or a character device. The bind goes from the slave's fd to that fd:
  // no path is resolved again, and nothing goes through the container's /proc.
  // An exec'd process gets a terminal of its own; the console stays the container's.
  if (bind_console) with_context("process.terminal", [&] {
    sys::Fd dev = mount::openat2(AT_FDCWD, "/dev", O_PATH | O_DIRECTORY, RESOLVE_NO_MAGICLINKS);
    int fd = ::openat(dev.get(), "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno != EEXIST) throw_errno("create", "/dev/console");
      fd = ::openat(dev.get(), "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) throw_errno("open", "/dev/console");
    }
    sys::Fd console(fd);
    struct stat st {};
    if (::fstat(console.get(), &st) < 0) throw_errno("stat", "/dev/console");
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
      const char* kind = S_ISLNK(st.st_mode) ? "a symlink" : S_ISDIR(st.st_mode) ? "a directory" : "a special file";
      throw Error(fmt::format("`/dev/console` is {}: refusing to mount the terminal on it", kind), EPERM);
    }
    mount::bind_fd(name, slave.get(), console.get(), "/dev/console", false);
  });
  // init called setsid(): the slave becomes its controlling terminal.
  if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0) throw_errno("process.terminal: ioctl TIOCSCTTY", name);
  for (int target = 0; target <= 2; ++target)
    if (::dup2(slave.get(), target) < 0) throw_errno(fmt::format("process.terminal: dup2 to fd {}", target), name);
  return master;
}

sys::Fd connect_console_socket(const std::string& path) { return sys::connect_unix(path, "--console-socket"); }

void send_master(int console_socket, int master, const std::string& path) {
  with_context("--console-socket", [&] { sys::send_fd(console_socket, "/dev/ptmx", master, path); });
}

void copy_window_size(int from, int to) noexcept {
  winsize ws;
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) (void)::ioctl(to, TIOCSWINSZ, &ws);
}

RawMode::RawMode(int fd) : fd_(fd) {
  termios t;
  if (::tcgetattr(fd, &t) < 0) return;  // not a terminal: nothing to do
  saved_ = t;
  ::cfmakeraw(&t);
  // Keep output post-processing off as well (cfmakeraw clears OPOST): the container's pty
  // already turns \n into \r\n.
  if (::tcsetattr(fd, TCSANOW, &t) < 0) saved_.reset();
}

RawMode::~RawMode() {
  if (saved_) (void)::tcsetattr(fd_, TCSANOW, &*saved_);
}

}  // namespace berth::terminal
