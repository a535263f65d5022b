// Container::exec: one more process inside a running container (runc's setns path).
//
// The parent opens the container init's namespaces (/proc/<pid>/ns/*) and spawns `berth init`
// through the same clone + re-exec + sync protocol as create (runtime/spawn.hpp): every
// namespace but mount is joined before the re-exec (user first; a joined pid namespace needs
// the intermediate's fork), the mount namespace and root after it, since berth's binary and
// libraries are the host's. The process is put into the container's cgroup before init reads
// its config, and init applies the same attributes, in the same order, as for the container's
// own process, then execs it without waiting for anything.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "oci/validate.hpp"
#include "runtime/cgroups/cgroup.hpp"
#include "runtime/container.hpp"
#include "runtime/container_support.hpp"
#include "runtime/init/init.hpp"
#include "runtime/namespaces.hpp"
#include "runtime/proc.hpp"
#include "runtime/process/lsm.hpp"
#include "runtime/seccomp/agent.hpp"
#include "runtime/seccomp/filter.hpp"
#include "runtime/spawn.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"
#include "runtime/terminal.hpp"

namespace json = boost::json;

namespace berth {

namespace {

// The exec'd process's spec: the container's, with this process, and every namespace the
// container has (created or joined) joined through its init. The mount namespace is left out:
// init enters it after its re-exec.
oci::Spec exec_spec(const oci::Spec& container, const oci::Process& process, pid_t init) {
  oci::Spec spec = container;
  spec.process = process;
  if (spec.linux && spec.linux->namespaces) {
    std::vector<oci::LinuxNamespace> joined;
    for (oci::LinuxNamespace n : *spec.linux->namespaces) {
      if (n.type == oci::NamespaceType::Mount) continue;
      n.path = fmt::format("/proc/{}/ns/{}", init, ns::proc_name(n.type));
      joined.push_back(std::move(n));
    }
    spec.linux->namespaces = std::move(joined);
    // Offsets belong to the namespace's creation; the joined one has them.
    spec.linux->time_offsets.reset();
  }
  return spec;
}

// --cgroup "[<controller>[,<controller>]:]<path>": sub-cgroups of the container's, which must
// exist (runc: "run the process in an (existing) sub-cgroup").
cgroups::Paths sub_cgroup_paths(const cgroups::Paths& base, const std::vector<std::string>& specs) {
  cgroups::Paths out = base;
  for (const std::string& s : specs) {
    const size_t colon = s.find(':');
    const std::string path = colon == std::string::npos ? s : s.substr(colon + 1);
    std::vector<std::string> controllers;
    if (colon != std::string::npos)
      for (size_t pos = 0; pos <= colon;) {
        const size_t comma = std::min(s.find(',', pos), colon);
        controllers.push_back(s.substr(pos, comma - pos));
        pos = comma + 1;
      }
    if (path.empty() || path.front() == '/' || path == ".." || path.starts_with("../") ||
        path.find("/../") != std::string::npos || path.ends_with("/.."))
      throw Error(fmt::format("--cgroup `{}`: the path must be relative to the container's cgroup, without `..`", s));
    const auto below = [&](const std::string& dir) {
      const std::string d = dir + "/" + path;
      struct stat st;
      if (::stat(d.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) throw_errno(fmt::format("--cgroup `{}`", s), d);
      return d;
    };
    bool matched = false;
    for (auto& [name, dir] : out.v1) {
      if (!controllers.empty() && std::find(controllers.begin(), controllers.end(), name) == controllers.end()) continue;
      dir = below(base.v1.at(name));
      matched = true;
    }
    if (!out.unified.empty() && (controllers.empty() || out.mode == cgroups::Mode::Unified)) {
      out.unified = below(base.unified);
      matched = true;
    }
    if (!matched) throw Error(fmt::format("--cgroup `{}`: the container has no cgroup for these controllers", s));
  }
  return out;
}

}  // namespace

oci::Spec Container::config() const {
  if (record_.config.empty())
    throw Error(fmt::format("container `{}`: its state has no config (created by an older berth)", record_.id));
  return oci::parse_config(record_.config);
}

ExecProcess Container::exec(const ExecOptions& o) {
  // The container's lock is held only for the status check: `resume` must be able to thaw a
  // paused container while an --ignore-paused exec waits for its process, and concurrent
  // execs should not queue behind each other.
  const oci::Status st = status();
  if (st == oci::Status::Stopped) throw Error(fmt::format("cannot exec in a stopped container `{}`", record_.id));
  if (st == oci::Status::Paused && !o.ignore_paused)
    throw Error(fmt::format("cannot exec in a paused container `{}` (use --ignore-paused to override)", record_.id));

  const oci::Spec spec = with_context("process", [&] {
    oci::Spec s = exec_spec(config(), o.process, record_.pid);
    oci::validate(s);
    lsm::check(s);
    return s;
  });
  const bool terminal = spec.process->terminal.value_or(false);
  if (terminal && o.console_socket.empty() && !o.terminal_to_caller)
    throw Error("process.terminal: a terminal needs --console-socket (or `berth exec` in the foreground)");
  sys::Fd console;
  if (terminal && !o.console_socket.empty()) console = terminal::connect_console_socket(o.console_socket);
  const cgroups::Paths cgroup =
      o.sub_cgroups.empty() ? record_.cgroup : sub_cgroup_paths(record_.cgroup, o.sub_cgroups);

  // Opened before the pid is checked again: if init died and its pid was reused in between,
  // the check fails and these fds are dropped unused.
  ns::Plan plan = ns::plan(spec);
  sys::Fd mnt = sys::openat(AT_FDCWD, fmt::format("/proc/{}/ns/mnt", record_.pid), O_RDONLY | O_CLOEXEC);
  sys::Fd root = sys::openat(AT_FDCWD, fmt::format("/proc/{}/root", record_.pid), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!proc::alive(record_.pid, record_.init_start_time))
    throw Error(fmt::format("cannot exec in a stopped container `{}`", record_.id));

  init::Envelope env;
  env.id = record_.id;
  env.bundle = record_.bundle;
  env.rootfs = record_.rootfs;
  env.preserve_fds = o.preserve_fds;
  env.debug = spdlog::should_log(spdlog::level::debug);
  env.exec = true;
  const std::string config_text = json::serialize(oci::to_json(spec));

  SpawnRequest req;
  req.spec = &spec;
  req.config_text = config_text;
  req.envelope = init::encode_envelope(env);
  req.plan = &plan;
  req.preserve_fds = o.preserve_fds;
  req.terminal = terminal;
  req.exec = true;
  req.mnt_ns_fd = mnt.get();
  req.root_fd = root.get();
  pid_t pid = -1;
  if (spec.linux && spec.linux->seccomp && seccomp::notify_requested(*spec.linux->seccomp)) {
    req.seccomp_notify = true;
    req.seccomp_listener = [&](sys::Fd fd) {
      const auto& sc = *spec.linux->seccomp;
      seccomp::send_to_agent(sc.listener_path.value_or(""), sc.listener_metadata, pid,
                             detail::make_state(record_, st), fd.get());
    };
  }
  req.join_cgroup = [&](pid_t p) {
    pid = p;
    if (!cgroup.empty()) with_context("cgroups", [&] { cgroups::Cgroup(cgroup).add(p); });
  };
  Spawned sp = spawn_init(req);
  ExecProcess out;
  out.pid = sp.pid;
  try {
    if (!o.pid_file.empty()) with_context("--pid-file", [&] { detail::write_pid_file(o.pid_file, sp.pid); });
    if (console.valid()) terminal::send_master(console.get(), sp.pty.get(), o.console_socket);
  } catch (...) {
    ::kill(sp.pid, SIGKILL);
    int ws;
    ::waitpid(sp.pid, &ws, 0);
    throw;
  }
  if (terminal && !console.valid()) out.pty = std::move(sp.pty);
  return out;
}

}  // namespace berth
