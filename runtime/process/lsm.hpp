// Linux security module labels: process.apparmorProfile, process.selinuxLabel and
// linux.mountLabel (config.md, config-linux.md), as runc applies them.
//
// What berth does, field by field (docs/lsm.md has the table and the reasons):
// - process.apparmorProfile: init writes "exec <profile>" to
//   /proc/thread-self/attr/apparmor/exec (attr/exec on kernels without the per-LSM
//   directory) just before the container's process is executed, so the profile applies
//   at execve. As runc, the write is attempted whether or not AppArmor looks enabled:
//   on a host without it the kernel refuses (EINVAL) and the container fails to start.
// - process.selinuxLabel: refused when the container is created if SELinux is not
//   enabled (runc's validator); otherwise written to attr/keycreate before init joins
//   the new session keyring and to attr/exec before the process is executed.
// - linux.mountLabel: context="<label>" appended to the data of the mounts runc labels
//   (fresh filesystems other than proc, sysfs, mqueue and cgroup; the mqueue root is
//   labelled with setxattr instead). As runc (go-selinux's FormatMountLabel), this does
//   not depend on SELinux being enabled: without it the kernel refuses the option.
//
// Every /proc write goes through sys::write_proc (a verified procfs, no mount crossing).
// Errors are berth::Error naming the field, the file and the errno:
//   process.apparmorProfile: profile `x`: write `/proc/thread-self/attr/apparmor/exec`: No such file or directory
#pragma once

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "oci/spec.hpp"
#include "runtime/sys/error.hpp"

namespace berth::lsm {

// --- detection ----------------------------------------------------------------

// Which LSMs the host has enabled, decided as runc decides it.
struct Status {
  // /sys/kernel/security/apparmor exists and /sys/module/apparmor/parameters/enabled
  // starts with 'Y' (runc's apparmor.IsEnabled).
  bool apparmor = false;
  // An selinuxfs is mounted read-write (at /sys/fs/selinux, or found through
  // /proc/filesystems and /proc/self/mountinfo) and this thread's label is not "kernel"
  // (go-selinux's GetEnabled, which runc uses).
  bool selinux = false;
  friend bool operator==(const Status&, const Status&) = default;
};

// statfs(2): path is an selinuxfs (SELINUX_MAGIC) mounted read-write.
bool is_selinuxfs_mount(const std::string& path);

// The checks against a tree rooted at `root` ("/" for the host; tests use a fake tree).
// `is_selinuxfs` stands in for the statfs check of a candidate mount point (given as
// root + mount point), since a fake tree has no selinuxfs.
bool detect_apparmor(const std::filesystem::path& root);
bool detect_selinux(const std::filesystem::path& root,
                    bool (*is_selinuxfs)(const std::string& path) = &is_selinuxfs_mount);

// The host's status, read on the first call (a few stat/open calls) and cached for the
// life of the process. Init calls probe() before it leaves the host's /sys behind
// (pivot_root): later answers then still describe the host, not the container's view.
const Status& host();
inline void probe() { (void)host(); }
inline bool apparmor_enabled() { return host().apparmor; }
inline bool selinux_enabled() { return host().selinux; }

// The parts of detect_selinux() that parse text, exposed for tests.
// /proc/filesystems lists selinuxfs.
bool filesystems_have_selinuxfs(std::string_view proc_filesystems);
// The mount points of the selinuxfs mounts in /proc/self/mountinfo text, in order
// (octal escapes such as \040 decoded).
std::vector<std::string> selinuxfs_mount_points(std::string_view mountinfo);
// /proc/thread-self/attr/current says the thread is unlabelled ("kernel", with or
// without the trailing NUL): SELinux has no policy loaded.
bool is_kernel_label(std::string_view current);

// --- create: validation in the parent -----------------------------------------

// What runc's validator refuses, given the host's status: process.selinuxLabel when
// SELinux is not enabled. Throws berth::Error naming the field. Nothing else depends on
// the host at this point (apparmorProfile and mountLabel fail, as in runc, only when the
// kernel refuses them).
void check(const oci::Spec& spec, const Status& host);
inline void check(const oci::Spec& spec) { check(spec, host()); }

// --- init: applying -------------------------------------------------------------

// process.selinuxLabel to /proc/thread-self/attr/keycreate, so the session keyring init
// joins next gets the container's label (runc's SetKeyLabel). A kernel without the file
// (ENOENT) is ignored, as go-selinux does. No-op when the label is unset or empty.
void apply_keyring_label(const oci::Process& p);

// The exec-time labels, written last before the credentials change and the seccomp
// filter (which could forbid the writes): "exec <process.apparmorProfile>" to
// attr/apparmor/exec (or attr/exec), then process.selinuxLabel to attr/exec. Both take
// effect at the next execve. No-op for unset or empty fields.
void apply_exec_labels(const oci::Process& p);

// --- mounts ---------------------------------------------------------------------

// go-selinux's FormatMountLabel: data with `context="<label>"` appended (after a comma
// when data is not empty); data unchanged when label is empty.
std::string mount_label_option(std::string data, const std::string& label);

// Whether runc puts linux.mountLabel on a fresh mount of this filesystem type: not on
// proc and sysfs (the kernel does not label them), mqueue (labelled after mounting, see
// label_mount_root), cgroup and cgroup2, nor on bind mounts (type ""): on everything
// else (tmpfs, devpts, overlay, ...).
bool labels_mount_type(std::string_view fstype);

// mount_label_option(data, label) when labels_mount_type(fstype), else data: the data
// string for a fresh mount of fstype.
inline std::string mount_data(std::string_view fstype, std::string data, const std::string& label) {
  return labels_mount_type(fstype) ? mount_label_option(std::move(data), label) : std::move(data);
}

// Sets the security.selinux attribute of the directory `dir_fd` refers to (an O_PATH fd
// is fine) to label, when SELinux is enabled and label is not empty: runc's
// label.SetFileLabel on the mqueue mount's root. `what` names it in errors.
void label_mount_root(int dir_fd, std::string_view what, const std::string& label);

// Runs mount(), adding linux.mountLabel to an EINVAL it throws for a mount that carried
// the label: the kernel's answer to a context= it cannot use (no SELinux on the host, or
// a label the policy does not know).
template <class F>
decltype(auto) with_mount_label(const std::string& label, std::string_view fstype, F&& mount) {
  try {
    return std::forward<F>(mount)();
  } catch (Error& e) {
    if (!label.empty() && labels_mount_type(fstype) && e.errnum() == EINVAL)
      e.wrap(fmt::format("linux.mountLabel `{}`{}", label,
                         selinux_enabled() ? "" : " (SELinux is not enabled on this host)"));
    throw;
  }
}

}  // namespace berth::lsm
