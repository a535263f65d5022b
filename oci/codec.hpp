// Internal to oci/: the typed readers and writers the decoders and encoders of
// config.json, state.json and the features document are built from.
//
// Readers: decode_into(value, where, out) overloads, one per C++ type. Struct
// readers are declared next to the code that defines them and found by ADL
// (JsonPath lives in berth::oci), so the vector/map/optional templates below
// work for every type. Every failure names the JSON path.
//
// Writers: to_value(x) overloads and put(object, key, x) which skips an unset
// std::optional, so only present fields are emitted.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "oci/enums.hpp"
#include "oci/json.hpp"
#include "oci/spec.hpp"

namespace berth::oci {

namespace json = boost::json;

// --- readers -----------------------------------------------------------------

const json::object& expect_object(const json::value& v, const JsonPath& where);
const json::array& expect_array(const json::value& v, const JsonPath& where);

void decode_into(const json::value& v, const JsonPath& where, std::string& out);
void decode_into(const json::value& v, const JsonPath& where, bool& out);

template <class I>
constexpr std::string_view integer_kind() noexcept {
  if constexpr (std::is_same_v<I, std::int8_t>) return "an 8-bit integer";
  else if constexpr (std::is_same_v<I, std::int16_t>) return "a 16-bit integer";
  else if constexpr (std::is_same_v<I, std::int32_t>) return "a 32-bit integer";
  else if constexpr (std::is_same_v<I, std::int64_t>) return "a 64-bit integer";
  else if constexpr (std::is_same_v<I, std::uint8_t>) return "an unsigned 8-bit integer";
  else if constexpr (std::is_same_v<I, std::uint16_t>) return "an unsigned 16-bit integer";
  else if constexpr (std::is_same_v<I, std::uint32_t>) return "an unsigned 32-bit integer";
  else return "an unsigned 64-bit integer";
}

// Integers accept only JSON integers that fit the field, as Go's encoding/json
// (no 1.0, no 1e3): a negative uid or a 2^32 hcaHandles names the field.
template <class I>
  requires(std::integral<I> && !std::same_as<I, bool>)
void decode_into(const json::value& v, const JsonPath& where, I& out) {
  if (const std::int64_t* i = v.if_int64()) {
    if (std::in_range<I>(*i)) {
      out = static_cast<I>(*i);
      return;
    }
    fail(where, fmt::format("expected {}, got {}", integer_kind<I>(), *i));
  }
  if (const std::uint64_t* u = v.if_uint64()) {
    if (std::in_range<I>(*u)) {
      out = static_cast<I>(*u);
      return;
    }
    fail(where, fmt::format("expected {}, got {}", integer_kind<I>(), *u));
  }
  if (v.is_double()) fail(where, fmt::format("expected {}, got {}", integer_kind<I>(), json::serialize(v)));
  fail(where, fmt::format("expected {}", integer_kind<I>()));
}

template <SpecEnum E>
void decode_into(const json::value& v, const JsonPath& where, E& out) {
  const json::string* s = v.if_string();
  if (!s) fail(where, "expected a string");
  const std::optional<E> e = from_string<E>(std::string_view(*s));
  if (!e) fail(where, fmt::format("unknown {} {}", EnumTraits<E>::kWhat, quote(*s)));
  out = *e;
}

template <class T>
void decode_into(const json::value& v, const JsonPath& where, std::vector<T>& out) {
  const json::array& a = expect_array(v, where);
  out.clear();
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) decode_into(a[i], where[i], out.emplace_back());
}

template <class T>
void decode_into(const json::value& v, const JsonPath& where, std::map<std::string, T>& out) {
  const json::object& o = expect_object(v, where);
  out.clear();
  for (const json::key_value_pair& kv : o) {
    const std::string_view key = kv.key();
    // try_emplace, not operator[]: a duplicate key keeps the value the parser kept.
    auto [it, inserted] = out.try_emplace(std::string(key));
    if (inserted) decode_into(kv.value(), where.field(key), it->second);
  }
}

// A REQUIRED member: missing (or null) is "required field is missing".
template <class T>
void read_required(const json::object& o, std::string_view key, const JsonPath& where, T& out) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) fail(where.field(key), "required field is missing");
  decode_into(*v, where.field(key), out);
}

// An OPTIONAL member: absent or null leaves `out` unset (null is Go's nil).
template <class T>
void read_optional(const json::object& o, std::string_view key, const JsonPath& where, std::optional<T>& out) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    out.reset();
    return;
  }
  decode_into(*v, where.field(key), out.emplace());
}

// Shared between decode.cpp (mounts) and decode_linux.cpp (linux.*Mappings).
void decode_into(const json::value& v, const JsonPath& where, LinuxIdMapping& out);
void decode_into(const json::value& v, const JsonPath& where, Linux& out);

// --- writers -----------------------------------------------------------------

inline json::value to_value(const std::string& s) { return json::value(json::string_view(s)); }
inline json::value to_value(bool b) { return json::value(b); }

// Unsigned values that fit are emitted as int64, as the parser reads them, so
// that a parsed document and a serialised one compare equal as JSON values.
template <class I>
  requires(std::integral<I> && !std::same_as<I, bool>)
json::value to_value(I i) {
  if constexpr (std::is_signed_v<I>) {
    return json::value(static_cast<std::int64_t>(i));
  } else {
    if (std::in_range<std::int64_t>(i)) return json::value(static_cast<std::int64_t>(i));
    return json::value(static_cast<std::uint64_t>(i));
  }
}

template <SpecEnum E>
json::value to_value(E e) {
  return json::value(json::string_view(to_string(e)));
}

template <class T>
json::value to_value(const std::vector<T>& v) {
  json::array a;
  a.reserve(v.size());
  for (const T& x : v) a.push_back(to_value(x));
  return a;
}

template <class T>
json::value to_value(const std::map<std::string, T>& m) {
  json::object o;
  o.reserve(m.size());
  for (const auto& [k, x] : m) o.emplace(k, to_value(x));
  return o;
}

template <class T>
void put(json::object& o, std::string_view key, const T& x) {
  o.emplace(key, to_value(x));
}

template <class T>
void put(json::object& o, std::string_view key, const std::optional<T>& x) {
  if (x) o.emplace(key, to_value(*x));
}

}  // namespace berth::oci
