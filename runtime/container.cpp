#include "runtime/container.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <ctime>

#include <boost/json.hpp>
#include <dirent.h>
#include <spdlog/spdlog.h>

#include "oci/json.hpp"
#include "oci/validate.hpp"
#include "runtime/cgroups/cgroup.hpp"
#include "runtime/cgroups/oom.hpp"
#include "runtime/cgroups/resources.hpp"
#include "runtime/cgroups/stats.hpp"
#include "runtime/cgroups/systemd.hpp"
#include "runtime/container_support.hpp"
#include "runtime/hooks.hpp"
#include "runtime/init/init.hpp"
#include "runtime/namespaces.hpp"
#include "runtime/notify_socket.hpp"
#include "runtime/proc.hpp"
#include "runtime/process/lsm.hpp"
#include "runtime/seccomp/agent.hpp"
#include "runtime/seccomp/filter.hpp"
#include "runtime/spawn.hpp"
#include "runtime/sys/dir.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"
#include "runtime/terminal.hpp"

namespace json = boost::json;

namespace berth {

using namespace detail;

namespace {

constexpr const char* kExecFifo = "exec.fifo";
constexpr const char* kSpecVersion = "1.3.0";

}  // namespace

namespace detail {

// UTC by arithmetic (Howard Hinnant's civil_from_days): glibc's gmtime_r would read
// /etc/localtime first, six syscalls on every create for a time zone UTC does not need.
std::string now_rfc3339() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const long long days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
  const long long z = days + 719468, era = z / 146097, doe = z - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  const long long y = yoe + era * 400 + (m <= 2);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", y, m, d, secs / 3600, secs / 60 % 60, secs % 60,
                     ts.tv_nsec);
}

}  // namespace detail

namespace {


std::string real_path(const std::string& p, std::string_view what) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) throw_errno(fmt::format("{}: resolve", what), p);
  return buf;
}

}  // namespace

namespace detail {

std::optional<oci::Hooks> hooks_from_record(const ContainerRecord& r) {
  if (!r.hooks.is_object()) return std::nullopt;
  json::object doc{{"ociVersion", kSpecVersion}, {"hooks", r.hooks}};
  return oci::decode_config(doc).hooks;
}

}  // namespace detail

namespace {


json::value hooks_to_json(const std::optional<oci::Hooks>& h) {
  if (!h) return nullptr;
  oci::Spec s;
  s.oci_version = kSpecVersion;
  s.hooks = h;
  json::value v = oci::to_json(s);
  if (const json::value* x = v.as_object().if_contains("hooks")) return *x;
  return nullptr;
}

// Waits until the process behind pidfd has exited, up to timeout.
bool wait_exit(int pidfd, std::chrono::milliseconds timeout) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

// Every process whose pid namespace is `pid_ns` ("pid:[inode]").
std::vector<pid_t> processes_in_pid_ns(const std::string& pid_ns) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) throw_errno("opendir", "/proc");
  sys::Dir guard(d);
  while (dirent* e = ::readdir(d)) {
    char* end;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    auto id = proc::ns_id(static_cast<pid_t>(pid), "pid");
    if (id && *id == pid_ns) out.push_back(static_cast<pid_t>(pid));
  }
  return out;
}

}  // namespace

namespace detail {

// config.md: a failing poststart or poststop hook is logged as a warning and the remaining hooks
// and the lifecycle go on.
void run_hooks_warn(const std::vector<oci::Hook>& hooks, std::string_view kind, const std::string& state) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    try {
      hooks::run(hooks[i], state);
    } catch (const Error& e) {
      spdlog::warn("hooks.{}[{}]: {}", kind, i, e.what());
    }
  }
}

}  // namespace detail

namespace {


const oci::LinuxResources* resources_of(const oci::Spec& spec) {
  return spec.linux && spec.linux->resources ? &*spec.linux->resources : nullptr;
}

oci::LinuxResources with_device_rules(const oci::Spec& spec) {
  const oci::LinuxResources* r = resources_of(spec);
  oci::LinuxResources res = r ? *r : oci::LinuxResources{};
  res.devices = cgroups::device_rules(spec);
  return res;
}

}  // namespace

namespace detail {

// --systemd-cgroup: where systemd will put the container's scope. Nothing exists until the
// scope is started with the container's pid (join_systemd_cgroup).
cgroups::Paths systemd_paths(const oci::Spec& spec, const std::string& id, cgroups::systemd::Unit& unit) {
  unit = with_context("--systemd-cgroup", [&] {
    return cgroups::systemd::parse_cgroups_path(spec.linux ? spec.linux->cgroups_path.value_or("") : "", id);
  });
  if (!cgroups::systemd::booted())
    throw Error("--systemd-cgroup: systemd is not running as PID 1 on this host (/run/systemd/system is missing); "
                "use the default cgroupfs driver");
  return cgroups::resolve(cgroups::detect_host(), {cgroups::systemd::cgroup_path(unit), false});
}

// Starts the scope holding pid, then completes it as runc's systemd driver does: hierarchies
// systemd does not manage get the cgroup made and joined directly, and the limits are written.
cgroups::Cgroup join_systemd_cgroup(const oci::Spec& spec, const cgroups::systemd::Unit& unit, const cgroups::Paths& paths,
                                    pid_t pid) {
  cgroups::systemd::start_scope(unit, pid, resources_of(spec));
  cgroups::Cgroup cg = cgroups::Cgroup::create(paths, cgroups::v2_controllers_for(paths, resources_of(spec)));
  cg.add(pid);
  cgroups::set_resources(cg.paths(), with_device_rules(spec));
  return cg;
}

}  // namespace detail

namespace {


bool permission_error(const Error& e) {
  return e.errnum() == EACCES || e.errnum() == EPERM || e.errnum() == EROFS;
}

// Limits a rootless container would lose without a cgroup. Device rules are not among them:
// an unprivileged user cannot write them (v1 devices.allow and v2 BPF programs need
// CAP_SYS_ADMIN), and runc ignores them in rootless mode.
bool wants_limits(const oci::LinuxResources* r) {
  if (!r) return false;
  oci::LinuxResources rest = *r;
  rest.devices.reset();
  return rest != oci::LinuxResources{};
}

// Where the cgroup goes. Without linux.cgroupsPath a rootless container's cgroup is made below
// the caller's own, as runc's default is (fs: <own>/<id>; on a cgroup2-only host fs2's sibling
// <own>/../<id>, since controllers cannot be enabled where processes live): the only place a
// delegated subtree lets an unprivileged user create one.
cgroups::Location cgroup_location(const oci::Spec& spec, const std::string& id, const cgroups::Host& host, bool rootless) {
  const std::optional<std::string>& path = spec.linux ? spec.linux->cgroups_path : std::nullopt;
  if (!rootless || (path && !path->empty())) return cgroups::location(path, id);
  // The id is a valid container id: no slash, not "." or "..".
  return {(host.mode == cgroups::Mode::Unified ? "../" : "") + id, true};
}

}  // namespace

namespace detail {

// The container's cgroup with its limits written, before its process exists (cgroupfs driver).
// Removed again if anything fails. Rootless, permission errors leave the container without a
// cgroup (runc's rootless cgroup manager), unless the config asks for limits that would then be
// lost or names its cgroup (linux.cgroupsPath), which are errors as in runc.
cgroups::Cgroup make_cgroup(const oci::Spec& spec, const std::string& id, bool rootless) {
  const cgroups::Host host = cgroups::detect_host();
  cgroups::Paths paths = cgroups::resolve(host, cgroup_location(spec, id, host, rootless));
  const oci::LinuxResources* r = resources_of(spec);
  std::vector<std::string> v2 = cgroups::v2_controllers_for(paths, r);
  cgroups::Cgroup cg;
  try {
    cg = cgroups::Cgroup::create(std::move(paths), v2);
  } catch (const Error& e) {
    if (!rootless || !permission_error(e)) throw;
    if (wants_limits(r))
      throw Error(fmt::format("linux.resources: a rootless container gets limits only in a cgroup it may create "
                              "(a delegated one); remove the limits or delegate a cgroup: {}",
                              e.message()),
                  e.errnum());
    if (spec.linux && spec.linux->cgroups_path && !spec.linux->cgroups_path->empty())
      throw Error(fmt::format("linux.cgroupsPath: rootless: {}", e.message()), e.errnum());
    spdlog::debug("cgroups: rootless: {}; running without a cgroup", e.what());
    return cgroups::Cgroup();
  }
  try {
    // runc refuses a cgroup that already holds processes: they would share limits, be frozen
    // by `pause` and killed by `delete`.
    if (const std::vector<pid_t> taken = cg.existed() ? cg.pids() : std::vector<pid_t>{}; !taken.empty())
      throw Error(fmt::format("linux.cgroupsPath: the cgroup already has {} process(es) (pid {})", taken.size(), taken[0]));
    if (!rootless) {
      cgroups::set_resources(cg.paths(), with_device_rules(spec));
    } else {
      oci::LinuxResources limits = r ? *r : oci::LinuxResources{};
      limits.devices.reset();
      cgroups::set_resources(cg.paths(), limits);
      oci::LinuxResources devices;
      devices.devices = cgroups::device_rules(spec);
      try {
        cgroups::set_resources(cg.paths(), devices);
      } catch (const Error& e) {
        spdlog::debug("cgroups: rootless: device rules not applied: {}", e.what());
      }
    }
  } catch (...) {
    try {
      cg.destroy();
    } catch (const Error&) {
    }
    throw;
  }
  return cg;
}

}  // namespace detail

namespace {


// Signals every process in the cgroup. Frozen first, as runc does, so none can fork a child
// that escapes the signal.
void signal_cgroup(const cgroups::Cgroup& cg, int sig) {
  const bool was_frozen = cg.frozen();
  bool froze = false;
  if (!was_frozen) {
    try {
      cg.freeze();
      froze = true;
    } catch (const Error& e) {
      spdlog::debug("signal all: cannot freeze ({}); signalling without", e.what());
    }
  }
  for (pid_t p : cg.pids()) ::kill(p, sig);
  if (froze) cg.thaw();
}

}  // namespace

std::string state_json(const oci::State& s) { return json::serialize(oci::to_json(s)); }

Error not_running(std::string_view id) { return Error(fmt::format("container not running: `{}` has stopped", id)); }

bool rootless_cgroups(Rootless r) {
  switch (r) {
    case Rootless::True:
      return true;
    case Rootless::False:
      return false;
    case Rootless::Auto:
      break;
  }
  return ::geteuid() != 0 || !ns::in_initial_user_ns();
}

namespace detail {

oci::State make_state(const ContainerRecord& r, oci::Status status) {
  oci::State s;
  s.oci_version = kSpecVersion;
  s.id = r.id;
  s.status = status;
  if (status != oci::Status::Stopped && r.pid > 0) s.pid = r.pid;
  s.bundle = r.bundle;
  s.annotations = r.annotations;
  s.rootfs = r.rootfs;
  s.created = r.created;
  s.owner = r.owner;
  return s;
}

void write_pid_file(const std::string& path, pid_t pid) {
  const std::string tmp = path + ".berth-tmp";
  {
    sys::Fd fd = sys::openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    sys::write_all(fd.get(), std::to_string(pid), tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(fmt::format("pid file: rename `{}`", path), e);
  }
}

Bundle load_bundle(const std::string& bundle_opt) {
  Bundle b;
  b.path = real_path(bundle_opt.empty() ? "." : bundle_opt, "bundle");
  const std::string config_path = b.path + "/config.json";
  b.config_text = sys::read_file(AT_FDCWD, config_path);
  b.spec = with_context(fmt::format("`{}`", config_path), [&] {
    oci::Spec s = oci::parse_config(b.config_text);
    oci::validate(s);
    if (!s.process) throw Error("process: required to create a container");
    lsm::check(s);  // what depends on the host's LSMs (runc's validator)
    if (!ns::creates(s, oci::NamespaceType::Mount))
      throw Error("linux.namespaces: berth needs a new mount namespace to set up the rootfs");
    return s;
  });
  const std::string& root_path = b.spec.root->path;
  b.rootfs = real_path(root_path.starts_with('/') ? root_path : b.path + "/" + root_path, "root.path");
  return b;
}

cgroups::Cgroup plan_cgroup(const oci::Spec& spec, const CreateOptions& opts, bool rootless, ContainerRecord& rec,
                            cgroups::systemd::Unit& unit) {
  if (opts.systemd_cgroup) {
    rec.cgroup = systemd_paths(spec, opts.id, unit);
    return cgroups::Cgroup();
  }
  cgroups::Cgroup cg = with_context("cgroups", [&] { return make_cgroup(spec, opts.id, rootless); });
  rec.cgroup = cg.paths();
  return cg;
}

void discard(pid_t pid, const ContainerRecord& rec, const cgroups::Cgroup& cg, StateDir& dir) noexcept {
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    int ws;
    ::waitpid(pid, &ws, 0);  // our child (or reparented to us): reap it
  }
  try {
    if (!rec.systemd_unit.empty()) cgroups::systemd::stop_scope({"", rec.systemd_unit});
    if (cg.valid()) cg.destroy();
  } catch (const std::exception& e) {
    spdlog::warn("{}", e.what());
  }
  try {
    dir.remove();
  } catch (const std::exception&) {
    // The original error is the one to report; the directory is a leftover `delete` removes.
  }
}

ContainerRecord new_record(const std::string& id, const Bundle& b) {
  ContainerRecord rec;
  rec.id = id;
  rec.bundle = b.path;
  rec.rootfs = b.rootfs;
  rec.created = now_rfc3339();
  if (b.spec.annotations) rec.annotations = *b.spec.annotations;
  rec.hooks = hooks_to_json(b.spec.hooks);
  rec.has_pid_ns = ns::has(b.spec, oci::NamespaceType::Pid);
  rec.config = b.config_text;
  return rec;
}

}  // namespace detail

// ---- Factory ---------------------------------------------------------------------------

Container Factory::create(const CreateOptions& opts) {
  validate_container_id(opts.id);
  const Bundle b = load_bundle(opts.bundle);
  const oci::Spec& spec = b.spec;
  const std::string& bundle = b.path;
  const std::string& rootfs = b.rootfs;
  const std::string& config_text = b.config_text;
  if (spec.process->terminal.value_or(false) && opts.console_socket.empty() && !opts.terminal_to_caller)
    throw Error(fmt::format("`{}/config.json`: process.terminal: a terminal needs --console-socket (or `berth run` in the foreground)", bundle));
  ns::Plan plan = ns::plan(spec);
  const bool terminal = spec.process->terminal.value_or(false);
  sys::Fd console;  // connected first: a bad socket fails before anything exists
  if (terminal && !opts.console_socket.empty()) console = terminal::connect_console_socket(opts.console_socket);

  const bool rootless = rootless_cgroups(opts.rootless);
  StateDir dir = StateDir::create(root_, opts.id);
  ContainerRecord rec = new_record(opts.id, b);
  rec.notify = !opts.notify_socket.empty();
  pid_t pid = -1;
  sys::Fd pty;
  cgroups::Cgroup cgroup;
  cgroups::systemd::Unit unit;
  try {
    cgroup = plan_cgroup(spec, opts, rootless, rec, unit);
    // As runc: the container's root owns the fifo and init reopens it through an O_PATH fd after
    // dropping privileges, so neither the state directory (0700) nor the user matter.
    const std::string fifo_path = dir.path() + "/" + kExecFifo;
    if (::mkfifoat(dir.fd(), kExecFifo, 0622) < 0) throw_errno("mkfifo", fifo_path);
    if (::fchmodat(dir.fd(), kExecFifo, 0622, 0) < 0) throw_errno("chmod", fifo_path);  // past the umask
    if (ns::has(spec, oci::NamespaceType::User)) {
      const auto uid = ns::host_id(spec.linux->uid_mappings, 0), gid = ns::host_id(spec.linux->gid_mappings, 0);
      // An unprivileged user may not give it away (container root mapped to a subordinate id
      // by newuidmap); its mode lets anyone write it anyway, which is all init needs.
      if (::fchownat(dir.fd(), kExecFifo, uid.value_or(0), gid.value_or(0), 0) < 0 && !(errno == EPERM && ::geteuid() != 0))
        throw_errno("chown", fifo_path);
    }
    sys::Fd fifo = sys::openat(dir.fd(), kExecFifo, O_PATH | O_CLOEXEC);
    init::Envelope env;
    env.id = opts.id;
    env.bundle = bundle;
    env.rootfs = rootfs;
    env.no_pivot = opts.no_pivot;
    env.no_new_keyring = opts.no_new_keyring;
    env.preserve_fds = opts.listen_fds + opts.preserve_fds;
    env.debug = spdlog::should_log(spdlog::level::debug);
    env.listen_fds = opts.listen_fds;
    if (rec.notify) {
      env.notify_dir = dir.path() + "/" + notify::kStateDir;
      if (::mkdirat(dir.fd(), notify::kStateDir, 0755) < 0) throw_errno("mkdir", env.notify_dir);
    }
    SpawnRequest req;
    req.spec = &spec;
    req.config_text = config_text;
    req.envelope = init::encode_envelope(env);
    req.plan = &plan;
    req.fifo_fd = fifo.get();
    req.preserve_fds = opts.listen_fds + opts.preserve_fds;
    req.terminal = terminal;
    if (spec.linux && spec.linux->seccomp && seccomp::notify_requested(*spec.linux->seccomp)) {
      req.seccomp_notify = true;
      req.seccomp_listener = [&](sys::Fd fd) {
        const auto& sc = *spec.linux->seccomp;
        seccomp::send_to_agent(sc.listener_path.value_or(""), sc.listener_metadata, rec.pid,
                               make_state(rec, oci::Status::Creating), fd.get());
      };
    }
    req.join_cgroup = [&](pid_t p) {
      if (!opts.systemd_cgroup) {
        if (!cgroup.valid()) return;
        try {
          cgroup.add(p);
        } catch (const Error& e) {
          // A cgroup an unprivileged user could make but not move into (cgroup2 wants write
          // access to cgroup.procs of the common ancestor): without limits, none is needed.
          if (!rootless || !permission_error(e) || wants_limits(resources_of(spec))) throw;
          spdlog::debug("cgroups: rootless: {}; running without a cgroup", e.what());
          cgroup.destroy();
          cgroup = cgroups::Cgroup();
          rec.cgroup = {};
        }
        return;
      }
      rec.systemd_unit = unit.name;
      cgroup = with_context("cgroups", [&] { return join_systemd_cgroup(spec, unit, rec.cgroup, p); });
    };
    req.runtime_hooks = [&](pid_t p) {
      pid = p;
      rec.pid = p;
      const std::string s = state_json(make_state(rec, oci::Status::Creating));
      if (spec.hooks) {
        hooks::run_all(spec.hooks->prestart, "prestart", s);
        hooks::run_all(spec.hooks->create_runtime, "createRuntime", s);
      }
      return s;
    };
    Spawned sp = spawn_init(req);
    pid = sp.pid;
    rec.pid = sp.pid;
    auto st = proc::start_time(sp.pid);
    if (!st) throw Error(fmt::format("init (pid {}) exited during create", sp.pid));
    rec.init_start_time = *st;
    if (rec.has_pid_ns) rec.pid_ns = proc::ns_id(sp.pid, "pid").value_or("");
    dir.write_record(rec);
    if (!opts.pid_file.empty()) with_context("--pid-file", [&] { write_pid_file(opts.pid_file, sp.pid); });
    if (console.valid()) terminal::send_master(console.get(), sp.pty.get(), opts.console_socket);
    if (terminal && !console.valid()) pty = std::move(sp.pty);
  } catch (...) {
    discard(pid, rec, cgroup, dir);
    throw;
  }
  Container c(root_, std::move(rec));
  c.pty_ = std::move(pty);
  return c;
}

Container Factory::load(const std::string& id) const {
  StateDir dir = StateDir::open(root_, id);
  auto rec = dir.read_record();
  if (!rec) {
    // create died before writing state.json: still a container `delete` can remove.
    ContainerRecord r;
    r.id = id;
    return Container(root_, std::move(r));
  }
  return Container(root_, std::move(*rec));
}

bool Factory::exists(const std::string& id) const {
  validate_container_id(id);
  struct stat st;
  return ::fstatat(AT_FDCWD, (root_ + "/" + id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

std::vector<Container> Factory::list() const {
  std::vector<Container> out;
  for (const auto& id : StateDir::list(root_)) {
    try {
      out.push_back(load(id));
    } catch (const Error&) {
      // Removed while we listed, or not a container directory: not listed.
    }
  }
  return out;
}

// ---- Container -------------------------------------------------------------------------

oci::Status Container::status_locked(const StateDir& dir) const {
  if (record_.pid <= 0 || !proc::alive(record_.pid, record_.init_start_time)) return oci::Status::Stopped;
  struct stat st;
  if (::fstatat(dir.fd(), kExecFifo, &st, 0) == 0) return oci::Status::Created;
  if (!record_.cgroup.empty() && cgroups::Cgroup(record_.cgroup).frozen()) return oci::Status::Paused;
  return oci::Status::Running;
}

oci::Status Container::status() const {
  StateDir dir = StateDir::open(root_, record_.id);
  return status_locked(dir);
}

oci::State Container::state() const { return make_state(record_, status()); }

void Container::start(const std::string& notify_socket, bool notify_in_background) {
  sys::Fd pidfd, notify;
  {
  StateDir dir = StateDir::open(root_, record_.id);
  const oci::Status st = status_locked(dir);
  if (st != oci::Status::Created)
    throw Error(fmt::format("container `{}` is {}, not created: cannot start", record_.id, oci::to_string(st)));
  pidfd = sys::pidfd_open(record_.pid);
  // Listening before the process runs: nothing it sends is lost.
  if (record_.notify && !notify_socket.empty()) notify = notify::bind_socket(dir.path());
  sys::Fd fifo = sys::openat(dir.fd(), kExecFifo, O_RDONLY | O_NONBLOCK);
  // init is blocked opening the fifo for writing; it writes one byte once we are a reader.
  pollfd p[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  for (;;) {
    const int r = ::poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("poll", dir.path() + "/" + kExecFifo);
    if (p[0].revents & POLLIN) break;
    if (p[1].revents) throw Error(fmt::format("container `{}`: init exited before start", record_.id));
  }
  char c;
  if (::read(fifo.get(), &c, 1) != 1) throw_errno("read", dir.path() + "/" + kExecFifo);
  if (::unlinkat(dir.fd(), kExecFifo, 0) < 0) throw_errno("unlink", dir.path() + "/" + kExecFifo);
  }  // the container's lock is released: `state` must answer while we wait for READY=1
  if (auto h = hooks_from_record(record_); h && h->poststart)
    run_hooks_warn(*h->poststart, "poststart", state_json(make_state(record_, oci::Status::Running)));
  if (!notify.valid()) return;
  auto wait = [sock = std::move(notify), pid = std::move(pidfd), init = record_.pid, host = notify_socket] {
    notify::forward_ready(sock.get(), pid.get(), init, host);
  };
  if (!notify_in_background) {
    wait();
    return;
  }
  notify_thread_ = std::jthread([wait = std::move(wait)]() mutable {
    try {
      wait();
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
    }
  });
}

void Container::signal(int sig, bool all) {
  StateDir dir = StateDir::open(root_, record_.id);
  const oci::Status st = status_locked(dir);
  if (st == oci::Status::Stopped) {
    // As runc, --all still reaches whatever is left in the cgroup (exec'd processes of a
    // container without its own pid namespace outlive its init); the shim relies on it.
    if (!all || record_.cgroup.empty()) throw not_running(record_.id);
    signal_cgroup(cgroups::Cgroup(record_.cgroup), sig);
    return;
  }
  if (all && !record_.has_pid_ns && record_.cgroup.empty())
    throw Error(fmt::format("kill --all: container `{}` shares the host's pid namespace and has no cgroup to find its processes in",
                            record_.id));
  sys::Fd pidfd = sys::pidfd_open(record_.pid);
  // The pidfd pins the process: check it is still our init, then signal through it.
  if (!proc::alive(record_.pid, record_.init_start_time)) throw not_running(record_.id);
  if (all && !record_.cgroup.empty()) {
    signal_cgroup(cgroups::Cgroup(record_.cgroup), sig);
    return;
  }
  if (all) {
    for (pid_t p : processes_in_pid_ns(record_.pid_ns))
      if (p != record_.pid) ::kill(p, sig);
  }
  sys::pidfd_send_signal(pidfd.get(), sig);
}

void Container::destroy(bool force) {
  StateDir dir = StateDir::open(root_, record_.id);
  const oci::Status st = status_locked(dir);
  if ((st == oci::Status::Running || st == oci::Status::Paused) && !force)
    throw Error(fmt::format("cannot delete container `{}` that is not stopped: {} (use --force)", record_.id,
                            oci::to_string(st)));
  if (st != oci::Status::Stopped) {
    // A created container is killed as runc does; a running one only with --force.
    sys::Fd pidfd = sys::pidfd_open(record_.pid);
    if (proc::alive(record_.pid, record_.init_start_time)) {
      ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
      // A frozen process takes no signal until it is thawed.
      if (st == oci::Status::Paused) cgroups::Cgroup(record_.cgroup).thaw();
      if (!wait_exit(pidfd.get(), std::chrono::seconds(10)))
        throw Error(fmt::format("container `{}`: init (pid {}) did not exit after SIGKILL", record_.id, record_.pid));
    }
  }
  if (!record_.cgroup.empty()) {
    const cgroups::Cgroup cg(record_.cgroup);
    // Without a pid namespace the container's other processes outlive its init.
    if (!record_.has_pid_ns && !cg.pids().empty()) {
      signal_cgroup(cg, SIGKILL);
      for (int i = 0; i < 100 && !cg.pids().empty(); ++i) ::usleep(10000);
    }
    if (!record_.systemd_unit.empty()) cgroups::systemd::stop_scope({"", record_.systemd_unit});
    cg.destroy();
  }
  std::optional<oci::Hooks> h = hooks_from_record(record_);
  dir.remove();
  if (h && h->poststop) run_hooks_warn(*h->poststop, "poststop", state_json(make_state(record_, oci::Status::Stopped)));
}

namespace {
cgroups::Cgroup need_cgroup(const ContainerRecord& r, std::string_view what) {
  if (r.cgroup.empty()) throw Error(fmt::format("{}: container `{}` has no cgroup", what, r.id));
  return cgroups::Cgroup(r.cgroup);
}
}  // namespace

void Container::pause() {
  StateDir dir = StateDir::open(root_, record_.id);
  const oci::Status st = status_locked(dir);
  if (st != oci::Status::Running && st != oci::Status::Created)
    throw Error(fmt::format("container `{}` is {}, not running: cannot pause", record_.id, oci::to_string(st)));
  need_cgroup(record_, "pause").freeze();
}

void Container::resume() {
  StateDir dir = StateDir::open(root_, record_.id);
  const oci::Status st = status_locked(dir);
  if (st != oci::Status::Paused)
    throw Error(fmt::format("container `{}` is {}, not paused: cannot resume", record_.id, oci::to_string(st)));
  need_cgroup(record_, "resume").thaw();
}

void Container::update(const oci::LinuxResources& r) {
  StateDir dir = StateDir::open(root_, record_.id);
  const oci::Status st = status_locked(dir);
  if (st == oci::Status::Stopped)
    throw Error(fmt::format("container `{}` is stopped: cannot update its resources", record_.id));
  cgroups::set_resources(need_cgroup(record_, "update").paths(), r);
}

std::vector<pid_t> Container::processes() const {
  if (record_.cgroup.empty()) {
    if (record_.pid > 0 && proc::alive(record_.pid, record_.init_start_time)) return {record_.pid};
    return {};
  }
  return cgroups::Cgroup(record_.cgroup).pids();
}

cgroups::Stats Container::stats() const {
  const bool alive = record_.pid > 0 && proc::alive(record_.pid, record_.init_start_time);
  return cgroups::read_stats(need_cgroup(record_, "stats").paths(), alive ? record_.pid : 0);
}

void Container::watch(std::chrono::milliseconds interval, const std::function<void(const Event&)>& on_event) const {
  if (status() == oci::Status::Stopped) throw not_running(record_.id);
  sys::Fd pidfd = sys::pidfd_open(record_.pid);
  std::optional<cgroups::OomWatcher> oom;
  if (!record_.cgroup.empty()) {
    try {
      oom.emplace(record_.cgroup);
    } catch (const Error& e) {
      spdlog::warn("events: no OOM notifications: {}", e.what());
    }
  }
  using clock = std::chrono::steady_clock;
  auto next = clock::now() + interval;
  for (;;) {
    pollfd p[2] = {{pidfd.get(), POLLIN, 0}, {oom ? oom->fd() : -1, POLLIN, 0}};
    int timeout = -1;
    if (interval.count() > 0)
      timeout = static_cast<int>(std::max<long long>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now()).count()));
    const int r = ::poll(p, 2, timeout);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("events: poll");
    if (p[1].revents & POLLIN)
      for (std::uint64_t n = oom->consume(); n > 0; --n) on_event({"oom", std::nullopt});
    if (p[0].revents) {
      // An OOM kill of init is counted before init exits, but its notification may come after
      // the pidfd's: look once more, so the "oom" is never lost behind the "exit".
      if (oom)
        for (std::uint64_t n = oom->consume(); n > 0; --n) on_event({"oom", std::nullopt});
      on_event({"exit", std::nullopt});
      return;
    }
    if (interval.count() > 0 && clock::now() >= next) {
      next += interval;
      try {
        on_event({"stats", stats()});
      } catch (const Error& e) {
        spdlog::error("events: {}", e.what());
      }
    }
  }
}

int Container::wait() {
  const int st = sys::waitpid(record_.pid);
  return sys::exit_status(st);
}

}  // namespace berth
