// linux.seccomp (issue #6, first part): the filter is built from the config and loaded before
// the container's process runs; a blocked syscall behaves as its action says.
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"

namespace json = boost::json;
using berth::test::Bundle;
using berth::test::RunResult;

TEST_CASE("seccomp: ERRNO returns the configured errno, KILL_PROCESS kills, argument filters match", "[seccomp]") {
  REQUIRE_ROOT();
  Bundle b;
  b.config.as_object()["root"].as_object()["readonly"] = false;
  b.linux()["seccomp"] = json::parse(R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [
      {"names": ["mkdir", "mkdirat", "no_such_syscall_berth"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
      {"names": ["sync"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["setpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
       "args": [{"index": 2, "value": 5, "op": "SCMP_CMP_EQ"}]}
    ]})");
  b.args({"sh", "-c",
          "mkdir /tmp/d; echo mkdir=$?; (sync); echo sync=$?; renice -n 5 -p $$ >/dev/null; echo nice5=$?; "
          "renice -n 3 -p $$ >/dev/null; echo nice3=$?"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.err.find("Permission denied") != std::string::npos);  // errnoRet 13: EACCES
  CHECK(r.out.find("mkdir=1") != std::string::npos);
  CHECK(r.out.find("sync=159") != std::string::npos);  // 128 + SIGSYS
  CHECK(r.out.find("nice5=1") != std::string::npos);
  CHECK(r.out.find("nice3=0") != std::string::npos);
}

TEST_CASE("seccomp: a default ERRNO with an allow list, with and without noNewPrivileges", "[seccomp]") {
  REQUIRE_ROOT();
  for (bool nnp : {false, true}) {
    Bundle b;
    b.process()["noNewPrivileges"] = nnp;
    // Enough for busybox sh and echo; everything else fails with EPERM.
    b.linux()["seccomp"] = json::parse(R"({
      "defaultAction": "SCMP_ACT_ERRNO",
      "syscalls": [{"names": ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
        "prlimit64", "mprotect", "readlink", "readlinkat", "getuid", "getgid", "geteuid", "getegid", "getpid",
        "getppid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "write", "exit_group", "exit", "getcwd",
        "stat", "newfstatat", "fstat", "ioctl", "uname", "openat", "close", "read", "fcntl", "dup2", "dup3", "wait4",
        "mmap", "munmap", "getrandom", "statx", "capget", "capset", "prctl", "setresuid", "setresgid",
        "setgroups", "getresuid", "getresgid", "chdir", "clone", "clone3", "setuid", "setgid", "keyctl", "close_range",
        "openat2", "access", "faccessat", "faccessat2", "poll", "sendto", "sendmsg", "recvfrom", "futex",
        "getdents64", "lseek", "pread64", "sigaltstack", "madvise", "gettid", "tgkill", "kill"],
        "action": "SCMP_ACT_ALLOW"}]})");
    b.args({"sh", "-c", "echo allowed; mkdir /tmp/x 2>/dev/null; echo mkdir=$?"});
    RunResult r = b.run_fg();
    INFO("noNewPrivileges " << nnp << ": " << r.describe());
    CHECK(r.out.find("allowed") != std::string::npos);
    CHECK(r.out.find("mkdir=1") != std::string::npos);
  }
}

TEST_CASE("seccomp: a bad profile fails create naming the field and leaves nothing", "[seccomp]") {
  REQUIRE_ROOT();
  Bundle b;
  b.linux()["seccomp"] =
      json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}]})");
  b.args({"true"});
  b.save();
  RunResult r = b.cli({"run", "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  CHECK_FALSE(r.ok());
  CHECK(r.err.find("linux.seccomp.syscalls[0].args[0].index") != std::string::npos);
  CHECK(b.status() == "(none)");
}
