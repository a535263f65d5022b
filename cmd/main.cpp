// berth: an OCI container runtime with runc's command line.
//
//   berth [global options] command [command options] [arguments...]
//
// Global options must come before the command, as with runc. This file parses
// them, sets up logging, dispatches to one cmd_<name>() per subcommand, and is
// the one place that catches: every error is logged and exits with status 1.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <seccomp.h>
#include <spdlog/spdlog.h>

#include "cmd/commands.hpp"
#include "cmd/commit.hpp"
#include "cmd/log.hpp"
#include "cmd/options.hpp"
#include "cmd/version.hpp"
#include "runtime/init/init.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cmd {
namespace {

struct Command {
  const CommandInfo* info;
  CommandFn run;
  bool hidden = false;
};

// In runc's order, which `--help` keeps.
constexpr std::array kCommands{
    Command{&kCheckpointCommand, cmd_checkpoint},
    Command{&kCreateCommand, cmd_create},
    Command{&kDeleteCommand, cmd_delete},
    Command{&kEventsCommand, cmd_events},
    Command{&kExecCommand, cmd_exec},
    Command{&kInitCommand, cmd_init, /*hidden=*/true},
    Command{&kKillCommand, cmd_kill},
    Command{&kListCommand, cmd_list},
    Command{&kPauseCommand, cmd_pause},
    Command{&kPsCommand, cmd_ps},
    Command{&kRestoreCommand, cmd_restore},
    Command{&kResumeCommand, cmd_resume},
    Command{&kRunCommand, cmd_run},
    Command{&kSpecCommand, cmd_spec},
    Command{&kStartCommand, cmd_start},
    Command{&kStateCommand, cmd_state},
    Command{&kUpdateCommand, cmd_update},
    Command{&kFeaturesCommand, cmd_features},
};

const Command* find_command(std::string_view name) {
  const auto it = std::find_if(kCommands.begin(), kCommands.end(),
                               [name](const Command& c) { return c.info->name == name; });
  return it == kCommands.end() ? nullptr : &*it;
}

bool is_help_command(std::string_view name) { return name == "help" || name == "h"; }

std::string version_text() {
  const scmp_version* v = seccomp_version();
  return fmt::format("berth version {}\ncommit: {}\nspec: {}\nlibseccomp: {}.{}.{}\n", BERTH_VERSION, BERTH_COMMIT,
                     BERTH_OCI_SPEC_VERSION, v->major, v->minor, v->micro);
}

// The global flags, in runc's order. Parsing adds -h/--help itself; the help
// text lists it before --version, as runc does.
struct GlobalFlags {
  po::options_description main;
  po::options_description version;
  std::string log_format = "text";
  std::string rootless = "auto";
  bool show_version = false;

  // The default --root, computed before parsing so that --help shows it (as runc does).
  bool xdg_root = false;

  explicit GlobalFlags(GlobalOptions& g) {
    g.root = default_root(&xdg_root);
    main.add_options()
        ("debug", flag(&g.debug), "enable debug logging")
        ("log", po::value(&g.log), "set the log file to write berth logs to (default is '/dev/stderr')")
        ("log-format", po::value(&log_format), "set the log format ('text' (default), or 'json') (default: \"text\")")
        ("root", po::value(&g.root),
         fmt::format("root directory for storage of container state (this should be located in tmpfs; "
                     "$XDG_RUNTIME_DIR/berth by default for an unprivileged user) (default: \"{}\")",
                     g.root)
             .c_str())
        ("criu", po::value(&g.criu), "path to the criu binary used for checkpoint and restore (default: \"criu\")")
        ("systemd-cgroup", flag(&g.systemd_cgroup),
         "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. "
         "\"system.slice:berth:434234\"")
        ("rootless", po::value(&rootless),
         "ignore cgroup permission errors ('true', 'false', or 'auto') (default: \"auto\")");
    version.add_options()("version,v", flag(&show_version), "print the version");
  }

  po::options_description for_parsing() const {
    po::options_description all;
    all.add(main).add(version);
    return all;
  }

  std::string help_rows() const {
    po::options_description shown;
    shown.add(main);
    shown.add_options()("help,h", "show help");
    shown.add(version);
    return format_flags(shown);
  }
};

void print_global_help(const GlobalFlags& flags) {
  std::string commands;
  for (const Command& c : kCommands)
    if (!c.hidden) commands += fmt::format("   {:<10}  {}\n", c.info->name, c.info->summary);
  commands += fmt::format("   {:<10}  {}\n", "help, h", "Shows a list of commands or help for one command");
  fmt::print(
      "NAME:\n"
      "   berth - Open Container Initiative runtime\n"
      "\n"
      "berth is a command line client for running applications packaged according to\n"
      "the Open Container Initiative (OCI) format and is a compliant implementation of the\n"
      "Open Container Initiative specification, with the command line of runc.\n"
      "\n"
      "Containers are configured using bundles. A bundle for a container is a directory\n"
      "that includes a specification file named \"config.json\" and a root filesystem.\n"
      "The root filesystem contains the contents of the container.\n"
      "\n"
      "To start a new instance of a container:\n"
      "\n"
      "    # berth run [ -b bundle ] <container-id>\n"
      "\n"
      "USAGE:\n"
      "   berth [global options] command [command options] [arguments...]\n"
      "\n"
      "VERSION:\n"
      "   {}"
      "\n"
      "COMMANDS:\n"
      "{}"
      "\n"
      "GLOBAL OPTIONS:\n"
      "{}",
      version_text().substr(std::string_view("berth version ").size()), commands, flags.help_rows());
}

LogFormat parse_log_format(const std::string& v) {
  if (v == "text") return LogFormat::Text;
  if (v == "json") return LogFormat::Json;
  throw Error(fmt::format("invalid log-format: {} (expected text or json)", v));
}

// runc's parseBoolOrAuto: "" or any case of "auto", else what Go's strconv.ParseBool takes.
Rootless parse_rootless(const std::string& v) {
  std::string lower = v;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.empty() || lower == "auto") return Rootless::Auto;
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return Rootless::True;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return Rootless::False;
  throw Error(fmt::format("invalid value \"{}\" for flag --rootless: expected true, false or auto", v));
}

// The default root under $XDG_RUNTIME_DIR, made as runc makes it: 0700, and sticky, which
// the XDG Base Directory specification asks of anything that must not be pruned.
void make_xdg_root(const std::string& root) {
  if (::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST)
    throw_errno("--root: mkdir (the path in $XDG_RUNTIME_DIR must be writable by the user)", root);
  if (::chmod(root.c_str(), 01700) < 0) throw_errno("--root: chmod", root);
}

int run(const std::vector<std::string>& argv) {
  GlobalOptions global;
  GlobalFlags flags(global);
  ParsedLine line = parse_line(flags.for_parsing(), argv, /*stop_at_first_arg=*/true);
  if (line.help) {
    print_global_help(flags);
    return 0;
  }
  if (flags.show_version) {
    fmt::print("{}", version_text());
    return 0;
  }
  global.log_format = parse_log_format(flags.log_format);
  global.rootless = parse_rootless(flags.rootless);
  if (global.root.empty()) throw Error("flag --root requires a value");
  if (flags.xdg_root && global.root == default_root()) make_xdg_root(global.root);
  if (line.args.empty()) {  // like runc: no command shows the help
    print_global_help(flags);
    return 0;
  }

  setup_logging(global);
  spdlog::debug("global options: root `{}`, log {}, log-format {}, criu `{}`, systemd-cgroup {}, rootless {}",
                global.root, global.log.empty() ? std::string("to stderr") : fmt::format("`{}`", global.log),
                to_string(global.log_format), global.criu, global.systemd_cgroup, to_string(global.rootless));

  std::string name = std::move(line.args.front());
  std::vector<std::string> args(std::make_move_iterator(line.args.begin() + 1),
                                std::make_move_iterator(line.args.end()));
  if (is_help_command(name)) {
    if (args.empty()) {
      print_global_help(flags);
      return 0;
    }
    name = args.front();
    args = {"--help"};
  }
  const Command* command = find_command(name);
  if (command == nullptr)
    throw Error(fmt::format("unknown command \"{}\" (run \"berth --help\" for the list of commands)", name));
  set_log_prefix("berth " + name);
  spdlog::debug("running `{}` with {} argument(s)", name, args.size());
  return command->run(global, args);
}

}  // namespace
}  // namespace berth::cmd

int main(int argc, char** argv) {
  namespace cmd = berth::cmd;
  // The init stage is on every container's start path: straight in, no option parsing or
  // logging set-up. Without its sync fd `berth init` is a user's mistake, reported below.
  berth::init::enter_if_init_stage(argc, argv);
  int status = 1;
  try {
    cmd::setup_default_logging();
    status = cmd::run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const berth::Error& e) {
    spdlog::error("{}", e.what());
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
  std::fflush(stdout);
  cmd::flush_logs();
  return status;
}
