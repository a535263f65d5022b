// berth list: lists the containers under --root (runc list).
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cmd {

const CommandInfo kListCommand{
    .name = "list",
    .summary = "lists containers started by berth with the given root",
    .args_usage = "",
    .description = R"(Where the given root is specified via the global option "--root"
(default: "/run/berth").

EXAMPLE 1:
To list containers created via the default "--root":
       # berth list

EXAMPLE 2:
To list containers created using a non-default value for "--root":
       # berth --root value list)",
    .min_args = 0,
    .max_args = 0,
};

namespace {

enum class ListFormat { Table, Json };

struct ListArgs {
  ListFormat format = ListFormat::Table;
  bool quiet = false;
};

ListFormat parse_list_format(const std::string& v) {
  if (v == "table") return ListFormat::Table;
  if (v == "json") return ListFormat::Json;
  throw Error(fmt::format("invalid value \"{}\" for flag --format: expected table or json", v));
}

}  // namespace

int cmd_list([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  ListArgs a;
  po::options_description flags;
  flags.add_options()
      ("format,f", po::value<std::string>()->notifier([&a](const std::string& v) { a.format = parse_list_format(v); }),
       "select one of: table or json (default: \"table\")")
      ("quiet,q", flag(&a.quiet), "display only container IDs");
  const auto positional = parse_command(kListCommand, flags, args);
  if (!positional) return 0;
  not_implemented(kLifecycleIssue);
}

}  // namespace berth::cmd
