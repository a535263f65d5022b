// berth run: create + start, then wait for the container's process unless
// --detach (runc run).
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

const CommandInfo kRunCommand{
    .name = "run",
    .summary = "create and run a container",
    .args_usage = "<container-id>",
    .description = create_description("run"),
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct RunArgs {
  std::string id;
  CreateFlags f;
  bool detach = false;
  bool keep = false;  // keep the container's state after its process exits
  bool no_subreaper = false;
};

}  // namespace

int cmd_run(const GlobalOptions& global, const std::vector<std::string>& args) {
  RunArgs a;
  po::options_description flags;
  add_leading_create_flags(flags, a.f);
  flags.add_options()
      ("detach,d", flag(&a.detach), "detach from the container's process")
      ("keep", flag(&a.keep), "do not delete the container after it exits")
      ("pid-file", po::value(&a.f.pid_file), "specify the file to write the process id to")
      ("no-subreaper", flag(&a.no_subreaper), "disable the use of the subreaper used to reap reparented processes");
  add_trailing_create_flags(flags, a.f);
  const auto positional = parse_command(kRunCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  // Processes the container leaves behind (no pid namespace) are reparented to us and reaped.
  if (!a.no_subreaper && !a.detach && ::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) throw_errno("prctl PR_SET_CHILD_SUBREAPER");
  Factory factory(global.root);
  CreateOptions opts = create_options(global, a.id, a.f);
  // A terminal without a console socket: relayed by us, as runc run.
  opts.terminal_to_caller = !a.detach && a.f.console_socket.empty();
  Container c = factory.create(opts);
  if (a.detach) {
    c.start(env_or_empty("NOTIFY_SOCKET"));  // as runc run -d: returns once READY=1 came
    return 0;
  }
  return run_in_foreground(c, [&c] { c.start(env_or_empty("NOTIFY_SOCKET"), /*notify_in_background=*/true); }, a.keep);
}

}  // namespace berth::cmd
