// Namespaces and rootfs options seen from inside the container: a user namespace with id
// mappings, namespaces joined by path, a time namespace with offsets, domainname and sysctl,
// --no-pivot, bind mounts with options, rootfsPropagation, oomScoreAdj.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::RunResult;

namespace {

void add_namespace(Bundle& b, json::object ns) { b.linux()["namespaces"].as_array().push_back(std::move(ns)); }

std::string link_of(const std::string& p) { return fs::read_symlink(p).string(); }

}  // namespace

TEST_CASE("a user namespace maps the container's root to an unprivileged host id", "[isolation][userns]") {
  REQUIRE_ROOT();
  Bundle b;
  // The container's root (host uid 100000) must reach the rootfs: runc has the same rule.
  fs::permissions(b.path(""), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  add_namespace(b, {{"type", "user"}});
  b.linux()["uidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.linux()["gidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  b.args({"sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; ls -l /dev/null | cut -c1-10"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "0\n 0 100000 65536\n 0 100000 65536\ncrw-rw-rw-\n");
}

TEST_CASE("namespaces given by path are joined", "[isolation]") {
  REQUIRE_ROOT();
  Bundle a;
  a.args({"sleep", "100"});
  a.config.as_object()["hostname"] = "first";
  a.save();
  REQUIRE(a.cli({"run", "-d", "--bundle", a.dir().string(), a.id()}).ok());
  const std::string pid = std::to_string(a.state().at("pid").as_int64());

  Bundle b;
  json::array& ns = b.linux()["namespaces"].as_array();
  for (auto& n : ns) {
    const std::string type(n.at("type").as_string());
    if (type == "network" || type == "uts" || type == "ipc" || type == "pid")
      n.as_object()["path"] = "/proc/" + pid + "/ns/" + (type == "network" ? "net" : type);
  }
  b.config.as_object().erase("hostname");  // the joined uts namespace keeps its own
  b.args({"sh", "-c", "hostname; for n in net ipc pid; do readlink /proc/self/ns/$n; done; pidof sleep"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const std::string want = "first\n" + link_of("/proc/" + pid + "/ns/net") + "\n" + link_of("/proc/" + pid + "/ns/ipc") +
                           "\n" + link_of("/proc/" + pid + "/ns/pid") + "\n1\n";
  CHECK(r.out == want);
}

TEST_CASE("a new time namespace gets linux.timeOffsets", "[isolation][timens]") {
  REQUIRE_ROOT();
  if (!fs::exists("/proc/self/ns/time")) {
    berth::test::skip("this kernel has no time namespaces");
    return;
  }
  Bundle b;
  add_namespace(b, {{"type", "time"}});
  b.linux()["timeOffsets"] = json::object{{"monotonic", json::object{{"secs", 1000000}, {"nanosecs", 0}}},
                                          {"boottime", json::object{{"secs", 2000000}, {"nanosecs", 0}}}};
  b.args({"sh", "-c", "cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets | tr -s ' '"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("monotonic 1000000 0") && Catch::Contains("boottime 2000000 0"));
  CHECK(std::stol(r.out) >= 2000000);  // /proc/uptime is boottime
}

TEST_CASE("domainname and linux.sysctl are set in the container's namespaces", "[isolation]") {
  REQUIRE_ROOT();
  Bundle b;
  b.config.as_object()["domainname"] = "example.org";
  b.linux()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}, {"kernel.msgmax", "4096"}};
  b.args({"sh", "-c", "cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "example.org\n1\n4096\n");
  // Not namespaced: refused before anything is created. Namespaced but unknown: init names it.
  Bundle bad;
  bad.linux()["sysctl"] = json::object{{"kernel.no_such_knob", "1"}};
  r = bad.run_fg();
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("linux.sysctl[\"kernel.no_such_knob\"]") && Catch::Contains("not namespaced"));
  Bundle unknown;
  unknown.linux()["sysctl"] = json::object{{"net.ipv4.no_such_knob", "1"}};
  r = unknown.run_fg();
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("net.ipv4.no_such_knob") && Catch::Contains("No such file or directory"));
  CHECK_FALSE(fs::exists(fs::path(unknown.state_root()) / unknown.id()));
}

TEST_CASE("--no-pivot runs the container with MS_MOVE and chroot", "[isolation]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c", "ls /; cat /proc/self/mountinfo | awk '$5 == \"/\" {print \"root\"}' | head -n1"});
  b.save();
  RunResult r = b.cli({"run", "--no-pivot", "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("bin\ndev\netc\nproc\nroot\nsys\ntmp\n"));
  CHECK_THAT(r.out, Catch::EndsWith("root\n"));
}

TEST_CASE("bind mounts honour ro, nosuid, rro and relative sources", "[isolation][mounts]") {
  REQUIRE_ROOT();
  Bundle b;
  fs::create_directories(b.dir() / "data" / "sub");
  berth::test::write_file(b.dir() / "data" / "hello", "from the host\n");
  b.config.as_object()["mounts"].as_array().push_back(
      json::object{{"destination", "/data"}, {"type", "bind"}, {"source", "data"}, {"options", json::array{"rbind", "ro", "nosuid"}}});
  b.config.as_object()["mounts"].as_array().push_back(
      json::object{{"destination", "/data/sub"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", json::array{"size=1m"}}});
  b.config.as_object()["mounts"].as_array().push_back(
      json::object{{"destination", "/deep/new/dir"}, {"type", "bind"}, {"source", "data"}, {"options", json::array{"rbind", "rro"}}});
  b.args({"sh", "-c",
          "cat /data/hello; touch /data/x 2>/dev/null && echo data=rw || echo data=ro; "
          "grep ' /data ' /proc/self/mountinfo | grep -q 'ro,nosuid' && echo flags=ro,nosuid; "
          "touch /data/sub/x && echo sub=rw; "
          "touch /deep/new/dir/x 2>/dev/null && echo deep=rw || echo deep=ro"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "from the host\ndata=ro\nflags=ro,nosuid\nsub=rw\ndeep=ro\n");
}

TEST_CASE("a mount destination that is a symlink out of the rootfs stays inside", "[isolation][mounts]") {
  REQUIRE_ROOT();
  Bundle b;
  const fs::path outside = b.path("outside");
  fs::create_directories(outside);
  fs::create_symlink(outside, b.rootfs() / "escape");  // absolute symlink to a host directory
  b.config.as_object()["mounts"].as_array().push_back(
      json::object{{"destination", "/escape/x"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  b.args({"true"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  // Resolved inside the rootfs: the host directory the symlink names is untouched.
  CHECK(fs::is_empty(outside));
}

TEST_CASE("rootfsPropagation and oomScoreAdj are applied", "[isolation]") {
  REQUIRE_ROOT();
  Bundle b;
  b.linux()["rootfsPropagation"] = "shared";
  b.process()["oomScoreAdj"] = 123;
  b.args({"sh", "-c", "cat /proc/self/oom_score_adj; awk '$5 == \"/\"' /proc/self/mountinfo | grep -c shared:"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "123\n1\n");
}

TEST_CASE("an idmapped bind mount shows the host's owners through its mappings", "[isolation][mounts]") {
  REQUIRE_ROOT();
  Bundle b;
  fs::create_directories(b.dir() / "owned");
  berth::test::write_file(b.dir() / "owned" / "file", "x");  // owned by root, as the test runs
  json::array map{json::object{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
  b.config.as_object()["mounts"].as_array().push_back(json::object{{"destination", "/idm"},
                                                                   {"type", "bind"},
                                                                   {"source", "owned"},
                                                                   {"options", json::array{"bind", "idmap"}},
                                                                   {"uidMappings", map},
                                                                   {"gidMappings", map}});
  b.args({"sh", "-c", "stat -c '%u %g' /idm/file"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "1000 1000\n");
}
