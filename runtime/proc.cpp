#include "runtime/proc.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::proc {

namespace {
struct Stat {
  char state;
  std::uint64_t start_time;
};

std::optional<Stat> read_stat(pid_t pid) {
  auto text = sys::try_read_file(AT_FDCWD, fmt::format("/proc/{}/stat", pid));
  if (!text) return std::nullopt;
  // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return std::nullopt;
  const char* p = text->c_str() + close + 2;  // field 3: state
  Stat s{*p, 0};
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return std::nullopt;
    ++p;
  }
  s.start_time = std::strtoull(p, nullptr, 10);
  return s;
}
}  // namespace

std::optional<std::uint64_t> start_time(pid_t pid) {
  auto s = read_stat(pid);
  if (!s) return std::nullopt;
  return s->start_time;
}

bool alive(pid_t pid, std::uint64_t start) {
  if (pid <= 0) return false;
  auto s = read_stat(pid);
  return s && s->state != 'Z' && s->state != 'X' && s->start_time == start;
}

std::optional<std::string> ns_id(pid_t pid, const char* ns) {
  char buf[64];
  const std::string path = fmt::format("/proc/{}/ns/{}", pid, ns);
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace berth::proc
