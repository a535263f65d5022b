// Network links through rtnetlink (runtime/netlink/socket.hpp).
#pragma once

#include <string_view>

#include "runtime/netlink/socket.hpp"

namespace berth::netlink {

// Brings the loopback interface up in the current network namespace, through
// rtnetlink with libmnl (RTM_NEWLINK with IFF_UP on the ifindex of "lo"); errors
// carry the netlink errno. Init calls it in a new network namespace, where "lo"
// exists but is down.
void loopback_up();

// The ifindex of the link called `name` (RTM_GETLINK); Error with ENODEV when
// there is none.
int link_index(Socket& sock, std::string_view name);

// Sets IFF_UP on link `ifindex`; `name` is only for the error message.
void set_link_up(Socket& sock, int ifindex, std::string_view name);

}  // namespace berth::netlink
