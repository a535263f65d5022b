#include "tests/integration/harness.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace berth::test {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::system_error(errno, std::system_category(), what);
}

// Owns one end of a pipe; the harness cannot use berth's own Fd type, as it
// must depend on nothing but the binary under test.
struct PipeEnd {
  int fd = -1;
  PipeEnd() = default;
  explicit PipeEnd(int f) : fd(f) {}
  PipeEnd(const PipeEnd&) = delete;
  PipeEnd& operator=(const PipeEnd&) = delete;
  ~PipeEnd() { close(); }
  void close() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct Pipe {
  PipeEnd read, write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail_errno("pipe2");
    read.fd = fds[0];
    write.fd = fds[1];
  }
};

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) fail_errno("fcntl O_NONBLOCK");
}

std::vector<std::string> build_env(const RunOptions& options) {
  std::map<std::string, std::string> vars;
  if (!options.clear_env) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string_view kv(*e);
      const std::size_t eq = kv.find('=');
      if (eq != std::string_view::npos) vars.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  for (const auto& [key, value] : options.env) {
    if (value)
      vars[key] = *value;
    else
      vars.erase(key);
  }
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [key, value] : vars) out.push_back(key + "=" + value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Between fork and exec only async-signal-safe calls: report errno through
// the CLOEXEC error pipe and leave with _exit.
[[noreturn]] void child_fail(int error_fd) {
  const int e = errno;
  [[maybe_unused]] const ssize_t n = ::write(error_fd, &e, sizeof e);
  ::_exit(127);
}

// Reads what is available from fd into out; false at EOF (or error).
bool drain(int fd, std::string& out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

}  // namespace

std::string RunResult::describe() const {
  std::ostringstream s;
  if (timed_out)
    s << "timed out";
  else if (signal != 0)
    s << "killed by signal " << signal;
  else
    s << "exit " << exit_code;
  s << "\n--- stdout ---\n" << out << "\n--- stderr ---\n" << err;
  return s.str();
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) throw std::invalid_argument("run: empty argv");
  // A child that exits before reading its stdin must not kill the test with SIGPIPE.
  static const bool sigpipe_ignored = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)sigpipe_ignored;

  std::vector<std::string> args = argv;
  std::vector<std::string> env = build_env(options);
  std::vector<char*> c_argv = c_strings(args);
  std::vector<char*> c_env = c_strings(env);
  const std::string cwd = options.cwd.string();
  const bool search_path = argv[0].find('/') == std::string::npos;

  Pipe in, out, err, exec_error;
  const pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);  // an ignored disposition survives execve
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(in.read.fd, STDIN_FILENO) < 0 || ::dup2(out.write.fd, STDOUT_FILENO) < 0 ||
        ::dup2(err.write.fd, STDERR_FILENO) < 0)
      child_fail(exec_error.write.fd);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) child_fail(exec_error.write.fd);
    if (search_path)
      ::execvpe(c_argv[0], c_argv.data(), c_env.data());
    else
      ::execve(c_argv[0], c_argv.data(), c_env.data());
    child_fail(exec_error.write.fd);
  }

  in.read.close();
  out.write.close();
  err.write.close();
  exec_error.write.close();
  int exec_errno = 0;
  ssize_t n;
  do n = ::read(exec_error.read.fd, &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    ::waitpid(pid, nullptr, 0);
    throw std::system_error(exec_errno, std::system_category(), "exec " + argv[0]);
  }

  RunResult result;
  if (options.stdin_data.empty()) in.write.close();
  for (PipeEnd* p : {&in.write, &out.read, &err.read})
    if (p->fd >= 0) set_nonblocking(p->fd);

  std::size_t written = 0;
  const Clock::time_point deadline = Clock::now() + options.timeout;
  int status = 0;
  bool reaped = false;
  for (;;) {
    if (!reaped) {
      pid_t w;
      do w = ::waitpid(pid, &status, WNOHANG);
      while (w < 0 && errno == EINTR);
      reaped = w == pid;
    }
    if (reaped && out.read.fd < 0 && err.read.fd < 0) break;
    std::vector<pollfd> fds;
    if (out.read.fd >= 0) fds.push_back({out.read.fd, POLLIN, 0});
    if (err.read.fd >= 0) fds.push_back({err.read.fd, POLLIN, 0});
    if (in.write.fd >= 0 && !reaped) fds.push_back({in.write.fd, POLLOUT, 0});
    // Once the child is gone, whatever it wrote is already in the pipes:
    // collect it without waiting for processes it may have left behind.
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const int wait_ms = reaped ? 0 : static_cast<int>(std::clamp<long long>(remaining.count(), 0, 50));
    const int ready = ::poll(fds.data(), fds.size(), wait_ms);
    if (ready < 0 && errno != EINTR) fail_errno("poll");
    bool progressed = false;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      progressed = true;
      if (p.fd == in.write.fd) {
        const ssize_t w = ::write(p.fd, options.stdin_data.data() + written, options.stdin_data.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == options.stdin_data.size()) in.write.close();
      } else if (p.fd == out.read.fd) {
        if (!drain(p.fd, result.out)) out.read.close();
      } else if (p.fd == err.read.fd) {
        if (!drain(p.fd, result.err)) err.read.close();
      }
    }
    if (reaped && !progressed) break;
    if (!reaped && Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      result.timed_out = true;
      break;
    }
  }
  in.write.close();
  if (!reaped) {
    pid_t w;
    do w = ::waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
    result.exit_code = 128 + result.signal;
  }
  return result;
}

const std::string& berth_binary() {
  static const std::string path = [] {
    if (const char* env = std::getenv("BERTH_BINARY"); env != nullptr && *env != '\0') return std::string(env);
#ifdef BERTH_BINARY
    return std::string(BERTH_BINARY);
#else
    throw std::runtime_error("set BERTH_BINARY to the berth binary to test");
#endif
  }();
  return path;
}

RunResult berth(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv{berth_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, options);
}

std::optional<std::string> find_program(std::string_view name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string_view dirs(path);
  while (!dirs.empty()) {
    const std::size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

TempDir::TempDir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + std::string(prefix) + ".XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) fail_errno("mkdtemp " + templ);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort: a destructor must not throw
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string proc_file(const std::filesystem::path& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::filesystem::path source_root() {
#ifdef BERTH_SOURCE_ROOT
  return BERTH_SOURCE_ROOT;
#else
  return std::filesystem::current_path();
#endif
}

}  // namespace berth::test
