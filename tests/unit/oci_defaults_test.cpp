// oci/defaults.cpp: `berth spec` writes what `runc spec` writes.
#include <catch2/catch.hpp>

#include <string>

#include <unistd.h>

#include "oci/defaults.hpp"
#include "oci/json.hpp"
#include "oci/validate.hpp"
#include "runtime/namespaces.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth::oci;
using berth::test::read_file;
namespace json = boost::json;

namespace {

// The runc 1.1.5 reference output with berth's ociVersion.
json::value runc_reference(const char* name) {
  json::value v = parse_json(read_file(berth::test::fixture(name)));
  REQUIRE(v.at("ociVersion") == "1.0.2-dev");
  v.as_object()["ociVersion"] = "1.3.0";
  return v;
}

}  // namespace

TEST_CASE("default_spec equals runc spec", "[oci][defaults]") {
  // Compared as JSON values: object comparison ignores key order.
  CHECK(to_json(default_spec(false)) == runc_reference("runc-spec.json"));
  CHECK(to_json(default_spec(true, 0, 0)) == runc_reference("runc-spec-rootless.json"));
}

TEST_CASE("default_spec prints byte for byte as runc spec", "[oci][defaults]") {
  const auto expected = [](const char* name) {
    std::string text = read_file(berth::test::fixture(name));
    const std::string from = "\"ociVersion\": \"1.0.2-dev\"";
    text.replace(text.find(from), from.size(), "\"ociVersion\": \"1.3.0\"");
    return text;
  };
  CHECK(pretty_json(to_json(default_spec(false))) == expected("runc-spec.json"));
  CHECK(pretty_json(to_json(default_spec(true, 0, 0))) == expected("runc-spec-rootless.json"));
}

TEST_CASE("rootless default maps the caller's effective ids", "[oci][defaults]") {
  const Spec s = default_spec(true);
  REQUIRE(s.linux->uid_mappings);
  CHECK(*s.linux->uid_mappings == std::vector<LinuxIdMapping>{{0, static_cast<std::uint32_t>(geteuid()), 1}});
  CHECK(*s.linux->gid_mappings == std::vector<LinuxIdMapping>{{0, static_cast<std::uint32_t>(getegid()), 1}});
  const Spec t = default_spec(true, 1000, 2000);
  CHECK(t.linux->uid_mappings->at(0).host_id == 1000u);
  CHECK(t.linux->gid_mappings->at(0).host_id == 2000u);
  CHECK_FALSE(t.linux->resources);
}

TEST_CASE("rootless default maps only what an unprivileged user may map itself", "[oci][defaults][rootless]") {
  // The kernel lets a process without CAP_SETUID/CAP_SETGID write one mapping of its own id;
  // the parent writes exactly that, without newuidmap/newgidmap (runtime/spawn.cpp).
  const Spec s = default_spec(true, 1000, 2000);
  CHECK(berth::ns::maps_only(*s.linux->uid_mappings, 1000));
  CHECK(berth::ns::maps_only(*s.linux->gid_mappings, 2000));
  CHECK_FALSE(berth::ns::maps_only(*s.linux->uid_mappings, 1001));
  // Anything more goes through the tools, whose arguments are the pid and the triples.
  const std::vector<LinuxIdMapping> more{{0, 1000, 1}, {1, 100000, 65536}};
  CHECK_FALSE(berth::ns::maps_only(more, 1000));
  CHECK(berth::ns::map_tool_args(42, more) == std::vector<std::string>{"42", "0", "1000", "1", "1", "100000", "65536"});
  CHECK(berth::ns::id_map(more) == "0 1000 1\n1 100000 65536\n");
}

TEST_CASE("default_spec round trips and validates", "[oci][defaults]") {
  for (const bool rootless : {false, true}) {
    INFO("rootless: " << rootless);
    const Spec s = default_spec(rootless);
    CHECK(parse_config(pretty_json(to_json(s))) == s);
    CHECK_NOTHROW(validate(s));
  }
}
