// berth init: the hidden stage a container's init process re-execs into
// (runc init). main() enters runtime/init directly when the sync fd is set;
// reaching this command means a user typed it.
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/sys/error.hpp"

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
  throw Error("this is berth's internal init stage, started by create and run; it is not a user command");
}

}  // namespace berth::cmd
