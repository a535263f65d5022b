// oci/features.cpp
#include <catch2/catch.hpp>

#include <string>

#include "oci/capabilities.hpp"
#include "oci/features.hpp"
#include "oci/json.hpp"
#include "runtime/sys/error.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth::oci;
namespace json = boost::json;

TEST_CASE("a minimal features document has only the versions", "[oci][features]") {
  Features f;
  f.oci_version_min = "1.0.0";
  f.oci_version_max = "1.3.0";
  CHECK(pretty_json(to_json(f)) == "{\n\t\"ociVersionMin\": \"1.0.0\",\n\t\"ociVersionMax\": \"1.3.0\"\n}");
  CHECK(features_from_json(to_json(f)) == f);
}

TEST_CASE("features.md's full example round trips", "[oci][features]") {
  const json::value doc = parse_json(berth::test::read_file(berth::test::fixture("features-example.json")));
  const Features f = features_from_json(doc);
  CHECK(f.oci_version_max == "1.1.0-rc.2");
  CHECK(f.hooks->size() == 6);
  CHECK(f.linux->namespaces->at(0) == NamespaceType::Cgroup);
  CHECK(f.linux->seccomp->known_flags->at(1) == SeccompFlag::SpecAllow);
  CHECK(f.linux->cgroup->systemd_user == true);
  CHECK(f.linux->intel_rdt->monitoring == true);
  CHECK(f.linux->memory_policy->modes->size() == 7);
  CHECK(f.annotations->at("org.opencontainers.runc.version") == "1.1.0+dev");
  CHECK(to_json(f) == doc);
}

TEST_CASE("every features field is emitted with its spec name", "[oci][features]") {
  Features f;
  f.oci_version_min = "1.0.0";
  f.oci_version_max = "1.3.0";
  f.hooks = Strings{"prestart", "poststop"};
  f.mount_options = Strings{"bind", "rbind"};
  f.annotations = StringMap{{"org.example.k", "v"}};
  f.potentially_unsafe_config_annotations = Strings{"org.systemd.property."};
  LinuxFeatures& l = f.linux.emplace();
  const auto ns = all_values<NamespaceType>();
  l.namespaces.emplace(ns.begin(), ns.end());
  l.capabilities.emplace();
  for (const Capability& c : capabilities()) l.capabilities->emplace_back(c.name);
  l.cgroup = CgroupFeatures{true, true, false, false, true};
  SeccompFeatures& sc = l.seccomp.emplace();
  sc.enabled = true;
  const auto actions = all_values<SeccompAction>();
  sc.actions.emplace(actions.begin(), actions.end());
  const auto ops = all_values<SeccompOperator>();
  sc.operators.emplace(ops.begin(), ops.end());
  const auto archs = all_values<SeccompArch>();
  sc.archs.emplace(archs.begin(), archs.end());
  const auto flags = all_values<SeccompFlag>();
  sc.known_flags.emplace(flags.begin(), flags.end());
  sc.supported_flags = std::vector<SeccompFlag>{SeccompFlag::Log};
  l.apparmor = EnabledFeature{false};
  l.selinux = EnabledFeature{true};
  l.intel_rdt = IntelRdtFeatures{true, false, std::nullopt};
  l.mount_extensions.emplace().idmap = EnabledFeature{true};
  l.net_devices = EnabledFeature{true};
  MemoryPolicyFeatures& mp = l.memory_policy.emplace();
  const auto modes = all_values<MemoryPolicyMode>();
  mp.modes.emplace(modes.begin(), modes.end());
  mp.flags = std::vector<MemoryPolicyFlag>{MemoryPolicyFlag::StaticNodes};

  const json::value v = to_json(f);
  CHECK(v.at("potentiallyUnsafeConfigAnnotations").at(0) == "org.systemd.property.");
  const json::value& lv = v.at("linux");
  CHECK(lv.at("namespaces").at(7) == "time");
  CHECK(lv.at("capabilities").at(0) == "CAP_CHOWN");
  CHECK(lv.at("cgroup").at("systemdUser") == false);
  CHECK(lv.at("seccomp").at("archs").as_array().size() == 23);
  CHECK(lv.at("seccomp").at("supportedFlags").at(0) == "SECCOMP_FILTER_FLAG_LOG");
  CHECK(lv.at("intelRdt").as_object().size() == 2);
  CHECK(lv.at("mountExtensions").at("idmap").at("enabled") == true);
  CHECK(lv.at("netDevices").at("enabled") == true);
  CHECK(lv.at("memoryPolicy").at("flags").at(0) == "MPOL_F_STATIC_NODES");
  // Key order follows features.md.
  const json::object& o = v.as_object();
  auto it = o.begin();
  CHECK((it++)->key() == "ociVersionMin");
  CHECK((it++)->key() == "ociVersionMax");
  CHECK((it++)->key() == "hooks");
  CHECK((it++)->key() == "mountOptions");
  CHECK((it++)->key() == "linux");
  CHECK(features_from_json(parse_json(pretty_json(v))) == f);
}

TEST_CASE("null means absent in a features document", "[oci][features]") {
  const Features f = features_from_json(parse_json(
      R"({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "hooks": null, "linux": {"seccomp": null}})"));
  CHECK_FALSE(f.hooks);
  CHECK(f.linux == LinuxFeatures{});
}

TEST_CASE("invalid features documents name the field", "[oci][features]") {
  const auto error = [](const char* text) {
    try {
      features_from_json(parse_json(text));
    } catch (const berth::Error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(error(R"({"ociVersionMin": "1.0.0"})") == "ociVersionMax: required field is missing");
  CHECK(error(R"({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "linux": {"namespaces": ["pid", "net"]}})") ==
        "linux.namespaces[1]: unknown namespace type \"net\"");
  CHECK(error(R"({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "linux": {"apparmor": {"enabled": 1}}})") ==
        "linux.apparmor.enabled: expected a boolean");
}
