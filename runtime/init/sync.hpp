// The parent <-> init stage protocol over a SOCK_SEQPACKET socket pair.
//
//   parent (berth create)                         init stage (berth init)
//   ---------------------                         -----------------------
//   clone(new namespaces)
//                                    <-------     UsermapRequest (new user namespace only)
//   write uid_map, gid_map; UsermapDone ---->     setresuid(0), execveat(berth init)
//   Config {envelope, config.json}   ------->
//                                                 mounts, devices, hostname, ...
//                                    <-------     HooksRequest {"createRuntime"}
//   run prestart + createRuntime hooks
//   HooksDone                        ------->
//                                                 createContainer hooks, pivot_root,
//                                                 credentials, capabilities
//                                    <-------     Ready {pid}
//   write state.json "created", exit
//                                                 block on exec.fifo until `start`
// At any point init may send Log (forwarded to the parent's logger) or Error (errno and
// message; the parent rethrows it as berth::Error prefixed "init: ").
//
// One packet is one message: a 16-byte header, then the payload. Payloads larger than one
// packet continue in further packets with no header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/sys/fd.hpp"

namespace berth::init {

enum class SyncMsg : std::uint32_t {
  Error = 1,     // init -> parent: errnum + message
  Log,           // init -> parent: "<level> <text>"
  Config,        // parent -> init: envelope JSON, '\0', config.json text
  UsermapRequest,  // child -> parent: the new user namespace exists, write uid_map/gid_map
  UsermapDone,     // parent -> child
  Pid,           // intermediate -> parent: the init stage's pid, when it was forked by an intermediate
  HooksRequest,  // init -> parent: which hook kinds to run in the runtime namespace
  HooksDone,     // parent -> init
  Ready,         // init -> parent: set-up done; payload: the container pid (in the parent's pid ns)
  PtyMaster,     // init -> parent: the container's pty master as SCM_RIGHTS (process.terminal)
  SeccompFd,     // init -> parent: the seccomp listener as SCM_RIGHTS (a NOTIFY rule; no fd when none loaded)
};

std::string_view name(SyncMsg m);

struct SyncHeader {
  SyncMsg type;
  std::uint32_t flags;
  std::int32_t errnum;
  std::uint32_t payload_len;
};
static_assert(sizeof(SyncHeader) == 16);

struct Received {
  SyncMsg type;
  int errnum = 0;
  std::string payload;
  sys::Fd fd;  // an fd that came with the message (SCM_RIGHTS), if any
};

// Throws berth::Error on a socket error.
void send(int sock, SyncMsg type, std::string_view payload = {}, int errnum = 0);
// A header-only message carrying fd (SCM_RIGHTS).
void send_fd(int sock, SyncMsg type, int fd);
// Receives one message; throws "init exited before <what>" on EOF.
Received recv(int sock, std::string_view what);
// Receives messages until `want`; Log messages are forwarded through `on_log`, Error is
// rethrown as berth::Error("init: ..."), anything else is a protocol error.
Received expect(int sock, SyncMsg want, void (*on_log)(std::string_view) = nullptr);

// Never throws: used on the init stage's error path, which must not fail again.
void send_error_noexcept(int sock, std::string_view msg, int errnum) noexcept;

}  // namespace berth::init
