// berth::Error: the one error type of berth. It carries a message (the
// operation, the path or JSON field in backticks, and every layer of context
// added while it unwinds) and an errno value when the failure came from the OS.
#pragma once

#include <cerrno>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace berth {

class Error : public std::exception {
 public:
  explicit Error(std::string msg, int errnum = 0) : msg_(std::move(msg)), errnum_(errnum) { render(); }

  const char* what() const noexcept override { return what_.c_str(); }
  // 0 when the error did not come from a syscall.
  int errnum() const noexcept { return errnum_; }
  // The message without the strerror() suffix: what crosses the sync socket.
  const std::string& message() const noexcept { return msg_; }

  // Prefix context ("create container `abc`: ...") as the error unwinds.
  Error& wrap(std::string_view ctx) {
    msg_ = fmt::format("{}: {}", ctx, msg_);
    render();
    return *this;
  }

 private:
  void render() {
    what_ = errnum_ ? fmt::format("{}: {}", msg_, std::system_category().message(errnum_)) : msg_;
  }
  std::string msg_;
  std::string what_;
  int errnum_;
};

// Throws Error for the current errno: "op `path`: strerror".
[[noreturn]] inline void throw_errno(std::string_view op, std::string_view path = {}) {
  const int e = errno;
  throw Error(path.empty() ? std::string(op) : fmt::format("{} `{}`", op, path), e);
}

// Runs f, prefixing ctx to any berth::Error it throws.
template <class F>
decltype(auto) with_context(std::string_view ctx, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (Error& e) {
    e.wrap(ctx);
    throw;
  }
}

}  // namespace berth
