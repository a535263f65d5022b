// berth restore: restores a container from a CRIU checkpoint (runc restore).
#include <string>
#include <vector>

#include "cmd/commands.hpp"

namespace berth::cmd {

const CommandInfo kRestoreCommand{
    .name = "restore",
    .summary = "restore a container from a previous checkpoint",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container to be
restored.

Restores the saved state of the container instance that was previously saved
using the berth checkpoint command.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct RestoreArgs {
  std::string id;
  std::string console_socket;
  std::string image_path;  // empty: <cwd>/checkpoint, as runc
  std::string work_path;
  bool tcp_established = false;
  bool ext_unix_sk = false;
  bool shell_job = false;
  bool file_locks = false;
  std::string manage_cgroups_mode;  // empty: soft
  std::string bundle;               // empty: the current directory
  bool detach = false;
  std::string pid_file;
  bool no_subreaper = false;
  bool no_pivot = false;
  std::vector<std::string> empty_ns;
  bool auto_dedup = false;
  bool lazy_pages = false;
  std::string lsm_profile;  // TYPE:NAME
  std::string lsm_mount_context;
};

}  // namespace

int cmd_restore([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  RestoreArgs a;
  po::options_description flags;
  flags.add_options()
      ("console-socket", po::value(&a.console_socket),
       "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the "
       "console's pseudoterminal")
      ("image-path", po::value(&a.image_path), "path to criu image files for restoring")
      ("work-path", po::value(&a.work_path), "path for saving work files and logs")
      ("tcp-established", flag(&a.tcp_established), "allow open tcp connections")
      ("ext-unix-sk", flag(&a.ext_unix_sk), "allow external unix sockets")
      ("shell-job", flag(&a.shell_job), "allow shell jobs")
      ("file-locks", flag(&a.file_locks), "handle file locks, for safety")
      ("manage-cgroups-mode", po::value(&a.manage_cgroups_mode),
       "cgroups mode: 'soft' (default), 'full' and 'strict'")
      ("bundle,b", po::value(&a.bundle), "path to the root of the bundle directory")
      ("detach,d", flag(&a.detach), "detach from the container's process")
      ("pid-file", po::value(&a.pid_file), "specify the file to write the process id to")
      ("no-subreaper", flag(&a.no_subreaper), "disable the use of the subreaper used to reap reparented processes")
      ("no-pivot", flag(&a.no_pivot),
       "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on "
       "top of a ramdisk")
      ("empty-ns", po::value(&a.empty_ns)->composing(), "create a namespace, but don't restore its properties")
      ("auto-dedup", flag(&a.auto_dedup), "enable auto deduplication of memory images")
      ("lazy-pages", flag(&a.lazy_pages), "use userfaultfd to lazily restore memory pages")
      ("lsm-profile", po::value(&a.lsm_profile),
       "Specify an LSM profile to be used during restore in the form of TYPE:NAME.")
      ("lsm-mount-context", po::value(&a.lsm_mount_context),
       "Specify an LSM mount context to be used during restore.");
  const auto positional = parse_command(kRestoreCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  not_implemented(kCriuIssue);
}

}  // namespace berth::cmd
