// runtime/process/lsm.cpp: mount label formatting, LSM detection against fake sysfs/procfs
// trees, what create refuses for each host status, and the /proc writes of init (in a forked
// child, so the test process keeps its own labels).
#include "runtime/process/lsm.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/in_child.hpp"
#include "tests/unit/temp_dir.hpp"

#include "runtime/sys/error.hpp"

namespace fs = std::filesystem;
namespace lsm = berth::lsm;
namespace oci = berth::oci;
using berth::Error;

namespace {

void put(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

// Stands in for statfs in a fake tree: a directory is a "selinuxfs mount" when it holds this marker.
bool fake_selinuxfs(const std::string& path) { return fs::exists(fs::path(path) / ".selinuxfs"); }

oci::Spec spec_with(std::optional<std::string> apparmor, std::optional<std::string> selinux,
                    std::optional<std::string> mount_label) {
  oci::Spec s;
  s.process.emplace();
  s.process->apparmor_profile = std::move(apparmor);
  s.process->selinux_label = std::move(selinux);
  s.linux.emplace();
  s.linux->mount_label = std::move(mount_label);
  return s;
}

using berth::test::ChildResult;
using berth::test::in_child;

// No LSM on this kernel provides process attributes: reading our own label fails with EINVAL.
// Then every label write must fail with EINVAL too.
bool no_process_lsm() {
  const int fd = ::open("/proc/self/attr/current", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char c;
  const bool einval = ::read(fd, &c, 1) < 0 && errno == EINVAL;
  ::close(fd);
  return einval;
}

}  // namespace

TEST_CASE("mount_label_option appends context= as go-selinux's FormatMountLabel", "[lsm]") {
  CHECK(lsm::mount_label_option("", "") == "");
  CHECK(lsm::mount_label_option("mode=755", "") == "mode=755");
  CHECK(lsm::mount_label_option("", "system_u:object_r:container_file_t:s0") ==
        R"(context="system_u:object_r:container_file_t:s0")");
  // MCS categories have commas: the quotes keep them inside the one option.
  CHECK(lsm::mount_label_option("mode=755,size=65536k", "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811") ==
        R"(mode=755,size=65536k,context="system_u:object_r:svirt_sandbox_file_t:s0:c715,c811")");
}

TEST_CASE("the mounts runc labels", "[lsm]") {
  for (const char* t : {"tmpfs", "devpts", "overlay", "shm", "ramfs", "nfs"}) {
    INFO(t);
    CHECK(lsm::labels_mount_type(t));
  }
  for (const char* t : {"", "bind", "proc", "sysfs", "mqueue", "cgroup", "cgroup2"}) {
    INFO(t);
    CHECK_FALSE(lsm::labels_mount_type(t));
  }
  const std::string label = "system_u:object_r:container_file_t:s0";
  CHECK(lsm::mount_data("tmpfs", "mode=755", label) == R"(mode=755,context="system_u:object_r:container_file_t:s0")");
  CHECK(lsm::mount_data("devpts", "", label) == R"(context="system_u:object_r:container_file_t:s0")");
  CHECK(lsm::mount_data("proc", "hidepid=2", label) == "hidepid=2");
  CHECK(lsm::mount_data("mqueue", "", label) == "");
  CHECK(lsm::mount_data("tmpfs", "mode=755", "") == "mode=755");
}

TEST_CASE("a mount error names linux.mountLabel only for an EINVAL of a labelled mount", "[lsm]") {
  auto fail = [](int e) { return [e] { throw Error("mount `tmpfs` on `/dev` (tmpfs)", e); }; };
  const std::string label = "system_u:object_r:container_file_t:s0";
  try {
    lsm::with_mount_label(label, "tmpfs", fail(EINVAL));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == EINVAL);
    CHECK_THAT(e.message(), Catch::StartsWith("linux.mountLabel `" + label + "`"));
    CHECK_THAT(e.message(), Catch::EndsWith(": mount `tmpfs` on `/dev` (tmpfs)"));
  }
  CHECK_THROWS_WITH(lsm::with_mount_label(label, "tmpfs", fail(EPERM)), Catch::StartsWith("mount `tmpfs`"));
  CHECK_THROWS_WITH(lsm::with_mount_label(label, "proc", fail(EINVAL)), Catch::StartsWith("mount `tmpfs`"));
  CHECK_THROWS_WITH(lsm::with_mount_label("", "tmpfs", fail(EINVAL)), Catch::StartsWith("mount `tmpfs`"));
  CHECK(lsm::with_mount_label(label, "tmpfs", [] { return 7; }) == 7);
}

TEST_CASE("AppArmor detection reads securityfs and the module parameter, as runc", "[lsm]") {
  berth::test::TempDir root("berth-lsm");
  const fs::path r = root.path();
  CHECK_FALSE(lsm::detect_apparmor(r));  // nothing at all
  put(r / "sys/module/apparmor/parameters/enabled", "Y\n");
  CHECK_FALSE(lsm::detect_apparmor(r));  // the module says yes, but no securityfs entry
  fs::create_directories(r / "sys/kernel/security/apparmor");
  CHECK(lsm::detect_apparmor(r));
  put(r / "sys/module/apparmor/parameters/enabled", "N\n");
  CHECK_FALSE(lsm::detect_apparmor(r));  // apparmor=0 on the kernel command line
  put(r / "sys/module/apparmor/parameters/enabled", "");
  CHECK_FALSE(lsm::detect_apparmor(r));
  fs::remove(r / "sys/module/apparmor/parameters/enabled");
  CHECK_FALSE(lsm::detect_apparmor(r));
}

TEST_CASE("SELinux detection finds a writable selinuxfs and a labelled thread, as go-selinux", "[lsm]") {
  berth::test::TempDir root("berth-lsm");
  const fs::path r = root.path();
  const std::string labelled = "system_u:system_r:unconfined_t:s0";

  SECTION("nothing mounted, the kernel does not know selinuxfs") {
    put(r / "proc/filesystems", "nodev\tsysfs\nnodev\tproc\n\text4\n");
    put(r / "proc/self/mountinfo", "22 1 0:20 / /selinux rw - selinuxfs selinuxfs rw\n");
    put(r / "selinux/.selinuxfs", "");
    // /proc/filesystems is consulted first: a mountinfo line alone does not count.
    CHECK_FALSE(lsm::detect_selinux(r, &fake_selinuxfs));
  }
  SECTION("at /sys/fs/selinux, with a policy") {
    put(r / "sys/fs/selinux/.selinuxfs", "");
    put(r / "proc/thread-self/attr/current", labelled + '\0');
    CHECK(lsm::detect_selinux(r, &fake_selinuxfs));
  }
  SECTION("at /sys/fs/selinux, no policy loaded: the thread is `kernel`") {
    put(r / "sys/fs/selinux/.selinuxfs", "");
    put(r / "proc/thread-self/attr/current", std::string("kernel") + '\0');
    CHECK_FALSE(lsm::detect_selinux(r, &fake_selinuxfs));
  }
  SECTION("an unreadable label counts as enabled (go-selinux ignores the error)") {
    put(r / "sys/fs/selinux/.selinuxfs", "");
    CHECK(lsm::detect_selinux(r, &fake_selinuxfs));
  }
  SECTION("elsewhere, found through /proc/filesystems and mountinfo") {
    put(r / "proc/filesystems", "nodev\tsysfs\nnodev\tselinuxfs\n");
    put(r / "proc/self/mountinfo",
        "21 1 0:19 / /sys rw - sysfs sysfs rw\n"
        "30 1 0:30 / /old\\040selinux ro - selinuxfs selinuxfs ro\n"
        "31 1 0:31 / /selinux rw - selinuxfs selinuxfs rw\n");
    put(r / "proc/thread-self/attr/current", labelled);
    // The read-only one is skipped (the predicate says no), the next one is used.
    fs::create_directories(r / "old selinux");
    put(r / "selinux/.selinuxfs", "");
    CHECK(lsm::detect_selinux(r, &fake_selinuxfs));
    fs::remove(r / "selinux/.selinuxfs");
    CHECK_FALSE(lsm::detect_selinux(r, &fake_selinuxfs));
  }
  SECTION("the real statfs check refuses a plain directory") {
    fs::create_directories(r / "sys/fs/selinux");
    put(r / "proc/thread-self/attr/current", labelled);
    CHECK_FALSE(lsm::detect_selinux(r));
    CHECK_FALSE(lsm::is_selinuxfs_mount((r / "sys/fs/selinux").string()));
  }
}

TEST_CASE("the text parts of SELinux detection", "[lsm]") {
  CHECK(lsm::filesystems_have_selinuxfs("nodev\tsysfs\nnodev\tselinuxfs\n"));
  CHECK(lsm::filesystems_have_selinuxfs("nodev\tselinuxfs"));
  CHECK_FALSE(lsm::filesystems_have_selinuxfs("nodev\tselinuxfsx\n"));
  CHECK_FALSE(lsm::filesystems_have_selinuxfs("nodev\tsysfs\n"));
  CHECK_FALSE(lsm::filesystems_have_selinuxfs(""));

  CHECK(lsm::selinuxfs_mount_points("21 1 0:19 / /sys rw - sysfs sysfs rw\n"
                                    "22 21 0:20 / /sys/fs/selinux rw - selinuxfs selinuxfs rw\n"
                                    "23 1 0:21 / /a\\040b rw - selinuxfs none rw\n") ==
        std::vector<std::string>{"/sys/fs/selinux", "/a b"});
  CHECK(lsm::selinuxfs_mount_points("").empty());

  CHECK(lsm::is_kernel_label("kernel"));
  CHECK(lsm::is_kernel_label(std::string("kernel") + '\0'));
  CHECK(lsm::is_kernel_label("kernel\n"));
  CHECK_FALSE(lsm::is_kernel_label("system_u:system_r:kernel_t:s0"));
  CHECK_FALSE(lsm::is_kernel_label(""));
}

TEST_CASE("what create refuses, for each host status (runc's validator)", "[lsm]") {
  const std::string label = "system_u:system_r:container_t:s0:c1,c2";
  const lsm::Status none{}, apparmor{.apparmor = true, .selinux = false}, selinux{.apparmor = false, .selinux = true};

  // process.selinuxLabel needs SELinux.
  for (const lsm::Status& st : {none, apparmor}) {
    try {
      lsm::check(spec_with(std::nullopt, label, std::nullopt), st);
      FAIL("selinuxLabel accepted without SELinux");
    } catch (const Error& e) {
      CHECK(e.message() == "process.selinuxLabel: label `" + label +
                               "` is set, but SELinux is disabled or not supported on this host");
    }
  }
  CHECK_NOTHROW(lsm::check(spec_with(std::nullopt, label, std::nullopt), selinux));
  // An empty label is no label (runc checks `!= ""`).
  CHECK_NOTHROW(lsm::check(spec_with(std::nullopt, "", std::nullopt), none));

  // apparmorProfile and mountLabel are never refused here: as in runc, the kernel refuses them
  // later (the profile write in init, the labelled mounts) when it cannot honour them.
  for (const lsm::Status& st : {none, apparmor, selinux}) {
    CHECK_NOTHROW(lsm::check(spec_with("unconfined", std::nullopt, std::nullopt), st));
    CHECK_NOTHROW(lsm::check(spec_with("berth-test", std::nullopt, std::nullopt), st));
    CHECK_NOTHROW(lsm::check(spec_with(std::nullopt, std::nullopt, label), st));
  }
  oci::Spec no_process;
  CHECK_NOTHROW(lsm::check(no_process, none));
}

TEST_CASE("the host's status is cached and agrees with the checks against /", "[lsm]") {
  const lsm::Status& a = lsm::host();
  CHECK(&a == &lsm::host());
  CHECK(a.apparmor == lsm::detect_apparmor("/"));
  CHECK(a.selinux == lsm::detect_selinux("/"));
  CHECK(lsm::apparmor_enabled() == a.apparmor);
  CHECK(lsm::selinux_enabled() == a.selinux);
}

TEST_CASE("init writes nothing for unset or empty labels", "[lsm]") {
  oci::Process p;
  CHECK_NOTHROW(lsm::apply_keyring_label(p));
  CHECK_NOTHROW(lsm::apply_exec_labels(p));
  p.apparmor_profile = "";
  p.selinux_label = "";
  CHECK_NOTHROW(lsm::apply_keyring_label(p));
  CHECK_NOTHROW(lsm::apply_exec_labels(p));
  // SELinux is off (the usual case): labelling the mqueue root is skipped.
  if (!lsm::selinux_enabled()) CHECK_NOTHROW(lsm::label_mount_root(-1, "/dev/mqueue", "system_u:object_r:x:s0"));
}

TEST_CASE("init's label writes reach /proc/thread-self/attr and name the field", "[lsm]") {
  const bool no_lsm = no_process_lsm();

  oci::Process aa;
  aa.apparmor_profile = "unconfined";
  ChildResult r = in_child([&] { lsm::apply_exec_labels(aa); });
  if (no_lsm || !lsm::apparmor_enabled()) {
    // As runc: the profile is written anyway, and the kernel refuses it.
    if (no_lsm) REQUIRE_FALSE(r.ok);
  } else {
    CHECK(r.ok);  // "exec unconfined" is always allowed where AppArmor runs
  }
  if (!r.ok) {
    CHECK_THAT(r.message, Catch::StartsWith("process.apparmorProfile: profile `unconfined`"));
    CHECK_THAT(r.message, Catch::Contains("write `/proc/thread-self/attr/"));
    if (!lsm::apparmor_enabled()) CHECK_THAT(r.message, Catch::Contains("(AppArmor is not enabled on this host)"));
    if (no_lsm) CHECK(r.errnum == EINVAL);
  }

  oci::Process se;
  se.selinux_label = "system_u:system_r:container_t:s0";
  if (no_lsm) {
    r = in_child([&] { lsm::apply_exec_labels(se); });
    REQUIRE_FALSE(r.ok);
    CHECK(r.errnum == EINVAL);
    CHECK(r.message == "process.selinuxLabel: write `/proc/thread-self/attr/exec`");
    r = in_child([&] { lsm::apply_keyring_label(se); });
    REQUIRE_FALSE(r.ok);
    CHECK(r.errnum == EINVAL);
    CHECK(r.message == "process.selinuxLabel (session keyring): write `/proc/thread-self/attr/keycreate`");
  } else {
    WARN("an LSM provides process attributes here: the SELinux write errors are checked only without one");
  }
}
