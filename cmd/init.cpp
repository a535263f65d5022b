// berth init: the hidden stage a container's init process re-execs into
// (runc init). It is reserved here so that no public command can take its
// name; the real stage lands with the container lifecycle.
#include <string>
#include <vector>

#include "cmd/commands.hpp"

namespace berth::cmd {

const CommandInfo kInitCommand{
    .name = "init",
    .summary = "initialize the namespaces and launch the process (do not call it outside of berth)",
    .args_usage = "",
    .description = "",
    .min_args = 0,
    .max_args = 0,
};

int cmd_init([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  const po::options_description flags;
  if (!parse_command(kInitCommand, flags, args)) return 0;
  not_implemented(kLifecycleIssue);
}

}  // namespace berth::cmd
