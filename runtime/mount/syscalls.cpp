#include "runtime/mount/syscalls.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cerrno>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "runtime/mount/options.hpp"
#include "runtime/sys/error.hpp"

namespace berth::mount {

std::string fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

int try_mount_on(const char* source, int target_fd, const char* fstype, unsigned long flags,
                 const char* data) noexcept {
  char target[32];
  fmt::format_to_n(target, sizeof target - 1, "/proc/self/fd/{}", target_fd).out[0] = '\0';
  if (::mount(source, target, fstype, flags, data) == 0) return 0;
  return errno;
}

void mount_on(const char* source, int target_fd, std::string_view what, const char* fstype,
              unsigned long flags, const char* data) {
  const int e = try_mount_on(source, target_fd, fstype, flags, data);
  if (e != 0)
    throw Error(describe_mount(source ? source : "", what, fstype ? fstype : "", flags), e);
}

void mount_path(const char* source, const char* target, const char* fstype, unsigned long flags,
                const char* data) {
  if (::mount(source, target, fstype, flags, data) < 0) {
    const int e = errno;
    throw Error(describe_mount(source ? source : "", target, fstype ? fstype : "", flags), e);
  }
}

namespace {

long raw_openat2(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t resolve, mode_t mode) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  long fd;
  // RESOLVE_IN_ROOT answers EAGAIN when a concurrent rename might have let ".."
  // escape; the documented answer is to try again.
  int again = 0;
  do fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++again < 16)));
  return fd;
}

}  // namespace

sys::Fd openat2(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t resolve, mode_t mode) {
  const long fd = raw_openat2(dirfd, path, flags, resolve, mode);
  if (fd < 0) throw_errno("open", path);
  return sys::Fd(static_cast<int>(fd));
}

std::optional<sys::Fd> try_openat2(int dirfd, const std::string& path, std::uint64_t flags,
                                   std::uint64_t resolve) {
  const long fd = raw_openat2(dirfd, path, flags, resolve, 0);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open", path);
  }
  return sys::Fd(static_cast<int>(fd));
}

void set_mount_attrs(int fd, std::string_view what, bool recursive, std::uint64_t attr_set,
                     std::uint64_t attr_clr, std::uint64_t propagation, int userns_fd) {
  mount_attr attr{};
  attr.attr_set = attr_set;
  attr.attr_clr = attr_clr;
  attr.propagation = propagation;
  attr.userns_fd = userns_fd >= 0 ? static_cast<std::uint64_t>(userns_fd) : 0;
  const unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (::mount_setattr(fd, "", flags, &attr, sizeof attr) < 0)
    throw_errno(fmt::format("mount_setattr{} (set {:#x}, clear {:#x})", recursive ? " recursive" : "",
                            attr_set, attr_clr),
                what);
}

sys::Fd clone_tree(const std::string& path, bool recursive) {
  const int fd = ::open_tree(AT_FDCWD, path.c_str(),
                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (fd < 0) throw_errno("open_tree", path);
  return sys::Fd(fd);
}

sys::Fd clone_fd(int fd, std::string_view what, bool recursive) {
  const int t = ::open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
  if (t < 0) throw_errno("open_tree", what);
  return sys::Fd(t);
}

void move_tree(int from, int to, std::string_view what) {
  if (::move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    throw_errno("move_mount to", what);
}

sys::Fd bind_fd(std::string_view source, int source_fd, int target_fd, std::string_view what, bool recursive) {
  const unsigned long flags = MS_BIND | (recursive ? MS_REC : 0);
  const std::string src(source);
  const unsigned clone = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  const int tree = source_fd >= 0 ? ::open_tree(source_fd, "", clone | AT_EMPTY_PATH)
                                  : ::open_tree(AT_FDCWD, src.c_str(), clone);
  if (tree < 0) {
    const int e = errno;
    throw Error(describe_mount(source, what, "", flags), e);
  }
  sys::Fd t(tree);
  if (::move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    const int e = errno;
    throw Error(describe_mount(source, what, "", flags), e);
  }
  return t;  // now attached: it refers to the new mount
}

namespace {

// "mode=755,context=\"a,b\",size=1m" -> its options; commas inside quotes do not split.
std::vector<std::string> split_data(const std::string& data) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : data) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// The kernel's messages about a failed fsconfig ("e tmpfs: Bad value for 'size'").
std::string fs_log(int fs) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fs, buf, sizeof buf - 1)) > 0) {
    std::string_view line(buf, static_cast<size_t>(n));
    if (line.size() > 2 && line[1] == ' ') line.remove_prefix(2);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\0')) line.remove_suffix(1);
    if (!out.empty()) out += "; ";
    out.append(line);
  }
  return out;
}

}  // namespace

sys::Fd make_fs(const std::string& type, const std::string& source, unsigned long flags, const std::string& data,
                std::string_view what) {
  auto fail = [&](int fs, int e) {
    const std::string log = fs >= 0 ? fs_log(fs) : std::string();
    std::string msg = describe_mount(source, what, type, flags);
    if (!log.empty()) msg += " (" + log + ")";
    throw Error(msg, e);
  };
  const int fs = ::fsopen(type.c_str(), FSOPEN_CLOEXEC);
  if (fs < 0) fail(-1, errno);
  sys::Fd ctx(fs);
  auto set = [&](const char* key, const char* value) {
    const int r = value ? ::fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0)
                        : ::fsconfig(fs, FSCONFIG_SET_FLAG, key, nullptr, 0);
    if (r < 0) fail(fs, errno);
  };
  if (!source.empty()) set("source", source.c_str());
  // Superblock flags: what mount(2) would have applied to the new superblock.
  static constexpr std::pair<unsigned long, const char*> kSbFlags[] = {
      {MS_RDONLY, "ro"},          {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
      {MS_LAZYTIME, "lazytime"}, {MS_MANDLOCK, "mand"}};
  for (const auto& [flag, key] : kSbFlags)
    if (flags & flag) set(key, nullptr);
  for (const std::string& opt : split_data(data)) {
    const size_t eq = opt.find('=');
    if (eq == std::string::npos)
      set(opt.c_str(), nullptr);
    else {
      // mount(2)'s option parser removes the quotes around a value (context="a,b"); fsconfig
      // takes the value as given.
      std::string value = opt.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      set(opt.substr(0, eq).c_str(), value.c_str());
    }
  }
  if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) fail(fs, errno);
  const int m = ::fsmount(fs, FSMOUNT_CLOEXEC, static_cast<unsigned>(flags_to_attrs(flags)));
  if (m < 0) fail(fs, errno);
  return sys::Fd(m);
}

sys::Fd empty_ro_tmpfs(const std::string& context) {
  const int fs = ::fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) throw_errno("fsopen", "tmpfs");
  sys::Fd ctx(fs);
  if (!context.empty() && ::fsconfig(fs, FSCONFIG_SET_STRING, "context", context.c_str(), 0) < 0)
    throw_errno(fmt::format("fsconfig context=\"{}\"", context), "tmpfs");
  // A read-only superblock: no remount of one of its clones can make it writable.
  if (::fsconfig(fs, FSCONFIG_SET_FLAG, "ro", nullptr, 0) < 0) throw_errno("fsconfig ro", "tmpfs");
  if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) throw_errno("fsconfig create", "tmpfs");
  const int m =
      ::fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (m < 0) throw_errno("fsmount", "tmpfs");
  return sys::Fd(m);
}

void pivot_root_to(const char* new_root, const char* put_old) {
  if (::syscall(SYS_pivot_root, new_root, put_old) < 0) throw_errno("pivot_root", new_root);
}

void detach(const char* target) {
  if (::umount2(target, MNT_DETACH) < 0) throw_errno("umount", target);
}

unsigned long statfs_flags(int fd, std::string_view what) {
  struct statvfs st {};
  if (::fstatvfs(fd, &st) < 0) throw_errno("statfs", what);
  return st.f_flag;
}

}  // namespace berth::mount
