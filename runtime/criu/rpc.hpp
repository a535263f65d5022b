// CRIU's RPC protocol (criu swrk): the request, options and response messages of CRIU's own
// rpc.proto (3.17, images/rpc.proto; /usr/include/criu/rpc.proto) as typed structs, their
// protobuf encoding, and one CRIU service process driven over a SOCK_SEQPACKET pair.
//
// Why not libcriu or protobuf-c: neither is on the design card, and the part of the protocol
// berth needs is a few flat messages; runtime/criu/wire.hpp encodes them byte for byte as
// protoc would. Field names follow rpc.proto so a reader can check them against it.
//
//   criu::Swrk criu = criu::Swrk::start({});
//   criu::Req req{.type = criu::ReqType::Dump, .opts = opts};
//   criu::Resp resp = criu.call(req, [](const criu::Notify& n, sys::Fd fd) { ... });
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/fd.hpp"

namespace berth::criu {

enum class ReqType : std::int32_t {
  Empty = 0,
  Dump = 1,
  Restore = 2,
  Check = 3,
  PreDump = 4,
  PageServer = 5,
  Notify = 6,
  CpuinfoDump = 7,
  CpuinfoCheck = 8,
  FeatureCheck = 9,
  Version = 10,
  WaitPid = 11,
  PageServerChld = 12,
  SinglePreDump = 13,
};
std::string_view name(ReqType t);

enum class CgMode : std::int32_t { Ignore = 0, None = 1, Props = 2, Soft = 3, Full = 4, Strict = 5, Default = 6 };

struct PageServerInfo {
  std::optional<std::string> address;  // 1
  std::optional<std::int32_t> port;    // 2
  std::optional<std::int32_t> pid;     // 3
  std::optional<std::int32_t> fd;      // 4
};

struct ExtMountMap {  // deprecated in favour of `external`, still what runc sends
  std::string key;  // 1
  std::string val;  // 2
};

struct JoinNamespace {
  std::string ns;                          // 1
  std::string ns_file;                     // 2
  std::optional<std::string> extra_opt;    // 3
};

struct InheritFd {
  std::string key;   // 1: e.g. "pipe:[1234]" or "extRootNetNS"
  std::int32_t fd;   // 2: the fd number in criu's own table
};

struct CgroupRoot {
  std::optional<std::string> ctrl;  // 1
  std::string path;                 // 2
};

// criu_opts. Unset optionals are not sent (CRIU then uses its defaults).
struct Opts {
  std::int32_t images_dir_fd = -1;                 // 1 (required): an fd of the *caller*
  std::optional<std::int32_t> pid;                 // 2
  std::optional<bool> leave_running;               // 3
  std::optional<bool> ext_unix_sk;                 // 4
  std::optional<bool> tcp_established;             // 5
  std::optional<bool> evasive_devices;             // 6
  std::optional<bool> shell_job;                   // 7
  std::optional<bool> file_locks;                  // 8
  std::optional<std::int32_t> log_level;           // 9
  std::optional<std::string> log_file;             // 10: a name inside the work dir
  std::optional<PageServerInfo> ps;                // 11
  std::optional<bool> notify_scripts;              // 12
  std::optional<std::string> root;                 // 13
  std::optional<std::string> parent_img;           // 14
  std::optional<bool> track_mem;                   // 15
  std::optional<bool> auto_dedup;                  // 16
  std::optional<std::int32_t> work_dir_fd;         // 17: an fd of the caller
  std::optional<bool> link_remap;                  // 18
  std::optional<bool> manage_cgroups;              // 24
  std::vector<ExtMountMap> ext_mnt;                // 23
  std::vector<CgroupRoot> cg_root;                 // 25
  std::optional<bool> rst_sibling;                 // 26
  std::vector<InheritFd> inherit_fd;               // 27
  std::optional<bool> auto_ext_mnt;                // 28
  std::optional<bool> ext_sharing;                 // 29
  std::optional<bool> ext_masters;                 // 30
  std::vector<std::string> skip_mnt;               // 31
  std::vector<std::string> enable_fs;              // 32
  std::optional<CgMode> manage_cgroups_mode;       // 34
  std::vector<std::string> external;               // 37
  std::optional<std::uint32_t> empty_ns;           // 38: CLONE_NEW* flags
  std::vector<JoinNamespace> join_ns;              // 39
  std::optional<std::string> freeze_cgroup;        // 44
  std::optional<std::uint32_t> timeout;            // 45
  std::optional<bool> lazy_pages;                  // 48
  std::optional<std::int32_t> status_fd;           // 49: an fd of the caller
  std::optional<bool> orphan_pts_master;           // 50
  std::optional<std::string> config_file;          // 51
  std::optional<std::string> lsm_profile;          // 53
  std::optional<std::string> lsm_mount_context;    // 63
};

struct Features {
  std::optional<bool> mem_track;    // 1
  std::optional<bool> lazy_pages;   // 2
  std::optional<bool> pidfd_store;  // 3
};

struct Req {
  ReqType type = ReqType::Empty;        // 1 (required)
  std::optional<Opts> opts;             // 2
  std::optional<bool> notify_success;   // 3
  std::optional<bool> keep_open;        // 4
  std::optional<Features> features;     // 5
  std::optional<std::uint32_t> pid;     // 6
};

struct Notify {
  std::optional<std::string> script;  // 1: "post-dump", "setup-namespaces", "post-restore", ...
  std::optional<std::int32_t> pid;    // 2
};

struct Version {
  std::int32_t major_number = 0;        // 1
  std::int32_t minor_number = 0;        // 2
  std::optional<std::string> gitid;     // 3
  std::optional<std::int32_t> sublevel; // 4
  std::optional<std::int32_t> extra;    // 5
  std::optional<std::string> name;      // 6
  // 31702 for 3.17.2, as runc's criu version check compares.
  int number() const { return major_number * 10000 + minor_number * 100 + sublevel.value_or(0); }
};

struct Resp {
  ReqType type = ReqType::Empty;             // 1
  bool success = false;                      // 2
  std::optional<bool> dump_restored;         // 3: criu_dump_resp.restored
  std::optional<std::int32_t> restore_pid;   // 4: criu_restore_resp.pid
  std::optional<Notify> notify;              // 5
  std::optional<PageServerInfo> ps;          // 6
  std::optional<std::int32_t> cr_errno;      // 7
  std::optional<Features> features;          // 8
  std::optional<std::string> cr_errmsg;      // 9
  std::optional<Version> version;            // 10
  std::optional<std::int32_t> status;        // 11
};

// protobuf encoding and decoding. decode_* throw berth::Error naming the message and the byte
// offset of what is malformed; unknown fields are skipped, as protobuf does.
std::string encode(const Req& r);
std::string encode(const Resp& r);  // what a (fake) criu sends: for tests
Req decode_req(std::string_view bytes);
Resp decode_resp(std::string_view bytes);

// Called for each NOTIFY message criu sends during a call, with the fd that came with it
// (SCM_RIGHTS; e.g. the pty master for "orphan-pts-master"), if any. Throwing makes the call
// answer criu with success=false (criu then aborts the operation) and rethrows afterwards.
using NotifyHandler = std::function<void(const Notify& n, sys::Fd fd)>;

// What `criu swrk` gets besides its socket: stdio[i] becomes its fd i (-1: berth's own fd i is
// inherited), extra_fds[k] becomes fd 4+k. The socket is fd 3.
struct SwrkFds {
  std::array<int, 3> stdio{-1, -1, -1};
  std::vector<int> extra_fds;
};

// One `criu swrk 3` process. `binary` is the global --criu: a path, or a name looked up in PATH
// (then /usr/sbin, /sbin); "" means $BERTH_CRIU when set, else "criu". Spawned with
// posix_spawn, so no code of ours runs in the child.
class Swrk {
 public:
  // Throws "criu: not found in PATH (install criu)" or the spawn error.
  static Swrk start(const SwrkFds& fds, const std::string& binary = {});
  // Takes over a criu (or a test's fake one) already running as `pid` and speaking on `sock`;
  // it is then reaped like one start() spawned.
  static Swrk adopt(pid_t pid, sys::Fd sock, std::string binary) { return Swrk(pid, std::move(sock), std::move(binary)); }
  Swrk(Swrk&&) noexcept;
  Swrk& operator=(Swrk&&) = delete;
  ~Swrk();  // closes the socket and reaps criu (SIGKILL if it has not exited)

  pid_t pid() const { return pid_; }
  const std::string& binary() const { return binary_; }

  // Sends req, answers every NOTIFY (see NotifyHandler) and returns the final response (of
  // req.type). A response with success=false is returned, not thrown: callers add the log
  // path. Throws when criu dies or closes the socket before answering ("criu exited with
  // status N before answering DUMP").
  Resp call(const Req& req, const NotifyHandler& on_notify = {});

  // Closes the socket and waits for criu to exit; returns its waitpid status. Once.
  int finish();

 private:
  Swrk(pid_t pid, sys::Fd sock, std::string binary) : pid_(pid), sock_(std::move(sock)), binary_(std::move(binary)) {}
  pid_t pid_ = -1;
  sys::Fd sock_;
  std::string binary_;
  int wstatus_ = -1;  // criu's waitpid status, once reaped (pid_ is then no longer ours to wait for)
};

// Convenience calls, each on its own criu process.
// VERSION: criu's version (throws when criu is missing or too old to answer VERSION).
Version version(const std::string& binary = {});
// CHECK: whether criu works on this kernel. On failure returns the reason: the first error
// lines of criu's log (e.g. "vdso: Unexpected rt vDSO area bounds"), else cr_errmsg.
// `work_dir` receives the log (criu needs an images dir even for CHECK).
std::optional<std::string> check(const std::string& work_dir, const std::string& binary = {});
// FEATURE_CHECK for the features asked (set to true); returns what criu reports.
Features feature_check(const Features& ask, const std::string& binary = {});

// The first lines of a criu log that say "Error" (criu's own words for what failed), at most
// `max_lines`, joined with "; ". Empty when the log has none or cannot be read.
std::string first_log_errors(int dirfd, const std::string& log_name, int max_lines = 3);

}  // namespace berth::criu
