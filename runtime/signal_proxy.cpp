#include "runtime/signal_proxy.hpp"

#include <sys/wait.h>

#include <cerrno>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

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

}  // namespace

SignalProxy::SignalProxy() {
  ::sigfillset(&blocked_);
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) ::sigdelset(&blocked_, s);
  ::sigprocmask(SIG_BLOCK, &blocked_, &previous_);
}

SignalProxy::~SignalProxy() { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }

int SignalProxy::forward_until_exit(pid_t init) {
  int status = 0;
  // init may have exited before the signals were blocked: its SIGCHLD is gone, the zombie is not.
  if (reap(init, status)) return sys::exit_status(status);
  for (;;) {
    siginfo_t info;
    const int sig = ::sigwaitinfo(&blocked_, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      throw_errno("sigwaitinfo");
    }
    if (sig == SIGCHLD) {
      if (reap(init, status)) return sys::exit_status(status);
      continue;
    }
    // ESRCH: init exited and its SIGCHLD is on the way.
    if (::kill(init, sig) < 0 && errno != ESRCH) throw_errno(fmt::format("forward signal {} to pid {}", sig, init));
  }
}

}  // namespace berth
