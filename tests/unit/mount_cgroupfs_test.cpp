// runtime/mount/cgroupfs.cpp: reading mountinfo and /proc/self/cgroup, and
// which hierarchies a `cgroup` mount recreates. Pure: no root needed.
#include "runtime/mount/cgroupfs.hpp"

#include <catch2/catch.hpp>

using namespace berth::mount;

namespace {

// A hybrid host like the dev machine, plus a combined cpu,cpuacct hierarchy, a
// container rootfs that already has a cgroup mount inside, and a v1 hierarchy
// we do not belong to (not in /proc/self/cgroup).
constexpr std::string_view kMountinfo =
    "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "42 31 0:39 / /sys/fs/cgroup/rdma rw,relatime - cgroup cgroup rw,rdma\n"
    "50 22 0:40 / /run/c/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "51 22 0:41 /sub /mnt/with\\040space rw - tmpfs tmpfs rw\n";

constexpr std::string_view kProcCgroup =
    "9:name=systemd:/user.slice\n"
    "4:memory:/process_api/abc\n"
    "3:cpuset:/\n"
    "2:cpu,cpuacct:/c1\n"
    "0::/c1\n";

}  // namespace

TEST_CASE("mountinfo is parsed, optional fields skipped and octal escapes decoded", "[mount]") {
  const auto m = parse_mountinfo(kMountinfo);
  REQUIRE(m.size() == 10);
  REQUIRE(m[0] == MountInfoEntry{"/", "/", "ext4", "/dev/vda", "rw"});
  REQUIRE(m[2].mount_point == "/sys/fs/cgroup/cpu,cpuacct");
  REQUIRE(m[2].fstype == "cgroup");
  REQUIRE(m[2].super_options == "rw,cpu,cpuacct");
  REQUIRE(m[9].root == "/sub");
  REQUIRE(m[9].mount_point == "/mnt/with space");
  REQUIRE(parse_mountinfo("garbage\n\n1 2 3\n").empty());
}

TEST_CASE("/proc/self/cgroup is parsed", "[mount]") {
  const auto c = parse_proc_cgroup(kProcCgroup);
  REQUIRE(c.size() == 5);
  REQUIRE(c[0] == std::pair<std::string, std::string>{"name=systemd", "/user.slice"});
  REQUIRE(c[3] == std::pair<std::string, std::string>{"cpu,cpuacct", "/c1"});
  REQUIRE(c[4] == std::pair<std::string, std::string>{"", "/c1"});
}

TEST_CASE("without a cgroup namespace our own cgroups are bound", "[mount]") {
  const auto subs = plan_cgroup_v1(parse_mountinfo(kMountinfo), parse_proc_cgroup(kProcCgroup), false, "/run/c/rootfs");
  REQUIRE(subs.size() == 5);  // rdma: not ours; the rootfs's memory mount: inside the rootfs
  REQUIRE(subs[0] == CgroupSubMount{"cpu,cpuacct", false, "cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct/c1", {"cpu", "cpuacct"}});
  REQUIRE(subs[1] == CgroupSubMount{"cpuset", false, "cpuset", "/sys/fs/cgroup/cpuset", {}});
  REQUIRE(subs[2] == CgroupSubMount{"memory", false, "memory", "/sys/fs/cgroup/memory/process_api/abc", {}});
  REQUIRE(subs[3] == CgroupSubMount{"systemd", false, "name=systemd", "/sys/fs/cgroup/systemd/user.slice", {}});
  REQUIRE(subs[4] == CgroupSubMount{"unified", true, "", "/sys/fs/cgroup/unified/c1", {}});
}

TEST_CASE("with a cgroup namespace each hierarchy is mounted fresh", "[mount]") {
  const auto subs = plan_cgroup_v1(parse_mountinfo(kMountinfo), parse_proc_cgroup(kProcCgroup), true, "/run/c/rootfs");
  REQUIRE(subs.size() == 5);
  for (const auto& s : subs) REQUIRE(s.bind_source.empty());
  REQUIRE(subs[3].data == "name=systemd");
  REQUIRE(subs[4].v2);
}

TEST_CASE("a hierarchy mounted twice on the host is recreated once", "[mount]") {
  std::string mi(kMountinfo);
  mi += "60 22 0:32 /process_api /srv/memory rw - cgroup cgroup rw,memory\n";
  const auto subs = plan_cgroup_v1(parse_mountinfo(mi), parse_proc_cgroup(kProcCgroup), false, "/run/c/rootfs");
  REQUIRE(subs.size() == 5);
}

TEST_CASE("a mount root below the hierarchy root is taken into account", "[mount]") {
  const std::string mi = "35 31 0:32 /process_api /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  const auto subs = plan_cgroup_v1(parse_mountinfo(mi), parse_proc_cgroup("4:memory:/process_api/abc\n"), false, "/r");
  REQUIRE(subs.size() == 1);
  REQUIRE(subs[0].bind_source == "/sys/fs/cgroup/memory/abc");
}
