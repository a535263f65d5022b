#include "runtime/netlink/socket.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"

namespace berth::netlink {

namespace {

// Requests are a header plus a few attributes; 8 KiB (libmnl's
// MNL_SOCKET_BUFFER_SIZE on 4 KiB-page machines and above) is plenty.
constexpr std::size_t kRequestSize = 8192;
// Replies can be larger than a page (RTM_NEWLINK carries stats and more);
// 32 KiB is libmnl's MNL_SOCKET_DUMP_SIZE, the size the kernel fills at most.
constexpr std::size_t kReceiveSize = 32768;

struct RunContext {
  const Socket::OnReply* on_reply;
  std::exception_ptr error;  // the first exception thrown by on_reply
};

// libmnl calls this for every reply message but NLMSG_ERROR/DONE. Exceptions must
// not cross the C library: keep the first one and go on reading to the ACK, so
// the socket is left with nothing pending and run() can rethrow it.
int on_data(const nlmsghdr* nlh, void* data) {
  auto* ctx = static_cast<RunContext*>(data);
  if (ctx->error || !*ctx->on_reply) return MNL_CB_OK;
  try {
    (*ctx->on_reply)(*nlh);
  } catch (...) {
    ctx->error = std::current_exception();
  }
  return MNL_CB_OK;
}

}  // namespace

Request::Request(std::uint16_t type, std::uint16_t flags) : buf_(kRequestSize) {
  nlh_ = mnl_nlmsg_put_header(buf_.data());
  nlh_->nlmsg_type = type;
  nlh_->nlmsg_flags = flags;
}

void Request::put_u32(std::uint16_t attr, std::uint32_t value) {
  if (!mnl_attr_put_u32_check(nlh_, buf_.size(), attr, value))
    throw Error(fmt::format("netlink attribute {}: request buffer full", attr), ENOBUFS);
}

void Request::put_strz(std::uint16_t attr, std::string_view value) {
  const std::string s(value);  // libmnl wants a NUL-terminated string
  if (!mnl_attr_put_strz_check(nlh_, buf_.size(), attr, s.c_str()))
    throw Error(fmt::format("netlink attribute {}: request buffer full", attr), ENOBUFS);
}

Socket::Socket(int bus) : sock_(mnl_socket_open2(bus, SOCK_CLOEXEC), &mnl_socket_close) {
  if (!sock_) throw_errno(fmt::format("open netlink socket (bus {})", bus));
  if (mnl_socket_bind(sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0) throw_errno("bind netlink socket");
  port_id_ = mnl_socket_get_portid(sock_.get());
}

void Socket::run(Request& req, std::string_view what, const OnReply& on_reply) {
  nlmsghdr* nlh = req.header();
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = ++seq_;
  const std::uint32_t seq = nlh->nlmsg_seq;

  ssize_t sent;
  do sent = mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) throw_errno(fmt::format("netlink {}: send", what));

  RunContext ctx{&on_reply, nullptr};
  std::vector<char> buf(kReceiveSize);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(fmt::format("netlink {}: receive", what));
    }
    // Checks seq and port id (ESRCH on a stray message); a negative
    // NLMSG_ERROR sets errno to its -error and returns MNL_CB_ERROR, the ACK
    // (error 0) returns MNL_CB_STOP.
    errno = 0;
    const int ret = mnl_cb_run(buf.data(), static_cast<std::size_t>(n), seq, port_id_, on_data, &ctx);
    if (ret == MNL_CB_ERROR) {
      const int err = errno;
      if (ctx.error) std::rethrow_exception(ctx.error);
      throw Error(fmt::format("netlink {}", what), err != 0 ? err : EPROTO);
    }
    if (ret == MNL_CB_STOP) break;
  }
  if (ctx.error) std::rethrow_exception(ctx.error);
}

}  // namespace berth::netlink
