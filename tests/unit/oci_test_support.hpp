// Helpers shared by the oci_*_test.cpp files: fixture paths and the spec's own
// test vectors (copied into tests/fixtures/runtime-spec).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#ifndef BERTH_SOURCE_ROOT
#error "BERTH_SOURCE_ROOT must be defined (tests/meson.build does)"
#endif

namespace berth::test {

// Records that the current test cannot run here: a WARN with the reason, and a
// "name: reason" line in $BERTH_SKIP_LOG, which tests/run-all.sh counts as
// skipped (Catch2 v2 has no SKIP). The test then returns and passes.
inline void skip_test(const std::string& reason) {
  WARN("skipped: " << reason);
  if (const char* log = std::getenv("BERTH_SKIP_LOG")) {
    std::ofstream f(log, std::ios::app);
    f << Catch::getResultCapture().getCurrentTestName() << ": " << reason << "\n";
  }
}

// Why the spec's vectors are missing, for skip_test().
inline const char* kNoVectors =
    "runtime-spec test vectors not found at " BERTH_SOURCE_ROOT "/tests/fixtures/runtime-spec";

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(BERTH_SOURCE_ROOT) / "tests" / "fixtures" / name;
}

// runtime-spec's schema/test/config/{good,bad}; empty path when not present.
inline std::filesystem::path spec_vectors() {
  const std::filesystem::path dir = fixture("runtime-spec");
  return std::filesystem::is_directory(dir) ? dir : std::filesystem::path();
}

// The *.json files of spec_vectors()/<which>, sorted.
inline std::vector<std::filesystem::path> vector_files(const std::string& which) {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path root = spec_vectors();
  if (root.empty()) return out;
  for (const auto& e : std::filesystem::directory_iterator(root / which))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A document is meant for another platform when it carries that platform's
// object (config.md "Platform-specific configuration"): such documents set up
// jails, z/OS or Windows containers, not Linux ones, so berth does not judge
// them. Decided by content, not by file name. Unparsable text counts as Linux
// (any runtime must refuse it).
inline bool is_other_platform(const std::string& text) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  for (const char* key : {"freebsd", "solaris", "windows", "zos"})
    if (v.get_object().contains(key)) return true;
  return false;
}

}  // namespace berth::test
