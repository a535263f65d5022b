// The init stage: `berth init`, re-executed by spawn_init() inside the container's namespaces.
// It receives the config over the sync socket, sets the container up, reports Ready, then
// blocks on exec.fifo until `berth start`, and execs the container's process.
#pragma once

#include <string>

namespace berth::init {

// What the parent tells init besides config.json (the first part of the Config message).
struct Envelope {
  std::string id;
  std::string bundle;
  std::string rootfs;  // absolute host path
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;  // every fd passed through: LISTEN_FDS ones and --preserve-fds
  bool debug = false;  // the parent logs at debug level: init sends its debug lines too
  int listen_fds = 0;  // socket activation: LISTEN_FDS=N, LISTEN_PID=1 in the process env
  std::string notify_dir;  // host dir mounted on /run/notify (runtime/notify_socket.hpp)
  // `berth exec`: join the running container (its mount namespace and root come as fds) and
  // exec the process at once; no rootfs set-up, no exec.fifo, no hooks.
  bool exec = false;
};

std::string encode_envelope(const Envelope& e);
Envelope decode_envelope(std::string_view json);

// Every program that creates containers with the library must call this first in main(): the
// init stage is the same program re-executed as `<program> init` (as with runc's libcontainer).
// Enters init_main() when this process is such an init stage; returns otherwise.
void enter_if_init_stage(int argc, char** argv);

// Never returns: execs the container process or exits with status 1 after sending the error.
[[noreturn]] void init_main();

}  // namespace berth::init
