// berth ps: lists the processes of a container's cgroup, through ps(1)
// unless --format json (runc ps). Flags stop at the container id: what
// follows is passed to ps.
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "cmd/commands.hpp"
#include "runtime/container.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

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

// Runs ps(1) with the caller's options and returns what it printed.
std::string run_ps(const std::vector<std::string>& options) {
  auto [rd, wr] = sys::pipe();
  std::vector<std::string> argv{"ps"};
  argv.insert(argv.end(), options.begin(), options.end());
  std::vector<char*> cargv;
  for (std::string& s : argv) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork ps");
  if (pid == 0) {
    ::dup2(wr.get(), STDOUT_FILENO);
    ::execvp("ps", cargv.data());
    std::fprintf(stderr, "berth ps: exec ps: %s\n", std::strerror(errno));
    ::_exit(127);
  }
  wr.reset();
  std::string out = sys::read_all(rd.get(), "ps output");
  const int st = sys::waitpid(pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    throw Error(fmt::format("ps {}: exited with status {}", fmt::join(options, " "), sys::exit_status(st)));
  return out;
}

// ps's header and the lines whose PID column is one of `pids` (runc ps).
std::string filter_ps(const std::string& out, const std::vector<pid_t>& pids) {
  std::istringstream in(out);
  std::string header;
  std::getline(in, header);
  std::istringstream hs(header);
  std::string col;
  size_t pid_col = 0;
  bool found = false;
  for (size_t i = 0; hs >> col; ++i)
    if (col == "PID") {
      pid_col = i;
      found = true;
      break;
    }
  if (!found) throw Error("ps: the output has no PID column (the ps options must print one)");
  std::string result = header + "\n";
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string field;
    for (size_t i = 0; i <= pid_col && (ls >> field); ++i) {
    }
    char* end = nullptr;
    const long p = std::strtol(field.c_str(), &end, 10);
    if (end && *end == '\0' && std::binary_search(pids.begin(), pids.end(), static_cast<pid_t>(p)))
      result += line + "\n";
  }
  return result;
}

}  // namespace

int cmd_ps(const GlobalOptions& global, const std::vector<std::string>& args) {
  PsArgs a;
  po::options_description flags;
  flags.add_options()(
      "format,f", po::value<std::string>()->notifier([&a](const std::string& v) { a.format = parse_ps_format(v); }),
      "select one of: table or json (default: \"table\")");
  const auto positional = parse_command(kPsCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  a.ps_options.assign(positional->begin() + 1, positional->end());
  Container c = Factory(global.root).load(a.id);
  // A stopped container is no error (runc): its cgroup, if still there, may hold what survived
  // init, and containerd's shim asks after the task has exited.
  const std::vector<pid_t> pids = c.processes();
  if (a.format == PsFormat::Json) {
    boost::json::array arr;
    for (pid_t p : pids) arr.push_back(p);
    std::cout << boost::json::serialize(arr) << "\n";
    return 0;
  }
  if (a.ps_options.empty()) a.ps_options = {"-ef"};
  std::cout << filter_ps(run_ps(a.ps_options), pids);
  return 0;
}

}  // namespace berth::cmd
