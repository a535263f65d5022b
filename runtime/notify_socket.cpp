#include "runtime/notify_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::notify {

namespace {

socklen_t make_addr(const std::string& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) throw Error(fmt::format("notify socket `{}`: bad path", path));
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract, as sd_notify reads it
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
}

sys::Fd dgram_socket() {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("notify socket: socket");
  return sys::Fd(fd);
}

}  // namespace

sys::Fd bind_socket(const std::string& state_dir) {
  const std::string dir = state_dir + "/" + kStateDir;
  if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("notify socket: mkdir", dir);
  const std::string path = dir + "/notify.sock";
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("notify socket: unlink", path);
  sys::Fd sock = dgram_socket();
  sockaddr_un addr;
  const socklen_t len = make_addr(path, addr);
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), len) < 0) throw_errno("notify socket: bind", path);
  if (::chmod(path.c_str(), 0777) < 0) throw_errno("notify socket: chmod", path);
  return sock;
}

bool forward_ready(int sock, int pidfd, pid_t pid, const std::string& host_socket) {
  for (;;) {
    pollfd p[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("notify socket: poll");
    }
    if (p[0].revents & POLLIN) {
      char buf[4096];
      const ssize_t n = ::recv(sock, buf, sizeof buf, 0);
      if (n < 0 && errno != EINTR && errno != EAGAIN) throw_errno("notify socket: recv");
      const std::string_view msg(buf, n > 0 ? static_cast<size_t>(n) : 0);
      // One assignment per line (sd_notify's format).
      bool ready = false;
      for (size_t pos = 0; pos <= msg.size();) {
        const size_t end = std::min(msg.find('\n', pos), msg.size());
        if (msg.substr(pos, end - pos) == "READY=1") ready = true;
        pos = end + 1;
      }
      if (!ready) continue;
      sys::Fd out = dgram_socket();
      sockaddr_un addr;
      const socklen_t len = make_addr(host_socket, addr);
      const std::string note = fmt::format("READY=1\nMAINPID={}\n", pid);
      if (::sendto(out.get(), note.data(), note.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len) < 0)
        throw_errno("NOTIFY_SOCKET: sendto", host_socket);
      return true;
    }
    if (p[1].revents) return false;
  }
}

}  // namespace berth::notify
