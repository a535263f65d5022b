// The closed sets of the OCI runtime-spec (config-linux.md, defs-linux.json) as
// enum classes, with their spec spelling. One traits table per enum is the
// single source of truth for to_string, from_string and all_values, so the
// decoder, the encoder and the features document can never disagree.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace berth::oci {

enum class NamespaceType { Mount, Pid, Network, Uts, Ipc, User, Cgroup, Time };

// The spec lists the first four; runc also accepts the recursive spellings and
// containerd's CRI plugin writes "rslave"/"rshared", so they are accepted too.
enum class RootfsPropagation { Private, Shared, Slave, Unbindable, RPrivate, RShared, RSlave, RUnbindable };

enum class SeccompAction { Kill, KillProcess, KillThread, Trap, Errno, Trace, Allow, Log, Notify };

enum class SeccompArch {
  X86, X86_64, X32, Arm, Aarch64, Loongarch64, M68k, Mips, Mips64, Mips64N32, Mipsel,
  Mipsel64, Mipsel64N32, Ppc, Ppc64, Ppc64Le, S390, S390X, Sh, Sheb, Parisc, Parisc64, Riscv64,
};

enum class SeccompFlag { Tsync, Log, SpecAllow, WaitKillableRecv };

enum class SeccompOperator { NotEqual, LessThan, LessEqual, Equal, GreaterEqual, GreaterThan, MaskedEqual };

enum class IoPriorityClass { Rt, Be, Idle };

enum class SchedulerPolicy { Other, Fifo, Rr, Batch, Iso, Idle, Deadline };

enum class SchedulerFlag { ResetOnFork, Reclaim, DlOverrun, KeepPolicy, KeepParams, UtilClampMin, UtilClampMax };

enum class MemoryPolicyMode { Default, Bind, Interleave, WeightedInterleave, Preferred, PreferredMany, Local };

enum class MemoryPolicyFlag { NumaBalancing, RelativeNodes, StaticNodes };

enum class PersonalityDomain { Linux, Linux32 };

// kNames[i] is the spec spelling of the enumerator with value i; kWhat names the
// set in error messages ("unknown namespace type \"pdi\"").
template <class E>
struct EnumTraits;

template <>
struct EnumTraits<NamespaceType> {
  static constexpr std::string_view kWhat = "namespace type";
  static constexpr std::array<std::string_view, 8> kNames = {
      "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"};
};
template <>
struct EnumTraits<RootfsPropagation> {
  static constexpr std::string_view kWhat = "rootfs propagation";
  static constexpr std::array<std::string_view, 8> kNames = {"private",  "shared",  "slave",  "unbindable",
                                                             "rprivate", "rshared", "rslave", "runbindable"};
};
template <>
struct EnumTraits<SeccompAction> {
  static constexpr std::string_view kWhat = "seccomp action";
  static constexpr std::array<std::string_view, 9> kNames = {
      "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
      "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"};
};
template <>
struct EnumTraits<SeccompArch> {
  static constexpr std::string_view kWhat = "seccomp architecture";
  static constexpr std::array<std::string_view, 23> kNames = {
      "SCMP_ARCH_X86",        "SCMP_ARCH_X86_64",     "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64",    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",       "SCMP_ARCH_MIPS",
      "SCMP_ARCH_MIPS64",     "SCMP_ARCH_MIPS64N32",  "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64",
      "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",       "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",
      "SCMP_ARCH_S390",       "SCMP_ARCH_S390X",      "SCMP_ARCH_SH",          "SCMP_ARCH_SHEB",
      "SCMP_ARCH_PARISC",     "SCMP_ARCH_PARISC64",   "SCMP_ARCH_RISCV64"};
};
template <>
struct EnumTraits<SeccompFlag> {
  static constexpr std::string_view kWhat = "seccomp flag";
  static constexpr std::array<std::string_view, 4> kNames = {
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
};
template <>
struct EnumTraits<SeccompOperator> {
  static constexpr std::string_view kWhat = "seccomp operator";
  static constexpr std::array<std::string_view, 7> kNames = {
      "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
};
template <>
struct EnumTraits<IoPriorityClass> {
  static constexpr std::string_view kWhat = "I/O priority class";
  static constexpr std::array<std::string_view, 3> kNames = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
};
template <>
struct EnumTraits<SchedulerPolicy> {
  static constexpr std::string_view kWhat = "scheduler policy";
  static constexpr std::array<std::string_view, 7> kNames = {
      "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"};
};
template <>
struct EnumTraits<SchedulerFlag> {
  static constexpr std::string_view kWhat = "scheduler flag";
  static constexpr std::array<std::string_view, 7> kNames = {
      "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",         "SCHED_FLAG_DL_OVERRUN",    "SCHED_FLAG_KEEP_POLICY",
      "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX"};
};
template <>
struct EnumTraits<MemoryPolicyMode> {
  static constexpr std::string_view kWhat = "memory policy mode";
  static constexpr std::array<std::string_view, 7> kNames = {
      "MPOL_DEFAULT",   "MPOL_BIND",           "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
      "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL"};
};
template <>
struct EnumTraits<MemoryPolicyFlag> {
  static constexpr std::string_view kWhat = "memory policy flag";
  static constexpr std::array<std::string_view, 3> kNames = {
      "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"};
};
template <>
struct EnumTraits<PersonalityDomain> {
  static constexpr std::string_view kWhat = "personality domain";
  static constexpr std::array<std::string_view, 2> kNames = {"LINUX", "LINUX32"};
};

template <class E>
concept SpecEnum = requires {
  EnumTraits<E>::kNames;
  EnumTraits<E>::kWhat;
};

// The spec spelling, e.g. to_string(NamespaceType::Pid) == "pid".
template <SpecEnum E>
constexpr std::string_view to_string(E e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < EnumTraits<E>::kNames.size() ? EnumTraits<E>::kNames[i] : std::string_view("?");
}

// from_string<NamespaceType>("pid") == NamespaceType::Pid; nullopt for anything
// else (case-sensitive, as the spec's JSON schema).
template <SpecEnum E>
constexpr std::optional<E> from_string(std::string_view s) noexcept {
  for (std::size_t i = 0; i < EnumTraits<E>::kNames.size(); ++i)
    if (EnumTraits<E>::kNames[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

// Every enumerator in spec order, e.g. to fill a features document.
template <SpecEnum E>
constexpr auto all_values() noexcept {
  std::array<E, EnumTraits<E>::kNames.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<E>(i);
  return out;
}

}  // namespace berth::oci
