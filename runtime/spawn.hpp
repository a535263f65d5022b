// Spawning the init stage: clone() into the new namespaces, re-exec berth's own (sealed) binary
// as `berth init`, and drive the parent's side of the sync protocol (runtime/init/sync.hpp)
// until init reports Ready.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "oci/spec.hpp"
#include "runtime/namespaces.hpp"
#include "runtime/sys/fd.hpp"

namespace berth {

struct SpawnRequest {
  const oci::Spec* spec = nullptr;
  std::string_view config_text;  // config.json as read: init parses it again, never the bundle
  std::string envelope;          // JSON: id, bundle, rootfs, options (runtime/init/init.cpp)
  ns::Plan* plan = nullptr;
  int fifo_fd = -1;              // O_PATH fd of exec.fifo: init reopens it for writing
  int preserve_fds = 0;
  bool terminal = false;         // init sends the pty master (process.terminal)
  // A seccomp NOTIFY rule: init sends the listener fd (if its filter has one), and this gets it
  // before create returns, so before the container's process can run.
  bool seccomp_notify = false;
  std::function<void(sys::Fd)> seccomp_listener;
  // Puts the container's init into its cgroup: after its pid is known, before it reads the
  // config, so everything it does and starts is accounted and limited there.
  std::function<void(pid_t)> join_cgroup;
  // Runs prestart and createRuntime hooks in the runtime namespace; returns the state JSON that
  // init passes to createContainer and startContainer hooks.
  std::function<std::string(pid_t)> runtime_hooks;
  // `berth exec`: a process joining a running container. No exec.fifo and no hooks; the
  // container's mount namespace (mnt_ns_fd, /proc/<init>/ns/mnt) and root (root_fd,
  // /proc/<init>/root) are entered by init after it has been exec'd, because berth's binary and
  // its libraries are the host's.
  bool exec = false;
  int mnt_ns_fd = -1;
  int root_fd = -1;
};

struct Spawned {
  pid_t pid = -1;    // the container's init, in berth's pid namespace
  pid_t child = -1;  // our direct child: pid, or the intermediate that forked it (already reaped)
  sys::Fd pty;       // the container's pty master (terminal only)
};

// On failure the spawned processes are killed and reaped before the error is rethrown.
Spawned spawn_init(SpawnRequest& req);

}  // namespace berth
