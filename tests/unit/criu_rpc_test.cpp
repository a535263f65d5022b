// runtime/criu: the protobuf wire format against protoc's own bytes, the swrk call loop against
// a fake criu (a forked child speaking the protocol), the fd layout criu is spawned with, and
// VERSION/CHECK against the real criu when it is installed.
#include "runtime/criu/rpc.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "oci_test_support.hpp"
#include "runtime/criu/wire.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/sys/syscalls.hpp"
#include "temp_dir.hpp"

using namespace berth;
using namespace berth::criu;
using Catch::Matchers::Contains;

namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// The expected bytes below were made with protoc 3.21.12 (Debian protobuf-compiler) from
// CRIU 3.17.1's /usr/include/criu/rpc.proto:
//   protoc --encode=criu_req rpc.proto < text | xxd -p       (criu_resp for the responses)
// with the protobuf text format quoted above each constant.

/* type: DUMP
   opts { images_dir_fd: 7 leave_running: true shell_job: false log_level: 4
          log_file: "dump.log" notify_scripts: true root: "/run/berth/c1/rootfs"
          work_dir_fd: 8 ext_mnt { key: "/etc/hosts" val: "/etc/hosts" } manage_cgroups: true
          cg_root { path: "/sys/fs/cgroup/c1" } skip_mnt: "/proc/kcore" skip_mnt: "/dev/null"
          manage_cgroups_mode: SOFT external: "mnt[/etc/resolv.conf]:/etc/resolv.conf"
          orphan_pts_master: true } */
constexpr std::string_view kDumpHex =
    "080112aa010807180138004804520864756d702e6c6f6760016a142f72756e2f62657274682f63312f726f6f7466"
    "73880108ba01180a0a2f6574632f686f737473120a2f6574632f686f737473c00101ca011312112f7379732f6673"
    "2f6367726f75702f6331fa010b2f70726f632f6b636f7265fa01092f6465762f6e756c6c900203aa02266d6e745b"
    "2f6574632f7265736f6c762e636f6e665d3a2f6574632f7265736f6c762e636f6e66900301";

/* type: RESTORE
   opts { images_dir_fd: -1 rst_sibling: true inherit_fd { key: "pipe:[1234]" fd: 4 }
          inherit_fd { key: "extRootNetNS" fd: 5 } empty_ns: 1073741824
          join_ns { ns: "net" ns_file: "/proc/1/ns/net" extra_opt: "x" } status_fd: -2
          lsm_mount_context: "system_u:object_r:container_file_t:s0" } */
constexpr std::string_view kRestoreHex =
    "080212890108ffffffffffffffffff01d00101da010f0a0b706970653a5b313233345d1004da01100a0c65787452"
    "6f6f744e65744e531005b0028080808004ba02180a036e6574120e2f70726f632f312f6e732f6e65741a01788803"
    "feffffffffffffffff01fa032573797374656d5f753a6f626a6563745f723a636f6e7461696e65725f66696c655f"
    "743a7330";

// type: NOTIFY notify_success: true
constexpr std::string_view kNotifyAnswerHex = "08061801";
// type: FEATURE_CHECK features { mem_track: true lazy_pages: false }
constexpr std::string_view kFeatureCheckHex = "08092a0408011000";
// type: NOTIFY success: true notify { script: "orphan-pts-master" pid: 42 }
constexpr std::string_view kRespNotifyHex = "080610012a150a116f727068616e2d7074732d6d6173746572102a";
// type: VERSION success: true version { major_number: 3 minor_number: 17 gitid: "v3.17.1" sublevel: 1 }
constexpr std::string_view kRespVersionHex = "080a1001520f080310111a0776332e31372e312001";
// type: RESTORE success: false restore { pid: 1234 } cr_errno: -5 cr_errmsg: "boom" status: 3
constexpr std::string_view kRespRestoreHex = "08021000220308d20938fbffffffffffffffff014a04626f6f6d5803";

Req make_req(ReqType t) {
  return Req{.type = t, .opts = std::nullopt, .notify_success = std::nullopt, .keep_open = std::nullopt,
             .features = std::nullopt, .pid = std::nullopt};
}

Req dump_req() {
  Opts o;
  o.images_dir_fd = 7;
  o.leave_running = true;
  o.shell_job = false;
  o.log_level = 4;
  o.log_file = "dump.log";
  o.notify_scripts = true;
  o.root = "/run/berth/c1/rootfs";
  o.work_dir_fd = 8;
  o.ext_mnt.push_back({.key = "/etc/hosts", .val = "/etc/hosts"});
  o.manage_cgroups = true;
  o.cg_root.push_back({.ctrl = std::nullopt, .path = "/sys/fs/cgroup/c1"});
  o.skip_mnt = {"/proc/kcore", "/dev/null"};
  o.manage_cgroups_mode = CgMode::Soft;
  o.external = {"mnt[/etc/resolv.conf]:/etc/resolv.conf"};
  o.orphan_pts_master = true;
  Req r = make_req(ReqType::Dump);
  r.opts = o;
  return r;
}

Req restore_req() {
  Opts o;
  o.images_dir_fd = -1;
  o.rst_sibling = true;
  o.inherit_fd.push_back({.key = "pipe:[1234]", .fd = 4});
  o.inherit_fd.push_back({.key = "extRootNetNS", .fd = 5});
  o.empty_ns = 0x40000000;  // CLONE_NEWNET
  o.join_ns.push_back({.ns = "net", .ns_file = "/proc/1/ns/net", .extra_opt = "x"});
  o.status_fd = -2;
  o.lsm_mount_context = "system_u:object_r:container_file_t:s0";
  Req r = make_req(ReqType::Restore);
  r.opts = o;
  return r;
}

// Sets (or with nullptr unsets) an environment variable for one test.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// --- a fake criu: a forked child that speaks the protocol on its end of the socket pair ---

// What the fake's steps return when something is not as criu would expect: its exit status,
// which the test reads back through Swrk::finish().
constexpr int kFakeOk = 0;

Req fake_recv(int sock) {
  char buf[4096];
  sys::Fd fd;
  const ssize_t n = sys::recv_with_fd(sock, buf, sizeof buf, &fd);
  if (n <= 0) ::_exit(90);
  return decode_req(std::string_view(buf, static_cast<size_t>(n)));
}

void fake_send(int sock, const Resp& r, int fd = -1) {
  const std::string bytes = encode(r);
  if (fd >= 0) {
    sys::send_fd(sock, bytes, fd, "fake criu");
  } else if (::send(sock, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) {
    ::_exit(91);
  }
}

Resp notify_resp(const std::string& script) {
  Resp r;
  r.type = ReqType::Notify;
  r.success = true;
  r.notify = Notify{.script = script, .pid = 42};
  return r;
}

// Runs body(sock) in a forked child as the criu of the returned Swrk; the child's exit status
// is what body returned (an exception is 99). Nothing of Catch2 runs in the child.
Swrk fake_criu(const std::function<int(int)>& body) {
  auto [ours, theirs] = sys::socketpair(AF_UNIX, SOCK_SEQPACKET);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("fork", errno);
  if (pid == 0) {
    ours.reset();
    int rc = 99;
    try {
      rc = body(theirs.get());
    } catch (...) {
    }
    ::_exit(rc);
  }
  return Swrk::adopt(pid, std::move(ours), "fake-criu");
}

int exit_code(int wstatus) { return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus); }

// Places a copy of fd at number `want` when that number is free; returns the owner of the
// copy, or an invalid Fd when `want` is taken (by the test runner or the sanitizers).
sys::Fd place_at(int fd, int want) {
  if (::fcntl(want, F_GETFD) >= 0 || errno != EBADF) return sys::Fd();
  if (::dup3(fd, want, O_CLOEXEC) < 0) return sys::Fd();
  return sys::Fd(want);
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Encoding and decoding

TEST_CASE("criu requests encode byte for byte as protoc encodes them", "[criu]") {
  CHECK(to_hex(encode(dump_req())) == kDumpHex);
  CHECK(to_hex(encode(restore_req())) == kRestoreHex);
  Req answer = make_req(ReqType::Notify);
  answer.notify_success = true;
  CHECK(to_hex(encode(answer)) == kNotifyAnswerHex);
  Req fc = make_req(ReqType::FeatureCheck);
  fc.features = Features{.mem_track = true, .lazy_pages = false, .pidfd_store = std::nullopt};
  CHECK(to_hex(encode(fc)) == kFeatureCheckHex);
  // Required fields are sent even when they hold the default value.
  CHECK(to_hex(encode(make_req(ReqType::Empty))) == "0800");
}

TEST_CASE("criu responses encode byte for byte as protoc encodes them", "[criu]") {
  CHECK(to_hex(encode(notify_resp("orphan-pts-master"))) == kRespNotifyHex);

  Resp v;
  v.type = ReqType::Version;
  v.success = true;
  v.version = Version{.major_number = 3, .minor_number = 17, .gitid = "v3.17.1", .sublevel = 1, .extra = std::nullopt, .name = std::nullopt};
  CHECK(to_hex(encode(v)) == kRespVersionHex);

  Resp r;
  r.type = ReqType::Restore;
  r.success = false;
  r.restore_pid = 1234;
  r.cr_errno = -5;
  r.cr_errmsg = "boom";
  r.status = 3;
  CHECK(to_hex(encode(r)) == kRespRestoreHex);
}

TEST_CASE("criu requests decode back to what was encoded", "[criu]") {
  const Req d = decode_req(from_hex(kDumpHex));
  CHECK(d.type == ReqType::Dump);
  REQUIRE(d.opts);
  CHECK(d.opts->images_dir_fd == 7);
  CHECK(d.opts->leave_running == true);
  CHECK(d.opts->shell_job == false);
  CHECK(d.opts->log_level == 4);
  CHECK(d.opts->log_file == "dump.log");
  CHECK(d.opts->root == "/run/berth/c1/rootfs");
  CHECK(d.opts->work_dir_fd == 8);
  REQUIRE(d.opts->ext_mnt.size() == 1);
  CHECK(d.opts->ext_mnt[0].key == "/etc/hosts");
  CHECK(d.opts->ext_mnt[0].val == "/etc/hosts");
  REQUIRE(d.opts->cg_root.size() == 1);
  CHECK_FALSE(d.opts->cg_root[0].ctrl);
  CHECK(d.opts->cg_root[0].path == "/sys/fs/cgroup/c1");
  CHECK(d.opts->skip_mnt == std::vector<std::string>{"/proc/kcore", "/dev/null"});
  CHECK(d.opts->manage_cgroups_mode == CgMode::Soft);
  CHECK(d.opts->external == std::vector<std::string>{"mnt[/etc/resolv.conf]:/etc/resolv.conf"});
  CHECK(d.opts->orphan_pts_master == true);
  CHECK_FALSE(d.opts->pid);
  CHECK_FALSE(d.opts->tcp_established);
  CHECK(encode(d) == from_hex(kDumpHex));

  const Req r = decode_req(from_hex(kRestoreHex));
  REQUIRE(r.opts);
  CHECK(r.opts->images_dir_fd == -1);  // from a 10-byte varint
  CHECK(r.opts->status_fd == -2);
  CHECK(r.opts->empty_ns == 0x40000000u);
  REQUIRE(r.opts->inherit_fd.size() == 2);
  CHECK(r.opts->inherit_fd[1].key == "extRootNetNS");
  CHECK(r.opts->inherit_fd[1].fd == 5);
  REQUIRE(r.opts->join_ns.size() == 1);
  CHECK(r.opts->join_ns[0].ns_file == "/proc/1/ns/net");
  CHECK(r.opts->join_ns[0].extra_opt == "x");
  CHECK(r.opts->lsm_mount_context == "system_u:object_r:container_file_t:s0");
  CHECK(encode(r) == from_hex(kRestoreHex));

  Req p = make_req(ReqType::WaitPid);
  p.pid = 4000000000u;
  p.keep_open = true;
  const Req back = decode_req(encode(p));
  CHECK(back.pid == 4000000000u);
  CHECK(back.keep_open == true);
}

TEST_CASE("criu responses decode, protoc's bytes included", "[criu]") {
  const Resp n = decode_resp(from_hex(kRespNotifyHex));
  CHECK(n.type == ReqType::Notify);
  CHECK(n.success);
  REQUIRE(n.notify);
  CHECK(n.notify->script == "orphan-pts-master");
  CHECK(n.notify->pid == 42);

  const Resp v = decode_resp(from_hex(kRespVersionHex));
  REQUIRE(v.version);
  CHECK(v.version->number() == 31701);
  CHECK(v.version->gitid == "v3.17.1");

  const Resp r = decode_resp(from_hex(kRespRestoreHex));
  CHECK(r.type == ReqType::Restore);
  CHECK_FALSE(r.success);
  CHECK(r.restore_pid == 1234);
  CHECK(r.cr_errno == -5);
  CHECK(r.cr_errmsg == "boom");
  CHECK(r.status == 3);
  CHECK_FALSE(r.dump_restored);

  Resp d;
  d.type = ReqType::Dump;
  d.success = true;
  d.dump_restored = true;
  d.ps = PageServerInfo{.address = "10.0.0.1", .port = 27, .pid = std::nullopt, .fd = 9};
  d.features = Features{.mem_track = std::nullopt, .lazy_pages = true, .pidfd_store = false};
  const Resp back = decode_resp(encode(d));
  CHECK(back.dump_restored == true);
  REQUIRE(back.ps);
  CHECK(back.ps->address == "10.0.0.1");
  CHECK(back.ps->port == 27);
  CHECK(back.ps->fd == 9);
  REQUIRE(back.features);
  CHECK(back.features->lazy_pages == true);
  CHECK(back.features->pidfd_store == false);
  CHECK_FALSE(back.features->mem_track);
}

TEST_CASE("criu messages with unknown fields of every wire type decode, the fields skipped", "[criu]") {
  // A newer criu may add fields; protobuf skips what it does not know, so do we.
  wire::Writer version;
  version.int32(1, 4);
  version.int32(2, 0);
  version.string(77, "future");
  wire::Writer w;
  w.int32(1, static_cast<std::int32_t>(ReqType::Version));
  std::string bytes = w.take();
  bytes += from_hex("f806" "96" "01");                  // field 111, varint 150
  bytes += from_hex("f906" "0102030405060708");          // field 111, 64-bit
  bytes += from_hex("fd06" "01020304");                  // field 111, 32-bit
  bytes += from_hex("fa06" "03" "616263");               // field 111, 3 bytes
  bytes += from_hex("fb06" "0801" "1b" "1c" "fc06");     // group 111 {1: 1, group 3 {}}
  wire::Writer rest;
  rest.boolean(2, true);
  rest.message(10, version.bytes());
  bytes += rest.bytes();
  const Resp r = decode_resp(bytes);
  CHECK(r.type == ReqType::Version);
  CHECK(r.success);
  REQUIRE(r.version);
  CHECK(r.version->major_number == 4);
  CHECK(r.version->number() == 40000);
}

TEST_CASE("malformed criu messages are errors naming the message and the byte", "[criu]") {
  const std::string v = from_hex(kRespVersionHex);
  SECTION("truncated inside an embedded message") {
    // The version message's length says 15 bytes; only 10 follow.
    REQUIRE_THROWS_WITH(decode_resp(v.substr(0, v.size() - 5)),
                        Contains("criu_resp: truncated field 10") && Contains("at byte 4"));
  }
  SECTION("truncated inside a varint") {
    REQUIRE_THROWS_WITH(decode_resp(from_hex("0880")), "criu_resp: truncated varint at byte 1");
  }
  SECTION("truncated inside a string of an embedded message") {
    wire::Writer inner;
    inner.int32(1, 3);
    inner.int32(2, 17);
    std::string body = inner.take() + from_hex("1a05" "7633");  // gitid says 5 bytes, 2 follow
    wire::Writer w;
    w.int32(1, 10);
    w.boolean(2, true);
    w.message(10, body);
    REQUIRE_THROWS_WITH(decode_resp(w.bytes()), Contains("criu_resp.version: truncated field 3") && Contains("at byte 10"));
  }
  SECTION("a bad wire type") {
    REQUIRE_THROWS_WITH(decode_resp(from_hex("080a" "1e")), "criu_resp: invalid wire type 6 at byte 2");
    REQUIRE_THROWS_WITH(decode_req(from_hex("0f")), "criu_req: invalid wire type 7 at byte 0");
  }
  SECTION("a varint longer than 10 bytes") {
    REQUIRE_THROWS_WITH(decode_req(from_hex("08ffffffffffffffffffff01")),
                        "criu_req: varint longer than 10 bytes at byte 1");
  }
  SECTION("a known field with the wrong wire type") {
    REQUIRE_THROWS_WITH(decode_resp(from_hex("080a" "1201" "00")),
                        "criu_resp: field 2 is length-delimited, expected varint at byte 2");
  }
  SECTION("a stray end of group") {
    REQUIRE_THROWS_WITH(decode_resp(from_hex("0c")), Contains("outside any group at byte 0"));
  }
  SECTION("field number 0") {
    REQUIRE_THROWS_WITH(decode_resp(from_hex("00")), "criu_resp: invalid field number 0 at byte 0");
  }
  SECTION("missing required fields") {
    REQUIRE_THROWS_WITH(decode_resp(from_hex("080a")), "criu_resp: required field `success` is missing");
    REQUIRE_THROWS_WITH(decode_req(from_hex("")), "criu_req: required field `type` is missing");
    REQUIRE_THROWS_WITH(decode_resp(from_hex("080a1001" "5202" "0803")),
                        "criu_resp.version: required field `minor_number` is missing");
    // opts { inherit_fd { fd: 4 } }: the key is missing.
    REQUIRE_THROWS_WITH(decode_req(from_hex("0802" "1205" "da01" "02" "1004")),
                        "criu_req.opts.inherit_fd: required field `key` is missing");
  }
}

TEST_CASE("criu request type names are rpc.proto's", "[criu]") {
  CHECK(name(ReqType::Dump) == "DUMP");
  CHECK(name(ReqType::PreDump) == "PRE_DUMP");
  CHECK(name(ReqType::FeatureCheck) == "FEATURE_CHECK");
  CHECK(name(ReqType::SinglePreDump) == "SINGLE_PRE_DUMP");
  CHECK(name(static_cast<ReqType>(99)) == "unknown request type");
}

// ------------------------------------------------------------------------------------------
// recv_with_fd (runtime/sys), which Swrk::call and the init sync socket use

TEST_CASE("recv_with_fd keeps the first fd of a packet\\, closes the others and reports truncation", "[criu][sys]") {
  auto [a, b] = sys::socketpair(AF_UNIX, SOCK_SEQPACKET);
  auto [pr, pw] = sys::pipe();

  SECTION("one fd") {
    sys::send_fd(a.get(), "hello", pw.get(), "test");
    char buf[16];
    sys::Fd got;
    REQUIRE(sys::recv_with_fd(b.get(), buf, sizeof buf, &got) == 5);
    CHECK(std::string_view(buf, 5) == "hello");
    REQUIRE(got.valid());
    CHECK((::fcntl(got.get(), F_GETFD) & FD_CLOEXEC) != 0);
    struct stat s1 {}, s2 {};
    ::fstat(got.get(), &s1);
    ::fstat(pw.get(), &s2);
    CHECK(s1.st_ino == s2.st_ino);
  }
  SECTION("three fds: the extra two are closed") {
    int fds[3] = {pw.get(), pr.get(), pw.get()};
    char byte = 'x';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    std::memcpy(CMSG_DATA(c), fds, sizeof fds);
    REQUIRE(::sendmsg(a.get(), &mh, 0) == 1);
    auto open_fds = [] {
      return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator());
    };
    const auto before = open_fds();
    char buf[4];
    sys::Fd got;
    REQUIRE(sys::recv_with_fd(b.get(), buf, sizeof buf, &got) == 1);
    REQUIRE(got.valid());
    CHECK(open_fds() == before + 1);
  }
  SECTION("a packet larger than the buffer is EMSGSIZE") {
    sys::send_fd(a.get(), std::string(100, 'y'), pw.get(), "test");
    char buf[10];
    sys::Fd got;
    errno = 0;
    CHECK(sys::recv_with_fd(b.get(), buf, sizeof buf, &got) == -1);
    CHECK(errno == EMSGSIZE);
    CHECK_FALSE(got.valid());
  }
  SECTION("end of stream") {
    a.reset();
    char buf[4];
    CHECK(sys::recv_with_fd(b.get(), buf, sizeof buf, nullptr) == 0);
  }
}

// ------------------------------------------------------------------------------------------
// Swrk::call against a fake criu

TEST_CASE("swrk call answers each NOTIFY\\, hands over its fd and returns the final answer", "[criu]") {
  Swrk criu = fake_criu([](int sock) {
    const Req req = fake_recv(sock);
    if (req.type != ReqType::Dump || !req.opts || req.opts->notify_scripts != true) return 10;

    fake_send(sock, notify_resp("pre-dump"));
    Req answer = fake_recv(sock);
    if (answer.type != ReqType::Notify || answer.notify_success != true) return 11;

    // As criu does for orphan-pts-master: the notify carries the pty master.
    auto [r, w] = sys::pipe();
    fake_send(sock, notify_resp("orphan-pts-master"), w.get());
    w.reset();
    answer = fake_recv(sock);
    if (answer.type != ReqType::Notify || answer.notify_success != true) return 12;
    // The handler wrote to the fd it got, then dropped it: EOF follows the text.
    if (sys::read_all(r.get(), "pipe") != "pts") return 13;

    Resp done;
    done.type = ReqType::Dump;
    done.success = true;
    done.dump_restored = false;
    fake_send(sock, done);
    return kFakeOk;
  });

  std::vector<std::string> seen;
  bool fd_ok = false;
  Req req = make_req(ReqType::Dump);
  req.opts = Opts{};
  req.opts->notify_scripts = true;
  const Resp resp = criu.call(req, [&](const Notify& n, sys::Fd fd) {
    seen.push_back(n.script.value_or("?"));
    if (n.script == "orphan-pts-master") {
      fd_ok = fd.valid() && (::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0;
      sys::write_all(fd.get(), "pts", "pts");
    } else if (fd.valid()) {
      throw Error("an fd came with " + n.script.value_or("?"));
    }
  });
  CHECK(resp.type == ReqType::Dump);
  CHECK(resp.success);
  CHECK(resp.dump_restored == false);
  CHECK(seen == std::vector<std::string>{"pre-dump", "orphan-pts-master"});
  CHECK(fd_ok);
  CHECK(exit_code(criu.finish()) == kFakeOk);
}

TEST_CASE("swrk call answers a NOTIFY with success=false when the handler throws\\, then rethrows", "[criu]") {
  Swrk criu = fake_criu([](int sock) {
    fake_recv(sock);
    fake_send(sock, notify_resp("post-dump"));
    const Req answer = fake_recv(sock);
    if (answer.type != ReqType::Notify || answer.notify_success != false) return 20;
    // criu gives up and says so.
    Resp failed;
    failed.type = ReqType::Dump;
    failed.success = false;
    failed.cr_errmsg = "notify script failed";
    fake_send(sock, failed);
    return kFakeOk;
  });
  REQUIRE_THROWS_WITH(criu.call(make_req(ReqType::Dump), [](const Notify&, sys::Fd) { throw Error("hook failed"); }),
                      "hook failed");
  CHECK(exit_code(criu.finish()) == kFakeOk);
}

TEST_CASE("swrk call without a handler answers NOTIFY with success", "[criu]") {
  Swrk criu = fake_criu([](int sock) {
    fake_recv(sock);
    fake_send(sock, notify_resp("post-restore"));
    const Req answer = fake_recv(sock);
    if (answer.notify_success != true) return 30;
    Resp done;
    done.type = ReqType::Restore;
    done.success = true;
    done.restore_pid = 4321;
    fake_send(sock, done);
    return kFakeOk;
  });
  const Resp resp = criu.call(make_req(ReqType::Restore));
  CHECK(resp.restore_pid == 4321);
  CHECK(exit_code(criu.finish()) == kFakeOk);
}

TEST_CASE("swrk call returns criu's EMPTY failure answer and rejects a successful one of another type", "[criu]") {
  SECTION("EMPTY, success=false: criu could not take the request") {
    Swrk criu = fake_criu([](int sock) {
      fake_recv(sock);
      Resp r;
      r.type = ReqType::Empty;
      r.success = false;
      r.cr_errmsg = "Unknown request type";
      fake_send(sock, r);
      return kFakeOk;
    });
    const Resp resp = criu.call(make_req(ReqType::Dump));
    CHECK_FALSE(resp.success);
    CHECK(resp.cr_errmsg == "Unknown request type");
  }
  SECTION("another type with success=true is a protocol error") {
    Swrk criu = fake_criu([](int sock) {
      fake_recv(sock);
      Resp r;
      r.type = ReqType::Restore;
      r.success = true;
      fake_send(sock, r);
      return kFakeOk;
    });
    REQUIRE_THROWS_WITH(criu.call(make_req(ReqType::Dump)), "criu: answered DUMP with RESTORE");
  }
}

TEST_CASE("swrk call on a criu that dies before answering names its exit status", "[criu]") {
  Swrk criu = fake_criu([](int sock) {
    fake_recv(sock);
    return 7;
  });
  REQUIRE_THROWS_WITH(criu.call(make_req(ReqType::Dump)), "criu exited with status 7 before answering DUMP");
  // Already reaped: finish() reports the same status rather than waiting again.
  CHECK(exit_code(criu.finish()) == 7);
}

TEST_CASE("swrk call reports an undecodable answer as criu's", "[criu]") {
  Swrk criu = fake_criu([](int sock) {
    fake_recv(sock);
    ::send(sock, "\x08\x80", 2, MSG_NOSIGNAL);
    return kFakeOk;
  });
  REQUIRE_THROWS_WITH(criu.call(make_req(ReqType::Version)),
                      "criu: answer to VERSION: criu_resp: truncated varint at byte 1");
}

TEST_CASE("swrk destructor kills and reaps a criu that does not exit", "[criu]") {
  pid_t pid = -1;
  {
    Swrk criu = fake_criu([](int) {
      for (;;) ::pause();
      return 0;
    });
    pid = criu.pid();
  }
  // Reaped: the pid is no longer our child.
  errno = 0;
  CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

// ------------------------------------------------------------------------------------------
// Swrk::start: the binary and the fd layout

TEST_CASE("swrk start gives criu its socket at fd 3 and the extra fds from 4", "[criu]") {
  test::TempDir dir("berth-criu");
  const std::string script = (dir / "criu").string();
  const std::string out = (dir / "fds").string();
  {
    std::ofstream f(script);
    // The listing runs in a background subshell reading the table of the shell, which waits
    // with its fds as criu would have them: dash applies a redirection (or opens a command
    // substitution's pipe) in the shell itself, and that would show in the listing.
    f << "#!/bin/sh\n"
         "{\n"
         "  echo \"args $*\"\n"
         "  for fd in 0 1 2 3 4 5 6; do\n"
         "    printf '%s ' \"$fd\"\n"
         "    readlink \"/proc/$$/fd/$fd\" || echo none\n"
         "  done\n"
         "} >\"$BERTH_TEST_CRIU_OUT\" 2>/dev/null &\n"
         "wait\n";
  }
  REQUIRE(::chmod(script.c_str(), 0755) == 0);
  EnvGuard criu_env("BERTH_CRIU", script.c_str());
  EnvGuard out_env("BERTH_TEST_CRIU_OUT", out.c_str());

  const std::string a_path = (dir / "a").string(), b_path = (dir / "b").string();
  // Opened high so that 4 and 5 stay free for the copies below.
  sys::Fd a = sys::dup_above(sys::openat(AT_FDCWD, a_path, O_WRONLY | O_CREAT, 0644), 20);
  sys::Fd b = sys::dup_above(sys::openat(AT_FDCWD, b_path, O_WRONLY | O_CREAT, 0644), 20);
  // Sources numbered like the targets (a at 4, b at 5, asked for as 5 and 4) catch a
  // layout that dup2s in place: the first dup2 would overwrite the second's source.
  sys::Fd a4 = place_at(a.get(), 4), b5 = place_at(b.get(), 5);
  const int fa = a4.valid() ? a4.get() : a.get();
  const int fb = b5.valid() ? b5.get() : b.get();
  if (!a4.valid() || !b5.valid()) WARN("fd 4 or 5 is taken in this process: the swapped-numbers case is not exercised");

  SwrkFds fds;
  fds.stdio = {-1, fa, fb};
  fds.extra_fds = {fb, fa};
  Swrk criu = Swrk::start(fds);
  CHECK(criu.binary() == script);
  CHECK(exit_code(criu.finish()) == 0);

  std::ifstream in(out);
  std::map<std::string, std::string> table;
  std::string args, line;
  std::getline(in, args);
  while (std::getline(in, line)) {
    const auto sp = line.find(' ');
    table[line.substr(0, sp)] = sp == std::string::npos ? "" : line.substr(sp + 1);
  }
  CHECK(args == "args swrk 3");
  char ours0[4096] = {};
  REQUIRE(::readlink("/proc/self/fd/0", ours0, sizeof ours0 - 1) > 0);
  CHECK(table["0"] == ours0);  // stdio -1: berth's own
  CHECK(table["1"] == a_path);
  CHECK(table["2"] == b_path);
  CHECK(table["3"].rfind("socket:[", 0) == 0);
  CHECK(table["4"] == b_path);
  CHECK(table["5"] == a_path);
  CHECK(table["6"] == "none");  // nothing else of ours leaks into criu
}

TEST_CASE("swrk start finds criu: the --criu path or name\\, else $BERTH_CRIU\\, else criu in PATH", "[criu]") {
  test::TempDir dir("berth-criu");
  for (const char* name : {"mycriu", "envcriu"}) {
    std::ofstream f(dir / name);
    f << "#!/bin/sh\nexit 0\n";
    f.close();
    REQUIRE(::chmod((dir / name).c_str(), 0755) == 0);
  }
  const std::string path = std::string(std::getenv("PATH") ? std::getenv("PATH") : "");
  EnvGuard path_env("PATH", (dir.path().string() + ":" + path).c_str());
  EnvGuard criu_env("BERTH_CRIU", (dir / "envcriu").c_str());

  Swrk by_name = Swrk::start({}, "mycriu");
  CHECK(by_name.binary() == (dir / "mycriu").string());
  CHECK(exit_code(by_name.finish()) == 0);
  Swrk by_path = Swrk::start({}, (dir / "mycriu").string());
  CHECK(by_path.binary() == (dir / "mycriu").string());
  Swrk by_env = Swrk::start({});
  CHECK(by_env.binary() == (dir / "envcriu").string());
  REQUIRE_THROWS_WITH(Swrk::start({}, "nosuchcriu"), "nosuchcriu: not found in PATH (install criu)");
}

TEST_CASE("swrk start reports a criu binary that cannot run", "[criu]") {
  EnvGuard criu_env("BERTH_CRIU", "/nonexistent/criu");
  REQUIRE_THROWS_WITH(Swrk::start({}), Contains("criu: spawn `/nonexistent/criu`") && Contains("No such file"));
}

// ------------------------------------------------------------------------------------------
// first_log_errors

TEST_CASE("first_log_errors keeps criu's words\\, not its timestamps and source lines", "[criu]") {
  test::TempDir dir("berth-criu");
  {
    std::ofstream f(dir / "check.log");
    f << "(00.000000) Version: 3.17.1 (gitid 0)\n"
         "(00.001234) Error (criu/kerndat.c:1468): vdso: Unexpected rt vDSO area bounds\n"
         "(00.001300) Warn  (criu/net.c:3093): Unable to get tun's ns\n"
         "(00.001301) Error (criu/cr-check.c:1600): Could not initialize kernel features detection.\n"
         "(00.001500) Error (criu/a.c:1): third\n"
         "(00.001600) Error (criu/a.c:2): fourth\n";
  }
  sys::Fd d = sys::openat(AT_FDCWD, dir.path().string(), O_RDONLY | O_DIRECTORY);
  CHECK(first_log_errors(d.get(), "check.log") ==
        "vdso: Unexpected rt vDSO area bounds; Could not initialize kernel features detection.; third");
  CHECK(first_log_errors(d.get(), "check.log", 1) == "vdso: Unexpected rt vDSO area bounds");
  CHECK(first_log_errors(d.get(), "missing.log").empty());
}

// ------------------------------------------------------------------------------------------
// The real criu

namespace {

// Runs f unless criu is not installed here, in which case the test is recorded as skipped.
template <class F>
void with_real_criu(F&& f) {
  EnvGuard criu_env("BERTH_CRIU", nullptr);
  try {
    f();
  } catch (const Error& e) {
    if (std::string_view(e.what()).find("not found in PATH") == std::string_view::npos) throw;
    test::skip_test("criu is not installed (apt-get install criu)");
  }
}

}  // namespace

TEST_CASE("criu VERSION from the installed criu", "[criu]") {
  with_real_criu([] {
    const Version v = version();
    INFO("criu " << v.major_number << "." << v.minor_number << "." << v.sublevel.value_or(0));
    CHECK(v.major_number >= 3);
    CHECK(v.number() >= 30000);
  });
}

TEST_CASE("criu CHECK from the installed criu: works\\, or says why from its log", "[criu]") {
  if (::geteuid() != 0) {
    test::skip_test("criu check needs root");
    return;
  }
  with_real_criu([] {
    test::TempDir dir("berth-criu");
    const std::optional<std::string> why = check(dir.path().string());
    if (!why) {
      SUCCEED("criu check passed");
      return;
    }
    // On kernels criu 3.17 does not know (6.x with a new vDSO layout) it fails; the reason
    // must be criu's own, from its log.
    INFO("criu check: " << *why);
    CHECK_FALSE(why->empty());
    sys::Fd d = sys::openat(AT_FDCWD, dir.path().string(), O_RDONLY | O_DIRECTORY);
    CHECK(first_log_errors(d.get(), "check.log") == *why);
  });
}

TEST_CASE("criu FEATURE_CHECK from the installed criu answers or says why", "[criu]") {
  if (::geteuid() != 0) {
    test::skip_test("criu feature check needs root");
    return;
  }
  with_real_criu([] {
    try {
      const Features f = feature_check(Features{.mem_track = true, .lazy_pages = true, .pidfd_store = std::nullopt});
      // criu answers every feature asked, true or false.
      CHECK(f.mem_track.has_value());
      CHECK(f.lazy_pages.has_value());
    } catch (const Error& e) {
      // As CHECK, the kernel may be one criu cannot initialise on.
      INFO(e.what());
      CHECK_THAT(e.what(), Contains("criu: FEATURE_CHECK failed: "));
    }
  });
}
