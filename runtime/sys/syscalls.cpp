#include "runtime/sys/syscalls.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/sys/error.hpp"

namespace berth::sys {

Fd openat(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd;
  do fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_errno("open", path);
  return Fd(fd);
}

std::optional<Fd> try_openat(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd;
  do fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open", path);
  }
  return Fd(fd);
}

std::string read_all(int fd, std::string_view what) {
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", what);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string read_file(int dirfd, const std::string& path) {
  Fd fd = openat(dirfd, path, O_RDONLY);
  return read_all(fd.get(), path);
}

std::optional<std::string> try_read_file(int dirfd, const std::string& path) {
  auto fd = try_openat(dirfd, path, O_RDONLY);
  if (!fd) return std::nullopt;
  return read_all(fd->get(), path);
}

void write_all(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void write_file(int dirfd, const std::string& path, std::string_view data) {
  Fd fd = openat(dirfd, path, O_WRONLY | O_TRUNC);
  write_all(fd.get(), data, path);
}

bool mkdirat(int dirfd, const std::string& path, mode_t mode) {
  if (::mkdirat(dirfd, path.c_str(), mode) == 0) return true;
  if (errno == EEXIST) return false;
  throw_errno("mkdir", path);
}

std::pair<Fd, Fd> socketpair(int domain, int type) {
  int sv[2];
  if (::socketpair(domain, type | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
  return {Fd(sv[0]), Fd(sv[1])};
}

std::pair<Fd, Fd> pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe2");
  return {Fd(p[0]), Fd(p[1])};
}

Fd pidfd_open(pid_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) throw_errno(fmt::format("pidfd_open {}", pid));
  return Fd(static_cast<int>(fd));
}

void pidfd_send_signal(int pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0)
    throw_errno(fmt::format("pidfd_send_signal {}", sig));
}

Fd dup_above(Fd fd, int min_fd) {
  if (fd.get() >= min_fd) return fd;
  const int n = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, min_fd);
  if (n < 0) throw_errno("fcntl F_DUPFD_CLOEXEC");
  return Fd(n);
}

int waitpid(pid_t pid, int options) {
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, options);
  while (r < 0 && errno == EINTR);
  if (r < 0) throw_errno(fmt::format("waitpid {}", pid));
  if (r == 0) return -1;  // WNOHANG and still running
  return status;
}

int exit_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

void send_fd(int sock, std::string_view data, int fd, std::string_view what) {
  char byte = 0;
  iovec iov{data.empty() ? &byte : const_cast<char*>(data.data()), data.empty() ? 1 : data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("sendmsg SCM_RIGHTS", what);
  // A stream socket may take only part of a long message; the fd went with the first part.
  for (size_t sent = static_cast<size_t>(n); !data.empty() && sent < data.size();) {
    const ssize_t m = ::send(sock, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (m < 0 && errno == EINTR) continue;
    if (m < 0) throw_errno("send", what);
    sent += static_cast<size_t>(m);
  }
}

ssize_t recv_with_fd(int sock, void* buf, size_t len, Fd* fd) {
  iovec iov{buf, len};
  // Room for a few fds: a peer that sends more than one must not leave any open in berth.
  constexpr size_t kMaxFds = 8;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  bool stored = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
      Fd owned(received);
      if (fd != nullptr && !stored) {
        *fd = std::move(owned);
        stored = true;
      }
    }
  }
  if (mh.msg_flags & MSG_TRUNC) {
    if (stored) fd->reset();
    errno = EMSGSIZE;
    return -1;
  }
  return n;
}

void mkdir_p(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
  if (errno != ENOENT) throw_errno("mkdir", path);
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) throw_errno("mkdir", path);
  mkdir_p(path.substr(0, slash), 0755);
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) throw_errno("mkdir", path);
}

Fd connect_unix(const std::string& path, std::string_view what) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error(fmt::format("{} `{}`: path too long for a unix socket", what, path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) throw_errno(fmt::format("{}: socket", what));
  int r;
  do r = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  while (r < 0 && errno == EINTR);
  if (r < 0) throw_errno(fmt::format("{}: connect", what), path);
  return sock;
}

}  // namespace berth::sys
