// Linux namespaces (config-linux.md "Namespaces"): which to create, which to join, in what order.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "oci/spec.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::ns {

int clone_flag(oci::NamespaceType t);
// The name under /proc/<pid>/ns/.
const char* proc_name(oci::NamespaceType t);

struct Join {
  oci::NamespaceType type;
  std::string path;
  sys::Fd fd;  // opened by the parent, so a bad path is reported before anything is spawned
};

struct Plan {
  unsigned long new_flags = 0;  // CLONE_NEW* of the namespaces to create
  std::vector<Join> joins;      // in setns order: user first, mount last
  bool new_user = false;
  // Joined pid/time/user namespaces, a new time namespace (its offsets must be written before
  // any process enters it) or joins combined with a new user namespace cannot be done by one
  // clone(): an intermediate process sets them up and forks the init stage.
  bool needs_intermediate = false;
};

// Opens every namespace path (errors name linux.namespaces[i].path) and computes the flags.
Plan plan(const oci::Spec& spec);

bool has(const oci::Spec& spec, oci::NamespaceType t);
// Whether the config asks for a new (not joined) namespace of type t.
bool creates(const oci::Spec& spec, oci::NamespaceType t);

// "/proc/self/timens_offsets" content for linux.timeOffsets.
std::string time_offsets(const oci::Spec& spec);
// uid_map / gid_map file content.
std::string id_map(const std::vector<oci::LinuxIdMapping>& m);
// The host id that container id `id` maps to; `id` itself without mappings; nullopt when unmapped.
std::optional<std::uint32_t> host_id(const std::optional<std::vector<oci::LinuxIdMapping>>& m, std::uint32_t id);

// Whether `m` is the one mapping an unprivileged process may write itself: a single id, its
// own (`own`), whatever container id it becomes.
bool maps_only(const std::vector<oci::LinuxIdMapping>& m, std::uint32_t own);
// The arguments newuidmap/newgidmap take after the program: pid, then each mapping's
// container id, host id and size.
std::vector<std::string> map_tool_args(pid_t pid, const std::vector<oci::LinuxIdMapping>& m);

// Whether this process runs in the initial user namespace: /proc/self/uid_map is the identity
// map of every id ("0 0 4294967295"), as runc's userns.RunningInUserNS reads it.
bool in_initial_user_ns();

}  // namespace berth::ns
