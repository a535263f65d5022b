// A minimal D-Bus client: what berth needs to ask systemd for a transient unit. It speaks the
// wire protocol itself (unix socket, SASL EXTERNAL, marshalling, method calls, replies and
// signals) because libsystemd's sd-bus is not a dependency of berth. No unix fd passing, no
// introspection, no server side beyond what the unit tests need to play systemd.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/sys/fd.hpp"

namespace berth::cgroups::dbus {

// One D-Bus value and its complete type signature ("u", "as", "a{sv}", "(so)", "v").
class Value {
 public:
  static Value byte(std::uint8_t v);
  static Value boolean(bool v);
  static Value int16(std::int16_t v);
  static Value uint16(std::uint16_t v);
  static Value int32(std::int32_t v);
  static Value uint32(std::uint32_t v);
  static Value int64(std::int64_t v);
  static Value uint64(std::uint64_t v);
  static Value float64(double v);
  static Value unix_fd(std::uint32_t index);  // an index into the message's fds
  static Value string(std::string v);
  static Value object_path(std::string v);  // checked: "/", "/a/b_c"
  static Value signature(std::string v);    // checked: any sequence of complete types
  // An array of `element_type` (one complete type); every item must have exactly that type.
  static Value array(std::string element_type, std::vector<Value> items);
  static Value structure(std::vector<Value> fields);  // at least one field
  // Only valid as the item of an array ("a{sv}"); the key must be a basic type.
  static Value dict_entry(Value key, Value value);
  static Value variant(Value inner);

  const std::string& type() const noexcept { return type_; }

  // The accessors throw Error when the value has another type.
  std::uint8_t as_byte() const;
  bool as_bool() const;
  std::int16_t as_int16() const;
  std::uint16_t as_uint16() const;
  std::int32_t as_int32() const;
  std::uint32_t as_uint32() const;  // "u" or "h"
  std::int64_t as_int64() const;
  std::uint64_t as_uint64() const;
  double as_float64() const;
  const std::string& as_string() const;  // "s", "o" or "g"
  // Array items, struct fields, a dict entry's {key, value}.
  const std::vector<Value>& items() const;
  const Value& inner() const;  // of a variant

  friend bool operator==(const Value&, const Value&) = default;

 private:
  Value(std::string type, std::uint64_t num) : type_(std::move(type)), num_(num) {}
  void expect(std::string_view want) const;

  std::string type_;
  std::uint64_t num_ = 0;       // fixed-size types, as their bits
  std::string str_;             // s, o, g
  std::vector<Value> items_;    // a, (, {, v (one item)
};

// Splits a signature into its complete types ("a{sv}as" -> "a{sv}", "as"), checking it as the
// specification does (nesting limits, dict entries only in arrays, basic keys, length <= 255).
std::vector<std::string> split_signature(std::string_view sig);

// Marshals values as a message body would be, little-endian, starting at offset 0 (bodies start
// 8-aligned in a message, so offsets relative to the body give the same padding).
std::string marshal(const std::vector<Value>& values);
// The inverse: `data` must hold exactly values of the types in `sig`.
std::vector<Value> unmarshal(std::string_view sig, std::string_view data, bool big_endian = false);

enum class MessageType : std::uint8_t { MethodCall = 1, MethodReturn = 2, Error = 3, Signal = 4 };

inline constexpr std::uint8_t kNoReplyExpected = 0x1;
inline constexpr std::uint8_t kNoAutoStart = 0x2;

struct Message {
  MessageType type = MessageType::MethodCall;
  std::uint8_t flags = 0;
  std::uint32_t serial = 0;        // set by Connection::send
  std::uint32_t reply_serial = 0;  // 0: none (calls and signals)
  std::string path;
  std::string interface;
  std::string member;
  std::string error_name;
  std::string destination;
  std::string sender;
  std::vector<Value> body;  // the SIGNATURE header field is derived from it

  std::string signature() const;
  // For an error reply: "org.freedesktop.systemd1.NoSuchUnit: Unit x.scope not loaded."
  std::string error_text() const;
};

Message method_call(std::string destination, std::string path, std::string interface, std::string member,
                    std::vector<Value> body = {});

// The whole message, little-endian. m.serial must not be 0.
std::string encode(const Message& m);
// The size of the message at the front of `data` (from its fixed header), or 0 when fewer than
// the 16 bytes needed to know it are there. Throws Error for a header no message can have.
std::size_t message_size(std::string_view data);
// Decodes one whole message (either byte order), checking its required header fields.
Message decode(std::string_view data);

using Clock = std::chrono::steady_clock;

enum class Peer {
  Direct,  // the service itself, e.g. systemd's /run/systemd/private: no Hello
  Bus,     // a bus daemon: Hello first, signals only through match rules
};

class Connection {
 public:
  // Authenticates (SASL EXTERNAL with our euid) on an already-connected stream socket, and says
  // Hello to a bus.
  Connection(sys::Fd fd, Peer peer, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Connects to the unix socket at `path` first.
  static Connection open(const std::string& path, Peer peer,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

  Peer peer() const noexcept { return peer_; }
  // Our name on a bus (":1.42"); empty on a direct connection.
  const std::string& unique_name() const noexcept { return unique_name_; }
  int fd() const noexcept { return fd_.get(); }

  // Assigns the next serial, sends, and returns the serial.
  std::uint32_t send(Message m);
  // Sends a call and waits for its reply, which may be an error reply: for callers that expect
  // some errors (systemd's NoSuchUnit). Signals that arrive meanwhile are kept for wait_signal.
  Message call_raw(Message call, Clock::time_point deadline);
  // As call_raw, but an error reply is thrown as Error naming the member and the D-Bus error.
  Message call(Message call, Clock::time_point deadline);
  // The first signal (kept or new) for which `match` is true; others are dropped.
  Message wait_signal(const std::function<bool(const Message&)>& match, Clock::time_point deadline);

  // The next message from the peer, whatever it is (the fake services in tests use this).
  Message receive(Clock::time_point deadline);

 private:
  void authenticate(Clock::time_point deadline);
  std::string read_line(Clock::time_point deadline);
  void fill(Clock::time_point deadline);
  void write(std::string_view data);

  sys::Fd fd_;
  Peer peer_;
  std::string in_;  // bytes read but not yet consumed
  std::uint32_t next_serial_ = 1;
  std::string unique_name_;
  std::deque<Message> signals_;
};

}  // namespace berth::cgroups::dbus
