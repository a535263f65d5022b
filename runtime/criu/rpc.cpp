#include "runtime/criu/rpc.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <thread>

#include <fmt/format.h>

#include "runtime/criu/wire.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

extern char** environ;

namespace berth::criu {

using wire::Reader;
using wire::Writer;

std::string_view name(ReqType t) {
  // rpc.proto's own names: what criu's log and runc's errors say.
  switch (t) {
    case ReqType::Empty: return "EMPTY";
    case ReqType::Dump: return "DUMP";
    case ReqType::Restore: return "RESTORE";
    case ReqType::Check: return "CHECK";
    case ReqType::PreDump: return "PRE_DUMP";
    case ReqType::PageServer: return "PAGE_SERVER";
    case ReqType::Notify: return "NOTIFY";
    case ReqType::CpuinfoDump: return "CPUINFO_DUMP";
    case ReqType::CpuinfoCheck: return "CPUINFO_CHECK";
    case ReqType::FeatureCheck: return "FEATURE_CHECK";
    case ReqType::Version: return "VERSION";
    case ReqType::WaitPid: return "WAIT_PID";
    case ReqType::PageServerChld: return "PAGE_SERVER_CHLD";
    case ReqType::SinglePreDump: return "SINGLE_PRE_DUMP";
  }
  return "unknown request type";
}

// ---------------------------------------------------------------------------------------------
// Encoding. Each function writes its message's fields in field-number order, as protoc's
// serializers do, so the bytes match theirs (the tests compare them with protoc --encode).

namespace {

void put(Writer& w, std::uint32_t f, const std::optional<bool>& v) {
  if (v) w.boolean(f, *v);
}
void put(Writer& w, std::uint32_t f, const std::optional<std::int32_t>& v) {
  if (v) w.int32(f, *v);
}
void put(Writer& w, std::uint32_t f, const std::optional<std::uint32_t>& v) {
  if (v) w.uint32(f, *v);
}
void put(Writer& w, std::uint32_t f, const std::optional<std::string>& v) {
  if (v) w.string(f, *v);
}
void put(Writer& w, std::uint32_t f, const std::vector<std::string>& v) {
  for (const auto& s : v) w.string(f, s);  // proto2 repeated: one field per element, not packed
}

std::string enc(const PageServerInfo& p) {
  Writer w;
  put(w, 1, p.address);
  put(w, 2, p.port);
  put(w, 3, p.pid);
  put(w, 4, p.fd);
  return w.take();
}

std::string enc(const ExtMountMap& m) {
  Writer w;
  w.string(1, m.key);
  w.string(2, m.val);
  return w.take();
}

std::string enc(const CgroupRoot& c) {
  Writer w;
  put(w, 1, c.ctrl);
  w.string(2, c.path);
  return w.take();
}

std::string enc(const InheritFd& i) {
  Writer w;
  w.string(1, i.key);
  w.int32(2, i.fd);
  return w.take();
}

std::string enc(const JoinNamespace& j) {
  Writer w;
  w.string(1, j.ns);
  w.string(2, j.ns_file);
  put(w, 3, j.extra_opt);
  return w.take();
}

std::string enc(const Features& f) {
  Writer w;
  put(w, 1, f.mem_track);
  put(w, 2, f.lazy_pages);
  put(w, 3, f.pidfd_store);
  return w.take();
}

std::string enc(const Notify& n) {
  Writer w;
  put(w, 1, n.script);
  put(w, 2, n.pid);
  return w.take();
}

std::string enc(const Version& v) {
  Writer w;
  w.int32(1, v.major_number);
  w.int32(2, v.minor_number);
  put(w, 3, v.gitid);
  put(w, 4, v.sublevel);
  put(w, 5, v.extra);
  put(w, 6, v.name);
  return w.take();
}

template <class T>
void put_messages(Writer& w, std::uint32_t f, const std::vector<T>& v) {
  for (const auto& m : v) w.message(f, enc(m));
}

std::string enc(const Opts& o) {
  Writer w;
  w.int32(1, o.images_dir_fd);
  put(w, 2, o.pid);
  put(w, 3, o.leave_running);
  put(w, 4, o.ext_unix_sk);
  put(w, 5, o.tcp_established);
  put(w, 6, o.evasive_devices);
  put(w, 7, o.shell_job);
  put(w, 8, o.file_locks);
  put(w, 9, o.log_level);
  put(w, 10, o.log_file);
  if (o.ps) w.message(11, enc(*o.ps));
  put(w, 12, o.notify_scripts);
  put(w, 13, o.root);
  put(w, 14, o.parent_img);
  put(w, 15, o.track_mem);
  put(w, 16, o.auto_dedup);
  put(w, 17, o.work_dir_fd);
  put(w, 18, o.link_remap);
  put_messages(w, 23, o.ext_mnt);
  put(w, 24, o.manage_cgroups);
  put_messages(w, 25, o.cg_root);
  put(w, 26, o.rst_sibling);
  put_messages(w, 27, o.inherit_fd);
  put(w, 28, o.auto_ext_mnt);
  put(w, 29, o.ext_sharing);
  put(w, 30, o.ext_masters);
  put(w, 31, o.skip_mnt);
  put(w, 32, o.enable_fs);
  if (o.manage_cgroups_mode) w.int32(34, static_cast<std::int32_t>(*o.manage_cgroups_mode));
  put(w, 37, o.external);
  put(w, 38, o.empty_ns);
  put_messages(w, 39, o.join_ns);
  put(w, 44, o.freeze_cgroup);
  put(w, 45, o.timeout);
  put(w, 48, o.lazy_pages);
  put(w, 49, o.status_fd);
  put(w, 50, o.orphan_pts_master);
  put(w, 51, o.config_file);
  put(w, 53, o.lsm_profile);
  put(w, 63, o.lsm_mount_context);
  return w.take();
}

}  // namespace

std::string encode(const Req& r) {
  Writer w;
  w.int32(1, static_cast<std::int32_t>(r.type));
  if (r.opts) w.message(2, enc(*r.opts));
  put(w, 3, r.notify_success);
  put(w, 4, r.keep_open);
  if (r.features) w.message(5, enc(*r.features));
  put(w, 6, r.pid);
  return w.take();
}

std::string encode(const Resp& r) {
  Writer w;
  w.int32(1, static_cast<std::int32_t>(r.type));
  w.boolean(2, r.success);
  if (r.dump_restored) {  // criu_dump_resp { optional bool restored = 1; }
    Writer d;
    d.boolean(1, *r.dump_restored);
    w.message(3, d.bytes());
  }
  if (r.restore_pid) {  // criu_restore_resp { required int32 pid = 1; }
    Writer d;
    d.int32(1, *r.restore_pid);
    w.message(4, d.bytes());
  }
  if (r.notify) w.message(5, enc(*r.notify));
  if (r.ps) w.message(6, enc(*r.ps));
  put(w, 7, r.cr_errno);
  if (r.features) w.message(8, enc(*r.features));
  put(w, 9, r.cr_errmsg);
  if (r.version) w.message(10, enc(*r.version));
  put(w, 11, r.status);
  return w.take();
}

// ---------------------------------------------------------------------------------------------
// Decoding. Unknown fields are skipped; a required field that is missing is an error, as
// protobuf-c (criu's side) makes it.

namespace {

PageServerInfo dec_ps(Reader r) {
  PageServerInfo p;
  while (r.next()) {
    switch (r.field().number) {
      case 1: p.address = r.string(); break;
      case 2: p.port = r.int32(); break;
      case 3: p.pid = r.int32(); break;
      case 4: p.fd = r.int32(); break;
      default: break;
    }
  }
  return p;
}

ExtMountMap dec_ext_mnt(Reader r) {
  std::optional<std::string> key, val;
  while (r.next()) {
    switch (r.field().number) {
      case 1: key = r.string(); break;
      case 2: val = r.string(); break;
      default: break;
    }
  }
  if (!key) wire::missing_required(r, "key");
  if (!val) wire::missing_required(r, "val");
  return ExtMountMap{.key = std::move(*key), .val = std::move(*val)};
}

CgroupRoot dec_cg_root(Reader r) {
  CgroupRoot c;
  bool has_path = false;
  while (r.next()) {
    switch (r.field().number) {
      case 1: c.ctrl = r.string(); break;
      case 2: c.path = r.string(), has_path = true; break;
      default: break;
    }
  }
  if (!has_path) wire::missing_required(r, "path");
  return c;
}

InheritFd dec_inherit_fd(Reader r) {
  std::optional<std::string> key;
  std::optional<std::int32_t> fd;
  while (r.next()) {
    switch (r.field().number) {
      case 1: key = r.string(); break;
      case 2: fd = r.int32(); break;
      default: break;
    }
  }
  if (!key) wire::missing_required(r, "key");
  if (!fd) wire::missing_required(r, "fd");
  return InheritFd{.key = std::move(*key), .fd = *fd};
}

JoinNamespace dec_join_ns(Reader r) {
  std::optional<std::string> ns, ns_file;
  JoinNamespace j;
  while (r.next()) {
    switch (r.field().number) {
      case 1: ns = r.string(); break;
      case 2: ns_file = r.string(); break;
      case 3: j.extra_opt = r.string(); break;
      default: break;
    }
  }
  if (!ns) wire::missing_required(r, "ns");
  if (!ns_file) wire::missing_required(r, "ns_file");
  j.ns = std::move(*ns);
  j.ns_file = std::move(*ns_file);
  return j;
}

Features dec_features(Reader r) {
  Features f;
  while (r.next()) {
    switch (r.field().number) {
      case 1: f.mem_track = r.boolean(); break;
      case 2: f.lazy_pages = r.boolean(); break;
      case 3: f.pidfd_store = r.boolean(); break;
      default: break;
    }
  }
  return f;
}

Notify dec_notify(Reader r) {
  Notify n;
  while (r.next()) {
    switch (r.field().number) {
      case 1: n.script = r.string(); break;
      case 2: n.pid = r.int32(); break;
      default: break;
    }
  }
  return n;
}

Version dec_version(Reader r) {
  Version v;
  bool has_major = false, has_minor = false;
  while (r.next()) {
    switch (r.field().number) {
      case 1: v.major_number = r.int32(), has_major = true; break;
      case 2: v.minor_number = r.int32(), has_minor = true; break;
      case 3: v.gitid = r.string(); break;
      case 4: v.sublevel = r.int32(); break;
      case 5: v.extra = r.int32(); break;
      case 6: v.name = r.string(); break;
      default: break;
    }
  }
  if (!has_major) wire::missing_required(r, "major_number");
  if (!has_minor) wire::missing_required(r, "minor_number");
  return v;
}

Opts dec_opts(Reader r) {
  Opts o;
  bool has_images_dir_fd = false;
  while (r.next()) {
    switch (r.field().number) {
      case 1: o.images_dir_fd = r.int32(), has_images_dir_fd = true; break;
      case 2: o.pid = r.int32(); break;
      case 3: o.leave_running = r.boolean(); break;
      case 4: o.ext_unix_sk = r.boolean(); break;
      case 5: o.tcp_established = r.boolean(); break;
      case 6: o.evasive_devices = r.boolean(); break;
      case 7: o.shell_job = r.boolean(); break;
      case 8: o.file_locks = r.boolean(); break;
      case 9: o.log_level = r.int32(); break;
      case 10: o.log_file = r.string(); break;
      case 11: o.ps = dec_ps(r.message("ps")); break;
      case 12: o.notify_scripts = r.boolean(); break;
      case 13: o.root = r.string(); break;
      case 14: o.parent_img = r.string(); break;
      case 15: o.track_mem = r.boolean(); break;
      case 16: o.auto_dedup = r.boolean(); break;
      case 17: o.work_dir_fd = r.int32(); break;
      case 18: o.link_remap = r.boolean(); break;
      case 23: o.ext_mnt.push_back(dec_ext_mnt(r.message("ext_mnt"))); break;
      case 24: o.manage_cgroups = r.boolean(); break;
      case 25: o.cg_root.push_back(dec_cg_root(r.message("cg_root"))); break;
      case 26: o.rst_sibling = r.boolean(); break;
      case 27: o.inherit_fd.push_back(dec_inherit_fd(r.message("inherit_fd"))); break;
      case 28: o.auto_ext_mnt = r.boolean(); break;
      case 29: o.ext_sharing = r.boolean(); break;
      case 30: o.ext_masters = r.boolean(); break;
      case 31: o.skip_mnt.push_back(r.string()); break;
      case 32: o.enable_fs.push_back(r.string()); break;
      case 34: o.manage_cgroups_mode = static_cast<CgMode>(r.int32()); break;
      case 37: o.external.push_back(r.string()); break;
      case 38: o.empty_ns = r.uint32(); break;
      case 39: o.join_ns.push_back(dec_join_ns(r.message("join_ns"))); break;
      case 44: o.freeze_cgroup = r.string(); break;
      case 45: o.timeout = r.uint32(); break;
      case 48: o.lazy_pages = r.boolean(); break;
      case 49: o.status_fd = r.int32(); break;
      case 50: o.orphan_pts_master = r.boolean(); break;
      case 51: o.config_file = r.string(); break;
      case 53: o.lsm_profile = r.string(); break;
      case 63: o.lsm_mount_context = r.string(); break;
      default: break;
    }
  }
  if (!has_images_dir_fd) wire::missing_required(r, "images_dir_fd");
  return o;
}

}  // namespace

Req decode_req(std::string_view bytes) {
  Reader r(bytes, "criu_req");
  Req q;
  bool has_type = false;
  while (r.next()) {
    switch (r.field().number) {
      case 1: q.type = static_cast<ReqType>(r.int32()), has_type = true; break;
      case 2: q.opts = dec_opts(r.message("opts")); break;
      case 3: q.notify_success = r.boolean(); break;
      case 4: q.keep_open = r.boolean(); break;
      case 5: q.features = dec_features(r.message("features")); break;
      case 6: q.pid = r.uint32(); break;
      default: break;
    }
  }
  if (!has_type) wire::missing_required(r, "type");
  return q;
}

Resp decode_resp(std::string_view bytes) {
  Reader r(bytes, "criu_resp");
  Resp p;
  bool has_type = false, has_success = false;
  while (r.next()) {
    switch (r.field().number) {
      case 1: p.type = static_cast<ReqType>(r.int32()), has_type = true; break;
      case 2: p.success = r.boolean(), has_success = true; break;
      case 3: {
        Reader d = r.message("dump");
        while (d.next())
          if (d.field().number == 1) p.dump_restored = d.boolean();
        break;
      }
      case 4: {
        Reader d = r.message("restore");
        std::optional<std::int32_t> pid;
        while (d.next())
          if (d.field().number == 1) pid = d.int32();
        if (!pid) wire::missing_required(d, "pid");
        p.restore_pid = pid;
        break;
      }
      case 5: p.notify = dec_notify(r.message("notify")); break;
      case 6: p.ps = dec_ps(r.message("ps")); break;
      case 7: p.cr_errno = r.int32(); break;
      case 8: p.features = dec_features(r.message("features")); break;
      case 9: p.cr_errmsg = r.string(); break;
      case 10: p.version = dec_version(r.message("version")); break;
      case 11: p.status = r.int32(); break;
      default: break;
    }
  }
  if (!has_type) wire::missing_required(r, "type");
  if (!has_success) wire::missing_required(r, "success");
  return p;
}

// ---------------------------------------------------------------------------------------------
// The criu swrk process.

namespace {

// One criu message is one SOCK_SEQPACKET packet; criu's own limit (CR_MAX_MSG_SIZE) is 1 KiB
// for requests, and its responses are small: 64 KiB leaves room for long error messages.
constexpr size_t kMaxMessage = 64 * 1024;

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// `binary` as rpc.hpp describes it: a path is used as it is (a missing one fails in spawn,
// naming it), a bare name is looked up.
std::string find_criu(const std::string& binary) {
  std::string want = binary;
  if (want.empty()) {
    const char* env = std::getenv("BERTH_CRIU");
    want = env != nullptr && *env != '\0' ? env : "criu";
  }
  if (want.find('/') != std::string::npos) return want;
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (true) {
      const size_t colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  // criu lives in /usr/sbin, which a non-login root shell or a daemon's PATH may leave out.
  dirs.emplace_back("/usr/sbin");
  dirs.emplace_back("/sbin");
  for (const auto& d : dirs) {
    std::string candidate = d + "/" + want;
    if (executable(candidate)) return candidate;
  }
  throw Error(fmt::format("{}: not found in PATH (install criu)", want));
}

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnActions {
  posix_spawn_file_actions_t fa;
  SpawnActions() { ::posix_spawn_file_actions_init(&fa); }
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&fa); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
};
struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { ::posix_spawnattr_init(&attr); }
  ~SpawnAttr() { ::posix_spawnattr_destroy(&attr); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
};

void check_spawn(int rc, std::string_view what) {
  if (rc != 0) throw Error(fmt::format("criu: posix_spawn {}", what), rc);
}

}  // namespace

Swrk Swrk::start(const SwrkFds& fds, const std::string& criu_binary) {
  std::string binary = find_criu(criu_binary);
  auto [ours, theirs] = sys::socketpair(AF_UNIX, SOCK_SEQPACKET);

  // The child's table: 0-2 stdio, 3 the socket, 4.. extra_fds. The dup2 actions run in order,
  // so a source whose number is another action's target (say extra_fds = {5, 4}) would be
  // overwritten before it is read. Every source is first copied above all targets; the
  // copies are close-on-exec, and dup2 clears that flag on each target.
  const int first_free = std::max(10, 4 + static_cast<int>(fds.extra_fds.size()));
  std::vector<sys::Fd> copies;  // closed in the parent once the child has been spawned
  auto copy = [&](int fd, std::string_view what) {
    const int n = ::fcntl(fd, F_DUPFD_CLOEXEC, first_free);
    if (n < 0) throw_errno(fmt::format("criu: duplicate {} (fd {})", what, fd));
    copies.emplace_back(n);
    return n;
  };

  SpawnActions actions;
  for (int i = 0; i < 3; ++i)
    if (fds.stdio[static_cast<size_t>(i)] >= 0)
      check_spawn(::posix_spawn_file_actions_adddup2(&actions.fa, copy(fds.stdio[static_cast<size_t>(i)], "stdio"), i), "dup2");
  check_spawn(::posix_spawn_file_actions_adddup2(&actions.fa, copy(theirs.get(), "socket"), 3), "dup2");
  for (size_t k = 0; k < fds.extra_fds.size(); ++k)
    check_spawn(::posix_spawn_file_actions_adddup2(&actions.fa, copy(fds.extra_fds[k], "extra fd"), 4 + static_cast<int>(k)), "dup2");
  // Nothing else of berth's reaches criu: an fd opened without O_CLOEXEC would stay open in
  // criu as long as it runs (a pipe's write end held there keeps its reader from seeing EOF).
  check_spawn(::posix_spawn_file_actions_addclosefrom_np(&actions.fa, 4 + static_cast<int>(fds.extra_fds.size())), "closefrom");

  // criu handles signals itself (SIGCHLD from the tasks it restores): it must not inherit
  // berth's blocked or ignored ones (the signal proxy blocks several).
  SpawnAttr attr;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  check_spawn(::posix_spawnattr_setsigmask(&attr.attr, &none), "sigmask");
  check_spawn(::posix_spawnattr_setsigdefault(&attr.attr, &all), "sigdefault");
  check_spawn(::posix_spawnattr_setflags(&attr.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF), "flags");

  std::string arg0 = binary, arg1 = "swrk", arg2 = "3";
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, binary.c_str(), &actions.fa, &attr.attr, argv, environ);
  if (rc != 0) throw Error(fmt::format("criu: spawn `{}`", binary), rc);
  return Swrk(pid, std::move(ours), std::move(binary));
}

Swrk::Swrk(Swrk&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      sock_(std::move(o.sock_)),
      binary_(std::move(o.binary_)),
      wstatus_(std::exchange(o.wstatus_, -1)) {}

Swrk::~Swrk() {
  sock_.reset();
  if (pid_ <= 0 || wstatus_ != -1) return;
  // criu exits by itself once its socket is closed; give it a moment to clean up (it may be
  // unfreezing the tasks of a failed dump) before killing it.
  int status;
  for (int i = 0; i < 200; ++i) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

int Swrk::finish() {
  if (wstatus_ != -1) return wstatus_;
  if (pid_ <= 0) throw Error("criu: finish on a moved-from process");
  sock_.reset();
  wstatus_ = sys::waitpid(pid_);
  return wstatus_;
}

Resp Swrk::call(const Req& req, const NotifyHandler& on_notify) {
  if (!sock_.valid()) throw Error(fmt::format("criu: {} after the socket was closed", name(req.type)));
  // Reaps criu, which has closed its end without answering.
  auto died = [&]() -> Error {
    if (wstatus_ == -1) wstatus_ = sys::waitpid(pid_);
    return Error(fmt::format("criu exited with status {} before answering {}", sys::exit_status(wstatus_), name(req.type)));
  };
  auto send = [&](const Req& r) {
    const std::string bytes = encode(r);
    ssize_t n;
    do n = ::send(sock_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) throw died();
    if (n < 0) throw_errno(fmt::format("criu: send {}", name(r.type)));
  };

  send(req);
  // A handler that threw: criu has been told (notify_success=false) and is given the chance to
  // undo what it did and answer before the handler's exception is rethrown.
  std::exception_ptr handler_error;
  std::string buf(kMaxMessage, '\0');
  for (;;) {
    sys::Fd fd;
    const ssize_t n = sys::recv_with_fd(sock_.get(), buf.data(), buf.size(), &fd);
    if (n < 0) {
      if (errno == ECONNRESET) {
        if (handler_error) std::rethrow_exception(handler_error);
        throw died();
      }
      throw_errno(fmt::format("criu: receive the answer to {}", name(req.type)));
    }
    if (n == 0) {
      if (handler_error) std::rethrow_exception(handler_error);
      throw died();
    }
    Resp resp = with_context(fmt::format("criu: answer to {}", name(req.type)),
                             [&] { return decode_resp(std::string_view(buf.data(), static_cast<size_t>(n))); });
    if (resp.type == ReqType::Notify) {
      bool ok = true;
      if (handler_error) {
        ok = false;  // criu should not go on, but if it does it hears the same answer
      } else if (on_notify) {
        try {
          on_notify(resp.notify.value_or(Notify{}), std::move(fd));
        } catch (...) {
          handler_error = std::current_exception();
          ok = false;
        }
      }
      Req answer{.type = ReqType::Notify, .opts = std::nullopt, .notify_success = ok, .keep_open = std::nullopt,
                 .features = std::nullopt, .pid = std::nullopt};
      try {
        send(answer);
      } catch (...) {
        if (handler_error) std::rethrow_exception(handler_error);
        throw;
      }
      continue;
    }
    if (handler_error) std::rethrow_exception(handler_error);
    // criu answers a request it could not even start (a malformed or unknown one) with type
    // EMPTY and success=false: that is still its answer, with cr_errmsg saying why.
    if (resp.type != req.type && resp.success)
      throw Error(fmt::format("criu: answered {} with {}", name(req.type), name(resp.type)));
    return resp;
  }
}

// ---------------------------------------------------------------------------------------------
// Convenience calls.

namespace {

Req request(ReqType type) {
  return Req{.type = type, .opts = std::nullopt, .notify_success = std::nullopt, .keep_open = std::nullopt,
             .features = std::nullopt, .pid = std::nullopt};
}

}  // namespace

Version version(const std::string& binary) {
  Swrk criu = Swrk::start({}, binary);
  const Resp resp = criu.call(request(ReqType::Version));
  criu.finish();  // its status says nothing more than the answer did
  // criu before 3.0 did not know VERSION and answers with an error.
  if (!resp.success || !resp.version)
    throw Error(fmt::format("criu `{}`: VERSION failed ({}): criu 3.0 or newer is needed", criu.binary(),
                            resp.cr_errmsg.value_or("no version in the answer")));
  return *resp.version;
}

std::optional<std::string> check(const std::string& work_dir, const std::string& binary) {
  // criu reaches the dir through /proc/<our pid>/fd/N, which an O_PATH fd does not allow.
  sys::Fd dir = sys::openat(AT_FDCWD, work_dir, O_RDONLY | O_DIRECTORY);
  Opts opts;
  opts.images_dir_fd = dir.get();
  opts.work_dir_fd = dir.get();
  opts.log_file = "check.log";
  opts.log_level = 4;
  Req req = request(ReqType::Check);
  req.opts = std::move(opts);
  // criu prints "Looks good." (and its errors) on stdout and stderr too: berth's are the
  // caller's, and the answer and the log say it all.
  const sys::Fd null = sys::openat(AT_FDCWD, "/dev/null", O_RDWR);
  SwrkFds fds;
  fds.stdio = {null.get(), null.get(), null.get()};
  Swrk criu = Swrk::start(fds, binary);
  const Resp resp = criu.call(req);
  criu.finish();
  if (resp.success) return std::nullopt;
  std::string why = first_log_errors(dir.get(), "check.log");
  if (why.empty() && resp.cr_errmsg && !resp.cr_errmsg->empty()) why = *resp.cr_errmsg;
  if (why.empty()) why = "criu check failed";
  return why;
}

Features feature_check(const Features& ask, const std::string& binary) {
  Req req = request(ReqType::FeatureCheck);
  req.features = ask;
  Swrk criu = Swrk::start({}, binary);
  const Resp resp = criu.call(req);
  criu.finish();
  if (!resp.success)
    throw Error(fmt::format("criu: FEATURE_CHECK failed: {}", resp.cr_errmsg.value_or("no reason given")),
                resp.cr_errno.value_or(0));
  return resp.features.value_or(Features{});
}

std::string first_log_errors(int dirfd, const std::string& log_name, int max_lines) {
  std::optional<std::string> text;
  try {
    text = sys::try_read_file(dirfd, log_name);
  } catch (const Error&) {
    return {};
  }
  if (!text) return {};
  std::string out;
  int found = 0;
  std::string_view rest(*text);
  while (!rest.empty() && found < max_lines) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    // criu's format: "(00.012345) Error (criu/kerndat.c:1234): what went wrong". The
    // timestamp and the source location mean nothing to a user; the text after them does.
    const size_t at = line.find("Error");
    if (at == std::string_view::npos) continue;
    std::string_view what = line.substr(at);
    if (what.starts_with("Error (")) {
      const size_t close = what.find("): ");
      if (close != std::string_view::npos) what.remove_prefix(close + 3);
    } else if (line.starts_with("(")) {
      const size_t close = line.find(") ");
      if (close != std::string_view::npos) what = line.substr(close + 2);
    }
    while (!what.empty() && (what.back() == ' ' || what.back() == '\r' || what.back() == '\t')) what.remove_suffix(1);
    while (!what.empty() && what.front() == ' ') what.remove_prefix(1);
    if (what.empty()) continue;
    if (!out.empty()) out += "; ";
    out += what;
    ++found;
  }
  return out;
}

}  // namespace berth::criu
