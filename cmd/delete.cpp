// berth delete: removes a stopped container's state and cgroup, or kills
// and removes a running one with --force (runc delete).
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

const CommandInfo kDeleteCommand{
    .name = "delete",
    .summary = "delete any resources held by the container often used with detached container",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and berth list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the berth list of containers:

       # berth delete ubuntu01)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct DeleteArgs {
  std::string id;
  bool force = false;
};

}  // namespace

int cmd_delete(const GlobalOptions& global, const std::vector<std::string>& args) {
  DeleteArgs a;
  po::options_description flags;
  flags.add_options()("force,f", flag(&a.force),
                      "Forcibly deletes the container if it is still running (uses SIGKILL)");
  const auto positional = parse_command(kDeleteCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  Factory factory(global.root);
  // As runc: --force on a container that does not exist is not an error.
  if (a.force && !factory.exists(a.id)) return 0;
  factory.load(a.id).destroy(a.force);
  return 0;
}

}  // namespace berth::cmd
