// Terminals (process.terminal: true), as runc does them:
// - the init stage opens a pty in the container's own devpts instance, sizes it from
//   process.consoleSize, bind-mounts the slave on /dev/console, makes it the controlling
//   terminal and stdio of the process, and sends the master to the parent over the sync socket;
// - the parent hands the master to --console-socket (SCM_RIGHTS; containerd and conmon receive
//   it this way), or, for `berth run` in the foreground, relays it to its own stdio
//   (runtime/signal_proxy.hpp) with the host terminal in raw mode.
#pragma once

#include <termios.h>

#include <optional>
#include <string>

#include "oci/spec.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::terminal {

// Init stage, inside the container after pivot_root and before the root is made read-only.
// Returns the master. With bind_console the slave is also bind-mounted on /dev/console (the
// container's init); `exec` processes get only their own pty.
sys::Fd setup_console(const oci::Process& p, bool bind_console = true);

// Parent, before anything is spawned: a bad --console-socket fails create at once.
sys::Fd connect_console_socket(const std::string& path);
// Sends the master to the console socket, as runc does (the data is the pty's name).
void send_master(int console_socket, int master, const std::string& path);

// Copies the window size of `from` (the caller's terminal) to `to` (the container's pty).
void copy_window_size(int from, int to) noexcept;

// The caller's terminal in raw mode for the lifetime of the object (nothing when fd is not a
// terminal); restored on destruction, even when the container failed.
class RawMode {
 public:
  explicit RawMode(int fd);
  ~RawMode();
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

 private:
  int fd_;
  std::optional<termios> saved_;
};

}  // namespace berth::terminal
