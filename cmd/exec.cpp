// berth exec: runs an extra process inside a running container (runc exec).
// Flags stop at the container id: what follows is the process's argv.
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>

#include <boost/json.hpp>

#include "cmd/commands.hpp"
#include "oci/spec.hpp"
#include "runtime/container.hpp"
#include "runtime/signal_proxy.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"
#include "runtime/terminal.hpp"

namespace berth::cmd {

namespace json = boost::json;

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

// Appends entries of `add` not yet in `set` (capability lists).
void add_caps(std::optional<oci::Strings>& set, const std::vector<std::string>& add) {
  if (!set) set.emplace();
  for (const std::string& c : add)
    if (std::find(set->begin(), set->end(), c) == set->end()) set->push_back(c);
}

// KEY=VALUE entries of `add` replace those of env with the same key, or are appended.
void merge_env(std::vector<std::string>& env, const std::vector<std::string>& add) {
  for (const std::string& e : add) {
    const std::string key = e.substr(0, e.find('='));
    const auto same = [&](const std::string& x) { return x.compare(0, key.size() + 1, key + "=") == 0 || x == key; };
    const auto it = std::find_if(env.begin(), env.end(), same);
    if (it != env.end()) *it = e;
    else env.push_back(e);
  }
}

// --process FILE: a whole process object (config.md "process"), errors named by field.
oci::Process read_process_file(const std::string& path) {
  const std::string text = sys::read_file(AT_FDCWD, path);
  return with_context(fmt::format("--process `{}`", path), [&] {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) throw Error(fmt::format("invalid JSON: {}", ec.message()));
    json::object doc{{"ociVersion", "1.3.0"}};
    doc["process"] = std::move(v);
    oci::Spec s = oci::decode_config(doc);
    return std::move(*s.process);
  });
}

// runc's getProcess: the container's own process with the flags applied, or --process as is.
oci::Process exec_process(const ExecArgs& a, const Container& c) {
  if (!a.process.empty()) return read_process_file(a.process);
  oci::Process p = *c.config().process;
  p.args = a.command;
  p.terminal = a.tty;
  if (!a.cwd.empty()) p.cwd = a.cwd;
  if (!a.env.empty()) {
    if (!p.env) p.env.emplace();
    merge_env(*p.env, a.env);
  }
  if (a.user) {
    if (!p.user) p.user.emplace();
    p.user->uid = a.user->uid;
    p.user->gid = a.user->gid.value_or(0);
  }
  if (!a.additional_gids.empty()) {
    if (!p.user) p.user.emplace();
    p.user->additional_gids = a.additional_gids;
  }
  if (a.no_new_privs) p.no_new_privileges = true;
  if (!a.apparmor.empty()) p.apparmor_profile = a.apparmor;
  if (!a.process_label.empty()) p.selinux_label = a.process_label;
  if (!a.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    oci::LinuxCapabilities& caps = *p.capabilities;
    add_caps(caps.bounding, a.caps);
    add_caps(caps.effective, a.caps);
    add_caps(caps.permitted, a.caps);
    // Ambient needs inheritable, which --cap does not set: only where the spec has some (runc).
    if (caps.inheritable) add_caps(caps.ambient, a.caps);
  }
  return p;
}

}  // namespace

int cmd_exec(const GlobalOptions& global, const std::vector<std::string>& args) {
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

  Factory factory(global.root);
  Container c = factory.load(a.id);
  ExecOptions o;
  o.process = exec_process(a, c);
  const bool tty = o.process.terminal.value_or(false);
  // runc's checks, with its wording.
  if (tty && a.detach && a.console_socket.empty())
    throw Error("cannot allocate tty if berth will detach without setting console socket");
  if (!tty && !a.console_socket.empty())
    throw Error("cannot use console socket if berth will not detach or allocate tty");
  o.console_socket = a.console_socket;
  o.terminal_to_caller = tty && a.console_socket.empty();
  o.pid_file = a.pid_file;
  o.preserve_fds = static_cast<int>(a.preserve_fds);
  o.sub_cgroups = a.cgroups;
  o.ignore_paused = a.ignore_paused;
  // The process may be reparented to us (a joined pid namespace needs an intermediate fork).
  if (!a.detach && ::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) throw_errno("prctl PR_SET_CHILD_SUBREAPER");
  ExecProcess p = c.exec(o);
  if (a.detach) return 0;
  std::optional<terminal::RawMode> raw;
  if (p.pty.valid()) raw.emplace(STDIN_FILENO);
  SignalProxy proxy;
  return proxy.forward_until_exit(p.pid, p.pty.valid() ? p.pty.get() : -1);
}

}  // namespace berth::cmd
