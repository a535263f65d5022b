// The D-Bus wire protocol, after the specification's "Message Protocol" and "Authentication
// Protocol" chapters (https://dbus.freedesktop.org/doc/dbus-specification.html).
#include "runtime/cgroups/dbus.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"

namespace berth::cgroups::dbus {

namespace {

// Limits from the specification; a peer that exceeds them is broken or hostile.
constexpr std::size_t kMaxSignature = 255;
constexpr int kMaxArrayNesting = 32;
constexpr int kMaxStructNesting = 32;
constexpr int kMaxValueDepth = 64;  // arrays, structs and variants together
constexpr std::uint64_t kMaxArrayBytes = std::uint64_t{1} << 26;
constexpr std::uint64_t kMaxMessageBytes = std::uint64_t{1} << 27;
// systemd's private socket sends every unit change to every client; signals nobody waits for
// must not pile up while a call is pending.
constexpr std::size_t kMaxKeptSignals = 4096;

bool is_basic(char c) { return c != '\0' && std::strchr("ybnqiuxtdhsog", c) != nullptr; }

std::size_t alignment(char c) {
  switch (c) {
    case 'n': case 'q': return 2;
    case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a': return 4;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 1;  // y g v
  }
}

[[noreturn]] void bad_signature(std::string_view sig, std::string_view why) {
  throw Error(fmt::format("d-bus signature `{}`: {}", sig, why));
}

// The length of the single complete type starting at sig[pos].
std::size_t complete_type(std::string_view sig, std::size_t pos, int arrays, int structs) {
  if (pos >= sig.size()) bad_signature(sig, "ends inside a type");
  const char c = sig[pos];
  if (is_basic(c) || c == 'v') return 1;
  if (c == 'a') {
    if (arrays + 1 > kMaxArrayNesting) bad_signature(sig, "arrays nested too deeply");
    if (pos + 1 < sig.size() && sig[pos + 1] == '{') {
      if (structs + 1 > kMaxStructNesting) bad_signature(sig, "structs nested too deeply");
      std::size_t p = pos + 2;
      if (p >= sig.size() || !is_basic(sig[p])) bad_signature(sig, "a dict entry key must be a basic type");
      p += 1;
      p += complete_type(sig, p, arrays + 1, structs + 1);
      if (p >= sig.size() || sig[p] != '}') bad_signature(sig, "a dict entry holds exactly one key and one value");
      return p + 1 - pos;
    }
    return 1 + complete_type(sig, pos + 1, arrays + 1, structs);
  }
  if (c == '(') {
    if (structs + 1 > kMaxStructNesting) bad_signature(sig, "structs nested too deeply");
    std::size_t p = pos + 1;
    if (p < sig.size() && sig[p] == ')') bad_signature(sig, "empty struct");
    while (p < sig.size() && sig[p] != ')') p += complete_type(sig, p, arrays, structs + 1);
    if (p >= sig.size()) bad_signature(sig, "unclosed struct");
    return p + 1 - pos;
  }
  if (c == '{') bad_signature(sig, "a dict entry outside an array");
  bad_signature(sig, fmt::format("unexpected `{}`", c));
}

bool valid_object_path(std::string_view p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.size() == 1) return true;
  if (p.back() == '/') return false;
  bool prev_slash = true;
  for (char c : p.substr(1)) {
    if (c == '/') {
      if (prev_slash) return false;
      prev_slash = true;
      continue;
    }
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
    prev_slash = false;
  }
  return true;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void pad(std::size_t a) { out_.resize((out_.size() + a - 1) / a * a, '\0'); }
  void put(std::uint64_t v, std::size_t n) {
    pad(n);
    for (std::size_t i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void put_string(const std::string& s, std::size_t len_bytes) {
    put(s.size(), len_bytes);
    out_ += s;
    out_.push_back('\0');
  }

  void value(const Value& v) {
    const std::string& t = v.type();
    switch (t[0]) {
      case 'y': put(v.as_byte(), 1); break;
      case 'b': put(v.as_bool() ? 1 : 0, 4); break;
      case 'n': put(static_cast<std::uint16_t>(v.as_int16()), 2); break;
      case 'q': put(v.as_uint16(), 2); break;
      case 'i': put(static_cast<std::uint32_t>(v.as_int32()), 4); break;
      case 'u': case 'h': put(v.as_uint32(), 4); break;
      case 'x': put(static_cast<std::uint64_t>(v.as_int64()), 8); break;
      case 't': put(v.as_uint64(), 8); break;
      case 'd': put(std::bit_cast<std::uint64_t>(v.as_float64()), 8); break;
      case 's': case 'o': put_string(v.as_string(), 4); break;
      case 'g': put_string(v.as_string(), 1); break;
      case 'a': {
        pad(4);
        const std::size_t len_at = out_.size();
        put(0, 4);
        // The padding to the first element is not part of the length, even when the array is empty.
        pad(alignment(t[1]));
        const std::size_t start = out_.size();
        for (const Value& item : v.items()) value(item);
        const std::size_t len = out_.size() - start;
        if (len > kMaxArrayBytes) throw Error(fmt::format("d-bus: array of `{}` is {} bytes, over the limit", t, len));
        for (std::size_t i = 0; i < 4; ++i) out_[len_at + i] = static_cast<char>((len >> (8 * i)) & 0xff);
        break;
      }
      case '(': case '{':
        pad(8);
        for (const Value& item : v.items()) value(item);
        break;
      case 'v':
        put_string(v.inner().type(), 1);
        value(v.inner());
        break;
      default: throw Error(fmt::format("d-bus: cannot marshal a value of type `{}`", t));
    }
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  Reader(std::string_view data, bool big_endian) : data_(data), big_(big_endian) {}

  std::size_t pos() const { return pos_; }

  void align(std::size_t a) {
    const std::size_t to = (pos_ + a - 1) / a * a;
    need(to - pos_);
    for (; pos_ < to; ++pos_)
      if (data_[pos_] != '\0') fail("non-zero alignment padding");
  }

  std::uint64_t get(std::size_t n) {
    align(n);
    need(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto b = static_cast<std::uint8_t>(data_[pos_ + i]);
      v |= std::uint64_t{b} << (8 * (big_ ? n - 1 - i : i));
    }
    pos_ += n;
    return v;
  }

  std::string get_string(std::size_t len_bytes) {
    const std::uint64_t len = get(len_bytes);
    need(len + 1);
    std::string s(data_.substr(pos_, len));
    if (data_[pos_ + len] != '\0') fail("string without its terminating nul");
    if (s.find('\0') != std::string::npos) fail("string with an embedded nul");
    pos_ += len + 1;
    return s;
  }

  Value value(std::string_view t, int depth) {
    if (depth > kMaxValueDepth) fail("values nested too deeply");
    switch (t[0]) {
      case 'y': return Value::byte(static_cast<std::uint8_t>(get(1)));
      case 'b': {
        const std::uint64_t b = get(4);
        if (b > 1) fail(fmt::format("boolean {} is neither 0 nor 1", b));
        return Value::boolean(b == 1);
      }
      case 'n': return Value::int16(static_cast<std::int16_t>(get(2)));
      case 'q': return Value::uint16(static_cast<std::uint16_t>(get(2)));
      case 'i': return Value::int32(static_cast<std::int32_t>(get(4)));
      case 'u': return Value::uint32(static_cast<std::uint32_t>(get(4)));
      case 'h': return Value::unix_fd(static_cast<std::uint32_t>(get(4)));
      case 'x': return Value::int64(static_cast<std::int64_t>(get(8)));
      case 't': return Value::uint64(get(8));
      case 'd': return Value::float64(std::bit_cast<double>(get(8)));
      case 's': return Value::string(get_string(4));
      case 'o': {
        std::string p = get_string(4);
        if (!valid_object_path(p)) fail(fmt::format("invalid object path `{}`", p));
        return Value::object_path(std::move(p));
      }
      case 'g': return Value::signature(get_string(1));
      case 'a': {
        const std::uint64_t len = get(4);
        if (len > kMaxArrayBytes) fail(fmt::format("array of {} bytes, over the limit", len));
        const std::string_view elem = t.substr(1);
        align(alignment(elem[0]));
        need(len);
        const std::size_t end = pos_ + len;
        std::vector<Value> items;
        while (pos_ < end) items.push_back(value(elem, depth + 1));
        if (pos_ != end) fail("array element runs past the array's length");
        return Value::array(std::string(elem), std::move(items));
      }
      case '(': {
        align(8);
        std::vector<Value> fields;
        for (const std::string& f : split_signature(t.substr(1, t.size() - 2))) fields.push_back(value(f, depth + 1));
        return Value::structure(std::move(fields));
      }
      case '{': {
        align(8);
        Value key = value(t.substr(1, 1), depth + 1);
        Value val = value(t.substr(2, t.size() - 3), depth + 1);
        return Value::dict_entry(std::move(key), std::move(val));
      }
      case 'v': {
        const std::string sig = get_string(1);
        const std::vector<std::string> types = split_signature(sig);
        if (types.size() != 1) fail(fmt::format("variant signature `{}` is not one complete type", sig));
        return Value::variant(value(types[0], depth + 1));
      }
      default: fail(fmt::format("unknown type `{}`", t));
    }
  }

 private:
  void need(std::uint64_t n) const {
    if (n > data_.size() - pos_) fail("truncated");
  }
  [[noreturn]] void fail(std::string_view why) const {
    throw Error(fmt::format("d-bus: malformed message at byte {}: {}", pos_, why));
  }

  std::string_view data_;
  bool big_;
  std::size_t pos_ = 0;
};

enum HeaderField : std::uint8_t {
  kPath = 1,
  kInterface = 2,
  kMember = 3,
  kErrorName = 4,
  kReplySerial = 5,
  kDestination = 6,
  kSender = 7,
  kSignature = 8,
  kUnixFds = 9,
};

// What the specification requires of each message type.
void check_required(const Message& m) {
  const auto missing = [&](std::string_view field) {
    throw Error(fmt::format("d-bus: message of type {} without its {} header field", static_cast<int>(m.type), field));
  };
  switch (m.type) {
    case MessageType::MethodCall:
      if (m.path.empty()) missing("PATH");
      if (m.member.empty()) missing("MEMBER");
      break;
    case MessageType::Signal:
      if (m.path.empty()) missing("PATH");
      if (m.interface.empty()) missing("INTERFACE");
      if (m.member.empty()) missing("MEMBER");
      break;
    case MessageType::Error:
      if (m.error_name.empty()) missing("ERROR_NAME");
      if (m.reply_serial == 0) missing("REPLY_SERIAL");
      break;
    case MessageType::MethodReturn:
      if (m.reply_serial == 0) missing("REPLY_SERIAL");
      break;
  }
}

std::string hex(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

// ---- Value ----

Value Value::byte(std::uint8_t v) { return Value("y", v); }
Value Value::boolean(bool v) { return Value("b", v ? 1 : 0); }
Value Value::int16(std::int16_t v) { return Value("n", static_cast<std::uint16_t>(v)); }
Value Value::uint16(std::uint16_t v) { return Value("q", v); }
Value Value::int32(std::int32_t v) { return Value("i", static_cast<std::uint32_t>(v)); }
Value Value::uint32(std::uint32_t v) { return Value("u", v); }
Value Value::int64(std::int64_t v) { return Value("x", static_cast<std::uint64_t>(v)); }
Value Value::uint64(std::uint64_t v) { return Value("t", v); }
Value Value::float64(double v) { return Value("d", std::bit_cast<std::uint64_t>(v)); }
Value Value::unix_fd(std::uint32_t index) { return Value("h", index); }

Value Value::string(std::string v) {
  if (v.find('\0') != std::string::npos) throw Error("d-bus: a string cannot hold a nul byte");
  Value r("s", 0);
  r.str_ = std::move(v);
  return r;
}

Value Value::object_path(std::string v) {
  if (!valid_object_path(v)) throw Error(fmt::format("d-bus: invalid object path `{}`", v));
  Value r("o", 0);
  r.str_ = std::move(v);
  return r;
}

Value Value::signature(std::string v) {
  split_signature(v);
  Value r("g", 0);
  r.str_ = std::move(v);
  return r;
}

Value Value::array(std::string element_type, std::vector<Value> items) {
  std::string t = "a" + element_type;
  if (split_signature(t).size() != 1) bad_signature(t, "an array's element is one complete type");
  for (const Value& item : items)
    if (item.type_ != element_type)
      throw Error(fmt::format("d-bus: item of type `{}` in an array of `{}`", item.type_, element_type));
  Value r(std::move(t), 0);
  r.items_ = std::move(items);
  return r;
}

Value Value::structure(std::vector<Value> fields) {
  if (fields.empty()) throw Error("d-bus: a struct has at least one field");
  std::string t = "(";
  for (const Value& f : fields) {
    if (f.type_.empty() || f.type_[0] == '{') throw Error("d-bus: a dict entry outside an array");
    t += f.type_;
  }
  t += ")";
  if (split_signature(t).size() != 1) bad_signature(t, "not a struct");  // nesting limits
  Value r(std::move(t), 0);
  r.items_ = std::move(fields);
  return r;
}

Value Value::dict_entry(Value key, Value value) {
  if (key.type_.size() != 1 || !is_basic(key.type_[0]))
    throw Error(fmt::format("d-bus: dict entry key of type `{}`, not a basic type", key.type_));
  if (value.type_.empty() || value.type_[0] == '{') throw Error("d-bus: a dict entry as a dict entry's value");
  Value r("{" + key.type_ + value.type_ + "}", 0);
  r.items_.push_back(std::move(key));
  r.items_.push_back(std::move(value));
  return r;
}

Value Value::variant(Value inner) {
  if (inner.type_.empty() || inner.type_[0] == '{') throw Error("d-bus: a dict entry in a variant");
  Value r("v", 0);
  r.items_.push_back(std::move(inner));
  return r;
}

void Value::expect(std::string_view want) const {
  if (type_.size() != 1 || want.find(type_[0]) == std::string_view::npos)
    throw Error(fmt::format("d-bus: expected a value of type `{}`, got `{}`", want, type_));
}

std::uint8_t Value::as_byte() const { expect("y"); return static_cast<std::uint8_t>(num_); }
bool Value::as_bool() const { expect("b"); return num_ != 0; }
std::int16_t Value::as_int16() const { expect("n"); return static_cast<std::int16_t>(num_); }
std::uint16_t Value::as_uint16() const { expect("q"); return static_cast<std::uint16_t>(num_); }
std::int32_t Value::as_int32() const { expect("i"); return static_cast<std::int32_t>(num_); }
std::uint32_t Value::as_uint32() const { expect("uh"); return static_cast<std::uint32_t>(num_); }
std::int64_t Value::as_int64() const { expect("x"); return static_cast<std::int64_t>(num_); }
std::uint64_t Value::as_uint64() const { expect("t"); return num_; }
double Value::as_float64() const { expect("d"); return std::bit_cast<double>(num_); }
const std::string& Value::as_string() const { expect("sog"); return str_; }

const std::vector<Value>& Value::items() const {
  if (type_.empty() || std::strchr("a({", type_[0]) == nullptr)
    throw Error(fmt::format("d-bus: a value of type `{}` is not a container", type_));
  return items_;
}

const Value& Value::inner() const {
  expect("v");
  return items_.front();
}

// ---- signatures and bodies ----

std::vector<std::string> split_signature(std::string_view sig) {
  if (sig.size() > kMaxSignature) bad_signature(sig.substr(0, 32), "longer than 255 characters");
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < sig.size();) {
    const std::size_t n = complete_type(sig, pos, 0, 0);
    out.emplace_back(sig.substr(pos, n));
    pos += n;
  }
  return out;
}

std::string marshal(const std::vector<Value>& values) {
  std::string out;
  Writer w(out);
  for (const Value& v : values) w.value(v);
  return out;
}

std::vector<Value> unmarshal(std::string_view sig, std::string_view data, bool big_endian) {
  Reader r(data, big_endian);
  std::vector<Value> out;
  for (const std::string& t : split_signature(sig)) out.push_back(r.value(t, 0));
  if (r.pos() != data.size())
    throw Error(fmt::format("d-bus: {} bytes left after the values of `{}`", data.size() - r.pos(), sig));
  return out;
}

// ---- messages ----

std::string Message::signature() const {
  std::string s;
  for (const Value& v : body) s += v.type();
  return s;
}

std::string Message::error_text() const {
  if (!body.empty() && body[0].type() == "s") return fmt::format("{}: {}", error_name, body[0].as_string());
  return error_name;
}

Message method_call(std::string destination, std::string path, std::string interface, std::string member,
                    std::vector<Value> body) {
  Message m;
  m.type = MessageType::MethodCall;
  m.destination = std::move(destination);
  m.path = std::move(path);
  m.interface = std::move(interface);
  m.member = std::move(member);
  m.body = std::move(body);
  return m;
}

std::string encode(const Message& m) {
  if (m.serial == 0) throw Error("d-bus: a message needs a serial");
  check_required(m);
  const std::string body = marshal(m.body);
  const std::string sig = m.signature();

  std::vector<Value> fields;
  const auto field = [&](HeaderField code, Value v) {
    fields.push_back(Value::structure({Value::byte(code), Value::variant(std::move(v))}));
  };
  if (!m.path.empty()) field(kPath, Value::object_path(m.path));
  if (!m.interface.empty()) field(kInterface, Value::string(m.interface));
  if (!m.member.empty()) field(kMember, Value::string(m.member));
  if (!m.error_name.empty()) field(kErrorName, Value::string(m.error_name));
  if (m.reply_serial != 0) field(kReplySerial, Value::uint32(m.reply_serial));
  if (!m.destination.empty()) field(kDestination, Value::string(m.destination));
  if (!m.sender.empty()) field(kSender, Value::string(m.sender));
  if (!sig.empty()) field(kSignature, Value::signature(sig));

  if (body.size() > kMaxMessageBytes) throw Error("d-bus: message body over the size limit");
  std::string out = marshal({Value::byte('l'), Value::byte(static_cast<std::uint8_t>(m.type)), Value::byte(m.flags),
                             Value::byte(1), Value::uint32(static_cast<std::uint32_t>(body.size())),
                             Value::uint32(m.serial), Value::array("(yv)", std::move(fields))});
  Writer(out).pad(8);  // the body starts 8-aligned, even an empty one
  out += body;
  if (out.size() > kMaxMessageBytes) throw Error("d-bus: message over the size limit");
  return out;
}

std::size_t message_size(std::string_view data) {
  if (data.size() < 16) return 0;
  if (data[0] != 'l' && data[0] != 'B') throw Error(fmt::format("d-bus: unknown byte order mark {:#x}", data[0]));
  Reader r(data.substr(0, 16), data[0] == 'B');
  r.get(4);  // byte order, type, flags, version: checked by decode
  const std::uint64_t body_len = r.get(4);
  r.get(4);  // serial
  const std::uint64_t fields_len = r.get(4);
  if (fields_len > kMaxArrayBytes) throw Error("d-bus: header fields over the size limit");
  const std::uint64_t total = (16 + fields_len + 7) / 8 * 8 + body_len;
  if (total > kMaxMessageBytes) throw Error(fmt::format("d-bus: message of {} bytes, over the size limit", total));
  return static_cast<std::size_t>(total);
}

Message decode(std::string_view data) {
  const std::size_t size = message_size(data);
  if (size == 0 || size != data.size())
    throw Error(fmt::format("d-bus: {} bytes are not one whole message", data.size()));
  const bool big = data[0] == 'B';
  Reader r(data, big);
  Message m;
  r.get(1);
  m.type = static_cast<MessageType>(r.get(1));
  m.flags = static_cast<std::uint8_t>(r.get(1));
  if (const auto version = r.get(1); version != 1)
    throw Error(fmt::format("d-bus: protocol version {}, not 1", version));
  const std::uint64_t body_len = r.get(4);
  m.serial = static_cast<std::uint32_t>(r.get(4));
  if (m.serial == 0) throw Error("d-bus: message with serial 0");

  std::string sig;
  const Value fields = r.value("a(yv)", 0);
  for (const Value& f : fields.items()) {
    const auto code = f.items()[0].as_byte();
    const Value& v = f.items()[1].inner();
    const auto want = [&](std::string_view type) {
      if (v.type() != type)
        throw Error(fmt::format("d-bus: header field {} of type `{}`, not `{}`", code, v.type(), type));
    };
    switch (code) {
      case kPath: want("o"); m.path = v.as_string(); break;
      case kInterface: want("s"); m.interface = v.as_string(); break;
      case kMember: want("s"); m.member = v.as_string(); break;
      case kErrorName: want("s"); m.error_name = v.as_string(); break;
      case kReplySerial: want("u"); m.reply_serial = v.as_uint32(); break;
      case kDestination: want("s"); m.destination = v.as_string(); break;
      case kSender: want("s"); m.sender = v.as_string(); break;
      case kSignature: want("g"); sig = v.as_string(); break;
      case kUnixFds: want("u"); break;  // never negotiated, so never honoured
      default: break;                   // the specification says to ignore unknown fields
    }
  }
  r.align(8);
  if (r.pos() + body_len != data.size()) throw Error("d-bus: body length does not match the message size");
  m.body = unmarshal(sig, data.substr(r.pos()), big);
  if (m.type >= MessageType::MethodCall && m.type <= MessageType::Signal) check_required(m);
  return m;
}

// ---- connection ----

Connection::Connection(sys::Fd fd, Peer peer, std::chrono::milliseconds timeout)
    : fd_(std::move(fd)), peer_(peer) {
  const auto deadline = Clock::now() + timeout;
  authenticate(deadline);
  if (peer_ == Peer::Bus) {
    // A bus daemon ignores everything from a client until it has said Hello.
    const Message reply =
        call(method_call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello"), deadline);
    if (reply.signature() != "s")
      throw Error(fmt::format("d-bus Hello: reply of signature `{}`, not `s`", reply.signature()));
    unique_name_ = reply.body[0].as_string();
  }
}

Connection Connection::open(const std::string& path, Peer peer, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error(fmt::format("d-bus socket path `{}` is too long", path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  sys::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw_errno("socket");
  // Not retried on EINTR: the connection then completes asynchronously, and a unix socket
  // connect does not block long enough to be interrupted in practice.
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
    throw_errno("connect to d-bus socket", path);
  return with_context(fmt::format("d-bus `{}`", path), [&] { return Connection(std::move(fd), peer, timeout); });
}

void Connection::authenticate(Clock::time_point deadline) {
  // The nul byte is required before any SASL command (it once carried credentials on BSDs).
  // EXTERNAL's identity is the decimal uid, hex-encoded: the server compares it with the
  // socket's SO_PEERCRED.
  write(std::string("\0", 1) + "AUTH EXTERNAL " + hex(std::to_string(::geteuid())) + "\r\n");
  const std::string line = read_line(deadline);
  if (line == "OK" || line.starts_with("OK ")) {
    write("BEGIN\r\n");
    return;
  }
  if (line.starts_with("REJECTED"))
    throw Error(fmt::format("d-bus authentication: EXTERNAL rejected (the server offers `{}`)",
                            line.size() > 9 ? line.substr(9) : ""));
  throw Error(fmt::format("d-bus authentication: unexpected reply `{}`", line));
}

std::string Connection::read_line(Clock::time_point deadline) {
  for (;;) {
    if (const auto end = in_.find("\r\n"); end != std::string::npos) {
      std::string line = in_.substr(0, end);
      in_.erase(0, end + 2);
      return line;
    }
    if (in_.size() > 4096) throw Error("d-bus authentication: reply line too long");
    fill(deadline);
  }
}

void Connection::fill(Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw Error("d-bus: waiting for the peer", ETIMEDOUT);
    pollfd p{fd_.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<decltype(left)>(left, INT_MAX)));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll d-bus socket");
    }
    if (r == 0) continue;
    char buf[16384];
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw_errno("read d-bus socket");
    }
    if (n == 0) throw Error("d-bus: the peer closed the connection");
    in_.append(buf, static_cast<std::size_t>(n));
    return;
  }
}

void Connection::write(std::string_view data) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: a peer that went away is an Error, not a SIGPIPE that kills berth.
    const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write d-bus socket");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::uint32_t Connection::send(Message m) {
  m.serial = next_serial_++;
  if (next_serial_ == 0) next_serial_ = 1;
  write(encode(m));
  return m.serial;
}

Message Connection::receive(Clock::time_point deadline) {
  for (;;) {
    if (const std::size_t n = message_size(in_); n != 0 && in_.size() >= n) {
      Message m = decode(std::string_view(in_).substr(0, n));
      in_.erase(0, n);
      // Unknown message types are to be ignored, by the specification.
      if (m.type >= MessageType::MethodCall && m.type <= MessageType::Signal) return m;
      continue;
    }
    fill(deadline);
  }
}

Message Connection::call_raw(Message c, Clock::time_point deadline) {
  c.type = MessageType::MethodCall;
  c.flags &= static_cast<std::uint8_t>(~kNoReplyExpected);
  const std::uint32_t serial = send(std::move(c));
  for (;;) {
    Message m = receive(deadline);
    if ((m.type == MessageType::MethodReturn || m.type == MessageType::Error) && m.reply_serial == serial) return m;
    if (m.type == MessageType::Signal) {
      if (signals_.size() == kMaxKeptSignals) signals_.pop_front();
      signals_.push_back(std::move(m));
    }
    // Anything else (calls to us, replies to calls we gave up on) has no taker.
  }
}

Message Connection::call(Message c, Clock::time_point deadline) {
  const std::string what = c.interface.empty() ? c.member : c.interface + "." + c.member;
  Message reply = call_raw(std::move(c), deadline);
  if (reply.type == MessageType::Error) throw Error(fmt::format("d-bus call {}: {}", what, reply.error_text()));
  return reply;
}

Message Connection::wait_signal(const std::function<bool(const Message&)>& match, Clock::time_point deadline) {
  std::deque<Message> kept = std::exchange(signals_, {});
  for (Message& m : kept)
    if (match(m)) return std::move(m);
  for (;;) {
    Message m = receive(deadline);
    if (m.type == MessageType::Signal && match(m)) return m;
  }
}

}  // namespace berth::cgroups::dbus
