#include "runtime/cgroups/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::cgroups {

namespace {

std::string join(const std::string& dir, std::string_view file) {
  std::string p;
  p.reserve(dir.size() + 1 + file.size());
  p.append(dir).push_back('/');
  p.append(file);
  return p;
}

// 0 or the errno of the failing step.
int try_write(const std::string& path, std::string_view value) {
  sys::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  for (;;) {
    const ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace

void write(const std::string& dir, std::string_view file, std::string_view value) {
  const std::string path = join(dir, file);
  if (const int e = try_write(path, value)) throw Error(fmt::format("write `{}` ({})", path, value), e);
}

void write_field(std::string_view field, const std::string& dir, std::string_view file, std::string_view value) {
  const std::string path = join(dir, file);
  const int e = try_write(path, value);
  if (e == 0) return;
  if (e == ENOENT)
    throw Error(fmt::format("{}: this kernel or cgroup hierarchy has no `{}` (`{}` does not exist)", field, file, path));
  throw Error(fmt::format("{}: write `{}` ({})", field, path, value), e);
}

std::optional<std::string> read(const std::string& dir, std::string_view file) {
  const std::string path = join(dir, file);
  sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open", path);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool exists(const std::string& dir, std::string_view file) { return ::access(join(dir, file).c_str(), F_OK) == 0; }

}  // namespace berth::cgroups
