#include "runtime/id_maps.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/namespaces.hpp"
#include "runtime/process/capabilities.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth {

namespace {

// The first `name` in $PATH that is an executable file, as runc resolves newuidmap.
std::optional<std::string> find_in_path(std::string_view name) {
  const char* env = std::getenv("PATH");
  std::string_view path = env && *env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (!path.empty()) {
    const size_t colon = path.find(':');
    const std::string_view dir = path.substr(0, colon);
    std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

// Runs newuidmap/newgidmap (setuid root, from the uidmap package) on the child: they write the
// mappings /etc/subuid and /etc/subgid grant the user. Returns "" on success, else what went
// wrong (the tool's own message when it printed one).
std::string run_map_tool(const std::string& tool, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(tool.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto [rd, wr] = sys::pipe();
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  ::posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  char* const envp[] = {nullptr};  // setuid programs: nothing of ours to pass
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, tool.c_str(), &fa, nullptr, argv.data(), envp);
  ::posix_spawn_file_actions_destroy(&fa);
  wr.reset();
  if (err != 0) return fmt::format("cannot run it: {}", std::strerror(err));
  std::string out;
  try {
    out = sys::read_all(rd.get(), tool);
  } catch (const Error&) {
  }
  const int st = sys::waitpid(pid);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return {};
  const std::string how = WIFEXITED(st) ? fmt::format("exit status {}", WEXITSTATUS(st))
                                        : fmt::format("signal {}", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return out.empty() ? how : fmt::format("{}: {}", how, out);
}

// Writes /proc/<pid>/{uid,gid}_map. The kernel lets a process without CAP_SETUID (CAP_SETGID)
// over the parent user namespace map only its own id, and for gid_map only once setgroups is
// denied; anything else goes through newuidmap/newgidmap, as runc does.
void write_id_map(pid_t pid, const std::vector<oci::LinuxIdMapping>& m, bool gid) {
  const char* field = gid ? "linux.gidMappings" : "linux.uidMappings";
  const char* file = gid ? "gid_map" : "uid_map";
  const std::string path = fmt::format("/proc/{}/{}", pid, file);
  const std::uint32_t own = gid ? ::getegid() : ::geteuid();
  const int cap = gid ? CAP_SETGID : CAP_SETUID;
  const bool privileged = (process::caps::get().effective >> cap) & 1U;
  if (gid && !privileged && ns::maps_only(m, own)) {
    // setgroups(2) stays impossible in the container: an unprivileged user could otherwise drop
    // a group that denies it access to files (user_namespaces(7), CVE-2014-8989).
    with_context(field, [&] { sys::write_file(AT_FDCWD, fmt::format("/proc/{}/setgroups", pid), "deny"); });
  }
  int direct = 0;
  try {
    sys::write_file(AT_FDCWD, path, ns::id_map(m));
    return;
  } catch (Error& e) {
    if (e.errnum() != EPERM) {
      e.wrap(field);
      throw;
    }
    direct = e.errnum();
  }
  const char* tool_name = gid ? "newgidmap" : "newuidmap";
  const std::string hint = fmt::format(
      "without {} (package uidmap, with ranges in /etc/sub{}id) an unprivileged user can map only its own {} ({}, size "
      "1)",
      tool_name, gid ? "g" : "u", gid ? "gid" : "uid", own);
  const std::optional<std::string> tool = find_in_path(tool_name);
  if (!tool) throw Error(fmt::format("{}: {}: write `{}`", field, hint, path), direct);
  const std::vector<std::string> args = ns::map_tool_args(pid, m);
  const std::string failed = run_map_tool(*tool, args);
  if (failed.empty()) return;
  throw Error(fmt::format("{}: `{} {}` failed ({}), and write `{}`", field, *tool, fmt::join(args, " "), failed, path),
              direct);
}

}  // namespace

void write_id_maps(pid_t pid, const oci::Spec& spec) {
  const auto& l = *spec.linux;
  // runc's order: uid_map, then setgroups and gid_map.
  if (l.uid_mappings) write_id_map(pid, *l.uid_mappings, false);
  if (l.gid_mappings) write_id_map(pid, *l.gid_mappings, true);
}

}  // namespace berth
