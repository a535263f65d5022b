// `berth run` in the foreground: berth stays the parent (or subreaper) of the container's init,
// forwards every signal it receives to it, reaps orphans, and returns init's exit status, as
// runc's signal handler does. Signals are blocked for the proxy's lifetime and taken with
// sigwaitinfo(2), so none is lost between start and the wait.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace berth {

class SignalProxy {
 public:
  // Blocks the forwardable signals (all but SIGKILL, SIGSTOP and the synchronous faults).
  // Construct it only after the container is created: children inherit the signal mask.
  SignalProxy();
  ~SignalProxy();
  SignalProxy(const SignalProxy&) = delete;
  SignalProxy& operator=(const SignalProxy&) = delete;

  // Forwards signals to `init` until it exits; returns its status as a shell would report it
  // (the exit code, or 128+N when killed by signal N). Other children that exit meanwhile
  // (processes reparented to us as subreaper) are reaped and ignored.
  int forward_until_exit(pid_t init);

 private:
  sigset_t blocked_;
  sigset_t previous_;
};

}  // namespace berth
