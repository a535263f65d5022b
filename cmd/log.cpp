#include "cmd/log.hpp"

#include <cerrno>
#include <ctime>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::cmd {

namespace {

using Level = spdlog::level::level_enum;
using TimePoint = std::chrono::system_clock::time_point;

// Best effort: a log line that cannot be written has nowhere else to go.
void write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// One decoded UTF-8 sequence; len 0 marks an invalid byte.
struct Rune {
  char32_t cp;
  std::size_t len;
};

Rune decode_utf8(std::string_view s) noexcept {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {0, 0};
  }
  if (s.size() < len) return {0, 0};
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xc0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {0, 0};
  return {cp, len};
}

// Go's strconv.IsPrint for the code points a log message may plausibly hold:
// C0/C1 controls, DEL, the Unicode spaces other than ' ', format characters
// and private use are not printable.
bool go_is_print(char32_t cp) noexcept {
  if (cp < 0x20 || cp == 0x7f) return false;
  if (cp >= 0x80 && cp <= 0xa0) return false;
  if (cp == 0xad || (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f)) return false;
  if ((cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff) return false;
  if ((cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xfff9 && cp <= 0xfffb)) return false;
  return true;
}

// Go's %q (strconv.Quote), which logrus uses for text values.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  while (!s.empty()) {
    const Rune r = decode_utf8(s);
    if (r.len == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[0]));
      s.remove_prefix(1);
      continue;
    }
    const char32_t cp = r.cp;
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (go_is_print(cp)) {
      out.append(s.substr(0, r.len));
    } else {
      switch (cp) {
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (cp < 0x20 || cp == 0x7f)
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
          else if (cp < 0x10000)
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
          else
            out += fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
      }
    }
    s.remove_prefix(r.len);
  }
  out += '"';
  return out;
}

// logrus TextFormatter.needsQuoting: bare only for [A-Za-z0-9-._/@^+]*.
bool needs_quoting(std::string_view s) noexcept {
  for (const char c : s) {
    const bool bare = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
    if (!bare) return true;
  }
  return false;
}

std::string text_value(std::string_view s) { return needs_quoting(s) ? go_quote(s) : std::string(s); }

// A JSON string as Go's encoding/json writes it (logrus JSONFormatter):
// HTML-safe escapes for < > &, \u2028/\u2029 escaped, invalid UTF-8 replaced
// by U+FFFD, so that the line is always valid JSON.
std::string json_string(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  while (!s.empty()) {
    const Rune r = decode_utf8(s);
    if (r.len == 0) {
      out += "\\ufffd";
      s.remove_prefix(1);
      continue;
    }
    const char32_t cp = r.cp;
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&') {
      out += "\\u00";
      out += kHex[cp >> 4];
      out += kHex[cp & 0xf];
    } else if (cp == 0x2028 || cp == 0x2029) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
    } else {
      out.append(s.substr(0, r.len));
    }
    s.remove_prefix(r.len);
  }
  out += '"';
  return out;
}

std::string_view payload(const spdlog::details::log_msg& msg) { return {msg.payload.data(), msg.payload.size()}; }

// Human-readable lines on stderr: `berth create: <msg>`.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void set_prefix(std::string prefix) {
    std::lock_guard lock(mutex_);
    prefix_ = std::move(prefix);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view tag;
    if (msg.level == Level::warn)
      tag = "warning: ";
    else if (msg.level < Level::warn)
      tag = "debug: ";
    write_all(STDERR_FILENO, fmt::format("{}: {}{}\n", prefix_, tag, payload(msg)));
  }
  void flush_() override {}

 private:
  std::string prefix_ = "berth";
};

// runc-shaped lines appended to --log FILE.
class FileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  FileSink(sys::Fd fd, LogFormat format) : fd_(std::move(fd)), format_(format) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string line = format_ == LogFormat::Json ? format_json_line(msg.level, payload(msg), msg.time)
                                                        : format_text_line(msg.level, payload(msg), msg.time);
    write_all(fd_.get(), line);
  }
  void flush_() override {}  // every line is already written with write(2)

 private:
  sys::Fd fd_;
  LogFormat format_;
};

std::shared_ptr<StderrSink>& stderr_sink() {
  static auto sink = std::make_shared<StderrSink>();
  return sink;
}

void install(std::vector<spdlog::sink_ptr> sinks) {
  Level lowest = Level::off;
  for (const auto& s : sinks) lowest = std::min(lowest, s->level());
  auto logger = std::make_shared<spdlog::logger>("berth", sinks.begin(), sinks.end());
  logger->set_level(lowest);
  logger->flush_on(Level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace

void setup_default_logging() {
  stderr_sink()->set_level(Level::warn);
  install({stderr_sink()});
}

void setup_logging(const GlobalOptions& options) {
  std::vector<spdlog::sink_ptr> sinks{stderr_sink()};
  if (options.log.empty()) {
    stderr_sink()->set_level(options.debug ? Level::debug : Level::warn);
  } else {
    // The file gets the detail; stderr keeps only what needs attention.
    stderr_sink()->set_level(Level::warn);
    const int fd = ::open(options.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno("open log file", options.log);
    auto file = std::make_shared<FileSink>(sys::Fd(fd), options.log_format);
    file->set_level(options.debug ? Level::debug : Level::info);
    sinks.push_back(std::move(file));
  }
  install(std::move(sinks));
}

void set_log_prefix(std::string prefix) { stderr_sink()->set_prefix(std::move(prefix)); }

void flush_logs() noexcept {
  try {
    if (auto logger = spdlog::default_logger()) logger->flush();
  } catch (...) {  // NOLINT(bugprone-empty-catch): flushing is best effort at exit
  }
}

void forward_log(Level level, std::string_view message) { spdlog::log(level, "{}", message); }

std::optional<Level> level_from_name(std::string_view name) noexcept {
  if (name == "trace") return Level::trace;
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warning" || name == "warn") return Level::warn;
  if (name == "error") return Level::err;
  if (name == "fatal" || name == "panic") return Level::critical;
  return std::nullopt;
}

std::string_view level_name(Level level) noexcept {
  switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::err: return "error";
    case Level::critical: return "fatal";
    case Level::off:
    case Level::n_levels: break;
  }
  return "info";
}

std::string format_rfc3339(TimePoint time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string format_text_line(Level level, std::string_view msg, TimePoint time) {
  return fmt::format("time={} level={} msg={}\n", text_value(format_rfc3339(time)), text_value(level_name(level)),
                     text_value(msg));
}

std::string format_json_line(Level level, std::string_view msg, TimePoint time) {
  // logrus sorts the keys: level, msg, time.
  return fmt::format("{{\"level\":{},\"msg\":{},\"time\":{}}}\n", json_string(level_name(level)), json_string(msg),
                     json_string(format_rfc3339(time)));
}

}  // namespace berth::cmd
