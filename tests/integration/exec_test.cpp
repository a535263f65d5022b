// berth exec (issue #7): a process joins a running container completely, behaves like the
// container's own process, and the error paths leave nothing behind.
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"
#include "tests/integration/console_receiver.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::ConsoleReceiver;
using berth::test::RunOptions;
using berth::test::RunResult;

namespace {

// A container whose init sleeps, detached: the target of the execs.
void run_sleeper(Bundle& b) {
  b.args({"sleep", "1000"});
  b.save();
  RunResult r = b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
}

RunResult exec(const Bundle& b, std::vector<std::string> args, const RunOptions& o = {}) {
  args.insert(args.begin(), {"exec"});
  return b.cli(args, o);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string read_text(const fs::path& p) { return berth::test::read_file(p); }

// Lines of a /proc/<pid>/status field ("CapEff", "Uid").
std::string status_field(const std::string& status, const std::string& key) {
  const size_t at = status.find(key + ":\t");
  if (at == std::string::npos) return {};
  const size_t end = status.find('\n', at);
  return status.substr(at + key.size() + 2, end - at - key.size() - 2);
}

}  // namespace

TEST_CASE("exec joins the container's namespaces, root, cgroup and credentials", "[exec]") {
  REQUIRE_ROOT();
  Bundle b;
  b.config.as_object()["hostname"] = "exec-box";
  run_sleeper(b);
  const std::string init = std::to_string(b.state().at("pid").as_int64());

  RunResult r = exec(b, {b.id(), "sh", "-c",
                         "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
                         "for n in pid net mnt uts ipc; do readlink /proc/self/ns/$n; done; "
                         "cat /proc/self/cgroup; grep -E '^(CapEff|CapBnd|Uid|NoNewPrivs)' /proc/self/status; "
                         "ls /proc | grep -c '^[0-9]'"});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK_THAT(r.out, Catch::StartsWith("exec-box\nsleep 1000 \n"));
  // Same namespaces as the container's init (read from the host through /proc/<init>).
  for (const char* n : {"pid", "net", "mnt", "uts", "ipc"})
    CHECK_THAT(r.out, Catch::Contains(fs::read_symlink("/proc/" + init + "/ns/" + n).string()));
  // Same cgroup as init.
  CHECK_THAT(r.out, Catch::Contains(read_text("/proc/" + init + "/cgroup")));
  const std::string init_status = read_text("/proc/" + init + "/status");
  CHECK_THAT(r.out, Catch::Contains("CapEff:\t" + status_field(init_status, "CapEff")));
  CHECK_THAT(r.out, Catch::Contains("CapBnd:\t" + status_field(init_status, "CapBnd")));
  CHECK_THAT(r.out, Catch::Contains("NoNewPrivs:\t" + status_field(init_status, "NoNewPrivs")));
  // Its own pid namespace: init, the shell, ls and grep; not the host's hundreds.
  const std::string count = trim(r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1));
  CHECK(std::stoi(count) < 10);
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("exec returns the process's exit status and passes stdin and stdout", "[exec]") {
  REQUIRE_ROOT();
  Bundle b;
  run_sleeper(b);
  CHECK(exec(b, {b.id(), "sh", "-c", "exit 7"}).exit_code == 7);
  CHECK(exec(b, {b.id(), "sh", "-c", "kill -TERM $$"}).exit_code == 143);
  RunOptions in;
  in.stdin_data = "from stdin\n";
  RunResult r = exec(b, {b.id(), "cat"}, in);
  CHECK(r.out == "from stdin\n");
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("exec --env, --cwd, --user, --additional-gids, --cap and --no-new-privs", "[exec]") {
  REQUIRE_ROOT();
  Bundle b;
  run_sleeper(b);
  RunResult r = exec(b, {"--env", "FOO=bar", "-e", "PATH=/bin:/usr/bin", "--cwd", "/tmp", "--user", "1000:1001",
                         "-g", "2000", "--no-new-privs", b.id(), "sh", "-c",
                         "echo $FOO $PATH; pwd; id -u; id -g; id -G; grep NoNewPrivs /proc/self/status"});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.out == "bar /bin:/usr/bin\n/tmp\n1000\n1001\n1001 2000\nNoNewPrivs:\t1\n");

  // --cap adds to the bounding, effective and permitted sets (CAP_SYS_ADMIN is bit 21).
  r = exec(b, {"--cap", "CAP_SYS_ADMIN", b.id(), "grep", "CapEff", "/proc/self/status"});
  REQUIRE(r.ok());
  const std::uint64_t eff = std::stoull(trim(r.out.substr(r.out.find('\t') + 1)), nullptr, 16);
  CHECK((eff >> 21 & 1U) == 1U);
  r = exec(b, {b.id(), "grep", "CapEff", "/proc/self/status"});
  const std::uint64_t plain = std::stoull(trim(r.out.substr(r.out.find('\t') + 1)), nullptr, 16);
  CHECK((plain >> 21 & 1U) == 0U);
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("exec --process runs a whole process.json; a bad one names the field", "[exec]") {
  REQUIRE_ROOT();
  Bundle b;
  run_sleeper(b);
  const fs::path proc = b.path("process.json");
  berth::test::write_file(proc, R"({"args": ["sh", "-c", "echo $X; pwd; id -u"], "cwd": "/etc",
                                  "env": ["X=from-process-json", "PATH=/bin"], "user": {"uid": 5, "gid": 5}})");
  RunResult r = exec(b, {"--process", proc.string(), b.id()});
  INFO(r.describe());
  CHECK(r.out == "from-process-json\n/etc\n5\n");

  berth::test::write_file(proc, R"({"args": "sh", "cwd": "/"})");
  r = exec(b, {"--process", proc.string(), b.id()});
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains(proc.string()) && Catch::Contains("process.args"));
  berth::test::write_file(proc, R"({"args": ["true"], "cwd": "relative"})");
  r = exec(b, {"--process", proc.string(), b.id()});
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains("process.cwd"));
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("exec --tty with a console socket, and -t relayed in the foreground", "[exec][terminal]") {
  REQUIRE_ROOT();
  Bundle b;
  run_sleeper(b);
  const std::string sock = b.path("console.sock").string();
  ConsoleReceiver rx(sock);
  const fs::path pid_file = b.path("exec.pid");
  RunResult r = exec(b, {"-t", "-d", "--console-socket", sock, "--pid-file", pid_file.string(), b.id(), "sh", "-c",
                         "tty; ls -l /dev/console | wc -l; echo done"});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(rx.receive() == "/dev/ptmx");
  CHECK(std::stoi(read_text(pid_file)) > 0);
  const std::string out = rx.read_all();
  CHECK_THAT(out, Catch::Contains("/dev/pts/") && Catch::Contains("done"));

  r = exec(b, {"-t", b.id(), "sh", "-c", "tty; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("/dev/pts/"));

  r = exec(b, {"-t", "-d", b.id(), "true"});
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains("cannot allocate tty"));
  r = exec(b, {"--console-socket", sock, b.id(), "true"});
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains("cannot use console socket"));
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("exec --detach returns at once and writes --pid-file; --preserve-fds passes fds", "[exec]") {
  REQUIRE_ROOT();
  Bundle b;
  run_sleeper(b);
  const fs::path pid_file = b.path("exec.pid");
  RunResult r = exec(b, {"-d", "--pid-file", pid_file.string(), b.id(), "sleep", "77"});
  INFO(r.describe());
  REQUIRE(r.ok());
  const std::string pid = trim(read_text(pid_file));
  CHECK(read_text("/proc/" + pid + "/cmdline") == std::string("sleep\0" "77\0", 9));

  berth::test::write_file(b.path("fd3.txt"), "through fd 3\n");
  r = berth::test::shell(b, "$BERTH exec --preserve-fds 1 " + b.id() + " sh -c 'cat <&3' 3<" +
                                b.path("fd3.txt").string());
  INFO(r.describe());
  CHECK(r.out == "through fd 3\n");
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("exec uses the container's seccomp filter and user namespace", "[exec]") {
  REQUIRE_ROOT();
  Bundle b;
  b.linux()["seccomp"] = json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})");
  // The container's root (host uid 100000) must reach the rootfs.
  fs::permissions(b.path(""), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  b.linux()["namespaces"].as_array().push_back(json::object{{"type", "user"}});
  b.linux()["uidMappings"] = json::parse(R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  b.linux()["gidMappings"] = json::parse(R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  run_sleeper(b);
  RunResult r = exec(b, {b.id(), "sh", "-c", "cat /proc/self/uid_map; id -u; mkdir /tmp/x 2>&1; echo rc=$?"});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK_THAT(r.out, Catch::Matches("\\s*0\\s+100000\\s+65536\\n0\\n[^\\n]*Operation not permitted\\nrc=1\\n"));
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("exec refuses stopped, unknown and paused containers and a missing executable", "[exec][errors]") {
  REQUIRE_ROOT();
  Bundle b;
  RunResult r = exec(b, {b.id(), "true"});
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains(b.id()) && Catch::Contains("does not exist"));

  run_sleeper(b);
  r = exec(b, {b.id(), "no-such-program"});
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.err, Catch::Contains("no-such-program") && Catch::Contains("not found"));
  berth::test::write_file(b.path("bad.json"), R"({"args": ["true"], "cwd": "relative"})");
  CHECK_FALSE(exec(b, {"--process", b.path("bad.json").string(), b.id()}).ok());
  // Nothing left of the failed execs: the container's cgroup holds its init alone.
  r = b.cli({"ps", "--format", "json", b.id()});
  REQUIRE(r.ok());
  CHECK(json::parse(r.out).as_array().size() == 1);

  REQUIRE(b.cli({"pause", b.id()}).ok());
  r = exec(b, {b.id(), "true"});
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains("paused") && Catch::Contains("--ignore-paused"));
  // With --ignore-paused the process starts frozen with the rest and runs once resumed.
  r = berth::test::shell(b, "$BERTH exec --ignore-paused " + b.id() + " echo ran & sleep 0.5; $BERTH resume " +
                                b.id() + "; wait");
  INFO(r.describe());
  CHECK(r.out == "ran\n");

  REQUIRE(b.cli({"kill", b.id(), "KILL"}).ok());
  REQUIRE(berth::test::wait_status(b, "stopped"));
  r = exec(b, {b.id(), "true"});
  CHECK_FALSE(r.ok());
  CHECK_THAT(r.err, Catch::Contains("stopped"));
  CHECK(b.cli({"delete", b.id()}).ok());
}

TEST_CASE("twenty concurrent execs into one container all succeed", "[exec]") {
  REQUIRE_ROOT();
  Bundle b;
  run_sleeper(b);
  RunResult r = berth::test::shell(
      b, "for i in $(seq 20); do $BERTH exec " + b.id() + " sh -c \"echo \\$0\" $i > $B/../out.$i 2>&1 & done; wait; "
         "cat $B/../out.*");
  INFO(r.describe());
  std::set<std::string> seen;
  size_t start = 0;
  for (size_t nl; (nl = r.out.find('\n', start)) != std::string::npos; start = nl + 1)
    seen.insert(r.out.substr(start, nl - start));
  CHECK(seen.size() == 20);
  for (int i = 1; i <= 20; ++i) CHECK(seen.count(std::to_string(i)) == 1);
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}
