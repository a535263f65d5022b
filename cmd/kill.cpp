// berth kill: sends a signal to a container's init process, or to all its
// processes with --all (runc kill).
#include <string>
#include <vector>

#include "cmd/commands.hpp"

namespace berth::cmd {

const CommandInfo kKillCommand{
    .name = "kill",
    .summary = "kill sends the specified signal (default: SIGTERM) to the container's init process",
    .args_usage = "<container-id> [signal]",
    .description = R"(Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # berth kill ubuntu01 KILL)",
    .min_args = 1,
    .max_args = 2,
};

namespace {

struct KillArgs {
  std::string id;
  // A name with or without "SIG" (KILL, SIGKILL) or a number, as runc takes it.
  std::string signal = "SIGTERM";
  bool all = false;
};

}  // namespace

int cmd_kill([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  KillArgs a;
  po::options_description flags;
  flags.add_options()("all,a", flag(&a.all), "send the specified signal to all processes inside the container");
  const auto positional = parse_command(kKillCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  if (positional->size() > 1) a.signal = (*positional)[1];
  not_implemented(kLifecycleIssue);
}

}  // namespace berth::cmd
