// The protobuf (proto2) wire format, as much of it as CRIU's rpc.proto needs: a Writer that
// produces the bytes protoc's serializers would (the caller writes fields in field-number
// order, as they do), and a Reader that walks the fields of one message.
//
// Why hand-written: see runtime/criu/rpc.hpp. The format is small and stable
// (https://protobuf.dev/programming-guides/encoding/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::criu::wire {

enum class WireType : std::uint8_t {
  Varint = 0,
  Fixed64 = 1,
  Len = 2,  // strings, bytes, embedded messages, packed repeated fields
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
};

class Writer {
 public:
  // int32 and enum values: a negative one is sign-extended to 64 bits, so it takes 10 bytes
  // (protobuf does this so that a reader may parse the field as int64).
  void int32(std::uint32_t field, std::int32_t v);
  void uint32(std::uint32_t field, std::uint32_t v);
  void boolean(std::uint32_t field, bool v);
  void string(std::uint32_t field, std::string_view s);
  // An embedded message: its already encoded bytes.
  void message(std::uint32_t field, std::string_view encoded);

  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void tag(std::uint32_t field, WireType t);
  void varint(std::uint64_t v);
  std::string out_;
};

// One field as read. For Varint, `varint` holds the value; for Len, `bytes` the payload;
// Fixed32/Fixed64 and groups are skipped by the reader (rpc.proto has none) and only their
// number and type are reported.
struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::Varint;
  std::uint64_t varint = 0;
  std::string_view bytes;
  std::size_t offset = 0;  // of the field's tag, from the start of the outermost message
};

// Reads the fields of one message in order:
//   Reader r(bytes, "criu_resp");
//   while (r.next()) switch (r.field().number) { case 1: x = r.int32(); break; ... }
// Errors are berth::Error naming the message (with the path of enclosing fields, e.g.
// "criu_resp.version") and the byte offset: truncated data, a varint over 10 bytes, wire
// types 6 and 7, a field number 0, and a value of the wrong wire type for a known field.
class Reader {
 public:
  explicit Reader(std::string_view data, std::string message = "message", std::size_t base = 0)
      : data_(data), message_(std::move(message)), base_(base) {}

  // Reads the next field; false at the end of the message.
  bool next();
  const Field& field() const { return field_; }

  // The current field's value, checked against the wire type its declaration implies.
  std::int32_t int32() const;  // int32 and enums
  std::uint32_t uint32() const;
  bool boolean() const;
  std::string string() const;
  // A reader over the current field's embedded message, named message()+"."+name.
  Reader message(std::string_view name) const;

  const std::string& name() const { return message_; }
  [[noreturn]] void fail(std::size_t offset, std::string_view what) const;

 private:
  std::uint64_t read_varint(std::string_view what);
  void skip(std::size_t n, std::string_view what);
  void skip_group(std::uint32_t number);
  void expect(WireType t) const;

  std::string_view data_;
  std::string message_;
  std::size_t base_;  // offset of data_[0] in the outermost message
  std::size_t pos_ = 0;
  Field field_;
};

// A field of a message that is required by its .proto declaration but was not sent.
[[noreturn]] void missing_required(const Reader& r, std::string_view field);

}  // namespace berth::criu::wire
