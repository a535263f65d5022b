// Container::checkpoint: the container's processes dumped by CRIU (runc checkpoint). What CRIU
// is told about the container is in runtime/criu/plan.hpp; the protocol in runtime/criu/rpc.hpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
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
#include "runtime/namespaces.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth {

namespace {

// Where the container's fds 0-2 point ("pipe:[123]", "/dev/null"): restore hands the caller's
// stdio to CRIU under these names. A file on a mount the container does not have is recorded
// by its key and added to `external` (CRIU could not dump it). A closed fd is recorded as "".
std::vector<std::string> stdio_targets(pid_t pid, std::vector<std::string>& external) {
  std::vector<std::string> out;
  const std::string mountinfo = sys::read_file(AT_FDCWD, fmt::format("/proc/{}/mountinfo", pid));
  for (int fd = 0; fd < 3; ++fd) {
    char buf[PATH_MAX];
    const std::string link = fmt::format("/proc/{}/fd/{}", pid, fd);
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    std::string target = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    struct stat sb;
    if (!target.empty() && target[0] == '/' && ::stat(link.c_str(), &sb) == 0) {
      const auto info = sys::try_read_file(AT_FDCWD, fmt::format("/proc/{}/fdinfo/{}", pid, fd));
      if (auto key = info ? criu::external_file_key(*info, mountinfo, sb.st_ino) : std::nullopt) {
        target = *key;
        external.push_back(*key);
      }
    }
    out.push_back(std::move(target));
  }
  return out;
}

criu::PageServerInfo page_server(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw Error(fmt::format("--page-server: `{}` is not ADDRESS:PORT", s));
  char* end;
  const long port = std::strtol(s.c_str() + colon + 1, &end, 10);
  if (*end || port <= 0 || port > 65535) throw Error(fmt::format("--page-server: `{}`: bad port", s));
  criu::PageServerInfo ps;
  ps.address = s.substr(0, colon);
  ps.port = static_cast<std::int32_t>(port);
  return ps;
}

}  // namespace

namespace detail {

criu::Opts criu_opts(const CriuOptions& o, const criu::Dirs& d, const char* log) {
  criu::Opts opts;
  opts.images_dir_fd = d.images_fd.get();
  opts.work_dir_fd = d.work_fd.get();
  opts.log_level = 4;
  opts.log_file = log;
  opts.manage_cgroups = true;
  opts.manage_cgroups_mode = criu::parse_cgroups_mode(o.manage_cgroups_mode);
  opts.notify_scripts = true;
  opts.tcp_established = o.tcp_established;
  opts.ext_unix_sk = o.ext_unix_sk;
  opts.shell_job = o.shell_job;
  opts.file_locks = o.file_locks;
  opts.empty_ns = criu::empty_ns_mask(o.empty_ns);
  // A pty slave whose master is outside the container (the console socket's receiver) is
  // dumped as orphaned; restore makes a new pair and hands the master over (notify).
  opts.orphan_pts_master = true;
  opts.auto_dedup = o.auto_dedup;
  opts.lazy_pages = o.lazy_pages;
  return opts;
}

}  // namespace detail

void Container::checkpoint(const CheckpointOptions& o) {
  const std::string& binary = o.criu.criu;
  // Bad flags are refused before anything is made (the image directory).
  criu::parse_cgroups_mode(o.criu.manage_cgroups_mode);
  criu::empty_ns_mask(o.criu.empty_ns);
  std::optional<criu::PageServerInfo> ps;
  if (!o.page_server.empty()) ps = page_server(o.page_server);
  {
    StateDir dir = StateDir::open(root_, record_.id);
    const oci::Status st = status_locked(dir);
    if (st == oci::Status::Stopped) throw not_running(record_.id);
    if (st == oci::Status::Created)
      throw Error(fmt::format("container `{}` is created, not running: cannot checkpoint (start it first)", record_.id));
    const oci::Spec spec = config();
    criu::Dirs dirs = criu::open_dirs(o.criu.image_path, o.criu.work_path, true);
    criu::Opts opts = detail::criu_opts(o.criu, dirs, "dump.log");
    {
      sys::Fd f = sys::openat(dirs.images_fd.get(), criu::kDescriptorsFile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      sys::write_all(f.get(), criu::encode_descriptors(stdio_targets(record_.pid, opts.external)),
                     dirs.images + "/" + criu::kDescriptorsFile);
    }
    opts.pid = record_.pid;
    opts.root = record_.rootfs;
    opts.leave_running = o.leave_running;
    if (o.status_fd >= 0) opts.status_fd = o.status_fd;
    opts.ps = std::move(ps);
    if (!o.parent_path.empty()) opts.parent_img = o.parent_path;
    if (o.pre_dump) opts.track_mem = true;
    // CRIU freezes through the cgroup: nothing forks or exits while it collects the tree.
    const cgroups::Paths& cg = record_.cgroup;
    const std::string freezer = cg.mode == cgroups::Mode::Unified ? cg.unified : cg.v1_dir("freezer");
    if (!freezer.empty()) opts.freeze_cgroup = freezer;

    auto is_file = [pid = record_.pid](const std::string& path) {
      struct stat sb;
      const std::string p = fmt::format("/proc/{}/root{}", pid, path);
      return ::stat(p.c_str(), &sb) == 0 && !S_ISDIR(sb.st_mode);
    };
    std::vector<criu::ExternalMount> ext = criu::external_mounts(spec, is_file);
    const bool unified = cgroups::detect_host().mode == cgroups::Mode::Unified;
    for (auto& b : criu::cgroup_mount_binds(spec, unified, sys::read_file(AT_FDCWD, "/proc/self/mountinfo"),
                                           sys::read_file(AT_FDCWD, fmt::format("/proc/{}/cgroup", record_.pid)),
                                           record_.rootfs))
      ext.push_back(std::move(b));
    opts.ext_mnt = criu::dump_ext_mnt(ext);
    // Joined network and pid namespaces are not the container's to save: restore joins them.
    if (spec.linux && spec.linux->namespaces) {
      for (const oci::LinuxNamespace& n : *spec.linux->namespaces) {
        if (!n.path || (n.type != oci::NamespaceType::Network && n.type != oci::NamespaceType::Pid)) continue;
        struct stat sb;
        if (::stat(n.path->c_str(), &sb) < 0) throw_errno("checkpoint: stat linux.namespaces path", *n.path);
        opts.external.push_back(fmt::format("{}[{}]:{}", criu::criu_ns_name(n.type), sb.st_ino, criu::external_ns_key(n.type)));
      }
    }

    const criu::ReqType type = o.pre_dump ? criu::ReqType::PreDump : criu::ReqType::Dump;
    criu::Req req;
    req.type = type;
    req.opts = std::move(opts);
    // CRIU's stdio is not the container's at dump: what it says goes to dump.log. (After a
    // pre-dump it complains on stderr that berth closed the socket.)
    const sys::Fd null = sys::openat(AT_FDCWD, "/dev/null", O_RDWR);
    criu::SwrkFds fds;
    fds.stdio = {null.get(), null.get(), null.get()};
    criu::Swrk criu = criu::Swrk::start(fds, binary);
    const criu::Resp resp = criu.call(req, [](const criu::Notify& n, sys::Fd) {
      spdlog::debug("criu: {} (pid {})", n.script.value_or("?"), n.pid.value_or(0));
    });
    // After PRE_DUMP CRIU exits non-zero once its socket closes: the answer is what counts.
    criu.finish();
    if (!resp.success) throw criu::failure(o.pre_dump ? "pre-dump" : "dump", resp, dirs, "dump.log", binary);
  }  // the lock: destroy takes it again
  if (!o.leave_running && !o.pre_dump) destroy(true);
}

}  // namespace berth
