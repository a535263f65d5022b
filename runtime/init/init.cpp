#include "runtime/init/init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/keyctl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <boost/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "oci/spec.hpp"
#include "runtime/hooks.hpp"
#include "runtime/init/sync.hpp"
#include "runtime/mount/options.hpp"
#include "runtime/mount/resolve.hpp"
#include "runtime/mount/rootfs.hpp"
#include "runtime/namespaces.hpp"
#include "runtime/netlink/link.hpp"
#include "runtime/notify_socket.hpp"
#include "runtime/process/attributes.hpp"
#include "runtime/process/lsm.hpp"
#include "runtime/seccomp/filter.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/procfs.hpp"
#include "runtime/sys/syscalls.hpp"
#include "runtime/terminal.hpp"

namespace json = boost::json;

namespace berth::init {

std::string encode_envelope(const Envelope& e) {
  json::object o;
  o["id"] = e.id;
  o["bundle"] = e.bundle;
  o["rootfs"] = e.rootfs;
  o["noPivot"] = e.no_pivot;
  o["noNewKeyring"] = e.no_new_keyring;
  o["preserveFds"] = e.preserve_fds;
  o["debug"] = e.debug;
  o["listenFds"] = e.listen_fds;
  o["notifyDir"] = e.notify_dir;
  if (e.exec) o["exec"] = true;
  return json::serialize(o);
}

Envelope decode_envelope(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw Error("sync: malformed config envelope");
  const json::object& o = v.get_object();
  Envelope e;
  auto str = [&](const char* k) {
    const json::value* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  auto boolean = [&](const char* k) {
    const json::value* x = o.if_contains(k);
    return x && x->is_bool() && x->get_bool();
  };
  e.id = str("id");
  e.bundle = str("bundle");
  e.rootfs = str("rootfs");
  e.no_pivot = boolean("noPivot");
  e.no_new_keyring = boolean("noNewKeyring");
  e.debug = boolean("debug");
  e.notify_dir = str("notifyDir");
  e.exec = boolean("exec");
  if (const json::value* x = o.if_contains("preserveFds"); x && x->is_int64()) e.preserve_fds = static_cast<int>(x->get_int64());
  if (const json::value* x = o.if_contains("listenFds"); x && x->is_int64()) e.listen_fds = static_cast<int>(x->get_int64());
  return e;
}

namespace {

// Once Ready is sent the parent stops listening: later errors can only go to stderr.
bool g_ready_sent = false;

// spdlog in the init stage: lines go to the parent over the sync socket (and so to --log),
// never to stderr, which is the container's. After Ready, stderr is the only place left.
class SyncSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit SyncSink(int sock) : sock_(sock) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = fmt::format("{} {}", std::string_view(level.data(), level.size()),
                                         std::string_view(msg.payload.data(), msg.payload.size()));
    if (!g_ready_sent) {
      try {
        send(sock_, SyncMsg::Log, line);
        return;
      } catch (const Error&) {
        // The parent is gone: fall through to stderr.
      }
    }
    const std::string out = fmt::format("berth init: {}\n", line);
    (void)!::write(2, out.data(), out.size());
  }
  void flush_() override {}

 private:
  int sock_;
};

int env_fd(const char* name) {
  const char* v = ::getenv(name);
  if (!v) return -1;
  return std::atoi(v);
}

// The state JSON for createContainer/startContainer hooks: the parent's, with this status.
std::string with_status(const std::string& state, const char* status) {
  boost::system::error_code ec;
  json::value v = json::parse(state, ec);
  if (ec || !v.is_object()) return state;
  v.as_object()["status"] = status;
  return json::serialize(v);
}

// config.md: bind mount sources are absolute or relative to the bundle. Made absolute here, not
// by chdir into the bundle, which a user-namespaced init may not be allowed to enter.
void absolute_bind_sources(oci::Spec& spec, const std::string& bundle) {
  if (!spec.mounts) return;
  for (oci::Mount& m : *spec.mounts) {
    if (!m.source || m.source->empty() || m.source->front() == '/') continue;
    const bool bind = m.type == "bind" || mount::parse_options(m.options.value_or(oci::Strings{})).bind();
    if (bind) m.source = bundle + "/" + *m.source;
  }
}

// Replaces KEY=... in env, or appends it: one entry per key, since getenv takes the first.
void set_env(std::vector<std::string>& env, std::string_view key, std::string_view value) {
  std::string entry = fmt::format("{}={}", key, value);
  for (auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      e = std::move(entry);
      return;
    }
  env.push_back(std::move(entry));
}

// Written through sys::write_proc: a procfs nothing can be mounted over, so a bind or a
// tmpfs over /proc/sys (CVE-2019-16884, CVE-2025-52881) cannot redirect the write. Runs
// before finish_rootfs, which may make /proc/sys read-only (linux.readonlyPaths).
void set_sysctls(const oci::Spec& spec) {
  if (!spec.linux || !spec.linux->sysctl) return;
  for (const auto& [key, value] : *spec.linux->sysctl) {
    std::string path = "sys/" + key;
    for (size_t i = 4; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    with_context(fmt::format("linux.sysctl.{}", key), [&] { sys::write_proc(path, value); });
  }
}

// process.cwd, resolved inside the container's root (after pivot_root, "/" is that root)
// without magic links: "/proc/self/fd/N" names one of init's own fds, and any directory
// fd that reached init would put the process's working directory outside the container
// (CVE-2024-21626).
sys::Fd open_cwd(const std::string& cwd, mount::Create create) {
  sys::Fd root = sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY);
  try {
    return mount::open_in_root(root.get(), cwd, create);
  } catch (const Error& e) {
    if (e.errnum() != ELOOP) throw;
    throw Error(fmt::format("`{}` goes through a /proc magic link or a symlink loop: refusing it "
                            "(possible container breakout)",
                            cwd),
                ELOOP);
  }
}

void enter_cwd(const std::string& cwd) {
  if (cwd == "/") {
    if (::chdir("/") < 0) throw_errno("chdir", cwd);
    return;
  }
  sys::Fd dir = open_cwd(cwd, mount::Create::None);
  if (::fchdir(dir.get()) < 0) throw_errno("chdir", cwd);
  // runc's verifyCwd: a working directory outside our root reads "(unreachable)/...".
  char buf[PATH_MAX];
  const long n = ::syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0 && errno != ENAMETOOLONG) throw_errno("getcwd after chdir", cwd);
  if (n > 0 && buf[0] != '/')
    throw Error(fmt::format("the working directory `{}` is outside the container's root (possible container breakout)", cwd),
                EPERM);
}

// CVE-2024-21626: init keeps only stdio, the preserved fds (3 .. first-1), the sync socket,
// exec.fifo and, for exec, the container's mount namespace and root. Anything else berth's caller left open without O_CLOEXEC would be
// reachable through /proc/self/fd while init works inside the container (a process.cwd,
// a createContainer hook), so it is closed now rather than marked close-on-exec later.
// Without close_range (before Linux 5.9) process::cloexec_fds_from still keeps them from
// the container's process.
void close_inherited_fds(int first, std::array<int, 4> keep) noexcept {
  std::sort(keep.begin(), keep.end());  // -1 (absent) first
  int from = first;
  for (const int k : keep) {
    if (k < from) continue;
    if (k > from) (void)::close_range(static_cast<unsigned>(from), static_cast<unsigned>(k - 1), 0);
    from = k + 1;
  }
  (void)::close_range(static_cast<unsigned>(from), ~0U, 0);
}

// The process's seccomp filter: built before anything else, so that a bad profile fails before
// the container is set up; loaded at the very end, in prepare_exec.
struct Seccomp {
  std::optional<seccomp::Filter> filter;
  bool notify = false;  // a NOTIFY action: the parent waits for the listener fd
};

Seccomp build_seccomp(const oci::Spec& spec) {
  Seccomp sc;
  if (!spec.linux || !spec.linux->seccomp) return sc;
  sc.notify = seccomp::notify_requested(*spec.linux->seccomp);
  sc.filter = seccomp::Filter::build(*spec.linux->seccomp);
  return sc;
}

// A fresh session keyring, so the container cannot read the host's keys.
void join_session_keyring(const oci::Process& process, const std::string& id) {
  const std::string name = "_ses." + id;
  lsm::apply_keyring_label(process);  // the keyring joined next gets the container's label
  if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 && errno != ENOSYS)
    throw_errno("join session keyring", name);
}

// What execve needs. The pointer arrays are built only in exec(): built earlier, a move of the
// strings (short ones live inside the string object) would leave them dangling.
struct Exec {
  std::string exe;
  std::vector<std::string> env;
  const std::vector<std::string>* args = nullptr;

  [[noreturn]] void exec() {
    std::vector<char*> argv, envp;
    for (const auto& a : *args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(exe.c_str(), argv.data(), envp.data());
    throw_errno("exec", exe);
  }
};

// The last steps before execve, the same for the container's process and for exec'd ones: LSM
// labels, the seccomp filter around the credentials change, the NOTIFY listener handed to the
// parent, the executable looked up, every fd beyond stdio and the preserved ones closed on exec,
// and Ready sent.
Exec prepare_exec(int sync, const oci::Process& process, std::vector<std::string> env, Seccomp& sc, int preserve_fds) {
  // execve gets envp; nothing in init reads its own environment (PATH comes from process.env).
  ::clearenv();
  // The AppArmor profile and SELinux label of the process, applied at execve; written before
  // the seccomp filter (which may forbid the writes) and the credentials change, as runc.
  lsm::apply_exec_labels(process);
  // Without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it goes before the
  // capabilities are dropped; with it, after, so the filter sees as few of init's own syscalls
  // as possible (runc's order).
  const bool nnp = process.no_new_privileges.value_or(false);
  sys::Fd listener;
  if (sc.filter && !nnp) listener = with_context("linux.seccomp", [&] { return sc.filter->load(); });
  process::apply_credentials(process);
  if (sc.filter && nnp) listener = with_context("linux.seccomp", [&] { return sc.filter->load(); });
  // The parent hands the listener to the seccomp agent before the container's process runs.
  if (sc.notify) {
    if (listener.valid()) send_fd(sync, SyncMsg::SeccompFd, listener.get());
    else send(sync, SyncMsg::SeccompFd);
    listener.reset();
  }
  Exec e;
  // After the credentials change, as runc does: the lookup checks execute permission as the
  // container's user.
  e.exe = with_context("process.args[0]", [&] { return process::find_executable(process); });
  e.env = std::move(env);
  e.args = &*process.args;
  process::cloexec_fds_from(3 + preserve_fds);
  send(sync, SyncMsg::Ready);
  g_ready_sent = true;
  return e;
}

[[noreturn]] void run(int sync, int fifo_fd, const Envelope& env, const oci::Spec& spec) {
  const oci::Process& process = *spec.process;
  if (::setsid() < 0) throw_errno("setsid");
  Seccomp sc = build_seccomp(spec);
  // The parent has put us into the container's cgroup by now: that becomes the namespace's root.
  if (ns::creates(spec, oci::NamespaceType::Cgroup) && ::unshare(CLONE_NEWCGROUP) < 0)
    throw_errno("unshare cgroup namespace");

  if (ns::creates(spec, oci::NamespaceType::Uts)) {
    if (spec.hostname && ::sethostname(spec.hostname->data(), spec.hostname->size()) < 0)
      throw_errno(fmt::format("hostname: sethostname `{}`", *spec.hostname));
    if (spec.domainname && ::setdomainname(spec.domainname->data(), spec.domainname->size()) < 0)
      throw_errno(fmt::format("domainname: setdomainname `{}`", *spec.domainname));
  }
  if (ns::creates(spec, oci::NamespaceType::Network)) with_context("network namespace", [] { netlink::loopback_up(); });

  // Through the host's /proc, still mounted here: the container's may not have one.
  process::apply_oom_score_adj(process);
  mount::RootfsOptions ro;
  ro.rootfs = env.rootfs;
  ro.no_pivot = env.no_pivot;
  ro.user_ns = ns::has(spec, oci::NamespaceType::User);
  ro.new_net_ns = ns::creates(spec, oci::NamespaceType::Network);
  ro.new_cgroup_ns = ns::creates(spec, oci::NamespaceType::Cgroup);
  if (spec.linux && spec.linux->mount_label) ro.mount_label = *spec.linux->mount_label;
  // While /sys is still the host's: after pivot_root it is the container's (or nothing).
  lsm::probe();
  mount::prepare_rootfs(spec, ro);

  // prestart and createRuntime hooks run in the runtime's namespaces, by the parent.
  send(sync, SyncMsg::HooksRequest);
  const std::string state = expect(sync, SyncMsg::HooksDone).payload;
  if (spec.hooks) hooks::run_all(spec.hooks->create_container, "createContainer", with_status(state, "creating"));

  mount::enter_rootfs(ro);
  // A /proc cached before pivot_root is the host's: drop it. A private procfs is in no
  // mount tree and stays (close-on-exec, like every fd init opens).
  if (!sys::proc_root_is_private()) sys::reset_proc_root();
  set_sysctls(spec);
  if (process.terminal.value_or(false)) {
    sys::Fd master = terminal::setup_console(process);
    send_fd(sync, SyncMsg::PtyMaster, master.get());
  }
  // Created before finish_rootfs, which may make the root read-only; entered after it, so
  // the directory opened is the one the masks and read-only binds left visible.
  if (process.cwd != "/") with_context("process.cwd", [&] { open_cwd(process.cwd, mount::Create::Dir); });
  mount::finish_rootfs(spec);

  process::apply_rlimits(process);
  process::apply_personality(spec);
  process::apply_scheduler(process);
  process::apply_io_priority(process);

  with_context("process.cwd", [&] { enter_cwd(process.cwd); });
  if (!env.no_new_keyring) join_session_keyring(process, env.id);

  std::vector<std::string> envs = process.env.value_or(std::vector<std::string>{});
  if (env.listen_fds > 0) {
    set_env(envs, "LISTEN_FDS", std::to_string(env.listen_fds));
    set_env(envs, "LISTEN_PID", "1");
  }
  if (!env.notify_dir.empty()) set_env(envs, "NOTIFY_SOCKET", notify::kContainerSocket);
  Exec e = prepare_exec(sync, process, std::move(envs), sc, env.preserve_fds);

  // Blocks until `berth start` opens the fifo for reading.
  {
    // Reopened through /proc, which checks only the fifo's own mode: the state directory is
    // not searchable by the container's user.
    const std::string path = fmt::format("/proc/self/fd/{}", fifo_fd);
    sys::Fd fifo = sys::openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
    sys::write_all(fifo.get(), "0", "exec.fifo");
  }
  ::close(fifo_fd);
  if (spec.hooks) hooks::run_all(spec.hooks->start_container, "startContainer", with_status(state, "created"));
  e.exec();
}

// `berth exec`: the process joins the running container. The parent's spawn has put us in its
// namespaces (all but mount: berth's binary and libraries are the host's) and its cgroup; the
// mount namespace and the root come last, then the process attributes exactly as for the
// container's own process, and the exec follows at once.
[[noreturn]] void run_exec(int sync, int mnt_fd, int root_fd, const Envelope& env, const oci::Spec& spec) {
  const oci::Process& process = *spec.process;
  if (::setsid() < 0) throw_errno("setsid");
  Seccomp sc = build_seccomp(spec);

  if (::setns(mnt_fd, CLONE_NEWNS) < 0) throw_errno("setns mount namespace of the container");
  // The container's root, as its init sees it: also right for --no-pivot containers, whose
  // root is not the namespace's.
  if (::fchdir(root_fd) < 0 || ::chroot(".") < 0) throw_errno("enter the container's root");
  ::close(mnt_fd);
  ::close(root_fd);

  if (process.terminal.value_or(false)) {
    sys::Fd master = terminal::setup_console(process, /*bind_console=*/false);
    send_fd(sync, SyncMsg::PtyMaster, master.get());
  }
  with_context("process.cwd", [&] { enter_cwd(process.cwd); });
  process::apply_rlimits(process);
  process::apply_scheduler(process);
  process::apply_io_priority(process);
  process::apply_exec_cpu_affinity(process);
  if (!env.no_new_keyring) join_session_keyring(process, env.id);
  prepare_exec(sync, process, process.env.value_or(std::vector<std::string>{}), sc, env.preserve_fds).exec();
}

}  // namespace

void enter_if_init_stage(int argc, char** argv) {
  // Cheap on purpose: on every container's start path, before any option parsing or logging.
  if (argc == 2 && std::strcmp(argv[1], "init") == 0 && ::getenv("_BERTH_SYNC_FD") != nullptr) init_main();
}

void init_main() {
  const int sync = env_fd("_BERTH_SYNC_FD");
  const int fifo_fd = env_fd("_BERTH_FIFO_FD");
  const int preserved = std::max(0, env_fd("_BERTH_PRESERVE_FDS"));
  const int mnt_fd = env_fd("_BERTH_MNTNS_FD");
  const int root_fd = env_fd("_BERTH_ROOT_FD");
  ::clearenv();
  if (sync < 0) {
    static constexpr char kMsg[] = "berth init: this is berth's internal init stage, not a user command\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    ::_exit(1);
  }
  close_inherited_fds(3 + preserved, {sync, fifo_fd, mnt_fd, root_fd});
  for (const int fd : {sync, fifo_fd, mnt_fd, root_fd})
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ::prctl(PR_SET_NAME, "berth:[init]");
  // The mask survives execve: `berth run` blocks signals to forward them, the container must not.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("init", std::make_shared<SyncSink>(sync)));
  try {
    Received cfg = expect(sync, SyncMsg::Config);
    const size_t nul = cfg.payload.find('\0');
    if (nul == std::string::npos) throw Error("sync: malformed config message");
    const Envelope env = decode_envelope(std::string_view(cfg.payload).substr(0, nul));
    if (env.debug) spdlog::set_level(spdlog::level::debug);
    oci::Spec spec = oci::parse_config(std::string_view(cfg.payload).substr(nul + 1));
    absolute_bind_sources(spec, env.bundle);
    if (!env.notify_dir.empty()) {  // the container's end of the notify socket, read-only as in runc
      if (!spec.mounts) spec.mounts.emplace();
      oci::Mount m;
      m.destination = notify::kContainerDir;
      m.type = "bind";
      m.source = env.notify_dir;
      m.options = oci::Strings{"bind", "nosuid", "noexec", "nodev", "ro"};
      spec.mounts->push_back(std::move(m));
    }
    if (env.exec) {
      if (mnt_fd < 0 || root_fd < 0) throw Error("sync: exec without the container's mount namespace and root");
      run_exec(sync, mnt_fd, root_fd, env, spec);
    }
    if (fifo_fd < 0) throw Error("sync: create without exec.fifo");
    run(sync, fifo_fd, env, spec);
  } catch (const Error& e) {
    send_error_noexcept(sync, e.message(), e.errnum());
    // After Ready the parent is gone: stderr is the container's, the only place left to say it.
    if (g_ready_sent) {
      const std::string msg = fmt::format("berth init: {}\n", e.what());
      (void)!::write(2, msg.data(), msg.size());
    }
  } catch (const std::exception& e) {
    send_error_noexcept(sync, e.what(), 0);
  }
  ::_exit(1);
}

}  // namespace berth::init
