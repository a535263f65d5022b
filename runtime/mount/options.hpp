// The pure half of the rootfs setup (STYLE.md §6, plan then apply): mount
// options parsed into mount(2) flags, propagation changes, mount_setattr(2)
// attributes and filesystem data (config.md "Linux mount options"), and each
// spec mount classified into a MountPlan. Nothing here makes a syscall, so it
// is unit-tested without root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.hpp"

namespace berth::mount {

// `idmap` / `ridmap` (or uidMappings without either: idmap).
enum class Idmap { None, Flat, Recursive };

struct MountOptions {
  unsigned long flags = 0;    // MS_* for mount(2): MS_BIND, MS_REC (rbind), MS_RDONLY, ...
  unsigned long cleared = 0;  // MS_* an option turned off explicitly ("rw", "dev", "suid", ...)
  bool atime_given = false;   // one of the *atime options was given
  std::vector<unsigned long> propagation;  // MS_PRIVATE|MS_REC, ... applied in this order
  std::uint64_t attr_set = 0;  // MOUNT_ATTR_* set with AT_RECURSIVE ("rro", "rnosuid", ...)
  std::uint64_t attr_clr = 0;  // MOUNT_ATTR_* cleared with AT_RECURSIVE ("rrw", "rsuid", ...)
  std::string data;            // unknown options, comma-joined: filesystem-specific ("mode=755")
  bool tmpcopyup = false;
  Idmap idmap = Idmap::None;

  bool bind() const noexcept;
  bool has_recursive_attrs() const noexcept { return attr_set != 0 || attr_clr != 0; }
  friend bool operator==(const MountOptions&, const MountOptions&) = default;
};

// Parses options in order; later options win ("ro","rw" is rw). Never throws:
// anything unknown is filesystem data, as config.md says.
MountOptions parse_options(const std::vector<std::string>& options);

// Every option name parse_options() recognises (flags, propagation, recursive
// attributes, idmap, tmpcopyup), for the features document's mountOptions.
std::vector<std::string> known_option_names();

// The MS_* flags of a bind remount (MS_BIND|MS_REMOUNT plus the per-mount
// flags); 0 when the options ask for nothing a remount would change.
unsigned long bind_remount_flags(const MountOptions& o);

// mount(2) flags (ro, nosuid, nodev, noexec, atime) as MOUNT_ATTR_* bits for
// mount_setattr(2), e.g. to apply them to a whole rbind tree.
std::uint64_t flags_to_attrs(unsigned long ms_flags);

// The remount flags to retry with after EPERM on a bind remount inside a user
// namespace: the kernel locks the source's nosuid/nodev/noexec/ro and atime
// flags, so they are kept (runc does the same). `st_flags` are the source
// mount's statfs(2) ST_* flags. nullopt when the options explicitly clear a
// locked flag or ask for a different atime mode: retrying cannot succeed.
std::optional<unsigned long> keep_locked_flags(unsigned long remount_flags, const MountOptions& o,
                                               unsigned long st_flags);

// "ro,nosuid,nodev" for error messages.
std::string flags_to_string(unsigned long ms_flags);
// "rslave", "private", ...
std::string propagation_to_string(unsigned long ms_flags);
// The operation a mount(2) call performs, for error messages:
//   mount `proc` on `/proc` (proc) | bind `/src` on `/dst` | rbind ... |
//   remount `/dst` (ro,nosuid) | make `/` rslave | move `/rootfs` to `/`
std::string describe_mount(std::string_view source, std::string_view target, std::string_view fstype,
                           unsigned long flags);

// Lexically cleaned absolute container path: "proc//sys/../x/" -> "/proc/x".
// Relative destinations are relative to "/" (config.md, deprecated but allowed).
std::string clean_path(std::string_view path);

enum class MountKind { Bind, Proc, Sysfs, Tmpfs, Devpts, Mqueue, Cgroup, Cgroup2, Other };

struct MountPlan {
  std::size_t index = 0;    // in spec.mounts: errors say "mounts[3]"
  MountKind kind = MountKind::Other;
  std::string source;       // as given; "" when absent
  std::string type;         // filesystem type for mount(2); "" for bind mounts
  std::string destination;  // clean_path(destination)
  MountOptions options;
  std::vector<oci::LinuxIdMapping> uid_mappings;
  std::vector<oci::LinuxIdMapping> gid_mappings;
};

// Classifies and checks one spec mount. Throws berth::Error for mounts that
// cannot be right whatever the host ("mounts[2]: idmapped mounts need `bind`").
MountPlan plan_mount(const oci::Mount& m, std::size_t index);
// Every spec mount, in order.
std::vector<MountPlan> plan_mounts(const oci::Spec& spec);

// runc's rule against mounting over /proc files (CVE-2019-16884/19921): under
// /proc only procfs itself at /proc and a few files lxcfs overrides. `dest` is
// a clean container path. Throws berth::Error naming it.
void check_proc_destination(const std::string& dest, MountKind kind);

// Whether berth creates /dev content: /dev is a tmpfs (or anything but a bind
// mount) or is not mounted at all.
bool needs_dev_setup(const std::vector<MountPlan>& plans);

// linux.rootfsPropagation as the MS_* applied recursively to "/" before the
// mounts: rslave by default (runc), rprivate for (r)private and (r)unbindable,
// rslave for (r)shared and (r)slave (see final_root_propagation).
unsigned long root_propagation(const oci::Spec& spec);
// The propagation "/" gets inside the new root (as runc, recursive only for
// the r* values): MS_SHARED (a new peer group, never the host's) or
// MS_UNBINDABLE; 0 when root_propagation() already did all there is to do.
unsigned long final_root_propagation(const oci::Spec& spec);

}  // namespace berth::mount
