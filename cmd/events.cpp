// berth events: streams a container's OOM notifications and resource
// statistics as JSON, or prints the statistics once with --stats (runc events).
#include <chrono>
#include <string>
#include <vector>

#include <iostream>

#include <boost/json.hpp>

#include "cmd/commands.hpp"
#include "runtime/cgroups/stats.hpp"
#include "runtime/container.hpp"
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

// One event as runc prints it: a JSON object per line, "data" only for stats.
void print_event(const std::string& id, const Container::Event& e) {
  boost::json::object o{{"type", e.type}, {"id", id}};
  if (e.stats) o["data"] = cgroups::to_json(*e.stats);
  std::cout << boost::json::serialize(o) << std::endl;
}

}  // namespace

int cmd_events(const GlobalOptions& global, const std::vector<std::string>& args) {
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
  const Container c = Factory(global.root).load(a.id);
  if (c.status() == oci::Status::Stopped) throw not_running(a.id);
  if (a.stats) {
    print_event(a.id, {"stats", c.stats()});
    return 0;
  }
  c.watch(std::chrono::duration_cast<std::chrono::milliseconds>(a.interval),
          [&](const Container::Event& e) { print_event(a.id, e); });
  return 0;
}

}  // namespace berth::cmd
