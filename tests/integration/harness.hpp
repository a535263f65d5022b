// The integration-test harness: runs the built berth binary (or any program)
// as a child process, without a shell, and captures what it did.
//
// Used by the CLI tests now and by the container tests later (issue #3), so
// it covers what those need: environment overrides, data on stdin, a working
// directory, and a timeout after which the child is killed by its PID.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::test {

struct RunOptions {
  // Applied over the inherited environment (or over an empty one with
  // clear_env): a value sets the variable, std::nullopt removes it.
  std::map<std::string, std::optional<std::string>> env;
  bool clear_env = false;
  std::string stdin_data;          // written to the child's stdin, which is then closed
  std::filesystem::path cwd;       // empty: the test's own working directory
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

struct RunResult {
  int exit_code = -1;      // the exit status, or 128 + signal when killed by one
  int signal = 0;          // the terminating signal; 0 when the child exited
  bool timed_out = false;  // the child was killed with SIGKILL after the timeout
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr

  bool ok() const noexcept { return exit_code == 0 && signal == 0 && !timed_out; }
  // "exit 1, stderr: ..." for test failure messages.
  std::string describe() const;
};

// Runs argv[0] (looked up in PATH when it has no slash) with argv, waits for
// it and returns what it did. Output still buffered in the pipes when the
// child exits is collected; output from processes it left behind is not
// waited for. Throws std::runtime_error when the program cannot be started.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// The berth binary under test: $BERTH_BINARY when set, else the path the
// build compiled in.
const std::string& berth_binary();

// run() of berth_binary() with args: berth({"spec", "-b", dir}).
RunResult berth(const std::vector<std::string>& args, const RunOptions& options = {});

// The absolute path of a program found in PATH, if any (e.g. "runc").
std::optional<std::string> find_program(std::string_view name);

// A fresh directory under $TMPDIR (or /tmp), removed with its content when
// the object goes out of scope.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "berth-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& p) const { return path_ / p; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, std::string_view content);
// A /proc file (read with read(2): /proc sizes are 0); empty when the process is gone.
std::string proc_file(const std::filesystem::path& path);

// The directory of the source tree (fixtures live in tests/fixtures).
std::filesystem::path source_root();

}  // namespace berth::test
