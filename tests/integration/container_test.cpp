// Real containers, driven through the built binary: the lifecycle, what the container sees
// from inside, the error cases and what they leave behind (issue #3).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::RunOptions;
using berth::test::RunResult;
using berth::test::wait_status;

using berth::test::proc_file;

namespace {

std::string host_link(const std::string& p) { return fs::read_symlink(p).string(); }

// What a failed create must not leave: berth's init stage (tests run one container at a time)
// or a process whose command line mentions the bundle's ID (the tests put it in args).
int processes_mentioning(const std::string& needle) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmd = proc_file(e.path() / "cmdline");
    if (cmd == std::string("berth\0init\0", 11) || cmd.find(needle) != std::string::npos) ++n;
  }
  return n;
}

std::string mountinfo_mentioning(const std::string& needle) {
  std::ifstream f("/proc/self/mountinfo");
  std::string line, out;
  while (std::getline(f, line))
    if (line.find(needle) != std::string::npos) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("run prints the container's output and exits with its status", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c", "echo hello from berth; exit 3"});
  RunResult r = b.run_fg();
  CHECK(r.exit_code == 3);
  CHECK(r.out == "hello from berth\n");
  // run without --keep deletes the container when it exits.
  CHECK(b.state().is_null());
}

TEST_CASE("a container killed by a signal exits 128+N", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  // pid 1 of a pid namespace ignores signals it has no handler for: kill a child instead,
  // then exec it as pid 1 is not needed: sh -c 'kill -9 $$' runs in a forked sh.
  b.args({"sh", "-c", "sh -c 'kill -9 $$'; exit $?"});
  RunResult r = b.run_fg();
  CHECK(r.exit_code == 137);
}

TEST_CASE("create, start, state, kill, delete walk through the spec's states", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sleep", "1000"});
  RunResult r = b.create();
  REQUIRE(r.ok());
  json::value st = b.state();
  REQUIRE(st.is_object());
  CHECK(st.at("status").as_string() == "created");
  CHECK(st.at("id").as_string() == b.id());
  CHECK(st.at("bundle").as_string() == fs::canonical(b.dir()).string());
  CHECK(st.at("rootfs").as_string() == fs::canonical(b.rootfs()).string());
  CHECK(st.at("ociVersion").as_string() == "1.3.0");
  REQUIRE(st.as_object().contains("pid"));
  const int pid = static_cast<int>(st.at("pid").as_int64());
  CHECK(pid > 0);
  REQUIRE(st.as_object().contains("created"));
  {  // RFC 3339, UTC, today (berth computes it without the C library's time zone code)
    const std::time_t now = std::time(nullptr);
    char day[16];
    std::strftime(day, sizeof day, "%Y-%m-%dT", std::gmtime(&now));
    const std::string created(st.at("created").as_string());
    CHECK(created.rfind(day, 0) == 0);
    CHECK(created.size() == 30);  // 2026-11-29T22:40:01.123456789Z
    CHECK(created.back() == 'Z');
  }
  // The created container's init waits: it has not run the process yet.
  CHECK(fs::exists(fs::path(b.state_root()) / b.id() / "exec.fifo"));

  // A second create of the same ID fails and changes nothing.
  RunResult dup = b.cli({"create", "--bundle", b.dir().string(), b.id()});
  CHECK_FALSE(dup.ok());
  CHECK_THAT(dup.err, Catch::Contains("already exists"));
  CHECK(b.status() == "created");

  REQUIRE(b.cli({"start", b.id()}).ok());
  CHECK(b.status() == "running");
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id() / "exec.fifo"));
  // start twice is an error naming the state.
  RunResult again = b.cli({"start", b.id()});
  CHECK_FALSE(again.ok());
  CHECK_THAT(again.err, Catch::Contains("running"));

  // delete refuses a running container without --force.
  RunResult del = b.cli({"delete", b.id()});
  CHECK_FALSE(del.ok());
  CHECK_THAT(del.err, Catch::Contains("not stopped"));

  REQUIRE(b.cli({"kill", b.id(), "KILL"}).ok());
  CHECK(wait_status(b, "stopped"));
  json::value stopped = b.state();
  CHECK_FALSE(stopped.as_object().contains("pid"));
  REQUIRE(b.cli({"delete", b.id()}).ok());
  CHECK(b.state().is_null());
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
}

TEST_CASE("kill accepts signal names with and without SIG and numbers", "[container]") {
  REQUIRE_ROOT();
  for (const std::string sig : {"TERM", "SIGTERM", "15"}) {
    Bundle b;
    // A shell that traps TERM, so pid 1 really dies of it.
    b.args({"sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"});
    REQUIRE(b.create().ok());
    REQUIRE(b.cli({"start", b.id()}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    RunResult k = b.cli({"kill", b.id(), sig});
    CHECK(k.ok());
    CHECK(wait_status(b, "stopped"));
  }
}

TEST_CASE("list shows runc's table, -q and --format json", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sleep", "1000"});
  REQUIRE(b.create().ok());
  RunResult t = b.cli({"list"});
  REQUIRE(t.ok());
  CHECK_THAT(t.out, Catch::StartsWith("ID"));
  CHECK_THAT(t.out, Catch::Contains("PID") && Catch::Contains("STATUS") && Catch::Contains("BUNDLE") &&
                        Catch::Contains("CREATED") && Catch::Contains("OWNER"));
  CHECK_THAT(t.out, Catch::Contains(b.id()) && Catch::Contains("created"));
  RunResult q = b.cli({"list", "-q"});
  CHECK(q.out == b.id() + "\n");
  RunResult j = b.cli({"list", "--format", "json"});
  json::value v = json::parse(j.out);
  REQUIRE(v.is_array());
  REQUIRE(v.as_array().size() == 1);
  CHECK(v.as_array()[0].at("id").as_string() == b.id());
  CHECK(v.as_array()[0].at("status").as_string() == "created");
}

TEST_CASE("the container has its own namespaces, hostname and loopback", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  b.config.as_object()["hostname"] = "berth-test";
  b.linux()["namespaces"].as_array().push_back(json::object{{"type", "cgroup"}});
  b.args({"sh", "-c",
          "for n in pid net mnt uts ipc cgroup; do readlink /proc/self/ns/$n; done; hostname; "
          "cat /sys/class/net/lo/operstate 2>/dev/null || ip link show lo"});
  RunResult r = b.run_fg();
  REQUIRE(r.exit_code == 0);
  for (const char* n : {"pid", "net", "mnt", "uts", "ipc", "cgroup"}) {
    INFO(n);
    CHECK_THAT(r.out, Catch::Contains(std::string(n) + ":["));
    CHECK(r.out.find(host_link(std::string("/proc/self/ns/") + n)) == std::string::npos);
  }
  CHECK_THAT(r.out, Catch::Contains("berth-test\n"));
  CHECK_THAT(r.out, Catch::Contains("UP") || Catch::Contains("unknown"));
}

TEST_CASE("the process runs with the configured user, groups, umask and cwd", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  json::object user{{"uid", 1000}, {"gid", 1001}, {"additionalGids", json::array{10, 20}}, {"umask", 63}};
  b.process()["user"] = user;
  b.process()["cwd"] = "/work/dir";
  b.args({"sh", "-c", "id -u; id -g; id -G; umask; pwd"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "1000\n1001\n1001 10 20\n0077\n/work/dir\n");
}

TEST_CASE("capabilities, rlimits and noNewPrivileges are applied", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  // Ambient capabilities need the inheritable set too (runc's default spec has none: no ambient).
  b.process()["capabilities"].as_object()["inheritable"] = b.process()["capabilities"].as_object()["ambient"];
  b.args({"sh", "-c", "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status; ulimit -n"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  // runc spec's default: CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10).
  const std::string mask = "0000000020000420";
  CHECK_THAT(r.out, Catch::Contains("CapInh:\t" + mask));
  CHECK_THAT(r.out, Catch::Contains("CapPrm:\t" + mask));
  CHECK_THAT(r.out, Catch::Contains("CapEff:\t" + mask));
  CHECK_THAT(r.out, Catch::Contains("CapBnd:\t" + mask));
  CHECK_THAT(r.out, Catch::Contains("CapAmb:\t" + mask));
  CHECK_THAT(r.out, Catch::Contains("NoNewPrivs:\t1"));
  CHECK_THAT(r.out, Catch::EndsWith("1024\n"));
}

TEST_CASE("mounts, devices, masked and readonly paths, and a readonly root", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c",
          "grep -E ' / | /proc | /dev | /dev/pts | /dev/shm | /dev/mqueue | /sys ' /proc/self/mountinfo | "
          "awk '{for (i = 7; i < NF; i++) if ($i == \"-\") { print $5, $(i + 1); break }}'; "
          "ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | awk '{print $1, $5, $6, $10}'; "
          "for l in /dev/fd /dev/stdin /dev/ptmx; do readlink $l; done; "
          "echo keys=$(wc -c < /proc/keys); "
          "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo procsys=writable || echo procsys=readonly; "
          "touch /newfile 2>/dev/null && echo root=writable || echo root=readonly"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("/proc proc"));
  CHECK_THAT(r.out, Catch::Contains("/dev tmpfs"));
  CHECK_THAT(r.out, Catch::Contains("/dev/pts devpts"));
  CHECK_THAT(r.out, Catch::Contains("/dev/shm tmpfs"));
  CHECK_THAT(r.out, Catch::Contains("/dev/mqueue mqueue"));
  CHECK_THAT(r.out, Catch::Contains("/sys sysfs"));
  CHECK_THAT(r.out, Catch::Contains("crw-rw-rw- 1, 3 /dev/null"));
  CHECK_THAT(r.out, Catch::Contains("crw-rw-rw- 1, 5 /dev/zero"));
  CHECK_THAT(r.out, Catch::Contains("crw-rw-rw- 1, 7 /dev/full"));
  CHECK_THAT(r.out, Catch::Contains("crw-rw-rw- 1, 9 /dev/urandom"));
  CHECK_THAT(r.out, Catch::Contains("/proc/self/fd\n/proc/self/fd/0\npts/ptmx\n"));
  CHECK_THAT(r.out, Catch::Contains("keys=0"));  // a masked path that exists on every kernel
  CHECK_THAT(r.out, Catch::Contains("procsys=readonly"));
  CHECK_THAT(r.out, Catch::Contains("root=readonly"));
}

TEST_CASE("linux.devices are created with their numbers and modes", "[container]") {
  REQUIRE_ROOT();
  Bundle b;
  b.linux()["devices"] = json::array{
      json::object{{"path", "/dev/mynull"}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"fileMode", 0600},
                   {"uid", 0}, {"gid", 0}}};
  b.args({"sh", "-c", "ls -l /dev/mynull | awk '{print $1, $5, $6}'"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "crw------- 1, 3\n");
}

TEST_CASE("hooks run in order with the state on stdin", "[container][hooks]") {
  REQUIRE_ROOT();
  Bundle b;
  const std::string log = b.path("hooks.log").string();
  // Each hook appends its kind and the state's status. createContainer runs in the container's
  // mount namespace before pivot_root, so host paths still resolve; startContainer runs after it,
  // inside the rootfs, so it writes /hooks.log of the rootfs.
  auto host_hook = [&](const std::string& kind) {
    return json::object{{"path", "/bin/sh"},
                        {"args", json::array{"sh", "-c",
                                             "read s; echo \"" + kind + " $(echo $s | grep -o '\"status\":\"[a-z]*\"')\" >> " + log}}};
  };
  auto ctr_hook = [&](const std::string& kind) {
    return json::object{{"path", "/bin/sh"},
                        {"args", json::array{"sh", "-c",
                                             "read s; echo \"" + kind + " $(echo $s | grep -o '\"status\":\"[a-z]*\"')\" >> /hooks.log"}}};
  };
  b.config.as_object()["hooks"] = json::object{
      {"prestart", json::array{host_hook("prestart")}},
      {"createRuntime", json::array{host_hook("createRuntime")}},
      {"createContainer", json::array{host_hook("createContainer")}},
      {"startContainer", json::array{ctr_hook("startContainer")}},
      {"poststart", json::array{host_hook("poststart")}},
      {"poststop", json::array{host_hook("poststop")}},
  };
  b.config.as_object()["root"].as_object()["readonly"] = false;
  b.args({"true"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(berth::test::read_file(log) ==
        "prestart \"status\":\"creating\"\ncreateRuntime \"status\":\"creating\"\n"
        "createContainer \"status\":\"creating\"\npoststart \"status\":\"running\"\npoststop \"status\":\"stopped\"\n");
  CHECK(berth::test::read_file(b.rootfs() / "hooks.log") == "startContainer \"status\":\"created\"\n");
}

TEST_CASE("a failing createRuntime hook fails create and leaves nothing behind", "[container][errors]") {
  REQUIRE_ROOT();
  Bundle b;
  b.config.as_object()["hooks"] = json::object{
      {"createRuntime", json::array{json::object{{"path", "/bin/sh"}, {"args", json::array{"sh", "-c", "echo nope >&2; exit 4"}}}}}};
  b.args({"sleep", "1000"});
  RunResult r = b.create();
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains("hooks.createRuntime[0]") && Catch::Contains("exited with status 4") &&
                        Catch::Contains("nope"));
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
  CHECK(processes_mentioning(b.id()) == 0);
  CHECK(mountinfo_mentioning(b.rootfs().string()).empty());
}

TEST_CASE("bad input is refused with a message naming it, leaving nothing", "[container][errors]") {
  REQUIRE_ROOT();
  SECTION("a config error names the field") {
    Bundle b;
    b.linux()["namespaces"].as_array().push_back(json::object{{"type", "pdi"}});
    RunResult r = b.create();
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.err, Catch::Contains("linux.namespaces[5].type") && Catch::Contains("pdi"));
    CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
  }
  SECTION("a missing rootfs names the path") {
    Bundle b;
    b.config.as_object()["root"].as_object()["path"] = "nonexistent";
    RunResult r = b.create();
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.err, Catch::Contains("root.path") && Catch::Contains("nonexistent") &&
                          Catch::Contains("No such file or directory"));
    CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
  }
  SECTION("a bad container ID") {
    Bundle b;
    b.save();
    RunResult r = b.cli({"create", "--bundle", b.dir().string(), "../evil"});
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.err, Catch::Contains("container id") && Catch::Contains("../evil"));
  }
  SECTION("an executable that does not exist fails create, naming it") {
    Bundle b;
    b.args({"/no/such/program"});
    RunResult r = b.create();
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.err, Catch::Contains("/no/such/program"));
    CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
    CHECK(processes_mentioning(b.id()) == 0);
  }
  SECTION("a mount that cannot be made names the mount") {
    Bundle b;
    b.config.as_object()["mounts"].as_array().push_back(
        json::object{{"destination", "/mnt"}, {"type", "bind"}, {"source", "/does/not/exist"}, {"options", json::array{"rbind"}}});
    RunResult r = b.create();
    CHECK_FALSE(r.ok());
    CHECK_THAT(r.err, Catch::Contains("mounts[7]") && Catch::Contains("/does/not/exist"));
    CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
    CHECK(processes_mentioning(b.id()) == 0);
  }
}

TEST_CASE("a container whose create died half-way can still be deleted", "[container][errors]") {
  REQUIRE_ROOT();
  Bundle b;
  fs::create_directories(fs::path(b.state_root()) / b.id());  // no state.json: create crashed
  RunResult r = b.cli({"delete", b.id()});
  CHECK(r.ok());
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
}

TEST_CASE("the init stage's binary cannot be opened for writing (CVE-2019-5736)", "[container][security]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"true"});
  REQUIRE(b.create().ok());
  const int pid = static_cast<int>(b.state().at("pid").as_int64());
  // The attack: hold /proc/<init>/exe with O_PATH, let berth's process go away, then reopen it
  // for writing through /proc/self/fd.
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/exe").c_str(), O_PATH | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(b.cli({"delete", "--force", b.id()}).ok());
  const int w = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY | O_CLOEXEC);
  const int err = errno;
  if (w >= 0) ::close(w);
  ::close(fd);
  CHECK(w < 0);
  CHECK(err == EROFS);
}
