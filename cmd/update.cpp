// berth update: changes the cgroup limits of a running container, from flags
// or from a JSON resources document (runc update).
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "oci/spec.hpp"
#include "runtime/container.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::cmd {

const CommandInfo kUpdateCommand{
    .name = "update",
    .summary = "update container resource constraints",
    .args_usage = "<container-id>",
    .description = R"(The --resources value is the path to a file containing the resources to update,
or '-' to read them from the standard input. The accepted format is as follow
(unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": ""
  },
  "blockIO": {
    "weight": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.)",
    .min_args = 1,
    .max_args = 1,
};

namespace {

// Each field is set only when its flag was given: unset limits are left as they are.
struct UpdateArgs {
  std::string id;
  std::string resources;  // path, or "-" for stdin; when set, the other flags are ignored
  std::optional<std::uint16_t> blkio_weight;
  std::optional<std::uint64_t> cpu_period;
  std::optional<std::int64_t> cpu_quota;
  std::optional<std::uint64_t> cpu_shares;
  std::optional<std::uint64_t> cpu_rt_period;
  std::optional<std::int64_t> cpu_rt_runtime;
  std::optional<std::string> cpuset_cpus;
  std::optional<std::string> cpuset_mems;
  std::optional<std::int64_t> memory;              // bytes; -1: unlimited
  std::optional<std::int64_t> memory_reservation;  // bytes; -1: unlimited
  std::optional<std::int64_t> memory_swap;         // bytes; -1: unlimited
  std::optional<std::int64_t> pids_limit;
  std::optional<std::string> l3_cache_schema;
  std::optional<std::string> mem_bw_schema;
};

// A string flag whose value is converted when stored.
template <class T, class F>
po::typed_value<std::string>* converted(std::optional<T>& target, F convert) {
  return po::value<std::string>()->notifier([&target, convert](const std::string& v) { target = convert(v); });
}

po::typed_value<std::string>* optional_string(std::optional<std::string>& target) {
  return po::value<std::string>()->notifier([&target](const std::string& v) { target = v; });
}

// The resources to write: the --resources document (every other flag ignored, as in runc), or
// the flags that were given.
oci::LinuxResources resources_of(const UpdateArgs& a) {
  if (!a.resources.empty()) {
    const std::string text = a.resources == "-" ? sys::read_all(STDIN_FILENO, "standard input")
                                                : sys::read_file(AT_FDCWD, a.resources);
    return with_context(fmt::format("--resources `{}`", a.resources), [&] { return oci::parse_resources(text); });
  }
  if (a.l3_cache_schema || a.mem_bw_schema)
    throw Error("--l3-cache-schema, --mem-bw-schema: Intel RDT (resctrl) is not supported by berth");
  oci::LinuxResources r;
  if (a.memory || a.memory_reservation || a.memory_swap) {
    auto& m = r.memory.emplace();
    m.limit = a.memory;
    m.reservation = a.memory_reservation;
    m.swap = a.memory_swap;
  }
  if (a.cpu_shares || a.cpu_quota || a.cpu_period || a.cpu_rt_period || a.cpu_rt_runtime || a.cpuset_cpus || a.cpuset_mems) {
    auto& c = r.cpu.emplace();
    c.shares = a.cpu_shares;
    c.quota = a.cpu_quota;
    c.period = a.cpu_period;
    c.realtime_period = a.cpu_rt_period;
    c.realtime_runtime = a.cpu_rt_runtime;
    c.cpus = a.cpuset_cpus;
    c.mems = a.cpuset_mems;
  }
  if (a.pids_limit) r.pids.emplace().limit = a.pids_limit;
  if (a.blkio_weight) r.block_io.emplace().weight = a.blkio_weight;
  return r;
}

}  // namespace

int cmd_update(const GlobalOptions& global, const std::vector<std::string>& args) {
  UpdateArgs a;
  const auto uint_of = [](const char* name) { return [name](const std::string& v) { return parse_uint(name, v); }; };
  const auto int_of = [](const char* name) { return [name](const std::string& v) { return parse_int(name, v); }; };
  const auto bytes_of = [](const char* name) { return [name](const std::string& v) { return parse_bytes(name, v); }; };
  po::options_description flags;
  flags.add_options()
      ("resources,r", po::value(&a.resources),
       "path to the file containing the resources to update or '-' to read from the standard input")
      ("blkio-weight",
       converted(a.blkio_weight,
                 [](const std::string& v) { return static_cast<std::uint16_t>(parse_uint("blkio-weight", v, UINT16_MAX)); }),
       "Specifies per cgroup weight, range is from 10 to 1000 (default: 0)")
      ("cpu-period", converted(a.cpu_period, uint_of("cpu-period")),
       "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default")
      ("cpu-quota", converted(a.cpu_quota, int_of("cpu-quota")),
       "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period")
      ("cpu-share", converted(a.cpu_shares, uint_of("cpu-share")), "CPU shares (relative weight vs. other containers)")
      ("cpu-rt-period", converted(a.cpu_rt_period, uint_of("cpu-rt-period")),
       "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default")
      ("cpu-rt-runtime", converted(a.cpu_rt_runtime, int_of("cpu-rt-runtime")),
       "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period")
      ("cpuset-cpus", optional_string(a.cpuset_cpus), "CPU(s) to use")
      ("cpuset-mems", optional_string(a.cpuset_mems), "Memory node(s) to use")
      ("memory", converted(a.memory, bytes_of("memory")), "Memory limit (in bytes)")
      ("memory-reservation", converted(a.memory_reservation, bytes_of("memory-reservation")),
       "Memory reservation or soft_limit (in bytes)")
      ("memory-swap", converted(a.memory_swap, bytes_of("memory-swap")),
       "Total memory usage (memory + swap); set '-1' to enable unlimited swap")
      ("pids-limit", converted(a.pids_limit, int_of("pids-limit")),
       "Maximum number of pids allowed in the container (default: 0)")
      ("l3-cache-schema", optional_string(a.l3_cache_schema), "The string of Intel RDT/CAT L3 cache schema")
      ("mem-bw-schema", optional_string(a.mem_bw_schema), "The string of Intel RDT/MBA memory bandwidth schema");
  const auto positional = parse_command(kUpdateCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  Factory(global.root).load(a.id).update(resources_of(a));
  return 0;
}

}  // namespace berth::cmd
