// berth state: prints the OCI state document of a container (runc state).
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cmd/commands.hpp"
#include "oci/json.hpp"
#include "runtime/container.hpp"

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

// runc prints the state with json.MarshalIndent(v, "", "  "). Raw tabs only occur as
// indentation: inside strings they are escaped.
std::string two_space_indent(const std::string& tabbed) {
  std::string out;
  out.reserve(tabbed.size() + tabbed.size() / 8);
  for (char c : tabbed) {
    if (c == '\t') out += "  ";
    else out += c;
  }
  return out;
}

int cmd_state(const GlobalOptions& global, const std::vector<std::string>& args) {
  StateArgs a;
  const po::options_description flags;
  const auto positional = parse_command(kStateCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  const oci::State st = Factory(global.root).load(a.id).state();
  fmt::print("{}\n", two_space_indent(oci::pretty_json(oci::to_json(st))));
  return 0;
}

}  // namespace berth::cmd
