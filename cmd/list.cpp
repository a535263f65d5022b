// berth list: lists the containers under --root (runc list).
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cmd/commands.hpp"
#include "oci/state.hpp"
#include "runtime/container.hpp"
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

// runc's table: Go's tabwriter with minwidth 12 and padding 3; the last column is not padded.
void print_table(const std::vector<oci::State>& states) {
  std::vector<std::array<std::string, 6>> rows;
  rows.push_back({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
  for (const auto& s : states)
    rows.push_back({s.id, std::to_string(s.pid.value_or(0)), std::string(oci::to_string(s.status)), s.bundle,
                    s.created.value_or(""), s.owner.value_or("")});
  std::array<size_t, 5> width{};
  for (const auto& r : rows)
    for (size_t i = 0; i < width.size(); ++i) width[i] = std::max({width[i], r[i].size() + 3, size_t{12}});
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < width.size(); ++i) {
      out += r[i];
      out.append(width[i] - r[i].size(), ' ');
    }
    out += r[5];
    out += '\n';
  }
  fmt::print("{}", out);
}

void print_json(const std::vector<oci::State>& states) {
  // runc encodes a nil slice: `null` when there is no container.
  if (states.empty()) {
    fmt::print("null\n");
    return;
  }
  boost::json::array a;
  for (const auto& s : states) a.push_back(oci::to_json(s));
  fmt::print("{}\n", boost::json::serialize(a));
}

}  // namespace

int cmd_list(const GlobalOptions& global, const std::vector<std::string>& args) {
  ListArgs a;
  po::options_description flags;
  flags.add_options()
      ("format,f", po::value<std::string>()->notifier([&a](const std::string& v) { a.format = parse_list_format(v); }),
       "select one of: table or json (default: \"table\")")
      ("quiet,q", flag(&a.quiet), "display only container IDs");
  const auto positional = parse_command(kListCommand, flags, args);
  if (!positional) return 0;
  std::vector<oci::State> states;
  for (const Container& c : Factory(global.root).list()) states.push_back(c.state());
  if (a.quiet) {
    for (const auto& s : states) fmt::print("{}\n", s.id);
  } else if (a.format == ListFormat::Json) {
    print_json(states);
  } else {
    print_table(states);
  }
  return 0;
}

}  // namespace berth::cmd
