// A small rtnetlink client on top of libmnl: a bound socket that runs one
// request at a time and checks the kernel's acknowledgement, and a buffer to
// build a request in. link.cpp uses it to bring up loopback; veth, address and
// route set-up are meant to be built from the same two pieces.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <libmnl/libmnl.h>

namespace berth::netlink {

using MnlSocket = std::unique_ptr<mnl_socket, decltype(&mnl_socket_close)>;

// One netlink message under construction: header, protocol header, attributes.
// Attributes are bounds-checked against the buffer (the *_check libmnl calls),
// so an oversized request is an Error rather than a buffer overrun.
class Request {
 public:
  // flags: NLM_F_CREATE, NLM_F_EXCL, ...; Socket::run adds NLM_F_REQUEST | NLM_F_ACK.
  Request(std::uint16_t type, std::uint16_t flags = 0);

  // The protocol header right after nlmsghdr (ifinfomsg, ifaddrmsg, rtmsg...),
  // zero-filled. Call it once, before any attribute.
  template <class T>
  T& put_header() {
    return *static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
  }

  void put_u32(std::uint16_t attr, std::uint32_t value);
  // A NUL-terminated string attribute (IFLA_IFNAME and the like).
  void put_strz(std::uint16_t attr, std::string_view value);

  nlmsghdr* header() noexcept { return nlh_; }

 private:
  std::vector<char> buf_;
  nlmsghdr* nlh_;
};

class Socket {
 public:
  // Opens and binds a netlink socket of `bus` (NETLINK_ROUTE) in the caller's
  // current network namespace.
  explicit Socket(int bus = NETLINK_ROUTE);

  // Called for every reply message of the request that is not the final ACK.
  // It may throw: the exception is carried across libmnl and rethrown by run().
  using OnReply = std::function<void(const nlmsghdr&)>;

  // Sends `req` with a fresh sequence number and NLM_F_REQUEST | NLM_F_ACK, then
  // reads replies until the kernel's ACK. A negative NLMSG_ERROR becomes
  // Error("netlink <what>", -error). `what` names the operation and its object
  // ("RTM_NEWLINK `lo` IFF_UP").
  void run(Request& req, std::string_view what, const OnReply& on_reply = {});

  std::uint32_t port_id() const noexcept { return port_id_; }

 private:
  MnlSocket sock_;
  std::uint32_t port_id_ = 0;
  std::uint32_t seq_ = 0;
};

}  // namespace berth::netlink
