#include "runtime/terminal.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::terminal {

sys::Fd setup_console(const oci::Process& p) {
  // /dev/ptmx is the symlink to pts/ptmx that the rootfs set-up made: the container's devpts.
  sys::Fd master = with_context("process.terminal", [] { return sys::openat(AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY); });
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
  // /dev/console: a regular file mounted over by the slave (the container's /dev is our tmpfs).
  with_context("/dev/console", [&] {
    const int fd = ::open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) throw_errno("create", "/dev/console");
    if (fd >= 0) ::close(fd);
    if (::mount(name, "/dev/console", nullptr, MS_BIND, nullptr) < 0) throw_errno(fmt::format("bind mount `{}` on", name), "/dev/console");
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
