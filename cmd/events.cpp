// berth events: streams a container's OOM notifications and resource
// statistics as JSON, or prints the statistics once with --stats (runc events).
#include <chrono>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cmd {

const CommandInfo kEventsCommand{
    .name = "events",
    .summary = "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
    .args_usage = "<container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container.

The events command displays information about the container. By default the
information is displayed once every 5 seconds.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct EventsArgs {
  std::string id;
  std::chrono::nanoseconds interval = std::chrono::seconds(5);
  bool stats = false;
};

}  // namespace

int cmd_events([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  EventsArgs a;
  po::options_description flags;
  flags.add_options()
      ("interval", po::value<std::string>()->notifier([&a](const std::string& v) {
         a.interval = parse_duration("interval", v);
         if (a.interval.count() <= 0) throw Error("duration interval must be greater than 0");
       }),
       "set the stats collection interval (default: 5s)")
      ("stats", flag(&a.stats), "display the container's stats then exit");
  const auto positional = parse_command(kEventsCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  not_implemented(kCgroupsIssue);
}

}  // namespace berth::cmd
