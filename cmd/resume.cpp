// berth resume: thaws the processes of a paused container (runc resume).
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

const CommandInfo kResumeCommand{
    .name = "resume",
    .summary = "resumes all processes that have been previously paused",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container to be
resumed.

The resume command resumes all processes in the instance of the container.

Use berth list to identify instances of containers and their current status.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct ResumeArgs {
  std::string id;
};

}  // namespace

int cmd_resume(const GlobalOptions& global, const std::vector<std::string>& args) {
  ResumeArgs a;
  const po::options_description flags;
  const auto positional = parse_command(kResumeCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  Factory(global.root).load(a.id).resume();
  return 0;
}

}  // namespace berth::cmd
