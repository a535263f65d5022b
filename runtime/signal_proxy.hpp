// `berth run` in the foreground: berth stays the parent (or subreaper) of the container's init,
// forwards every signal it receives to it, reaps orphans, and returns init's exit status, as
// runc's signal handler does. With a terminal it also relays the container's pty to its own
// stdio and resizes it on SIGWINCH. Signals are blocked for the proxy's lifetime and read from a
// signalfd, so none is lost between start and the wait.
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
  // (processes reparented to us as subreaper) are reaped and ignored. With `pty` (the
  // container's pty master): stdin is copied to it, its output to stdout, and SIGWINCH resizes
  // it to stdin's window instead of being forwarded.
  int forward_until_exit(pid_t init, int pty = -1);

 private:
  sigset_t blocked_;
  sigset_t previous_;
};

}  // namespace berth
