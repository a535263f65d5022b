// Factory::restore: a new container brought back from a CRIU checkpoint (runc restore). Like
// create + start in one: the state directory, the cgroup and the hooks are berth's, the
// processes and their namespaces CRIU's. What CRIU is told is in runtime/criu/plan.hpp.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/cgroups/hierarchy.hpp"
#include "runtime/container.hpp"
#include "runtime/container_support.hpp"
#include "runtime/criu/images.hpp"
#include "runtime/criu/plan.hpp"
#include "runtime/criu/rpc.hpp"
#include "runtime/hooks.hpp"
#include "runtime/mount/options.hpp"
#include "runtime/mount/resolve.hpp"
#include "runtime/mount/syscalls.hpp"
#include "runtime/namespaces.hpp"
#include "runtime/proc.hpp"
#include "runtime/sys/syscalls.hpp"
#include "runtime/terminal.hpp"

namespace berth {

using namespace detail;

namespace {

constexpr const char* kCriuRoot = "criu-root";

bool is_bind(const oci::Mount& m) {
  return m.type == "bind" || mount::parse_options(m.options.value_or(oci::Strings{})).bind();
}

bool under(const std::string& path, const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs)
    if (path.size() > d.size() && path.starts_with(d) && path[d.size()] == '/') return true;
  return false;
}

// CRIU mounts the dumped tree onto the rootfs but does not make mount points. As at create,
// every destination is made in the rootfs, except below a tmpfs (CRIU restores its content),
// and through bind mounts made for the moment, so that mount points nested in a bind mount
// land in its source (runc issue 2748). Runs in our private mount namespace: the binds go
// away with it, and are unmounted before CRIU starts.
void make_mount_points(const oci::Spec& spec, const std::string& rootfs) {
  if (!spec.mounts) return;
  std::vector<std::string> tmpfs;
  for (const oci::Mount& m : *spec.mounts)
    if (m.type == "tmpfs") tmpfs.push_back(mount::clean_path(m.destination));
  sys::Fd root = sys::openat(AT_FDCWD, rootfs, O_PATH | O_DIRECTORY);
  std::vector<std::string> binds;
  for (size_t i = 0; i < spec.mounts->size(); ++i) {
    const oci::Mount& m = (*spec.mounts)[i];
    const std::string dest = mount::clean_path(m.destination);
    if (m.type == "cgroup" || under(dest, tmpfs)) continue;
    with_context(fmt::format("mounts[{}] ({})", i, dest), [&] {
      if (!is_bind(m) || !m.source) {
        mount::open_in_root(root.get(), dest, mount::Create::Dir);
        return;
      }
      struct stat sb;
      if (::stat(m.source->c_str(), &sb) < 0) throw_errno("stat bind source", *m.source);
      sys::Fd at = mount::open_in_root(root.get(), dest, S_ISDIR(sb.st_mode) ? mount::Create::Dir : mount::Create::File);
      mount::mount_on(m.source->c_str(), at.get(), dest, nullptr, MS_BIND | MS_REC);
      binds.push_back(fmt::format("{}{}", rootfs, dest));
    });
  }
  for (auto it = binds.rbegin(); it != binds.rend(); ++it)
    if (::umount2(it->c_str(), MNT_DETACH) < 0) spdlog::debug("restore: umount `{}`: {}", *it, std::strerror(errno));
}

// What CRIU does with namespaces the config joins: network and pid ones are inherited as the
// fds it was told about at dump (their keys), the others joined by path.
struct JoinedNamespaces {
  std::vector<sys::Fd> fds;  // become criu's fds 4, 5, ...
  std::vector<criu::InheritFd> inherit;
  std::vector<criu::JoinNamespace> join;
};

JoinedNamespaces joined_namespaces(const oci::Spec& spec) {
  JoinedNamespaces j;
  if (!spec.linux || !spec.linux->namespaces) return j;
  const auto& nss = *spec.linux->namespaces;
  for (size_t i = 0; i < nss.size(); ++i) {
    const oci::LinuxNamespace& n = nss[i];
    if (!n.path) continue;
    const std::string where = fmt::format("linux.namespaces[{}].path", i);
    switch (n.type) {
      case oci::NamespaceType::Network:
      case oci::NamespaceType::Pid:
        j.fds.push_back(with_context(where, [&] { return sys::openat(AT_FDCWD, *n.path, O_RDONLY); }));
        j.inherit.push_back({criu::external_ns_key(n.type), static_cast<std::int32_t>(3 + j.fds.size())});
        break;
      case oci::NamespaceType::Cgroup:
        throw Error(fmt::format("{}: CRIU cannot restore into a joined cgroup namespace", where));
      default:
        j.join.push_back({std::string(ns::proc_name(n.type)), *n.path, std::nullopt});
    }
  }
  return j;
}

// The rootfs bound on <state dir>/criu-root: CRIU wants the root to be a mount point whose
// parent is not overmounted. Unmounted (and the directory removed) when done.
class CriuRoot {
 public:
  CriuRoot(const StateDir& dir, const std::string& rootfs) : dir_fd_(dir.fd()), path_(dir.path() + "/" + kCriuRoot) {
    if (::mkdirat(dir_fd_, kCriuRoot, 0755) < 0) throw_errno("restore: mkdir", path_);
    made_ = true;
    mount::mount_path(rootfs.c_str(), path_.c_str(), nullptr, MS_BIND | MS_REC);
    mounted_ = true;
  }
  CriuRoot(const CriuRoot&) = delete;
  CriuRoot& operator=(const CriuRoot&) = delete;
  ~CriuRoot() {
    if (mounted_ && ::umount2(path_.c_str(), MNT_DETACH) < 0) spdlog::debug("restore: umount `{}`: {}", path_, std::strerror(errno));
    if (made_) ::unlinkat(dir_fd_, kCriuRoot, AT_REMOVEDIR);
  }
  const std::string& path() const { return path_; }

 private:
  int dir_fd_;
  std::string path_;
  bool made_ = false;
  bool mounted_ = false;
};

}  // namespace

Container Factory::restore(const RestoreOptions& ro) {
  const CreateOptions& opts = ro.create;
  validate_container_id(opts.id);
  criu::parse_cgroups_mode(ro.criu.manage_cgroups_mode);  // bad flags: refused before anything is made
  criu::empty_ns_mask(ro.criu.empty_ns);
  const Bundle b = load_bundle(opts.bundle);
  const oci::Spec& spec = b.spec;
  const bool terminal = spec.process->terminal.value_or(false);
  if (terminal && opts.console_socket.empty() && !opts.terminal_to_caller)
    throw Error(fmt::format("`{}/config.json`: process.terminal: a terminal needs --console-socket (or `berth restore` in the foreground)", b.path));
  // The mounts restore makes for CRIU (criu-root, the binds for mount points) are made in a
  // mount namespace of our own: nothing propagates to the host, and nothing outlives us. First:
  // CRIU chdirs into the work directory through our fd, and mounts there (its cgroup yard),
  // which the kernel allows only on a mount of CRIU's own namespace.
  if (::unshare(CLONE_NEWNS) < 0) throw_errno("restore: unshare(CLONE_NEWNS)");
  mount::mount_path(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);
  criu::Dirs dirs = criu::open_dirs(ro.criu.image_path, ro.criu.work_path, false);
  std::vector<std::string> stdio;
  if (auto t = sys::try_read_file(dirs.images_fd.get(), criu::kDescriptorsFile))
    stdio = with_context(dirs.images, [&] { return criu::decode_descriptors(*t); });
  JoinedNamespaces joined = joined_namespaces(spec);
  sys::Fd console;  // connected first: a bad socket fails before anything exists
  if (terminal && !opts.console_socket.empty()) console = terminal::connect_console_socket(opts.console_socket);

  const bool rootless = rootless_cgroups(opts.rootless);
  StateDir dir = StateDir::create(root_, opts.id);
  ContainerRecord rec = new_record(opts.id, b);
  pid_t pid = -1;
  sys::Fd pty;
  cgroups::Cgroup cgroup;
  cgroups::systemd::Unit unit;
  std::optional<criu::Swrk> criu;
  try {
    cgroup = plan_cgroup(spec, opts, rootless, rec, unit);
    make_mount_points(spec, b.rootfs);
    CriuRoot root(dir, b.rootfs);

    criu::SwrkFds fds;
    for (const sys::Fd& f : joined.fds) fds.extra_fds.push_back(f.get());
    criu.emplace(criu::Swrk::start(fds, ro.criu.criu));
    // CRIU puts the restored tasks in its own cgroups (with cg_root): the container's.
    if (opts.systemd_cgroup) {
      rec.systemd_unit = unit.name;
      cgroup = with_context("cgroups", [&] { return join_systemd_cgroup(spec, unit, rec.cgroup, criu->pid()); });
    } else if (cgroup.valid()) {
      cgroup.add(criu->pid());
    }
    const std::string criu_cgroup = sys::read_file(AT_FDCWD, fmt::format("/proc/{}/cgroup", criu->pid()));

    criu::Opts o = criu_opts(ro.criu, dirs, "restore.log");
    o.evasive_devices = true;
    o.rst_sibling = true;  // the restored init is our child, as after create
    o.root = root.path();
    if (cgroup.valid()) o.cg_root = criu::cgroup_roots(criu_cgroup);
    if (!ro.lsm_profile.empty()) o.lsm_profile = ro.lsm_profile;
    if (!ro.lsm_mount_context.empty()) o.lsm_mount_context = ro.lsm_mount_context;
    std::vector<criu::ExternalMount> ext = criu::external_mounts(spec, [](const std::string&) { return true; });
    const bool unified = cgroups::detect_host().mode == cgroups::Mode::Unified;
    for (auto& m : criu::cgroup_mount_binds(spec, unified, sys::read_file(AT_FDCWD, "/proc/self/mountinfo"),
                                           criu_cgroup, b.rootfs))
      ext.push_back(std::move(m));
    o.ext_mnt = criu::restore_ext_mnt(ext);
    // The container's stdio pipes (and files from outside it) at dump are our stdio now:
    // CRIU's fds 0-2 are ours.
    for (size_t i = 0; i < stdio.size() && i < 3; ++i)
      if (criu::inherited_stdio(stdio[i])) o.inherit_fd.push_back({stdio[i], static_cast<std::int32_t>(i)});
    for (auto& in : joined.inherit) o.inherit_fd.push_back(std::move(in));
    o.join_ns = std::move(joined.join);

    criu::Req req;
    req.type = criu::ReqType::Restore;
    req.opts = std::move(o);
    const criu::Resp resp = criu->call(req, [&](const criu::Notify& n, sys::Fd fd) {
      const std::string script = n.script.value_or("");
      spdlog::debug("criu: {} (pid {})", script, n.pid.value_or(0));
      if (script == "setup-namespaces") {
        // The container's namespaces exist, its processes do not run yet: create's hooks.
        rec.pid = n.pid.value_or(0);
        const std::string s = state_json(make_state(rec, oci::Status::Creating));
        if (spec.hooks) {
          hooks::run_all(spec.hooks->prestart, "prestart", s);
          hooks::run_all(spec.hooks->create_runtime, "createRuntime", s);
        }
      } else if (script == "post-restore") {
        pid = n.pid.value_or(-1);
      } else if (script == "orphan-pts-master" && fd.valid()) {
        if (console.valid()) terminal::send_master(console.get(), fd.get(), opts.console_socket);
        else pty = std::move(fd);
      }
    });
    const int status = criu->finish();
    if (!resp.success) throw criu::failure("restore", resp, dirs, "restore.log", ro.criu.criu);
    if (resp.restore_pid) pid = *resp.restore_pid;
    if (pid <= 0) throw Error(fmt::format("criu restore: no pid in its answer (criu exit status {})", sys::exit_status(status)));
    rec.pid = pid;
    auto st = proc::start_time(pid);
    if (!st) throw Error(fmt::format("restore: the restored init (pid {}) exited at once", pid));
    rec.init_start_time = *st;
    if (rec.has_pid_ns) rec.pid_ns = proc::ns_id(pid, "pid").value_or("");
    dir.write_record(rec);
    if (!opts.pid_file.empty()) with_context("--pid-file", [&] { write_pid_file(opts.pid_file, pid); });
  } catch (...) {
    criu.reset();  // kills and reaps CRIU if it still runs
    discard(pid, rec, cgroup, dir);
    throw;
  }
  if (auto h = hooks_from_record(rec); h && h->poststart)
    run_hooks_warn(*h->poststart, "poststart", state_json(make_state(rec, oci::Status::Running)));
  Container c(root_, std::move(rec));
  c.pty_ = std::move(pty);
  return c;
}

}  // namespace berth
