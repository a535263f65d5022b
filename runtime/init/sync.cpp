#include "runtime/init/sync.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::init {

namespace {
// Kept well under the default socket buffer so a packet never blocks on size alone.
constexpr size_t kMaxPacket = 64 * 1024;

ssize_t send_packet(int sock, const iovec* iov, int iovcnt) {
  msghdr mh{};
  mh.msg_iov = const_cast<iovec*>(iov);
  mh.msg_iovlen = static_cast<size_t>(iovcnt);
  ssize_t n;
  do n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}
}  // namespace

std::string_view name(SyncMsg m) {
  switch (m) {
    case SyncMsg::Error: return "error";
    case SyncMsg::Log: return "log";
    case SyncMsg::Config: return "config";
    case SyncMsg::UsermapRequest: return "usermap request";
    case SyncMsg::UsermapDone: return "usermap done";
    case SyncMsg::Pid: return "pid";
    case SyncMsg::HooksRequest: return "hooks request";
    case SyncMsg::HooksDone: return "hooks done";
    case SyncMsg::Ready: return "ready";
    case SyncMsg::PtyMaster: return "pty master";
    case SyncMsg::SeccompFd: return "seccomp listener";
  }
  return "unknown message";
}

void send(int sock, SyncMsg type, std::string_view payload, int errnum) {
  SyncHeader h{type, 0, errnum, static_cast<std::uint32_t>(payload.size())};
  const size_t first = std::min(payload.size(), kMaxPacket - sizeof h);
  iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(payload.data()), first}};
  if (send_packet(sock, iov, 2) < 0) throw_errno(fmt::format("sync: send {}", name(type)));
  for (size_t off = first; off < payload.size();) {
    const size_t n = std::min(payload.size() - off, kMaxPacket);
    iovec more{const_cast<char*>(payload.data() + off), n};
    if (send_packet(sock, &more, 1) < 0) throw_errno(fmt::format("sync: send {}", name(type)));
    off += n;
  }
}

void send_fd(int sock, SyncMsg type, int fd) {
  const SyncHeader h{type, 0, 0, 0};
  sys::send_fd(sock, std::string_view(reinterpret_cast<const char*>(&h), sizeof h), fd,
               fmt::format("sync: {}", name(type)));
}

Received recv(int sock, std::string_view what) {
  // One packet buffer for the process, in .bss: the kernel maps its pages as they are first
  // written, where a std::string of 64 KiB per message was allocated and zeroed (~6 per
  // create). Only one thread in the parent and in init ever talks over the sync socket.
  static char buf[kMaxPacket];
  sys::Fd fd;
  ssize_t n = sys::recv_with_fd(sock, buf, sizeof buf, &fd);
  if (n < 0) throw_errno(fmt::format("sync: receive {}", what));
  if (n == 0) throw Error(fmt::format("init exited before {}", what));
  if (static_cast<size_t>(n) < sizeof(SyncHeader)) throw Error(fmt::format("sync: short message while waiting for {}", what));
  SyncHeader h;
  std::memcpy(&h, buf, sizeof h);
  Received r{h.type, h.errnum, {}, std::move(fd)};
  r.payload.reserve(h.payload_len);
  r.payload.append(buf + sizeof h, static_cast<size_t>(n) - sizeof h);
  while (r.payload.size() < h.payload_len) {
    n = sys::recv_with_fd(sock, buf, sizeof buf, nullptr);
    if (n < 0) throw_errno(fmt::format("sync: receive {}", what));
    if (n == 0) throw Error(fmt::format("init exited while sending {}", name(h.type)));
    r.payload.append(buf, static_cast<size_t>(n));
  }
  return r;
}

Received expect(int sock, SyncMsg want, void (*on_log)(std::string_view)) {
  for (;;) {
    Received m = recv(sock, name(want));
    if (m.type == SyncMsg::Log) {
      if (on_log) on_log(m.payload);
      continue;
    }
    if (m.type == SyncMsg::Error) {
      Error e(std::move(m.payload), m.errnum);
      e.wrap("init");
      throw e;
    }
    if (m.type != want) throw Error(fmt::format("sync: expected {}, got {}", name(want), name(m.type)));
    return m;
  }
}

void send_error_noexcept(int sock, std::string_view msg, int errnum) noexcept {
  SyncHeader h{SyncMsg::Error, 0, errnum, static_cast<std::uint32_t>(std::min(msg.size(), kMaxPacket - sizeof h))};
  iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(msg.data()), h.payload_len}};
  (void)send_packet(sock, iov, 2);
}

}  // namespace berth::init
