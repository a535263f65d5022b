#include "runtime/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::hooks {

namespace {

constexpr size_t kMaxOutput = 4096;  // what a failure message quotes of the hook's output

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string tail(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > kMaxOutput) s = "..." + s.substr(s.size() - kMaxOutput);
  return s;
}

}  // namespace

void run(const oci::Hook& hook, std::string_view state_json) {
  // argv and envp are built before fork: the child only dup2s and execs.
  std::vector<std::string> args = hook.args.value_or(std::vector<std::string>{hook.path});
  if (args.empty()) args.push_back(hook.path);
  const std::vector<std::string> env = hook.env.value_or(std::vector<std::string>{});
  auto argv = c_strings(args);
  auto envp = c_strings(env);

  auto [in_r, in_w] = sys::pipe();
  auto [out_r, out_w] = sys::pipe();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork hook", hook.path);
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::dup2(out_w.get(), 2);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    const int e = errno;
    const std::string msg = fmt::format("exec `{}`: {}\n", hook.path, std::system_category().message(e));
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  in_r.reset();
  out_w.reset();
  sys::Fd pidfd = sys::pidfd_open(pid);

  // The hook may not read its stdin at all: a full pipe or EPIPE is not an error.
  ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  {
    std::string_view rest = state_json;
    while (!rest.empty()) {
      const ssize_t n = ::write(in_w.get(), rest.data(), rest.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      rest.remove_prefix(static_cast<size_t>(n));
    }
    in_w.reset();
  }

  using Clock = std::chrono::steady_clock;
  const bool has_timeout = hook.timeout.has_value();
  const auto deadline = Clock::now() + std::chrono::seconds(hook.timeout.value_or(0));
  std::string output;
  bool timed_out = false, exited = false;
  while (!exited) {
    pollfd fds[2] = {{out_r.valid() ? out_r.get() : -1, POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int wait_ms = -1;
    if (has_timeout) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      wait_ms = left > 0 ? static_cast<int>(left) : 0;
    }
    const int r = ::poll(fds, 2, wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll hook", hook.path);
    }
    if (r == 0) {
      timed_out = true;
      ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
      break;
    }
    if (fds[0].revents) {
      char buf[4096];
      const ssize_t n = ::read(out_r.get(), buf, sizeof buf);
      if (n > 0) {
        if (output.size() < 4 * kMaxOutput) output.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        out_r.reset();
      }
    }
    if (fds[1].revents) exited = true;
  }
  const int status = sys::waitpid(pid);
  if (out_r.valid()) {  // what the hook wrote just before exiting
    ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out_r.get(), buf, sizeof buf)) > 0 && output.size() < 4 * kMaxOutput)
      output.append(buf, static_cast<size_t>(n));
  }
  const std::string out = tail(std::move(output));
  const std::string suffix = out.empty() ? "" : ": " + out;
  if (timed_out) throw Error(fmt::format("hook `{}` timed out after {}s{}", hook.path, *hook.timeout, suffix));
  if (WIFSIGNALED(status))
    throw Error(fmt::format("hook `{}` killed by signal {}{}", hook.path, WTERMSIG(status), suffix));
  if (WEXITSTATUS(status) != 0)
    throw Error(fmt::format("hook `{}` exited with status {}{}", hook.path, WEXITSTATUS(status), suffix));
}

void run_all(const std::optional<std::vector<oci::Hook>>& hooks, std::string_view kind, std::string_view state_json) {
  if (!hooks) return;
  for (size_t i = 0; i < hooks->size(); ++i)
    with_context(fmt::format("hooks.{}[{}]", kind, i), [&] { run((*hooks)[i], state_json); });
}

}  // namespace berth::hooks
