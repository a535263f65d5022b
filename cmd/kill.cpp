// berth kill: sends a signal to a container's init process, or to all its
// processes with --all (runc kill).
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/container.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cmd {

const CommandInfo kKillCommand{
    .name = "kill",
    .summary = "kill sends the specified signal (default: SIGTERM) to the container's init process",
    .args_usage = "<container-id> [signal]",
    .description = R"(Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # berth kill ubuntu01 KILL)",
    .min_args = 1,
    .max_args = 2,
};

namespace {

struct KillArgs {
  std::string id;
  // A name with or without "SIG" (KILL, SIGKILL) or a number, as runc takes it.
  std::string signal = "SIGTERM";
  bool all = false;
};

struct SignalName {
  std::string_view name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},       {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},   {"FPE", SIGFPE},       {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CLD", SIGCHLD},      {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

// As runc: a number is taken as is (the kernel checks it); a name is case-insensitive, with or
// without "SIG"; real-time signals as RTMIN, RTMIN+n, RTMAX-n.
int parse_signal(const std::string& raw) {
  if (!raw.empty() && std::all_of(raw.begin(), raw.end(), [](unsigned char c) { return std::isdigit(c); }))
    return static_cast<int>(parse_uint("signal", raw, 64));
  std::string name(raw);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view n(name);
  if (n.starts_with("SIG")) n.remove_prefix(3);
  for (const auto& s : kSignals)
    if (s.name == n) return s.number;
  auto offset = [&](std::string_view rest) -> std::optional<int> {
    if (rest.empty()) return 0;
    if (rest.size() > 3 || !std::all_of(rest.begin() + 1, rest.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        rest.size() < 2)
      return std::nullopt;
    return (rest[0] == '+' ? 1 : rest[0] == '-' ? -1 : 0) * std::stoi(std::string(rest.substr(1)));
  };
  if (n.starts_with("RTMIN")) {
    const auto o = offset(n.substr(5));
    if (o && *o >= 0 && SIGRTMIN + *o <= SIGRTMAX) return SIGRTMIN + *o;
  } else if (n.starts_with("RTMAX")) {
    const auto o = offset(n.substr(5));
    if (o && *o <= 0 && SIGRTMAX + *o >= SIGRTMIN) return SIGRTMAX + *o;
  }
  throw Error(fmt::format("unknown signal \"{}\"", raw));
}

}  // namespace

int cmd_kill(const GlobalOptions& global, const std::vector<std::string>& args) {
  KillArgs a;
  po::options_description flags;
  flags.add_options()("all,a", flag(&a.all), "send the specified signal to all processes inside the container");
  const auto positional = parse_command(kKillCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  if (positional->size() > 1) a.signal = (*positional)[1];
  const int sig = parse_signal(a.signal);
  Factory(global.root).load(a.id).signal(sig, a.all);
  return 0;
}

}  // namespace berth::cmd
