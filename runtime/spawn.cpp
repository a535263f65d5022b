#include "runtime/spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "runtime/exe_seal.hpp"
#include "runtime/id_maps.hpp"
#include "runtime/init/sync.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth {

namespace {

using init::SyncMsg;

// ---- the child side, between clone() and execveat() -------------------------------------
// Single-threaded copy of berth: plain syscalls, no exceptions escape, errors go back over the
// sync socket and end the process.

[[noreturn]] void child_fail(int sync, const char* what, int err) {
  init::send_error_noexcept(sync, what, err);
  ::_exit(1);
}

struct ChildArgs {
  int sync = -1;
  int exe = -1;
  ns::Plan* plan = nullptr;
  std::string timens_offsets;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
};

void wait_usermap(const ChildArgs& a) {
  init::SyncHeader h{SyncMsg::UsermapRequest, 0, 0, 0};
  if (::send(a.sync, &h, sizeof h, MSG_NOSIGNAL) != sizeof h) child_fail(a.sync, "sync: send usermap request", errno);
  ssize_t n;
  do n = ::recv(a.sync, &h, sizeof h, 0);
  while (n < 0 && errno == EINTR);
  if (n != sizeof h || h.type != SyncMsg::UsermapDone) ::_exit(1);  // the parent is gone or failed
  // Become root of the new user namespace, so that execve keeps the full capability set.
  if (::setresgid(0, 0, 0) < 0) child_fail(a.sync, "setresgid 0 in the new user namespace", errno);
  if (::setresuid(0, 0, 0) < 0) child_fail(a.sync, "setresuid 0 in the new user namespace", errno);
}

[[noreturn]] void exec_init(const ChildArgs& a) {
  ::syscall(SYS_execveat, a.exe, "", a.argv, a.envp, AT_EMPTY_PATH);
  child_fail(a.sync, "execveat berth init", errno);
}

[[noreturn]] void child_main(const ChildArgs& a) {
  bool joined_user = false;
  for (const auto& j : a.plan->joins) {
    if (::setns(j.fd.get(), ns::clone_flag(j.type)) < 0) {
      char msg[512];
      std::snprintf(msg, sizeof msg, "setns `%s` (%s)", j.path.c_str(), ns::proc_name(j.type));
      child_fail(a.sync, msg, errno);
    }
    joined_user = joined_user || j.type == oci::NamespaceType::User;
  }
  // Root of the joined user namespace, as runc's nsexec: execve keeps the full capability set
  // only for the namespace's uid 0 (our host uid is not even mapped there).
  if (joined_user && !a.plan->new_user) {
    if (::setresgid(0, 0, 0) < 0) child_fail(a.sync, "setresgid 0 in the joined user namespace", errno);
    if (::setresuid(0, 0, 0) < 0) child_fail(a.sync, "setresuid 0 in the joined user namespace", errno);
  }
  if (!a.plan->needs_intermediate) {
    if (a.plan->new_user) wait_usermap(a);
    exec_init(a);
  }
  // The intermediate: create the namespaces that only children enter, then fork the init stage.
  if (a.plan->new_user) {
    if (::unshare(CLONE_NEWUSER) < 0) child_fail(a.sync, "unshare user namespace", errno);
    wait_usermap(a);
  }
  if (::unshare(static_cast<int>(a.plan->new_flags & ~static_cast<unsigned long>(CLONE_NEWUSER | CLONE_NEWCGROUP))) < 0)
    child_fail(a.sync, "unshare namespaces", errno);
  if (!a.timens_offsets.empty()) {
    const int fd = ::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0) child_fail(a.sync, "open `/proc/self/timens_offsets`", errno);
    if (::write(fd, a.timens_offsets.data(), a.timens_offsets.size()) < 0)
      child_fail(a.sync, "linux.timeOffsets: write `/proc/self/timens_offsets`", errno);
    ::close(fd);
  }
  const pid_t pid = ::fork();
  if (pid < 0) child_fail(a.sync, "fork init stage", errno);
  if (pid == 0) exec_init(a);
  init::SyncHeader h{SyncMsg::Pid, 0, 0, sizeof(pid_t)};
  char buf[sizeof h + sizeof(pid_t)];
  std::memcpy(buf, &h, sizeof h);
  std::memcpy(buf + sizeof h, &pid, sizeof pid);
  (void)::send(a.sync, buf, sizeof buf, MSG_NOSIGNAL);
  ::_exit(0);
}

// ---- the parent side -------------------------------------------------------------------

// init's log lines ("<level> <text>") go to our logger: --log and --log-format apply to them.
void relog(std::string_view line) {
  const size_t sp = line.find(' ');
  const std::string level(line.substr(0, sp));
  const std::string_view text = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  spdlog::log(spdlog::level::from_str(level), "init: {}", text);
}

void kill_and_reap(pid_t pid, bool reap) noexcept {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  if (reap) {
    int st;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

}  // namespace

Spawned spawn_init(SpawnRequest& req) {
  auto [parent_sock, child_sock] = sys::socketpair(AF_UNIX, SOCK_SEQPACKET);
  // The fds init inherits live above the preserved range, so --preserve-fds cannot clobber them.
  const int min_fd = 3 + req.preserve_fds;
  child_sock = sys::dup_above(std::move(child_sock), min_fd);
  // The fds init inherits (beside the sync socket): dups above the preserved range, without
  // FD_CLOEXEC only in the child's copy (set just before clone, closed by us right after).
  const auto pass = [&](int fd, const char* what) {
    sys::Fd d(fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, min_fd));
    if (fd >= 0 && !d.valid()) throw_errno(fmt::format("dup {} fd", what));
    return d;
  };
  sys::Fd fifo_fd = pass(req.fifo_fd, "exec.fifo");
  sys::Fd mnt_fd = pass(req.mnt_ns_fd, "mount namespace");
  sys::Fd root_fd = pass(req.root_fd, "container root");
  sys::Fd exe = sealed_self_exe();

  // Everything the child needs is built before clone(): it only makes syscalls.
  std::string env_sync = fmt::format("_BERTH_SYNC_FD={}", child_sock.get());
  std::string env_fifo = fmt::format("_BERTH_FIFO_FD={}", fifo_fd.get());
  std::string env_mnt = fmt::format("_BERTH_MNTNS_FD={}", mnt_fd.get());
  std::string env_root = fmt::format("_BERTH_ROOT_FD={}", root_fd.get());
  std::string env_preserve = fmt::format("_BERTH_PRESERVE_FDS={}", req.preserve_fds);
  char arg0[] = "berth", arg1[] = "init";
  char* argv[] = {arg0, arg1, nullptr};
  char* envp[] = {env_sync.data(), env_fifo.data(), env_mnt.data(), env_root.data(), env_preserve.data(), nullptr};
  ChildArgs args;
  args.sync = child_sock.get();
  args.exe = exe.get();
  args.plan = req.plan;
  args.timens_offsets = ns::time_offsets(*req.spec);
  args.argv = argv;
  args.envp = envp;

  // The init stage must inherit these fds across execve.
  for (const sys::Fd* fd : {&child_sock, &fifo_fd, &mnt_fd, &root_fd})
    if (fd->valid()) ::fcntl(fd->get(), F_SETFD, 0);

  // An intermediate's child is reparented to us when the intermediate exits, so a failed
  // create can reap it.
  if (req.plan->needs_intermediate) ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  // A new cgroup namespace is made by init itself once it is in its cgroup (the namespace's root
  // is the cgroup its creator is in), never by clone().
  const unsigned long flags =
      req.plan->needs_intermediate ? 0 : req.plan->new_flags & ~static_cast<unsigned long>(CLONE_NEWCGROUP);
  const long r = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (r < 0) throw_errno(fmt::format("clone (namespace flags {:#x})", flags));
  if (r == 0) child_main(args);

  Spawned out;
  out.child = static_cast<pid_t>(r);
  bool child_reaped = false;
  child_sock.reset();
  fifo_fd.reset();
  mnt_fd.reset();
  root_fd.reset();
  const int sock = parent_sock.get();
  try {
    if (req.plan->new_user) {
      init::expect(sock, SyncMsg::UsermapRequest, relog);
      write_id_maps(out.child, *req.spec);
      init::send(sock, SyncMsg::UsermapDone);
    }
    if (req.plan->needs_intermediate) {
      init::Received m = init::expect(sock, SyncMsg::Pid, relog);
      if (m.payload.size() != sizeof(pid_t)) throw Error("sync: malformed pid message");
      std::memcpy(&out.pid, m.payload.data(), sizeof(pid_t));
      const int st = sys::waitpid(out.child);
      child_reaped = true;
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) throw Error("intermediate process failed");
    } else {
      out.pid = out.child;
    }
    if (req.join_cgroup) req.join_cgroup(out.pid);
    std::string payload = req.envelope;
    payload.push_back('\0');
    payload.append(req.config_text);
    init::send(sock, SyncMsg::Config, payload);
    if (!req.exec) {
      init::expect(sock, SyncMsg::HooksRequest, relog);
      const std::string state = req.runtime_hooks ? req.runtime_hooks(out.pid) : std::string();
      init::send(sock, SyncMsg::HooksDone, state);
    }
    if (req.terminal) {
      init::Received m = init::expect(sock, SyncMsg::PtyMaster, relog);
      if (!m.fd.valid()) throw Error("sync: pty master message without an fd");
      out.pty = std::move(m.fd);
    }
    if (req.seccomp_notify) {
      init::Received m = init::expect(sock, SyncMsg::SeccompFd, relog);
      if (m.fd.valid() && req.seccomp_listener) req.seccomp_listener(std::move(m.fd));
    }
    init::expect(sock, SyncMsg::Ready, relog);
  } catch (...) {
    if (out.pid > 0 && out.pid != out.child) kill_and_reap(out.pid, true);
    if (!child_reaped) kill_and_reap(out.child, true);
    throw;
  }
  return out;
}

}  // namespace berth
