#include "runtime/netlink/link.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"

namespace berth::netlink {

int link_index(Socket& sock, std::string_view name) {
  Request req(RTM_GETLINK);
  auto& ifi = req.put_header<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;  // ifi_index 0: the kernel looks the link up by IFLA_IFNAME
  req.put_strz(IFLA_IFNAME, name);

  int index = 0;
  sock.run(req, fmt::format("RTM_GETLINK `{}`", name), [&](const nlmsghdr& reply) {
    if (reply.nlmsg_type != RTM_NEWLINK) return;
    if (reply.nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg)))
      throw Error(fmt::format("netlink RTM_GETLINK `{}`: short reply", name), EPROTO);
    index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(&reply))->ifi_index;
  });
  if (index <= 0) throw Error(fmt::format("netlink RTM_GETLINK `{}`: no link in the reply", name), ENODEV);
  return index;
}

void set_link_up(Socket& sock, int ifindex, std::string_view name) {
  Request req(RTM_NEWLINK);
  auto& ifi = req.put_header<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;  // touch only this flag
  sock.run(req, fmt::format("RTM_NEWLINK `{}` IFF_UP", name));
}

void loopback_up() {
  with_context("bring up loopback", [] {
    Socket sock(NETLINK_ROUTE);
    set_link_up(sock, link_index(sock, "lo"), "lo");
  });
}

}  // namespace berth::netlink
