// runtime/mount/rootfs.cpp, mounts.cpp, devices.cpp, cgroupfs.cpp: the apply
// half, driven for real. Needs root: each case forks a child that unshares a
// mount namespace (so the host's mounts never change), builds nothing itself
// but runs prepare_rootfs / enter_rootfs / finish_rootfs on a tiny busybox
// rootfs made by the parent, checks the result from inside, and reports one
// line per check through a pipe. Without root (or without /bin/busybox, from
// Debian's busybox-static) every case WARNs why and passes.
#include "runtime/mount/rootfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/sys/error.hpp"

using namespace berth;
namespace fs = std::filesystem;

namespace {

constexpr const char* kBusybox = "/bin/busybox";

bool can_run(const char* what) {
  if (::geteuid() != 0) {
    WARN(what << ": skipped, needs root (mount namespaces, pivot_root)");
    return false;
  }
  if (!fs::exists(kBusybox)) {
    WARN(what << ": skipped, " << kBusybox << " is missing (apt-get install busybox-static)");
    return false;
  }
  return true;
}

// <tmp>/bundle/rootfs: bin/busybox, etc/hosts, a symlink `escape` pointing at
// the host directory <tmp>/hostdir; <tmp>/hostfile, <tmp>/tree (+ sub),
// <tmp>/idsrc/file and <tmp>/locked on the host side for bind mounts.
struct Bundle {
  fs::path dir, rootfs;
  Bundle() {
    std::string tmpl = (fs::temp_directory_path() / "berth-rootfs-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    rootfs = dir / "bundle" / "rootfs";
    fs::create_directories(rootfs / "bin");
    fs::create_directories(rootfs / "etc");
    fs::copy_file(kBusybox, rootfs / "bin" / "busybox");
    fs::create_symlink("busybox", rootfs / "bin" / "sh");
    std::ofstream(rootfs / "etc" / "hosts") << "inside";
    fs::create_directories(dir / "hostdir");
    fs::create_directory_symlink(dir / "hostdir", rootfs / "escape");
    std::ofstream(dir / "hostfile") << "host";
    fs::create_directories(dir / "tree" / "sub");
    fs::create_directories(dir / "idsrc");
    std::ofstream(dir / "idsrc" / "file") << "x";
    fs::create_directories(dir / "locked");
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }
  ~Bundle() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;
};

oci::Mount mnt(std::string dest, std::optional<std::string> type, std::optional<std::string> source,
               std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

// runc spec's default mounts and paths, plus the cases under test.
oci::Spec make_spec(const Bundle& b) {
  oci::Spec s;
  s.root = oci::Root{"rootfs", true};
  s.mounts = std::vector<oci::Mount>{
      mnt("/proc", "proc", "proc", {}),
      mnt("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mnt("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mnt("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mnt("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mnt("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mnt("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      // The cases under test.
      mnt("/escape", "tmpfs", "tmpfs", {"size=1m"}),
      mnt("/etc", "tmpfs", "tmpfs", {"tmpcopyup", "mode=755"}),
      mnt("/etc/hostfile", "none", (b.dir / "hostfile").string(), {"bind", "ro"}),
      mnt("/tree", "none", (b.dir / "tree").string(), {"rbind", "rro", "rprivate"}),
      mnt("/locked", "none", (b.dir / "locked").string(), {"bind", "ro"}),
  };
  s.linux.emplace();
  s.linux->masked_paths = std::vector<std::string>{"/proc/kcore", "/proc/timer_list", "/sys/firmware", "/proc/nope"};
  s.linux->readonly_paths = std::vector<std::string>{"/proc/sys", "/proc/sysrq-trigger", "/nope"};
  oci::LinuxDevice fifo;
  fifo.path = "/dev/sub/fifo";
  fifo.type = "p";
  fifo.file_mode = 0640;
  oci::LinuxDevice full;  // redefines a default device
  full.path = "/dev/full";
  full.type = "c";
  full.major = 1;
  full.minor = 7;
  full.file_mode = 0600;
  s.linux->devices = std::vector<oci::LinuxDevice>{fifo, full};
  return s;
}

class Report {
 public:
  explicit Report(int fd) : fd_(fd) {}
  void check(const std::string& name, bool ok, const std::string& detail = {}) {
    line((ok ? "ok " : "FAIL ") + name + (ok || detail.empty() ? "" : ": " + detail));
  }
  void line(const std::string& s) {
    const std::string l = s + "\n";
    (void)!::write(fd_, l.data(), l.size());
  }

 private:
  int fd_;
};

std::string err() { return std::strerror(errno); }

long fs_type(const char* path) {
  struct statfs sf {};
  return ::statfs(path, &sf) == 0 ? static_cast<long>(sf.f_type) : -1;
}

bool readonly(const char* path) {
  struct statvfs sv {};
  return ::statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

std::string read_all(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// Runs `body` in a forked child in a private mount namespace (plus `flags`).
// With `userns`, the child first makes a nosuid,nodev tmpfs on <tmp>/locked
// (so its flags get locked), then unshares a user namespace mapping root to
// root with new pid/net/ipc/cgroup namespaces, and runs body as pid 1.
std::vector<std::string> in_child(const Bundle& b, int flags, bool userns, const std::function<void(Report&)>& body) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    Report r(p[1]);
    try {
      if (::unshare(CLONE_NEWNS | flags) < 0) throw Error("unshare", errno);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) throw Error("make / rslave", errno);
      // A submount for rro, and a restricted mount for the locked-flags case:
      // both only in this child's namespace.
      if (::mount("tmpfs", (b.dir / "tree" / "sub").c_str(), "tmpfs", 0, "size=1m") < 0) throw Error("tmpfs", errno);
      if (::mount("tmpfs", (b.dir / "locked").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") < 0)
        throw Error("tmpfs", errno);
      if (userns) {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWCGROUP) < 0)
          throw Error("unshare user", errno);
        std::ofstream("/proc/self/setgroups") << "deny";
        std::ofstream("/proc/self/uid_map") << "0 0 1";
        std::ofstream("/proc/self/gid_map") << "0 0 1";
        const pid_t init = ::fork();
        if (init < 0) throw Error("fork", errno);
        if (init > 0) {
          int st = 0;
          while (::waitpid(init, &st, 0) < 0 && errno == EINTR) {
          }
          ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
        }
      }
      body(r);
    } catch (const std::exception& e) {
      r.line(std::string("EXCEPTION ") + e.what());
    }
    ::_exit(0);
  }
  ::close(p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    lines.push_back(out.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

void require_all_ok(const std::vector<std::string>& lines, size_t at_least) {
  for (const auto& l : lines) {
    INFO(l);
    CHECK(l.rfind("ok ", 0) == 0);
  }
  REQUIRE(lines.size() >= at_least);
}

int run_busybox(const char* script) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/busybox", "busybox", "sh", "-c", script, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// The checks every variant shares, made from inside the new root.
void check_common(Report& r, const Bundle& b, bool userns) {
  r.check("proc mounted", fs_type("/proc") == PROC_SUPER_MAGIC);
  r.check("/proc/self is us", ::access("/proc/self/status", R_OK) == 0, err());
  struct stat st {};
  r.check("/dev/null is c 1:3",
          ::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
  r.check("/dev/null is 0666", userns || (st.st_mode & 07777) == 0666, std::to_string(st.st_mode & 07777));
  r.check("/dev/full from linux.devices",
          ::stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode) && (userns || (st.st_mode & 07777) == 0600));
  r.check("/dev/sub/fifo is a 0640 fifo",
          ::stat("/dev/sub/fifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0640);
  for (const char* d : {"/dev/zero", "/dev/random", "/dev/urandom", "/dev/tty"})
    r.check(std::string(d) + " exists", ::stat(d, &st) == 0 && S_ISCHR(st.st_mode));
  char link[64] = {};
  r.check("/dev/ptmx -> pts/ptmx", ::readlink("/dev/ptmx", link, sizeof link - 1) > 0 && std::string(link) == "pts/ptmx");
  std::memset(link, 0, sizeof link);
  r.check("/dev/fd -> /proc/self/fd",
          ::readlink("/dev/fd", link, sizeof link - 1) > 0 && std::string(link) == "/proc/self/fd");
  r.check("/dev/pts is devpts", fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC);
  r.check("/dev/shm is a writable tmpfs", fs_type("/dev/shm") == TMPFS_MAGIC && ::mkdir("/dev/shm/x", 0700) == 0, err());
  r.check("/dev/mqueue is mqueue", fs_type("/dev/mqueue") == 0x19800202);
  r.check("/sys is sysfs", fs_type("/sys") == SYSFS_MAGIC);
  r.check("/sys is read-only", readonly("/sys"));
  r.check("/sys/fs/cgroup is a read-only tmpfs", fs_type("/sys/fs/cgroup") == TMPFS_MAGIC && readonly("/sys/fs/cgroup"));
  r.check("/sys/fs/cgroup/memory is cgroup v1", fs_type("/sys/fs/cgroup/memory") == CGROUP_SUPER_MAGIC);
  r.check("/sys/fs/cgroup/memory is read-only", readonly("/sys/fs/cgroup/memory"));
  r.check("/sys/fs/cgroup/unified is cgroup2", fs_type("/sys/fs/cgroup/unified") == CGROUP2_SUPER_MAGIC);
  r.check("/sys/fs/cgroup/systemd is the named hierarchy", fs_type("/sys/fs/cgroup/systemd") == CGROUP_SUPER_MAGIC);
  r.check("cgroup.procs lists us", read_all("/sys/fs/cgroup/memory/cgroup.procs").find(std::to_string(::getpid())) !=
                                       std::string::npos);

  r.check("/ is read-only (root.readonly)", ::mkdir("/newdir", 0755) < 0 && errno == EROFS, err());
  r.check("/dev is writable", ::mkdir("/dev/newdir", 0755) == 0, err());
  r.check("masked file reads empty", ::access("/proc/timer_list", F_OK) == 0 && read_all("/proc/timer_list").empty());
  r.check("masked directory is empty", fs::is_empty("/sys/firmware"));
  r.check("masked directory is read-only", readonly("/sys/firmware"));
  const int fd = ::open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
  r.check("readonly path refuses writes", fd < 0 && errno == EROFS, err());
  if (fd >= 0) ::close(fd);
  r.check("readonly path is a read-only mount", readonly("/proc/sys"));

  // The symlink /escape -> <tmp>/hostdir resolved inside the rootfs.
  const std::string inside = (b.dir / "hostdir").string();
  r.check("escaping destination landed inside", fs_type(inside.c_str()) == TMPFS_MAGIC, inside);
  r.check("tmpcopyup copied /etc", fs_type("/etc") == TMPFS_MAGIC && read_all("/etc/hosts") == "inside");
  r.check("bind file reads the host's", read_all("/etc/hostfile") == "host");
  const int hf = ::open("/etc/hostfile", O_WRONLY | O_CLOEXEC);
  r.check("ro bind file refuses writes", hf < 0 && errno == EROFS, err());
  if (hf >= 0) ::close(hf);
  r.check("rro makes the rbind tree read-only", readonly("/tree") && readonly("/tree/sub") &&
                                                    fs_type("/tree/sub") == TMPFS_MAGIC);
  struct statvfs sv {};
  // As root the remount sets exactly what was asked (as runc); in a user
  // namespace the source's locked nosuid,nodev must be kept for it to work.
  r.check("ro bind of a nosuid,nodev source",
          ::statvfs("/locked", &sv) == 0 && (sv.f_flag & ST_RDONLY) &&
              (!userns || ((sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV))));
  r.check("cwd is /", fs::current_path() == "/");
  r.check("umask restored", [] {
    const mode_t m = ::umask(022);
    ::umask(m);
    return m == 022;
  }());
  r.check("busybox runs in the rootfs",
          run_busybox("test -c /dev/null && test -L /dev/ptmx && test -d /proc/self && ! test -e /bundle") == 0);
}

berth::mount::RootfsOptions options(const Bundle& b) {
  berth::mount::RootfsOptions o;
  o.rootfs = b.rootfs.string();
  return o;
}

void check_host_untouched(const Bundle& b) {
  REQUIRE(fs::is_empty(b.dir / "hostdir"));
  // The symlink target was created inside the rootfs instead.
  REQUIRE(fs::is_directory(b.rootfs / fs::relative(b.dir / "hostdir", "/")));
  REQUIRE(fs::is_empty(b.dir / "tree" / "sub"));
}

}  // namespace

TEST_CASE("rootfs: runc's default spec, host network and cgroup namespaces", "[mount][root]") {
  if (!can_run("mount_rootfs_test")) return;
  Bundle b;
  const oci::Spec spec = make_spec(b);
  const auto lines = in_child(b, 0, false, [&](Report& r) {
    ::umask(022);
    auto o = options(b);
    mount::prepare_rootfs(spec, o);
    mount::enter_rootfs(o);
    mount::finish_rootfs(spec);
    check_common(r, b, false);
    // Without a cgroup namespace our own cgroup is bound, not the host's root:
    // the first component of our memory cgroup path is not visible below it.
    const std::string cg = read_all("/proc/self/cgroup");
    const size_t at = cg.find(":memory:/");
    const std::string path = at == std::string::npos ? "" : cg.substr(at + 9, cg.find('\n', at) - at - 9);
    const std::string first = path.substr(0, path.find('/'));
    r.check("cgroup bind shows our cgroup only", first.empty() || !fs::exists("/sys/fs/cgroup/memory/" + first), path);
  });
  require_all_ok(lines, 39);
  check_host_untouched(b);
}

TEST_CASE("rootfs: new net, ipc and cgroup namespaces mount sysfs and cgroups fresh", "[mount][root]") {
  if (!can_run("mount_rootfs_test")) return;
  Bundle b;
  oci::Spec spec = make_spec(b);
  oci::Mount idmapped = mnt("/idmapped", std::nullopt, (b.dir / "idsrc").string(), {"bind", "idmap"});
  idmapped.uid_mappings = std::vector<oci::LinuxIdMapping>{{0, 1000, 1}};
  idmapped.gid_mappings = std::vector<oci::LinuxIdMapping>{{0, 2000, 1}};
  spec.mounts->push_back(idmapped);
  spec.linux->rootfs_propagation = oci::RootfsPropagation::Shared;
  const auto lines = in_child(b, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWCGROUP, false, [&](Report& r) {
    ::umask(022);
    auto o = options(b);
    o.new_net_ns = true;
    o.new_cgroup_ns = true;
    mount::prepare_rootfs(spec, o);
    mount::enter_rootfs(o);
    mount::finish_rootfs(spec);
    check_common(r, b, false);
    struct stat st {};
    r.check("idmapped bind shows uid 0 as 1000, gid 0 as 2000",
            ::stat("/idmapped/file", &st) == 0 && st.st_uid == 1000 && st.st_gid == 2000,
            std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
    const std::string mi = read_all("/proc/self/mountinfo");
    std::string root_line;
    for (size_t pos = 0; pos < mi.size();) {
      const size_t nl = mi.find('\n', pos);
      const std::string line = mi.substr(pos, nl - pos);
      pos = nl == std::string::npos ? mi.size() : nl + 1;
      size_t f = 0;  // the 5th field is the mount point
      for (int i = 0; i < 4 && f != std::string::npos; ++i) f = line.find(' ', f + 1);
      if (f != std::string::npos && line.compare(f, 3, " / ") == 0) root_line = line;
    }
    r.check("rootfsPropagation shared: / is in a new peer group", root_line.find("shared:") != std::string::npos,
            root_line);
  });
  require_all_ok(lines, 39);
  check_host_untouched(b);
}

TEST_CASE("rootfs: user namespace binds devices and keeps locked flags", "[mount][root]") {
  if (!can_run("mount_rootfs_test")) return;
  Bundle b;
  oci::Spec spec = make_spec(b);
  // gid 5 is not mapped in this user namespace (runc spec --rootless drops it too).
  (*spec.mounts)[2].options = std::vector<std::string>{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  const auto lines = in_child(b, 0, true, [&](Report& r) {
    ::umask(022);
    auto o = options(b);
    o.user_ns = true;
    o.new_net_ns = true;
    o.new_cgroup_ns = true;
    mount::prepare_rootfs(spec, o);
    mount::enter_rootfs(o);
    mount::finish_rootfs(spec);
    check_common(r, b, true);
    struct stat dev {}, null {};
    r.check("/dev/null is a bind mount of the host's",
            ::stat("/dev", &dev) == 0 && ::stat("/dev/null", &null) == 0 && dev.st_dev != null.st_dev);
  });
  require_all_ok(lines, 39);
  check_host_untouched(b);
}

TEST_CASE("rootfs: --no-pivot moves the rootfs onto / and chroots", "[mount][root]") {
  if (!can_run("mount_rootfs_test")) return;
  Bundle b;
  oci::Spec spec = make_spec(b);
  const auto lines = in_child(b, CLONE_NEWNET, false, [&](Report& r) {
    ::umask(022);
    auto o = options(b);
    o.no_pivot = true;
    o.new_net_ns = true;
    mount::prepare_rootfs(spec, o);
    mount::enter_rootfs(o);
    mount::finish_rootfs(spec);
    check_common(r, b, false);
  });
  require_all_ok(lines, 39);
}

TEST_CASE("rootfs: a failing mount names the spec field and the operation", "[mount][root]") {
  if (!can_run("mount_rootfs_test")) return;
  Bundle b;
  oci::Spec spec;
  spec.mounts = std::vector<oci::Mount>{mnt("/proc", "proc", "proc", {}), mnt("/x", "bogusfs", "none", {"ro"})};
  const auto lines = in_child(b, 0, false, [&](Report& r) {
    try {
      mount::prepare_rootfs(spec, options(b));
      r.check("prepare_rootfs fails", false, "no error");
    } catch (const Error& e) {
      r.check("error message", std::string(e.what()) == "mounts[1]: mount `none` on `/x` (bogusfs): No such device",
              e.what());
      r.check("errno", e.errnum() == ENODEV);
    }
  });
  require_all_ok(lines, 2);
}
