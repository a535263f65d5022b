// berth checkpoint: dumps a running container with CRIU (runc checkpoint).
#include <climits>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

const CommandInfo kCheckpointCommand{
    .name = "checkpoint",
    .summary = "checkpoint a running container",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container to be
checkpointed.

The checkpoint command saves the state of the container instance.)",
    .min_args = 1,
    .max_args = 1,
};


int cmd_checkpoint(const GlobalOptions& global, const std::vector<std::string>& args) {
  CheckpointOptions a;
  po::options_description flags;
  flags.add_options()
      ("image-path", po::value(&a.criu.image_path), "path for saving criu image files")
      ("work-path", po::value(&a.criu.work_path), "path for saving work files and logs")
      ("parent-path", po::value(&a.parent_path), "path for previous criu image files in pre-dump")
      ("leave-running", flag(&a.leave_running), "leave the process running after checkpointing")
      ("tcp-established", flag(&a.criu.tcp_established), "allow open tcp connections")
      ("ext-unix-sk", flag(&a.criu.ext_unix_sk), "allow external unix sockets")
      ("shell-job", flag(&a.criu.shell_job), "allow shell jobs")
      ("lazy-pages", flag(&a.criu.lazy_pages), "use userfaultfd to lazily restore memory pages")
      ("status-fd",
       po::value<std::string>()->notifier([&a](const std::string& v) {
         a.status_fd = static_cast<int>(parse_int("status-fd", v, -1, INT_MAX));
       }),
       "criu writes \\0 to this FD once lazy-pages is ready (default: -1)")
      ("page-server", po::value(&a.page_server), "ADDRESS:PORT of the page server")
      ("file-locks", flag(&a.criu.file_locks), "handle file locks, for safety")
      ("pre-dump", flag(&a.pre_dump),
       "dump container's memory information only, leave the container running after this")
      ("manage-cgroups-mode", po::value(&a.criu.manage_cgroups_mode),
       "cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'")
      ("empty-ns", po::value(&a.criu.empty_ns)->composing(),
       "create a namespace, but don't restore its properties (network always is)")
      ("auto-dedup", flag(&a.criu.auto_dedup), "enable auto deduplication of memory images");
  const auto positional = parse_command(kCheckpointCommand, flags, args);
  if (!positional) return 0;
  if (a.criu.image_path.empty()) a.criu.image_path = current_dir() + "/checkpoint";  // runc's default
  a.criu.criu = global.criu;
  Factory(global.root).load((*positional)[0]).checkpoint(a);
  return 0;
}

}  // namespace berth::cmd
