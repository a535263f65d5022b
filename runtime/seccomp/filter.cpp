// linux.seccomp -> libseccomp, following runc's libcontainer/seccomp/seccomp_linux.go: the same
// action mapping, the same default errno (EPERM), the same handling of unknown syscall names
// and of several conditions on one argument, so runc profiles filter the same syscalls here.
#include "runtime/seccomp/filter.hpp"

#include <seccomp.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oci/enums.hpp"
#include "runtime/sys/error.hpp"

namespace berth::seccomp {
namespace {

constexpr std::size_t kMaxArgs = 6;  // the kernel's seccomp_data has six arguments

// The kernel keeps 16 bits of SECCOMP_RET_DATA; libseccomp's macros would silently mask the
// rest, turning errnoRet 65537 into 1 (EPERM).
std::uint32_t ret_data(std::optional<std::uint32_t> errno_ret, const std::string& field) {
  const std::uint32_t v = errno_ret.value_or(EPERM);
  if (v > 0xffff) throw Error(fmt::format("{}: {} does not fit in the 16 bits of a seccomp return value", field, v));
  return v;
}

std::uint32_t to_action(oci::SeccompAction a, std::optional<std::uint32_t> errno_ret, const std::string& errno_field) {
  using A = oci::SeccompAction;
  switch (a) {
    case A::Kill:  // the spec's KILL predates KILL_PROCESS and kills the thread
    case A::KillThread: return SCMP_ACT_KILL_THREAD;
    case A::KillProcess: return SCMP_ACT_KILL_PROCESS;
    case A::Trap: return SCMP_ACT_TRAP;
    case A::Errno: return SCMP_ACT_ERRNO(ret_data(errno_ret, errno_field));
    case A::Trace: return SCMP_ACT_TRACE(ret_data(errno_ret, errno_field));
    case A::Allow: return SCMP_ACT_ALLOW;
    case A::Log: return SCMP_ACT_LOG;
    case A::Notify: return SCMP_ACT_NOTIFY;
  }
  throw Error(fmt::format("unknown seccomp action {}", static_cast<int>(a)));
}

// nullopt: the installed libseccomp cannot build filters for that architecture.
std::optional<std::uint32_t> to_arch(oci::SeccompArch a) {
  using S = oci::SeccompArch;
  switch (a) {
    case S::X86: return SCMP_ARCH_X86;
    case S::X86_64: return SCMP_ARCH_X86_64;
    case S::X32: return SCMP_ARCH_X32;
    case S::Arm: return SCMP_ARCH_ARM;
    case S::Aarch64: return SCMP_ARCH_AARCH64;
    case S::Mips: return SCMP_ARCH_MIPS;
    case S::Mips64: return SCMP_ARCH_MIPS64;
    case S::Mips64N32: return SCMP_ARCH_MIPS64N32;
    case S::Mipsel: return SCMP_ARCH_MIPSEL;
    case S::Mipsel64: return SCMP_ARCH_MIPSEL64;
    case S::Mipsel64N32: return SCMP_ARCH_MIPSEL64N32;
    case S::Ppc: return SCMP_ARCH_PPC;
    case S::Ppc64: return SCMP_ARCH_PPC64;
    case S::Ppc64Le: return SCMP_ARCH_PPC64LE;
    case S::S390: return SCMP_ARCH_S390;
    case S::S390X: return SCMP_ARCH_S390X;
    case S::Parisc: return SCMP_ARCH_PARISC;
    case S::Parisc64: return SCMP_ARCH_PARISC64;
    case S::Riscv64: return SCMP_ARCH_RISCV64;
    // Added in later libseccomp releases (2.5.4 has none of them).
#ifdef SCMP_ARCH_LOONGARCH64
    case S::Loongarch64: return SCMP_ARCH_LOONGARCH64;
#endif
#ifdef SCMP_ARCH_M68K
    case S::M68k: return SCMP_ARCH_M68K;
#endif
#ifdef SCMP_ARCH_SH
    case S::Sh: return SCMP_ARCH_SH;
#endif
#ifdef SCMP_ARCH_SHEB
    case S::Sheb: return SCMP_ARCH_SHEB;
#endif
    default: return std::nullopt;
  }
}

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define BERTH_HAVE_SCMP_WAITKILL 1
#endif

std::optional<scmp_filter_attr> to_attr(oci::SeccompFlag f) {
  using F = oci::SeccompFlag;
  switch (f) {
    case F::Tsync: return SCMP_FLTATR_CTL_TSYNC;
    case F::Log: return SCMP_FLTATR_CTL_LOG;
    case F::SpecAllow: return SCMP_FLTATR_CTL_SSB;
    case F::WaitKillableRecv:
#ifdef BERTH_HAVE_SCMP_WAITKILL
      return SCMP_FLTATR_CTL_WAITKILL;
#else
      return std::nullopt;
#endif
  }
  return std::nullopt;
}

scmp_compare to_compare(oci::SeccompOperator op) {
  using O = oci::SeccompOperator;
  switch (op) {
    case O::NotEqual: return SCMP_CMP_NE;
    case O::LessThan: return SCMP_CMP_LT;
    case O::LessEqual: return SCMP_CMP_LE;
    case O::Equal: return SCMP_CMP_EQ;
    case O::GreaterEqual: return SCMP_CMP_GE;
    case O::GreaterThan: return SCMP_CMP_GT;
    case O::MaskedEqual: return SCMP_CMP_MASKED_EQ;
  }
  throw Error(fmt::format("unknown seccomp operator {}", static_cast<int>(op)));
}

void set_attr(scmp_filter_ctx ctx, scmp_filter_attr attr, std::uint32_t value, const std::string& what) {
  if (const int rc = seccomp_attr_set(ctx, attr, value); rc < 0) throw Error(what, -rc);
}

// The rules of one linux.seccomp.syscalls[i] entry, as condition sets for seccomp_rule_add_array.
std::vector<std::vector<scmp_arg_cmp>> rule_conditions(const oci::LinuxSyscall& sc, const std::string& where) {
  std::vector<scmp_arg_cmp> conds;
  std::array<int, kMaxArgs> per_index{};
  bool repeated = false;
  if (sc.args) {
    for (std::size_t k = 0; k < sc.args->size(); ++k) {
      const oci::LinuxSyscallArg& a = (*sc.args)[k];
      if (a.index >= kMaxArgs)
        throw Error(fmt::format("{}.args[{}].index: {} is out of range (a syscall has {} arguments)", where, k,
                                a.index, kMaxArgs));
      if (++per_index[a.index] > 1) repeated = true;
      // For MASKED_EQ, value is the mask and valueTwo the expected result, as in runc.
      conds.push_back(scmp_arg_cmp{static_cast<unsigned int>(a.index), to_compare(a.op), a.value,
                                   a.value_two.value_or(0)});
    }
  }
  // libseccomp cannot AND two conditions on the same argument (it refuses the rule with
  // EINVAL); runc then adds each condition as a rule of its own, which ORs them, and
  // existing profiles rely on that.
  if (!repeated) return {std::move(conds)};
  std::vector<std::vector<scmp_arg_cmp>> out;
  for (const scmp_arg_cmp& c : conds) out.push_back({c});
  return out;
}

}  // namespace

void Filter::CtxDeleter::operator()(void* ctx) const noexcept { seccomp_release(ctx); }

Filter::Filter(void* ctx, bool notify) noexcept : ctx_(ctx), notify_(notify) {}
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;
Filter::~Filter() = default;

Filter Filter::build(const oci::LinuxSeccomp& config) {
  const std::string root = "linux.seccomp";
  if (config.default_action == oci::SeccompAction::Notify)
    // Every syscall of the runtime between load() and execve would wait for a supervisor
    // that has not received the listener yet (runc refuses it for the same reason).
    throw Error(root + ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  const std::uint32_t default_action =
      to_action(config.default_action, config.default_errno_ret, root + ".defaultErrnoRet");
  scmp_filter_ctx raw = seccomp_init(default_action);
  if (raw == nullptr)
    throw Error(fmt::format("{}.defaultAction: {} is not supported by libseccomp or the kernel", root,
                            oci::to_string(config.default_action)));
  Filter f(raw, false);
  scmp_filter_ctx ctx = f.ctx_.get();

  // process.noNewPrivileges decides no_new_privs, not the filter (runc clears it too).
  set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "seccomp: clear SCMP_FLTATR_CTL_NNP");
  // Without it seccomp_load reports every kernel error as ECANCELED.
  set_attr(ctx, SCMP_FLTATR_API_SYSRAWRC, 1, "seccomp: set SCMP_FLTATR_API_SYSRAWRC");

  if (config.architectures) {
    for (std::size_t i = 0; i < config.architectures->size(); ++i) {
      const oci::SeccompArch a = (*config.architectures)[i];
      const std::string field = fmt::format("{}.architectures[{}]", root, i);
      const std::optional<std::uint32_t> token = to_arch(a);
      if (!token)
        throw Error(fmt::format("{}: {} is not supported by libseccomp {}.{}.{}", field, oci::to_string(a),
                                SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO));
      // EEXIST: the native architecture, which seccomp_init already added, or a repeat.
      const int rc = seccomp_arch_add(ctx, *token);
      if (rc == -EDOM)  // "Numerical argument out of domain" alone would not say why
        throw Error(fmt::format("{}: {} has another byte order than the native architecture, and one filter "
                                "cannot hold both",
                                field, oci::to_string(a)));
      if (rc < 0 && rc != -EEXIST) throw Error(fmt::format("{}: add architecture {}", field, oci::to_string(a)), -rc);
    }
  }

  if (config.flags) {
    for (std::size_t i = 0; i < config.flags->size(); ++i) {
      const oci::SeccompFlag flag = (*config.flags)[i];
      const std::string field = fmt::format("{}.flags[{}]", root, i);
      const std::optional<scmp_filter_attr> attr = to_attr(flag);
      if (!attr)
        throw Error(fmt::format("{}: {} is not supported by libseccomp {}.{}.{}", field, oci::to_string(flag),
                                SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO));
      set_attr(ctx, *attr, 1, fmt::format("{}: set {}", field, oci::to_string(flag)));
    }
  }

  if (config.syscalls) {
    for (std::size_t i = 0; i < config.syscalls->size(); ++i) {
      const oci::LinuxSyscall& sc = (*config.syscalls)[i];
      const std::string where = fmt::format("{}.syscalls[{}]", root, i);
      const std::uint32_t action = to_action(sc.action, sc.errno_ret, where + ".errnoRet");
      // libseccomp refuses a rule that repeats the default action (EACCES), and it would
      // change nothing.
      if (action == default_action) continue;
      const std::vector<std::vector<scmp_arg_cmp>> rules = rule_conditions(sc, where);
      for (std::size_t j = 0; j < sc.names.size(); ++j) {
        const std::string& name = sc.names[j];
        const int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) {
          // Profiles list syscalls of newer kernels and other architectures; runc skips them.
          spdlog::debug("seccomp: {}.names[{}]: unknown syscall `{}` ignored", where, j, name);
          continue;
        }
        for (const std::vector<scmp_arg_cmp>& conds : rules) {
          const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned int>(conds.size()),
                                                conds.empty() ? nullptr : conds.data());
          if (rc < 0)
            throw Error(fmt::format("{}.names[{}]: add {} rule for `{}`", where, j, oci::to_string(sc.action), name),
                        -rc);
        }
        if (sc.action == oci::SeccompAction::Notify) f.notify_ = true;
      }
    }
  }
  return f;
}

sys::Fd Filter::load() {
  if (const int rc = seccomp_load(ctx_.get()); rc < 0) throw Error("seccomp_load", -rc);
  if (!notify_) return sys::Fd();
  // libseccomp keeps this number in its global state but closes it only in
  // seccomp_reset(NULL, ...), which berth never calls: the caller owns it.
  const int fd = seccomp_notify_fd(ctx_.get());
  if (fd < 0) throw Error("seccomp_notify_fd", -fd);
  return sys::Fd(fd);
}

bool notify_requested(const oci::LinuxSeccomp& config) noexcept {
  if (!config.syscalls) return false;
  for (const oci::LinuxSyscall& r : *config.syscalls)
    if (r.action == oci::SeccompAction::Notify) return true;
  return false;
}

oci::SeccompFeatures features() {
  using oci::SeccompAction, oci::SeccompArch, oci::SeccompFlag, oci::SeccompOperator;
  oci::SeccompFeatures f;
  f.enabled = true;
  f.actions = std::vector{SeccompAction::Kill,  SeccompAction::KillProcess, SeccompAction::KillThread,
                          SeccompAction::Trap,  SeccompAction::Errno,       SeccompAction::Trace,
                          SeccompAction::Allow, SeccompAction::Log,         SeccompAction::Notify};
  f.operators = std::vector{SeccompOperator::NotEqual,     SeccompOperator::LessThan,    SeccompOperator::LessEqual,
                            SeccompOperator::Equal,        SeccompOperator::GreaterEqual, SeccompOperator::GreaterThan,
                            SeccompOperator::MaskedEqual};
  std::vector<SeccompArch> archs;
  for (int i = 0; i <= static_cast<int>(SeccompArch::Riscv64); ++i)
    if (to_arch(static_cast<SeccompArch>(i))) archs.push_back(static_cast<SeccompArch>(i));
  f.archs = std::move(archs);
  f.known_flags = std::vector{SeccompFlag::Tsync, SeccompFlag::Log, SeccompFlag::SpecAllow, SeccompFlag::WaitKillableRecv};
  std::vector<SeccompFlag> supported;
  for (SeccompFlag fl : *f.known_flags)
    if (to_attr(fl)) supported.push_back(fl);
  f.supported_flags = std::move(supported);
  return f;
}

}  // namespace berth::seccomp
