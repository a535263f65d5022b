// berth ps: lists the processes of a container's cgroup, through ps(1)
// unless --format json (runc ps). Flags stop at the container id: what
// follows is passed to ps.
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cmd {

const CommandInfo kPsCommand{
    .name = "ps",
    .summary = "ps displays the processes running inside a container",
    .args_usage = "<container-id> [ps options]",
    .description = "",
    .min_args = 1,
    .max_args = kUnlimited,
    .stop_at_first_arg = true,
};

namespace {

enum class PsFormat { Table, Json };

struct PsArgs {
  std::string id;
  PsFormat format = PsFormat::Table;
  std::vector<std::string> ps_options;  // passed to ps(1); default "-ef"
};

PsFormat parse_ps_format(const std::string& v) {
  if (v == "table") return PsFormat::Table;
  if (v == "json") return PsFormat::Json;
  throw Error(fmt::format("invalid value \"{}\" for flag --format: expected table or json", v));
}

}  // namespace

int cmd_ps([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  PsArgs a;
  po::options_description flags;
  flags.add_options()(
      "format,f", po::value<std::string>()->notifier([&a](const std::string& v) { a.format = parse_ps_format(v); }),
      "select one of: table or json (default: \"table\")");
  const auto positional = parse_command(kPsCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  a.ps_options.assign(positional->begin() + 1, positional->end());
  not_implemented(kCgroupsIssue);
}

}  // namespace berth::cmd
