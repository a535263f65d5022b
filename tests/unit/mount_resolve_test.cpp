// runtime/mount/resolve.cpp: paths resolved and created inside a root without
// ever leaving it. Runs without root in a temporary directory.
#include "runtime/mount/resolve.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

using namespace berth;
using namespace berth::mount;
namespace fs = std::filesystem;

namespace {

// <tmp>/outside (a file and directory that must never be touched) and
// <tmp>/root, the "rootfs".
struct Tree {
  fs::path dir;
  fs::path root;
  sys::Fd root_fd;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "berth-resolve-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    root = dir / "root";
    fs::create_directories(root / "etc");
    fs::create_directories(dir / "outside");
    std::ofstream(root / "etc" / "hosts") << "inside";
    root_fd = sys::openat(AT_FDCWD, root.string(), O_PATH | O_DIRECTORY);
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  // Where fd really is, relative to the root ("/etc/hosts"), or the host path when outside.
  std::string where(const sys::Fd& fd) const {
    const std::string real = fs::read_symlink("/proc/self/fd/" + std::to_string(fd.get())).string();
    const std::string r = root.string();
    if (real == r) return "/";
    if (real.rfind(r + "/", 0) == 0) return real.substr(r.size());
    return "OUTSIDE:" + real;
  }
};

}  // namespace

TEST_CASE("existing paths open in one step", "[mount]") {
  Tree t;
  sys::Fd fd = open_in_root(t.root_fd.get(), "/etc/hosts", Create::None);
  REQUIRE(t.where(fd) == "/etc/hosts");
  REQUIRE(t.where(open_in_root(t.root_fd.get(), "/", Create::None)) == "/");
  REQUIRE(t.where(open_in_root(t.root_fd.get(), "etc", Create::Dir)) == "/etc");
  REQUIRE_FALSE(try_open_in_root(t.root_fd.get(), "/nope").has_value());
}

TEST_CASE("a missing path is an ENOENT error without Create", "[mount]") {
  Tree t;
  try {
    open_in_root(t.root_fd.get(), "/a/b", Create::None);
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.errnum() == ENOENT);
    REQUIRE(std::string(e.what()).find("`/a/b`") != std::string::npos);
  }
}

TEST_CASE("missing directories and files are created", "[mount]") {
  Tree t;
  sys::Fd d = open_in_root(t.root_fd.get(), "/a/b/c", Create::Dir);
  REQUIRE(t.where(d) == "/a/b/c");
  REQUIRE(fs::is_directory(t.root / "a/b/c"));
  sys::Fd f = open_in_root(t.root_fd.get(), "/x/y/file", Create::File);
  REQUIRE(t.where(f) == "/x/y/file");
  REQUIRE(fs::is_regular_file(t.root / "x/y/file"));
  REQUIRE(fs::file_size(t.root / "x/y/file") == 0);
}

TEST_CASE("dot-dot cannot climb above the root", "[mount]") {
  Tree t;
  sys::Fd d = open_in_root(t.root_fd.get(), "/../../../outside/new", Create::Dir);
  REQUIRE(t.where(d) == "/outside/new");
  REQUIRE_FALSE(fs::exists(t.dir / "outside" / "new"));
  REQUIRE(fs::is_directory(t.root / "outside/new"));
}

TEST_CASE("an absolute symlink to the host lands inside the root", "[mount]") {
  Tree t;
  const std::string host_outside = (t.dir / "outside").string();
  fs::create_directory_symlink(host_outside, t.root / "escape");
  SECTION("dangling inside the root: the target is created inside") {
    sys::Fd d = open_in_root(t.root_fd.get(), "/escape/sub", Create::Dir);
    REQUIRE(t.where(d) == host_outside + "/sub");  // the host path, re-rooted
    REQUIRE_FALSE(fs::exists(t.dir / "outside" / "sub"));
  }
  SECTION("the link itself as the destination") {
    sys::Fd d = open_in_root(t.root_fd.get(), "/escape", Create::Dir);
    REQUIRE(t.where(d).rfind("OUTSIDE:", 0) == std::string::npos);
    REQUIRE(fs::is_directory(t.root / fs::relative(t.dir / "outside", "/")));
  }
  SECTION("a file destination") {
    fs::create_symlink(t.dir / "outside" / "passwd", t.root / "etc" / "passwd");
    sys::Fd f = open_in_root(t.root_fd.get(), "/etc/passwd", Create::File);
    REQUIRE(t.where(f).rfind("OUTSIDE:", 0) == std::string::npos);
    REQUIRE_FALSE(fs::exists(t.dir / "outside" / "passwd"));
  }
}

TEST_CASE("relative symlinks resolve against their directory, clamped at the root", "[mount]") {
  Tree t;
  fs::create_directory_symlink("../../../../outside", t.root / "etc" / "up");
  sys::Fd d = open_in_root(t.root_fd.get(), "/etc/up/x", Create::Dir);
  REQUIRE(t.where(d) == "/outside/x");
  fs::create_directory_symlink("etc", t.root / "conf");
  REQUIRE(t.where(open_in_root(t.root_fd.get(), "/conf/hosts", Create::File)) == "/etc/hosts");
}

TEST_CASE("symlink loops end with ELOOP", "[mount]") {
  Tree t;
  fs::create_symlink("b", t.root / "a");
  fs::create_symlink("a", t.root / "b");
  try {
    open_in_root(t.root_fd.get(), "/a/x", Create::Dir);
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.errnum() == ELOOP);
  }
}

TEST_CASE("a file in the middle of a path is ENOTDIR", "[mount]") {
  Tree t;
  try {
    open_in_root(t.root_fd.get(), "/etc/hosts/x", Create::Dir);
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(e.errnum() == ENOTDIR);
  }
}
