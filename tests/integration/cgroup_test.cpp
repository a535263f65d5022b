// cgroups (issue #5): limits written where the host shows them and enforced inside, update,
// pause/resume, ps, events, kill --all and cleanup. Every case runs on this host's v1/hybrid
// layout and, through tests/vm, on a pure cgroup v2 guest: expectations name both files.
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include <algorithm>
#include <filesystem>
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
using berth::test::shell;
using berth::test::wait_status;

namespace {

bool unified_host() {
  struct statfs sf {};
  return ::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The container's cgroup directories as berth recorded them in its state.json.
json::object cgroup_record(const Bundle& b) {
  const json::value st = json::parse(berth::test::read_file(fs::path(b.state_root()) / b.id() / "state.json"));
  const json::value* cg = st.as_object().if_contains("cgroup");
  return cg && cg->is_object() ? cg->as_object() : json::object{};
}

// The directory holding a controller's files: the v1 hierarchy's, or the cgroup2 one.
std::string dir_of(const Bundle& b, const std::string& v1_controller) {
  const json::object cg = cgroup_record(b);
  if (!unified_host()) {
    if (const json::value* v1 = cg.if_contains("v1"))
      if (const json::value* d = v1->as_object().if_contains(v1_controller)) return std::string(d->as_string());
    return "";
  }
  const json::value* u = cg.if_contains("unified");
  return u ? std::string(u->as_string()) : "";
}

std::string cg_file(const Bundle& b, const std::string& v1_controller, const std::string& v1_file,
                    const std::string& v2_file) {
  return trim(berth::test::read_file(fs::path(dir_of(b, v1_controller)) / (unified_host() ? v2_file : v1_file)));
}

// Every directory of the container's cgroup.
std::vector<std::string> all_dirs(const Bundle& b) {
  std::vector<std::string> out;
  const json::object cg = cgroup_record(b);
  if (const json::value* v1 = cg.if_contains("v1"))
    for (const auto& [c, d] : v1->as_object()) out.emplace_back(d.as_string());
  if (const json::value* u = cg.if_contains("unified")) out.emplace_back(u->as_string());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void run_detached(Bundle& b) {
  b.save();
  RunResult r = b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
}

json::object& resources(Bundle& b) {
  json::object& l = b.linux();
  if (!l.contains("resources") || !l["resources"].is_object()) l["resources"] = json::object{};
  return l["resources"].as_object();
}

}  // namespace

TEST_CASE("the cgroup is made where linux.cgroupsPath says, with the limits of linux.resources", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  b.linux()["cgroupsPath"] = "/berth-test/" + b.id();
  json::object& r = resources(b);
  r["memory"] = json::object{{"limit", 64 << 20}, {"reservation", 32 << 20}};
  r["pids"] = json::object{{"limit", 50}};
  r["cpu"] = json::object{{"shares", 512}, {"quota", 50000}, {"period", 100000}, {"cpus", "0"}};
  b.args({"sleep", "100"});
  run_detached(b);

  const std::string mem = dir_of(b, "memory");
  CHECK(mem == (unified_host() ? "/sys/fs/cgroup/berth-test/" : "/sys/fs/cgroup/memory/berth-test/") + b.id());
  CHECK(cg_file(b, "memory", "memory.limit_in_bytes", "memory.max") == std::to_string(64 << 20));
  CHECK(cg_file(b, "memory", "memory.soft_limit_in_bytes", "memory.low") == std::to_string(32 << 20));
  CHECK(cg_file(b, "pids", "pids.max", "pids.max") == "50");
  CHECK(cg_file(b, "cpu", "cpu.cfs_quota_us", "cpu.max") == (unified_host() ? "50000 100000" : "50000"));
  // shares 512 is cpu.weight 20 on cgroup v2 (runc's conversion).
  CHECK(cg_file(b, "cpu", "cpu.shares", "cpu.weight") == (unified_host() ? "20" : "512"));
  CHECK(cg_file(b, "cpuset", "cpuset.cpus", "cpuset.cpus") == "0");
  // The container's init is in it, in every hierarchy.
  const std::string pid = std::to_string(b.state().at("pid").as_int64());
  for (const std::string& d : all_dirs(b)) {
    INFO(d);
    CHECK(berth::test::read_file(fs::path(d) / "cgroup.procs").find(pid) != std::string::npos);
  }
  REQUIRE(b.cli({"delete", "--force", b.id()}).ok());
  ::rmdir((fs::path(mem).parent_path()).c_str());
}

TEST_CASE("inside its cgroup namespace the container sees its own cgroup as the root, with its limits", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  resources(b)["pids"] = json::object{{"limit", 42}};
  b.linux()["namespaces"].as_array().push_back(json::object{{"type", "cgroup"}});
  b.args({"sh", "-c", "cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null; true"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  // Every line is "N:controllers:/" (the namespace's root is the container's cgroup).
  std::istringstream lines(r.out);
  int cgroup_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line == "42") continue;
    ++cgroup_lines;
    CHECK(line.substr(line.rfind(':')) == ":/");
  }
  CHECK(cgroup_lines >= 1);
  CHECK(r.out.find("42\n") != std::string::npos);
}

TEST_CASE("a memory hog is OOM-killed at the limit and events reports it", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  // No swap, so the limit is hard. tail -c keeps up to 100 MB of /dev/zero in memory: the OOM
  // killer ends it, and with it the container.
  resources(b)["memory"] = json::object{{"limit", 32 << 20}, {"swap", 32 << 20}};
  b.args({"sh", "-c", "sleep 0.5; exec tail -c 100000000 < /dev/zero"});
  RunOptions o;
  o.timeout = std::chrono::seconds(60);
  RunResult r = shell(b,
                      "$BERTH create -b $B $ID || exit 1\n"
                      "$BERTH events --interval 30s $ID > $B/../events &\n"
                      "ev=$!; sleep 0.3; $BERTH start $ID || exit 2\n"
                      "wait $ev; cat $B/../events",
                      o);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("{\"type\":\"oom\",\"id\":\"" + b.id() + "\"}") != std::string::npos);
  CHECK(r.out.find("{\"type\":\"exit\",\"id\":\"" + b.id() + "\"}") != std::string::npos);
  CHECK(b.status() == "stopped");
}

TEST_CASE("a fork bomb stops at the pids limit", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  resources(b)["pids"] = json::object{{"limit", 8}};
  // The inner shell forks until it cannot (ash then gives up); the outer one counts what runs
  // through /proc with builtins only, as no fork is left for anything else.
  b.args({"sh", "-c",
          "sh -c 'while true; do sleep 5 & done'; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo $n"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.err.find("can't fork") != std::string::npos);
  const int n = std::atoi(r.out.c_str());
  CHECK(n >= 6);  // the outer shell and the sleeps that fit
  CHECK(n <= 8);
}

TEST_CASE("update changes the limits of a running container, from flags and from --resources", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  resources(b)["memory"] = json::object{{"limit", 64 << 20}};
  resources(b)["pids"] = json::object{{"limit", 50}};
  b.args({"sleep", "100"});
  run_detached(b);
  RunResult r = b.cli({"update", "--memory", "100M", "--pids-limit", "20", "--cpu-share", "256", b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(cg_file(b, "memory", "memory.limit_in_bytes", "memory.max") == std::to_string(100 << 20));
  CHECK(cg_file(b, "pids", "pids.max", "pids.max") == "20");
  CHECK(cg_file(b, "cpu", "cpu.shares", "cpu.weight") == (unified_host() ? "10" : "256"));

  RunOptions in;
  in.stdin_data = R"({"pids": {"limit": 30}, "memory": {"limit": 83886080}})";
  r = b.cli({"update", "--resources", "-", b.id()}, in);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(cg_file(b, "pids", "pids.max", "pids.max") == "30");
  CHECK(cg_file(b, "memory", "memory.limit_in_bytes", "memory.max") == "83886080");

  // A bad document names the field and changes nothing.
  in.stdin_data = R"({"pids": {"limit": "many"}})";
  r = b.cli({"update", "--resources", "-", b.id()}, in);
  CHECK_FALSE(r.ok());
  CHECK(r.err.find("pids.limit") != std::string::npos);
  CHECK(cg_file(b, "pids", "pids.max", "pids.max") == "30");
  // A limit below what the container uses is refused by checkBeforeUpdate (and by v1's kernel).
  in.stdin_data = R"({"memory": {"limit": 4096, "checkBeforeUpdate": true}})";
  r = b.cli({"update", "--resources", "-", b.id()}, in);
  CHECK_FALSE(r.ok());
  CHECK(r.err.find("linux.resources.memory.limit") != std::string::npos);
}

TEST_CASE("pause freezes every process and resume thaws them; status follows", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  b.config.as_object()["root"].as_object()["readonly"] = false;
  b.args({"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done"});
  run_detached(b);
  REQUIRE(b.cli({"pause", b.id()}).ok());
  CHECK(b.status() == "paused");
  if (unified_host())
    CHECK(trim(berth::test::read_file(fs::path(dir_of(b, "freezer")) / "cgroup.freeze")) == "1");
  else
    CHECK(trim(berth::test::read_file(fs::path(dir_of(b, "freezer")) / "freezer.state")) == "FROZEN");
  const std::string tick = b.rootfs().string() + "/tmp/tick";
  const std::string before = berth::test::read_file(tick);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(berth::test::read_file(tick) == before);
  // A paused container is neither paused again nor deleted without --force.
  CHECK_FALSE(b.cli({"pause", b.id()}).ok());
  CHECK_FALSE(b.cli({"delete", b.id()}).ok());
  REQUIRE(b.cli({"resume", b.id()}).ok());
  CHECK(b.status() == "running");
  // Under emulation (the VM lane) a loop round can take long: wait up to 10 s for a tick.
  bool ticked = false;
  for (int i = 0; i < 200 && !ticked; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ticked = berth::test::read_file(tick) != before;
  }
  CHECK(ticked);
  CHECK_FALSE(b.cli({"resume", b.id()}).ok());
  // delete --force of a paused container thaws it so the SIGKILL lands.
  REQUIRE(b.cli({"pause", b.id()}).ok());
  const std::vector<std::string> dirs = all_dirs(b);
  RunResult r = b.cli({"delete", "--force", b.id()});
  INFO(r.describe());
  CHECK(r.ok());
  for (const std::string& d : dirs) CHECK_FALSE(fs::exists(d));
}

TEST_CASE("ps lists the container's processes, as a table through ps(1) or as JSON", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c", "sleep 100 & sleep 101"});
  run_detached(b);
  RunResult r;
  json::array pids;
  for (int i = 0; i < 250; ++i) {  // until the shell has started its children (5 s)
    r = b.cli({"ps", "--format", "json", b.id()});
    REQUIRE(r.ok());
    pids = json::parse(r.out).as_array();
    if (pids.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(pids.size() >= 2);
  const std::int64_t init = b.state().at("pid").as_int64();
  CHECK(std::any_of(pids.begin(), pids.end(), [&](const json::value& v) { return v.as_int64() == init; }));
  r = b.cli({"ps", b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.out.find("PID") != std::string::npos);
  CHECK(r.out.find("sleep 100") != std::string::npos);
  CHECK(r.out.find("berth") == std::string::npos);  // only the container's lines
  r = b.cli({"ps", b.id(), "-o", "pid,comm"});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.out.find("COMMAND") != std::string::npos);
  CHECK(r.out.find("sleep") != std::string::npos);
  // After the task exits containerd's shim still asks: no error, nothing listed (runc).
  REQUIRE(b.cli({"kill", "--all", b.id(), "KILL"}).ok());
  REQUIRE(wait_status(b, "stopped"));
  r = b.cli({"ps", "--format", "json", b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  const json::value none = json::parse(r.out);
  CHECK((none.is_null() || (none.is_array() && none.as_array().empty())));
}

TEST_CASE("events --stats prints cpu, memory and pids of the container", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  resources(b)["pids"] = json::object{{"limit", 77}};
  b.args({"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 100"});
  run_detached(b);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RunResult r = b.cli({"events", "--stats", b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  const json::object ev = json::parse(r.out).as_object();
  CHECK(ev.at("type").as_string() == "stats");
  CHECK(ev.at("id").as_string() == b.id());
  const json::object& data = ev.at("data").as_object();
  CHECK(data.at("cpu").at("usage").at("total").to_number<std::uint64_t>() > 0);
  CHECK(data.at("memory").at("usage").at("usage").to_number<std::uint64_t>() > 0);
  CHECK(data.at("pids").at("current").to_number<std::uint64_t>() >= 1);
  CHECK(data.at("pids").at("limit").to_number<std::uint64_t>() == 77);
  // Streaming: one stats event per interval until stopped.
  RunOptions o;
  o.timeout = std::chrono::milliseconds(4000);
  r = b.cli({"events", "--interval", "200ms", b.id()}, o);
  CHECK(r.timed_out);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') >= 2);
  CHECK(r.out.find("\"type\":\"stats\"") != std::string::npos);
}

TEST_CASE("kill --all without a pid namespace signals every process of the cgroup", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  b.without_namespace("pid");
  b.args({"sh", "-c", "sleep 100 & sleep 100 & sleep 102"});
  run_detached(b);
  std::vector<std::int64_t> pids;
  for (int i = 0; i < 250 && pids.size() < 3; ++i) {
    pids.clear();
    const json::value list = json::parse(b.cli({"ps", "--format", "json", b.id()}).out);
    for (const json::value& v : list.as_array()) pids.push_back(v.as_int64());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(pids.size() == 3);
  RunResult r = b.cli({"kill", "--all", b.id(), "KILL"});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(wait_status(b, "stopped"));
  for (int i = 0; i < 100; ++i) {
    if (std::none_of(pids.begin(), pids.end(), [](std::int64_t p) { return fs::exists("/proc/" + std::to_string(p)); })) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (std::int64_t p : pids) CHECK_FALSE(fs::exists("/proc/" + std::to_string(p)));
  CHECK(b.cli({"delete", b.id()}).ok());
}

TEST_CASE("delete removes the container's cgroup in every hierarchy, and survivors are killed first", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  b.without_namespace("pid");
  // Without a pid namespace the background sleep outlives init.
  b.args({"sh", "-c", "sleep 100 & exit 0"});
  run_detached(b);
  const std::vector<std::string> dirs = all_dirs(b);
  REQUIRE(dirs.size() >= (unified_host() ? 1u : 5u));
  CHECK(wait_status(b, "stopped"));
  RunResult r = b.cli({"delete", b.id()});
  INFO(r.describe());
  CHECK(r.ok());
  for (const std::string& d : dirs) {
    INFO(d);
    CHECK_FALSE(fs::exists(d));
  }
}

namespace {
void allow_mknod(Bundle& b) {
  for (const char* set : {"bounding", "effective", "permitted"})
    b.process()["capabilities"].as_object()[set].as_array().push_back("CAP_MKNOD");
}
}  // namespace

TEST_CASE("devices outside the allow list cannot be opened; the default devices can", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  allow_mknod(b);
  b.args({"sh", "-c",
          "mknod /dev/blk b 7 0 && echo made; head -c 1 /dev/blk; echo rc=$?; head -c 3 /dev/zero | wc -c; "
          "echo hi > /dev/null && echo null-ok"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.out.find("made") != std::string::npos);  // mknod of any node is allowed, as runc
  CHECK(r.out.find("rc=1") != std::string::npos);
  CHECK(r.err.find("Operation not permitted") != std::string::npos);
  CHECK(r.out.find("3\n") != std::string::npos);
  CHECK(r.out.find("null-ok") != std::string::npos);
  // An allow rule for it opens it (reading a loop device with no file behind it gives EIO or
  // ENXIO, not EPERM).
  Bundle c;
  allow_mknod(c);
  resources(c)["devices"] = json::parse(
      R"([{"allow": false, "access": "rwm"}, {"allow": true, "type": "b", "major": 7, "minor": 0, "access": "r"}])");
  c.args({"sh", "-c", "mknod /dev/blk b 7 0; head -c 1 /dev/blk; echo rc=$?"});
  r = c.run_fg();
  INFO(r.describe());
  CHECK(r.err.find("Operation not permitted") == std::string::npos);
}

TEST_CASE("a limit the host cannot enforce fails create naming the field, and leaves no cgroup", "[cgroup]") {
  REQUIRE_ROOT();
  Bundle b;
  b.linux()["cgroupsPath"] = "/berth-test-bad/" + b.id();
  resources(b)["network"] = json::object{{"classID", 1048577}};
  b.args({"true"});
  b.save();
  const bool has_net_cls = fs::exists("/sys/fs/cgroup/net_cls") || fs::exists("/sys/fs/cgroup/net_cls,net_prio");
  RunResult r = b.cli({"run", "--bundle", b.dir().string(), b.id()});
  if (has_net_cls) {
    CHECK(r.ok());
  } else {
    INFO(r.describe());
    CHECK_FALSE(r.ok());
    CHECK(r.err.find("linux.resources.network.classID") != std::string::npos);
  }
  CHECK(b.status() == "(none)");
  for (const char* c : {"memory", "pids", "cpu", "freezer", ""}) {
    const fs::path d = fs::path("/sys/fs/cgroup") / c / "berth-test-bad" / b.id();
    INFO(d);
    CHECK_FALSE(fs::exists(d));
  }
  ::rmdir("/sys/fs/cgroup/berth-test-bad");
  for (const char* c : {"memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices", "blkio", "systemd", "unified"})
    ::rmdir((fs::path("/sys/fs/cgroup") / c / "berth-test-bad").c_str());

  Bundle v;
  resources(v)["memory"] = json::object{{"limit", 64 << 20}, {"swap", 32 << 20}};
  v.args({"true"});
  v.save();
  r = v.cli({"run", "--bundle", v.dir().string(), v.id()});
  CHECK_FALSE(r.ok());
  CHECK(r.err.find("linux.resources.memory.swap") != std::string::npos);
  CHECK(v.status() == "(none)");
}

TEST_CASE("hugepageLimits are written to the hugetlb controller", "[cgroup]") {
  REQUIRE_ROOT();
  if (!unified_host() && !fs::exists("/sys/fs/cgroup/hugetlb")) {
    berth::test::skip("hugetlb: this hybrid host has hugetlb only on its cgroup2 root; enabling it there would change "
                      "the host's cgroup setup (tested in the cgroup v2 VM lane)");
    return;
  }
  Bundle b;
  resources(b)["hugepageLimits"] = json::parse(R"([{"pageSize": "2MB", "limit": 8388608}])");
  b.args({"sleep", "100"});
  run_detached(b);
  CHECK(cg_file(b, "hugetlb", "hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.max") == std::to_string(4 << 21));
}

TEST_CASE("--systemd-cgroup without systemd as PID 1 is a clear error that leaves nothing", "[cgroup]") {
  REQUIRE_ROOT();
  if (fs::is_directory("/run/systemd/system")) {
    berth::test::skip("--systemd-cgroup error: systemd runs this host");
    return;
  }
  Bundle b;
  b.args({"true"});
  b.save();
  RunResult r = berth::test::berth({"--root", b.state_root(), "--systemd-cgroup", "run", "--bundle", b.dir().string(), b.id()});
  CHECK_FALSE(r.ok());
  CHECK(r.err.find("systemd is not running") != std::string::npos);
  CHECK(b.status() == "(none)");
}
