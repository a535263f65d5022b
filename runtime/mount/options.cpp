#include "runtime/mount/options.hpp"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"

namespace berth::mount {

namespace {

constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
constexpr unsigned long kPropagationFlags = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
// Flags the kernel locks on mounts copied into a less privileged user namespace.
constexpr unsigned long kLockedFlags = MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID;

// One mount(8) option: the MS_* bits it sets and the ones it clears. The atime
// options are an enum in the kernel, so each clears the other modes.
struct FlagOption {
  std::string_view name;
  unsigned long set;
  unsigned long clear;
};
constexpr std::array<FlagOption, 35> kFlagOptions = {{
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},
    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
    {"remount", MS_REMOUNT, 0},
    {"mand", MS_MANDLOCK, 0},
    {"nomand", 0, MS_MANDLOCK},
    {"atime", 0, MS_NOATIME},
    {"noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME},
    {"relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME},
    {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME},
    {"nostrictatime", 0, MS_STRICTATIME},
    {"diratime", 0, MS_NODIRATIME},
    {"nodiratime", MS_NODIRATIME, 0},
    {"lazytime", MS_LAZYTIME, 0},
    {"nolazytime", 0, MS_LAZYTIME},
    {"iversion", MS_I_VERSION, 0},
    {"noiversion", 0, MS_I_VERSION},
    {"silent", MS_SILENT, 0},
    {"loud", 0, MS_SILENT},
    {"nosymfollow", MS_NOSYMFOLLOW, 0},
    {"symfollow", 0, MS_NOSYMFOLLOW},
    {"acl", MS_POSIXACL, 0},
    {"noacl", 0, MS_POSIXACL},
    {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0},
}};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};
constexpr std::array<PropagationOption, 8> kPropagationOptions = {{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

// Recursive attributes (mount_setattr with AT_RECURSIVE). `atime` options carry
// the MOUNT_ATTR__ATIME mode they select instead of a bit: the kernel wants the
// whole mask in attr_clr and one mode in attr_set.
struct AttrOption {
  std::string_view name;
  std::uint64_t set;
  std::uint64_t clear;
  bool atime;
};
constexpr std::array<AttrOption, 20> kAttrOptions = {{
    {"rro", MOUNT_ATTR_RDONLY, 0, false},
    {"rrw", 0, MOUNT_ATTR_RDONLY, false},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0, false},
    {"rsuid", 0, MOUNT_ATTR_NOSUID, false},
    {"rnodev", MOUNT_ATTR_NODEV, 0, false},
    {"rdev", 0, MOUNT_ATTR_NODEV, false},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0, false},
    {"rexec", 0, MOUNT_ATTR_NOEXEC, false},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0, false},
    {"rdiratime", 0, MOUNT_ATTR_NODIRATIME, false},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0, false},
    {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW, false},
    // Without noatime the kernel default is relatime; "not relatime" and "not
    // noatime" therefore mean strictatime and relatime.
    {"rnoatime", MOUNT_ATTR_NOATIME, 0, true},
    {"ratime", MOUNT_ATTR_RELATIME, 0, true},
    {"rrelatime", MOUNT_ATTR_RELATIME, 0, true},
    {"rnorelatime", MOUNT_ATTR_STRICTATIME, 0, true},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, 0, true},
    {"rnostrictatime", MOUNT_ATTR_RELATIME, 0, true},
    {"idmap", 0, 0, false},   // handled below
    {"ridmap", 0, 0, false},  // handled below
}};

template <class Table>
auto find_option(const Table& table, std::string_view name) -> decltype(&table[0]) {
  for (const auto& o : table)
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

std::vector<std::string> known_option_names() {
  std::vector<std::string> out;
  for (const auto& o : kFlagOptions) out.emplace_back(o.name);
  for (const auto& o : kPropagationOptions) out.emplace_back(o.name);
  for (const auto& o : kAttrOptions) out.emplace_back(o.name);
  out.emplace_back("tmpcopyup");
  return out;
}

namespace {

// statfs(2) ST_* flags as the MS_* flags mount(2) understands (ST_RELATIME is not MS_RELATIME).
unsigned long st_to_ms(unsigned long st) {
  unsigned long ms = st & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NODIRATIME);
  if (st & ST_NOATIME)
    ms |= MS_NOATIME;
  else if (st & ST_RELATIME)
    ms |= MS_RELATIME;
  else
    ms |= MS_STRICTATIME;
  return ms;
}

}  // namespace

bool MountOptions::bind() const noexcept { return (flags & MS_BIND) != 0; }

MountOptions parse_options(const std::vector<std::string>& options) {
  MountOptions o;
  for (const std::string& opt : options) {
    if (opt.empty()) continue;
    if (opt == "tmpcopyup") {
      o.tmpcopyup = true;
    } else if (opt == "idmap") {
      o.idmap = Idmap::Flat;
    } else if (opt == "ridmap") {
      o.idmap = Idmap::Recursive;
    } else if (const FlagOption* f = find_option(kFlagOptions, opt)) {
      o.flags = (o.flags & ~f->clear) | f->set;
      o.cleared = (o.cleared & ~f->set) | f->clear;
      if ((f->set | f->clear) & kAtimeFlags) o.atime_given = true;
    } else if (const PropagationOption* p = find_option(kPropagationOptions, opt)) {
      o.propagation.push_back(p->flags);
    } else if (const AttrOption* a = find_option(kAttrOptions, opt)) {
      if (a->atime) {
        o.attr_set = (o.attr_set & ~static_cast<std::uint64_t>(MOUNT_ATTR__ATIME)) | a->set;
        o.attr_clr |= MOUNT_ATTR__ATIME;
      } else {
        o.attr_set = (o.attr_set & ~a->clear) | a->set;
        o.attr_clr = (o.attr_clr & ~a->set) | a->clear;
      }
    } else {
      if (!o.data.empty()) o.data += ',';
      o.data += opt;
    }
  }
  return o;
}

unsigned long bind_remount_flags(const MountOptions& o) {
  const unsigned long extra = o.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (extra == 0) return 0;
  return MS_BIND | MS_REMOUNT | extra;
}

std::uint64_t flags_to_attrs(unsigned long ms) {
  std::uint64_t a = 0;
  if (ms & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (ms & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (ms & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (ms & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (ms & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (ms & MS_NOSYMFOLLOW) a |= MOUNT_ATTR_NOSYMFOLLOW;
  if (ms & MS_NOATIME)
    a |= MOUNT_ATTR_NOATIME;
  else if (ms & MS_STRICTATIME)
    a |= MOUNT_ATTR_STRICTATIME;
  return a;
}

std::optional<unsigned long> keep_locked_flags(unsigned long remount_flags, const MountOptions& o,
                                               unsigned long st_flags) {
  const unsigned long src = st_to_ms(st_flags);
  if (src & o.cleared & (kLockedFlags | MS_NODIRATIME)) return std::nullopt;
  unsigned long flags = remount_flags | (src & (kLockedFlags | MS_NODIRATIME));
  if (remount_flags & kAtimeFlags) {
    // Asking for another atime mode than the locked one cannot work; the kernel
    // would also silently prefer noatime/strictatime over relatime.
    if ((remount_flags & kAtimeFlags) != (src & kAtimeFlags)) return std::nullopt;
  } else {
    flags |= src & kAtimeFlags;
  }
  if (flags == remount_flags) return std::nullopt;  // nothing new to try
  return flags;
}

std::string flags_to_string(unsigned long ms) {
  static constexpr std::array<std::pair<unsigned long, std::string_view>, 17> kNames = {{
      {MS_RDONLY, "ro"},
      {MS_NOSUID, "nosuid"},
      {MS_NODEV, "nodev"},
      {MS_NOEXEC, "noexec"},
      {MS_SYNCHRONOUS, "sync"},
      {MS_DIRSYNC, "dirsync"},
      {MS_MANDLOCK, "mand"},
      {MS_NOATIME, "noatime"},
      {MS_RELATIME, "relatime"},
      {MS_STRICTATIME, "strictatime"},
      {MS_NODIRATIME, "nodiratime"},
      {MS_LAZYTIME, "lazytime"},
      {MS_I_VERSION, "iversion"},
      {MS_SILENT, "silent"},
      {MS_NOSYMFOLLOW, "nosymfollow"},
      {MS_POSIXACL, "acl"},
      {MS_REC, "rec"},
  }};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(ms & bit)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out.empty() ? "rw" : out;
}

std::string propagation_to_string(unsigned long ms) {
  std::string_view base = "?";
  if (ms & MS_SHARED)
    base = "shared";
  else if (ms & MS_SLAVE)
    base = "slave";
  else if (ms & MS_PRIVATE)
    base = "private";
  else if (ms & MS_UNBINDABLE)
    base = "unbindable";
  return fmt::format("{}{}", (ms & MS_REC) ? "r" : "", base);
}

std::string describe_mount(std::string_view source, std::string_view target, std::string_view fstype,
                           unsigned long flags) {
  if (flags & MS_MOVE) return fmt::format("move `{}` to `{}`", source, target);
  if ((flags & kPropagationFlags) && !(flags & (MS_BIND | MS_REMOUNT)))
    return fmt::format("make `{}` {}", target, propagation_to_string(flags));
  if (flags & MS_REMOUNT)
    return fmt::format("remount `{}` ({})", target, flags_to_string(flags & ~(MS_REMOUNT | MS_BIND)));
  if (flags & MS_BIND) return fmt::format("{} `{}` on `{}`", (flags & MS_REC) ? "rbind" : "bind", source, target);
  return fmt::format("mount `{}` on `{}` ({})", source, target, fstype.empty() ? "none" : fstype);
}

std::string clean_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    const std::string_view part = path.substr(pos, next - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = next + 1;
  }
  std::string out;
  for (std::string_view p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

void check_proc_destination(const std::string& dest, MountKind kind) {
  if (dest == "/proc") {
    if (kind == MountKind::Proc || kind == MountKind::Bind) return;
    throw Error("`/proc` cannot be mounted because it is not of type proc");
  }
  if (dest.rfind("/proc/", 0) != 0) return;
  // The files lxcfs overrides; everything else under /proc could defeat the
  // masks, the LSM attributes or sysctl protections.
  static constexpr std::array<std::string_view, 11> kAllowed = {
      "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
      "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
      "/proc/sys/crypto/fips_enabled"};
  if (std::find(kAllowed.begin(), kAllowed.end(), dest) != kAllowed.end()) return;
  throw Error(fmt::format("`{}` cannot be mounted because it is inside /proc", dest));
}

MountPlan plan_mount(const oci::Mount& m, std::size_t index) {
  return with_context(fmt::format("mounts[{}]", index), [&] {
    if (m.destination.empty()) throw Error("destination: empty path");
    MountPlan p;
    p.index = index;
    p.source = m.source.value_or("");
    p.destination = clean_path(m.destination);
    p.options = parse_options(m.options.value_or(std::vector<std::string>{}));
    if (m.uid_mappings.has_value() != m.gid_mappings.has_value())
      throw Error("uidMappings and gidMappings must be given together");
    if (m.uid_mappings) {
      p.uid_mappings = *m.uid_mappings;
      p.gid_mappings = *m.gid_mappings;
      if (p.options.idmap == Idmap::None) p.options.idmap = Idmap::Flat;
    }
    const std::string type = m.type.value_or("");
    if (p.options.bind()) {
      p.kind = MountKind::Bind;
      if (p.source.empty()) throw Error("bind mount without a source");
    } else {
      p.type = type;
      if (type == "proc")
        p.kind = MountKind::Proc;
      else if (type == "sysfs")
        p.kind = MountKind::Sysfs;
      else if (type == "tmpfs")
        p.kind = MountKind::Tmpfs;
      else if (type == "devpts")
        p.kind = MountKind::Devpts;
      else if (type == "mqueue")
        p.kind = MountKind::Mqueue;
      else if (type == "cgroup")
        p.kind = MountKind::Cgroup;
      else if (type == "cgroup2")
        p.kind = MountKind::Cgroup2;
      else
        p.kind = MountKind::Other;
    }
    if (p.options.idmap != Idmap::None && p.kind != MountKind::Bind)
      throw Error("idmapped mounts need `bind` or `rbind`");
    check_proc_destination(p.destination, p.kind);
    return p;
  });
}

std::vector<MountPlan> plan_mounts(const oci::Spec& spec) {
  std::vector<MountPlan> out;
  if (!spec.mounts) return out;
  out.reserve(spec.mounts->size());
  for (std::size_t i = 0; i < spec.mounts->size(); ++i) out.push_back(plan_mount((*spec.mounts)[i], i));
  return out;
}

bool needs_dev_setup(const std::vector<MountPlan>& plans) {
  return std::none_of(plans.begin(), plans.end(),
                      [](const MountPlan& p) { return p.destination == "/dev" && p.kind == MountKind::Bind; });
}

unsigned long root_propagation(const oci::Spec& spec) {
  const auto prop = spec.linux ? spec.linux->rootfs_propagation : std::nullopt;
  if (!prop) return MS_SLAVE | MS_REC;
  switch (*prop) {
    case oci::RootfsPropagation::Private:
    case oci::RootfsPropagation::RPrivate:
    case oci::RootfsPropagation::Unbindable:
    case oci::RootfsPropagation::RUnbindable:
      // Unbindable is applied to "/" only inside the new root: an unbindable
      // tree here would make every bind mount source fail.
      return MS_PRIVATE | MS_REC;
    case oci::RootfsPropagation::Shared:
    case oci::RootfsPropagation::RShared:
    case oci::RootfsPropagation::Slave:
    case oci::RootfsPropagation::RSlave:
      // Shared becomes a new peer group inside the new root; made shared here,
      // the rootfs bind would join the host's peer group and our mounts would
      // propagate to the host.
      return MS_SLAVE | MS_REC;
  }
  return MS_SLAVE | MS_REC;
}

unsigned long final_root_propagation(const oci::Spec& spec) {
  const auto prop = spec.linux ? spec.linux->rootfs_propagation : std::nullopt;
  if (!prop) return 0;
  switch (*prop) {
    case oci::RootfsPropagation::Shared:
      return MS_SHARED;
    case oci::RootfsPropagation::RShared:
      return MS_SHARED | MS_REC;
    case oci::RootfsPropagation::Unbindable:
      return MS_UNBINDABLE;
    case oci::RootfsPropagation::RUnbindable:
      return MS_UNBINDABLE | MS_REC;
    case oci::RootfsPropagation::Slave:     // already rslave since prepare_rootfs
    case oci::RootfsPropagation::RSlave:
    case oci::RootfsPropagation::Private:   // already rprivate
    case oci::RootfsPropagation::RPrivate:
      return 0;
  }
  return 0;
}

}  // namespace berth::mount
