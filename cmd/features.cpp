// berth features: prints the features document (features.md) describing what
// this build of berth supports (runc features).
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cmd/commands.hpp"
#include "oci/features.hpp"
#include "oci/json.hpp"
#include "runtime/features.hpp"

namespace berth::cmd {

const CommandInfo kFeaturesCommand{
    .name = "features",
    .summary = "show the enabled features",
    .args_usage = "",
    .description = R"(Show the enabled features.
The result is parsable as a JSON.
See features.md of the OCI runtime specification for the type definition.)",
    .min_args = 0,
    .max_args = 0,
};

int cmd_features([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  const po::options_description flags;
  if (!parse_command(kFeaturesCommand, flags, args)) return 0;
  fmt::print("{}\n", oci::pretty_json(oci::to_json(runtime_features())));
  return 0;
}

}  // namespace berth::cmd
