// Fuzz target for the config.json model: parse_config, validate, to_json and
// re-parse. Invalid input must end in berth::Error and nothing else; any other
// exception, a crash, a sanitizer report or a broken invariant (abort) is a
// finding. Built twice: with standalone_main.cpp by meson (g++), and with
// libFuzzer by run-libfuzzer.sh (clang++).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "oci/json.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"
#include "oci/validate.hpp"
#include "runtime/sys/error.hpp"

namespace {

[[noreturn]] void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool valid(const berth::oci::Spec& spec, std::string* why) {
  try {
    berth::oci::validate(spec);
    return true;
  } catch (const berth::Error& e) {
    *why = e.what();
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace berth::oci;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // The state document shares the decoding machinery; it only has to fail cleanly.
  try {
    const State st = parse_state(text);
    if (!(state_from_json(to_json(st)) == st)) finding("state round trip changed the state", std::string(text));
  } catch (const berth::Error&) {
  }

  Spec spec;
  try {
    spec = parse_config(text);
  } catch (const berth::Error&) {
    return 0;  // refused with a message: the expected outcome for most inputs
  }
  std::string why;
  const bool ok = valid(spec, &why);

  // Serialising a decoded spec must give a document that decodes to the same
  // spec (parse(serialise(x)) == x) and validates the same way.
  const std::string printed = pretty_json(to_json(spec));
  Spec again;
  try {
    again = parse_config(printed);
  } catch (const berth::Error& e) {
    finding("re-parsing the serialised spec failed", std::string(e.what()) + "\n" + printed);
  }
  if (!(again == spec)) finding("round trip changed the spec", printed);
  std::string why_again;
  if (valid(again, &why_again) != ok || why_again != why)
    finding("validation differs after the round trip", why + "\n" + why_again + "\n" + printed);
  // Printing is deterministic.
  if (pretty_json(to_json(again)) != printed) finding("printing is not stable", printed);
  return 0;
}
