#include "oci/json.hpp"

#include <algorithm>
#include <cstdint>

#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <fmt/format.h>

#include "runtime/sys/error.hpp"

namespace berth::oci {

namespace json = boost::json;

namespace {

// config.json nests about 6 levels; 64 leaves room for extensions while
// bounding the recursion of every walker (decoder, printer) on hostile input.
constexpr std::size_t kMaxDepth = 64;

void throw_parse_error(std::string_view text, std::size_t offset, const boost::system::error_code& ec) {
  offset = std::min(offset, text.size());
  const std::string_view before = text.substr(0, offset);
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t nl = before.rfind('\n');
  const std::size_t column = (nl == std::string_view::npos ? offset : offset - nl - 1) + 1;
  throw Error(fmt::format("invalid JSON at line {}, column {}: {}", line, column, ec.message()));
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

// Go's encoding/json string escaping (HTML-safe, as json.MarshalIndent), so
// that berth's output is byte-for-byte runc's. Invalid UTF-8 becomes U+FFFD, as
// in Go, which keeps the output valid JSON whatever the input.
void write_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) break JavaScript string literals.
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out += (s[i + 2] == static_cast<char>(0xA8)) ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out += '"';
}

void newline(std::string& out, int depth) {
  out += '\n';
  out.append(static_cast<std::size_t>(depth), '\t');
}

void write_pretty(std::string& out, const json::value& v, int depth) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: fmt::format_to(std::back_inserter(out), "{}", v.get_int64()); break;
    case json::kind::uint64: fmt::format_to(std::back_inserter(out), "{}", v.get_uint64()); break;
    case json::kind::double_: out += json::serialize(v); break;
    case json::kind::string: write_string(out, v.get_string()); break;
    case json::kind::array: {
      const json::array& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        break;
      }
      out += '[';
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        newline(out, depth + 1);
        write_pretty(out, a[i], depth + 1);
      }
      newline(out, depth);
      out += ']';
      break;
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        break;
      }
      out += '{';
      bool first = true;
      for (const json::key_value_pair& kv : o) {
        if (!first) out += ',';
        first = false;
        newline(out, depth + 1);
        write_string(out, kv.key());
        out += ": ";
        write_pretty(out, kv.value(), depth + 1);
      }
      newline(out, depth);
      out += '}';
      break;
    }
  }
}

bool is_identifier(std::string_view key) noexcept {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

json::value parse_json(std::string_view text, json::storage_ptr sp) {
  json::parse_options opts;
  opts.max_depth = kMaxDepth;
  json::stream_parser p(json::storage_ptr(), opts);
  p.reset(std::move(sp));
  boost::system::error_code ec;
  const std::size_t used = p.write(text.data(), text.size(), ec);
  if (ec) throw_parse_error(text, used, ec);
  p.finish(ec);
  if (ec) throw_parse_error(text, text.size(), ec);
  return p.release();
}

std::string pretty_json(const json::value& v) {
  std::string out;
  out.reserve(4096);
  write_pretty(out, v, 0);
  return out;
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  write_string(out, s);
  return out;
}

void JsonPath::render(std::string& out) const {
  if (parent_) parent_->render(out);
  if (index_ != kNoIndex) {
    fmt::format_to(std::back_inserter(out), "[{}]", index_);
  } else if (parent_) {  // the root has neither a key nor an index
    if (is_identifier(key_)) {
      if (!out.empty()) out += '.';
      out.append(key_);
    } else {
      out += '[';
      write_string(out, key_);
      out += ']';
    }
  }
}

std::string JsonPath::str() const {
  std::string out;
  render(out);
  return out.empty() ? std::string("(root)") : out;
}

void fail(const JsonPath& where, std::string_view message) {
  throw Error(fmt::format("{}: {}", where.str(), message));
}

}  // namespace berth::oci
