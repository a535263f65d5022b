// berth checkpoint and berth restore through CRIU. CRIU 3.17 cannot work on every kernel (on
// 6.18 `criu check` fails initialising its vdso support): the tests that need a working CRIU
// skip with its own words there and run in the cgroup v2 VM lane (Debian's 6.1 kernel), where
// tests/run-all.sh runs them as the criu-vm suite. What berth must say where CRIU is broken is
// tested on such a host.
//
// Containers here are started by the harness, whose stdio are pipes (one test gives the host's
// /dev/null, which berth declares external), and write only to a file of their rootfs.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"
#include "tests/integration/console_receiver.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::ConsoleReceiver;
using berth::test::RunResult;
using berth::test::TempDir;
using berth::test::wait_status;

namespace {

// `criu check`'s complaint, or nullopt when CRIU works here. Asked once.
const std::optional<std::string>& criu_broken() {
  static const std::optional<std::string> why = []() -> std::optional<std::string> {
    if (!berth::test::find_program("criu") && !fs::exists("/usr/sbin/criu")) return "criu is not installed";
    const RunResult r = berth::test::run({fs::exists("/usr/sbin/criu") ? "/usr/sbin/criu" : "criu", "check"});
    if (r.ok()) return std::nullopt;
    std::string text = r.err.empty() ? r.out : r.err;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  }();
  return why;
}

#define REQUIRE_CRIU()                                                                         \
  do {                                                                                         \
    REQUIRE_ROOT();                                                                            \
    if (criu_broken()) {                                                                       \
      berth::test::skip("CRIU does not work on this kernel (criu check: " + *criu_broken() +  \
                        "); runs in the VM lane");                                             \
      return;                                                                                  \
    }                                                                                          \
  } while (0)

// A container that counts in /count, five times a second, forever.
void counting(Bundle& b) {
  b.config.as_object()["root"].as_object()["readonly"] = false;
  b.args({"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /count; usleep 200000; done"});
}

// -1 before the first write, or when caught between the truncate and the write.
long count(const Bundle& b) {
  try {
    return std::stol(berth::test::read_file(b.rootfs() / "count"));
  } catch (...) {
    return -1;
  }
}

// Waits until the count reaches at least n (up to 20 s: the VM lane is emulated).
bool wait_count(const Bundle& b, long n) {
  for (int i = 0; i < 400; ++i) {
    if (count(b) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Runs a counting container (detached, stdio: the harness's pipes) and waits for it to count.
void start_counting(Bundle& b) {
  counting(b);
  b.save();
  const RunResult r = b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  REQUIRE(wait_count(b, 2));
}

// Whether the count stands still for a while.
bool stands_still(const Bundle& b) {
  const long before = count(b);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  return count(b) == before;
}

// Reads the pty master until `want` has come (up to 20 s); returns what was read.
std::string read_until(int master, const std::string& want) {
  std::string out;
  for (int i = 0; i < 200 && out.find(want) == std::string::npos; ++i) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

berth::test::RunOptions slow() {
  berth::test::RunOptions o;
  o.timeout = std::chrono::seconds(240);  // CRIU under emulation takes a while
  return o;
}

}  // namespace

TEST_CASE("a counting container is checkpointed, restored under a new ID and carries on", "[criu]") {
  REQUIRE_CRIU();
  Bundle b;
  start_counting(b);
  TempDir img("berth-img");
  const std::string images = (img / "images").string();
  RunResult r = b.cli({"checkpoint", "--image-path", images, b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  // Dumped without --leave-running: CRIU ended it and berth deleted it, as runc.
  CHECK(b.cli({"state", b.id()}).exit_code == 1);
  CHECK(stands_still(b));
  const long at_dump = count(b);
  CHECK(fs::exists(fs::path(images) / "descriptors.json"));
  CHECK(fs::exists(fs::path(images) / "dump.log"));

  const std::string id2 = b.id() + "-restored";
  r = b.cli({"restore", "-d", "--image-path", images, "--bundle", b.dir().string(), id2}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  RunResult st = b.cli({"state", id2});
  REQUIRE(st.ok());
  const json::value s = json::parse(st.out);
  CHECK(s.at("status").as_string() == "running");
  const auto pid = s.at("pid").to_number<long>();
  // It carries on from where it stopped: not from 1.
  REQUIRE(wait_count(b, at_dump + 3));
  // exec, kill and delete work on the restored container.
  r = b.cli({"exec", id2, "cat", "/count"});
  CHECK(r.ok());
  CHECK(std::stol(r.out) > at_dump);
  // Its processes are in the new container's cgroup.
  const std::string cg = berth::test::proc_file("/proc/" + std::to_string(pid) + "/cgroup");
  CHECK(cg.find(id2) != std::string::npos);
  CHECK(b.cli({"kill", id2, "KILL"}).ok());
  for (int i = 0; i < 200 && b.cli({"state", id2}).out.find("stopped") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(b.cli({"delete", id2}).ok());
  CHECK(!fs::exists(fs::path(b.state_root()) / id2));
}

TEST_CASE("checkpoint --leave-running keeps the container counting", "[criu]") {
  REQUIRE_CRIU();
  Bundle b;
  start_counting(b);
  TempDir img("berth-img");
  const RunResult r = b.cli({"checkpoint", "--leave-running", "--image-path", (img / "i").string(), b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(b.status() == "running");
  const long now = count(b);
  CHECK(wait_count(b, now + 2));
  CHECK(fs::exists(img / "i" / "inventory.img"));
}

TEST_CASE("pre-dump then dump with --parent-path restores", "[criu]") {
  REQUIRE_CRIU();
  Bundle b;
  start_counting(b);
  TempDir img("berth-img");
  RunResult r = b.cli({"checkpoint", "--pre-dump", "--image-path", (img / "pre").string(), b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(b.status() == "running");  // a pre-dump leaves it running
  r = b.cli({"checkpoint", "--image-path", (img / "final").string(), "--parent-path", "../pre", b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(fs::is_symlink(img / "final" / "parent"));
  const long at_dump = count(b);
  r = b.cli({"restore", "-d", "--image-path", (img / "final").string(), "--bundle", b.dir().string(), b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(b.status() == "running");
  CHECK(wait_count(b, at_dump + 2));
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("a container with a terminal is restored with a new master sent to the console socket", "[criu]") {
  REQUIRE_CRIU();
  Bundle b;
  b.process()["terminal"] = true;
  b.args({"sh", "-c", "while read line; do echo \"got $line\"; done"});
  b.save();
  const std::string sock1 = b.path("console1.sock").string();
  ConsoleReceiver rx1(sock1);
  RunResult r = b.cli({"run", "-d", "--console-socket", sock1, "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  rx1.receive();
  REQUIRE(::write(rx1.master(), "one\n", 4) == 4);
  CHECK_THAT(read_until(rx1.master(), "got one"), Catch::Contains("got one"));
  TempDir img("berth-img");
  r = b.cli({"checkpoint", "--image-path", (img / "i").string(), b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  const std::string sock2 = b.path("console2.sock").string();
  ConsoleReceiver rx2(sock2);
  r = b.cli({"restore", "-d", "--console-socket", sock2, "--image-path", (img / "i").string(), "--bundle",
             b.dir().string(), b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  rx2.receive();
  REQUIRE(::write(rx2.master(), "two\n", 4) == 4);
  CHECK_THAT(read_until(rx2.master(), "got two"), Catch::Contains("got two"));
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("stdin from the host's /dev/null (as conmon gives) is an external file, inherited again at restore", "[criu]") {
  REQUIRE_CRIU();
  Bundle b;
  counting(b);
  TempDir img("berth-img");
  berth::test::RunOptions o = slow();
  o.env["IMG"] = (img / "i").string();
  RunResult r = berth::test::shell(b, "$BERTH run -d --bundle $B $ID </dev/null", o);
  INFO(r.describe());
  REQUIRE(r.ok());
  REQUIRE(wait_count(b, 2));
  r = berth::test::shell(b, "$BERTH checkpoint --image-path $IMG $ID </dev/null", o);
  INFO(r.describe());
  REQUIRE(r.ok());
  const std::string fds = berth::test::read_file(img / "i" / "descriptors.json");
  CHECK(fds.starts_with("[\"file["));
  const long at_dump = count(b);
  r = berth::test::shell(b, "$BERTH restore -d --image-path $IMG --bundle $B $ID </dev/null", o);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(wait_count(b, at_dump + 2));
  const auto pid = json::parse(b.cli({"state", b.id()}).out).at("pid").to_number<long>();
  CHECK(fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/0") == "/dev/null");
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("restore runs the create hooks at setup-namespaces and poststart after", "[criu]") {
  REQUIRE_CRIU();
  Bundle b;
  start_counting(b);
  TempDir img("berth-img");
  REQUIRE(b.cli({"checkpoint", "--image-path", (img / "i").string(), b.id()}, slow()).ok());
  auto hook = [&](const std::string& name) {
    json::object h;
    h["path"] = "/bin/sh";
    h["args"] = json::array{"sh", "-c", "cat > " + b.path(name + ".json").string()};
    return json::array{h};
  };
  json::object hooks;
  hooks["prestart"] = hook("prestart");
  hooks["createRuntime"] = hook("createRuntime");
  hooks["poststart"] = hook("poststart");
  b.config.as_object()["hooks"] = hooks;
  b.save();
  const RunResult r = b.cli({"restore", "-d", "--image-path", (img / "i").string(), "--bundle", b.dir().string(), b.id()}, slow());
  INFO(r.describe());
  REQUIRE(r.ok());
  for (const char* kind : {"prestart", "createRuntime"}) {
    INFO(kind);
    const json::value s = json::parse(berth::test::read_file(b.path(std::string(kind) + ".json")));
    CHECK(s.at("status").as_string() == "creating");
    CHECK(s.at("pid").to_number<long>() > 0);
  }
  const json::value s = json::parse(berth::test::read_file(b.path("poststart.json")));
  CHECK(s.at("status").as_string() == "running");
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("a restore that fails names CRIU's log and leaves nothing behind", "[criu]") {
  REQUIRE_CRIU();
  Bundle b;
  b.save();
  TempDir img("berth-img");
  fs::create_directories(img / "empty");
  const RunResult r = b.cli({"restore", "-d", "--image-path", (img / "empty").string(), "--bundle", b.dir().string(), b.id()}, slow());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("criu restore failed: ") != std::string::npos);
  CHECK(r.err.find((img / "empty" / "restore.log").string()) != std::string::npos);
  CHECK(!fs::exists(fs::path(b.state_root()) / b.id()));
  CHECK(berth::test::proc_file("/proc/self/mountinfo").find("criu-root") == std::string::npos);
}

TEST_CASE("checkpoint refuses what it cannot dump, naming it, and the container keeps running", "[criu]") {
  REQUIRE_ROOT();
  Bundle b;
  counting(b);
  b.save();
  REQUIRE(b.create().ok());
  TempDir img("berth-img");
  RunResult r = b.cli({"checkpoint", "--image-path", (img / "i").string(), b.id()});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth checkpoint: container `" + b.id() + "` is created, not running: cannot checkpoint (start it first)\n");
  REQUIRE(b.cli({"start", b.id()}).ok());
  r = b.cli({"checkpoint", "--manage-cgroups-mode", "sideways", "--image-path", (img / "i").string(), b.id()});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth checkpoint: --manage-cgroups-mode: `sideways` is not one of soft, full, strict, ignore\n");
  r = b.cli({"checkpoint", "--empty-ns", "netw0rk", "--image-path", (img / "i").string(), b.id()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("--empty-ns: `netw0rk` is not a namespace type") != std::string::npos);
  CHECK(b.status() == "running");
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}

TEST_CASE("where CRIU does not work, checkpoint says why and the container keeps running", "[criu]") {
  REQUIRE_ROOT();
  if (!criu_broken()) {
    berth::test::skip("CRIU works on this kernel: the failure cannot be shown here");
    return;
  }
  if (*criu_broken() == "criu is not installed") {
    berth::test::skip("criu is not installed");
    return;
  }
  Bundle b;
  start_counting(b);
  TempDir img("berth-img");
  const RunResult r = b.cli({"checkpoint", "--image-path", (img / "i").string(), b.id()}, slow());
  CHECK(r.exit_code == 1);
  INFO(r.err);
  CHECK(r.err.starts_with("berth checkpoint: criu dump failed: "));
  CHECK(r.err.find("(log: " + (img / "i").string() + "/dump.log)") != std::string::npos);
  CHECK(r.err.find("criu does not work on this kernel: `criu check`: ") != std::string::npos);
  CHECK(b.status() == "running");
  const long now = count(b);
  CHECK(wait_count(b, now + 2));
  CHECK(b.cli({"delete", "--force", b.id()}).ok());
}
