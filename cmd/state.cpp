// berth state: prints the OCI state document of a container (runc state).
#include <string>
#include <vector>

#include "cmd/commands.hpp"

namespace berth::cmd {

const CommandInfo kStateCommand{
    .name = "state",
    .summary = "output the state of a container",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container.

The state command outputs current state information for the
instance of a container.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct StateArgs {
  std::string id;
};

}  // namespace

int cmd_state([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  StateArgs a;
  const po::options_description flags;
  const auto positional = parse_command(kStateCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  not_implemented(kLifecycleIssue);
}

}  // namespace berth::cmd
