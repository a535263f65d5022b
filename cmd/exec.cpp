// berth exec: runs an extra process inside a running container (runc exec).
// Flags stop at the container id: what follows is the process's argv.
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "runtime/sys/error.hpp"

namespace berth::cmd {

const CommandInfo kExecCommand{
    .name = "exec",
    .summary = "execute new process inside the container",
    .args_usage = "<container-id> <command> [command options]  || -p process.json <container-id>",
    .description = R"(Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # berth exec <container-id> ps)",
    .min_args = 1,
    .max_args = kUnlimited,
    .stop_at_first_arg = true,
};

namespace {

struct ExecUser {
  std::uint32_t uid = 0;
  std::optional<std::uint32_t> gid;
};

struct ExecArgs {
  std::string id;
  std::vector<std::string> command;  // empty when --process gives the process
  std::string console_socket;
  std::string cwd;
  std::vector<std::string> env;
  bool tty = false;
  std::optional<ExecUser> user;
  std::vector<std::uint32_t> additional_gids;
  std::string process;  // path to a process.json
  bool detach = false;
  std::string pid_file;
  std::string process_label;
  std::string apparmor;
  bool no_new_privs = false;
  std::vector<std::string> caps;
  unsigned preserve_fds = 0;
  std::vector<std::string> cgroups;  // [<controller>:]<cgroup>
  bool ignore_paused = false;
};

// --user <uid>[:<gid>]
ExecUser parse_user(const std::string& v) {
  ExecUser u;
  const std::size_t colon = v.find(':');
  u.uid = static_cast<std::uint32_t>(parse_uint("user", v.substr(0, colon), UINT32_MAX));
  if (colon != std::string::npos)
    u.gid = static_cast<std::uint32_t>(parse_uint("user", v.substr(colon + 1), UINT32_MAX));
  return u;
}

}  // namespace

int cmd_exec([[maybe_unused]] const GlobalOptions& global, const std::vector<std::string>& args) {
  ExecArgs a;
  po::options_description flags;
  flags.add_options()
      ("console-socket", po::value(&a.console_socket),
       "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the "
       "console's pseudoterminal")
      ("cwd", po::value(&a.cwd), "current working directory in the container")
      ("env,e", po::value(&a.env)->composing(), "set environment variables")
      ("tty,t", flag(&a.tty), "allocate a pseudo-TTY")
      ("user,u", po::value<std::string>()->notifier([&a](const std::string& v) { a.user = parse_user(v); }),
       "UID (format: <uid>[:<gid>])")
      ("additional-gids,g",
       po::value<std::vector<std::string>>()->composing()->notifier([&a](const std::vector<std::string>& v) {
         for (const std::string& gid : v)
           a.additional_gids.push_back(static_cast<std::uint32_t>(parse_uint("additional-gids", gid, UINT32_MAX)));
       }),
       "additional gids")
      ("process,p", po::value(&a.process), "path to the process.json")
      ("detach,d", flag(&a.detach), "detach from the container's process")
      ("pid-file", po::value(&a.pid_file), "specify the file to write the process id to")
      ("process-label", po::value(&a.process_label),
       "set the asm process label for the process commonly used with selinux")
      ("apparmor", po::value(&a.apparmor), "set the apparmor profile for the process")
      ("no-new-privs", flag(&a.no_new_privs), "set the no new privileges value for the process")
      ("cap,c", po::value(&a.caps)->composing(), "add a capability to the bounding set for the process")
      ("preserve-fds",
       po::value<std::string>()->notifier(
           [&a](const std::string& v) { a.preserve_fds = static_cast<unsigned>(parse_uint("preserve-fds", v, INT_MAX)); }),
       "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)")
      ("cgroup", po::value(&a.cgroups)->composing(),
       "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.")
      ("ignore-paused", flag(&a.ignore_paused), "allow exec in a paused container");
  const auto positional = parse_command(kExecCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  a.command.assign(positional->begin() + 1, positional->end());
  if (a.command.empty() && a.process.empty())
    throw Error("requires a command to execute after <container-id>, or -p process.json");
  not_implemented(kExecIssue);
}

}  // namespace berth::cmd
