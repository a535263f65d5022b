// berth's library API, in the spirit of runc's libcontainer: a Factory rooted at the state
// directory creates and loads Containers; a Container reports its state, starts its process,
// is signalled and destroyed. The CLI (cmd/) only parses flags and calls these.
//
//   berth::Factory f("/run/berth");
//   berth::Container c = f.create({.id = "demo", .bundle = "/tmp/bundle"});
//   c.start();
//   int status = c.wait();        // only in the process that created it
//   c.destroy(false);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "oci/spec.hpp"
#include "oci/state.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/cgroups/stats.hpp"
#include "runtime/state_store.hpp"
#include "runtime/sys/fd.hpp"

namespace berth {

// --rootless, runc's tri-state: whether cgroup permission errors are ignored (the container
// then runs without a cgroup, unless its config asks for limits).
enum class Rootless { Auto, True, False };

// Resolves Auto as runc's shouldUseRootlessCgroupManager: rootless when the effective uid is
// not 0, or when running in a user namespace other than the initial one (root inside
// `unshare -U`). True and False are returned as given.
bool rootless_cgroups(Rootless r);

struct CreateOptions {
  std::string id;
  std::string bundle;          // default: the current directory
  std::string console_socket;  // AF_UNIX socket that receives the pty master (terminal: true)
  // terminal: true without a console socket: the caller (foreground `berth run`) takes the pty
  // master with Container::take_terminal() and relays it.
  bool terminal_to_caller = false;
  std::string pid_file;        // written with the container's pid once created
  bool no_pivot = false;       // MS_MOVE + chroot instead of pivot_root
  bool no_new_keyring = false;
  // Socket activation (systemd's LISTEN_FDS): fds 3 .. 3+N-1 pass through, and the process gets
  // LISTEN_FDS=N and LISTEN_PID=1 in its environment, as runc does.
  int listen_fds = 0;
  // The caller's NOTIFY_SOCKET: the container gets its own at /run/notify/notify.sock, whose
  // READY=1 start() forwards there (runtime/notify_socket.hpp).
  std::string notify_socket;
  int preserve_fds = 0;        // the next N fds (after listen_fds) pass through too
  // linux.cgroupsPath is systemd's "slice:prefix:name" and the cgroup is a transient scope made
  // through systemd's D-Bus API (runc's --systemd-cgroup).
  bool systemd_cgroup = false;
  // Rootless cgroups (see rootless_cgroups()): no cgroup is used when the caller may not make
  // one and the config asks for no limits; a writable (delegated) cgroup is used as usual.
  Rootless rootless = Rootless::Auto;
};

// `berth exec`: one more process in a running container.
struct ExecOptions {
  oci::Process process;        // complete: the CLI starts from config() and applies its flags
  std::string console_socket;  // receives the pty master (process.terminal)
  bool terminal_to_caller = false;  // terminal without a console socket: take ExecProcess::pty
  std::string pid_file;        // written with the process's pid once it runs
  int preserve_fds = 0;        // fds 3 .. 3+N-1 pass through
  // --cgroup: "[<controller>[,<controller>]:]<path>", an existing sub-cgroup of the container's
  // (for those controllers, or all).
  std::vector<std::string> sub_cgroups;
  bool ignore_paused = false;  // a paused container is refused unless this is set
};

// What `berth checkpoint` and `berth restore` both tell CRIU (runc's flags; runtime/criu/).
struct CriuOptions {
  std::string criu;        // the criu binary (--criu); "": criu in PATH
  std::string image_path;  // checkpoint: created (0700) when missing
  std::string work_path;   // logs (dump.log, restore.log); default: image_path
  bool tcp_established = false;
  bool ext_unix_sk = false;
  bool shell_job = false;
  bool file_locks = false;
  bool lazy_pages = false;
  bool auto_dedup = false;
  std::string manage_cgroups_mode;    // soft (default), full, strict, ignore
  std::vector<std::string> empty_ns;  // namespace types (network is always empty)
};

struct CheckpointOptions {
  CriuOptions criu;
  std::string parent_path;  // images of a previous pre-dump (relative to image_path, as CRIU takes it)
  bool leave_running = false;
  bool pre_dump = false;    // memory only, the container keeps running
  int status_fd = -1;       // CRIU writes \0 there once lazy pages can be served
  std::string page_server;  // ADDRESS:PORT
};

// `berth restore`: a new container from a checkpoint, then running (create + start in one).
struct RestoreOptions {
  CreateOptions create;  // id, bundle, console socket, pid file, ...
  CriuOptions criu;
  std::string lsm_profile;  // TYPE:NAME, for CRIU to apply instead of the dumped one
  std::string lsm_mount_context;
};

struct ExecProcess {
  pid_t pid = -1;  // host pid; our child (or reparented to us: we are the subreaper)
  sys::Fd pty;     // with terminal_to_caller
};

class Container {
 public:
  const std::string& id() const { return record_.id; }
  pid_t pid() const { return record_.pid; }
  oci::Status status() const;
  // The state document: the spec's fields plus runc's rootfs, created and owner.
  oci::State state() const;

  // The pty master of a container created with terminal_to_caller (invalid otherwise).
  sys::Fd take_terminal() { return std::move(pty_); }

  // Lets the created container's process run (opens exec.fifo), then runs poststart hooks.
  // With `notify_socket` (the caller's NOTIFY_SOCKET) and a container created with one, waits
  // for the container's READY=1 and forwards it there: before returning, or, with
  // `notify_in_background` (foreground run), in a thread that ends when init exits.
  void start(const std::string& notify_socket = {}, bool notify_in_background = false);
  // Sends sig to the container's init; with all, to every process of the container.
  void signal(int sig, bool all = false);
  // The freezer: pause stops every process of the container, resume lets them run again.
  void pause();
  void resume();
  // Writes new limits into the container's cgroup (`berth update`); unset fields stay.
  void update(const oci::LinuxResources& r);
  // Every process of the container (its cgroup), host pids, sorted.
  std::vector<pid_t> processes() const;
  // cgroup statistics and the network interfaces' counters (`berth events --stats`).
  cgroups::Stats stats() const;
  // `berth events`: "stats" every `interval` (zero: none), "oom" each time the kernel's OOM
  // killer acts in the container's cgroup, and "exit" when its init has exited, then returns.
  struct Event {
    std::string type;
    std::optional<cgroups::Stats> stats;
  };
  void watch(std::chrono::milliseconds interval, const std::function<void(const Event&)>& on_event) const;
  // The cgroup directories (empty when the container has none).
  const cgroups::Paths& cgroup_paths() const { return record_.cgroup; }
  // The container's config.json as it was at create.
  oci::Spec config() const;
  // Starts process inside the container: every namespace of its init (user first, mount last),
  // its cgroup, its seccomp filter, and the process's own user, capabilities, rlimits, env and
  // cwd. Returns once the process runs (after execve's last check).
  ExecProcess exec(const ExecOptions& o);
  // Saves the running (or paused) container's processes with CRIU into o.image_path. Unless
  // leave_running or pre_dump, CRIU ends them and the container is then deleted, as runc does.
  // A failed dump leaves the container running and names CRIU's log (and, when CRIU does not
  // work on this kernel, what `criu check` says).
  void checkpoint(const CheckpointOptions& o);
  // Removes the container. A running (or paused) container needs force, which kills it first.
  void destroy(bool force);
  // Waits for the container's init to exit and returns its exit status (128+N for signal N).
  // Only in the process that created the container (it is our child or we are its subreaper).
  int wait();

 private:
  friend class Factory;
  Container(std::string root, ContainerRecord record) : root_(std::move(root)), record_(std::move(record)) {}
  oci::Status status_locked(const StateDir& dir) const;
  std::string root_;
  ContainerRecord record_;
  sys::Fd pty_;
  std::jthread notify_thread_;
};

class Factory {
 public:
  explicit Factory(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  // Sets a container up and leaves its process waiting for start(). On any failure nothing is
  // left behind: no state directory, process, mount or fd.
  Container create(const CreateOptions& opts);
  Container load(const std::string& id) const;
  // Restores a checkpoint as a new, running container (its processes are our children: the
  // caller waits for it as after create + start). Nothing is left behind on failure.
  Container restore(const RestoreOptions& opts);
  // Whether a container (possibly half-created) holds this ID.
  bool exists(const std::string& id) const;
  // Every container under the root, by ID.
  std::vector<Container> list() const;

 private:
  std::string root_;
};

// The state document serialised for hooks' stdin.
std::string state_json(const oci::State& s);

// The error for an operation that needs a live container. Engines match runc's words:
// containerd's shim and conmon take "container not running" as "the process already finished".
Error not_running(std::string_view id);

}  // namespace berth
