// sd_notify through the container, as runc does it: when berth's caller sets NOTIFY_SOCKET
// (systemd, or podman with --sdnotify=container), the container gets its own datagram socket
// at /run/notify/notify.sock (a bind mount of <state>/<id>/notify) and NOTIFY_SOCKET pointing
// there; after start, berth waits for the container's READY=1 and forwards
// "READY=1\nMAINPID=<pid>" to the caller's socket.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/sys/fd.hpp"

namespace berth::notify {

inline constexpr const char* kStateDir = "notify";  // under the container's state directory
inline constexpr const char* kContainerDir = "/run/notify";
inline constexpr const char* kContainerSocket = "/run/notify/notify.sock";

// Binds <state_dir>/notify/notify.sock (replacing one left by an earlier start), writable by
// the container's users.
sys::Fd bind_socket(const std::string& state_dir);

// Reads the container's messages until one says READY=1, then forwards READY=1 and MAINPID to
// `host_socket` (a path, or "@name" for the abstract namespace). Returns false, forwarding
// nothing, when init (pinned by `pidfd`) exits first.
bool forward_ready(int sock, int pidfd, pid_t pid, const std::string& host_socket);

}  // namespace berth::notify
