// runtime/mount/devices.cpp: which device nodes /dev gets. Pure: no root needed
// (creating them is exercised by mount_rootfs_test.cpp).
#include "runtime/mount/devices.hpp"

#include <sys/stat.h>

#include <algorithm>

#include <catch2/catch.hpp>

using namespace berth;
using namespace berth::mount;

namespace {

oci::LinuxDevice device(std::string path, std::string type, std::optional<std::int64_t> major,
                        std::optional<std::int64_t> minor) {
  oci::LinuxDevice d;
  d.path = std::move(path);
  d.type = std::move(type);
  d.major = major;
  d.minor = minor;
  return d;
}

const DeviceNode* find(const std::vector<DeviceNode>& nodes, std::string_view path) {
  auto it = std::find_if(nodes.begin(), nodes.end(), [&](const DeviceNode& n) { return n.path == path; });
  return it == nodes.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("the default devices of config-linux.md", "[mount]") {
  const auto nodes = plan_devices(oci::Spec{});
  REQUIRE(nodes.size() == 6);
  const std::vector<std::tuple<std::string, unsigned, unsigned>> want = {
      {"/dev/null", 1, 3}, {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
      {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    REQUIRE(nodes[i].path == std::get<0>(want[i]));
    REQUIRE(nodes[i].type == S_IFCHR);
    REQUIRE(nodes[i].major == std::get<1>(want[i]));
    REQUIRE(nodes[i].minor == std::get<2>(want[i]));
    REQUIRE(nodes[i].mode == 0666);
    REQUIRE(nodes[i].uid == 0);
    REQUIRE(nodes[i].gid == 0);
    REQUIRE(nodes[i].where == "default device");
  }
}

TEST_CASE("linux.devices come after the defaults, with their mode and owner", "[mount]") {
  oci::Spec spec;
  spec.linux.emplace();
  oci::LinuxDevice tun = device("/dev/net/tun", "c", 10, 200);
  tun.file_mode = 0600;
  tun.uid = 1000;
  tun.gid = 1001;
  oci::LinuxDevice fifo = device("/dev/myfifo", "p", std::nullopt, std::nullopt);
  oci::LinuxDevice loop = device("/dev/loop0", "b", 7, 0);
  oci::LinuxDevice unbuffered = device("/dev/u", "u", 4, 64);
  unbuffered.file_mode = 0100644;  // type bits in fileMode are ignored
  spec.linux->devices = std::vector<oci::LinuxDevice>{tun, fifo, loop, unbuffered};
  const auto nodes = plan_devices(spec);
  REQUIRE(nodes.size() == 10);
  REQUIRE(nodes[6].path == "/dev/net/tun");
  REQUIRE(nodes[6].where == "linux.devices[0]");
  REQUIRE(nodes[6].type == S_IFCHR);
  REQUIRE(nodes[6].major == 10);
  REQUIRE(nodes[6].minor == 200);
  REQUIRE(nodes[6].mode == 0600);
  REQUIRE(nodes[6].uid == 1000);
  REQUIRE(nodes[6].gid == 1001);
  REQUIRE(nodes[7].type == S_IFIFO);
  REQUIRE(nodes[8].type == S_IFBLK);
  REQUIRE(nodes[9].type == S_IFCHR);
  REQUIRE(nodes[9].mode == 0644);
}

TEST_CASE("a spec device replaces the default at the same path", "[mount]") {
  oci::Spec spec;
  spec.linux.emplace();
  oci::LinuxDevice null = device("/dev//null", "c", 1, 3);
  null.file_mode = 0600;
  spec.linux->devices = std::vector<oci::LinuxDevice>{null};
  const auto nodes = plan_devices(spec);
  REQUIRE(nodes.size() == 6);
  REQUIRE(std::count_if(nodes.begin(), nodes.end(), [](const DeviceNode& n) { return n.path == "/dev/null"; }) == 1);
  REQUIRE(find(nodes, "/dev/null")->mode == 0600);
  REQUIRE(find(nodes, "/dev/null")->where == "linux.devices[0]");
}

TEST_CASE("bad devices are refused naming linux.devices[i]", "[mount]") {
  oci::Spec spec;
  spec.linux.emplace();
  spec.linux->devices = std::vector<oci::LinuxDevice>{device("/dev/x", "q", 1, 1)};
  REQUIRE_THROWS_WITH(plan_devices(spec), "linux.devices[0].type: unknown device type \"q\"");
  spec.linux->devices = std::vector<oci::LinuxDevice>{device("/dev/x", "c", 1, std::nullopt)};
  REQUIRE_THROWS_WITH(plan_devices(spec), "linux.devices[0]: major and minor are required for type \"c\"");
  spec.linux->devices = std::vector<oci::LinuxDevice>{device("/dev/x", "b", -1, 0)};
  REQUIRE_THROWS_WITH(plan_devices(spec), "linux.devices[0]: device number -1:0 out of range");
}

TEST_CASE("the /dev symlinks of runc", "[mount]") {
  REQUIRE(kDevSymlinks.size() == 4);
  REQUIRE(kDevSymlinks[0].name == "fd");
  REQUIRE(kDevSymlinks[0].target == "/proc/self/fd");
  REQUIRE(kDevSymlinks[3].name == "stderr");
  REQUIRE(kDevSymlinks[3].target == "/proc/self/fd/2");
}
