// The command line of the built berth binary: runc 1.1.5's interface (help,
// flags, argument checks, logging), `spec`, `features` and `--version`.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <seccomp.h>

#include "oci/spec.hpp"
#include "oci/validate.hpp"
#include "runtime/sys/error.hpp"
#include "tests/integration/harness.hpp"

namespace json = boost::json;
using berth::test::RunResult;
using berth::test::TempDir;

namespace {

// berth::test::berth, under a name that does not clash with namespace berth here.
RunResult run_berth(const std::vector<std::string>& args, const berth::test::RunOptions& options = {}) {
  return berth::test::berth(args, options);
}

const std::vector<std::string> kCommands = {"checkpoint", "create", "delete", "events", "exec",    "kill",
                                            "list",       "pause",  "ps",     "restore", "resume", "run",
                                            "spec",       "start",  "state",  "update",  "features"};

// The flags of every subcommand, as runc 1.1.5's help names them.
const std::map<std::string, std::set<std::string>> kFlags = {
    {"checkpoint",
     {"--image-path value", "--work-path value", "--parent-path value", "--leave-running", "--tcp-established",
      "--ext-unix-sk", "--shell-job", "--lazy-pages", "--status-fd value", "--page-server value", "--file-locks",
      "--pre-dump", "--manage-cgroups-mode value", "--empty-ns value", "--auto-dedup"}},
    {"create",
     {"--bundle value, -b value", "--console-socket value", "--pid-file value", "--no-pivot", "--no-new-keyring",
      "--preserve-fds value"}},
    {"delete", {"--force, -f"}},
    {"events", {"--interval value", "--stats"}},
    {"exec",
     {"--console-socket value", "--cwd value", "--env value, -e value", "--tty, -t", "--user value, -u value",
      "--additional-gids value, -g value", "--process value, -p value", "--detach, -d", "--pid-file value",
      "--process-label value", "--apparmor value", "--no-new-privs", "--cap value, -c value", "--preserve-fds value",
      "--cgroup value", "--ignore-paused"}},
    {"kill", {"--all, -a"}},
    {"list", {"--format value, -f value", "--quiet, -q"}},
    {"pause", {}},
    {"ps", {"--format value, -f value"}},
    {"restore",
     {"--console-socket value", "--image-path value", "--work-path value", "--tcp-established", "--ext-unix-sk",
      "--shell-job", "--file-locks", "--manage-cgroups-mode value", "--bundle value, -b value", "--detach, -d",
      "--pid-file value", "--no-subreaper", "--no-pivot", "--empty-ns value", "--auto-dedup", "--lazy-pages",
      "--lsm-profile value", "--lsm-mount-context value"}},
    {"resume", {}},
    {"run",
     {"--bundle value, -b value", "--console-socket value", "--detach, -d", "--keep", "--pid-file value",
      "--no-subreaper", "--no-pivot", "--no-new-keyring", "--preserve-fds value"}},
    {"spec", {"--bundle value, -b value", "--rootless"}},
    {"start", {}},
    {"state", {}},
    {"update",
     {"--resources value, -r value", "--blkio-weight value", "--cpu-period value", "--cpu-quota value",
      "--cpu-share value", "--cpu-rt-period value", "--cpu-rt-runtime value", "--cpuset-cpus value",
      "--cpuset-mems value", "--memory value", "--memory-reservation value", "--memory-swap value",
      "--pids-limit value", "--l3-cache-schema value", "--mem-bw-schema value"}},
    {"features", {}},
};

const std::set<std::string> kGlobalFlags = {
    "--debug",      "--log value",      "--log-format value", "--root value", "--criu value",
    "--systemd-cgroup", "--rootless value", "--help, -h",         "--version, -v"};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The flag names of a help text's "OPTIONS:" (or "GLOBAL OPTIONS:") section,
// in runc's layout: "   --bundle value, -b value  description".
std::set<std::string> help_flags(const std::string& help, std::string_view section = "OPTIONS:") {
  std::set<std::string> out;
  bool in_section = false;
  for (const std::string& line : split_lines(help)) {
    if (line == section) {
      in_section = true;
      continue;
    }
    if (!in_section || line.rfind("   -", 0) != 0) continue;
    std::string names = line.substr(3);
    names = names.substr(0, names.find("  "));
    out.insert(names);
  }
  return out;
}

std::string flags_of(const std::set<std::string>& s) {
  std::string out;
  for (const auto& f : s) out += "  " + f + "\n";
  return out;
}

// The first line of `runc --version` when runc 1.1.x is installed: the
// version berth's command line copies.
bool have_runc_1_1() {
  if (!berth::test::find_program("runc")) return false;
  const RunResult r = berth::test::run({"runc", "--version"});
  return r.ok() && r.out.rfind("runc version 1.1.", 0) == 0;
}

// Small matchers instead of std::regex, which g++ 12 cannot compile warning-free
// with the sanitizers. `shape`: '9' is any digit, 'f' any lower-case hex digit,
// anything else itself.
bool fits(std::string_view s, std::string_view shape) {
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool digit = c >= '0' && c <= '9';
    if (shape[i] == '9' ? !digit : shape[i] == 'f' ? !(digit || (c >= 'a' && c <= 'f')) : c != shape[i]) return false;
  }
  return true;
}

// "1.2.3"
bool is_version(std::string_view s) {
  int dots = 0;
  bool digit_before = false;
  for (const char c : s) {
    if (c == '.' && digit_before) {
      ++dots;
      digit_before = false;
    } else if (c >= '0' && c <= '9') {
      digit_before = true;
    } else {
      return false;
    }
  }
  return dots == 2 && digit_before;
}

// RFC 3339 with seconds, as logrus writes time: 2026-11-23T19:22:26Z or
// with an offset (+01:00) and optional fractional seconds.
bool is_rfc3339(std::string_view s) {
  if (s.size() < 20 || !fits(s.substr(0, 19), "9999-99-99T99:99:99")) return false;
  s.remove_prefix(19);
  if (s[0] == '.') {
    std::size_t n = 1;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 1) return false;
    s.remove_prefix(n);
  }
  return s == "Z" || fits(s, "+99:99") || fits(s, "-99:99");
}

// config.json as a JSON object without ociVersion, for comparisons "modulo
// ociVersion and key order" (json::object equality ignores key order).
json::object without_version(const std::string& text) {
  json::object o = json::parse(text).as_object();
  o.erase("ociVersion");
  return o;
}

// The rootless fixture was made by uid/gid 0; `berth spec --rootless` maps
// container root to the caller's euid/egid.
json::object with_host_ids(json::object o, unsigned uid, unsigned gid) {
  json::object& linux = o.at("linux").as_object();
  linux.at("uidMappings").as_array().at(0).as_object()["hostID"] = uid;
  linux.at("gidMappings").as_array().at(0).as_object()["hostID"] = gid;
  return o;
}

mode_t current_umask() {
  const mode_t m = ::umask(022);
  ::umask(m);
  return m;
}

}  // namespace

TEST_CASE("--help lists every subcommand and the global flags", "[cli]") {
  for (const char* flag : {"--help", "-h", "help"}) {
    INFO(flag);
    const RunResult r = run_berth({flag});
    REQUIRE(r.ok());
    for (const std::string& cmd : kCommands) {
      INFO(cmd);
      const std::size_t row = r.out.find("\n   " + cmd + "  ");
      REQUIRE(row != std::string::npos);
      CHECK(r.out.find_first_not_of(' ', row + 4 + cmd.size()) != r.out.find('\n', row + 1));  // a summary
    }
    CHECK(r.out.find("\n   init ") == std::string::npos);  // hidden
    CHECK(help_flags(r.out, "GLOBAL OPTIONS:") == kGlobalFlags);
    CHECK(r.out.find("(default: \"/run/berth\")") != std::string::npos);
  }
}

TEST_CASE("no command prints the help", "[cli]") {
  const RunResult r = run_berth({});
  REQUIRE(r.ok());
  CHECK(r.out.find("COMMANDS:") != std::string::npos);
}

TEST_CASE("every subcommand's --help exits 0 and shows runc's flags", "[cli]") {
  for (const std::string& cmd : kCommands) {
    for (const char* flag : {"--help", "-h"}) {
      INFO(cmd << " " << flag);
      const RunResult r = run_berth({cmd, flag});
      REQUIRE(r.ok());
      CHECK(r.out.rfind("NAME:\n   berth " + cmd + " - ", 0) == 0);
      CHECK(r.out.find("USAGE:\n   berth " + cmd) != std::string::npos);
      const std::set<std::string> shown = help_flags(r.out);
      INFO("shown:\n" << flags_of(shown));
      CHECK(shown == kFlags.at(cmd));
    }
    // `berth help <cmd>` is the same text.
    CHECK(run_berth({"help", cmd}).out == run_berth({cmd, "--help"}).out);
  }
}

TEST_CASE("flags match the installed runc 1.1", "[cli][runc]") {
  if (!have_runc_1_1()) {
    WARN("runc 1.1.x is not installed: comparing with the built-in table only");
    return;
  }
  CHECK(help_flags(run_berth({"--help"}).out, "GLOBAL OPTIONS:") ==
        help_flags(berth::test::run({"runc", "--help"}).out, "GLOBAL OPTIONS:"));
  for (const std::string& cmd : kCommands) {
    INFO(cmd);
    CHECK(help_flags(run_berth({cmd, "--help"}).out) == help_flags(berth::test::run({"runc", cmd, "--help"}).out));
  }
}

TEST_CASE("--version prints version, commit, spec and libseccomp", "[cli]") {
  for (const char* flag : {"--version", "-v"}) {
    INFO(flag);
    const RunResult r = run_berth({flag});
    REQUIRE(r.ok());
    const std::vector<std::string> lines = split_lines(r.out);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].rfind("berth version ", 0) == 0);
    CHECK(is_version(std::string_view(lines[0]).substr(std::string_view("berth version ").size())));
    CHECK((lines[1] == "commit: unknown" || fits(lines[1], "commit: ffffffffffff")));
    CHECK(lines[2] == "spec: 1.3.0");
    const scmp_version* v = seccomp_version();
    CHECK(lines[3] == "libseccomp: " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                          std::to_string(v->micro));
  }
}

TEST_CASE("global flags take --flag value, --flag=value and Go's -flag value", "[cli]") {
  TempDir tmp;
  const std::string root = (tmp / "state").string();
  for (const std::vector<std::string>& form : std::vector<std::vector<std::string>>{
           {"--root=" + root}, {"--root", root}, {"-root", root}, {"-root=" + root}}) {
    INFO(form[0]);
    std::vector<std::string> args = {"--debug"};
    args.insert(args.end(), form.begin(), form.end());
    args.insert(args.end(), {"state", "abc"});
    const RunResult r = run_berth(args);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("root `" + root + "`") != std::string::npos);
    CHECK(r.err.find("berth: debug: ") != std::string::npos);
  }
  // As with Go's flag package, a repeated flag overrides the earlier one.
  const RunResult twice = run_berth({"--debug", "--debug", "--root", "/x", "--root", root, "state", "abc"});
  CHECK(twice.err.find("root `" + root + "`") != std::string::npos);
  // Without --debug, the debug lines are not shown.
  const RunResult quiet = run_berth({"--root", root, "state", "abc"});
  CHECK(quiet.err.find("debug") == std::string::npos);
  // The default root.
  CHECK(run_berth({"--debug", "state", "abc"}).err.find("root `/run/berth`") != std::string::npos);
}

TEST_CASE("global options are validated", "[cli]") {
  RunResult r = run_berth({"--log-format", "xml", "list"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("xml") != std::string::npos);
  r = run_berth({"--rootless", "maybe", "list"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("--rootless") != std::string::npos);
  r = run_berth({"--root=", "list"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth: flag --root requires a value\n");
  r = run_berth({"--root"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth: flag --root requires a value\n");
  for (const char* ok : {"true", "false", "auto"})
    CHECK(run_berth({"--rootless", ok, "--systemd-cgroup", "--criu", "/x/criu", "features"}).ok());
}

TEST_CASE("unknown commands and flags fail naming them", "[cli]") {
  RunResult r = run_berth({"bogus"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("berth: unknown command \"bogus\"", 0) == 0);

  r = run_berth({"help", "bogus"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("\"bogus\"") != std::string::npos);

  r = run_berth({"--foo", "list"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth: unknown flag --foo\n");

  r = run_berth({"create", "--foo", "abc"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth create: unknown flag --foo\n");

  // No prefix guessing: --deb is not --debug, --bund is not --bundle.
  CHECK(run_berth({"--deb", "list"}).err == "berth: unknown flag --deb\n");
  CHECK(run_berth({"create", "--bund", "x", "abc"}).err == "berth create: unknown flag --bund\n");

  // Global flags belong before the command, as in runc.
  r = run_berth({"list", "--debug"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth list: unknown flag --debug\n");

  r = run_berth({"kill", "-x", "abc"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("-x") != std::string::npos);
}

TEST_CASE("missing and extra arguments are reported with the usage", "[cli]") {
  RunResult r = run_berth({"start"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth start: requires exactly 1 argument: <container-id>\n");
  r = run_berth({"start", "a", "b"});
  CHECK(r.err == "berth start: requires exactly 1 argument: <container-id>\n");
  r = run_berth({"kill", "a", "KILL", "c"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth kill: requires 1 or 2 arguments: <container-id> [signal]\n");
  r = run_berth({"exec"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("requires at least 1 argument") != std::string::npos);
  r = run_berth({"exec", "abc"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("-p process.json") != std::string::npos);
  r = run_berth({"list", "extra"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("accepts no arguments") != std::string::npos);
  r = run_berth({"create", "--bundle"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth create: flag --bundle requires a value\n");
}

TEST_CASE("flag values are checked and name the flag", "[cli]") {
  const std::vector<std::vector<std::string>> bad = {
      {"create", "--preserve-fds", "-1", "abc"},
      {"create", "--preserve-fds=x", "abc"},
      {"update", "--memory", "12x", "abc"},
      {"update", "--cpu-period", "-5", "abc"},
      {"update", "--blkio-weight", "70000", "abc"},
      {"events", "--interval", "5", "abc"},
      {"events", "--interval", "0s", "abc"},
      {"list", "--format", "yaml"},
      {"ps", "-f", "xml", "abc"},
      {"exec", "--user", "root", "abc", "ls"},
      {"run", "--detach=maybe", "abc"},
  };
  for (const auto& args : bad) {
    INFO(args[0] << " " << args[1]);
    const RunResult r = run_berth(args);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("berth " + args[0] + ": ", 0) == 0);
    CHECK(r.err.find("not implemented") == std::string::npos);
  }
}

TEST_CASE("cgroup commands and exec take runc's flags and name a missing container", "[cli]") {
  const std::vector<std::vector<std::string>> cases = {
      {"exec", "-t", "-e", "A=1", "--env", "B=2", "-u", "1:2", "abc", "ls", "-l", "--foo"},
      {"exec", "-p", "/process.json", "abc"},
      {"exec", "--cwd", "/", "-g", "3", "--cap", "CAP_KILL", "--no-new-privs", "--preserve-fds", "1", "--cgroup", "x",
       "--ignore-paused", "-d", "--pid-file", "/p", "abc", "true"},
      {"ps", "abc", "-ef"},
      {"ps", "--format", "json", "abc"},
      {"pause", "abc"},
      {"resume", "abc"},
      {"events", "--interval", "1m30s", "--stats", "abc"},
      {"update", "--memory", "512m", "--memory-swap", "-1", "--cpu-quota", "-1", "-r", "-", "abc"},
      {"update", "--resources=/nonexistent", "abc"},
  };
  TempDir root;
  for (const auto& args : cases) {
    INFO(args[0] << " ...");
    std::vector<std::string> argv{"--root", root.path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult r = berth::test::berth(argv);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("container `abc` does not exist") != std::string::npos);
  }
}

TEST_CASE("checkpoint and restore take runc's flags and name a missing container or bundle", "[cli]") {
  TempDir tmp;
  const std::string root = (tmp / "root").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--root", root, "checkpoint", "--image-path", "/i", "--work-path", "/w", "--parent-path", "../p", "--leave-running",
        "--tcp-established", "--ext-unix-sk", "--shell-job", "--file-locks", "--pre-dump", "--lazy-pages", "--status-fd", "5",
        "--page-server", "10.0.0.1:27", "--manage-cgroups-mode", "full", "--empty-ns", "network", "--auto-dedup", "abc"},
       "berth checkpoint: container `abc` does not exist\n"},
      {{"--root", root, "restore", "--image-path", "/i", "--work-path", "/w", "--bundle", "/nonexistent-b", "--detach",
        "--pid-file", "/p", "--console-socket", "/s", "--no-pivot", "--no-subreaper", "--tcp-established", "--ext-unix-sk",
        "--shell-job", "--file-locks", "--manage-cgroups-mode", "soft", "--lazy-pages", "--empty-ns", "network", "abc"},
       "berth restore: bundle: resolve `/nonexistent-b`: No such file or directory\n"},
  };
  for (const auto& [args, err] : cases) {
    INFO(args[2] << " ...");
    const RunResult r = run_berth(args);
    CHECK(r.exit_code == 1);
    CHECK(r.err == err);
  }
}

TEST_CASE("lifecycle commands take runc's flags and name a missing bundle or container", "[cli]") {
  TempDir tmp;
  const std::string root = (tmp / "root").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"create", "--bundle", "/nonexistent-b", "--pid-file=/p", "--no-pivot", "--preserve-fds", "2", "abc"},
       "berth create: bundle: resolve `/nonexistent-b`: No such file or directory\n"},
      {{"run", "-d", "--keep", "-b", "/nonexistent-b", "abc"},
       "berth run: bundle: resolve `/nonexistent-b`: No such file or directory\n"},
      {{"start", "abc"}, "berth start: container `abc` does not exist\n"},
      {{"state", "abc"}, "berth state: container `abc` does not exist\n"},
      {{"kill", "abc"}, "berth kill: container `abc` does not exist\n"},
      {{"kill", "abc", "KILL", "--all"}, "berth kill: container `abc` does not exist\n"},  // flags after arguments
      {{"kill", "abc", "SIGNOPE"}, "berth kill: unknown signal \"SIGNOPE\"\n"},
      {{"delete", "abc"}, "berth delete: container `abc` does not exist\n"},
      {{"state", "../abc"}, "berth state: container id `../abc`: invalid character `/`"},
  };
  for (const auto& [args, err] : cases) {
    INFO(args[0] << " ...");
    std::vector<std::string> argv{"--root", root};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult r = run_berth(argv);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind(err, 0) == 0);
  }
  // As runc: deleting a missing container with --force succeeds; list on an empty root.
  CHECK(run_berth({"--root", root, "delete", "-f", "abc"}).exit_code == 0);
  RunResult l = run_berth({"--root", root, "list", "-q"});
  CHECK(l.exit_code == 0);
  CHECK(l.out.empty());
  l = run_berth({"--root", root, "list", "--format", "json"});
  CHECK(l.out == "null\n");
  l = run_berth({"--root", root, "list"});
  CHECK(l.out == "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
  CHECK_FALSE(std::filesystem::exists(tmp / "root" / "abc"));
}

TEST_CASE("the hidden init command is not for users", "[cli]") {
  const RunResult r = run_berth({"init"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("berth init: this is berth's internal init stage") == 0);
}

TEST_CASE("--log-format json writes one logrus JSON object per line", "[cli][log]") {
  TempDir tmp;
  const auto log = tmp / "log.json";
  // A message with quotes, a newline, HTML characters, UTF-8 and an invalid byte.
  const std::string odd = "b\"a\\d\n<&>\xc3\xa9\xff";
  RunResult r = run_berth({"--log", log.string(), "--log-format", "json", odd});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("unknown command") != std::string::npos);  // errors also go to stderr
  r = run_berth({"--debug", "--log", log.string(), "--log-format=json", "state", "abc"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth state: container `abc` does not exist\n");

  const std::vector<std::string> lines = split_lines(berth::test::read_file(log));
  REQUIRE(lines.size() >= 3);  // appended: both runs, debug lines of the second
  std::set<std::string> levels;
  std::vector<std::string> messages;
  for (const std::string& line : lines) {
    INFO(line);
    const json::value v = json::parse(line);
    REQUIRE(v.is_object());
    const json::object& o = v.as_object();
    CHECK(o.size() == 3);
    REQUIRE(o.contains("level"));
    REQUIRE(o.contains("msg"));
    REQUIRE(o.contains("time"));
    REQUIRE(o.at("level").is_string());
    REQUIRE(o.at("msg").is_string());
    REQUIRE(o.at("time").is_string());
    CHECK(is_rfc3339(o.at("time").as_string()));
    // logrus sorts the keys.
    CHECK(line.rfind("{\"level\":", 0) == 0);
    CHECK(line.find(",\"msg\":") < line.find(",\"time\":"));
    levels.insert(std::string(o.at("level").as_string()));
    messages.emplace_back(o.at("msg").as_string());
  }
  CHECK(levels == std::set<std::string>{"debug", "error"});
  CHECK(messages.front().find("unknown command \"b\"a\\d\n<&>\xc3\xa9\xef\xbf\xbd\"") == 0);
  CHECK(lines.front().find("\\u003c\\u0026\\u003e") != std::string::npos);  // Go's HTML-safe escapes
  CHECK(messages.back() == "container `abc` does not exist");
}

TEST_CASE("--log-format text writes logrus text lines", "[cli][log]") {
  TempDir tmp;
  const auto log = tmp / "log.txt";
  const RunResult r = run_berth({"--log", log.string(), "start", "abc"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "berth start: container `abc` does not exist\n");
  const std::vector<std::string> lines = split_lines(berth::test::read_file(log));
  REQUIRE(lines.size() == 1);  // no debug lines without --debug
  // time="..." level=error msg=...
  const std::string& line = lines[0];
  REQUIRE(line.rfind("time=\"", 0) == 0);
  const std::size_t time_end = line.find('"', 6);
  REQUIRE(time_end != std::string::npos);
  CHECK(is_rfc3339(std::string_view(line).substr(6, time_end - 6)));
  const std::string rest = line.substr(time_end + 1);
  REQUIRE(rest.rfind(" level=error msg=", 0) == 0);
  CHECK(rest.substr(std::string_view(" level=error msg=").size()) == "\"container `abc` does not exist\"");

  // level=error is bare (only [A-Za-z0-9-._/@^+]); other values use Go's %q.
  const RunResult bare = run_berth({"--log", log.string(), "x/y"});
  CHECK(bare.exit_code == 1);
  const std::string last = split_lines(berth::test::read_file(log)).back();
  CHECK(last.find(R"(msg="unknown command \"x/y\" )") != std::string::npos);
}

TEST_CASE("an unopenable log file is an error naming it", "[cli][log]") {
  TempDir tmp;
  const std::string log = (tmp / "missing" / "log").string();
  const RunResult r = run_berth({"--log", log, "list"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("`" + log + "`") != std::string::npos);
  CHECK(r.err.find("No such file or directory") != std::string::npos);
}

TEST_CASE("spec writes runc's default config.json", "[cli][spec]") {
  const bool rootless = GENERATE(false, true);
  INFO("rootless: " << rootless);
  TempDir tmp;
  std::vector<std::string> args = {"spec", "--bundle", tmp.path().string()};
  if (rootless) args.push_back("--rootless");
  const RunResult r = run_berth(args);
  REQUIRE(r.ok());
  CHECK(r.out.empty());
  CHECK(r.err.empty());

  const std::string text = berth::test::read_file(tmp / "config.json");
  // berth's own parser and validator accept it.
  berth::oci::Spec spec;
  try {
    spec = berth::oci::parse_config(text);
    berth::oci::validate(spec);
  } catch (const berth::Error& e) {
    FAIL("berth refuses its own spec: " << e.what());
  }
  CHECK(spec.oci_version == "1.3.0");
  CHECK(text.find("\n\t\"process\": {\n") != std::string::npos);  // tab-indented like runc

  // The same document as runc's (the fixture of runc 1.1.5, and the live
  // runc when installed), modulo ociVersion and key order.
  const std::string fixture_name = rootless ? "runc-spec-rootless.json" : "runc-spec.json";
  json::object expected = without_version(berth::test::read_file(berth::test::source_root() / "tests/fixtures" / fixture_name));
  if (rootless) expected = with_host_ids(std::move(expected), ::geteuid(), ::getegid());
  CHECK(json::serialize(without_version(text)) == json::serialize(json::value(expected)));  // readable on failure
  CHECK(without_version(text) == expected);

  if (berth::test::find_program("runc")) {
    TempDir runc_dir;
    std::vector<std::string> runc_args = {"runc", "spec", "--bundle", runc_dir.path().string()};
    if (rootless) runc_args.push_back("--rootless");
    REQUIRE(berth::test::run(runc_args).ok());
    CHECK(without_version(text) == without_version(berth::test::read_file(runc_dir / "config.json")));
  } else {
    WARN("runc is not installed: compared with the fixture only");
  }

  // Created with mode 0666 narrowed by the umask, as runc's WriteFile.
  struct stat st {};
  REQUIRE(::stat((tmp / "config.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == (0666 & ~current_umask()));
}

TEST_CASE("spec writes into the current directory by default", "[cli][spec]") {
  TempDir tmp;
  berth::test::RunOptions in_tmp;
  in_tmp.cwd = tmp.path();
  REQUIRE(run_berth({"spec"}, in_tmp).ok());
  CHECK(std::filesystem::exists(tmp / "config.json"));
  // -b is the short form of --bundle; Go's `-b=dir` and `-bundle dir` work too.
  for (const std::string form : {"-b", "-b=", "--bundle=", "-bundle", "-bundle="}) {
    INFO(form);
    TempDir other;
    std::vector<std::string> args = {"spec"};
    if (form.back() == '=')
      args.push_back(form + other.path().string());
    else
      args.insert(args.end(), {form, other.path().string()});
    REQUIRE(run_berth(args).ok());
    CHECK(std::filesystem::exists(other / "config.json"));
  }
}

TEST_CASE("spec refuses to overwrite config.json", "[cli][spec]") {
  TempDir tmp;
  const auto config = tmp / "config.json";
  berth::test::write_file(config, "mine");
  const RunResult r = run_berth({"spec", "-b", tmp.path().string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("`" + config.string() + "` exists") != std::string::npos);
  CHECK(berth::test::read_file(config) == "mine");

  // Not even through a dangling symlink (O_EXCL).
  TempDir tmp2;
  std::filesystem::create_symlink(tmp2 / "elsewhere.json", tmp2 / "config.json");
  CHECK(run_berth({"spec", "-b", tmp2.path().string()}).exit_code == 1);
  CHECK(!std::filesystem::exists(tmp2 / "elsewhere.json"));
}

TEST_CASE("spec fails on a missing bundle directory, naming it", "[cli][spec]") {
  TempDir tmp;
  const std::string missing = (tmp / "missing").string() + "/";
  const RunResult r = run_berth({"spec", "--bundle", missing});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("`" + missing + "`") != std::string::npos);
  CHECK(r.err.find("No such file or directory") != std::string::npos);
  CHECK(!std::filesystem::exists(tmp / "missing"));
}

TEST_CASE("spec takes no arguments", "[cli][spec]") {
  TempDir tmp;
  berth::test::RunOptions in_tmp;
  in_tmp.cwd = tmp.path();
  const RunResult r = run_berth({"spec", "extra"}, in_tmp);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("accepts no arguments") != std::string::npos);
  CHECK(!std::filesystem::exists(tmp / "config.json"));
}

TEST_CASE("features prints the features document", "[cli][features]") {
  const RunResult r = run_berth({"features"});
  REQUIRE(r.ok());
  const json::value v = json::parse(r.out);
  REQUIRE(v.is_object());
  const json::object& o = v.as_object();
  CHECK(o.at("ociVersionMin") == "1.0.0");
  CHECK(o.at("ociVersionMax") == "1.3.0");
  // The same version `berth --version` reports as "spec".
  CHECK(run_berth({"--version"}).out.find("\nspec: " + std::string(o.at("ociVersionMax").as_string()) + "\n") !=
        std::string::npos);
  // What has landed.
  CHECK(o.at("hooks").as_array().size() == 6);
  CHECK(o.at("mountOptions").as_array().size() > 50);
  const json::object& l = o.at("linux").as_object();
  CHECK(l.at("namespaces").as_array().size() == 8);
  CHECK(l.at("capabilities").as_array().size() >= 41);
  CHECK(json::serialize(l.at("cgroup")) == R"({"v1":true,"v2":true,"systemd":true,"systemdUser":false,"rdma":true})");
  const json::object& sc = l.at("seccomp").as_object();
  CHECK(sc.at("enabled") == true);
  CHECK(sc.at("actions").as_array().size() == 9);
  CHECK(sc.at("operators").as_array().size() == 7);
  CHECK(std::find(sc.at("archs").as_array().begin(), sc.at("archs").as_array().end(), json::value("SCMP_ARCH_X86_64")) !=
        sc.at("archs").as_array().end());
  CHECK(sc.at("knownFlags").as_array().size() == 4);
  CHECK(json::serialize(l.at("apparmor")) == R"({"enabled":true})");
  CHECK(json::serialize(l.at("selinux")) == R"({"enabled":true})");
}

TEST_CASE("the harness passes stdin, environment and working directory, and times out", "[harness]") {
  berth::test::RunOptions o;
  o.stdin_data = std::string(1 << 20, 'x');  // more than a pipe buffer
  o.env["BERTH_TEST_VAR"] = "value";
  o.env["HOME"] = std::nullopt;
  o.cwd = "/";
  RunResult r = berth::test::run({"sh", "-c", "wc -c; echo \"$BERTH_TEST_VAR ${HOME-unset}\"; pwd; echo err >&2; exit 3"}, o);
  CHECK(r.exit_code == 3);
  CHECK(r.out == "1048576\nvalue unset\n/\n");
  CHECK(r.err == "err\n");

  berth::test::RunOptions quick;
  quick.timeout = std::chrono::milliseconds(200);
  r = berth::test::run({"sleep", "10"}, quick);
  CHECK(r.timed_out);
  CHECK(r.signal == SIGKILL);

  CHECK_THROWS(berth::test::run({"/nonexistent/program"}));
}
