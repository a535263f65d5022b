// What berth tells CRIU about a container (runtime/criu/plan.hpp): external mounts and their
// ids, cgroup binds, --manage-cgroups-mode, --empty-ns, descriptors.json and cg_root.
#include <sched.h>

#include <string>

#include <catch2/catch.hpp>

#include "oci/spec.hpp"
#include "runtime/criu/plan.hpp"
#include "runtime/sys/error.hpp"

using namespace berth;
using namespace berth::criu;

namespace {

oci::Spec spec_of(const std::string& extra) {
  return oci::parse_config(R"({"ociVersion": "1.3.0", "root": {"path": "rootfs"},
    "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}], "maskedPaths": ["/proc/kcore", "/proc/acpi/"]},
    "mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/data/", "type": "bind", "source": "/srv/data"},
      {"destination": "/etc/hosts", "source": "/run/hosts", "options": ["rbind", "ro"]},
      {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}
    ])" + extra + "}");
}

bool has(const std::vector<ExternalMount>& v, const ExternalMount& want) {
  for (const auto& e : v)
    if (e.path == want.path && e.id == want.id && e.source == want.source) return true;
  return false;
}

// As in mount_cgroupfs_test: a hybrid host's hierarchies, our process in c1.
constexpr const char* kMountinfo =
    "30 22 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    "33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
constexpr const char* kProcCgroup = "4:memory:/berth/c1\n0::/berth/c1\n";

}  // namespace

TEST_CASE("binds, masked files and device nodes are external mounts", "[criu]") {
  const oci::Spec s = spec_of("");
  const auto ext = external_mounts(s, [](const std::string& p) { return p == "/proc/kcore"; });
  CHECK(has(ext, {"/data", "/data", "/srv/data"}));
  CHECK(has(ext, {"/etc/hosts", "/etc/hosts", "/run/hosts"}));
  CHECK(has(ext, {"/proc/kcore", "/dev/null", "/dev/null"}));
  CHECK(has(ext, {"/dev/null", "/dev/null", "/dev/null"}));  // a default device
  for (const auto& e : ext) {
    CHECK(e.path != "/proc");         // CRIU mounts proc itself
    CHECK(e.path != "/proc/acpi");    // a masked directory is a tmpfs: CRIU dumps it
    CHECK(e.path != "/sys/fs/cgroup");
  }
}

TEST_CASE("dump maps mount points to ids, restore maps each id once to its source", "[criu]") {
  const std::vector<ExternalMount> ext = {
      {"/data", "/data", "/srv/data"}, {"/proc/kcore", "/dev/null", "/dev/null"}, {"/proc/timer_list", "/dev/null", "/dev/null"}};
  const auto dump = dump_ext_mnt(ext);
  REQUIRE(dump.size() == 3);
  CHECK(dump[1].key == "/proc/kcore");
  CHECK(dump[1].val == "/dev/null");
  const auto restore = restore_ext_mnt(ext);
  REQUIRE(restore.size() == 2);
  CHECK(restore[0].key == "/data");
  CHECK(restore[0].val == "/srv/data");
  CHECK(restore[1].key == "/dev/null");
}

TEST_CASE("a cgroup mount without a cgroup namespace is one bind per hierarchy", "[criu]") {
  const oci::Spec s = spec_of("");
  const auto binds = cgroup_mount_binds(s, false, kMountinfo, kProcCgroup, "/run/c/rootfs");
  REQUIRE(binds.size() == 2);
  CHECK(has(binds, {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/berth/c1"}));
  CHECK(has(binds, {"/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/berth/c1"}));
  // cgroup2-only hosts and cgroup namespaces get real mounts, which CRIU dumps.
  CHECK(cgroup_mount_binds(s, true, kMountinfo, kProcCgroup, "/run/c/rootfs").empty());
  oci::Spec ns = s;
  ns.linux->namespaces->push_back({oci::NamespaceType::Cgroup, std::nullopt});
  CHECK(cgroup_mount_binds(ns, false, kMountinfo, kProcCgroup, "/run/c/rootfs").empty());
}

TEST_CASE("--manage-cgroups-mode and --empty-ns take runc's words", "[criu]") {
  CHECK(!parse_cgroups_mode(""));
  CHECK(parse_cgroups_mode("soft") == CgMode::Soft);
  CHECK(parse_cgroups_mode("full") == CgMode::Full);
  CHECK(parse_cgroups_mode("strict") == CgMode::Strict);
  CHECK(parse_cgroups_mode("ignore") == CgMode::Ignore);
  CHECK_THROWS_WITH(parse_cgroups_mode("Soft"), "--manage-cgroups-mode: `Soft` is not one of soft, full, strict, ignore");
  CHECK(empty_ns_mask({}) == CLONE_NEWNET);
  CHECK(empty_ns_mask({"network", "ipc"}) == (CLONE_NEWNET | CLONE_NEWIPC));
  CHECK_THROWS_WITH(empty_ns_mask({"net"}), Catch::Contains("--empty-ns: `net` is not a namespace type"));
  CHECK(external_ns_key(oci::NamespaceType::Network) == "extRootNetNS");
  CHECK(external_ns_key(oci::NamespaceType::Pid) == "extRootPidNS");
}

TEST_CASE("descriptors.json round-trips and names itself when malformed", "[criu]") {
  const std::vector<std::string> fds = {"pipe:[12]", "/dev/null", ""};
  CHECK(encode_descriptors(fds) == R"(["pipe:[12]","/dev/null",""])");
  CHECK(decode_descriptors(encode_descriptors(fds)) == fds);
  CHECK_THROWS_WITH(decode_descriptors("{}"), "descriptors.json: not an array of strings");
  CHECK_THROWS_WITH(decode_descriptors("[1]"), "descriptors.json: not an array of strings");
  CHECK_THROWS_WITH(decode_descriptors("[\"a\""), Catch::StartsWith("descriptors.json: "));
}

TEST_CASE("cg_root comes from /proc/<criu>/cgroup with controllers split", "[criu]") {
  const auto roots = cgroup_roots("5:cpu,cpuacct:/berth/c1\n1:name=systemd:/user.slice\n0::/berth/c1\n");
  REQUIRE(roots.size() == 4);
  CHECK(roots[0].ctrl == "cpu");
  CHECK(roots[1].ctrl == "cpuacct");
  CHECK(roots[1].path == "/berth/c1");
  CHECK(roots[2].ctrl == "name=systemd");
  CHECK(!roots[3].ctrl);
  CHECK(roots[3].path == "/berth/c1");
}

TEST_CASE("a stdio file on a mount the container lacks is an external file", "[criu]") {
  const std::string mountinfo = "511 465 8:1 /rootfs / rw - ext4 /dev/sda1 rw\n517 511 0:59 / /dev rw - tmpfs tmpfs rw\n";
  CHECK(external_file_key("pos:\t0\nflags:\t0100000\nmnt_id:\t23\nino:\t5\n", mountinfo, 5) == "file[17:5]");
  CHECK(external_file_key("pos:\t0\nmnt_id:\t517\n", mountinfo, 12) == std::nullopt);
  CHECK(external_file_key("pos:\t0\n", mountinfo, 12) == std::nullopt);
  CHECK(inherited_stdio("pipe:[42]"));
  CHECK(inherited_stdio("file[17:5]"));
  CHECK(!inherited_stdio("/dev/pts/0"));
  CHECK(!inherited_stdio(""));
}
