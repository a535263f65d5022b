// The host layout parser, cgroupsPath resolution and the v1 -> v2 value conversions.
#include <catch2/catch.hpp>

#include "runtime/cgroups/cgroup.hpp"
#include "runtime/cgroups/hierarchy.hpp"
#include "runtime/cgroups/resources.hpp"
#include "runtime/sys/error.hpp"

using namespace berth::cgroups;

namespace {

// This VM's hybrid layout (cpu and cpuacct mounted apart, systemd's named hierarchy, cgroup2 at
// unified) and a process in a memory sub-cgroup.
constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kHybridSelf = "9:name=systemd:/\n4:memory:/job/42\n2:cpuacct:/\n1:cpu:/\n0::/\n";

}  // namespace

TEST_CASE("parse_host: a hybrid host's hierarchies, controllers and our place in each") {
  const Host h = parse_host(kHybridMountinfo, kHybridSelf);
  CHECK(h.mode == Mode::Hybrid);
  REQUIRE(h.v1.size() == 4);
  CHECK(h.v1[0].controllers == std::vector<std::string>{"cpu"});
  CHECK(h.v1[2].controllers == std::vector<std::string>{"memory"});
  CHECK(h.v1[2].own == "/job/42");
  CHECK(h.v1[3].controllers == std::vector<std::string>{"name=systemd"});
  CHECK(h.unified.mount_point == "/sys/fs/cgroup/unified");
  CHECK(h.has_v1("cpuacct"));
  CHECK_FALSE(h.has_v1("pids"));
}

TEST_CASE("parse_host: unified and legacy hosts; none at all is an error") {
  const Host u = parse_host("40 22 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", "0::/user.slice\n");
  CHECK(u.mode == Mode::Unified);
  CHECK(u.unified.own == "/user.slice");
  const Host l = parse_host("31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n",
                            "1:cpu,cpuacct:/a\n");
  CHECK(l.mode == Mode::Legacy);
  CHECK(l.v1[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(l.v1[0].own == "/a");
  CHECK_THROWS_AS(parse_host("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", ""), berth::Error);
}

TEST_CASE("location: cgroupsPath absolute, relative, absent, and never above the root") {
  CHECK(location(std::nullopt, "c1").path == "/c1");
  CHECK(location(std::string("/a/b/"), "c1").path == "/a/b");
  const Location rel = location(std::string("x/../y/./z"), "c1");
  CHECK(rel.relative);
  CHECK(rel.path == "y/z");
  CHECK(location(std::string("/../../etc"), "c1").path == "/etc");
  CHECK(location(std::string(""), "c1").path == "/c1");
  CHECK_THROWS_WITH(location(std::string("/.."), "c1"), Catch::Contains("linux.cgroupsPath"));
}

TEST_CASE("resolve: one directory per hierarchy; relative paths go below our own cgroup") {
  const Host h = parse_host(kHybridMountinfo, kHybridSelf);
  const Paths abs = resolve(h, location(std::string("/berth/c1"), "c1"));
  CHECK(abs.v1_dir("memory") == "/sys/fs/cgroup/memory/berth/c1");
  CHECK(abs.v1_dir("name=systemd") == "/sys/fs/cgroup/systemd/berth/c1");
  CHECK(abs.unified == "/sys/fs/cgroup/unified/berth/c1");
  const Paths rel = resolve(h, location(std::string("c1"), "c1"));
  CHECK(rel.v1_dir("memory") == "/sys/fs/cgroup/memory/job/42/c1");
  CHECK(rel.v1_dir("cpu") == "/sys/fs/cgroup/cpu/c1");
  // A mount of a sub-tree (as inside a container) shows paths without its root.
  const Host nested = parse_host("34 30 0:31 /job /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "4:memory:/job/42\n");
  CHECK(resolve(nested, location(std::string("c1"), "c1")).v1_dir("memory") == "/sys/fs/cgroup/memory/42/c1");
}

TEST_CASE("v1 -> v2 conversions match runc's") {
  CHECK(shares_to_weight(0) == 0);
  CHECK(shares_to_weight(2) == 1);
  CHECK(shares_to_weight(1024) == 39);
  CHECK(shares_to_weight(262144) == 10000);
  CHECK(blkio_to_io_weight(10) == 1);
  CHECK(blkio_to_io_weight(500) == 4950);
  CHECK(blkio_to_io_weight(1000) == 10000);
  CHECK(swap_to_v2(100, 0) == "");
  CHECK(swap_to_v2(100, -1) == "max");
  CHECK(swap_to_v2(100, 300) == "200");
  CHECK_THROWS_WITH(swap_to_v2(100, 50), Catch::Contains("linux.resources.memory.swap"));
  CHECK_THROWS_WITH(swap_to_v2(0, 50), Catch::Contains("needs a memory limit"));
}

TEST_CASE("device_rules: deny all, the config's rules, linux.devices, then runc's defaults") {
  berth::oci::Spec s;
  s.linux.emplace();
  berth::oci::LinuxDeviceCgroup allow_fuse;
  allow_fuse.allow = true;
  allow_fuse.type = "c";
  allow_fuse.major = 10;
  allow_fuse.minor = 229;
  allow_fuse.access = "rw";
  s.linux->resources.emplace().devices = std::vector{allow_fuse};
  berth::oci::LinuxDevice sda;
  sda.path = "/dev/sda";
  sda.type = "b";
  sda.major = 8;
  sda.minor = 0;
  s.linux->devices = std::vector{sda};
  const auto rules = device_rules(s);
  REQUIRE(rules.size() == 15);
  CHECK_FALSE(rules[0].allow);
  CHECK(rules[0].type == "a");
  CHECK(rules[1] == allow_fuse);
  CHECK(rules[2].type == "b");
  CHECK(rules[2].major == 8);
  CHECK(rules[2].access == "rwm");
  CHECK(rules[3].access == "m");  // mknod of any char device
  CHECK(rules.back().major == 10);
  CHECK(rules.back().minor == 200);  // /dev/net/tun
}

TEST_CASE("v2_controllers_for: everything on a unified host, only what v1 lacks on a hybrid one") {
  Paths u;
  u.mode = Mode::Unified;
  u.unified = "/sys/fs/cgroup/c1";
  CHECK(v2_controllers_for(u, nullptr).size() == 8);
  Paths h;
  h.mode = Mode::Hybrid;
  h.v1["memory"] = "/sys/fs/cgroup/memory/c1";
  h.unified = "/sys/fs/cgroup/unified/c1";
  berth::oci::LinuxResources r;
  r.memory.emplace().limit = 1 << 20;
  r.hugepage_limits = std::vector{berth::oci::LinuxHugepageLimit{"2MB", 1 << 21}};
  CHECK(v2_controllers_for(h, &r) == std::vector<std::string>{"hugetlb"});
  CHECK(v2_controllers_for(h, nullptr).empty());
}
