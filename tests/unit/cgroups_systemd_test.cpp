// runtime/cgroups/systemd.cpp and dbus.cpp: unit naming, slice expansion, property translation,
// D-Bus marshalling, and the StartTransientUnit/StopUnit exchanges against a fake systemd
// serving the other end of a socketpair.
#include "runtime/cgroups/systemd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "runtime/cgroups/dbus.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

using namespace berth;
using namespace berth::cgroups;
using Catch::Matchers::Contains;
using dbus::Message;
using dbus::MessageType;
using dbus::Value;

namespace {

constexpr std::uint64_t kInfinity = std::numeric_limits<std::uint64_t>::max();

std::map<std::string, Value> by_name(const std::vector<Value>& props) {
  std::map<std::string, Value> out;
  for (const Value& p : props) out.emplace(p.items()[0].as_string(), p.items()[1].inner());
  return out;
}

Value bytes(std::initializer_list<std::uint8_t> bs) {
  std::vector<Value> items;
  for (auto b : bs) items.push_back(Value::byte(b));
  return Value::array("y", std::move(items));
}

// The service end of a D-Bus connection, for a test thread playing systemd.
class FakeSystemd {
 public:
  explicit FakeSystemd(sys::Fd fd) : fd_(std::move(fd)) {}

  // The server half of SASL EXTERNAL; checks that the client claims our own uid.
  void handshake() {
    const std::string auth = line();
    if (auth.empty() || auth[0] != '\0') throw Error("fake: no leading nul byte");
    std::string want = "AUTH EXTERNAL ";
    for (char c : std::to_string(::geteuid())) want += fmt::format("{:02x}", c);
    if (auth.substr(1) != want) throw Error(fmt::format("fake: got `{}`, want `{}`", auth.substr(1), want));
    write("OK 0123456789abcdef0123456789abcdef\r\n");
    if (const std::string begin = line(); begin != "BEGIN") throw Error(fmt::format("fake: got `{}`, not BEGIN", begin));
  }

  Message receive() {
    for (;;) {
      if (const std::size_t n = dbus::message_size(in_); n != 0 && in_.size() >= n) {
        Message m = dbus::decode(std::string_view(in_).substr(0, n));
        in_.erase(0, n);
        return m;
      }
      fill();
    }
  }

  // Receives the next call and checks it is `member`.
  Message expect(std::string_view member) {
    Message m = receive();
    if (m.type != MessageType::MethodCall || m.member != member)
      throw Error(fmt::format("fake: got `{}`, expected a call of `{}`", m.member, member));
    return m;
  }

  void send(Message m) {
    m.serial = serial_++;
    write(dbus::encode(m));
  }
  void reply(const Message& call, std::vector<Value> body = {}) {
    Message r;
    r.type = MessageType::MethodReturn;
    r.reply_serial = call.serial;
    r.body = std::move(body);
    send(std::move(r));
  }
  void error(const Message& call, std::string name, std::string text) {
    Message r;
    r.type = MessageType::Error;
    r.reply_serial = call.serial;
    r.error_name = std::move(name);
    r.body = {Value::string(std::move(text))};
    send(std::move(r));
  }
  void signal(std::string member, std::vector<Value> body) {
    Message s;
    s.type = MessageType::Signal;
    s.path = "/org/freedesktop/systemd1";
    s.interface = "org.freedesktop.systemd1.Manager";
    s.member = std::move(member);
    s.body = std::move(body);
    send(std::move(s));
  }
  void job_removed(std::uint32_t id, const std::string& unit, const std::string& result) {
    signal("JobRemoved", {Value::uint32(id), Value::object_path(job(id)), Value::string(unit), Value::string(result)});
  }
  static std::string job(std::uint32_t id) { return fmt::format("/org/freedesktop/systemd1/job/{}", id); }

 private:
  std::string line() {
    for (;;) {
      if (const auto end = in_.find("\r\n"); end != std::string::npos) {
        std::string l = in_.substr(0, end);
        in_.erase(0, end + 2);
        return l;
      }
      fill();
    }
  }
  void fill() {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) throw Error("fake: nothing from the client in 5s");
    char buf[4096];
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n <= 0) throw Error("fake: the client closed the connection");
    in_.append(buf, static_cast<std::size_t>(n));
  }
  void write(std::string_view data) {
    if (::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size()))
      throw Error("fake: short send");
  }

  sys::Fd fd_;
  std::string in_;
  std::uint32_t serial_ = 1000;
};

// Runs `server` in a thread on one end of a socketpair and `client` on a Connection over the
// other. Returns the server's failure ("" when it did all it expected); rethrows the client's.
std::string with_fake(dbus::Peer peer, const std::function<void(FakeSystemd&)>& server,
                      const std::function<void(dbus::Connection&)>& client) {
  auto [ours, theirs] = sys::socketpair(AF_UNIX, SOCK_STREAM);
  std::string server_error;
  std::thread t([&, fd = std::move(theirs)]() mutable {
    try {
      FakeSystemd fake(std::move(fd));
      fake.handshake();
      server(fake);
    } catch (const std::exception& e) {
      server_error = e.what();
    }
  });
  std::exception_ptr client_error;
  try {
    dbus::Connection c(std::move(ours), peer, std::chrono::seconds(5));
    client(c);
  } catch (...) {
    client_error = std::current_exception();
  }
  t.join();  // the client's end is closed by now, so a waiting server sees EOF
  if (client_error) std::rethrow_exception(client_error);
  return server_error;
}

const systemd::Unit kUnit{"system.slice", "berth-abc.scope"};

}  // namespace

// ---- naming ----

TEST_CASE("systemd cgroupsPath: slice:prefix:name", "[cgroups][systemd]") {
  using systemd::Unit;
  const std::vector<std::tuple<std::string, Unit>> cases = {
      {"", {"system.slice", "berth-abc.scope"}},
      {"system.slice:docker:1234", {"system.slice", "docker-1234.scope"}},
      {":runc:xyz", {"system.slice", "runc-xyz.scope"}},
      {"machine.slice:libpod:abc", {"machine.slice", "libpod-abc.scope"}},
      {"kubepods-burstable-pod1.slice:cri-containerd:c1", {"kubepods-burstable-pod1.slice", "cri-containerd-c1.scope"}},
      {"system.slice:ignored:my-pod.slice", {"system.slice", "my-pod.slice"}},
      {"-.slice:p:n", {"-.slice", "p-n.scope"}},
      {"user.slice::n", {"user.slice", "-n.scope"}},  // runc's naming, even with no prefix
  };
  for (const auto& [path, want] : cases) {
    INFO(path);
    REQUIRE(systemd::parse_cgroups_path(path, "abc") == want);
  }
}

TEST_CASE("systemd cgroupsPath: bad forms name the field and the expected form", "[cgroups][systemd]") {
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {"/sys/fs/cgroup/foo", "slice:prefix:name"},
      {"/berth/abc", "slice:prefix:name"},
      {"a:b", "slice:prefix:name"},
      {"a.slice:b:c:d", "slice:prefix:name"},
      {"foo:p:n", "invalid slice name `foo`"},
      {"a/b.slice:p:n", "no `/`"},
      {"-a.slice:p:n", "empty component"},
      {"system.slice:p:", "the name (after the last `:`) is empty"},
      {"system.slice:p:a b", "systemd does not allow"},
      {"system.slice:p:x--y.slice", "invalid slice name `x--y.slice`"},
  };
  for (const auto& [path, want] : cases) {
    INFO(path);
    REQUIRE_THROWS_WITH(systemd::parse_cgroups_path(path, "abc"),
                        Catch::Matchers::StartsWith("linux.cgroupsPath: ") && Contains(want));
  }
}

TEST_CASE("expand_slice lays slices out as systemd does", "[cgroups][systemd]") {
  REQUIRE(systemd::expand_slice("-.slice") == "/");
  REQUIRE(systemd::expand_slice("system.slice") == "/system.slice");
  REQUIRE(systemd::expand_slice("a-b-c.slice") == "/a.slice/a-b.slice/a-b-c.slice");
  REQUIRE(systemd::expand_slice("kubepods-besteffort.slice") == "/kubepods.slice/kubepods-besteffort.slice");
  REQUIRE(systemd::expand_slice("user-1000.slice") == "/user.slice/user-1000.slice");
  for (const char* bad : {"", ".slice", "slice", "system", "foo.scope", "-test.slice", "test-.slice", "test--a.slice",
                          "--.slice", "a/b.slice", "/system.slice"}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(systemd::expand_slice(bad), Contains("invalid slice name"));
  }
}

TEST_CASE("cgroup_path of scopes and slices", "[cgroups][systemd]") {
  REQUIRE(systemd::cgroup_path(kUnit) == "/system.slice/berth-abc.scope");
  REQUIRE(systemd::cgroup_path({"-.slice", "x.scope"}) == "/x.scope");
  REQUIRE(systemd::cgroup_path({"a-b.slice", "p-n.scope"}) == "/a.slice/a-b.slice/p-n.scope");
  REQUIRE(systemd::cgroup_path({"system.slice", "pod-x.slice"}) == "/pod.slice/pod-x.slice");
}

// ---- properties ----

TEST_CASE("unit properties of a scope", "[cgroups][systemd]") {
  const auto p = systemd::unit_properties(kUnit, 4242, nullptr, {});
  REQUIRE(p[0].items()[0].as_string() == "Description");
  const auto m = by_name(p);
  REQUIRE(m.at("Slice") == Value::string("system.slice"));
  REQUIRE(m.at("PIDs") == Value::array("u", {Value::uint32(4242)}));
  REQUIRE(m.at("Delegate") == Value::boolean(true));
  REQUIRE(m.at("DefaultDependencies") == Value::boolean(false));
  for (const char* a : {"MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting"})
    REQUIRE(m.at(a) == Value::boolean(true));
  REQUIRE(p.size() == 9);
  for (const Value& v : p) REQUIRE(v.type() == "(sv)");
}

TEST_CASE("unit properties of a slice: Wants, no PIDs, no Delegate", "[cgroups][systemd]") {
  const auto m = by_name(systemd::unit_properties({"system.slice", "pod-x.slice"}, 4242, nullptr, {}));
  REQUIRE(m.at("Wants") == Value::array("s", {Value::string("system.slice")}));
  REQUIRE_FALSE(m.contains("Slice"));
  REQUIRE_FALSE(m.contains("PIDs"));
  REQUIRE_FALSE(m.contains("Delegate"));
}

TEST_CASE("resources on a cgroup v2 host, as runc translates them", "[cgroups][systemd]") {
  oci::LinuxMemory memory;
  memory.limit = 1 << 30;
  memory.reservation = 1 << 29;
  memory.swap = (1 << 30) + (1 << 28);
  oci::LinuxCpu cpu;
  cpu.shares = 1024;
  cpu.quota = 33333;
  cpu.period = 100000;
  cpu.cpus.emplace("0-3, 8,,");
  cpu.mems.emplace("0");
  oci::LinuxBlockIo block_io;
  block_io.weight = 500;
  oci::LinuxResources r;
  r.memory = memory;
  r.cpu = std::move(cpu);
  r.pids = oci::LinuxPids{.limit = -1};
  r.block_io = std::move(block_io);

  SECTION("systemd new enough for every property") {
    const auto m = by_name(systemd::unit_properties(kUnit, 1, &r, {.unified = true, .systemd_version = 252}));
    REQUIRE(m.at("MemoryMax") == Value::uint64(1 << 30));
    REQUIRE(m.at("MemoryLow") == Value::uint64(1 << 29));
    REQUIRE(m.at("MemorySwapMax") == Value::uint64(1 << 28));  // v2's swap excludes memory
    REQUIRE(m.at("CPUWeight") == Value::uint64(39));
    REQUIRE(m.at("CPUQuotaPeriodUSec") == Value::uint64(100000));
    REQUIRE(m.at("CPUQuotaPerSecUSec") == Value::uint64(340000));  // 333330 rounded up to 10ms
    REQUIRE(m.at("TasksMax") == Value::uint64(kInfinity));
    REQUIRE(m.at("AllowedCPUs") == bytes({0x0f, 0x01}));
    REQUIRE(m.at("AllowedMemoryNodes") == bytes({0x01}));
    REQUIRE_FALSE(m.contains("BlockIOWeight"));
    REQUIRE_FALSE(m.contains("MemoryLimit"));
  }
  SECTION("older systemd: no period, no cpuset properties") {
    const auto m = by_name(systemd::unit_properties(kUnit, 1, &r, {.unified = true, .systemd_version = 241}));
    REQUIRE_FALSE(m.contains("CPUQuotaPeriodUSec"));
    REQUIRE_FALSE(m.contains("AllowedCPUs"));
    REQUIRE_FALSE(m.contains("AllowedMemoryNodes"));
    REQUIRE(m.at("CPUQuotaPerSecUSec") == Value::uint64(340000));
  }
  SECTION("cgroup v1 host") {
    const auto m = by_name(systemd::unit_properties(kUnit, 1, &r, {.unified = false, .systemd_version = 252}));
    REQUIRE(m.at("MemoryLimit") == Value::uint64(1 << 30));
    REQUIRE(m.at("CPUShares") == Value::uint64(1024));
    REQUIRE(m.at("BlockIOWeight") == Value::uint64(500));
    REQUIRE(m.at("BlockIOAccounting") == Value::boolean(true));
    for (const char* v2_only : {"MemoryMax", "MemoryLow", "MemorySwapMax", "CPUWeight", "IOAccounting"}) {
      INFO(v2_only);
      REQUIRE_FALSE(m.contains(v2_only));
    }
  }
}

TEST_CASE("resource edge cases", "[cgroups][systemd]") {
  const systemd::Host v2{.unified = true, .systemd_version = 252};
  oci::LinuxResources r;
  r.memory.emplace();

  SECTION("unlimited memory makes swap unlimited too") {
    r.memory->limit = -1;
    const auto m = by_name(systemd::unit_properties(kUnit, 1, &r, v2));
    REQUIRE(m.at("MemoryMax") == Value::uint64(kInfinity));
    REQUIRE(m.at("MemorySwapMax") == Value::uint64(kInfinity));
  }
  SECTION("a swap limit needs a memory limit") {
    r.memory->swap = 1 << 20;
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2), Contains("linux.resources.memory.swap"));
  }
  SECTION("swap below memory") {
    r.memory->limit = 1 << 20;
    r.memory->swap = 1 << 19;
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2), Contains("below the memory limit"));
  }
  SECTION("quota without period assumes 100ms; -1 is no quota") {
    r.cpu.emplace().quota = 50000;
    REQUIRE(by_name(systemd::unit_properties(kUnit, 1, &r, v2)).at("CPUQuotaPerSecUSec") == Value::uint64(500000));
    r.cpu.emplace().quota = -1;
    REQUIRE(by_name(systemd::unit_properties(kUnit, 1, &r, v2)).at("CPUQuotaPerSecUSec") == Value::uint64(kInfinity));
  }
  SECTION("pids 0 is unset, other limits are kept") {
    r.pids = oci::LinuxPids{.limit = 0};
    REQUIRE_FALSE(by_name(systemd::unit_properties(kUnit, 1, &r, v2)).contains("TasksMax"));
    r.pids = oci::LinuxPids{.limit = 100};
    REQUIRE(by_name(systemd::unit_properties(kUnit, 1, &r, v2)).at("TasksMax") == Value::uint64(100));
  }
  SECTION("shares map onto weights") {
    r.cpu.emplace().shares = 2;
    REQUIRE(by_name(systemd::unit_properties(kUnit, 1, &r, v2)).at("CPUWeight") == Value::uint64(1));
    r.cpu.emplace().shares = 262144;
    REQUIRE(by_name(systemd::unit_properties(kUnit, 1, &r, v2)).at("CPUWeight") == Value::uint64(10000));
  }
  SECTION("bad cpu lists name the field") {
    r.cpu.emplace().cpus = "3-1";
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2),
                        Contains("linux.resources.cpu.cpus") && Contains("invalid range"));
    r.cpu.emplace().mems = "x";
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2), Contains("linux.resources.cpu.mems"));
    r.cpu.emplace().cpus = ",";
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2), Contains("empty list"));
  }
  SECTION("unified keys systemd knows") {
    r.unified = oci::StringMap{{"memory.high", " max\n"}, {"pids.max", "50"}, {"cpu.max", "max 50000"},
                               {"cpu.weight", "200"}, {"cpuset.cpus", "1"}, {"io.weight", "100"}};
    const auto m = by_name(systemd::unit_properties(kUnit, 1, &r, v2));
    REQUIRE(m.at("MemoryHigh") == Value::uint64(kInfinity));
    REQUIRE(m.at("TasksMax") == Value::uint64(50));
    REQUIRE(m.at("CPUQuotaPeriodUSec") == Value::uint64(50000));
    REQUIRE(m.at("CPUQuotaPerSecUSec") == Value::uint64(kInfinity));
    REQUIRE(m.at("CPUWeight") == Value::uint64(200));
    REQUIRE(m.at("AllowedCPUs") == bytes({0x02}));
    REQUIRE(m.size() == 15);  // 9 always there, 6 from unified (io.weight has no property here)
  }
  SECTION("bad unified values name the key") {
    r.unified = oci::StringMap{{"cpu.max", "1 2 3"}};
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2), Contains("linux.resources.unified[\"cpu.max\"]"));
    r.unified = oci::StringMap{{"memory.max", "lots"}};
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2),
                        Contains("linux.resources.unified[\"memory.max\"]"));
    r.unified = oci::StringMap{{"../memory.max", "1"}};
    REQUIRE_THROWS_WITH(systemd::unit_properties(kUnit, 1, &r, v2), Contains("no `/`"));
  }
}

// ---- marshalling ----

TEST_CASE("d-bus marshalling aligns as the specification says", "[cgroups][dbus]") {
  using namespace std::string_literals;
  REQUIRE(dbus::marshal({Value::byte(1), Value::uint32(2)}) == "\x01\0\0\0\x02\0\0\0"s);
  REQUIRE(dbus::marshal({Value::byte(1), Value::int16(-2)}) == "\x01\0\xfe\xff"s);
  REQUIRE(dbus::marshal({Value::byte(1), Value::uint64(3)}) == "\x01\0\0\0\0\0\0\0\x03\0\0\0\0\0\0\0"s);
  REQUIRE(dbus::marshal({Value::boolean(true)}) == "\x01\0\0\0"s);
  REQUIRE(dbus::marshal({Value::string("ab")}) == "\x02\0\0\0ab\0"s);
  REQUIRE(dbus::marshal({Value::signature("as")}) == "\x02" "as\0"s);
  // A variant is its signature, then the value aligned for its own type.
  REQUIRE(dbus::marshal({Value::variant(Value::uint32(5))}) == "\x01u\0\0\x05\0\0\0"s);
  // The padding after an array's length is not counted in it, even for an empty array.
  REQUIRE(dbus::marshal({Value::array("t", {})}) == std::string(8, '\0'));
  REQUIRE(dbus::marshal({Value::array("t", {Value::uint64(1)})}) == "\x08\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0"s);
  // Structs start 8-aligned; a struct in an array pads each element.
  REQUIRE(dbus::marshal({Value::array("(y)", {Value::structure({Value::byte(7)}), Value::structure({Value::byte(8)})})}) ==
          "\x09\0\0\0\0\0\0\0\x07\0\0\0\0\0\0\0\x08"s);
}

TEST_CASE("d-bus values round-trip, nested arrays and variants included", "[cgroups][dbus]") {
  const std::vector<Value> values = {
      Value::byte(0xfe),
      Value::boolean(true),
      Value::int16(-2),
      Value::uint16(65535),
      Value::int32(-3),
      Value::uint32(0xdeadbeef),
      Value::int64(-4),
      Value::uint64(kInfinity),
      Value::float64(1.5),
      Value::unix_fd(0),
      Value::string("h\xc3\xa9llo"),
      Value::object_path("/org/freedesktop/systemd1/job/7"),
      Value::signature("a{sv}"),
      Value::array("{sv}", {Value::dict_entry(Value::string("k"),
                                              Value::variant(Value::array(
                                                  "(ib)", {Value::structure({Value::int32(1), Value::boolean(false)})}))),
                            Value::dict_entry(Value::string("e"), Value::variant(Value::array("as", {})))}),
      Value::structure({Value::byte(1), Value::array("ay", {Value::array("y", {Value::byte(2)})}), Value::uint64(3)}),
      Value::variant(Value::variant(Value::string("deep"))),
      Value::array("(sa(sv))", {}),
  };
  std::string sig;
  for (const Value& v : values) sig += v.type();
  REQUIRE(sig == "ybnqiuxtdhsoga{sv}(yaayt)va(sa(sv))");
  REQUIRE(dbus::unmarshal(sig, dbus::marshal(values)) == values);
  REQUIRE(dbus::unmarshal(sig, dbus::marshal(values)).at(13).items()[0].items()[1].inner().items()[0].items()[0] ==
          Value::int32(1));
}

TEST_CASE("d-bus big-endian values decode", "[cgroups][dbus]") {
  using namespace std::string_literals;
  REQUIRE(dbus::unmarshal("uqs", "\0\0\0\x05\0\x07\0\0\0\0\0\x01z\0"s, true) ==
          std::vector<Value>{Value::uint32(5), Value::uint16(7), Value::string("z")});
}

TEST_CASE("d-bus rejects malformed data and types", "[cgroups][dbus]") {
  using namespace std::string_literals;
  for (const char* bad : {"a", "(", "()", "(i", "{sv}", "a{vs}", "a{sss}", "a{s}", "z", "a{sv"}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(dbus::split_signature(bad), Contains("d-bus signature"));
  }
  REQUIRE_THROWS_WITH(dbus::split_signature(std::string(33, 'a') + "y"), Contains("nested too deeply"));
  REQUIRE(dbus::split_signature(std::string(32, 'a') + "y").size() == 1);
  REQUIRE(dbus::split_signature("a{sv}as(ii)") == std::vector<std::string>{"a{sv}", "as", "(ii)"});

  REQUIRE_THROWS_WITH(dbus::unmarshal("b", "\x02\0\0\0"s), Contains("boolean"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("s", "\x05\0\0\0ab\0"s), Contains("truncated"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("s", "\x02\0\0\0abc"s), Contains("nul"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("yu", "\x01\x01\0\0\x02\0\0\0"s), Contains("padding"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("y", "\x01\x02"s), Contains("left after"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("au", "\0\0\0\x10"s), Contains("over the limit"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("au", "\x03\0\0\0\x01\0\0\0"s), Contains("past the array"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("v", "\x02uu\0\x01\0\0\0\x01\0\0\0"s), Contains("one complete type"));
  REQUIRE_THROWS_WITH(dbus::unmarshal("o", "\x03\0\0\0a/b\0"s), Contains("object path"));

  REQUIRE_THROWS(Value::object_path("foo"));
  REQUIRE_THROWS(Value::object_path("/a//b"));
  REQUIRE_THROWS(Value::object_path("/a/"));
  REQUIRE_THROWS(Value::object_path("/a-b"));
  REQUIRE_NOTHROW(Value::object_path("/"));
  REQUIRE_THROWS_WITH(Value::array("u", {Value::string("x")}), Contains("in an array of `u`"));
  REQUIRE_THROWS(Value::dict_entry(Value::variant(Value::byte(1)), Value::byte(1)));
  REQUIRE_THROWS(Value::structure({}));
  REQUIRE_THROWS_WITH(Value::uint32(1).as_string(), Contains("expected a value of type"));
}

TEST_CASE("d-bus messages round-trip through encode and decode", "[cgroups][dbus]") {
  Message call = dbus::method_call("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "StopUnit",
                                   {Value::string("x.scope"), Value::string("replace")});
  call.serial = 7;
  call.flags = dbus::kNoAutoStart;
  const std::string wire = dbus::encode(call);
  REQUIRE(wire[0] == 'l');
  REQUIRE(wire[1] == 1);
  REQUIRE(wire[3] == 1);
  REQUIRE(dbus::message_size(wire) == wire.size());
  REQUIRE(dbus::message_size(std::string_view(wire).substr(0, 15)) == 0);
  REQUIRE((wire.size() - dbus::marshal(call.body).size()) % 8 == 0);  // the body starts 8-aligned

  const Message back = dbus::decode(wire);
  REQUIRE(back.type == MessageType::MethodCall);
  REQUIRE(back.serial == 7);
  REQUIRE(back.flags == dbus::kNoAutoStart);
  REQUIRE(back.destination == call.destination);
  REQUIRE(back.path == call.path);
  REQUIRE(back.interface == call.interface);
  REQUIRE(back.member == "StopUnit");
  REQUIRE(back.signature() == "ss");
  REQUIRE(back.body == call.body);

  Message err;
  err.type = MessageType::Error;
  err.serial = 9;
  err.reply_serial = 7;
  err.error_name = "org.freedesktop.systemd1.NoSuchUnit";
  err.body = {Value::string("Unit x.scope not loaded.")};
  const Message err_back = dbus::decode(dbus::encode(err));
  REQUIRE(err_back.reply_serial == 7);
  REQUIRE(err_back.error_text() == "org.freedesktop.systemd1.NoSuchUnit: Unit x.scope not loaded.");

  Message empty;
  empty.type = MessageType::MethodReturn;
  empty.serial = 1;
  empty.reply_serial = 1;
  REQUIRE(dbus::decode(dbus::encode(empty)).body.empty());

  Message no_member = dbus::method_call("d", "/p", "i", "");
  no_member.serial = 1;
  REQUIRE_THROWS_WITH(dbus::encode(no_member), Contains("MEMBER"));
  REQUIRE_THROWS_WITH(dbus::decode(wire.substr(0, wire.size() - 1)), Contains("not one whole message"));
  std::string bad_version = wire;
  bad_version[3] = 2;
  REQUIRE_THROWS_WITH(dbus::decode(bad_version), Contains("protocol version 2"));
}

// ---- against a fake systemd ----

TEST_CASE("start_scope against a fake systemd", "[cgroups][systemd]") {
  oci::LinuxResources r;
  r.pids = oci::LinuxPids{.limit = 100};
  Message seen;
  const std::string server_error = with_fake(
      dbus::Peer::Direct,
      [&](FakeSystemd& fake) {
        seen = fake.expect("StartTransientUnit");
        fake.reply(seen, {Value::object_path(FakeSystemd::job(7))});
        // Noise a real private socket carries: other signals, and other jobs ending.
        fake.signal("UnitNew", {Value::string("other.service"), Value::object_path("/org/freedesktop/systemd1/unit/o")});
        fake.job_removed(6, "other.service", "failed");
        fake.job_removed(7, "berth-abc.scope", "done");
      },
      [&](dbus::Connection& c) { systemd::start_scope(c, kUnit, 4242, &r, std::chrono::seconds(5)); });
  REQUIRE(server_error.empty());
  REQUIRE(seen.destination == "org.freedesktop.systemd1");
  REQUIRE(seen.path == "/org/freedesktop/systemd1");
  REQUIRE(seen.interface == "org.freedesktop.systemd1.Manager");
  REQUIRE(seen.signature() == "ssa(sv)a(sa(sv))");
  REQUIRE(seen.body[0] == Value::string("berth-abc.scope"));
  REQUIRE(seen.body[1] == Value::string("replace"));
  REQUIRE(seen.body[3].items().empty());
  const auto props = by_name(seen.body[2].items());
  REQUIRE(props.at("Slice") == Value::string("system.slice"));
  REQUIRE(props.at("PIDs") == Value::array("u", {Value::uint32(4242)}));
  REQUIRE(props.at("Delegate") == Value::boolean(true));
  REQUIRE(props.at("TasksMax") == Value::uint64(100));
}

TEST_CASE("start_scope: JobRemoved may come before the reply", "[cgroups][systemd]") {
  const std::string server_error = with_fake(
      dbus::Peer::Direct,
      [](FakeSystemd& fake) {
        const Message call = fake.expect("StartTransientUnit");
        fake.job_removed(3, "berth-abc.scope", "done");
        fake.reply(call, {Value::object_path(FakeSystemd::job(3))});
      },
      [](dbus::Connection& c) { systemd::start_scope(c, kUnit, 1, nullptr, std::chrono::seconds(5)); });
  REQUIRE(server_error.empty());
}

TEST_CASE("start_scope: a failed job is an Error naming the unit and the result", "[cgroups][systemd]") {
  bool reset = false;
  std::string server_error;
  REQUIRE_THROWS_WITH(
      server_error = with_fake(
          dbus::Peer::Direct,
          [&](FakeSystemd& fake) {
            const Message call = fake.expect("StartTransientUnit");
            fake.reply(call, {Value::object_path(FakeSystemd::job(9))});
            fake.job_removed(9, "berth-abc.scope", "failed");
            const Message rf = fake.expect("ResetFailedUnit");
            reset = rf.body == std::vector<Value>{Value::string("berth-abc.scope")};
            fake.reply(rf);
          },
          [](dbus::Connection& c) { systemd::start_scope(c, kUnit, 1, nullptr, std::chrono::seconds(5)); }),
      Contains("start systemd unit `berth-abc.scope`") && Contains("result `failed`"));
  REQUIRE(reset);
}

TEST_CASE("start_scope: a leftover unit is reset and the start retried once", "[cgroups][systemd]") {
  int starts = 0;
  const std::string server_error = with_fake(
      dbus::Peer::Direct,
      [&](FakeSystemd& fake) {
        const Message first = fake.expect("StartTransientUnit");
        ++starts;
        fake.error(first, "org.freedesktop.systemd1.UnitExists", "Unit berth-abc.scope already exists.");
        fake.reply(fake.expect("ResetFailedUnit"));
        const Message second = fake.expect("StartTransientUnit");
        ++starts;
        fake.reply(second, {Value::object_path(FakeSystemd::job(2))});
        fake.job_removed(2, "berth-abc.scope", "done");
      },
      [](dbus::Connection& c) { systemd::start_scope(c, kUnit, 1, nullptr, std::chrono::seconds(5)); });
  REQUIRE(server_error.empty());
  REQUIRE(starts == 2);
}

TEST_CASE("start_scope: other D-Bus errors are Errors with the error name", "[cgroups][systemd]") {
  REQUIRE_THROWS_WITH(
      with_fake(
          dbus::Peer::Direct,
          [](FakeSystemd& fake) {
            const Message call = fake.expect("StartTransientUnit");
            fake.error(call, "org.freedesktop.DBus.Error.AccessDenied", "Access denied");
          },
          [](dbus::Connection& c) { systemd::start_scope(c, kUnit, 1, nullptr, std::chrono::seconds(5)); }),
      Contains("berth-abc.scope") && Contains("org.freedesktop.DBus.Error.AccessDenied: Access denied"));
}

TEST_CASE("start_scope: no JobRemoved in time is a timeout", "[cgroups][systemd]") {
  bool reset = false;
  try {
    with_fake(
        dbus::Peer::Direct,
        [&](FakeSystemd& fake) {
          const Message call = fake.expect("StartTransientUnit");
          fake.reply(call, {Value::object_path(FakeSystemd::job(5))});
          fake.reply(fake.expect("ResetFailedUnit"));  // sent once the client gives up
          reset = true;
        },
        [](dbus::Connection& c) { systemd::start_scope(c, kUnit, 1, nullptr, std::chrono::milliseconds(200)); });
    FAIL("start_scope returned");
  } catch (const Error& e) {
    REQUIRE(e.errnum() == ETIMEDOUT);
    REQUIRE_THAT(e.what(), Catch::Matchers::StartsWith("start systemd unit `berth-abc.scope`: "));
    REQUIRE_THAT(e.what(), Contains("waiting for job `/org/freedesktop/systemd1/job/5`"));
  }
  REQUIRE(reset);
}

TEST_CASE("stop_scope waits for the job and resets the unit; a missing unit is fine", "[cgroups][systemd]") {
  std::string server_error = with_fake(
      dbus::Peer::Direct,
      [](FakeSystemd& fake) {
        const Message call = fake.expect("StopUnit");
        if (call.body != std::vector<Value>{Value::string("berth-abc.scope"), Value::string("replace")})
          throw Error("fake: bad StopUnit arguments");
        fake.reply(call, {Value::object_path(FakeSystemd::job(4))});
        fake.job_removed(4, "berth-abc.scope", "done");
        fake.reply(fake.expect("ResetFailedUnit"));
      },
      [](dbus::Connection& c) { systemd::stop_scope(c, kUnit, std::chrono::seconds(5)); });
  REQUIRE(server_error.empty());

  server_error = with_fake(
      dbus::Peer::Direct,
      [](FakeSystemd& fake) {
        const Message call = fake.expect("StopUnit");
        fake.error(call, "org.freedesktop.systemd1.NoSuchUnit", "Unit berth-abc.scope not loaded.");
      },
      [](dbus::Connection& c) { systemd::stop_scope(c, kUnit, std::chrono::seconds(5)); });
  REQUIRE(server_error.empty());
}

TEST_CASE("a bus connection says Hello first", "[cgroups][dbus]") {
  std::string name;
  const std::string server_error = with_fake(
      dbus::Peer::Bus,
      [](FakeSystemd& fake) {
        const Message hello = fake.expect("Hello");
        if (hello.destination != "org.freedesktop.DBus" || hello.path != "/org/freedesktop/DBus")
          throw Error("fake: Hello to the wrong object");
        fake.reply(hello, {Value::string(":1.42")});
      },
      [&](dbus::Connection& c) { name = c.unique_name(); });
  REQUIRE(server_error.empty());
  REQUIRE(name == ":1.42");
}

// The one check against another implementation of the protocol: libdbus's daemon parses what we
// send (it validates every message it routes), routes our calls to a service playing systemd,
// and forwards its JobRemoved to us only through the match rule.
TEST_CASE("start_scope through a real dbus-daemon, when there is one", "[cgroups][dbus]") {
  if (::access("/usr/bin/dbus-daemon", X_OK) != 0) {
    WARN("no /usr/bin/dbus-daemon: the interoperability check is skipped");
    return;
  }
  char dir[] = "/tmp/berth-dbus-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string sock = std::string(dir) + "/bus.sock";
  const std::string address = "--address=unix:path=" + sock;
  const char* argv[] = {"dbus-daemon", "--session", address.c_str(), "--nofork", "--nopidfile", nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);  // its rlimit complaints
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, "/usr/bin/dbus-daemon", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  struct Reap {
    pid_t pid;
    std::string dir, sock;
    ~Reap() {
      ::kill(pid, SIGTERM);
      sys::waitpid(pid);
      ::unlink(sock.c_str());
      ::rmdir(dir.c_str());
    }
  } reap{pid, dir, sock};

  std::optional<dbus::Connection> service;
  for (int i = 0; i < 250 && !service; ++i) {
    try {
      service.emplace(dbus::Connection::open(sock, dbus::Peer::Bus, std::chrono::seconds(5)));
    } catch (const Error&) {
      ::usleep(20000);  // the daemon has not bound its socket yet
    }
  }
  REQUIRE(service);
  const auto deadline = [] { return dbus::Clock::now() + std::chrono::seconds(5); };
  const Message owned = service->call(
      dbus::method_call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
                        {Value::string("org.freedesktop.systemd1"), Value::uint32(0)}),
      deadline());
  REQUIRE(owned.body.at(0) == Value::uint32(1));  // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER

  std::string server_error;
  Message seen;
  std::thread t([&] {
    try {
      for (;;) {
        const Message m = service->receive(deadline());
        if (m.type != MessageType::MethodCall || m.member != "StartTransientUnit") continue;
        seen = m;
        Message reply;
        reply.type = MessageType::MethodReturn;
        reply.reply_serial = m.serial;
        reply.destination = m.sender;
        reply.body = {Value::object_path(FakeSystemd::job(77))};
        service->send(reply);
        Message removed;
        removed.type = MessageType::Signal;
        removed.path = "/org/freedesktop/systemd1";
        removed.interface = "org.freedesktop.systemd1.Manager";
        removed.member = "JobRemoved";
        removed.body = {Value::uint32(77), Value::object_path(FakeSystemd::job(77)), m.body.at(0), Value::string("done")};
        service->send(removed);
        return;
      }
    } catch (const std::exception& e) {
      server_error = e.what();
    }
  });
  std::exception_ptr client_error;
  std::string client_name;
  try {
    dbus::Connection c = dbus::Connection::open(sock, dbus::Peer::Bus, std::chrono::seconds(5));
    client_name = c.unique_name();
    c.call(dbus::method_call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
                             {Value::string("type='signal',interface='org.freedesktop.systemd1.Manager',"
                                            "member='JobRemoved'")}),
           deadline());
    systemd::start_scope(c, kUnit, 4242, nullptr, std::chrono::seconds(5));
  } catch (...) {
    client_error = std::current_exception();
  }
  t.join();
  if (client_error) std::rethrow_exception(client_error);
  REQUIRE(server_error.empty());
  REQUIRE(client_name.starts_with(":1."));
  REQUIRE(seen.sender == client_name);  // the daemon stamps the sender
  REQUIRE(seen.signature() == "ssa(sv)a(sa(sv))");
  REQUIRE(by_name(seen.body.at(2).items()).at("PIDs") == Value::array("u", {Value::uint32(4242)}));
}

TEST_CASE("d-bus authentication rejected", "[cgroups][dbus]") {
  auto [ours, theirs] = sys::socketpair(AF_UNIX, SOCK_STREAM);
  const std::string reply = "REJECTED DBUS_COOKIE_SHA1\r\n";
  REQUIRE(::send(theirs.get(), reply.data(), reply.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(reply.size()));
  REQUIRE_THROWS_WITH(dbus::Connection(std::move(ours), dbus::Peer::Direct, std::chrono::seconds(5)),
                      Contains("EXTERNAL rejected") && Contains("DBUS_COOKIE_SHA1"));
}

TEST_CASE("start_scope on a host without systemd gives a clear error", "[cgroups][systemd]") {
  if (systemd::booted()) {
    WARN("systemd runs this host: the not-booted message is not checked");
    return;
  }
  REQUIRE_THROWS_WITH(systemd::start_scope(kUnit, ::getpid(), nullptr),
                      Contains("--systemd-cgroup: systemd is not running as PID 1") &&
                          Contains("/run/systemd/system is missing"));
  REQUIRE_THROWS_WITH(systemd::stop_scope(kUnit), Contains("systemd is not running"));
}
