// process.apparmorProfile, process.selinuxLabel and linux.mountLabel (issue #6): applied where
// the LSM is enabled, and where it is not, the same outcome as runc on the same config (runc is
// run beside berth when it is installed). The AppArmor cases that need AppArmor run in the VM
// lane (tests/vm: Debian's 6.1 kernel enables it), with apparmor_parser from the host.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::RunResult;

namespace {

std::optional<std::string> slurp(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return s;
}

// runc's apparmor.IsEnabled.
bool host_apparmor() {
  if (!fs::exists("/sys/kernel/security/apparmor")) return false;
  const auto e = slurp("/sys/module/apparmor/parameters/enabled");
  return e && !e->empty() && e->front() == 'Y';
}

// Our own label, or nullopt when no LSM provides one (the read fails with EINVAL).
std::optional<std::string> own_label() {
  auto s = slurp("/proc/self/attr/current");
  if (!s) return std::nullopt;
  while (!s->empty() && (s->back() == '\n' || s->back() == '\0')) s->pop_back();
  return s;
}

// go-selinux's GetEnabled, close enough for choosing a test: selinuxfs is there and we are labelled.
bool host_selinux() {
  if (!fs::exists("/sys/fs/selinux/enforce")) return false;
  const auto l = own_label();
  return !l || *l != "kernel";
}

bool have_runc() { return berth::test::find_program("runc").has_value(); }

// runc run of b's saved config, in its own state root, removed again afterwards.
RunResult runc_run(const Bundle& b) {
  b.save();
  const std::string root = b.path("runc-state").string(), id = b.id() + "-runc";
  berth::test::RunOptions o;
  o.timeout = std::chrono::seconds(60);
  RunResult r = berth::test::run({"runc", "--root", root, "run", "--bundle", b.dir().string(), id}, o);
  berth::test::run({"runc", "--root", root, "delete", "--force", id}, o);
  return r;
}

// runc refuses b's config too, with these words in its error (when runc is installed).
void check_runc_refuses(const Bundle& b, const std::string& words) {
  if (!have_runc()) return;
  const RunResult rr = runc_run(b);
  INFO("runc: " << rr.describe());
  CHECK(rr.exit_code != 0);
  CHECK_THAT(rr.err, Catch::Contains(words));
}

// Nothing of a failed `berth run` is left: no container in the state root.
void check_nothing_left(const Bundle& b) {
  RunResult l = b.cli({"list", "-q"});
  CHECK(l.ok());
  CHECK(l.out.empty());
}

void set_mounts(Bundle& b, std::initializer_list<const char*> keep_types) {
  json::array kept;
  for (const json::value& m : b.config.at("mounts").as_array()) {
    const json::value* t = m.as_object().if_contains("type");
    const std::string type = t ? std::string(t->as_string()) : "";
    for (const char* k : keep_types)
      if (type == k) kept.push_back(m);
  }
  b.config.as_object()["mounts"] = std::move(kept);
}

// A profile loaded with apparmor_parser for the life of the object.
class LoadedProfile {
 public:
  LoadedProfile(const fs::path& file, const std::string& text) : file_(file) {
    std::ofstream(file_) << text;
    RunResult r = berth::test::run({"apparmor_parser", "--replace", "--skip-cache", file_.string()});
    if (!r.ok()) throw std::runtime_error("apparmor_parser --replace: " + r.describe());
  }
  ~LoadedProfile() { berth::test::run({"apparmor_parser", "--remove", file_.string()}); }
  LoadedProfile(const LoadedProfile&) = delete;
  LoadedProfile& operator=(const LoadedProfile&) = delete;

 private:
  fs::path file_;
};

}  // namespace

TEST_CASE("features reports AppArmor and SELinux support, as runc", "[lsm]") {
  RunResult r = berth::test::berth({"features"});
  REQUIRE(r.ok());
  const json::value v = json::parse(r.out);
  const json::object& l = v.at("linux").as_object();
  CHECK(json::serialize(l.at("apparmor")) == R"({"enabled":true})");
  CHECK(json::serialize(l.at("selinux")) == R"({"enabled":true})");
  if (have_runc()) {
    // features is runc 1.1's; what it says does not depend on the host either.
    RunResult rr = berth::test::run({"runc", "features"});
    REQUIRE(rr.ok());
    const json::value rv = json::parse(rr.out);
    const json::object& rl = rv.at("linux").as_object();
    CHECK(rl.at("apparmor") == l.at("apparmor"));
    CHECK(rl.at("selinux") == l.at("selinux"));
  }
}

TEST_CASE("process.apparmorProfile without AppArmor: the container fails to start, as runc", "[lsm]") {
  REQUIRE_ROOT();
  if (host_apparmor()) {
    berth::test::skip("AppArmor is enabled here (the profile cases below cover it)");
    return;
  }
  if (own_label()) {
    berth::test::skip("an LSM provides process attributes here: whether it takes `exec unconfined` is its business");
    return;
  }
  Bundle b;
  b.process()["apparmorProfile"] = "unconfined";
  b.args({"echo", "ran"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("ran") == std::string::npos);
  CHECK(r.err.find("process.apparmorProfile: profile `unconfined` (AppArmor is not enabled on this host): write "
                   "`/proc/thread-self/attr/") != std::string::npos);
  CHECK(r.err.find("Invalid argument") != std::string::npos);
  check_nothing_left(b);
  check_runc_refuses(b, "apparmor failed to apply profile");
}

TEST_CASE("process.selinuxLabel without SELinux is refused by create, as runc", "[lsm]") {
  REQUIRE_ROOT();
  if (host_selinux()) {
    berth::test::skip("SELinux is enabled here");
    return;
  }
  Bundle b;
  const std::string label = "system_u:system_r:container_t:s0:c1,c2";
  b.process()["selinuxLabel"] = label;
  b.args({"echo", "ran"});
  RunResult r = b.create();
  INFO(r.describe());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("process.selinuxLabel: label `" + label +
                   "` is set, but SELinux is disabled or not supported on this host") != std::string::npos);
  check_nothing_left(b);
  check_runc_refuses(b, "selinux label is specified in config, but selinux is disabled or not supported");
}

TEST_CASE("linux.mountLabel without SELinux: labelled mounts fail, others run, as runc", "[lsm]") {
  REQUIRE_ROOT();
  if (host_selinux()) {
    berth::test::skip("SELinux is enabled here");
    return;
  }
  const std::string label = "system_u:object_r:container_file_t:s0:c1,c2";
  SECTION("the default mounts include tmpfs and devpts: the kernel refuses context=") {
    Bundle b;
    b.linux()["mountLabel"] = label;
    b.args({"echo", "ran"});
    RunResult r = b.run_fg();
    INFO(r.describe());
    CHECK(r.exit_code != 0);
    CHECK(r.out.find("ran") == std::string::npos);
    CHECK(r.err.find("mounts[1]: linux.mountLabel `" + label + "` (SELinux is not enabled on this host): mount") !=
          std::string::npos);
    CHECK(r.err.find("Invalid argument") != std::string::npos);
    check_nothing_left(b);
    check_runc_refuses(b, "context=\\\"" + label + "\\\"");
  }
  SECTION("proc, sysfs and mqueue are never labelled (mqueue's root only with SELinux): the container runs") {
    Bundle b;
    b.linux()["mountLabel"] = label;
    set_mounts(b, {"proc", "sysfs", "mqueue"});
    // Masked directories get a tmpfs, which would be labelled.
    b.linux().erase("maskedPaths");
    b.args({"sh", "-c", "grep -c ' - mqueue ' /proc/self/mountinfo; echo ran"});
    RunResult r = b.run_fg();
    INFO(r.describe());
    CHECK(r.exit_code == 0);
    CHECK(r.out == "1\nran\n");
    if (have_runc()) {
      // runc must be able to run this reduced config here at all (in the VM lane it cannot
      // reopen its own /dev/null without a /dev mount): the label is what is compared.
      b.linux().erase("mountLabel");
      RunResult base = runc_run(b);
      b.linux()["mountLabel"] = label;
      if (!base.ok()) {
        WARN("runc cannot run the config without the label here, not compared: " << base.describe());
      } else {
        RunResult rr = runc_run(b);
        INFO("runc: " << rr.describe());
        CHECK(rr.exit_code == 0);
        CHECK(rr.out == r.out);
      }
    }
  }
}

TEST_CASE("with AppArmor, apparmorProfile `unconfined` runs the process unconfined", "[lsm]") {
  REQUIRE_ROOT();
  if (!host_apparmor()) {
    berth::test::skip("AppArmor is not enabled on this host (the VM lane has it)");
    return;
  }
  Bundle b;
  b.process()["apparmorProfile"] = "unconfined";
  b.args({"cat", "/proc/self/attr/current"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "unconfined\n");
}

TEST_CASE("with AppArmor, a loaded profile confines the container's process and is enforced", "[lsm]") {
  REQUIRE_ROOT();
  if (!host_apparmor()) {
    berth::test::skip("AppArmor is not enabled on this host (the VM lane has it)");
    return;
  }
  if (!berth::test::find_program("apparmor_parser")) {
    berth::test::skip("apparmor_parser is not installed (Debian package apparmor; tests/vm/install-deps.sh)");
    return;
  }
  Bundle b;
  const std::string name = "berth-test-" + std::to_string(::getpid());
  // Everything allowed but writing under /tmp: the denial shows the profile is enforced, the
  // allowed write shows it is the profile and not the filesystem.
  LoadedProfile loaded(b.path("profile"), "profile " + name +
                                              " flags=(attach_disconnected,mediate_deleted) {\n"
                                              "  /** rwlkmix,\n"
                                              "  capability,\n"
                                              "  network,\n"
                                              "  signal,\n"
                                              "  unix,\n"
                                              "  deny /tmp/** w,\n"
                                              "}\n");
  b.config.as_object()["root"].as_object()["readonly"] = false;
  b.process()["apparmorProfile"] = name;
  b.args({"sh", "-c",
          "cat /proc/self/attr/current; echo x > /tmp/f && echo tmp-written; echo y > /root/f && echo root-written"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(r.out == name + " (enforce)\nroot-written\n");
  CHECK(r.err.find("Permission denied") != std::string::npos);

}

TEST_CASE("with AppArmor, a profile the kernel does not have fails the start, naming the field", "[lsm]") {
  REQUIRE_ROOT();
  if (!host_apparmor()) {
    berth::test::skip("AppArmor is not enabled on this host (the VM lane has it)");
    return;
  }
  Bundle b;
  const std::string name = "berth-test-missing-" + std::to_string(::getpid());
  b.process()["apparmorProfile"] = name;
  b.args({"echo", "ran"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("ran") == std::string::npos);
  CHECK(r.err.find("process.apparmorProfile: profile `" + name +
                   "` (no profile of that name is loaded): write `/proc/thread-self/attr/apparmor/exec`: No such file "
                   "or directory") != std::string::npos);
  check_nothing_left(b);
  check_runc_refuses(b, "apparmor failed to apply profile");
}

TEST_CASE("with SELinux, selinuxLabel is the label of the container's process", "[lsm]") {
  REQUIRE_ROOT();
  if (!host_selinux()) {
    berth::test::skip("SELinux is not enabled on this host");
    return;
  }
  const auto label = own_label();
  REQUIRE(label);
  // Our own label: a transition every policy allows to the process that runs the tests.
  Bundle b;
  b.process()["selinuxLabel"] = *label;
  b.args({"cat", "/proc/self/attr/current"});
  RunResult r = b.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(r.out.substr(0, label->size()) == *label);
}
