#include "runtime/criu/wire.hpp"

#include <fmt/format.h>

#include "runtime/sys/error.hpp"

namespace berth::criu::wire {

namespace {

std::string_view type_name(WireType t) {
  switch (t) {
    case WireType::Varint: return "varint";
    case WireType::Fixed64: return "64-bit";
    case WireType::Len: return "length-delimited";
    case WireType::StartGroup: return "start-group";
    case WireType::EndGroup: return "end-group";
    case WireType::Fixed32: return "32-bit";
  }
  return "unknown";
}

// protobuf nests groups without limit; a hostile peer could exhaust the stack with them.
constexpr int kMaxGroupDepth = 64;

}  // namespace

// --- Writer ---

void Writer::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void Writer::tag(std::uint32_t field, WireType t) {
  varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(t));
}

void Writer::int32(std::uint32_t field, std::int32_t v) {
  tag(field, WireType::Varint);
  varint(static_cast<std::uint64_t>(static_cast<std::int64_t>(v)));
}

void Writer::uint32(std::uint32_t field, std::uint32_t v) {
  tag(field, WireType::Varint);
  varint(v);
}

void Writer::boolean(std::uint32_t field, bool v) {
  tag(field, WireType::Varint);
  varint(v ? 1 : 0);
}

void Writer::string(std::uint32_t field, std::string_view s) {
  tag(field, WireType::Len);
  varint(s.size());
  out_.append(s);
}

void Writer::message(std::uint32_t field, std::string_view encoded) { string(field, encoded); }

// --- Reader ---

void Reader::fail(std::size_t offset, std::string_view what) const {
  throw Error(fmt::format("{}: {} at byte {}", message_, what, base_ + offset));
}

void missing_required(const Reader& r, std::string_view field) {
  throw Error(fmt::format("{}: required field `{}` is missing", r.name(), field));
}

std::uint64_t Reader::read_varint(std::string_view what) {
  const std::size_t start = pos_;
  std::uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= data_.size()) fail(start, fmt::format("truncated {}", what));
    const auto b = static_cast<std::uint8_t>(data_[pos_++]);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail(start, fmt::format("{} longer than 10 bytes", what));
}

void Reader::skip(std::size_t n, std::string_view what) {
  if (data_.size() - pos_ < n) fail(field_.offset, fmt::format("truncated {}", what));
  pos_ += n;
}

// Skips up to and including the EndGroup of `number`, as protobuf does for an unknown group.
void Reader::skip_group(std::uint32_t number) {
  const std::uint32_t outer = number;
  std::uint32_t stack[kMaxGroupDepth];
  int depth = 0;
  stack[depth++] = outer;
  while (depth > 0) {
    const std::size_t at = pos_;
    const std::uint64_t key = read_varint("field tag");
    const auto t = static_cast<WireType>(key & 7);
    const auto n = static_cast<std::uint32_t>(key >> 3);
    switch (t) {
      case WireType::Varint: read_varint("varint"); break;
      case WireType::Fixed64: skip(8, "64-bit value"); break;
      case WireType::Fixed32: skip(4, "32-bit value"); break;
      case WireType::Len: {
        const std::uint64_t len = read_varint("length");
        if (len > data_.size() - pos_) fail(at, "truncated length-delimited field");
        pos_ += len;
        break;
      }
      case WireType::StartGroup:
        if (depth == kMaxGroupDepth) fail(at, "groups nested too deeply");
        stack[depth++] = n;
        break;
      case WireType::EndGroup:
        if (n != stack[depth - 1]) fail(at, fmt::format("end of group {} inside group {}", n, stack[depth - 1]));
        --depth;
        break;
      default: fail(at, fmt::format("invalid wire type {}", static_cast<int>(t)));
    }
  }
}

bool Reader::next() {
  if (pos_ >= data_.size()) return false;
  field_ = Field{};
  field_.offset = pos_;
  const std::uint64_t key = read_varint("field tag");
  const unsigned wt = static_cast<unsigned>(key & 7);
  if (wt > 5) fail(field_.offset, fmt::format("invalid wire type {}", wt));
  if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff) fail(field_.offset, fmt::format("invalid field number {}", key >> 3));
  field_.number = static_cast<std::uint32_t>(key >> 3);
  field_.type = static_cast<WireType>(wt);
  switch (field_.type) {
    case WireType::Varint: field_.varint = read_varint("varint"); break;
    case WireType::Fixed64: skip(8, "64-bit value"); break;
    case WireType::Fixed32: skip(4, "32-bit value"); break;
    case WireType::Len: {
      const std::uint64_t len = read_varint("length");
      if (len > data_.size() - pos_)
        fail(field_.offset, fmt::format("truncated field {} ({} bytes, {} left)", field_.number, len, data_.size() - pos_));
      field_.bytes = data_.substr(pos_, len);
      pos_ += len;
      break;
    }
    case WireType::StartGroup: skip_group(field_.number); break;
    case WireType::EndGroup: fail(field_.offset, fmt::format("end of group {} outside any group", field_.number));
  }
  return true;
}

// A known field sent with another wire type: protobuf-c (what criu uses) rejects the message,
// and so do we, rather than read a length as a number.
void Reader::expect(WireType t) const {
  if (field_.type != t)
    fail(field_.offset, fmt::format("field {} is {}, expected {}", field_.number, type_name(field_.type), type_name(t)));
}

std::int32_t Reader::int32() const {
  expect(WireType::Varint);
  // The low 32 bits, as protobuf does: a negative int32 arrives sign-extended to 64 bits.
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(field_.varint));
}

std::uint32_t Reader::uint32() const {
  expect(WireType::Varint);
  return static_cast<std::uint32_t>(field_.varint);
}

bool Reader::boolean() const {
  expect(WireType::Varint);
  return field_.varint != 0;
}

std::string Reader::string() const {
  expect(WireType::Len);
  return std::string(field_.bytes);
}

Reader Reader::message(std::string_view name) const {
  expect(WireType::Len);
  // The payload starts after the tag and the length varint, which end where the bytes begin.
  const std::size_t payload = static_cast<std::size_t>(field_.bytes.data() - data_.data());
  return Reader(field_.bytes, fmt::format("{}.{}", message_, name), base_ + payload);
}

}  // namespace berth::criu::wire
