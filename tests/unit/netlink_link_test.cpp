// runtime/netlink/link.cpp and socket.cpp. Everything that changes a link runs
// in a forked child inside a new network namespace (as root: CLONE_NEWNET; else
// CLONE_NEWUSER|CLONE_NEWNET when user namespaces are allowed), so the host's
// interfaces are never touched. Flags are read with SIOCGIFFLAGS: /sys/class/net
// shows the namespace /sys was mounted in, not the caller's.
#include "runtime/netlink/link.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cap-ng.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/in_child.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/sys/syscalls.hpp"

using berth::Error;
namespace netlink = berth::netlink;

namespace {

using berth::test::ChildResult;
using berth::test::in_child;

// Enters a new network namespace; throws "unshare ..." when that is not possible.
void enter_new_netns() {
  if (::geteuid() == 0) {
    if (::unshare(CLONE_NEWNET) != 0) throw Error("unshare CLONE_NEWNET", errno);
    return;
  }
  // Unprivileged: a user namespace gives CAP_NET_ADMIN over the new netns.
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) throw Error("unshare CLONE_NEWUSER|CLONE_NEWNET", errno);
}

// IFF_* flags of `name` through SIOCGIFFLAGS, in the caller's namespace.
int link_flags(const char* name) {
  berth::sys::Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) throw Error("socket", errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) throw Error(std::string("SIOCGIFFLAGS ") + name, errno);
  return ifr.ifr_flags;
}

bool skipped_no_netns(const ChildResult& res) {
  if (!res.ok && res.out.starts_with("unshare")) {
    WARN("cannot create a network namespace here (" << res.out << "): not root and no user namespaces; skipped");
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("loopback_up brings lo up in a new network namespace", "[netlink]") {
  const auto res = in_child([] {
    enter_new_netns();
    const int before = link_flags("lo");
    netlink::loopback_up();
    const int after = link_flags("lo");
    netlink::loopback_up();  // already up: still fine
    return std::to_string(before & IFF_UP) + " " + std::to_string(after & IFF_UP) + " " +
           std::to_string(link_flags("lo") & IFF_UP);
  });
  if (skipped_no_netns(res)) return;
  REQUIRE(res.ok);
  CHECK(res.out == "0 1 1");
}

TEST_CASE("link_index finds lo and reports a missing link with ENODEV", "[netlink]") {
  const auto res = in_child([] {
    enter_new_netns();
    netlink::Socket sock;
    const int lo = netlink::link_index(sock, "lo");
    std::string out = std::to_string(lo == static_cast<int>(::if_nametoindex("lo")));
    try {
      netlink::link_index(sock, "berth-none0");
      out += " no error";
    } catch (const Error& e) {
      out += " " + std::to_string(e.errnum()) + " " + e.what();
    }
    // The socket is still usable after an error reply.
    out += " " + std::to_string(netlink::link_index(sock, "lo") == lo);
    return out;
  });
  if (skipped_no_netns(res)) return;
  REQUIRE(res.ok);
  CHECK(res.out == "1 " + std::to_string(ENODEV) + " netlink RTM_GETLINK `berth-none0`: No such device 1");
}

TEST_CASE("set_link_up without CAP_NET_ADMIN carries the netlink errno", "[netlink]") {
  // In the caller's own namespace, with every capability dropped: the kernel
  // answers EPERM before looking at the request, so the host's lo (up anyway)
  // is left as it is.
  const auto res = in_child([] {
    capng_clear(CAPNG_SELECT_BOTH);
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) throw Error("drop capabilities", errno);
    netlink::Socket sock;
    netlink::set_link_up(sock, static_cast<int>(::if_nametoindex("lo")), "lo");
    return std::string("no error");
  });
  REQUIRE_FALSE(res.ok);
  CHECK(res.errnum == EPERM);
  CHECK(res.out == "netlink RTM_NEWLINK `lo` IFF_UP: Operation not permitted");
}

TEST_CASE("Socket::run rethrows what the reply callback throws", "[netlink]") {
  // RTM_GETLINK of lo only reads: fine in the caller's namespace.
  netlink::Socket sock;
  netlink::Request req(RTM_GETLINK);
  auto& ifi = req.put_header<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  req.put_strz(IFLA_IFNAME, "lo");
  REQUIRE_THROWS_WITH(sock.run(req, "RTM_GETLINK `lo`", [](const nlmsghdr&) { throw Error("from the callback"); }),
                      "from the callback");
  // The ACK was read to the end: the next request on the socket works.
  CHECK(netlink::link_index(sock, "lo") == static_cast<int>(::if_nametoindex("lo")));
}

TEST_CASE("Request refuses attributes past its buffer", "[netlink]") {
  netlink::Request req(RTM_NEWLINK);
  req.put_header<ifinfomsg>();
  const std::string big(3000, 'x');
  req.put_strz(IFLA_IFALIAS, big);
  req.put_strz(IFLA_IFALIAS, big);
  try {
    req.put_strz(IFLA_IFALIAS, big);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == ENOBUFS);
  }
}
