#include "runtime/mount/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "runtime/mount/options.hpp"
#include "runtime/mount/resolve.hpp"
#include "runtime/mount/syscalls.hpp"
#include "runtime/sys/error.hpp"

namespace berth::mount {

const std::vector<DevSymlink> kDevSymlinks = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

namespace {

struct DefaultDevice {
  std::string_view path;
  std::uint32_t major;
  std::uint32_t minor;
};
// config-linux.md "Default Devices" (the console is the terminal's business).
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3}, {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

const char* type_name(mode_t type) {
  switch (type) {
    case S_IFCHR: return "c";
    case S_IFBLK: return "b";
    default: return "p";
  }
}

std::string describe(const DeviceNode& n) {
  if (n.type == S_IFIFO) return "a fifo";
  return fmt::format("{} {}:{}", type_name(n.type), n.major, n.minor);
}

// Splits "/dev/net/tun" into "/dev/net" and "tun".
std::pair<std::string, std::string> split_parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

bool matches(const struct stat& st, const DeviceNode& n) {
  if ((st.st_mode & S_IFMT) != n.type) return false;
  return n.type == S_IFIFO || st.st_rdev == makedev(n.major, n.minor);
}

// An existing file at the node's place: fine when it is that very device.
void check_existing(int parent, const std::string& name, const DeviceNode& n) {
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat", n.path);
  if (!matches(st, n))
    throw Error(fmt::format("`{}` already exists and is not {}", n.path, describe(n)), EEXIST);
}

// Returns false when mknod is not permitted (EPERM): the caller binds instead.
bool make_node(int parent, const std::string& name, const DeviceNode& n) {
  if (::mknodat(parent, name.c_str(), n.type | n.mode, makedev(n.major, n.minor)) < 0) {
    if (errno == EPERM && n.type != S_IFIFO) return false;
    if (errno != EEXIST) throw_errno(fmt::format("mknod ({})", describe(n)), n.path);
    check_existing(parent, name, n);
    return true;
  }
  if ((n.uid != 0 || n.gid != 0) && ::fchownat(parent, name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) < 0)
    throw_errno(fmt::format("chown {}:{}", n.uid, n.gid), n.path);
  return true;
}

// runc's bindMountDeviceNode: an empty file with the host's node bound on it.
void bind_node(int parent, const std::string& name, const DeviceNode& n) {
  int fd = ::openat(parent, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno != EEXIST) throw_errno("create", n.path);
    // Checked on the fd that gets mounted on: a symlink swapped in after a check by
    // name would be opened itself (O_PATH|O_NOFOLLOW) and mounted over.
    fd = ::openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("open", n.path);
    sys::Fd existing(fd);
    struct stat st {};
    if (::fstat(fd, &st) < 0) throw_errno("stat", n.path);
    if (matches(st, n)) return;
    if (!S_ISREG(st.st_mode))
      throw Error(fmt::format("`{}` already exists and is not {}", n.path, describe(n)), EEXIST);
    fd = existing.release();
  }
  sys::Fd target(fd);
  mount_on(n.path.c_str(), target.get(), n.path, nullptr, MS_BIND);
}

// umask 0 while nodes are created, so modes are exactly the requested ones.
class UmaskGuard {
 public:
  UmaskGuard() : old_(::umask(0)) {}
  ~UmaskGuard() { ::umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t old_;
};

}  // namespace

std::vector<DeviceNode> plan_devices(const oci::Spec& spec) {
  static const std::vector<oci::LinuxDevice> kNone;
  const auto& devices = spec.linux && spec.linux->devices ? *spec.linux->devices : kNone;
  std::vector<DeviceNode> out;
  for (const DefaultDevice& d : kDefaultDevices) {
    const bool redefined = std::any_of(devices.begin(), devices.end(),
                                       [&](const oci::LinuxDevice& s) { return clean_path(s.path) == d.path; });
    if (redefined) continue;  // the spec's definition wins (runc)
    out.push_back(DeviceNode{"default device", std::string(d.path), S_IFCHR, d.major, d.minor, 0666, 0, 0});
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    const oci::LinuxDevice& d = devices[i];
    const std::string where = fmt::format("linux.devices[{}]", i);
    DeviceNode n;
    n.where = where;
    n.path = clean_path(d.path);
    if (d.type == "c" || d.type == "u")
      n.type = S_IFCHR;
    else if (d.type == "b")
      n.type = S_IFBLK;
    else if (d.type == "p")
      n.type = S_IFIFO;
    else
      throw Error(fmt::format("{}.type: unknown device type \"{}\"", where, d.type));
    if (n.type != S_IFIFO) {
      if (!d.major || !d.minor) throw Error(fmt::format("{}: major and minor are required for type \"{}\"", where, d.type));
      if (*d.major < 0 || *d.major > 0xfff || *d.minor < 0 || *d.minor > 0xfffff)
        throw Error(fmt::format("{}: device number {}:{} out of range", where, *d.major, *d.minor));
      n.major = static_cast<std::uint32_t>(*d.major);
      n.minor = static_cast<std::uint32_t>(*d.minor);
    }
    if (n.path == "/") throw Error(fmt::format("{}.path: `/` cannot be a device", where));
    n.mode = d.file_mode ? static_cast<mode_t>(*d.file_mode & 07777) : 0666;
    n.uid = d.uid.value_or(0);
    n.gid = d.gid.value_or(0);
    out.push_back(std::move(n));
  }
  return out;
}

void create_devices(const std::vector<DeviceNode>& nodes, int root_fd, bool user_ns) {
  UmaskGuard umask0;
  sys::Fd dev = with_context("/dev", [&] { return open_in_root(root_fd, "/dev", Create::Dir); });
  bool bind = user_ns;  // mknod of devices is never allowed in a user namespace
  for (const DeviceNode& n : nodes) {
    with_context(n.where, [&] {
      auto [parent_path, name] = split_parent(n.path);
      sys::Fd other;
      int parent = dev.get();
      if (parent_path != "/dev") {
        other = open_in_root(root_fd, parent_path, Create::Dir);
        parent = other.get();
      }
      if (!bind || n.type == S_IFIFO) {
        if (make_node(parent, name, n)) return;
        bind = true;  // EPERM: no CAP_MKNOD (or a device cgroup); runc binds from here on
      }
      bind_node(parent, name, n);
    });
  }

  with_context("/dev/ptmx", [&] {
    // The ptmx of the container's own devpts instance (newinstance).
    if (::unlinkat(dev.get(), "ptmx", 0) < 0 && errno != ENOENT) throw_errno("unlink", "/dev/ptmx");
    if (::symlinkat("pts/ptmx", dev.get(), "ptmx") < 0) throw_errno("symlink", "/dev/ptmx");
  });
  auto link = [&](std::string_view name, std::string_view target) {
    const std::string n(name);
    if (::symlinkat(std::string(target).c_str(), dev.get(), n.c_str()) < 0 && errno != EEXIST) {
      const int e = errno;
      throw Error(fmt::format("symlink `/dev/{}` -> `{}`", n, target), e);
    }
  };
  for (const DevSymlink& l : kDevSymlinks) link(l.name, l.target);
  // kcore can be compiled out (CONFIG_PROC_KCORE); this is the host's /proc, as in runc.
  if (::access("/proc/kcore", F_OK) == 0) link("core", "/proc/kcore");
}

}  // namespace berth::mount
