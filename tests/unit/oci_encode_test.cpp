// oci/encode.cpp and oci/json.cpp (printing side).
#include <catch2/catch.hpp>

#include <string>

#include "oci/json.hpp"
#include "oci/spec.hpp"
#include "runtime/sys/error.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth::oci;
using berth::test::read_file;
namespace json = boost::json;

namespace {

// Every member `out` emits is in `in` with the same value (arrays element-wise):
// serialise(parse(doc)) is doc minus the unknown properties.
bool is_subdocument(const json::value& out, const json::value& in) {
  if (out.is_object() && in.is_object()) {
    for (const json::key_value_pair& kv : out.get_object()) {
      const json::value* v = in.get_object().if_contains(kv.key());
      if (!v || !is_subdocument(kv.value(), *v)) return false;
    }
    return true;
  }
  if (out.is_array() && in.is_array()) {
    if (out.get_array().size() != in.get_array().size()) return false;
    for (std::size_t i = 0; i < out.get_array().size(); ++i)
      if (!is_subdocument(out.get_array()[i], in.get_array()[i])) return false;
    return true;
  }
  return out == in;
}

}  // namespace

TEST_CASE("the full config round trips", "[oci][encode]") {
  const std::string text = read_file(berth::test::fixture("full-config.json"));
  const Spec s = parse_config(text);
  const json::value out = to_json(s);
  // The fixture has no unknown property, so serialise(parse(doc)) == doc (modulo key order).
  CHECK(out == parse_json(text));
  // parse(serialise(x)) == x, through the printed text.
  const std::string printed = pretty_json(out);
  CHECK(parse_config(printed) == s);
  // Printing is stable.
  CHECK(pretty_json(to_json(parse_config(printed))) == printed);
}

TEST_CASE("spec vectors serialise back to themselves minus unknown properties", "[oci][encode]") {
  if (berth::test::spec_vectors().empty()) {
    berth::test::skip_test(berth::test::kNoVectors);
    return;
  }
  for (const auto& path : berth::test::vector_files("good")) {
    const std::string text = read_file(path);
    INFO(path.filename().string());
    const Spec s = parse_config(text);
    const json::value out = to_json(s);
    CHECK(is_subdocument(out, parse_json(text)));
    CHECK(parse_config(pretty_json(out)) == s);
  }
}

TEST_CASE("only fields that are set are emitted", "[oci][encode]") {
  Spec s;
  s.oci_version = "1.3.0";
  CHECK(pretty_json(to_json(s)) == "{\n\t\"ociVersion\": \"1.3.0\"\n}");
  s.process.emplace().cwd = "/";
  s.process->args = Strings{};
  s.process->terminal = false;
  s.linux.emplace().resources.emplace().memory.emplace().limit = -1;
  CHECK(pretty_json(to_json(s)) ==
        "{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {\n\t\t\"terminal\": false,\n\t\t\"args\": [],\n"
        "\t\t\"cwd\": \"/\"\n\t},\n\t\"linux\": {\n\t\t\"resources\": {\n\t\t\t\"memory\": {\n"
        "\t\t\t\t\"limit\": -1\n\t\t\t}\n\t\t}\n\t}\n}");
  CHECK(parse_config(pretty_json(to_json(s))) == s);
}

TEST_CASE("integers keep their width through a round trip", "[oci][encode]") {
  Spec s;
  s.oci_version = "1.3.0";
  LinuxResources& r = s.linux.emplace().resources.emplace();
  r.cpu.emplace().shares = UINT64_MAX;
  r.cpu->quota = INT64_MIN;
  r.pids.emplace().limit = 0;
  const json::value v = to_json(s);
  const json::value& cpu = v.at("linux").at("resources").at("cpu");
  CHECK(cpu.at("shares").is_uint64());
  CHECK(cpu.at("quota").as_int64() == INT64_MIN);
  CHECK(parse_config(pretty_json(v)) == s);
  // Unsigned values that fit are emitted as int64, as the parser reads them.
  s.linux->resources->cpu->shares = 1024;
  CHECK(to_json(s).at("linux").at("resources").at("cpu").at("shares").is_int64());
}

TEST_CASE("pretty_json prints like Go's json.MarshalIndent", "[oci][json]") {
  CHECK(pretty_json(json::value(nullptr)) == "null");
  CHECK(pretty_json(json::parse("[]")) == "[]");
  CHECK(pretty_json(json::parse("{}")) == "{}");
  CHECK(pretty_json(json::parse(R"({"a":[1,{"b":true}],"c":{}})")) ==
        "{\n\t\"a\": [\n\t\t1,\n\t\t{\n\t\t\t\"b\": true\n\t\t}\n\t],\n\t\"c\": {}\n}");
  // Keys keep insertion order.
  CHECK(pretty_json(json::parse(R"({"z":1,"a":2})")) == "{\n\t\"z\": 1,\n\t\"a\": 2\n}");
  CHECK(pretty_json(json::value(18446744073709551615ull)) == "18446744073709551615");
  CHECK(pretty_json(json::value(-5)) == "-5");
}

TEST_CASE("strings are escaped as Go does", "[oci][json]") {
  CHECK(quote("plain") == "\"plain\"");
  CHECK(quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quote("\n\r\t") == "\"\\n\\r\\t\"");
  CHECK(quote(std::string("\x01\x1f\b\f", 4)) == "\"\\u0001\\u001f\\u0008\\u000c\"");
  CHECK(quote(std::string("\0", 1)) == "\"\\u0000\"");
  CHECK(quote("<a href='x'>&</a>") == "\"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e\"");
  CHECK(quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\"");
  CHECK(quote("\xe2\x80\xa8\xe2\x80\xa9") == "\"\\u2028\\u2029\"");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence, an overlong
  // form, a surrogate) becomes U+FFFD, so the output is always valid JSON.
  CHECK(quote("\x80") == "\"\\ufffd\"");
  CHECK(quote("a\xe2\x82") == "\"a\\ufffd\\ufffd\"");
  CHECK(quote("\xc0\xaf") == "\"\\ufffd\\ufffd\"");
  CHECK(quote("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");
  for (const char* s : {"\x80", "a\xe2\x82", "\xff\xfe", "<&>\xe2\x80\xa8"}) CHECK_NOTHROW(json::parse(quote(s)));
}

TEST_CASE("a spec with invalid UTF-8 still prints valid JSON", "[oci][encode]") {
  Spec s;
  s.oci_version = "1.3.0";
  s.hostname = "bad\xff";
  const Spec back = parse_config(pretty_json(to_json(s)));
  CHECK(back.hostname == "bad\xef\xbf\xbd");
}
