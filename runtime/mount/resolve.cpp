#include "runtime/mount/resolve.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "runtime/mount/syscalls.hpp"
#include "runtime/sys/error.hpp"

namespace berth::mount {

namespace {

constexpr std::uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
// As the kernel's MAXSYMLINKS; also bounds retries after losing a creation race.
constexpr int kMaxSteps = 40;

void split_into(std::string_view path, std::deque<std::string>& out, bool front) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) parts.emplace_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  if (front)
    out.insert(out.begin(), parts.begin(), parts.end());
  else
    out.insert(out.end(), parts.begin(), parts.end());
}

std::string read_link(int fd, const std::string& shown) {
  char buf[4096];
  const ssize_t n = ::readlinkat(fd, "", buf, sizeof buf);
  if (n < 0) throw_errno("readlink", shown);
  if (static_cast<size_t>(n) == sizeof buf) throw Error(fmt::format("readlink `{}`", shown), ENAMETOOLONG);
  return std::string(buf, static_cast<size_t>(n));
}

// The slow path: one component at a time, each opened with O_NOFOLLOW relative
// to its parent's fd. Symlinks are read and spliced into the remaining path
// (absolute ones restart at the root), ".." pops the stack of parent fds (so it
// can never climb above the root, even if a directory is moved out of it), and
// missing components are created and reopened with O_NOFOLLOW, so a symlink
// swapped in after creation is detected rather than followed.
sys::Fd walk(int root_fd, std::string_view path, Create create, mode_t dir_mode) {
  std::deque<std::string> todo;
  split_into(path, todo, false);
  std::vector<sys::Fd> stack;     // fds of the components resolved so far
  std::vector<std::string> names;  // and their names, for messages
  int steps = 0;
  auto cur = [&] { return stack.empty() ? root_fd : stack.back().get(); };
  auto shown = [&](const std::string& comp) {
    std::string s;
    for (const auto& n : names) s += "/" + n;
    return s + "/" + comp;
  };
  auto step = [&](const std::string& comp) {
    if (++steps > kMaxSteps) throw Error(fmt::format("resolve `{}` in rootfs", shown(comp)), ELOOP);
  };

  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
      if (!stack.empty()) {
        stack.pop_back();
        names.pop_back();
      }
      continue;
    }
    const bool last = todo.empty();
    const int fd = ::openat(cur(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      sys::Fd f(fd);
      struct stat st {};
      if (::fstat(fd, &st) < 0) throw_errno("stat", shown(comp));
      if (S_ISLNK(st.st_mode)) {
        step(comp);
        // procfs symlinks include magic links (/proc/self/root, fd/N) that do
        // not name a path at all: refuse them as RESOLVE_NO_MAGICLINKS does.
        struct statfs sf {};
        if (::fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC)
          throw Error(fmt::format("resolve `{}` in rootfs: symlink in procfs", shown(comp)), ELOOP);
        const std::string target = read_link(fd, shown(comp));
        split_into(target, todo, true);
        if (!target.empty() && target[0] == '/') {
          stack.clear();
          names.clear();
        }
        continue;
      }
      if (!last && !S_ISDIR(st.st_mode)) throw Error(fmt::format("open `{}`", shown(comp)), ENOTDIR);
      stack.push_back(std::move(f));
      names.push_back(std::move(comp));
      continue;
    }
    if (errno != ENOENT || create == Create::None) throw_errno("open", shown(comp));

    if (last && create == Create::File) {
      const int nfd = ::openat(cur(), comp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (nfd < 0) {
        if (errno != EEXIST) throw_errno("create", shown(comp));
        step(comp);  // lost a race: look again
        todo.push_front(std::move(comp));
        continue;
      }
      return sys::Fd(nfd);
    }
    if (::mkdirat(cur(), comp.c_str(), dir_mode) < 0 && errno != EEXIST) throw_errno("mkdir", shown(comp));
    const int dfd = ::openat(cur(), comp.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      if (errno != ENOENT && errno != ENOTDIR) throw_errno("open", shown(comp));
      step(comp);  // replaced after mkdir (by a symlink or a file): resolve it again
      todo.push_front(std::move(comp));
      continue;
    }
    stack.emplace_back(dfd);
    names.push_back(std::move(comp));
  }
  if (!stack.empty()) return std::move(stack.back());
  const int dup = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) throw_errno("dup rootfs fd");
  return sys::Fd(dup);
}

}  // namespace

std::optional<sys::Fd> try_open_in_root(int root_fd, std::string_view path) {
  return try_openat2(root_fd, std::string(path), O_PATH, kResolve);
}

sys::Fd open_in_root(int root_fd, std::string_view path, Create create, mode_t dir_mode) {
  // Fast path: one syscall when the path exists, which is the common case
  // (/proc, /sys, /dev in an image).
  try {
    if (auto fd = try_open_in_root(root_fd, path)) return std::move(*fd);
  } catch (const Error& e) {
    // openat2 kept answering EAGAIN: something renames under the root as fast as it can
    // (an attack through a shared volume). The walk holds every component it resolved by
    // fd, so renames cannot move it out of the root: a race cannot make us fail either.
    if (e.errnum() != EAGAIN) throw;
    return walk(root_fd, path, create, dir_mode);
  }
  if (create == Create::None) throw Error(fmt::format("open `{}`", path), ENOENT);
  return walk(root_fd, path, create, dir_mode);
}

}  // namespace berth::mount
