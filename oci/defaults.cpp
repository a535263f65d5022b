// default_spec(): `runc spec` (runc 1.1.5, libcontainer/specconv/example.go)
// and `runc spec --rootless` (specconv.ToRootless), with ociVersion 1.3.0.
#include "oci/defaults.hpp"

#include <unistd.h>

namespace berth::oci {

namespace {

Mount mount(std::string destination, std::string type, std::string source, Strings options = {}) {
  Mount m;
  m.destination = std::move(destination);
  m.type = std::move(type);
  m.source = std::move(source);
  if (!options.empty()) m.options = std::move(options);
  return m;
}

}  // namespace

Spec default_spec(bool rootless) {
  return default_spec(rootless, static_cast<std::uint32_t>(::geteuid()), static_cast<std::uint32_t>(::getegid()));
}

Spec default_spec(bool rootless, std::uint32_t host_uid, std::uint32_t host_gid) {
  Spec s;
  s.oci_version = "1.3.0";

  Process& p = s.process.emplace();
  p.terminal = true;
  p.user = User{};
  p.args = Strings{"sh"};
  p.env = Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  const Strings caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  LinuxCapabilities& c = p.capabilities.emplace();
  c.bounding = caps;
  c.effective = caps;
  c.permitted = caps;
  c.ambient = caps;
  p.rlimits = std::vector<PosixRlimit>{{"RLIMIT_NOFILE", 1024, 1024}};
  p.no_new_privileges = true;

  s.root = Root{"rootfs", true};
  s.hostname = "runc";

  std::vector<Mount>& m = s.mounts.emplace();
  m.push_back(mount("/proc", "proc", "proc"));
  m.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  // Rootless: an unprivileged user namespace cannot map gid 5 (tty).
  if (rootless)
    m.push_back(mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
  else
    m.push_back(mount("/dev/pts", "devpts", "devpts",
                      {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  m.push_back(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  m.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  // Rootless: sysfs cannot be mounted without owning the network namespace.
  if (rootless)
    m.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  else
    m.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  m.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));

  Linux& l = s.linux.emplace();
  if (rootless) {
    l.uid_mappings = std::vector<LinuxIdMapping>{{0, host_uid, 1}};
    l.gid_mappings = std::vector<LinuxIdMapping>{{0, host_gid, 1}};
  } else {
    LinuxDeviceCgroup deny_all;
    deny_all.allow = false;
    deny_all.access = "rwm";
    l.resources.emplace().devices = std::vector<LinuxDeviceCgroup>{deny_all};
  }
  std::vector<LinuxNamespace>& ns = l.namespaces.emplace();
  ns.push_back({NamespaceType::Pid, std::nullopt});
  if (!rootless) ns.push_back({NamespaceType::Network, std::nullopt});
  ns.push_back({NamespaceType::Ipc, std::nullopt});
  ns.push_back({NamespaceType::Uts, std::nullopt});
  ns.push_back({NamespaceType::Mount, std::nullopt});
  if (rootless) ns.push_back({NamespaceType::User, std::nullopt});
  l.masked_paths = Strings{"/proc/acpi",         "/proc/asound",      "/proc/kcore",       "/proc/keys",
                           "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                           "/sys/firmware",      "/proc/scsi"};
  l.readonly_paths = Strings{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return s;
}

}  // namespace berth::oci
