// runtime/process/attributes.cpp and credentials.cpp. The pure parts run
// everywhere; each part that changes the process runs in a forked child that
// reports back over a pipe, so the test binary itself is never changed. Parts
// that need root print a WARN saying why and pass when not root.
#include "runtime/process/attributes.hpp"
#include "runtime/process/capabilities.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/temp_dir.hpp"

#include "tests/unit/in_child.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace fs = std::filesystem;
using berth::Error;
namespace oci = berth::oci;
namespace process = berth::process;

namespace {

using berth::test::TempDir;

using berth::test::ChildResult;
using berth::test::in_child;

bool is_root() { return ::geteuid() == 0; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whether capability `cap` is in this process's effective set (a "root" that
// runs in a container may lack some, e.g. CAP_SYS_RESOURCE).
bool has_cap(int cap) {
  std::istringstream in(read_text("/proc/self/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("CapEff:")) return (std::stoull(line.substr(7), nullptr, 16) >> cap) & 1U;
  return false;
}

// "CapEff" -> "0000000000000021", from a /proc/<pid>/status text.
std::map<std::string, std::string> status_fields(const std::string& status) {
  std::map<std::string, std::string> out;
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    const auto b = value.find_first_not_of(" \t");
    value = b == std::string::npos ? "" : value.substr(b);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    out[line.substr(0, colon)] = value;
  }
  return out;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr std::uint64_t bit(int cap) { return std::uint64_t{1} << cap; }

void make_file(const fs::path& p, fs::perms mode) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "#!/bin/sh\n";
  fs::permissions(p, mode);
}

}  // namespace

// --- rlimits ------------------------------------------------------------------

TEST_CASE("plan_rlimits maps names to resources in order", "[process][rlimits]") {
  oci::Process p;
  p.rlimits = std::vector<oci::PosixRlimit>{{"RLIMIT_NOFILE", 2048, 1024}, {"RLIMIT_CORE", 0, 0}};
  const auto plan = process::plan_rlimits(p);
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].resource == RLIMIT_NOFILE);
  CHECK(plan[0].name == "RLIMIT_NOFILE");
  CHECK(plan[0].soft == 1024);
  CHECK(plan[0].hard == 2048);
  CHECK(plan[1].resource == RLIMIT_CORE);
  CHECK(process::plan_rlimits(oci::Process{}).empty());
}

TEST_CASE("plan_rlimits refuses unknown and duplicate types", "[process][rlimits]") {
  oci::Process p;
  p.rlimits = std::vector<oci::PosixRlimit>{{"RLIMIT_NOFILE", 1, 1}, {"RLIMIT_BOGUS", 1, 1}};
  REQUIRE_THROWS_WITH(process::plan_rlimits(p),
                      "process.rlimits[1].type: unknown rlimit `RLIMIT_BOGUS`: Invalid argument");
  p.rlimits = std::vector<oci::PosixRlimit>{{"RLIMIT_NOFILE", 1, 1}, {"RLIMIT_CORE", 1, 1}, {"RLIMIT_NOFILE", 2, 2}};
  REQUIRE_THROWS_WITH(process::plan_rlimits(p),
                      "process.rlimits[2].type: duplicate rlimit `RLIMIT_NOFILE`: Invalid argument");
}

TEST_CASE("apply_rlimits sets soft and hard limits", "[process][rlimits]") {
  // Lowering limits needs no privilege.
  rlimit cur{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &cur) == 0);
  const std::uint64_t hard = cur.rlim_max == RLIM_INFINITY ? 4096 : cur.rlim_max;
  const std::uint64_t soft = std::min<std::uint64_t>(100, hard);
  oci::Process p;
  p.rlimits = std::vector<oci::PosixRlimit>{{"RLIMIT_NOFILE", hard, soft}, {"RLIMIT_CORE", 0, 0}};
  const auto res = in_child([&] {
    process::apply_rlimits(p);
    rlimit nofile{}, core{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    ::getrlimit(RLIMIT_CORE, &core);
    return std::to_string(nofile.rlim_cur) + " " + std::to_string(nofile.rlim_max) + " " +
           std::to_string(core.rlim_cur) + " " + std::to_string(core.rlim_max);
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == std::to_string(soft) + " " + std::to_string(hard) + " 0 0");
}

TEST_CASE("apply_rlimits names the entry and the errno", "[process][rlimits]") {
  oci::Process p;
  p.rlimits = std::vector<oci::PosixRlimit>{{"RLIMIT_CORE", 0, 0}, {"RLIMIT_NOFILE", 10, 20}};  // soft > hard
  const auto res = in_child([&] {
    process::apply_rlimits(p);
    return std::string();
  });
  REQUIRE_FALSE(res.ok);
  CHECK(res.errnum == EINVAL);
  CHECK(res.out == "process.rlimits[1]: setrlimit RLIMIT_NOFILE: Invalid argument");
}

TEST_CASE("apply_rlimits raises a hard limit as root", "[process][rlimits][root]") {
  if (!has_cap(24)) {
    WARN("no CAP_SYS_RESOURCE: raising a hard rlimit needs it; skipped");
    return;
  }
  oci::Process p;
  p.rlimits = std::vector<oci::PosixRlimit>{{"RLIMIT_NOFILE", 1U << 20, 1U << 20}};
  const auto res = in_child([&] {
    rlimit low{64, 64};
    ::setrlimit(RLIMIT_NOFILE, &low);
    process::apply_rlimits(p);
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    return std::to_string(now.rlim_cur) + " " + std::to_string(now.rlim_max);
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == "1048576 1048576");
}

// --- oom_score_adj --------------------------------------------------------------

TEST_CASE("apply_oom_score_adj writes /proc/self/oom_score_adj", "[process][oom]") {
  oci::Process p;
  p.oom_score_adj = 789;  // raising it needs no privilege
  const auto res = in_child([&] {
    process::apply_oom_score_adj(p);
    return read_text("/proc/self/oom_score_adj");
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == "789\n");

  p.oom_score_adj = 5000;  // out of range: the kernel says EINVAL
  const auto bad = in_child([&] {
    process::apply_oom_score_adj(p);
    return std::string();
  });
  REQUIRE_FALSE(bad.ok);
  CHECK(bad.errnum == EINVAL);
  CHECK(bad.out.starts_with("process.oomScoreAdj: write `/proc/self/oom_score_adj`"));
}

// --- personality ----------------------------------------------------------------

TEST_CASE("personality_value maps domains and refuses flags", "[process][personality]") {
  oci::LinuxPersonality pers;
  CHECK(process::personality_value(pers) == 0x0000);  // PER_LINUX
  pers.domain = oci::PersonalityDomain::Linux32;
  CHECK(process::personality_value(pers) == 0x0008);  // PER_LINUX32
  pers.flags = oci::Strings{"ADDR_NO_RANDOMIZE"};
  REQUIRE_THROWS_WITH(process::personality_value(pers),
                      "linux.personality.flags[0]: unsupported personality flag `ADDR_NO_RANDOMIZE`: Invalid argument");
}

TEST_CASE("apply_personality LINUX32 makes uname report a 32-bit machine", "[process][personality]") {
  utsname u{};
  ::uname(&u);
  if (std::string(u.machine) != "x86_64") {
    WARN("machine is " << u.machine << ", not x86_64: the i686 check does not apply; skipped");
    return;
  }
  oci::Spec s;
  s.linux = oci::Linux{};
  s.linux->personality = oci::LinuxPersonality{oci::PersonalityDomain::Linux32, std::nullopt};
  const auto res = in_child([&] {
    process::apply_personality(s);
    utsname v{};
    ::uname(&v);
    return std::string(v.machine);
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == "i686");
  // No linux.personality: nothing changes.
  const auto none = in_child([] {
    process::apply_personality(oci::Spec{});
    utsname v{};
    ::uname(&v);
    return std::string(v.machine);
  });
  REQUIRE(none.ok);
  CHECK(none.out == "x86_64");
}

// --- scheduler ------------------------------------------------------------------

TEST_CASE("scheduler_attr fills sched_attr", "[process][scheduler]") {
  oci::Scheduler s;
  s.policy = oci::SchedulerPolicy::Deadline;
  s.nice = -3;
  s.priority = 7;
  s.flags = std::vector<oci::SchedulerFlag>{oci::SchedulerFlag::ResetOnFork, oci::SchedulerFlag::DlOverrun};
  s.runtime = 10'000'000;
  s.deadline = 20'000'000;
  s.period = 30'000'000;
  const auto a = process::scheduler_attr(s);
  CHECK(a.size == 56);
  CHECK(a.policy == 6);     // SCHED_DEADLINE
  CHECK(a.flags == 0x05);   // SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_DL_OVERRUN
  CHECK(a.nice == -3);
  CHECK(a.priority == 7);
  CHECK(a.runtime == 10'000'000);
  CHECK(a.deadline == 20'000'000);
  CHECK(a.period == 30'000'000);

  const auto d = process::scheduler_attr(oci::Scheduler{});
  CHECK(d.policy == SCHED_OTHER);
  CHECK(d.flags == 0);
  CHECK(d.nice == 0);
  CHECK(d.runtime == 0);
}

TEST_CASE("apply_scheduler sets policy and nice", "[process][scheduler]") {
  oci::Scheduler batch;
  batch.policy = oci::SchedulerPolicy::Batch;  // unprivileged, as is raising nice
  batch.nice = 7;
  oci::Process p;
  p.scheduler = batch;
  const auto res = in_child([&] {
    process::apply_scheduler(p);
    return std::to_string(::sched_getscheduler(0)) + " " + std::to_string(::getpriority(PRIO_PROCESS, 0));
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == std::to_string(SCHED_BATCH) + " 7");

  oci::Scheduler fifo;
  fifo.policy = oci::SchedulerPolicy::Fifo;
  fifo.priority = 500;  // beyond 99
  p.scheduler = fifo;
  const auto bad = in_child([&] {
    process::apply_scheduler(p);
    return std::string();
  });
  REQUIRE_FALSE(bad.ok);
  CHECK(bad.errnum == EINVAL);
  CHECK(bad.out == "process.scheduler: sched_setattr SCHED_FIFO: Invalid argument");
}

// --- I/O priority ---------------------------------------------------------------

TEST_CASE("io_priority_value packs class and level", "[process][ioprio]") {
  CHECK(process::io_priority_value({oci::IoPriorityClass::Be, 6}) == ((2 << 13) | 6));
  CHECK(process::io_priority_value({oci::IoPriorityClass::Rt, 0}) == (1 << 13));
  CHECK(process::io_priority_value({oci::IoPriorityClass::Idle, 7}) == ((3 << 13) | 7));
  REQUIRE_THROWS_WITH(process::io_priority_value({oci::IoPriorityClass::Be, 8}),
                      "process.ioPriority.priority: 8 is out of range 0..7: Invalid argument");
  REQUIRE_THROWS_AS(process::io_priority_value({oci::IoPriorityClass::Be, -1}), Error);
}

TEST_CASE("apply_io_priority sets the I/O priority of the process", "[process][ioprio]") {
  oci::Process p;
  p.io_priority = oci::IoPriority{oci::IoPriorityClass::Be, 6};
  const auto res = in_child([&] {
    process::apply_io_priority(p);
    return std::to_string(::syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0));
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == std::to_string((2 << 13) | 6));
}

// --- CPU affinity ---------------------------------------------------------------

TEST_CASE("parse_cpu_list reads ranges and lists", "[process][affinity]") {
  using V = std::vector<unsigned>;
  CHECK(process::parse_cpu_list("0-3,7", "w") == V{0, 1, 2, 3, 7});
  CHECK(process::parse_cpu_list("7", "w") == V{7});
  CHECK(process::parse_cpu_list("5,1-2,2", "w") == V{1, 2, 5});
  CHECK(process::parse_cpu_list(" 1 , 3 - 4 ", "w") == V{1, 3, 4});
  CHECK(process::parse_cpu_list("", "w").empty());
  for (const char* bad : {"a", "1-", "-1", "3-1", "1,,2", "1,", "0x1", "99999999", "1-2-3"}) {
    INFO(bad);
    try {
      process::parse_cpu_list(bad, "process.execCPUAffinity.final");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.errnum() == EINVAL);
      CHECK(e.message() == std::string("process.execCPUAffinity.final: invalid CPU list `") + bad + "`");
    }
  }
}

TEST_CASE("apply_exec_cpu_affinity applies final, else initial", "[process][affinity]") {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  REQUIRE(::sched_getaffinity(0, sizeof mine, &mine) == 0);
  std::vector<unsigned> allowed;
  for (unsigned c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &mine)) allowed.push_back(c);
  REQUIRE_FALSE(allowed.empty());
  const std::string first = std::to_string(allowed.front());
  const std::string last = std::to_string(allowed.back());

  const auto affinity_after = [](const oci::Process& p) {
    return in_child([&] {
      process::apply_exec_cpu_affinity(p);
      cpu_set_t now;
      CPU_ZERO(&now);
      ::sched_getaffinity(0, sizeof now, &now);
      std::string out;
      for (unsigned c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &now)) out += (out.empty() ? "" : ",") + std::to_string(c);
      return out;
    });
  };

  oci::Process p;
  p.exec_cpu_affinity = oci::CpuAffinity{first, last};
  auto res = affinity_after(p);
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == last);

  p.exec_cpu_affinity = oci::CpuAffinity{first, std::string()};  // empty final: initial
  res = affinity_after(p);
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == first);

  p.exec_cpu_affinity = oci::CpuAffinity{std::nullopt, "1-0"};
  res = affinity_after(p);
  REQUIRE_FALSE(res.ok);
  CHECK(res.out == "process.execCPUAffinity.final: invalid CPU list `1-0`: Invalid argument");
}

// --- executable lookup ------------------------------------------------------------

TEST_CASE("path_from_env takes the last PATH entry or the default", "[process][exec]") {
  CHECK(process::path_from_env({}) == process::kDefaultPath);
  CHECK(process::path_from_env({"HOME=/root", "PATHX=/x"}) == process::kDefaultPath);
  CHECK(process::path_from_env({"PATH=/a", "TERM=xterm", "PATH=/b:/c"}) == "/b:/c");
  CHECK(process::path_from_env({"PATH="}).empty());
}

TEST_CASE("find_executable_in searches PATH for a regular executable file", "[process][exec]") {
  TempDir t;
  const auto& d = t.path();
  make_file(d / "noexec" / "tool", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_directories(d / "isdir" / "tool");
  fs::permissions(d / "isdir" / "tool", fs::perms::all);
  make_file(d / "good" / "tool", fs::perms::owner_all | fs::perms::group_exec);
  make_file(d / "later" / "tool", fs::perms::owner_all);
  fs::create_directories(d / "link");
  fs::create_symlink(d / "good" / "tool", d / "link" / "tool");

  const std::string path = (d / "missing").string() + "::.:relative:" + (d / "noexec").string() + ":" +
                           (d / "isdir").string() + ":" + (d / "good").string() + "/:" + (d / "later").string();
  CHECK(process::find_executable_in("tool", path) == (d / "good" / "tool").string());
  // Symlinks are followed to the file they name.
  CHECK(process::find_executable_in("tool", (d / "link").string()) == (d / "link" / "tool").string());

  try {
    process::find_executable_in("nothere", path);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == ENOENT);
    CHECK(e.message() == "exec `nothere`: executable file not found in $PATH");
  }
  REQUIRE_THROWS_WITH(process::find_executable_in("tool", ""),
                      "exec `tool`: executable file not found in $PATH: No such file or directory");
  REQUIRE_THROWS_AS(process::find_executable_in("", path), Error);
}

TEST_CASE("find_executable_in checks a path with a slash without searching", "[process][exec]") {
  TempDir t;
  const auto& d = t.path();
  make_file(d / "bin" / "tool", fs::perms::owner_all);
  make_file(d / "bin" / "data", fs::perms::owner_read);
  const std::string tool = (d / "bin" / "tool").string();
  CHECK(process::find_executable_in(tool, "") == tool);
  try {
    process::find_executable_in((d / "bin" / "absent").string(), "/usr/bin");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == ENOENT);
    CHECK(e.message() == "exec `" + (d / "bin" / "absent").string() + "`");
  }
  try {
    process::find_executable_in((d / "bin").string() + "/", "");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == EISDIR);
  }
  try {
    process::find_executable_in((d / "bin" / "data").string(), "");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == EACCES);
  }
}

TEST_CASE("find_executable uses args[0] and process.env", "[process][exec]") {
  TempDir t;
  make_file(t.path() / "bin" / "hello", fs::perms::owner_all);
  oci::Process p;
  p.args = oci::Strings{"hello", "world"};
  p.env = oci::Strings{"PATH=" + (t.path() / "bin").string()};
  CHECK(process::find_executable(p) == (t.path() / "bin" / "hello").string());
  p.env = oci::Strings{"TERM=xterm"};  // default PATH: no `hello` there
  REQUIRE_THROWS_WITH(process::find_executable(p),
                      "exec `hello`: executable file not found in $PATH: No such file or directory");
  p.env = std::nullopt;
  p.args = oci::Strings{"sh"};
  CHECK(process::find_executable(p).ends_with("/sh"));
  p.args = oci::Strings{};
  REQUIRE_THROWS_WITH(process::find_executable(p), "process.args: at least one entry is required: Invalid argument");
}

// --- fds --------------------------------------------------------------------------

TEST_CASE("cloexec_fds_from marks fds from first_to_close close-on-exec", "[process][fds]") {
  const auto res = in_child([] {
    // Three fds without FD_CLOEXEC, at increasing numbers.
    const int a = ::open("/dev/null", O_RDONLY);
    const int b = ::dup(a);
    const int c = ::dup(a);
    process::cloexec_fds_from(b);
    std::string out;
    for (int fd : {a, b, c}) out += std::to_string(::fcntl(fd, F_GETFD) & FD_CLOEXEC) + " ";
    // Nothing was closed.
    for (int fd : {a, b, c}) out += std::to_string(::fcntl(fd, F_GETFD) >= 0 ? 1 : 0);
    return out;
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(res.out == "0 1 1 111");
}

// --- capabilities -----------------------------------------------------------------

TEST_CASE("plan_capabilities maps names to bit masks", "[process][caps]") {
  oci::LinuxCapabilities c;
  c.bounding = oci::Strings{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  c.permitted = oci::Strings{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = oci::Strings{"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = oci::Strings{"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.ambient = oci::Strings{"CAP_NET_BIND_SERVICE"};
  const auto plan = process::plan_capabilities(c, 40);
  CHECK(plan.bounding == (bit(0) | bit(5) | bit(10) | bit(13)));
  CHECK(plan.permitted == (bit(0) | bit(5) | bit(10)));
  CHECK(plan.effective == (bit(0) | bit(5)));
  CHECK(plan.inheritable == (bit(5) | bit(10)));
  CHECK(plan.ambient == bit(10));
  CHECK(plan.skipped.empty());

  // Absent lists are empty sets.
  CHECK(process::plan_capabilities(oci::LinuxCapabilities{}, 40) == process::CapabilityPlan{});
}

TEST_CASE("plan_capabilities skips unknown, too new and unheld capabilities", "[process][caps]") {
  oci::LinuxCapabilities c;
  c.bounding = oci::Strings{"CAP_CHOWN", "CAP_BOGUS", "CAP_CHECKPOINT_RESTORE"};  // 40
  c.permitted = oci::Strings{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_BOGUS"};
  c.effective = oci::Strings{"CAP_CHOWN"};
  // The kernel knows up to 39 (CAP_BPF); the runtime holds only CAP_CHOWN, plus
  // CAP_SYS_PTRACE which is asked for nowhere else.
  const auto plan = process::plan_capabilities(c, 39, bit(0) | bit(19));
  CHECK(plan.bounding == bit(0));
  CHECK(plan.permitted == bit(0));
  CHECK(plan.effective == bit(0));
  CHECK(plan.skipped == std::vector<std::string>{"CAP_BOGUS (unknown to the kernel)",
                                                 "CAP_CHECKPOINT_RESTORE (unknown to the kernel)",
                                                 "CAP_SYS_ADMIN (not held by the runtime)"});
}

namespace {

oci::LinuxCapabilities test_caps() {
  oci::LinuxCapabilities c;
  c.bounding = oci::Strings{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  c.permitted = oci::Strings{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = oci::Strings{"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = oci::Strings{"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.ambient = oci::Strings{"CAP_NET_BIND_SERVICE"};
  return c;
}

// Applies credentials in a child and returns its /proc/self/status fields,
// plus "PdeathSig" (set to SIGKILL before) and the "Umask" it ends with.
ChildResult credentials_in_child(const oci::Process& p, const std::function<void()>& before = {}) {
  return in_child([&] {
    if (before) before();
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) throw Error("prctl PR_SET_PDEATHSIG", errno);
    process::apply_credentials(p);
    int sig = 0;
    ::prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
    return read_text("/proc/self/status") + "PdeathSig:\t" + std::to_string(sig) + "\n";
  });
}

}  // namespace

TEST_CASE("apply_credentials gives a non-root user exactly the configured sets", "[process][caps][root]") {
  if (!is_root()) {
    WARN("not root: setresuid, setgroups and capset need CAP_SETUID/CAP_SETGID/CAP_SETPCAP; skipped");
    return;
  }
  oci::Process p;
  p.user = oci::User{1000, 1001, 027, std::vector<std::uint32_t>{2000, 3000}, std::nullopt};
  p.capabilities = test_caps();
  p.no_new_privileges = true;
  const auto res = credentials_in_child(p);
  INFO(res.out);
  REQUIRE(res.ok);
  const auto f = status_fields(res.out);
  CHECK(f.at("Uid") == "1000\t1000\t1000\t1000");
  CHECK(f.at("Gid") == "1001\t1001\t1001\t1001");
  CHECK(f.at("Groups") == "2000 3000");
  CHECK(f.at("Umask") == "0027");
  CHECK(f.at("CapBnd") == hex64(bit(0) | bit(5) | bit(10) | bit(13)));
  CHECK(f.at("CapPrm") == hex64(bit(0) | bit(5) | bit(10)));
  CHECK(f.at("CapEff") == hex64(bit(0) | bit(5)));
  CHECK(f.at("CapInh") == hex64(bit(5) | bit(10)));
  CHECK(f.at("CapAmb") == hex64(bit(10)));
  CHECK(f.at("NoNewPrivs") == "1");
  CHECK(f.at("PdeathSig") == std::to_string(SIGKILL));
}

TEST_CASE("apply_credentials for root: sets, empty groups, default umask", "[process][caps][root]") {
  if (!is_root()) {
    WARN("not root: setgroups and capset need privileges; skipped");
    return;
  }
  oci::Process p;
  p.user = oci::User{};  // uid 0, gid 0, no additionalGids, no umask
  p.capabilities = test_caps();
  p.capabilities->ambient = std::nullopt;
  const auto res = credentials_in_child(p, [] {
    const gid_t extra[] = {4242};
    ::setgroups(1, extra);  // inherited groups must be cleared
    ::umask(0077);
  });
  INFO(res.out);
  REQUIRE(res.ok);
  const auto f = status_fields(res.out);
  CHECK(f.at("Uid") == "0\t0\t0\t0");
  CHECK(f.at("Groups").empty());
  CHECK(f.at("Umask") == "0022");
  CHECK(f.at("CapBnd") == hex64(bit(0) | bit(5) | bit(10) | bit(13)));
  CHECK(f.at("CapPrm") == hex64(bit(0) | bit(5) | bit(10)));
  CHECK(f.at("CapEff") == hex64(bit(0) | bit(5)));
  CHECK(f.at("CapInh") == hex64(bit(5) | bit(10)));
  CHECK(f.at("CapAmb") == hex64(0));
  CHECK(f.at("NoNewPrivs") == "0");
}

TEST_CASE("apply_credentials without capabilities leaves the sets alone", "[process][caps][root]") {
  if (!is_root()) {
    WARN("not root: setgroups needs CAP_SETGID; skipped");
    return;
  }
  oci::Process p;
  p.user = oci::User{};
  const auto before = status_fields(read_text("/proc/self/status"));
  const auto res = credentials_in_child(p);
  INFO(res.out);
  REQUIRE(res.ok);
  const auto f = status_fields(res.out);
  CHECK(f.at("CapBnd") == before.at("CapBnd"));
  CHECK(f.at("CapEff") == before.at("CapEff"));
}

TEST_CASE("apply_credentials reports a failed setresuid with the field", "[process][caps][root]") {
  if (!is_root()) {
    WARN("not root: the failure to check needs a root start; skipped");
    return;
  }
  oci::Process p;
  p.user = oci::User{1000, 1000, std::nullopt, std::nullopt, std::nullopt};
  // Drop CAP_SETUID (7) from the effective set first, so setresuid fails.
  const auto res = credentials_in_child(p, [] {
    struct {
      std::uint32_t version;
      int pid;
    } hdr{0x20080522, 0};
    struct {
      std::uint32_t effective, permitted, inheritable;
    } data[2]{};
    ::syscall(SYS_capget, &hdr, data);
    data[0].effective &= ~(1U << 7);
    if (::syscall(SYS_capset, &hdr, data) != 0) throw Error("capset", errno);
  });
  REQUIRE_FALSE(res.ok);
  CHECK(res.errnum == EPERM);
  CHECK(res.out == "process.user.uid: setresuid 1000: Operation not permitted");
}

TEST_CASE("apply_credentials in a rootless user namespace skips setgroups", "[process][caps][userns]") {
  // An unprivileged user namespace: setgroups is "deny" and only the own id
  // is mapped, as runc's rootless containers see it.
  oci::Process p;
  p.user = oci::User{0, 0, std::nullopt, std::vector<std::uint32_t>{5}, std::nullopt};
  p.capabilities = test_caps();
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const auto res = credentials_in_child(p, [uid, gid] {
    if (::unshare(CLONE_NEWUSER) != 0) throw Error("unshare CLONE_NEWUSER", errno);
    berth::sys::write_file(AT_FDCWD, "/proc/self/setgroups", "deny");
    berth::sys::write_file(AT_FDCWD, "/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
    berth::sys::write_file(AT_FDCWD, "/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
  });
  if (!res.ok && res.out.starts_with("unshare CLONE_NEWUSER")) {
    WARN("user namespaces are not available here (" << res.out << "); skipped");
    return;
  }
  INFO(res.out);
  REQUIRE(res.ok);
  const auto f = status_fields(res.out);
  CHECK(f.at("Uid") == "0\t0\t0\t0");
  CHECK(f.at("CapBnd") == hex64(bit(0) | bit(5) | bit(10) | bit(13)));
  CHECK(f.at("CapPrm") == hex64(bit(0) | bit(5) | bit(10)));
  CHECK(f.at("CapEff") == hex64(bit(0) | bit(5)));
  CHECK(f.at("CapAmb") == hex64(bit(10)));
}

TEST_CASE("caps::last_cap finds the kernel's last capability", "[process][caps]") {
  const std::string text = read_text("/proc/sys/kernel/cap_last_cap");
  REQUIRE_FALSE(text.empty());
  CHECK(process::caps::last_cap() == std::stoi(text));
  CHECK(process::caps::last_cap() == process::caps::last_cap());  // cached
}

TEST_CASE("caps::get and caps::set read and lower this thread's sets", "[process][caps][root]") {
  if (!is_root()) {
    WARN("not root: no capabilities to lower; skipped");
    return;
  }
  const auto res = in_child([] {
    const process::caps::Sets target{bit(0) | bit(5), bit(0) | bit(5) | bit(10), bit(5)};
    process::caps::set(target);
    const process::caps::Sets got = process::caps::get();
    if (!(got == target)) throw Error("caps::get did not return the sets caps::set applied");
    // Raising a capability that is no longer permitted is refused by the kernel.
    process::caps::set(process::caps::Sets{bit(1), bit(1), 0});
    return std::string("unreachable");
  });
  CHECK_FALSE(res.ok);
  CHECK(res.errnum == EPERM);
  CHECK_THAT(res.out, Catch::Contains("capset"));
}

TEST_CASE("caps::limit_bounding drops everything not kept", "[process][caps][root]") {
  if (!is_root()) {
    WARN("not root: PR_CAPBSET_DROP needs CAP_SETPCAP; skipped");
    return;
  }
  const int last = process::caps::last_cap();
  const auto res = in_child([&] {
    process::caps::limit_bounding(bit(0) | bit(8) | bit(last), last);
    process::caps::limit_bounding(bit(0) | bit(8) | bit(last), last);  // idempotent
    return read_text("/proc/self/status");
  });
  INFO(res.out);
  REQUIRE(res.ok);
  CHECK(status_fields(res.out).at("CapBnd") == hex64(bit(0) | bit(8) | bit(last)));

  // Without CAP_SETPCAP the kernel refuses, and the error names the capability.
  const auto denied = in_child([&] {
    process::caps::set(process::caps::Sets{0, 0, 0});
    process::caps::limit_bounding(0, last);
    return std::string("unreachable");
  });
  CHECK_FALSE(denied.ok);
  CHECK(denied.errnum == EPERM);
  CHECK_THAT(denied.out, Catch::Contains("PR_CAPBSET_DROP CAP_CHOWN"));
}
