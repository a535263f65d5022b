// runtime/sys/procfs.cpp: /proc opened beneath a procfs nothing can cover. The escapes
// (.., absolute paths, magic links) are checked as any user; the mounts over /proc files
// (CVE-2019-16884, CVE-2025-52881) need root and run in a forked child with its own mount
// and UTS namespaces, once with the private procfs and once with fsopen(2) blocked by
// seccomp, which forces the verified-/proc fallback.
#include "runtime/sys/procfs.hpp"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth;
namespace fs = std::filesystem;

namespace {

// The errno open_proc fails with, 0 when it succeeds.
int open_errno(std::string_view path, int flags = O_RDONLY) {
  try {
    sys::open_proc(path, flags);
    return 0;
  } catch (const Error& e) {
    return e.errnum() ? e.errnum() : -1;
  }
}

std::string read_fd(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// Runs body in a forked child (so namespaces, mounts, seccomp and the cached procfs root
// stay there) and returns what it reported: "" for success, else the failures.
std::string in_child(const std::function<std::string()>& body) {
  auto [r, w] = sys::pipe();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    r.reset();
    std::string report;
    try {
      sys::reset_proc_root();
      report = body();
    } catch (const std::exception& e) {
      report = std::string("exception: ") + e.what();
    }
    (void)!::write(w.get(), report.data(), report.size());
    ::_exit(0);
  }
  w.reset();
  const std::string report = read_fd(r.get());
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return "child died: status " + std::to_string(st) + "; " + report;
  return report;
}

// fsopen(2) fails with ENOSYS from now on in this process: open_proc must fall back to /proc.
bool block_fsopen() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return false;
  const bool ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(fsopen), 0) == 0 &&
                  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

// A private mount namespace and UTS namespace, with a temp file "fake" (holding "fake\n")
// bind-mounted over /proc/sys/kernel/hostname. Returns "" or what failed.
std::string cover_hostname(const std::string& fake) {
  if (::unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0) return fmt::format("unshare: {}", std::strerror(errno));
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return "make / private failed";
  if (::mount(fake.c_str(), "/proc/sys/kernel/hostname", nullptr, MS_BIND, nullptr) < 0)
    return fmt::format("bind over hostname: {}", std::strerror(errno));
  return "";
}

struct TempFile {
  fs::path path;
  explicit TempFile(const std::string& content) {
    std::string tmpl = (fs::temp_directory_path() / "berth-procfs-XXXXXX").string();
    const int fd = ::mkstemp(tmpl.data());
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
    path = tmpl;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  std::string read() const { return berth::test::read_file(path); }
};

}  // namespace

TEST_CASE("open_proc opens files beneath the procfs root", "[procfs]") {
  sys::reset_proc_root();
  sys::Fd fd = sys::open_proc("self/status", O_RDONLY);
  CHECK(read_fd(fd.get()).rfind("Name:", 0) == 0);
  sys::Fd sys_dir = sys::open_proc("sys/kernel", O_PATH | O_DIRECTORY);
  CHECK(sys_dir.valid());
  // "self" and "thread-self" are plain symlinks, followed beneath the root.
  CHECK(open_errno("thread-self/comm") == 0);
  sys::reset_proc_root();
}

TEST_CASE("open_proc refuses paths that leave /proc or go through magic links", "[procfs]") {
  sys::reset_proc_root();
  CHECK(open_errno("../etc/passwd") == EXDEV);
  CHECK(open_errno("/etc/passwd") == EXDEV);
  CHECK(open_errno("self/../../etc/passwd") == EXDEV);
  // Magic links: they name an object, not a path, and lead anywhere.
  CHECK(open_errno("self/root/etc/passwd") == ELOOP);
  CHECK(open_errno("self/cwd") == ELOOP);
  CHECK(open_errno("self/fd/0") == ELOOP);
  CHECK(open_errno("self/exe") == ELOOP);
  CHECK(open_errno("no-such-file") == ENOENT);
  try {
    sys::open_proc("self/fd/1", O_RDONLY);
    FAIL("a magic link was followed");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("/proc/self/fd/1") && Catch::Contains("magic link"));
  }
  sys::reset_proc_root();
}

TEST_CASE("write_proc writes the knob and reset_proc_root forgets the root", "[procfs]") {
  sys::reset_proc_root();
  CHECK_FALSE(sys::proc_root_is_private());
  sys::Fd comm = sys::open_proc("thread-self/comm", O_RDONLY);
  const std::string old = read_fd(comm.get());
  sys::write_proc("thread-self/comm", "berth-procfs");
  sys::Fd again = sys::open_proc("thread-self/comm", O_RDONLY);
  CHECK(read_fd(again.get()) == "berth-procfs\n");
  sys::write_proc("thread-self/comm", old.substr(0, old.find('\n')));
  sys::reset_proc_root();
  CHECK_FALSE(sys::proc_root_is_private());
}

TEST_CASE("a private procfs is used when we may mount one", "[procfs]") {
  if (::geteuid() != 0) {
    berth::test::skip_test("needs root to mount a procfs");
    return;
  }
  const std::string report = in_child([] {
    sys::open_proc("self/status", O_RDONLY);
    return sys::proc_root_is_private() ? std::string() : std::string("the /proc fallback was used as root");
  });
  CHECK(report == "");
}

TEST_CASE("a bind mount over a /proc/sys file cannot redirect write_proc", "[procfs]") {
  if (::geteuid() != 0) {
    berth::test::skip_test("needs root for mount and UTS namespaces");
    return;
  }
  TempFile fake("fake\n");
  SECTION("private procfs: the write reaches the kernel, not the file mounted over it") {
    const std::string report = in_child([&] {
      if (std::string e = cover_hostname(fake.path); !e.empty()) return e;
      sys::write_proc("sys/kernel/hostname", "berth-private");
      if (!sys::proc_root_is_private()) return std::string("not a private procfs");
      char name[128] = {};
      ::gethostname(name, sizeof name - 1);
      if (std::string(name) != "berth-private") return fmt::format("hostname is `{}`", name);
      sys::Fd fd = sys::open_proc("sys/kernel/hostname", O_RDONLY);
      const std::string seen = read_fd(fd.get());
      return seen == "berth-private\n" ? std::string() : "read back `" + seen + "`";
    });
    CHECK(report == "");
  }
  SECTION("the /proc fallback: the crossing is refused, naming the path") {
    const std::string report = in_child([&] {
      if (!block_fsopen()) return std::string("cannot install the seccomp filter");
      if (std::string e = cover_hostname(fake.path); !e.empty()) return e;
      try {
        sys::write_proc("sys/kernel/hostname", "berth-fallback");
        return std::string("the write went through");
      } catch (const Error& e) {
        if (sys::proc_root_is_private()) return std::string("a private procfs despite seccomp");
        const std::string what = e.what();
        if (e.errnum() != EXDEV || what.find("/proc/sys/kernel/hostname") == std::string::npos ||
            what.find("crosses a mount") == std::string::npos)
          return "unexpected error: " + what;
      }
      return std::string();
    });
    CHECK(report == "");
  }
  CHECK(fake.read() == "fake\n");
}

TEST_CASE("the /proc fallback refuses a /proc that is not the root of a procfs", "[procfs]") {
  if (::geteuid() != 0) {
    berth::test::skip_test("needs root for a mount namespace");
    return;
  }
  SECTION("a tmpfs over /proc") {
    const std::string report = in_child([] {
      if (!block_fsopen()) return std::string("cannot install the seccomp filter");
      if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        return std::string("unshare");
      if (::mount("tmpfs", "/proc", "tmpfs", 0, nullptr) < 0) return std::string("mount tmpfs");
      ::mkdir("/proc/sys", 0755);
      try {
        sys::write_proc("sys/anything", "1");
        return std::string("written to a tmpfs");
      } catch (const Error& e) {
        const std::string what = e.what();
        return what.find("/proc is not on a procfs") != std::string::npos ? std::string() : "unexpected: " + what;
      }
    });
    CHECK(report == "");
  }
  SECTION("a procfs subdirectory bound over /proc") {
    const std::string report = in_child([] {
      if (!block_fsopen()) return std::string("cannot install the seccomp filter");
      if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        return std::string("unshare");
      if (::mount("/proc/sys", "/proc", nullptr, MS_BIND, nullptr) < 0) return std::string("bind");
      try {
        sys::open_proc("kernel/hostname", O_RDONLY);
        return std::string("opened beneath a procfs subdirectory");
      } catch (const Error& e) {
        const std::string what = e.what();
        return what.find("not the root of a procfs") != std::string::npos ? std::string() : "unexpected: " + what;
      }
    });
    CHECK(report == "");
  }
}
