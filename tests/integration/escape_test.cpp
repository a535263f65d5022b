// The known container-escape classes, each attempted against the built berth binary
// (issue 6, "Hardening"; docs/security.md has one section per class). Every test shows the
// attack fails: a host canary is unchanged, nothing new is mounted on the host, and, where
// berth refuses, the error names the config field and the path, and the failed create leaves
// no state, process or mount behind. CVE-2019-5736 is in container_test.cpp.
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::RunOptions;
using berth::test::RunResult;

using berth::test::proc_file;

namespace {

// Processes of one container: in its cgroup (berth's default is /<id>) or with the bundle
// on their command line (a berth that did not exit). Other helpers' containers run
// concurrently, so berth init stages are not simply counted.
int processes_of(const Bundle& b) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cg = proc_file(e.path() / "cgroup");
    if (cg.find("/" + b.id() + "\n") != std::string::npos || cg.find("/" + b.id() + "/") != std::string::npos ||
        proc_file(e.path() / "cmdline").find(b.dir().string()) != std::string::npos)
      ++n;
  }
  return n;
}

std::string host_mounts_mentioning(const std::string& needle) {
  std::ifstream f("/proc/self/mountinfo");
  std::string line, out;
  while (std::getline(f, line))
    if (line.find(needle) != std::string::npos) out += line + "\n";
  return out;
}

// What a refused create must not leave: the state directory, a process, a host mount.
void check_nothing_left(const Bundle& b) {
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
  CHECK(processes_of(b) == 0);
  CHECK(host_mounts_mentioning(b.rootfs().string()).empty());
}

// The index of the spec mount at dest, or -1.
int mount_index(Bundle& b, const std::string& dest) {
  const json::array& mounts = b.config.as_object()["mounts"].as_array();
  for (size_t i = 0; i < mounts.size(); ++i)
    if (mounts[i].at("destination").as_string() == dest) return static_cast<int>(i);
  return -1;
}

void erase_mount(Bundle& b, const std::string& dest) {
  json::array& mounts = b.config.as_object()["mounts"].as_array();
  const int i = mount_index(b, dest);
  REQUIRE(i >= 0);
  mounts.erase(mounts.begin() + i);
}

void add_mount(Bundle& b, json::object m) { b.config.as_object()["mounts"].as_array().push_back(std::move(m)); }

std::string mask_index(Bundle& b, const std::string& path) {
  const json::array& masked = b.linux()["maskedPaths"].as_array();
  for (size_t i = 0; i < masked.size(); ++i)
    if (masked[i].as_string() == path) return "linux.maskedPaths[" + std::to_string(i) + "]";
  return "linux.maskedPaths[?]";
}

// berth with fsopen(2) failing with ENOSYS in its whole process tree (a seccomp filter
// inherited by init): the procfs code has to use the verified /proc, as on kernels or in
// user namespaces where a private procfs cannot be made.
RunResult berth_without_fsopen(const Bundle& b, std::vector<std::string> args) {
  args.insert(args.begin(), {berth::test::berth_binary(), "--root", b.state_root()});
  const std::string out = b.path("nofsopen.out").string(), err = b.path("nofsopen.err").string();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(fsopen), 0) != 0 ||
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || seccomp_load(ctx) != 0)
      ::_exit(125);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  RunResult r;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = berth::test::read_file(out);
  r.err = berth::test::read_file(err);
  return r;
}

// A listening console socket nobody accepts on: enough for berth to connect to it.
struct ConsoleSocket {
  int fd = -1;
  explicit ConsoleSocket(const std::string& path) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
  }
  ~ConsoleSocket() { ::close(fd); }
};

// fds >= 3 of a host process and where they lead.
std::vector<std::string> fds_of(int pid) {
  std::vector<std::string> out;
  const fs::path dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename();
    if (n == "0" || n == "1" || n == "2") continue;
    out.push_back(n + " -> " + fs::read_symlink(e.path(), ec).string());
  }
  return out;
}

}  // namespace

// ---- CVE-2024-21626: leaked fds, a working directory outside the root ----------------

TEST_CASE("CVE-2024-21626: no fd of berth or its caller reaches the container", "[security][escape]") {
  REQUIRE_ROOT();
  Bundle b;
  b.args({"sleep", "60"});
  b.save();
  // The caller leaves a host directory and a file open without O_CLOEXEC, at numbers a
  // container could guess; berth adds its own (state dir, fifo, sync socket, cgroup, log).
  const int dir = ::open(b.dir().c_str(), O_RDONLY | O_DIRECTORY);
  const int file = ::open((b.dir() / "config.json").c_str(), O_RDONLY);
  REQUIRE(dir >= 0);
  REQUIRE(file >= 0);
  RunResult r = b.cli({"--log", b.path("berth.log").string(), "create", "--bundle", b.dir().string(), b.id()});
  ::close(dir);
  ::close(file);
  INFO(r.describe());
  REQUIRE(r.ok());
  const int pid = static_cast<int>(b.state().at("pid").as_int64());
  // Before start, berth's init stage waits on exec.fifo: it holds the fifo and the sync
  // socket, and nothing from the caller.
  for (const std::string& fd : fds_of(pid)) {
    INFO("init holds " << fd);
    CHECK((fd.find("exec.fifo") != std::string::npos || fd.find("socket:") != std::string::npos));
  }
  REQUIRE(b.cli({"start", b.id()}).ok());
  // After exec: only stdio.
  for (int i = 0; i < 100 && proc_file("/proc/" + std::to_string(pid) + "/comm") != "sleep\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(proc_file("/proc/" + std::to_string(pid) + "/comm") == "sleep\n");
  CHECK(fds_of(pid).empty());
}

TEST_CASE("CVE-2024-21626: the container's own view of /proc/self/fd shows only stdio and preserved fds", "[security][escape]") {
  REQUIRE_ROOT();
  Bundle b;
  // The shell's fds as berth gave them (`; true` keeps the shell from exec'ing ls).
  b.args({"sh", "-c", "ls -l /proc/$$/fd; true"});
  RunResult r = shell(b, "exec 3<$B/config.json 4<$B; exec $BERTH --log $B/../berth.log run --preserve-fds 1 -b $B $ID");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> fds;
  while (std::getline(lines, line)) {
    // "lr-x------ 1 root root 64 Nov 30 04:43 3 -> /path"
    const size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;  // "total 0"
    const std::string fd = line.substr(line.rfind(' ', arrow - 1) + 1, arrow - line.rfind(' ', arrow - 1) - 1);
    const std::string target = line.substr(arrow + 4);
    fds.push_back(fd);
    INFO("fd " << fd << " -> " << target);
    if (fd == "3") continue;  // the preserved config.json: meant to be there
    CHECK_THAT(target, Catch::StartsWith("pipe:[") || Catch::Equals("/dev/null"));
  }
  CHECK(fds == std::vector<std::string>{"0", "1", "2", "3"});
}

TEST_CASE("CVE-2024-21626: a process.cwd through /proc/self/fd or a magic link is refused", "[security][escape]") {
  REQUIRE_ROOT();
  for (const std::string cwd : {"/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5", "/proc/self/fd/6",
                                "/proc/self/fd/7", "/proc/self/fd/8", "/proc/1/cwd", "/proc/self/root/tmp"}) {
    Bundle b;
    b.process()["cwd"] = cwd;
    b.args({"pwd"});
    // A host directory left open by the caller at 5, as the CVE's leaked cgroup fd was.
    RunResult r = shell(b, "exec 5<$B/..; exec $BERTH run -b $B $ID");
    INFO(cwd << ": " << r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("process.cwd") && Catch::Contains(cwd) && Catch::Contains("breakout"));
    check_nothing_left(b);
  }
  // A symlink in the image to a magic link is the same thing.
  Bundle b;
  fs::create_symlink("/proc/self/fd/5", b.rootfs() / "work");
  b.process()["cwd"] = "/work/sub";
  b.args({"pwd"});
  RunResult r = shell(b, "exec 5<$B/..; exec $BERTH run -b $B $ID");
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("process.cwd") && Catch::Contains("/work/sub"));
  CHECK_FALSE(fs::exists(b.path("sub")));
  check_nothing_left(b);
  // Symlinks that stay inside are followed inside the root; missing directories are made there.
  Bundle ok;
  fs::create_directories(ok.rootfs() / "real");
  fs::create_symlink("../../../../../../real", ok.rootfs() / "up");
  ok.process()["cwd"] = "/up/new/dir";
  ok.args({"pwd"});
  r = ok.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "/real/new/dir\n");
}

// ---- CVE-2021-30465, CVE-2019-19921: mount destinations through symlinks ----------------

TEST_CASE("mount destinations through symlinks, .. and absolute links stay inside the rootfs", "[security][escape]") {
  REQUIRE_ROOT();
  Bundle b;
  const fs::path outside = b.path("outside");
  fs::create_directories(outside);
  berth::test::write_file(outside / "canary", "canary\n");
  fs::create_directories(b.dir() / "data");
  const std::string out = outside.string();
  fs::create_symlink("../../../../../../../../.." + out, b.rootfs() / "up");  // climbs with ..
  fs::create_symlink(out, b.rootfs() / "abs");                                 // absolute
  fs::create_directories(b.rootfs() / "real");
  fs::create_symlink("/../../.." + out, b.rootfs() / "real" / "link");  // in the middle of a path
  add_mount(b, {{"destination", "/up/m1"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  add_mount(b, {{"destination", "/abs/sub/m2"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  add_mount(b, {{"destination", "/real/link/m3"}, {"type", "bind"}, {"source", "data"}, {"options", json::array{"rbind", "ro"}}});
  add_mount(b, {{"destination", "/real/../../.." + out + "/m4"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  add_mount(b, {{"destination", "/abs/canary"}, {"type", "bind"}, {"source", "data"}, {"options", json::array{"bind"}}});
  b.args({"sh", "-c", "awk '{print $5}' /proc/self/mountinfo | grep outside | sort"});
  const std::string before = host_mounts_mentioning(out);
  RunResult r = b.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  // Each landed at the in-root place the link names.
  CHECK(r.out == out + "/canary\n" + out + "/m1\n" + out + "/m3\n" + out + "/m4\n" + out + "/sub/m2\n");
  // The host directory the links name: untouched, nothing mounted on it.
  CHECK(berth::test::read_file(outside / "canary") == "canary\n");
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(outside)) entries.push_back(e.path().filename());
  CHECK(entries == std::vector<std::string>{"canary"});
  CHECK(host_mounts_mentioning(out) == before);
}

TEST_CASE("a path component swapped for a symlink while berth mounts never leads out of the rootfs", "[security][escape]") {
  REQUIRE_ROOT();
  // A directory shared into the rootfs (a volume another container could write), holding
  // `d` and a symlink `l` to a host canary directory; a host thread exchanges them as fast
  // as it can while containers mount through /shared/d.
  Bundle b;
  const fs::path shared = b.path("shared"), canary = b.path("canary");
  fs::create_directories(shared / "d");
  fs::create_directories(canary);
  fs::create_directories(b.dir() / "data");
  berth::test::write_file(canary / "keep", "canary\n");
  fs::create_symlink("../canary", shared / "l");  // on the host: shared/../canary
  add_mount(b, {{"destination", "/shared"}, {"type", "bind"}, {"source", shared.string()}, {"options", json::array{"rbind"}}});
  add_mount(b, {{"destination", "/shared/d/x"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  add_mount(b, {{"destination", "/shared/d/y"},
                {"type", "bind"},
                {"source", "data"},
                {"options", json::array{"rbind", "ro", "nosuid"}}});
  add_mount(b, {{"destination", "/shared/d/new/z"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", json::array{"rro"}}});
  b.args({"true"});
  const std::string before = host_mounts_mentioning(canary.string());

  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  const int sfd = ::open(shared.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(sfd >= 0);
  std::thread racer([&] {
    while (!stop.load(std::memory_order_relaxed))
      if (::renameat2(sfd, "d", sfd, "l", RENAME_EXCHANGE) == 0) swaps.fetch_add(1, std::memory_order_relaxed);
  });
  std::vector<RunResult> results;
  for (int i = 0; i < 8; ++i) results.push_back(b.run_fg());
  stop = true;
  racer.join();
  ::close(sfd);
  INFO("swaps: " << swaps.load());
  CHECK(swaps.load() > 0);
  for (const RunResult& r : results) {
    INFO(r.describe());
    // Mounting inside the rootfs, wherever the swap sent the lookup, always works: the race
    // can neither redirect berth nor make it fail.
    CHECK(r.exit_code == 0);
  }
  // Nothing was created in or mounted on the host canary.
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(canary)) entries.push_back(e.path().filename());
  CHECK(entries == std::vector<std::string>{"keep"});
  CHECK(berth::test::read_file(canary / "keep") == "canary\n");
  CHECK(host_mounts_mentioning(canary.string()) == before);
  CHECK(host_mounts_mentioning(b.rootfs().string()).empty());
}

// ---- CVE-2019-16884, CVE-2025-52881: /proc writes redirected -------------------------

TEST_CASE("a /proc that is not procfs is refused before any sysctl is written", "[security][escape]") {
  REQUIRE_ROOT();
  SECTION("a tmpfs at /proc") {
    Bundle b;
    const int i = mount_index(b, "/proc");
    b.config.as_object()["mounts"].as_array()[static_cast<size_t>(i)] =
        json::object{{"destination", "/proc"}, {"type", "tmpfs"}, {"source", "tmpfs"}};
    b.linux()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}};
    b.args({"true"});
    RunResult r = b.create();
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("mounts[" + std::to_string(i) + "]") && Catch::Contains("/proc") &&
                          Catch::Contains("not of type proc"));
    check_nothing_left(b);
  }
  SECTION("a host directory with fake files bound at /proc") {
    Bundle b;
    const fs::path fake = b.path("fakeproc");
    fs::create_directories(fake / "sys" / "net" / "ipv4");
    berth::test::write_file(fake / "sys" / "net" / "ipv4" / "ip_forward", "canary\n");
    const int i = mount_index(b, "/proc");
    b.config.as_object()["mounts"].as_array()[static_cast<size_t>(i)] = json::object{
        {"destination", "/proc"}, {"type", "bind"}, {"source", fake.string()}, {"options", json::array{"rbind"}}};
    b.linux()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}};
    b.args({"true"});
    RunResult r = b.create();
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("mounts[" + std::to_string(i) + "]") && Catch::Contains(fake.string()) &&
                          Catch::Contains("not a procfs"));
    CHECK(berth::test::read_file(fake / "sys" / "net" / "ipv4" / "ip_forward") == "canary\n");
    check_nothing_left(b);
  }
  SECTION("mounts onto /proc files other than lxcfs's are refused") {
    Bundle b;
    add_mount(b, {{"destination", "/proc/sys/net/ipv4/ip_forward"},
                  {"type", "bind"},
                  {"source", "config.json"},
                  {"options", json::array{"bind"}}});
    b.args({"true"});
    RunResult r = b.create();
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("/proc/sys/net/ipv4/ip_forward") && Catch::Contains("inside /proc"));
    check_nothing_left(b);
  }
}

TEST_CASE("a file mounted over /proc/sys/<key> cannot take linux.sysctl's write", "[security][escape]") {
  REQUIRE_ROOT();
  // Something mounts a host file over the container's /proc/sys/net/ipv4/ip_forward before
  // berth writes the sysctl (a createContainer hook here; a raced mount or an image in the
  // CVEs).
  Bundle b;
  const fs::path canary = b.path("ip_forward");
  berth::test::write_file(canary, "canary\n");
  const std::string target = (b.rootfs() / "proc/sys/net/ipv4/ip_forward").string();
  b.config.as_object()["hooks"] = json::object{{"createContainer", json::array{json::object{
      {"path", "/bin/sh"}, {"args", json::array{"sh", "-c", "mount --bind " + canary.string() + " " + target}}}}}};
  b.linux()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}};
  b.args({"sleep", "60"});
  b.save();

  SECTION("with a private procfs the write reaches the container's network namespace") {
    RunResult r = b.cli({"create", "--bundle", b.dir().string(), b.id()});
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(berth::test::read_file(canary) == "canary\n");
    // The real knob, read through the host's /proc from inside the container's netns.
    const std::string ns = "/proc/" + std::to_string(b.state().at("pid").as_int64()) + "/ns/net";
    RunResult seen = berth::test::run({"nsenter", "--net=" + ns, "cat", "/proc/sys/net/ipv4/ip_forward"});
    INFO(seen.describe());
    CHECK(seen.out == "1\n");
  }
  SECTION("through the verified /proc the crossing is refused, naming the sysctl") {
    RunResult r = berth_without_fsopen(b, {"create", "--bundle", b.dir().string(), b.id()});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("linux.sysctl.net.ipv4.ip_forward") &&
                          Catch::Contains("/proc/sys/net/ipv4/ip_forward") && Catch::Contains("crosses a mount"));
    CHECK(berth::test::read_file(canary) == "canary\n");
    check_nothing_left(b);
  }
}

TEST_CASE("sysctls are written before linux.readonlyPaths makes /proc/sys read-only", "[security][escape]") {
  REQUIRE_ROOT();
  Bundle b;
  b.linux()["sysctl"] = json::object{{"net.ipv4.ip_forward", "1"}};
  b.args({"sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; echo 0 > /proc/sys/net/ipv4/ip_forward || echo read-only"});
  SECTION("private procfs") {
    RunResult r = b.run_fg();
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("1\n") && Catch::EndsWith("read-only\n"));
  }
  SECTION("verified /proc") {
    b.save();
    RunResult r = berth_without_fsopen(b, {"run", "--bundle", b.dir().string(), b.id()});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("1\n") && Catch::EndsWith("read-only\n"));
  }
}

// ---- CVE-2025-31133: /dev/null swapped under linux.maskedPaths ---------------------

TEST_CASE("CVE-2025-31133: a masked path is never covered with anything but the null device", "[security][escape]") {
  REQUIRE_ROOT();
  SECTION("the image's /dev (no tmpfs) with /dev/null a symlink to a /proc file") {
    Bundle b;
    erase_mount(b, "/dev");
    fs::create_symlink("/proc/sys/kernel/core_pattern", b.rootfs() / "dev" / "null");
    b.args({"true"});
    RunResult r = b.create();
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("/dev/null") && Catch::Contains("not c 1:3"));
    check_nothing_left(b);
  }
  // A /dev bound from the host (or a volume another container writes): berth does not
  // fill it, so /dev/null is whatever is there when the masks are applied.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a symlink to /proc/sysrq-trigger", "symlink"}, {"a symlink to a canary", "symlink"}, {"a regular file", "regular file"}};
  for (const auto& [what, kind] : cases) {
    DYNAMIC_SECTION("a bound /dev whose null is " << what) {
      Bundle b;
      const fs::path dev = b.path("dev");
      fs::create_directories(dev);
      berth::test::write_file(b.rootfs() / "canary", "canary\n");
      if (what == "a regular file")
        berth::test::write_file(dev / "null", "canary\n");
      else
        fs::create_symlink(what == "a symlink to a canary" ? "/canary" : "/proc/sysrq-trigger", dev / "null");
      const int i = mount_index(b, "/dev");
      b.config.as_object()["mounts"].as_array()[static_cast<size_t>(i)] =
          json::object{{"destination", "/dev"}, {"type", "bind"}, {"source", dev.string()}, {"options", json::array{"rbind"}}};
      b.args({"true"});
      RunResult r = b.create();
      INFO(r.describe());
      CHECK(r.exit_code == 1);
      // The first masked file that exists (/proc/kcore only where the kernel has it).
      CHECK_THAT(r.err, Catch::Contains(mask_index(b, fs::exists("/proc/kcore") ? "/proc/kcore" : "/proc/keys")));
      CHECK_THAT(r.err, Catch::Contains("`/dev/null` is a " + kind) && Catch::Contains("refusing to mask"));
      CHECK(berth::test::read_file(b.rootfs() / "canary") == "canary\n");
      if (what == "a regular file") CHECK(berth::test::read_file(dev / "null") == "canary\n");
      check_nothing_left(b);
    }
  }
  SECTION("with the null device there, the masks work") {
    Bundle b;
    b.args({"sh", "-c", "cat /proc/keys | wc -c; grep -c ' /proc/keys ' /proc/self/mountinfo; ls /proc/acpi | wc -l"});
    RunResult r = b.run_fg();
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "0\n1\n0\n");
  }
}

// ---- CVE-2025-52565: /dev/console a symlink -------------------------------------------

TEST_CASE("CVE-2025-52565: the console is never bound through a /dev/console symlink", "[security][escape]") {
  REQUIRE_ROOT();
  for (const std::string target : {"/proc/sysrq-trigger", "/canary"}) {
    DYNAMIC_SECTION("/dev/console -> " << target) {
      Bundle b;
      erase_mount(b, "/dev");  // the image's /dev, not a tmpfs berth fills
      berth::test::write_file(b.rootfs() / "canary", "canary\n");
      fs::create_symlink(target, b.rootfs() / "dev" / "console");
      b.process()["terminal"] = true;
      b.args({"true"});
      b.save();
      const std::string sock = b.path("console.sock").string();
      ConsoleSocket console(sock);
      RunResult r = b.cli({"create", "--console-socket", sock, "--bundle", b.dir().string(), b.id()});
      INFO(r.describe());
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.err, Catch::Contains("process.terminal") && Catch::Contains("/dev/console") &&
                            Catch::Contains("symlink"));
      CHECK(berth::test::read_file(b.rootfs() / "canary") == "canary\n");
      CHECK(fs::is_symlink(b.rootfs() / "dev" / "console"));
      check_nothing_left(b);
    }
  }
  SECTION("a regular file there is where the console goes") {
    Bundle b;
    erase_mount(b, "/dev");
    berth::test::write_file(b.rootfs() / "dev" / "console", "");
    b.config.as_object()["root"].as_object()["readonly"] = false;  // for /ttyinfo
    b.process()["terminal"] = true;
    b.args({"sh", "-c", "ls -l /dev/console > /ttyinfo; grep -c ' /dev/console ' /proc/self/mountinfo >> /ttyinfo"});
    b.save();
    const std::string sock = b.path("console.sock").string();
    ConsoleSocket console(sock);
    RunResult r = b.cli({"run", "-d", "--console-socket", sock, "--bundle", b.dir().string(), b.id()});
    INFO(r.describe());
    REQUIRE(r.ok());
    for (int i = 0; i < 200 && !fs::exists(b.rootfs() / "ttyinfo"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::string info = berth::test::read_file(b.rootfs() / "ttyinfo");
    CHECK_THAT(info, Catch::StartsWith("c") && Catch::EndsWith("1\n"));
    CHECK(berth::test::read_file(b.rootfs() / "dev" / "console") == "");
  }
}
