// berth pause: freezes every process of a container through its cgroup
// (runc pause).
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

const CommandInfo kPauseCommand{
    .name = "pause",
    .summary = "pause suspends all processes inside the container",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container to be
paused.

The pause command suspends all processes in the instance of the container.

Use berth list to identify instances of containers and their current status.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct PauseArgs {
  std::string id;
};

}  // namespace

int cmd_pause(const GlobalOptions& global, const std::vector<std::string>& args) {
  PauseArgs a;
  const po::options_description flags;
  const auto positional = parse_command(kPauseCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  Factory(global.root).load(a.id).pause();
  return 0;
}

}  // namespace berth::cmd
