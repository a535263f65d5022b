#include "runtime/process/lsm.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <cerrno>
#include <optional>

#include "runtime/mount/cgroupfs.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/sys/procfs.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::lsm {

namespace {

// <linux/magic.h> SELINUX_MAGIC; spelled out so the file does not depend on the header's age.
constexpr unsigned long kSelinuxMagic = 0xf97cff8c;

// A small file under root, or nullopt when it cannot be read. Plain reads, also of /proc: only
// writes need the verified procfs, and detection runs before any container mount exists (in
// the parent, and in init before the rootfs is set up).
std::optional<std::string> read_small(const std::filesystem::path& root, const std::string& rel) {
  try {
    return sys::try_read_file(AT_FDCWD, (root / rel).string());
  } catch (const Error&) {
    return std::nullopt;  // EINVAL from attr/current without an LSM, EACCES, ...
  }
}

bool path_exists(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// The attr file AppArmor takes its exec request from, opened for writing: the per-LSM one where
// the kernel has it (needed when several LSMs share the generic files), else the generic one, as
// runc chooses.
std::pair<sys::Fd, std::string> open_apparmor_exec_attr() {
  try {
    return {sys::open_proc("thread-self/attr/apparmor/exec", O_WRONLY), "/proc/thread-self/attr/apparmor/exec"};
  } catch (const Error& e) {
    if (e.errnum() != ENOENT) throw;
  }
  return {sys::open_proc("thread-self/attr/exec", O_WRONLY), "/proc/thread-self/attr/exec"};
}

}  // namespace

// --- detection ----------------------------------------------------------------

bool is_selinuxfs_mount(const std::string& path) {
  struct statfs sf {};
  int r;
  do r = ::statfs(path.c_str(), &sf);
  while (r < 0 && (errno == EINTR || errno == EAGAIN));
  if (r < 0) return false;
  return static_cast<unsigned long>(sf.f_type) == kSelinuxMagic && (sf.f_flags & ST_RDONLY) == 0;
}

bool detect_apparmor(const std::filesystem::path& root) {
  if (!path_exists(root / "sys/kernel/security/apparmor")) return false;
  const auto enabled = read_small(root, "sys/module/apparmor/parameters/enabled");
  return enabled && !enabled->empty() && enabled->front() == 'Y';
}

bool filesystems_have_selinuxfs(std::string_view text) {
  // Lines are "nodev\tselinuxfs" or "\text4": the name follows a tab and ends the line.
  size_t pos = 0;
  while ((pos = text.find("\tselinuxfs", pos)) != std::string_view::npos) {
    pos += 10;
    if (pos == text.size() || text[pos] == '\n') return true;
  }
  return false;
}

std::vector<std::string> selinuxfs_mount_points(std::string_view mountinfo) {
  std::vector<std::string> out;
  for (const mount::MountInfoEntry& m : mount::parse_mountinfo(mountinfo))
    if (m.fstype == "selinuxfs") out.push_back(m.mount_point);
  return out;
}

bool is_kernel_label(std::string_view current) {
  while (!current.empty() && (current.back() == '\0' || current.back() == '\n')) current.remove_suffix(1);
  return current == "kernel";
}

bool detect_selinux(const std::filesystem::path& root, bool (*is_selinuxfs)(const std::string& path)) {
  // go-selinux's findSELinuxfs: the usual place first, then (only when the kernel knows the
  // filesystem at all) every selinuxfs mount until one is usable.
  bool found = is_selinuxfs((root / "sys/fs/selinux").string());
  if (!found) {
    const auto fs = read_small(root, "proc/filesystems");
    if (!fs || !filesystems_have_selinuxfs(*fs)) return false;
    const auto mi = read_small(root, "proc/self/mountinfo");
    if (!mi) return false;
    for (const std::string& mp : selinuxfs_mount_points(*mi)) {
      if (is_selinuxfs((root / std::filesystem::path(mp).relative_path()).string())) {
        found = true;
        break;
      }
    }
  }
  if (!found) return false;
  // A kernel with selinuxfs but no policy loaded labels everything "kernel". An unreadable
  // label counts as enabled, as in go-selinux (which ignores the read error).
  const auto current = read_small(root, "proc/thread-self/attr/current");
  return !current || !is_kernel_label(*current);
}

const Status& host() {
  static const Status status{.apparmor = detect_apparmor("/"), .selinux = detect_selinux("/")};
  return status;
}

// --- create: validation -------------------------------------------------------

void check(const oci::Spec& spec, const Status& st) {
  if (!spec.process) return;
  const auto& label = spec.process->selinux_label;
  if (label && !label->empty() && !st.selinux)
    throw Error(fmt::format("process.selinuxLabel: label `{}` is set, but SELinux is disabled or not supported on "
                            "this host",
                            *label));
}

// --- init: applying -------------------------------------------------------------

void apply_keyring_label(const oci::Process& p) {
  if (!p.selinux_label || p.selinux_label->empty()) return;
  with_context("process.selinuxLabel (session keyring)", [&] {
    try {
      sys::write_proc("thread-self/attr/keycreate", *p.selinux_label);
    } catch (const Error& e) {
      if (e.errnum() != ENOENT) throw;
    }
  });
}

void apply_exec_labels(const oci::Process& p) {
  if (p.apparmor_profile && !p.apparmor_profile->empty()) {
    const std::string& profile = *p.apparmor_profile;
    bool opened = false;
    try {
      auto [fd, path] = open_apparmor_exec_attr();
      opened = true;
      sys::write_all(fd.get(), "exec " + profile, path);
    } catch (Error& e) {
      // The kernel's errno alone is cryptic (EINVAL: no LSM took the request; ENOENT from the
      // write: AppArmor has no such profile): say which when we can tell.
      const char* why = !apparmor_enabled()                 ? " (AppArmor is not enabled on this host)"
                        : opened && e.errnum() == ENOENT ? " (no profile of that name is loaded)"
                                                          : "";
      e.wrap(fmt::format("process.apparmorProfile: profile `{}`{}", profile, why));
      throw;
    }
  }
  if (p.selinux_label && !p.selinux_label->empty())
    with_context("process.selinuxLabel", [&] { sys::write_proc("thread-self/attr/exec", *p.selinux_label); });
}

// --- mounts ---------------------------------------------------------------------

std::string mount_label_option(std::string data, const std::string& label) {
  if (label.empty()) return data;
  if (!data.empty()) data += ',';
  data += fmt::format("context=\"{}\"", label);
  return data;
}

bool labels_mount_type(std::string_view fstype) {
  return !(fstype.empty() || fstype == "bind" || fstype == "proc" || fstype == "sysfs" || fstype == "mqueue" ||
           fstype == "cgroup" || fstype == "cgroup2");
}

void label_mount_root(int dir_fd, std::string_view what, const std::string& label) {
  if (label.empty() || !selinux_enabled()) return;
  with_context(fmt::format("linux.mountLabel `{}`", label), [&] {
    // fsetxattr refuses O_PATH fds: reopen the directory itself.
    sys::Fd dir = sys::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY);
    int r;
    do r = ::fsetxattr(dir.get(), "security.selinux", label.data(), label.size(), 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) throw_errno("setxattr security.selinux", what);
  });
}

}  // namespace berth::lsm
