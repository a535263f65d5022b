// linux.seccomp (issue #6, first part): the filter is built from the config and loaded before
// the container's process runs; a blocked syscall behaves as its action says.
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"

namespace json = boost::json;
using berth::test::Bundle;
using berth::test::RunResult;

namespace {

// A seccomp agent: takes one container process state with its listener fd, then answers every
// notification with success (return value 0) without doing the syscall, until the container's
// processes are gone.
class Agent {
 public:
  explicit Agent(const std::string& path) {
    sock_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(sock_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(sock_, 1) < 0)
      throw std::runtime_error("agent: bind/listen failed");
    thread_ = std::thread([this] { serve(); });
  }
  ~Agent() {
    ::shutdown(sock_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(sock_);
  }
  // Waits until the agent is done: the listener hung up (the container's processes are gone).
  void join() { thread_.join(); }
  std::string message;  // what berth sent
  bool got_fd = false;
  std::atomic<int> answered{0};

 private:
  void serve() {
    pollfd p{sock_, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) return;
    const int c = ::accept4(sock_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    char buf[65536];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{buf, sizeof buf};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
    int listener = -1;
    if (cmsghdr* h = CMSG_FIRSTHDR(&mh); h && h->cmsg_type == SCM_RIGHTS) std::memcpy(&listener, CMSG_DATA(h), sizeof(int));
    while (n > 0) {
      message.append(buf, static_cast<size_t>(n));
      n = ::read(c, buf, sizeof buf);
    }
    ::close(c);
    got_fd = listener >= 0;
    if (!got_fd) return;
    for (;;) {
      pollfd l{listener, POLLIN, 0};
      if (::poll(&l, 1, 30000) <= 0 || (l.revents & (POLLHUP | POLLERR))) break;
      seccomp_notif req{};
      if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) continue;
      seccomp_notif_resp resp{};
      resp.id = req.id;
      if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0) ++answered;
    }
    ::close(listener);
  }
  int sock_ = -1;
  std::thread thread_;
};

}  // namespace

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

TEST_CASE("seccomp: SCMP_ACT_NOTIFY hands the listener and the container process state to the agent", "[seccomp]") {
  REQUIRE_ROOT();
  Bundle b;
  const std::string sock = b.path("agent.sock").string();
  b.linux()["seccomp"] = json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + sock +
                                     R"(", "listenerMetadata": "hello agent",
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]})");
  // The root is read-only: only the agent's answer can make mkdir succeed, and it creates nothing.
  b.args({"sh", "-c", "mkdir /newdir; echo mkdir=$?; [ -d /newdir ] && echo exists || echo absent"});
  Agent agent(sock);
  RunResult r = b.run_fg();
  INFO(r.describe());
  agent.join();
  CHECK(r.out == "mkdir=0\nabsent\n");
  CHECK(agent.got_fd);
  CHECK(agent.answered >= 1);
  INFO(agent.message);
  const json::object msg = json::parse(agent.message).as_object();
  CHECK(json::serialize(msg.at("fds")) == R"(["seccompFd"])");
  CHECK(msg.at("metadata").as_string() == "hello agent");
  const json::object& st = msg.at("state").as_object();
  CHECK(st.at("id").as_string() == b.id());
  CHECK(st.at("status").as_string() == "creating");
  CHECK(msg.at("pid").as_int64() == st.at("pid").as_int64());
}

TEST_CASE("seccomp: an agent that is not there fails create naming listenerPath, leaving nothing", "[seccomp]") {
  REQUIRE_ROOT();
  Bundle b;
  const std::string sock = b.path("nobody.sock").string();
  b.linux()["seccomp"] = json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + sock + R"(",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  b.args({"true"});
  b.save();
  RunResult r = b.cli({"run", "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  CHECK_FALSE(r.ok());
  CHECK(r.err.find("linux.seccomp.listenerPath") != std::string::npos);
  CHECK(r.err.find(sock) != std::string::npos);
  CHECK(b.status() == "(none)");
}
