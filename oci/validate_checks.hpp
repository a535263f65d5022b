// Internal to oci/: the checks validate() runs, split between validate.cpp
// (config.md: version, root, mounts, process, hooks, annotations) and
// validate_linux.cpp (config-linux.md), and the helpers they share.
#pragma once

#include <string_view>

#include "oci/json.hpp"
#include "oci/spec.hpp"

namespace berth::oci::checks {

// Each throws berth::Error "<json path>: <what is wrong>" on a violation.
using Check = void (*)(const Spec&);

void oci_version(const Spec&);
void root(const Spec&);
void mounts(const Spec&);
void process(const Spec&);
void capabilities(const Spec&);
void rlimits(const Spec&);
void scheduler(const Spec&);
void io_priority(const Spec&);
void oom_score_adj(const Spec&);
void exec_cpu_affinity(const Spec&);
void uts(const Spec&);
void hooks(const Spec&);
void annotations(const Spec&);

void namespaces(const Spec&);
void id_mappings(const Spec&);
void time_offsets(const Spec&);
void devices(const Spec&);
void cgroup_devices(const Spec&);
void memory(const Spec&);
void cpu(const Spec&);
void pids(const Spec&);
void block_io(const Spec&);
void hugepages(const Spec&);
void network(const Spec&);
void rdma(const Spec&);
void unified(const Spec&);
void seccomp(const Spec&);
void sysctl(const Spec&);
void masked_and_readonly_paths(const Spec&);
void intel_rdt(const Spec&);
void personality(const Spec&);
void net_devices(const Spec&);
void memory_policy(const Spec&);

// --- shared helpers ----------------------------------------------------------

inline bool is_absolute(std::string_view path) noexcept { return !path.empty() && path.front() == '/'; }

// "must be an absolute path, got "rootfs"" unless `path` starts with '/'.
void require_absolute(const JsonPath& where, std::string_view path);

// exec and the environment take C strings: an embedded NUL would silently
// cut the value, so "must not contain a NUL byte".
void require_no_nul(const JsonPath& where, std::string_view s);
void require_no_nul(const JsonPath& where, const std::optional<Strings>& list);

// Sizes > 0 and ranges inside the 32-bit id space, for every mapping of the list.
void check_id_mappings(const JsonPath& where, const std::vector<LinuxIdMapping>& maps);

// The linux.namespaces entry of `type`, or nullptr when the container shares
// the runtime's namespace of that type.
const LinuxNamespace* find_namespace(const Spec& spec, NamespaceType type) noexcept;

// "0-3,7" style lists (cpuset, NUMA nodes, affinity): comma-separated N or
// N-M (N <= M), optionally N-M:A/B as the kernel's bitmap_parselist accepts,
// blanks around items allowed; "" is valid (means "not set").
bool is_id_list(std::string_view list) noexcept;

}  // namespace berth::oci::checks
