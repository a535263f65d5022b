// berth start: lets a created container's init process exec the user
// process (runc start).
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

const CommandInfo kStartCommand{
    .name = "start",
    .summary = "executes the user defined process in a created container",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

The start command executes the user defined process in a created container.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct StartArgs {
  std::string id;
};

}  // namespace

int cmd_start(const GlobalOptions& global, const std::vector<std::string>& args) {
  StartArgs a;
  const po::options_description flags;
  const auto positional = parse_command(kStartCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  Factory(global.root).load(a.id).start(env_or_empty("NOTIFY_SOCKET"));
  return 0;
}

}  // namespace berth::cmd
