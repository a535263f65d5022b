// /dev content of the container (config-linux.md "Devices", "Default
// Devices"): device nodes, the /dev/ptmx symlink and the /proc/self/fd links.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.hpp"

namespace berth::mount {

struct DeviceNode {
  std::string where;  // "linux.devices[2]" or "default device": error context
  std::string path;   // clean container path, e.g. "/dev/null"
  mode_t type = 0;    // S_IFCHR, S_IFBLK or S_IFIFO
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  mode_t mode = 0666;  // permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  friend bool operator==(const DeviceNode&, const DeviceNode&) = default;
};

// The default devices (null, zero, full, random, urandom, tty) that the spec
// does not redefine, then linux.devices in order. Pure; throws berth::Error
// naming linux.devices[i] for an unknown type or a missing major/minor.
std::vector<DeviceNode> plan_devices(const oci::Spec& spec);

struct DevSymlink {
  std::string_view name;    // in /dev
  std::string_view target;  // symlink content
};
// /dev/fd, stdin, stdout, stderr (runc's list); /dev/core -> /proc/kcore is
// added only when the host has /proc/kcore.
extern const std::vector<DevSymlink> kDevSymlinks;

// Creates the planned nodes under root_fd (the rootfs, before pivot_root):
// mknod with the exact mode and owner (umask is 0 meanwhile), or, inside a
// user namespace or when mknod answers EPERM, an empty file with the host's
// node bind-mounted on it, as runc does. Then /dev/ptmx -> pts/ptmx and the
// symlinks. An existing node of the same type and number is kept; any other
// existing file is an error (config-linux.md "Devices").
void create_devices(const std::vector<DeviceNode>& nodes, int root_fd, bool user_ns);

}  // namespace berth::mount
