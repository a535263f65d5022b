// Runs a piece of code in a forked child and reports what it returned or threw: for code that
// changes the calling process for good (credentials, namespaces, LSM attributes, rlimits).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <type_traits>

#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::test {

struct ChildResult {
  bool ok = false;
  std::string out;      // what fn returned; on failure what() of the exception
  std::string message;  // on failure: Error::message(), the text without the errno's
  int errnum = 0;       // on failure: Error::errnum()
};

namespace detail {

// Nothing but fn runs in the child (no Catch2 assertion), and it leaves with _exit, so no
// destructor or atexit handler of the test binary runs twice. The report over the pipe:
// "ok\n<out>" or "error <errno>\n<what>\0<message>".
inline ChildResult run_in_child(const std::function<std::string()>& fn) {
  auto [r, w] = sys::pipe();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("fork", errno);
  if (pid == 0) {
    r.reset();
    std::string msg;
    try {
      msg = "ok\n" + fn();
    } catch (const Error& e) {
      msg = "error " + std::to_string(e.errnum()) + "\n" + e.what() + '\0' + e.message();
    } catch (const std::exception& e) {
      msg = std::string("error 0\n") + e.what() + '\0' + e.what();
    }
    try {
      sys::write_all(w.get(), msg, "result pipe");
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  w.reset();
  const std::string data = sys::read_all(r.get(), "result pipe");
  const int status = sys::waitpid(pid);
  ChildResult res;
  const auto nl = data.find('\n');
  if (nl == std::string::npos || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    res.out = "child died: status " + std::to_string(status) + ", output `" + data + "`";
    return res;
  }
  const std::string head = data.substr(0, nl);
  res.ok = head == "ok";
  if (res.ok) {
    res.out = data.substr(nl + 1);
    return res;
  }
  res.errnum = std::atoi(head.substr(head.find(' ') + 1).c_str());
  const std::string rest = data.substr(nl + 1);
  const auto nul = rest.find('\0');
  res.out = rest.substr(0, nul);
  res.message = nul == std::string::npos ? res.out : rest.substr(nul + 1);
  return res;
}

}  // namespace detail

// fn returns a std::string (reported as out) or nothing.
template <class F>
ChildResult in_child(F&& fn) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&>>)
    return detail::run_in_child([&]() -> std::string {
      fn();
      return {};
    });
  else
    return detail::run_in_child(std::function<std::string()>(fn));
}

}  // namespace berth::test
