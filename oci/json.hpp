// JSON text in and out for the OCI documents: a strict parser whose errors
// carry line and column, a runc-compatible pretty printer, and JsonPath, the
// "where" of every decode and validation error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

namespace berth::oci {

// Parses strict JSON (no comments, no trailing commas, valid UTF-8, nesting at
// most 64 deep). Throws berth::Error "invalid JSON at line L, column C: <what>"
// (1-based, column counted in bytes). `sp` lets callers that decode and drop
// the tree at once parse into a monotonic arena.
boost::json::value parse_json(std::string_view text, boost::json::storage_ptr sp = {});

// Pretty prints like Go's json.MarshalIndent(v, "", "\t"), i.e. like `runc spec`:
// tab indentation, `"key": value`, keys in insertion order, `[]`/`{}` for empty
// containers, <, >, & and U+2028/U+2029 escaped as \u003c..., no trailing newline.
std::string pretty_json(const boost::json::value& v);

// `s` as a JSON string literal, for quoting user data in error messages.
std::string quote(std::string_view s);

// A JSON path built on the stack while decoding or validating, rendered only
// when an error is thrown, so the success path allocates nothing for it.
// Renders as `linux.namespaces[2].type`; a key that is not a plain identifier
// ([A-Za-z0-9_-]+) is rendered in brackets: `linux.sysctl["net.ipv4.ip_forward"]`.
class JsonPath {
 public:
  JsonPath() noexcept = default;  // the document root; renders as "(root)"
  JsonPath field(std::string_view key) const noexcept { return JsonPath(this, key, kNoIndex); }
  JsonPath operator[](std::size_t index) const noexcept { return JsonPath(this, {}, index); }
  std::string str() const;

 private:
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  JsonPath(const JsonPath* parent, std::string_view key, std::size_t index) noexcept
      : parent_(parent), key_(key), index_(index) {}
  void render(std::string& out) const;

  const JsonPath* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = kNoIndex;
};

// Throws berth::Error("<path>: <message>").
[[noreturn]] void fail(const JsonPath& where, std::string_view message);

}  // namespace berth::oci
