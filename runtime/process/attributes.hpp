// The container process's own attributes, applied by `berth init` inside the
// container (after pivot_root, just before execve): rlimits, oom_score_adj,
// personality, scheduler, I/O priority, CPU affinity, then user, groups,
// capabilities and no_new_privs; plus the PATH lookup of args[0] and marking
// the runtime's fds close-on-exec.
//
// Each apply_* is a no-op when its field is unset. Errors are berth::Error with
// the spec field, the operation and the errno:
//   process.rlimits[1]: setrlimit RLIMIT_NOFILE: Operation not permitted
//
// The pure halves (plan_*, *_value, scheduler_attr, parse_cpu_list,
// find_executable_in) are exposed so they can be unit-tested without
// privileges.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.hpp"

namespace berth::process {

// --- what init calls, in this order ----------------------------------------

// setrlimit for each process.rlimits entry. Before dropping privileges: raising
// a hard limit needs CAP_SYS_RESOURCE.
void apply_rlimits(const oci::Process& p);

// Writes process.oomScoreAdj to /proc/self/oom_score_adj (the container's /proc
// must be mounted). Lowering it needs CAP_SYS_RESOURCE.
void apply_oom_score_adj(const oci::Process& p);

// personality(2) from linux.personality (LINUX or LINUX32; no flag is defined
// by the spec, so any flag is refused).
void apply_personality(const oci::Spec& s);

// sched_setattr(2) on the calling thread with process.scheduler's policy, nice,
// priority, flags, runtime, deadline and period (unset numbers are 0).
void apply_scheduler(const oci::Process& p);

// ioprio_set(IOPRIO_WHO_PROCESS, 0, class|priority) from process.ioPriority.
void apply_io_priority(const oci::Process& p);

// Sets the CPU affinity the executed process starts with, from
// process.execCPUAffinity. What berth does, and how it differs from runc:
// - runc applies `initial` to its init before the child joins the container's
//   cgroup and `final` from the parent after it has. Here init is already in
//   the cgroup when this runs, so the affinity the process must end up with is
//   applied, once, before execve: `final` when it is set and not empty, else
//   `initial` (runc's result when only `initial` is set); nothing when both are
//   unset or empty. No window where the process runs with `initial`.
// - Applying `initial` *before* the cgroup join (so the runtime's own set-up
//   runs on those CPUs) is the parent's job: it can use parse_cpu_list() and
//   sched_setaffinity on the child before moving it.
// - config.md: "not applicable to the container's init process". Call it only
//   for `berth exec`'s process, not for create/run.
void apply_exec_cpu_affinity(const oci::Process& p);

// In this order: setgroups(additionalGids) (skipped, as runc does, when
// /proc/self/setgroups says "deny", i.e. in a user namespace set up by an
// unprivileged user), setresgid, setresuid, umask (process.user.umask, default
// 0022). Capabilities (when process.capabilities is set) with capset and
// prctl (runtime/process/capabilities.hpp): the
// bounding set is dropped before the uid change, while CAP_SETPCAP is still
// held; PR_SET_KEEPCAPS keeps the permitted set across setresuid so that a
// non-root user gets exactly the configured effective/permitted/inheritable
// sets afterwards; ambient capabilities are raised last, one by one with
// prctl(PR_CAP_AMBIENT_RAISE) so that a failure names the capability (a
// warning, as in runc). Names unknown to the kernel, and capabilities this
// process does not hold itself, are left out with a warning (config.md: "SHOULD
// NOT fail"). Then PR_SET_NO_NEW_PRIVS when process.noNewPrivileges is true.
// The parent-death signal, which the kernel clears on a credential change, is
// restored.
void apply_credentials(const oci::Process& p);

// The path to execute for args[0], looked up as runc does (Go's exec.LookPath)
// in the PATH of process.env (the last PATH= entry; kDefaultPath when env has
// none), inside the already-pivoted root. A candidate must be a regular file
// executable by the caller (faccessat AT_EACCESS): call it after
// apply_credentials, as runc does, so that the container user's access counts.
// args[0] containing a slash is not searched: it is checked and returned as
// given. Relative PATH entries (and empty ones, which mean ".") are skipped, as
// Go refuses results relative to the working directory. Throws
// Error("exec `sh`: executable file not found in $PATH", ENOENT).
std::string find_executable(const oci::Process& p);

// Marks every fd >= first_to_close close-on-exec: close_range(2) with
// CLOSE_RANGE_CLOEXEC (a /proc/self/fd walk on kernels before 5.11). Nothing is
// closed now, so init can still report an execve failure over the sync socket,
// and fds that must survive (stdio, --preserve-fds) are below first_to_close.
void cloexec_fds_from(int first_to_close);

// --- pure parts ---------------------------------------------------------------

// PATH used when process.env has no PATH entry.
inline constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The value of the last `PATH=` entry in env; kDefaultPath when there is none.
std::string path_from_env(const std::vector<std::string>& env);

// find_executable's lookup of `file` in the colon-separated `path`.
std::string find_executable_in(std::string_view file, std::string_view path);

struct RlimitSetting {
  int resource;           // RLIMIT_NOFILE
  std::string_view name;  // "RLIMIT_NOFILE"
  std::uint64_t soft;
  std::uint64_t hard;
};

// process.rlimits mapped to resource numbers. Throws for an unknown type and
// for a type given twice (config.md: "MUST generate an error").
std::vector<RlimitSetting> plan_rlimits(const oci::Process& p);

// Capability sets as bit masks (bit n = capability n).
struct CapabilityPlan {
  std::uint64_t bounding = 0;
  std::uint64_t effective = 0;
  std::uint64_t inheritable = 0;
  std::uint64_t permitted = 0;
  std::uint64_t ambient = 0;
  // One line per name left out, for the warnings: "CAP_FOO (unknown)",
  // "CAP_BPF (not held by berth)".
  std::vector<std::string> skipped;

  friend bool operator==(const CapabilityPlan&, const CapabilityPlan&) = default;
};

// Maps names to bits. Names that are unknown, or numbered above `last_cap`
// (caps::last_cap(), the running kernel's), are skipped. Effective, permitted,
// inheritable and ambient are also masked by `held` (the caller's permitted
// set): asking the kernel for more fails with EPERM. Absent lists are empty.
CapabilityPlan plan_capabilities(const oci::LinuxCapabilities& caps, int last_cap,
                                 std::uint64_t held = ~std::uint64_t{0});

// linux.personality as the personality(2) argument (PER_LINUX, PER_LINUX32).
unsigned long personality_value(const oci::LinuxPersonality& pers);

// The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1), the argument of
// sched_setattr(2). <linux/sched/types.h> cannot be used: it redefines glibc's
// struct sched_param.
struct SchedAttr {
  std::uint32_t size = sizeof(SchedAttr);
  std::uint32_t policy = 0;
  std::uint64_t flags = 0;
  std::int32_t nice = 0;
  std::uint32_t priority = 0;
  std::uint64_t runtime = 0;
  std::uint64_t deadline = 0;
  std::uint64_t period = 0;
  std::uint32_t util_min = 0;
  std::uint32_t util_max = 0;
};
static_assert(sizeof(SchedAttr) == 56, "SCHED_ATTR_SIZE_VER1");

// process.scheduler as the sched_setattr(2) argument.
SchedAttr scheduler_attr(const oci::Scheduler& s);

// process.ioPriority as the ioprio_set(2) value (class << 13 | priority);
// priority must be 0..7. (Not named ioprio_value: newer <linux/ioprio.h> has one.)
int io_priority_value(const oci::IoPriority& io);

// "0-3,7" -> {0, 1, 2, 3, 7} (sorted, no duplicates). Throws
// Error("<where>: invalid CPU list `...`", EINVAL) on anything else.
std::vector<unsigned> parse_cpu_list(std::string_view list, std::string_view where);

}  // namespace berth::process
