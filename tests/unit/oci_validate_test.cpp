// oci/validate.cpp, oci/validate_linux.cpp, oci/capabilities.cpp, oci/rlimits.cpp.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <linux/capability.h>
#include <sys/resource.h>

#include "oci/capabilities.hpp"
#include "oci/defaults.hpp"
#include "oci/json.hpp"
#include "oci/rlimits.hpp"
#include "oci/spec.hpp"
#include "oci/validate.hpp"
#include "runtime/sys/error.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth::oci;
using berth::test::read_file;

namespace {

std::string error_of(const std::string& text) {
  try {
    validate(parse_config(text));
  } catch (const berth::Error& e) {
    return e.what();
  }
  return "(accepted)";
}

std::string error_of(const Spec& s) {
  try {
    validate(s);
  } catch (const berth::Error& e) {
    return e.what();
  }
  return "(accepted)";
}

Spec base() {
  Spec s;
  s.oci_version = "1.3.0";
  s.root = Root{"rootfs", std::nullopt};
  s.process.emplace().cwd = "/";
  s.process->args = Strings{"sh"};
  return s;
}

}  // namespace

TEST_CASE("bad configs are refused with their exact message", "[oci][validate]") {
  const boost::json::value table = parse_json(read_file(berth::test::fixture("bad-configs.json")));
  const boost::json::array& cases = table.at("cases").as_array();
  REQUIRE(cases.size() >= 40);
  std::set<std::string> names;
  for (const boost::json::value& c : cases) {
    const std::string name(c.at("name").as_string());
    CHECK(names.insert(name).second);  // names are unique, so a failure is easy to find
    const std::string text = c.as_object().contains("text") ? std::string(c.at("text").as_string())
                                                            : boost::json::serialize(c.at("config"));
    const std::string expected(c.at("error").as_string());
    INFO("case: " << name);
    CHECK(error_of(text) == expected);
  }
}

TEST_CASE("valid configs pass", "[oci][validate]") {
  CHECK(error_of(base()) == "(accepted)");
  CHECK(error_of(read_file(berth::test::fixture("full-config.json"))) == "(accepted)");
  CHECK(error_of(default_spec(false)) == "(accepted)");
  CHECK(error_of(default_spec(true)) == "(accepted)");
  CHECK(error_of(read_file(berth::test::fixture("runc-spec.json"))) == "(accepted)");
  CHECK(error_of(read_file(berth::test::fixture("runc-spec-rootless.json"))) == "(accepted)");
}

TEST_CASE("ociVersion is SemVer 2.0.0 with major 0 or 1", "[oci][validate]") {
  for (const char* ok : {"1.0.0", "1.3.0", "1.0.2-dev", "0.5.0-dev", "1.1.0-rc.2", "1.0.0-alpha.1+build.5",
                         "1.2.3+20130313144700", "1.0.0-x-y.0a", "1.99999999999.0"}) {
    Spec s = base();
    s.oci_version = ok;
    INFO(ok);
    CHECK(error_of(s) == "(accepted)");
  }
  for (const char* bad : {"", "1", "1.0", "v1.0.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b",
                          "1.0.0 ", "1.0.0-a_b", "99999999999999999999999.0.0"}) {
    Spec s = base();
    s.oci_version = bad;
    INFO(bad);
    CHECK(error_of(s) == "ociVersion: " + quote(bad) + " is not a SemVer 2.0.0 version");
  }
  Spec s = base();
  s.oci_version = "2.0.0-rc.1";
  CHECK(error_of(s) == "ociVersion: unsupported version \"2.0.0-rc.1\": berth implements runtime-spec 1.x");
}

TEST_CASE("checks run in document order", "[oci][validate]") {
  Spec s = base();
  s.process->cwd = "relative";                                     // process comes before linux
  s.linux.emplace().masked_paths = Strings{"also-relative"};
  CHECK(error_of(s) == "process.cwd: must be an absolute path, got \"relative\"");
  s.process->cwd = "/";
  CHECK(error_of(s) == "linux.maskedPaths[0]: must be an absolute path, got \"also-relative\"");
}

TEST_CASE("namespace rules", "[oci][validate]") {
  Spec s = base();
  s.hostname = "box";
  CHECK(error_of(s) == "hostname: setting the hostname needs a UTS namespace in linux.namespaces");
  // Joining an existing UTS namespace is enough, as in runc.
  s.linux.emplace().namespaces = std::vector<LinuxNamespace>{{NamespaceType::Uts, "/proc/1/ns/uts"}};
  CHECK(error_of(s) == "(accepted)");
  // Time offsets need a *new* time namespace.
  s.linux->namespaces->push_back({NamespaceType::Time, "/proc/1/ns/time"});
  s.linux->time_offsets = std::map<std::string, LinuxTimeOffset>{{"monotonic", {1, 0}}};
  CHECK(error_of(s) ==
        "linux.timeOffsets: needs a new time namespace (a \"time\" entry without path) in linux.namespaces");
  s.linux->namespaces->back().path.reset();
  CHECK(error_of(s) == "(accepted)");
  // An empty mapping list asks for nothing.
  s.linux->uid_mappings = std::vector<LinuxIdMapping>{};
  CHECK(error_of(s) == "(accepted)");
}

TEST_CASE("a user namespace allows idmap mounts without mount mappings", "[oci][validate]") {
  Spec s = base();
  s.mounts = std::vector<Mount>{{"/data", "none", "/src", Strings{"rbind", "ridmap"}, std::nullopt, std::nullopt}};
  CHECK_THAT(error_of(s), Catch::StartsWith("mounts[0].options[1]: \"ridmap\" needs uidMappings"));
  s.linux.emplace().namespaces = std::vector<LinuxNamespace>{{NamespaceType::User, std::nullopt}};
  CHECK(error_of(s) == "(accepted)");
}

TEST_CASE("a device's fileMode may be a whole st_mode of its type, as podman passes it", "[oci][validate]") {
  Spec s = base();
  s.linux.emplace().devices = std::vector<LinuxDevice>{{"/dev/mynull", "c", 1, 3, 020666, 0, 0}};
  CHECK(error_of(s) == "(accepted)");
  (*s.linux->devices)[0].file_mode = 0666;
  CHECK(error_of(s) == "(accepted)");
  (*s.linux->devices)[0].file_mode = 04755;  // runc passes set-id bits to mknod too
  CHECK(error_of(s) == "(accepted)");
  (*s.linux->devices)[0] = {"/dev/loop9", "b", 7, 9, 060660, 0, 6};
  CHECK(error_of(s) == "(accepted)");
  (*s.linux->devices)[0].file_mode = 020660;
  CHECK(error_of(s) == "linux.devices[0].fileMode: file type bits 020000 contradict type \"b\" (060000)");
  (*s.linux->devices)[0].file_mode = 0200000;
  CHECK(error_of(s) == "linux.devices[0].fileMode: must be a file mode (at most 0177777), got 65536 (0200000)");
}

TEST_CASE("sysctls must belong to a namespace of the container", "[oci][validate]") {
  Spec s = base();
  Linux& l = s.linux.emplace();
  l.namespaces = std::vector<LinuxNamespace>{
      {NamespaceType::Network, std::nullopt}, {NamespaceType::Ipc, std::nullopt}, {NamespaceType::Uts, std::nullopt}};
  l.sysctl = StringMap{{"net.ipv4.ip_forward", "1"},  {"kernel.msgmax", "8192"}, {"fs.mqueue.queues_max", "1"},
                       {"kernel.domainname", "x"},    {"net/ipv6/conf/all/forwarding", "1"}};
  CHECK(error_of(s) == "(accepted)");
  l.sysctl = StringMap{{"kernel.hostname", "x"}};
  CHECK(error_of(s) == "linux.sysctl[\"kernel.hostname\"]: sysctl \"kernel.hostname\" is not allowed: use the hostname field");
  l.sysctl = StringMap{{"kernel.domainname", "x"}};
  l.namespaces->pop_back();
  CHECK(error_of(s) ==
        "linux.sysctl[\"kernel.domainname\"]: sysctl \"kernel.domainname\" needs a UTS namespace in linux.namespaces");
}

TEST_CASE("id lists accept the kernel's cpulist syntax", "[oci][validate]") {
  Spec s = base();
  LinuxCpu& cpu = s.linux.emplace().resources.emplace().cpu.emplace();
  for (const char* ok : {"", "0", "0-3,7", " 0-3 ,\t7 ", "0-1023:2/4", "1,2,3"}) {
    cpu.cpus = ok;
    INFO(ok);
    CHECK(error_of(s) == "(accepted)");
  }
  for (const char* bad : {",", "0,", "a", "1-0", "-1", "0 - 3", "0-3:0/4", "0-3:5/4", "0-3:1", "4294967296", "0..3"}) {
    cpu.cpus = bad;
    INFO(bad);
    CHECK(error_of(s) == "linux.resources.cpu.cpus: invalid CPU list " + quote(bad));
  }
}

TEST_CASE("capability table follows <linux/capability.h>", "[oci][capabilities]") {
  CHECK(last_capability() == CAP_LAST_CAP);
  REQUIRE(capabilities().size() == static_cast<std::size_t>(CAP_LAST_CAP + 1));
  for (const Capability& c : capabilities()) {
    CHECK(c.name.starts_with("CAP_"));
    CHECK(capability_from_name(c.name) == c.number);
    CHECK(capability_name(c.number) == c.name);
  }
  CHECK(capability_from_name("CAP_SYS_ADMIN") == CAP_SYS_ADMIN);
  CHECK(capability_from_name("CAP_NET_BIND_SERVICE") == CAP_NET_BIND_SERVICE);
  CHECK(capability_name(CAP_CHOWN) == "CAP_CHOWN");
  CHECK_FALSE(capability_from_name("SYS_ADMIN"));
  CHECK_FALSE(capability_from_name("cap_sys_admin"));
  CHECK_FALSE(capability_name(-1));
  CHECK_FALSE(capability_name(CAP_LAST_CAP + 1));
}

TEST_CASE("rlimit table follows <sys/resource.h>", "[oci][rlimits]") {
  CHECK(rlimit_names().size() == RLIMIT_NLIMITS);
  for (const RlimitName& r : rlimit_names()) CHECK(rlimit_from_name(r.name) == r.resource);
  CHECK(rlimit_from_name("RLIMIT_NOFILE") == RLIMIT_NOFILE);
  CHECK(rlimit_from_name("RLIMIT_RTTIME") == RLIMIT_RTTIME);
  CHECK_FALSE(rlimit_from_name("RLIMIT_OFILE"));
  CHECK_FALSE(rlimit_from_name("NOFILE"));
}
