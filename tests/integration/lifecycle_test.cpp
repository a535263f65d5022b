// The lifecycle options around create and run: detached and kept containers, --pid-file,
// --preserve-fds, signal forwarding, kill --all, delete --force, and what the container process
// inherits (environment, fds).
#include <chrono>
#include <cstdint>
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
using berth::test::wait_status;

using berth::test::shell;

TEST_CASE("run -d returns at once and leaves the container running; run --keep keeps its state", "[lifecycle]") {
  REQUIRE_ROOT();
  {
    Bundle b;
    b.args({"sleep", "100"});
    b.save();
    RunResult r = b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()});
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(b.status() == "running");
    REQUIRE(b.cli({"kill", b.id(), "9"}).ok());
    CHECK(wait_status(b, "stopped"));
    CHECK(b.cli({"delete", b.id()}).ok());
  }
  {
    Bundle b;
    b.args({"sh", "-c", "exit 5"});
    b.save();
    RunResult r = b.cli({"run", "--keep", "--bundle", b.dir().string(), b.id()});
    CHECK(r.exit_code == 5);
    CHECK(b.status() == "stopped");
    CHECK_FALSE(b.state().as_object().contains("pid"));
    CHECK(b.cli({"delete", b.id()}).ok());
    CHECK(b.status() == "(none)");
  }
}

TEST_CASE("--pid-file receives the container's pid", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sleep", "100"});
  b.save();
  const std::string pid_file = b.path("pid").string();
  RunResult r = b.cli({"create", "--bundle", b.dir().string(), "--pid-file", pid_file, b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(berth::test::read_file(pid_file) == std::to_string(b.state().at("pid").as_int64()));
}

TEST_CASE("only stdio and --preserve-fds reach the container process", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c", "cat <&3; ls /proc/self/fd | tr '\\n' ' '"});
  // fd 3 and fd 4 are open in the caller; only 3 is preserved. ls lists its own directory fd.
  RunResult r = shell(b, "echo preserved > $B/f; exec 3<$B/f 4<$B/f; exec $BERTH run --preserve-fds 1 -b $B $ID");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "preserved\n0 1 2 3 4 ");  // 4: ls's own opendir, reusing the first free number
  Bundle c;
  c.args({"sh", "-c", "ls /proc/self/fd | tr '\\n' ' '"});
  r = shell(c, "exec 3</dev/null 5</dev/null; exec $BERTH run -b $B $ID");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "0 1 2 3 ");
}

TEST_CASE("the environment and PATH lookup come from process.env", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.process()["env"] = json::array{"PATH=/nowhere:/bin", "GREETING=hi there"};
  b.args({"sh", "-c", "echo $GREETING"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "hi there\n");
  Bundle c;
  c.process()["env"] = json::array{"PATH=/nowhere"};
  c.args({"true"});
  r = c.run_fg();
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("process.args[0]") && Catch::Contains("`true`") &&
                        Catch::Contains("not found in $PATH"));
}

TEST_CASE("berth run forwards the signals it receives to the container", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done"});
  RunResult r = shell(b,
                      "$BERTH run -b $B $ID > $B/out & pid=$!; "
                      "for i in $(seq 100); do grep -q ready $B/out 2>/dev/null && break; sleep 0.05; done; "
                      "kill -TERM $pid; wait $pid; echo rc=$?; cat $B/out");
  INFO(r.describe());
  CHECK(r.out == "rc=7\nready\ngot TERM\n");
}

TEST_CASE("kill --all reaches every process; plain kill only init", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  // pid 1 without a TERM handler ignores TERM; its children do not.
  b.args({"sh", "-c", "sleep 100 & sleep 100 & wait; echo children gone > /done"});
  b.config.as_object()["root"].as_object()["readonly"] = false;
  b.save();
  REQUIRE(b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()}).ok());
  REQUIRE(b.cli({"kill", b.id(), "TERM"}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(b.status() == "running");
  REQUIRE(b.cli({"kill", "--all", b.id(), "TERM"}).ok());
  CHECK(wait_status(b, "stopped"));
  CHECK(berth::test::read_file(b.rootfs() / "done") == "children gone\n");
}

TEST_CASE("delete refuses a running container; --force kills it", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sleep", "100"});
  b.save();
  REQUIRE(b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()}).ok());
  RunResult r = b.cli({"delete", b.id()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("not stopped"));
  r = b.cli({"delete", "--force", b.id()});
  INFO(r.describe());
  CHECK(r.ok());
  CHECK(b.status() == "(none)");
  // A created (never started) container is deleted without --force, as runc does.
  REQUIRE(b.create().ok());
  CHECK(b.cli({"delete", b.id()}).ok());
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
}

TEST_CASE("a finished container answers as runc: engines match the words", "[lifecycle][engines]") {
  REQUIRE_ROOT();
  Bundle b;
  // Init exits at once; a process it left in the container's cgroup (it shares the host's pid
  // namespace, so it outlives init) is what the shim's "kill --all" after exit is for.
  b.without_namespace("pid");
  b.args({"sh", "-c", "setsid sleep 100 </dev/null >/dev/null 2>&1 & echo $! > /left"});
  b.config.as_object()["root"].as_object()["readonly"] = false;
  b.save();
  REQUIRE(b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()}).ok());
  REQUIRE(wait_status(b, "stopped"));
  const fs::path log = b.dir() / "log.json";
  RunResult k = b.cli({"--log", log.string(), "--log-format", "json", "kill", b.id(), "9"});
  CHECK(k.exit_code == 1);
  // containerd's shim and conmon take these words for "the process already finished".
  CHECK_THAT(k.err, Catch::Contains("container not running"));
  CHECK_THAT(berth::test::read_file(log), Catch::Contains("\"level\":\"error\",\"msg\":\"container not running"));
  std::string pid = berth::test::read_file(b.rootfs() / "left");
  pid.erase(pid.find('\n'));
  const fs::path left = "/proc/" + pid;
  REQUIRE(fs::exists(left));
  // --all still reaches what is left in the cgroup and succeeds, as runc 1.1.
  k = b.cli({"kill", "--all", b.id(), "KILL"});
  INFO(k.describe());
  CHECK(k.ok());
  for (int i = 0; i < 100 && fs::exists(left); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(fs::exists(left));
  CHECK(b.cli({"delete", b.id()}).ok());
  // Every task ends with "delete" then "delete --force": the second finds nothing and succeeds.
  k = b.cli({"delete", "--force", b.id()});
  CHECK(k.ok());
  CHECK(k.err.empty());
  k = b.cli({"delete", b.id()});
  CHECK(k.exit_code == 1);
  CHECK_THAT(k.err, Catch::Contains("does not exist"));
}

TEST_CASE("concurrent creates of one ID: one wins, the other changes nothing", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sleep", "100"});
  RunResult r = shell(b, "$BERTH create -b $B $ID 2>$B/e1 & $BERTH create -b $B $ID 2>$B/e2 & "
                         "wait; cat $B/e1 $B/e2");
  INFO(r.describe());
  CHECK_THAT(r.out, Catch::Contains("already exists"));
  CHECK(b.status() == "created");
  REQUIRE(b.cli({"start", b.id()}).ok());
  CHECK(b.status() == "running");
}

TEST_CASE("a reused PID is not mistaken for the container's init", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sleep", "100"});
  REQUIRE(b.create().ok());
  // Same PID, another start time: what state.json would hold if init had died and its PID
  // had been given to an unrelated process.
  const fs::path state = fs::path(b.state_root()) / b.id() / "state.json";
  const std::string original = berth::test::read_file(state);
  json::value rec = json::parse(original);
  rec.as_object()["initStartTime"] = rec.at("initStartTime").to_number<std::uint64_t>() + 1;
  berth::test::write_file(state, json::serialize(rec));
  CHECK(b.status() == "stopped");
  RunResult k = b.cli({"kill", b.id(), "KILL"});
  CHECK(k.exit_code == 1);
  CHECK_THAT(k.err, Catch::Contains("not running"));
  // Put the truth back, so that the fixture's delete --force reaps the real init.
  berth::test::write_file(state, original);
  CHECK(b.status() == "created");
}

TEST_CASE("a hook past its timeout fails create", "[lifecycle][hooks]") {
  REQUIRE_ROOT();
  Bundle b;
  b.config.as_object()["hooks"] = json::object{
      {"prestart", json::array{json::object{{"path", "/bin/sleep"}, {"args", json::array{"sleep", "30"}}, {"timeout", 1}}}}};
  b.args({"true"});
  RunResult r = b.create();
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("hooks.prestart[0]") && Catch::Contains("timed out after 1s"));
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
}

TEST_CASE("an overlay mount from the bundle is writable through its upper layer", "[lifecycle][mounts]") {
  REQUIRE_ROOT();
  Bundle b;
  for (const char* d : {"lower", "upper", "work"}) fs::create_directories(b.dir() / d);
  berth::test::write_file(b.dir() / "lower" / "base", "lower layer\n");
  const std::string dir = b.dir().string();
  b.config.as_object()["mounts"].as_array().push_back(json::object{
      {"destination", "/ov"},
      {"type", "overlay"},
      {"source", "overlay"},
      {"options", json::array{"lowerdir=" + dir + "/lower", "upperdir=" + dir + "/upper", "workdir=" + dir + "/work"}}});
  b.args({"sh", "-c", "cat /ov/base; echo new > /ov/added"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "lower layer\n");
  CHECK(berth::test::read_file(b.dir() / "upper" / "added") == "new\n");
}

TEST_CASE("socket activation: LISTEN_FDS fds pass before --preserve-fds, with LISTEN_FDS=N, LISTEN_PID=1", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3; cat <&4; cat <&5"});
  // exec keeps the shell's PID, so LISTEN_PID=$$ names berth, as systemd would.
  RunResult r = shell(b, "echo one > $B/1; echo two > $B/2; echo three > $B/3; "
                         "exec 3<$B/1 4<$B/2 5<$B/3; LISTEN_FDS=2 LISTEN_PID=$$ exec $BERTH run --preserve-fds 1 -b $B $ID");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "2 1\none\ntwo\nthree\n");
}

TEST_CASE("without a terminal, create/start hands the container the stdio create was given", "[lifecycle]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sh", "-c", "read line; echo \"out: $line\"; echo err >&2"});
  // stdin from a file, stdout and stderr to files: the container keeps them after create exits.
  RunResult r = shell(b, "echo piped > $B/in; $BERTH create -b $B $ID < $B/in > $B/out 2> $B/err && $BERTH start $ID && "
                         "for i in $(seq 100); do grep -q err $B/err && break; sleep 0.05; done; cat $B/out $B/err");
  INFO(r.describe());
  CHECK(r.out == "out: piped\nerr\n");
}
