// A console-socket receiver for tests, as containerd's and conmon's.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <catch2/catch.hpp>

namespace berth::test {

// A console-socket receiver, as containerd's and conmon's: a listening AF_UNIX socket that
// accepts one connection and takes the fd that comes with its first message.
class ConsoleReceiver {
 public:
  explicit ConsoleReceiver(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
  }
  ~ConsoleReceiver() {
    if (fd_ >= 0) ::close(fd_);
    if (master_ >= 0) ::close(master_);
  }
  void close_listener() {
    ::close(fd_);
    fd_ = -1;
  }
  // Accepts the connection berth made and receives the master; returns the message's data.
  std::string receive() {
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(c >= 0);
    char data[256] = {};
    iovec iov{data, sizeof data - 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
    ::close(c);
    REQUIRE(n > 0);
    cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    REQUIRE(cm != nullptr);
    REQUIRE(cm->cmsg_type == SCM_RIGHTS);
    std::memcpy(&master_, CMSG_DATA(cm), sizeof master_);
    return std::string(data, static_cast<size_t>(n));
  }
  // Everything the container writes on its terminal until every slave is closed.
  std::string read_all() {
    std::string out;
    for (;;) {
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) break;
      char buf[4096];
      const ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) break;  // EIO: the container's side is closed
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  int master() const { return master_; }

 private:
  std::string path_;
  int fd_ = -1;
  int master_ = -1;
};

}  // namespace berth::test
