// Process attributes other than credentials (those are in credentials.cpp):
// rlimits, oom_score_adj, personality, scheduler, I/O priority, CPU affinity,
// the PATH lookup of args[0] and close-on-exec of the runtime's fds.
#include "runtime/process/attributes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <linux/sched.h>  // SCHED_FLAG_*
#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>

#include <fmt/format.h>

#include "oci/rlimits.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/procfs.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::process {

namespace {

// Larger than any kernel's NR_CPUS (8192 at most): rejects typos like
// "0-4294967295" before they turn into a huge allocation.
constexpr unsigned kMaxCpus = 1U << 16;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// 0 when `path` is a regular file the caller may execute, else the errno that
// explains why not (as Go's findExecutable: EISDIR for directories).
int check_executable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (!S_ISREG(st.st_mode)) return EACCES;  // what execve says for a fifo, a socket...
  // AT_EACCESS: the effective ids, i.e. the container user once credentials are set.
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) != 0) return errno;
  return 0;
}

int scheduler_policy(oci::SchedulerPolicy p) {
  switch (p) {
    case oci::SchedulerPolicy::Other: return SCHED_OTHER;
    case oci::SchedulerPolicy::Fifo: return SCHED_FIFO;
    case oci::SchedulerPolicy::Rr: return SCHED_RR;
    case oci::SchedulerPolicy::Batch: return SCHED_BATCH;
    case oci::SchedulerPolicy::Iso: return SCHED_ISO;  // reserved: the kernel answers EINVAL
    case oci::SchedulerPolicy::Idle: return SCHED_IDLE;
    case oci::SchedulerPolicy::Deadline: return SCHED_DEADLINE;
  }
  throw Error("process.scheduler.policy: unknown policy", EINVAL);
}

std::uint64_t scheduler_flag(oci::SchedulerFlag f) {
  switch (f) {
    case oci::SchedulerFlag::ResetOnFork: return SCHED_FLAG_RESET_ON_FORK;
    case oci::SchedulerFlag::Reclaim: return SCHED_FLAG_RECLAIM;
    case oci::SchedulerFlag::DlOverrun: return SCHED_FLAG_DL_OVERRUN;
    case oci::SchedulerFlag::KeepPolicy: return SCHED_FLAG_KEEP_POLICY;
    case oci::SchedulerFlag::KeepParams: return SCHED_FLAG_KEEP_PARAMS;
    case oci::SchedulerFlag::UtilClampMin: return SCHED_FLAG_UTIL_CLAMP_MIN;
    case oci::SchedulerFlag::UtilClampMax: return SCHED_FLAG_UTIL_CLAMP_MAX;
  }
  throw Error("process.scheduler.flags: unknown flag", EINVAL);
}

int io_priority_class(oci::IoPriorityClass c) {
  switch (c) {
    case oci::IoPriorityClass::Rt: return IOPRIO_CLASS_RT;
    case oci::IoPriorityClass::Be: return IOPRIO_CLASS_BE;
    case oci::IoPriorityClass::Idle: return IOPRIO_CLASS_IDLE;
  }
  throw Error("process.ioPriority.class: unknown class", EINVAL);
}

// A whole decimal number, nothing else.
std::optional<unsigned> parse_uint(std::string_view s) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<unsigned> parse_cpu(std::string_view s) {
  const auto v = parse_uint(s);
  if (!v || *v >= kMaxCpus) return std::nullopt;
  return v;
}

struct CpuSetDeleter {
  void operator()(cpu_set_t* set) const noexcept { CPU_FREE(set); }
};

struct DirDeleter {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

}  // namespace

// --- rlimits ------------------------------------------------------------------

std::vector<RlimitSetting> plan_rlimits(const oci::Process& p) {
  std::vector<RlimitSetting> out;
  if (!p.rlimits) return out;
  const auto names = oci::rlimit_names();
  for (std::size_t i = 0; i < p.rlimits->size(); ++i) {
    const oci::PosixRlimit& r = (*p.rlimits)[i];
    const auto it = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.name == r.type; });
    if (it == names.end())
      throw Error(fmt::format("process.rlimits[{}].type: unknown rlimit `{}`", i, r.type), EINVAL);
    if (std::any_of(out.begin(), out.end(), [&](const RlimitSetting& s) { return s.resource == it->resource; }))
      throw Error(fmt::format("process.rlimits[{}].type: duplicate rlimit `{}`", i, r.type), EINVAL);
    out.push_back({it->resource, it->name, r.soft, r.hard});
  }
  return out;
}

void apply_rlimits(const oci::Process& p) {
  const auto plan = plan_rlimits(p);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    // rlim_t is 64 bits on Linux and RLIM_INFINITY is ~0: the spec's uint64 maps 1:1.
    const rlimit lim{static_cast<rlim_t>(plan[i].soft), static_cast<rlim_t>(plan[i].hard)};
    if (::setrlimit(plan[i].resource, &lim) != 0)
      throw Error(fmt::format("process.rlimits[{}]: setrlimit {}", i, plan[i].name), errno);
  }
}

// --- oom_score_adj --------------------------------------------------------------

void apply_oom_score_adj(const oci::Process& p) {
  if (!p.oom_score_adj) return;
  with_context("process.oomScoreAdj", [&] {
    // Through a procfs nothing can be mounted over (CVE-2025-52881).
    try {
      sys::write_proc("self/oom_score_adj", std::to_string(*p.oom_score_adj));
    } catch (Error& e) {
      // Lowering it needs CAP_SYS_RESOURCE over the host: a rootless container can only raise it.
      if (e.errnum() == EACCES)
        e.wrap(fmt::format("{} is lower than the inherited value, which only host root may do", *p.oom_score_adj));
      throw;
    }
  });
}

// --- personality ----------------------------------------------------------------

unsigned long personality_value(const oci::LinuxPersonality& pers) {
  if (pers.flags && !pers.flags->empty())
    throw Error(fmt::format("linux.personality.flags[0]: unsupported personality flag `{}`", pers.flags->front()),
                EINVAL);
  switch (pers.domain) {
    case oci::PersonalityDomain::Linux: return PER_LINUX;
    case oci::PersonalityDomain::Linux32: return PER_LINUX32;
  }
  throw Error("linux.personality.domain: unknown domain", EINVAL);
}

void apply_personality(const oci::Spec& s) {
  if (!s.linux || !s.linux->personality) return;
  const unsigned long persona = personality_value(*s.linux->personality);
  if (::personality(persona) == -1)
    throw Error(fmt::format("linux.personality: personality {}", oci::to_string(s.linux->personality->domain)), errno);
}

// --- scheduler ------------------------------------------------------------------

SchedAttr scheduler_attr(const oci::Scheduler& s) {
  SchedAttr a;
  a.policy = static_cast<std::uint32_t>(scheduler_policy(s.policy));
  for (const auto f : s.flags.value_or(std::vector<oci::SchedulerFlag>{})) a.flags |= scheduler_flag(f);
  a.nice = s.nice.value_or(0);
  // A negative priority wraps to a huge value the kernel rejects with EINVAL.
  a.priority = static_cast<std::uint32_t>(s.priority.value_or(0));
  a.runtime = s.runtime.value_or(0);
  a.deadline = s.deadline.value_or(0);
  a.period = s.period.value_or(0);
  return a;
}

void apply_scheduler(const oci::Process& p) {
  if (!p.scheduler) return;
  SchedAttr a = scheduler_attr(*p.scheduler);
  // No glibc wrapper before 2.41. pid 0: the calling thread; init is single-threaded.
  if (::syscall(SYS_sched_setattr, 0, &a, 0U) != 0)
    throw Error(fmt::format("process.scheduler: sched_setattr {}", oci::to_string(p.scheduler->policy)), errno);
}

// --- I/O priority ---------------------------------------------------------------

int io_priority_value(const oci::IoPriority& io) {
  if (io.priority < 0 || io.priority >= IOPRIO_NR_LEVELS)
    throw Error(fmt::format("process.ioPriority.priority: {} is out of range 0..{}", io.priority, IOPRIO_NR_LEVELS - 1),
                EINVAL);
  return static_cast<int>(IOPRIO_PRIO_VALUE(io_priority_class(io.class_), io.priority));
}

void apply_io_priority(const oci::Process& p) {
  if (!p.io_priority) return;
  const int value = io_priority_value(*p.io_priority);
  if (::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) != 0)
    throw Error(fmt::format("process.ioPriority: ioprio_set {} {}", oci::to_string(p.io_priority->class_),
                            p.io_priority->priority),
                errno);
}

// --- CPU affinity ---------------------------------------------------------------

std::vector<unsigned> parse_cpu_list(std::string_view list, std::string_view where) {
  const auto invalid = [&] { return Error(fmt::format("{}: invalid CPU list `{}`", where, list), EINVAL); };
  std::vector<unsigned> cpus;
  std::string_view rest = trim(list);
  if (rest.empty()) return cpus;
  for (;;) {
    const auto comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    const auto dash = item.find('-');
    const auto first = parse_cpu(trim(item.substr(0, dash)));
    const auto last = dash == std::string_view::npos ? first : parse_cpu(trim(item.substr(dash + 1)));
    if (!first || !last || *last < *first) throw invalid();
    for (unsigned c = *first; c <= *last; ++c) cpus.push_back(c);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

void apply_exec_cpu_affinity(const oci::Process& p) {
  if (!p.exec_cpu_affinity) return;
  const auto& a = *p.exec_cpu_affinity;
  const bool has_final = a.final && !trim(*a.final).empty();
  const bool has_initial = a.initial && !trim(*a.initial).empty();
  if (!has_final && !has_initial) return;
  const std::string& list = has_final ? *a.final : *a.initial;
  const std::string_view where = has_final ? "process.execCPUAffinity.final" : "process.execCPUAffinity.initial";

  const std::vector<unsigned> cpus = parse_cpu_list(list, where);
  const unsigned count = cpus.back() + 1;
  std::unique_ptr<cpu_set_t, CpuSetDeleter> set(CPU_ALLOC(count));
  if (!set) throw Error(fmt::format("{}: allocate a CPU set of {}", where, count), ENOMEM);
  const std::size_t size = CPU_ALLOC_SIZE(count);
  CPU_ZERO_S(size, set.get());
  for (const unsigned c : cpus) CPU_SET_S(c, size, set.get());
  if (::sched_setaffinity(0, size, set.get()) != 0)
    throw Error(fmt::format("{}: sched_setaffinity `{}`", where, list), errno);
}

// --- executable lookup ------------------------------------------------------------

std::string path_from_env(const std::vector<std::string>& env) {
  // The last entry wins, as runc sets them one by one with os.Setenv.
  for (auto it = env.rbegin(); it != env.rend(); ++it)
    if (it->starts_with("PATH=")) return it->substr(5);
  return std::string(kDefaultPath);
}

std::string find_executable_in(std::string_view file, std::string_view path) {
  if (file.find('/') != std::string_view::npos) {
    // A path (absolute, or relative to the cwd): execve takes it as is.
    const std::string f(file);
    if (const int err = check_executable(f); err != 0) throw Error(fmt::format("exec `{}`", file), err);
    return f;
  }
  if (!file.empty()) {
    std::string_view rest = path;
    for (;;) {
      const auto colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      // Relative entries ("", ".", "bin") would resolve against the working
      // directory; Go's LookPath refuses those results (ErrDot), so does berth.
      if (dir.starts_with('/')) {
        std::string candidate(dir);
        if (!candidate.ends_with('/')) candidate += '/';
        candidate += file;
        if (check_executable(candidate) == 0) return candidate;
      }
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  throw Error(fmt::format("exec `{}`: executable file not found in $PATH", file), ENOENT);
}

std::string find_executable(const oci::Process& p) {
  if (!p.args || p.args->empty()) throw Error("process.args: at least one entry is required", EINVAL);
  return find_executable_in(p.args->front(), path_from_env(p.env.value_or(oci::Strings{})));
}

// --- fds --------------------------------------------------------------------------

void cloexec_fds_from(int first_to_close) {
  const unsigned first = first_to_close < 0 ? 0U : static_cast<unsigned>(first_to_close);
  if (::close_range(first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  if (errno != ENOSYS && errno != EINVAL) throw_errno("close_range CLOSE_RANGE_CLOEXEC");

  // Before Linux 5.11: walk the open fds.
  std::unique_ptr<DIR, DirDeleter> dir(::opendir("/proc/self/fd"));
  if (!dir) throw_errno("opendir", "/proc/self/fd");
  const int own = ::dirfd(dir.get());
  errno = 0;
  while (const dirent* e = ::readdir(dir.get())) {
    const auto fd = parse_uint(e->d_name);  // nullopt for "." and ".."
    if (!fd || *fd < first) continue;
    const int n = static_cast<int>(*fd);
    if (n == own) continue;
    const int flags = ::fcntl(n, F_GETFD);
    if (flags < 0 || ::fcntl(n, F_SETFD, flags | FD_CLOEXEC) < 0)
      throw Error(fmt::format("fcntl F_SETFD FD_CLOEXEC on fd {}", n), errno);
  }
  if (errno != 0) throw_errno("readdir", "/proc/self/fd");
}

}  // namespace berth::process
