// berth checkpoint: dumps a running container with CRIU (runc checkpoint).
#include <climits>
#include <string>
#include <vector>

#include "cmd/commands.hpp"

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

namespace {

struct CheckpointArgs {
  std::string id;
  std::string image_path;  // empty: <cwd>/checkpoint, as runc
  std::string work_path;
  std::string parent_path;
  bool leave_running = false;
  bool tcp_established = false;
  bool ext_unix_sk = false;
  bool shell_job = false;
  bool lazy_pages = false;
  int status_fd = -1;
  std::string page_server;  // ADDRESS:PORT
  bool file_locks = false;
  bool pre_dump = false;
  std::string manage_cgroups_mode;  // empty: soft
  std::vector<std::string> empty_ns;
  bool auto_dedup = false;
};

}  // namespace

int cmd_checkpoint([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  CheckpointArgs a;
  po::options_description flags;
  flags.add_options()
      ("image-path", po::value(&a.image_path), "path for saving criu image files")
      ("work-path", po::value(&a.work_path), "path for saving work files and logs")
      ("parent-path", po::value(&a.parent_path), "path for previous criu image files in pre-dump")
      ("leave-running", flag(&a.leave_running), "leave the process running after checkpointing")
      ("tcp-established", flag(&a.tcp_established), "allow open tcp connections")
      ("ext-unix-sk", flag(&a.ext_unix_sk), "allow external unix sockets")
      ("shell-job", flag(&a.shell_job), "allow shell jobs")
      ("lazy-pages", flag(&a.lazy_pages), "use userfaultfd to lazily restore memory pages")
      ("status-fd",
       po::value<std::string>()->notifier([&a](const std::string& v) {
         a.status_fd = static_cast<int>(parse_int("status-fd", v, -1, INT_MAX));
       }),
       "criu writes \\0 to this FD once lazy-pages is ready (default: -1)")
      ("page-server", po::value(&a.page_server), "ADDRESS:PORT of the page server")
      ("file-locks", flag(&a.file_locks), "handle file locks, for safety")
      ("pre-dump", flag(&a.pre_dump),
       "dump container's memory information only, leave the container running after this")
      ("manage-cgroups-mode", po::value(&a.manage_cgroups_mode),
       "cgroups mode: 'soft' (default), 'full' and 'strict'")
      ("empty-ns", po::value(&a.empty_ns)->composing(), "create a namespace, but don't restore its properties")
      ("auto-dedup", flag(&a.auto_dedup), "enable auto deduplication of memory images");
  const auto positional = parse_command(kCheckpointCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  not_implemented(kCriuIssue);
}

}  // namespace berth::cmd
