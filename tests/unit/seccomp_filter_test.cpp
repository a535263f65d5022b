// runtime/seccomp/filter.cpp: the filter built from linux.seccomp.
// build(): errors name the config field; names libseccomp does not know are skipped.
// load(): each case loads the filter in a forked child (a filter is per process and cannot be
// removed), with no_new_privs set as an unprivileged runtime does, and reports through its exit
// status. The child calls raw syscall() and leaves through exit_group so that nothing else
// (glibc caches, sanitizer exit hooks) runs under the filter.
#include "runtime/seccomp/filter.hpp"

#include <seccomp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "oci/spec.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/sys/syscalls.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth;
using berth::seccomp::Filter;
using oci::SeccompAction;
using oci::SeccompOperator;

namespace {

oci::LinuxSyscall rule(std::vector<std::string> names, SeccompAction action,
                       std::optional<std::uint32_t> errno_ret = std::nullopt,
                       std::optional<std::vector<oci::LinuxSyscallArg>> args = std::nullopt) {
  oci::LinuxSyscall s;
  s.names = std::move(names);
  s.action = action;
  s.errno_ret = errno_ret;
  s.args = std::move(args);
  return s;
}

oci::LinuxSyscallArg arg(std::uint32_t index, SeccompOperator op, std::uint64_t value,
                         std::optional<std::uint64_t> value_two = std::nullopt) {
  oci::LinuxSyscallArg a;
  a.index = index;
  a.op = op;
  a.value = value;
  a.value_two = value_two;
  return a;
}

oci::LinuxSeccomp config(SeccompAction default_action, std::vector<oci::LinuxSyscall> syscalls,
                         std::optional<std::uint32_t> default_errno = std::nullopt) {
  oci::LinuxSeccomp c;
  c.default_action = default_action;
  c.default_errno_ret = default_errno;
  c.syscalls = std::move(syscalls);
  return c;
}

// The raw result of a syscall as the child sees it: the return value, or -errno.
long sys_result(long r) { return r < 0 ? -errno : r; }

[[noreturn]] void exit_group(int code) {
  ::syscall(SYS_exit_group, code);
  __builtin_unreachable();
}

// Whether load() cases can run here; records why not.
bool can_load(int min_api = 1) {
  if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
    test::skip_test("the kernel has no seccomp (prctl(PR_GET_SECCOMP) failed)");
    return false;
  }
  if (static_cast<int>(seccomp_api_get()) < min_api) {
    test::skip_test(fmt::format("libseccomp API level {} < {} on this kernel", seccomp_api_get(), min_api));
    return false;
  }
  return true;
}

// Forks; the child sets no_new_privs, loads `filter` and exits with body(listener fd). Returns
// the child's wait status. A failure before body runs fails the test with its message.
int run_filtered(Filter& filter, const std::function<int(int listener)>& body) {
  auto [rd, wr] = sys::pipe();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    rd.reset();
    try {
      const rlimit no_core{0, 0};  // TRAP and KILL dump core otherwise
      ::setrlimit(RLIMIT_CORE, &no_core);
      ::signal(SIGSYS, SIG_DFL);
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
      sys::Fd listener = filter.load();
      if (listener.valid() != filter.uses_notify()) throw Error("load(): listener fd does not match uses_notify()");
      exit_group(body(listener.get()));
    } catch (const std::exception& e) {
      [[maybe_unused]] const ssize_t n = ::write(wr.get(), e.what(), std::strlen(e.what()));
      exit_group(99);
    }
  }
  wr.reset();
  const std::string setup_error = sys::read_all(rd.get(), "child pipe");
  const int status = sys::waitpid(pid);
  INFO("child setup: " << setup_error);
  REQUIRE(setup_error.empty());
  return status;
}

int exit_code(int status) {
  INFO("wait status " << status);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

int term_signal(int status) {
  INFO("wait status " << status);
  REQUIRE(WIFSIGNALED(status));
  return WTERMSIG(status);
}

}  // namespace

TEST_CASE("seccomp: build() names the architecture libseccomp lacks", "[seccomp]") {
  oci::LinuxSeccomp c = config(SeccompAction::Allow, {});
  c.architectures = {oci::SeccompArch::X86_64, static_cast<oci::SeccompArch>(200)};
  REQUIRE_THROWS_WITH(Filter::build(c), Catch::StartsWith("linux.seccomp.architectures[1]: "));
#ifndef SCMP_ARCH_LOONGARCH64
  c.architectures = {oci::SeccompArch::Loongarch64};
  REQUIRE_THROWS_WITH(Filter::build(c), "linux.seccomp.architectures[0]: SCMP_ARCH_LOONGARCH64 is not supported by "
                                        "libseccomp " + fmt::format("{}.{}.{}", SCMP_VER_MAJOR, SCMP_VER_MINOR,
                                                                    SCMP_VER_MICRO));
#endif
}

TEST_CASE("seccomp: build() adds every architecture libseccomp knows", "[seccomp]") {
  using S = oci::SeccompArch;
  oci::LinuxSeccomp c = config(SeccompAction::Errno, {rule({"socketcall", "getpid", "exit_group"}, SeccompAction::Allow)});
  const bool little = seccomp_arch_native() != SCMP_ARCH_S390X && seccomp_arch_native() != SCMP_ARCH_PPC64 &&
                      seccomp_arch_native() != SCMP_ARCH_MIPS64;
  // libseccomp keeps one byte order per filter: the native one.
  const std::vector<S> same_order = little ? std::vector{S::X86_64, S::X86, S::X32, S::Arm, S::Aarch64, S::Mipsel,
                                                         S::Mipsel64, S::Mipsel64N32, S::Ppc64Le, S::Riscv64}
                                           : std::vector{S::Mips, S::Mips64, S::Mips64N32, S::Ppc, S::Ppc64, S::S390,
                                                         S::S390X, S::Parisc, S::Parisc64};
  c.architectures = same_order;
  c.architectures->push_back(same_order.front());  // a repeat is harmless
  REQUIRE_NOTHROW(Filter::build(c));
  c.architectures = {little ? S::S390X : S::X86_64};
  REQUIRE_THROWS_WITH(Filter::build(c), Catch::StartsWith("linux.seccomp.architectures[0]: ") &&
                                            Catch::Contains("has another byte order than the native architecture"));
}

TEST_CASE("seccomp: build() refuses a flag libseccomp lacks, and sets the others", "[seccomp]") {
  oci::LinuxSeccomp c = config(SeccompAction::Allow, {});
  c.flags = {oci::SeccompFlag::Tsync, oci::SeccompFlag::WaitKillableRecv};
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
  REQUIRE_NOTHROW(Filter::build(c));
#else
  REQUIRE_THROWS_WITH(Filter::build(c),
                      Catch::StartsWith("linux.seccomp.flags[1]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not "
                                        "supported by libseccomp"));
#endif
  c.flags = {oci::SeccompFlag::Tsync};
  REQUIRE_NOTHROW(Filter::build(c));
  if (seccomp_api_get() >= 4) {  // LOG needs API 3, SPEC_ALLOW (SSB) API 4
    c.flags = {oci::SeccompFlag::Log, oci::SeccompFlag::SpecAllow};
    REQUIRE_NOTHROW(Filter::build(c));
  }
}

TEST_CASE("seccomp: build() skips unknown syscall names and default-action rules", "[seccomp]") {
  const Filter f = Filter::build(config(SeccompAction::Allow, {rule({"getpid"}, SeccompAction::Allow),
                                                               rule({"no_such_syscall", "getcwd"}, SeccompAction::Errno),
                                                               rule({"also_unknown"}, SeccompAction::Notify)}));
  REQUIRE_FALSE(f.uses_notify());  // the only NOTIFY rule named nothing libseccomp knows
  // ERRNO(EPERM) is the default: a rule repeating it is dropped rather than refused.
  REQUIRE_NOTHROW(Filter::build(config(SeccompAction::Errno, {rule({"getpid"}, SeccompAction::Errno, EPERM)})));
  REQUIRE_NOTHROW(Filter::build(config(SeccompAction::Errno, {rule({"getpid"}, SeccompAction::Errno)}, EPERM)));
  REQUIRE(Filter::build(config(SeccompAction::Allow, {rule({"getppid"}, SeccompAction::Notify)})).uses_notify());
}

TEST_CASE("seccomp: build() errors name the field", "[seccomp]") {
  REQUIRE_THROWS_WITH(
      Filter::build(config(SeccompAction::Allow,
                           {rule({"getpid"}, SeccompAction::Errno),
                            rule({"getcwd"}, SeccompAction::Errno, 42,
                                 std::vector{arg(0, SeccompOperator::Equal, 1), arg(6, SeccompOperator::Equal, 1)})})),
      "linux.seccomp.syscalls[1].args[1].index: 6 is out of range (a syscall has 6 arguments)");
  REQUIRE_THROWS_WITH(Filter::build(config(SeccompAction::Allow, {rule({"getpid"}, SeccompAction::Trace, 70000)})),
                      Catch::StartsWith("linux.seccomp.syscalls[0].errnoRet: 70000 does not fit"));
  REQUIRE_THROWS_WITH(Filter::build(config(SeccompAction::Errno, {}, 1u << 16)),
                      Catch::StartsWith("linux.seccomp.defaultErrnoRet: 65536 does not fit"));
  REQUIRE_THROWS_WITH(Filter::build(config(SeccompAction::Notify, {})),
                      "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
}

TEST_CASE("seccomp: ERRNO returns errnoRet and leaves other syscalls alone", "[seccomp][load]") {
  if (!can_load()) return;
  Filter f = Filter::build(config(SeccompAction::Allow, {rule({"getcwd"}, SeccompAction::Errno, 42),
                                                          rule({"getppid"}, SeccompAction::Errno)}));
  const int status = run_filtered(f, [](int) {
    char buf[4096];
    if (sys_result(::syscall(SYS_getcwd, buf, sizeof buf)) != -42) return 1;
    if (sys_result(::syscall(SYS_getppid)) != -EPERM) return 2;  // runc's default errnoRet
    if (sys_result(::syscall(SYS_getpid)) <= 0) return 3;
    return 0;
  });
  REQUIRE(exit_code(status) == 0);
}

TEST_CASE("seccomp: KILL, KILL_THREAD and KILL_PROCESS end the child with SIGSYS", "[seccomp][load]") {
  if (!can_load(3)) return;  // KILL_PROCESS needs API 3
  for (SeccompAction a : {SeccompAction::Kill, SeccompAction::KillThread, SeccompAction::KillProcess}) {
    INFO(oci::to_string(a));
    Filter f = Filter::build(config(SeccompAction::Allow, {rule({"mkdirat"}, a)}));
    const int status = run_filtered(f, [](int) {
      ::syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent/berth-seccomp-test", 0700);
      return 1;
    });
    REQUIRE(term_signal(status) == SIGSYS);
  }
}

TEST_CASE("seccomp: TRAP raises SIGSYS", "[seccomp][load]") {
  if (!can_load()) return;
  Filter f = Filter::build(config(SeccompAction::Allow, {rule({"getppid"}, SeccompAction::Trap)}));
  const int status = run_filtered(f, [](int) {
    ::syscall(SYS_getppid);
    return 1;
  });
  REQUIRE(term_signal(status) == SIGSYS);
}

TEST_CASE("seccomp: default ERRNO with an allow-list and an argument condition", "[seccomp][load]") {
  if (!can_load()) return;
  // Docker's profile allows personality only for a few values, 0xffffffff (query) among them.
  Filter f = Filter::build(
      config(SeccompAction::Errno,
             {rule({"exit_group", "getpid"}, SeccompAction::Allow),
              rule({"personality"}, SeccompAction::Allow, std::nullopt,
                   std::vector{arg(0, SeccompOperator::Equal, 0xffffffff)})},
             44));
  const int status = run_filtered(f, [](int) {
    if (sys_result(::syscall(SYS_getpid)) <= 0) return 1;
    if (sys_result(::syscall(SYS_personality, 0xffffffffUL)) < 0) return 2;
    if (sys_result(::syscall(SYS_personality, 0UL)) != -44) return 3;
    if (sys_result(::syscall(SYS_getppid)) != -44) return 4;
    return 0;
  });
  REQUIRE(exit_code(status) == 0);
}

TEST_CASE("seccomp: several conditions on one argument are ORed, as in runc", "[seccomp][load]") {
  if (!can_load()) return;
  Filter f = Filter::build(config(
      SeccompAction::Allow,
      {rule({"personality"}, SeccompAction::Errno, 45,
            std::vector{arg(0, SeccompOperator::Equal, 0x0020000), arg(0, SeccompOperator::Equal, 0x0040000)})}));
  const int status = run_filtered(f, [](int) {
    if (sys_result(::syscall(SYS_personality, 0x0020000UL)) != -45) return 1;
    if (sys_result(::syscall(SYS_personality, 0x0040000UL)) != -45) return 2;
    if (sys_result(::syscall(SYS_personality, 0xffffffffUL)) < 0) return 3;
    return 0;
  });
  REQUIRE(exit_code(status) == 0);
}

TEST_CASE("seccomp: conditions on different arguments are ANDed; every operator", "[seccomp][load]") {
  if (!can_load()) return;
  // close() of numbers that are not open: EBADF when the filter lets it through.
  using O = SeccompOperator;
  Filter f = Filter::build(config(
      SeccompAction::Allow,
      {rule({"close"}, SeccompAction::Errno, 46, std::vector{arg(0, O::MaskedEqual, 0xff00, 0x1200)}),
       rule({"dup3"}, SeccompAction::Errno, 47, std::vector{arg(0, O::GreaterEqual, 5000), arg(1, O::LessThan, 6000)}),
       rule({"fchdir"}, SeccompAction::Errno, 48, std::vector{arg(0, O::NotEqual, 7000)}),
       rule({"fsync"}, SeccompAction::Errno, 49, std::vector{arg(0, O::LessEqual, 8000)}),
       rule({"fdatasync"}, SeccompAction::Errno, 50, std::vector{arg(0, O::GreaterThan, 9000)})}));
  const int status = run_filtered(f, [](int) {
    if (sys_result(::syscall(SYS_close, 0x1234)) != -46) return 1;
    if (sys_result(::syscall(SYS_close, 0x1334)) != -EBADF) return 2;
    if (sys_result(::syscall(SYS_close, 0x2234)) != -EBADF) return 3;
    if (sys_result(::syscall(SYS_dup3, 5000, 5999, 0)) != -47) return 4;
    if (sys_result(::syscall(SYS_dup3, 5000, 6000, 0)) != -EBADF) return 5;
    if (sys_result(::syscall(SYS_dup3, 4999, 5999, 0)) != -EBADF) return 6;
    if (sys_result(::syscall(SYS_fchdir, 7001)) != -48) return 7;
    if (sys_result(::syscall(SYS_fchdir, 7000)) != -EBADF) return 8;
    if (sys_result(::syscall(SYS_fsync, 8000)) != -49) return 9;
    if (sys_result(::syscall(SYS_fsync, 8001)) != -EBADF) return 10;
    if (sys_result(::syscall(SYS_fdatasync, 9001)) != -50) return 11;
    if (sys_result(::syscall(SYS_fdatasync, 9000)) != -EBADF) return 12;
    return 0;
  });
  REQUIRE(exit_code(status) == 0);
}

TEST_CASE("seccomp: LOG lets the call through", "[seccomp][load]") {
  if (!can_load(3)) return;  // SCMP_ACT_LOG needs API 3
  Filter f = Filter::build(config(SeccompAction::Errno,
                                  {rule({"exit_group"}, SeccompAction::Allow), rule({"getcwd"}, SeccompAction::Log)}));
  const int status = run_filtered(f, [](int) {
    char buf[4096];
    if (sys_result(::syscall(SYS_getcwd, buf, sizeof buf)) <= 0) return 1;
    if (sys_result(::syscall(SYS_getppid)) != -EPERM) return 2;
    return 0;
  });
  REQUIRE(exit_code(status) == 0);
}

TEST_CASE("seccomp: NOTIFY hands the syscall to the listener", "[seccomp][load]") {
  if (!can_load(5)) return;  // the notify API needs API 5
  Filter f = Filter::build(config(SeccompAction::Allow, {rule({"getppid"}, SeccompAction::Notify)}));
  REQUIRE(f.uses_notify());
  const int status = run_filtered(f, [](int listener) {
    ::alarm(20);  // if the grandchild never calls in, end here rather than hang the test run
    if (listener < 0) return 1;
    const pid_t pid = ::fork();  // inherits the filter: its getppid goes to `listener`
    if (pid < 0) return 2;
    if (pid == 0) exit_group(sys_result(::syscall(SYS_getppid)) == 1234 ? 0 : 1);
    seccomp_notif* req = nullptr;
    seccomp_notif_resp* resp = nullptr;
    if (seccomp_notify_alloc(&req, &resp) != 0) return 3;
    if (seccomp_notify_receive(listener, req) != 0) return 4;
    if (req->pid != static_cast<std::uint32_t>(pid) || req->data.nr != SYS_getppid) return 5;
    resp->id = req->id;
    resp->val = 1234;
    resp->error = 0;
    resp->flags = 0;
    if (seccomp_notify_respond(listener, resp) != 0) return 6;
    int ws = 0;
    if (::waitpid(pid, &ws, 0) != pid) return 7;
    return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 8;
  });
  REQUIRE(exit_code(status) == 0);
}
