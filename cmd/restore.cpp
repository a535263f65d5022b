// berth restore: restores a container from a CRIU checkpoint (runc restore).
#include <sys/prctl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/create_flags.hpp"
#include "cmd/foreground.hpp"
#include "runtime/container.hpp"
#include "runtime/sys/error.hpp"

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
  RestoreOptions o;
  CreateFlags f;
  bool detach = false;
  bool no_subreaper = false;
};

}  // namespace

int cmd_restore(const GlobalOptions& global, const std::vector<std::string>& args) {
  RestoreArgs a;
  po::options_description flags;
  flags.add_options()
      ("console-socket", po::value(&a.f.console_socket),
       "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the "
       "console's pseudoterminal")
      ("image-path", po::value(&a.o.criu.image_path), "path to criu image files for restoring")
      ("work-path", po::value(&a.o.criu.work_path), "path for saving work files and logs")
      ("tcp-established", flag(&a.o.criu.tcp_established), "allow open tcp connections")
      ("ext-unix-sk", flag(&a.o.criu.ext_unix_sk), "allow external unix sockets")
      ("shell-job", flag(&a.o.criu.shell_job), "allow shell jobs")
      ("file-locks", flag(&a.o.criu.file_locks), "handle file locks, for safety")
      ("manage-cgroups-mode", po::value(&a.o.criu.manage_cgroups_mode),
       "cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'")
      ("bundle,b", po::value(&a.f.bundle), "path to the root of the bundle directory")
      ("detach,d", flag(&a.detach), "detach from the container's process")
      ("pid-file", po::value(&a.f.pid_file), "specify the file to write the process id to")
      ("no-subreaper", flag(&a.no_subreaper), "disable the use of the subreaper used to reap reparented processes")
      ("no-pivot", flag(&a.f.no_pivot),
       "accepted as runc's (containerd passes it when the container was created with it); CRIU sets up the "
       "restored root itself")
      ("empty-ns", po::value(&a.o.criu.empty_ns)->composing(),
       "create a namespace, but don't restore its properties (network always is)")
      ("auto-dedup", flag(&a.o.criu.auto_dedup), "enable auto deduplication of memory images")
      ("lazy-pages", flag(&a.o.criu.lazy_pages), "use userfaultfd to lazily restore memory pages")
      ("lsm-profile", po::value(&a.o.lsm_profile),
       "Specify an LSM profile to be used during restore in the form of TYPE:NAME.")
      ("lsm-mount-context", po::value(&a.o.lsm_mount_context),
       "Specify an LSM mount context to be used during restore.");
  const auto positional = parse_command(kRestoreCommand, flags, args);
  if (!positional) return 0;
  const std::string id = (*positional)[0];
  if (a.o.criu.image_path.empty()) a.o.criu.image_path = current_dir() + "/checkpoint";  // runc's default
  a.o.criu.criu = global.criu;
  a.o.create = create_options(global, id, a.f);
  // A terminal without a console socket: relayed by us, as `berth run`.
  a.o.create.terminal_to_caller = !a.detach && a.f.console_socket.empty();
  // Processes the container leaves behind (no pid namespace) are reparented to us and reaped.
  if (!a.no_subreaper && !a.detach && ::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) throw_errno("prctl PR_SET_CHILD_SUBREAPER");
  Factory factory(global.root);
  Container c = factory.restore(a.o);
  if (a.detach) return 0;
  return run_in_foreground(c, {}, /*keep=*/false);
}

}  // namespace berth::cmd
