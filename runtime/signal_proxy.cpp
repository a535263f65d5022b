#include "runtime/signal_proxy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/sys/syscalls.hpp"
#include "runtime/terminal.hpp"

namespace berth {

namespace {

// Returns init's wait status once it has been reaped; reaps every other exited child.
bool reap(pid_t init, int& status) {
  for (;;) {
    int st;
    const pid_t p = ::waitpid(-1, &st, WNOHANG);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0 && errno == ECHILD) throw Error(fmt::format("wait for container init (pid {}): not our child", init), ECHILD);
    if (p <= 0) return false;
    if (p == init) {
      status = st;
      return true;
    }
  }
}

// Copies what `from` has now to `to`. False at end of input (EOF, or EIO: a pty master whose
// slaves are all closed). Write errors (our stdout gone) drop the data: the container runs on.
bool relay(int from, int to) {
  char buf[16384];
  ssize_t n;
  do n = ::read(from, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN;
  if (n == 0) return false;
  for (ssize_t off = 0; off < n;) {
    const ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += w;
  }
  return true;
}

// What the container wrote just before it exited.
void drain(int pty) {
  if (pty < 0) return;
  ::fcntl(pty, F_SETFL, ::fcntl(pty, F_GETFL) | O_NONBLOCK);
  while (relay(pty, STDOUT_FILENO)) {
    pollfd p{pty, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
  }
}

}  // namespace

SignalProxy::SignalProxy() {
  ::sigfillset(&blocked_);
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) ::sigdelset(&blocked_, s);
  ::sigprocmask(SIG_BLOCK, &blocked_, &previous_);
}

SignalProxy::~SignalProxy() { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }

int SignalProxy::forward_until_exit(pid_t init, int pty) {
  int status = 0;
  // init may have exited before the signals were blocked: its SIGCHLD is gone, the zombie is not.
  if (reap(init, status)) {
    drain(pty);
    return sys::exit_status(status);
  }
  const int sfd_raw = ::signalfd(-1, &blocked_, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd_raw < 0) throw_errno("signalfd");
  sys::Fd sfd(sfd_raw);
  bool stdin_open = pty >= 0, pty_open = pty >= 0;
  if (pty >= 0) terminal::copy_window_size(STDIN_FILENO, pty);
  for (;;) {
    pollfd fds[3] = {{sfd.get(), POLLIN, 0},
                     {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                     {pty_open ? pty : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    if (fds[2].revents) pty_open = relay(pty, STDOUT_FILENO);
    if (fds[1].revents) stdin_open = relay(STDIN_FILENO, pty);
    if (!fds[0].revents) continue;
    signalfd_siginfo si;
    while (::read(sfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      const int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGCHLD) {
        if (reap(init, status)) {
          drain(pty_open ? pty : -1);
          return sys::exit_status(status);
        }
      } else if (sig == SIGWINCH && pty >= 0) {
        terminal::copy_window_size(STDIN_FILENO, pty);  // the container's pty follows ours
      } else if (::kill(init, sig) < 0 && errno != ESRCH) {  // ESRCH: its SIGCHLD is on the way
        throw_errno(fmt::format("forward signal {} to pid {}", sig, init));
      }
    }
  }
}

}  // namespace berth
