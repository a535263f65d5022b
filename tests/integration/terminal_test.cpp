// Terminals and exit codes (issue #4): the pty master sent to --console-socket as containerd and
// conmon receive it, foreground `run` relaying a real terminal, and the error paths.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"
#include "tests/integration/console_receiver.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::RunOptions;
using berth::test::ConsoleReceiver;
using berth::test::RunResult;

namespace {

void want_terminal(Bundle& b) {
  b.process()["terminal"] = true;
  b.process()["consoleSize"] = json::object{{"height", 40}, {"width", 100}};
}

}  // namespace

TEST_CASE("--console-socket receives the pty master; the process has the pty as its terminal", "[terminal]") {
  REQUIRE_ROOT();
  Bundle b;
  want_terminal(b);
  b.args({"sh", "-c", "tty; stty size; ls -l /dev/console | awk '{print $1, $5, $6}'; echo done"});
  b.save();
  const std::string sock = b.path("console.sock").string();
  ConsoleReceiver rx(sock);
  RunResult r = b.cli({"run", "-d", "--console-socket", sock, "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(rx.receive() == "/dev/ptmx");
  const std::string out = rx.read_all();
  CHECK(out == "/dev/pts/0\r\n40 100\r\ncrw--w---- 136, 0\r\ndone\r\n");
}

TEST_CASE("create/start with a console socket: the master works before start", "[terminal]") {
  REQUIRE_ROOT();
  Bundle b;
  want_terminal(b);
  b.args({"sh", "-c", "read line; echo \"got $line\""});
  b.save();
  const std::string sock = b.path("console.sock").string();
  ConsoleReceiver rx(sock);
  RunResult r = b.cli({"create", "--console-socket", sock, "--bundle", b.dir().string(), b.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  rx.receive();
  REQUIRE(::write(rx.master(), "hello\n", 6) == 6);
  REQUIRE(b.cli({"start", b.id()}).ok());
  CHECK_THAT(rx.read_all(), Catch::EndsWith("got hello\r\n"));
}

TEST_CASE("terminal errors: no socket, a bad socket, a socket that goes away; nothing left behind", "[terminal][errors]") {
  REQUIRE_ROOT();
  Bundle b;
  want_terminal(b);
  b.args({"true"});
  b.save();
  RunResult r = b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("process.terminal") && Catch::Contains("--console-socket"));
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));

  const std::string missing = b.path("no-such.sock").string();
  r = b.cli({"create", "--console-socket", missing, "--bundle", b.dir().string(), b.id()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("--console-socket: connect `" + missing + "`: No such file or directory"));
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));

  // The receiver stops listening while berth waits in a hook: the connection it made is reset
  // before it sends the master.
  const std::string sock = b.path("console.sock").string();
  b.config.as_object()["hooks"] = json::object{
      {"createRuntime", json::array{json::object{{"path", "/bin/sleep"}, {"args", json::array{"sleep", "1"}}}}}};
  b.save();
  int status = 0;
  {
    ConsoleReceiver rx(sock);
    const std::string err = b.path("err").string();
    const pid_t child = ::fork();
    if (child == 0) {
      const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      const std::string bin = berth::test::berth_binary(), root = b.state_root(), dir = b.dir().string();
      ::execl(bin.c_str(), "berth", "--root", root.c_str(), "create", "--console-socket", sock.c_str(), "--bundle",
              dir.c_str(), b.id().c_str(), nullptr);
      ::_exit(127);
    }
    ::usleep(500 * 1000);
    rx.close_listener();
    ::waitpid(child, &status, 0);
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_THAT(berth::test::read_file(b.path("err")), Catch::Contains("--console-socket"));
  CHECK_FALSE(fs::exists(fs::path(b.state_root()) / b.id()));
}
TEST_CASE("foreground run relays a real terminal and returns the exit status", "[terminal]") {
  REQUIRE_ROOT();
  if (!berth::test::find_program("script")) {
    berth::test::skip("util-linux's script(1) is not installed");
    return;
  }
  Bundle b;
  want_terminal(b);
  b.args({"sh", "-c", "read line; echo \"got $line on $(tty)\"; exit 3"});
  b.save();
  RunOptions o;
  o.stdin_data = "hello\n";
  const std::string cmd = berth::test::berth_binary() + " --root " + b.state_root() + " run --bundle " +
                          b.dir().string() + " " + b.id();
  // script gives berth a real terminal on its stdio; -e returns the child's exit status.
  RunResult r = berth::test::run({"script", "-qec", cmd, "/dev/null"}, o);
  INFO(r.describe());
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("got hello on /dev/pts/0"));
  CHECK(b.status() == "(none)");
}

TEST_CASE("exit codes: 0, 3, 137 and 143 come back from run", "[terminal][exit]") {
  REQUIRE_ROOT();
  const std::vector<std::pair<std::string, int>> cases = {
      {"exit 0", 0}, {"exit 3", 3}, {"kill -KILL $$", 137}, {"kill -TERM $$", 143}};
  for (const auto& [script, want] : cases) {
    Bundle b;
    // In the host's pid namespace the shell is not an init: its own signals kill it.
    b.without_namespace("pid");
    b.args({"sh", "-c", script});
    RunResult r = b.run_fg();
    INFO(script << ": " << r.describe());
    CHECK(r.exit_code == want);
  }
}

TEST_CASE("NOTIFY_SOCKET: the container's READY=1 reaches the caller's socket with MAINPID", "[terminal][notify]") {
  REQUIRE_ROOT();
  Bundle b;
  fs::copy_file(BERTH_SD_NOTIFY_HELPER, b.rootfs() / "sd-notify");
  b.config.as_object()["root"].as_object()["readonly"] = false;
  // Not ready at once: `run -d` must wait for it, as runc does.
  b.args({"sh", "-c", "echo $NOTIFY_SOCKET > /notify-env; sleep 0.3; /sd-notify STATUS=starting; "
                      "/sd-notify READY=1; sleep 100"});
  b.save();
  const std::string host = b.path("host-notify.sock").string();
  const int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, host.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  RunOptions o;
  o.env["NOTIFY_SOCKET"] = host;
  RunResult r = b.cli({"run", "-d", "--bundle", b.dir().string(), b.id()}, o);
  INFO(r.describe());
  REQUIRE(r.ok());
  char buf[256] = {};
  const ssize_t n = ::recv(sock, buf, sizeof buf - 1, MSG_DONTWAIT);  // already there: run -d waited
  ::close(sock);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<size_t>(n)) ==
        "READY=1\nMAINPID=" + std::to_string(b.state().at("pid").as_int64()) + "\n");
  CHECK(berth::test::read_file(b.rootfs() / "notify-env") == "/run/notify/notify.sock\n");
}
