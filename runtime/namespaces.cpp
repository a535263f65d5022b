#include "runtime/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::ns {

using oci::NamespaceType;

int clone_flag(NamespaceType t) {
  switch (t) {
    case NamespaceType::Mount: return CLONE_NEWNS;
    case NamespaceType::Pid: return CLONE_NEWPID;
    case NamespaceType::Network: return CLONE_NEWNET;
    case NamespaceType::Uts: return CLONE_NEWUTS;
    case NamespaceType::Ipc: return CLONE_NEWIPC;
    case NamespaceType::User: return CLONE_NEWUSER;
    case NamespaceType::Cgroup: return CLONE_NEWCGROUP;
    case NamespaceType::Time: return CLONE_NEWTIME;
  }
  return 0;
}

const char* proc_name(NamespaceType t) {
  switch (t) {
    case NamespaceType::Mount: return "mnt";
    case NamespaceType::Pid: return "pid";
    case NamespaceType::Network: return "net";
    case NamespaceType::Uts: return "uts";
    case NamespaceType::Ipc: return "ipc";
    case NamespaceType::User: return "user";
    case NamespaceType::Cgroup: return "cgroup";
    case NamespaceType::Time: return "time";
  }
  return "";
}

namespace {
// setns order: the user namespace first (it owns the others), then the rest, the mount
// namespace last so paths of the others are still resolved in the runtime's view.
int join_rank(NamespaceType t) {
  switch (t) {
    case NamespaceType::User: return 0;
    case NamespaceType::Ipc: return 1;
    case NamespaceType::Uts: return 2;
    case NamespaceType::Network: return 3;
    case NamespaceType::Pid: return 4;
    case NamespaceType::Time: return 5;
    case NamespaceType::Cgroup: return 6;
    case NamespaceType::Mount: return 7;
  }
  return 8;
}
}  // namespace

Plan plan(const oci::Spec& spec) {
  Plan p;
  if (!spec.linux || !spec.linux->namespaces) return p;
  const auto& nss = *spec.linux->namespaces;
  for (size_t i = 0; i < nss.size(); ++i) {
    const auto& n = nss[i];
    if (!n.path || n.path->empty()) {
      p.new_flags |= static_cast<unsigned long>(clone_flag(n.type));
      continue;
    }
    sys::Fd fd = with_context(fmt::format("linux.namespaces[{}].path", i),
                              [&] { return sys::openat(AT_FDCWD, *n.path, O_RDONLY); });
    p.joins.push_back(Join{n.type, *n.path, std::move(fd)});
  }
  std::stable_sort(p.joins.begin(), p.joins.end(),
                   [](const Join& a, const Join& b) { return join_rank(a.type) < join_rank(b.type); });
  p.new_user = (p.new_flags & CLONE_NEWUSER) != 0;
  for (const auto& j : p.joins)
    if (j.type == NamespaceType::Pid || j.type == NamespaceType::Time || j.type == NamespaceType::User)
      p.needs_intermediate = true;
  if (p.new_flags & CLONE_NEWTIME) p.needs_intermediate = true;
  if (p.new_user && !p.joins.empty()) p.needs_intermediate = true;
  return p;
}

bool has(const oci::Spec& spec, NamespaceType t) {
  if (!spec.linux || !spec.linux->namespaces) return false;
  for (const auto& n : *spec.linux->namespaces)
    if (n.type == t) return true;
  return false;
}

bool creates(const oci::Spec& spec, NamespaceType t) {
  if (!spec.linux || !spec.linux->namespaces) return false;
  for (const auto& n : *spec.linux->namespaces)
    if (n.type == t && (!n.path || n.path->empty())) return true;
  return false;
}

std::string time_offsets(const oci::Spec& spec) {
  std::string out;
  if (!spec.linux || !spec.linux->time_offsets) return out;
  for (const auto& [clock, off] : *spec.linux->time_offsets)
    out += fmt::format("{} {} {}\n", clock, off.secs.value_or(0), off.nanosecs.value_or(0));
  return out;
}

std::string id_map(const std::vector<oci::LinuxIdMapping>& m) {
  std::string out;
  for (const auto& e : m) out += fmt::format("{} {} {}\n", e.container_id, e.host_id, e.size);
  return out;
}

std::optional<std::uint32_t> host_id(const std::optional<std::vector<oci::LinuxIdMapping>>& m, std::uint32_t id) {
  if (!m) return id;
  for (const auto& e : *m)
    if (id >= e.container_id && id - e.container_id < e.size) return e.host_id + (id - e.container_id);
  return std::nullopt;
}

bool maps_only(const std::vector<oci::LinuxIdMapping>& m, std::uint32_t own) {
  return m.size() == 1 && m[0].host_id == own && m[0].size == 1;
}

std::vector<std::string> map_tool_args(pid_t pid, const std::vector<oci::LinuxIdMapping>& m) {
  std::vector<std::string> out{std::to_string(pid)};
  for (const auto& e : m) {
    out.push_back(std::to_string(e.container_id));
    out.push_back(std::to_string(e.host_id));
    out.push_back(std::to_string(e.size));
  }
  return out;
}

bool in_initial_user_ns() {
  // Without /proc (or its uid_map) there is no sign of a user namespace: the initial one.
  const auto text = sys::try_read_file(AT_FDCWD, "/proc/self/uid_map");
  if (!text) return true;
  unsigned long long inside = 0, outside = 0, count = 0;
  if (std::sscanf(text->c_str(), "%llu %llu %llu", &inside, &outside, &count) != 3) return true;
  return inside == 0 && outside == 0 && count == 4294967295ULL;
}

}  // namespace berth::ns
