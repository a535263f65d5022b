// runtime/cgroups/devices_bpf.cpp: the cgroup v2 device program.
// Pure: instruction listings for a few rule lists, and the program run by a small interpreter
// (below) against a model of the v1 rule semantics over many random rule lists.
// Kernel (root and a cgroup2 mount): programs are loaded and attached to a temporary child
// cgroup, and a forked child that joins it tries to open and mknod devices. Without root or
// cgroup2 these cases record why in $BERTH_SKIP_LOG and pass.
#include "runtime/cgroups/devices_bpf.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/temp_dir.hpp"
#include <fmt/format.h>

#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/sys/syscalls.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth;
using berth::cgroups::apply_device_program;
using berth::cgroups::device_program;

namespace {

using berth::test::TempDir;

using Rules = std::vector<oci::LinuxDeviceCgroup>;
constexpr std::nullopt_t kAny = std::nullopt;

oci::LinuxDeviceCgroup rule(bool allow, std::optional<std::string> type, std::optional<std::int64_t> major,
                            std::optional<std::int64_t> minor, std::optional<std::string> access) {
  oci::LinuxDeviceCgroup r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}
oci::LinuxDeviceCgroup allow_all() { return rule(true, "a", kAny, kAny, "rwm"); }
oci::LinuxDeviceCgroup deny_all() { return rule(false, "a", kAny, kAny, "rwm"); }

// ---- a disassembler and an interpreter for the instructions device_program emits ----

std::string show(const bpf_insn& i) {
  const int cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
  const bool k = BPF_SRC(i.code) == BPF_K;
  if (i.code == (BPF_LDX | BPF_W | BPF_MEM))
    return fmt::format("r{} = *(u32 *)(r{} + {})", i.dst_reg, i.src_reg, i.off);
  if (cls == BPF_ALU || cls == BPF_ALU64) {
    const char w = cls == BPF_ALU ? 'w' : 'r';
    const std::string src = !k              ? fmt::format("{}{}", w, i.src_reg)
                            : op == BPF_AND ? fmt::format("{:#x}", static_cast<std::uint32_t>(i.imm))
                                            : std::to_string(i.imm);
    const char* sym = op == BPF_MOV ? "=" : op == BPF_AND ? "&=" : op == BPF_RSH ? ">>=" : nullptr;
    if (sym) return fmt::format("{}{} {} {}", w, i.dst_reg, sym, src);
  }
  if (cls == BPF_JMP) {
    if (op == BPF_EXIT) return "exit";
    const char* sym = op == BPF_JNE ? "!=" : op == BPF_JEQ ? "==" : nullptr;
    const std::string src = k ? std::to_string(i.imm) : fmt::format("r{}", i.src_reg);
    if (sym) return fmt::format("if r{} {} {} goto {:+}", i.dst_reg, sym, src, i.off);
  }
  return fmt::format("unknown code {:#04x}", i.code);
}

std::vector<std::string> listing(const std::vector<bpf_insn>& prog) {
  std::vector<std::string> out;
  for (const bpf_insn& i : prog) out.push_back(show(i));
  return out;
}

// Runs the program as the kernel would for a request; returns R0. Throws for any instruction
// device_program is not meant to emit, a load from anything but the context, a backward jump
// or running off the end (the verifier would refuse those).
std::uint64_t run(const std::vector<bpf_insn>& prog, std::uint32_t type, std::uint32_t access, std::uint32_t major,
                  std::uint32_t minor) {
  const bpf_cgroup_dev_ctx ctx{access << 16 | type, major, minor};
  const auto ctx_addr = reinterpret_cast<std::uintptr_t>(&ctx);
  std::uint64_t r[MAX_BPF_REG] = {};
  r[BPF_REG_1] = ctx_addr;
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    const int cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
    const auto imm = static_cast<std::uint64_t>(static_cast<std::int64_t>(i.imm));  // sign-extended
    const std::uint64_t src = BPF_SRC(i.code) == BPF_X ? r[i.src_reg] : imm;
    auto bad = [&] { return std::logic_error(fmt::format("instruction {}: {}", pc, show(i))); };
    if (i.code == (BPF_LDX | BPF_W | BPF_MEM)) {
      if (r[i.src_reg] != ctx_addr || i.off < 0 || i.off > 8 || i.off % 4 != 0) throw bad();
      std::uint32_t v;
      std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, sizeof v);
      r[i.dst_reg] = v;
    } else if (cls == BPF_ALU || cls == BPF_ALU64) {
      const bool w32 = cls == BPF_ALU;
      std::uint64_t v;
      if (op == BPF_MOV)
        v = src;
      else if (op == BPF_AND)
        v = r[i.dst_reg] & src;
      else if (op == BPF_RSH)
        v = w32 ? static_cast<std::uint32_t>(r[i.dst_reg]) >> (src & 31) : r[i.dst_reg] >> (src & 63);
      else
        throw bad();
      r[i.dst_reg] = w32 ? static_cast<std::uint32_t>(v) : v;
    } else if (cls == BPF_JMP) {
      if (op == BPF_EXIT) return r[BPF_REG_0];
      bool taken;
      if (op == BPF_JEQ)
        taken = r[i.dst_reg] == src;
      else if (op == BPF_JNE)
        taken = r[i.dst_reg] != src;
      else
        throw bad();
      if (i.off < 0) throw bad();
      if (taken) pc += static_cast<std::size_t>(i.off);
    } else {
      throw bad();
    }
  }
  throw std::logic_error("the program runs past its end");
}

// The meaning of an ordered rule list on cgroup v1, bit by bit: each requested bit takes the
// action of the last rule that matches the device and names that bit (deny if none does). A
// catch-all needs no special case: it is a rule that matches every device and names every bit.
bool model_allows(const Rules& rules, char type, std::uint32_t major, std::uint32_t minor, const std::string& access) {
  auto any_or = [](const std::optional<std::int64_t>& want, std::uint32_t got) {
    return !want || *want == -1 || static_cast<std::uint64_t>(*want) == got;
  };
  for (char bit : access) {
    bool allowed = false;
    for (const auto& r : rules) {
      const std::string t = r.type.value_or("a");
      if (t != "a" && t[0] != type) continue;
      if (!any_or(r.major, major) || !any_or(r.minor, minor)) continue;
      if (r.access.value_or("rwm").find(bit) == std::string::npos) continue;
      allowed = r.allow;
    }
    if (!allowed) return false;
  }
  return true;
}

// The program's answer for a request such as ('c', 1, 3, "rw").
bool program_allows(const std::vector<bpf_insn>& prog, char type, std::uint32_t major, std::uint32_t minor,
                    const std::string& access) {
  std::uint32_t acc = 0;
  for (char c : access) acc |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  return run(prog, type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, acc, major, minor) != 0;
}

const std::vector<std::string> kPrologue = {
    "r2 = *(u32 *)(r1 + 0)", "w2 &= 0xffff",          "r3 = *(u32 *)(r1 + 0)", "w3 >>= 16",
    "r4 = *(u32 *)(r1 + 4)", "r5 = *(u32 *)(r1 + 8)",
};
std::vector<std::string> with_prologue(const std::vector<std::string>& body) {
  std::vector<std::string> out = kPrologue;
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace

TEST_CASE("device program: no rules deny everything", "[cgroups]") {
  REQUIRE(listing(device_program({})) == with_prologue({"r0 = 0", "exit"}));
}

TEST_CASE("device program: an allow-list with one partial allow", "[cgroups]") {
  const auto prog = device_program({deny_all(), rule(true, "c", 1, 3, "rw")});
  REQUIRE(listing(prog) == with_prologue({
                               "if r2 != 2 goto +6",  // not a char device
                               "if r4 != 1 goto +5",
                               "if r5 != 3 goto +4",
                               "w3 &= 0xfffffff9",    // read and write are decided: allowed
                               "if r3 != 0 goto +2",  // mknod asked too: left to earlier rules
                               "r0 = 1",
                               "exit",
                               "r0 = 0",
                               "exit",
                           }));
  CHECK(program_allows(prog, 'c', 1, 3, "r"));
  CHECK(program_allows(prog, 'c', 1, 3, "rw"));
  CHECK_FALSE(program_allows(prog, 'c', 1, 3, "rwm"));
  CHECK_FALSE(program_allows(prog, 'c', 1, 3, "m"));
  CHECK_FALSE(program_allows(prog, 'c', 1, 5, "r"));
  CHECK_FALSE(program_allows(prog, 'b', 1, 3, "r"));
}

TEST_CASE("device program: a deny-list with one partial deny", "[cgroups]") {
  const auto prog = device_program({allow_all(), rule(false, "c", 1, 5, "w")});
  REQUIRE(listing(prog) == with_prologue({
                               "if r2 != 2 goto +7",
                               "if r4 != 1 goto +6",
                               "if r5 != 5 goto +5",
                               "w1 = w3",
                               "w1 &= 0x4",
                               "if r1 == 0 goto +2",  // write not asked: the rule says nothing
                               "r0 = 0",
                               "exit",
                               "r0 = 1",
                               "exit",
                           }));
  CHECK(program_allows(prog, 'c', 1, 5, "r"));
  CHECK(program_allows(prog, 'c', 1, 5, "m"));
  CHECK_FALSE(program_allows(prog, 'c', 1, 5, "w"));
  CHECK_FALSE(program_allows(prog, 'c', 1, 5, "rw"));  // open O_RDWR: one denied bit refuses it
  CHECK(program_allows(prog, 'c', 1, 3, "rw"));
}

TEST_CASE("device program: full allows, wildcards and the rule order", "[cgroups]") {
  // Later rules come first in the program; `a` and -1 (or unset) add no check.
  const auto prog = device_program(
      {deny_all(), rule(true, "c", kAny, kAny, "m"), rule(true, "a", 136, -1, "rwm"), rule(false, "b", 8, 0, "rwm")});
  REQUIRE(listing(prog) == with_prologue({
                               "if r2 != 1 goto +7",  // b 8:0 rwm, denied
                               "if r4 != 8 goto +6",
                               "if r5 != 0 goto +5",
                               "w1 = w3",
                               "w1 &= 0x7",
                               "if r1 == 0 goto +2",
                               "r0 = 0",
                               "exit",
                               "if r4 != 136 goto +2",  // a 136:* rwm: no type check, no access check
                               "r0 = 1",
                               "exit",
                               "if r2 != 2 goto +4",  // c *:* m
                               "w3 &= 0xfffffffe",
                               "if r3 != 0 goto +2",
                               "r0 = 1",
                               "exit",
                               "r0 = 0",
                               "exit",
                           }));
}

TEST_CASE("device program: the last catch-all overrides every rule before it", "[cgroups]") {
  const Rules before = {rule(false, "c", 1, 5, "rwm"), rule(true, "c", 1, 3, "rwm")};
  Rules rules = before;
  rules.push_back(allow_all());
  REQUIRE(listing(device_program(rules)) == with_prologue({"r0 = 1", "exit"}));
  rules = before;
  rules.push_back(rule(false, kAny, kAny, -1, kAny));  // {"allow": false}: unset means any, and rwm
  REQUIRE(listing(device_program(rules)) == with_prologue({"r0 = 0", "exit"}));
  // Rules that only restate the default right after it are left out too.
  rules.push_back(rule(false, "c", 1, 5, "r"));
  REQUIRE(listing(device_program(rules)) == with_prologue({"r0 = 0", "exit"}));
}

TEST_CASE("device program: an `a` rule that is not a catch-all matches both types", "[cgroups]") {
  // Only "a *:* rwm" resets; "a *:* r" grants read of every device and nothing else.
  const auto prog = device_program({deny_all(), rule(true, "a", kAny, kAny, "r"), rule(false, "b", 8, kAny, "rwm")});
  CHECK(program_allows(prog, 'c', 4, 1, "r"));
  CHECK(program_allows(prog, 'b', 7, 0, "r"));
  CHECK_FALSE(program_allows(prog, 'b', 8, 0, "r"));
  CHECK_FALSE(program_allows(prog, 'c', 4, 1, "rw"));
}

TEST_CASE("device program: access unset means rwm, an empty access means nothing", "[cgroups]") {
  const auto unset = device_program({deny_all(), rule(true, "c", 1, 3, kAny)});
  CHECK(program_allows(unset, 'c', 1, 3, "rwm"));
  const auto empty = device_program({deny_all(), rule(true, "c", 1, 3, "")});
  CHECK_FALSE(program_allows(empty, 'c', 1, 3, "r"));
  REQUIRE(listing(empty) == with_prologue({"r0 = 0", "exit"}));
}

TEST_CASE("device program: allows of separate bits add up, as v1 merges them", "[cgroups]") {
  const auto prog = device_program({deny_all(), rule(true, "c", 1, 3, "r"), rule(true, "c", 1, 3, "w")});
  CHECK(program_allows(prog, 'c', 1, 3, "rw"));
  CHECK_FALSE(program_allows(prog, 'c', 1, 3, "rwm"));
}

TEST_CASE("device program: numbers above INT32_MAX are compared as unsigned 32-bit", "[cgroups]") {
  const auto prog = device_program({deny_all(), rule(true, "c", 4294967295, 2147483648, "rwm")});
  CHECK(program_allows(prog, 'c', 4294967295u, 2147483648u, "r"));
  CHECK_FALSE(program_allows(prog, 'c', 2147483647u, 2147483648u, "r"));
  CHECK_FALSE(program_allows(prog, 'c', 4294967295u, 0, "r"));
  CHECK(listing(prog)[7] == "w1 = -1");
  CHECK(listing(prog)[8] == "if r4 != r1 goto +4");
}

TEST_CASE("device program: invalid rules are refused with their index", "[cgroups]") {
  REQUIRE_THROWS_WITH(device_program({deny_all(), rule(true, "u", 1, 3, "rwm")}),
                      "rule 1: type must be \"a\", \"b\" or \"c\", got \"u\"");
  REQUIRE_THROWS_WITH(device_program({rule(true, "c", 4294967296, 3, "rwm")}),
                      "rule 0: major 4294967296 is out of range (-1 for any, or 0 to 4294967295)");
  REQUIRE_THROWS_WITH(device_program({rule(true, "c", 1, -2, "rwm")}),
                      "rule 0: minor -2 is out of range (-1 for any, or 0 to 4294967295)");
  REQUIRE_THROWS_WITH(device_program({rule(true, "c", 1, 3, "rx")}),
                      "rule 0: access must be made of r, w and m, got \"rx\"");
}

TEST_CASE("device program: agrees with the v1 model on random rule lists", "[cgroups]") {
  std::mt19937 rng(20240611);
  auto pick = [&](const auto& v) { return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)]; };
  const std::vector<std::optional<std::string>> types = {kAny, "a", "c", "b"};
  const std::vector<std::optional<std::int64_t>> majors = {kAny, -1, 1, 4294967295};
  const std::vector<std::optional<std::int64_t>> minors = {kAny, -1, 3, 5};
  const std::vector<std::optional<std::string>> accesses = {kAny, "", "r", "w", "m", "rw", "rm", "wm", "rwm", "mwr"};
  const std::vector<std::uint32_t> dev_majors = {1, 2, 2147483647u, 4294967295u};
  const std::vector<std::uint32_t> dev_minors = {0, 3, 5};
  const std::vector<std::string> requests = {"r", "w", "m", "rw", "rm", "wm", "rwm"};
  for (int n = 0; n < 1500; ++n) {
    Rules rules(std::uniform_int_distribution<int>(0, 7)(rng));
    for (auto& r : rules)
      r = std::uniform_int_distribution<int>(0, 5)(rng) == 0
              ? rule(rng() % 2, kAny, kAny, kAny, "rwm")
              : rule(rng() % 2, pick(types), pick(majors), pick(minors), pick(accesses));
    const auto prog = device_program(rules);
    for (char type : {'c', 'b'})
      for (std::uint32_t major : dev_majors)
        for (std::uint32_t minor : dev_minors)
          for (const std::string& access : requests)
            if (program_allows(prog, type, major, minor, access) != model_allows(rules, type, major, minor, access)) {
              std::string text;
              for (const auto& r : rules)
                text += fmt::format("{{{} {} {}:{} {}}} ", r.allow ? "allow" : "deny", r.type.value_or("-"),
                                    r.major ? std::to_string(*r.major) : "-", r.minor ? std::to_string(*r.minor) : "-",
                                    r.access.value_or("-"));
              FAIL(fmt::format("rules {}; request {} {}:{} {}: model says {}", text, type, major, minor, access,
                               model_allows(rules, type, major, minor, access) ? "allow" : "deny"));
            }
  }
  SUCCEED("1500 rule lists agree");
}

// ---- the kernel ----

namespace {

// The cgroup2 mount: /sys/fs/cgroup/unified on a hybrid host, /sys/fs/cgroup on a unified one.
std::string cgroup2_mount() {
  for (const char* p : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    struct statfs st {};
    if (::statfs(p, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return p;
  }
  return "";
}

// The cgroup2 mount to test in, or "" after recording why the kernel cases cannot run here.
std::string kernel_test_root() {
  if (::geteuid() != 0) {
    berth::test::skip_test("needs root to load BPF programs and create cgroups");
    return "";
  }
  std::string root = cgroup2_mount();
  if (root.empty()) berth::test::skip_test("no cgroup2 mount at /sys/fs/cgroup/unified or /sys/fs/cgroup");
  return root;
}

// A child cgroup for one test case. The destructor removes it, which needs the processes that
// joined it to have exited (and been reaped).
class TempCgroup {
 public:
  explicit TempCgroup(const std::string& root) {
    static int n = 0;
    path_ = fmt::format("{}/berth-test-devices-{}-{}", root, ::getpid(), ++n);
    if (::mkdir(path_.c_str(), 0755) != 0) {
      error_ = fmt::format("cannot create a cgroup at {}: {}", path_, std::strerror(errno));
      path_.clear();
      return;
    }
    fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd_.valid()) error_ = fmt::format("cannot open {}: {}", path_, std::strerror(errno));
  }
  ~TempCgroup() {
    fd_.reset();
    if (path_.empty()) return;
    // A reaped child can linger in the cgroup for a moment.
    for (int i = 0; i < 100 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(10000);
  }
  TempCgroup(const TempCgroup&) = delete;
  TempCgroup& operator=(const TempCgroup&) = delete;

  const std::string& error() const { return error_; }  // empty when the cgroup is ready
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  std::string path_;
  std::string error_;
  sys::Fd fd_;
};

// The ids of the device programs attached to the cgroup itself, queried independently of the
// code under test.
std::vector<std::uint32_t> attached(int cgroup_fd) {
  std::vector<std::uint32_t> ids(64);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<std::uint32_t>(cgroup_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<std::uintptr_t>(ids.data());
  attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
  if (::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) != 0) throw_errno("bpf BPF_PROG_QUERY");
  ids.resize(attr.query.prog_cnt);
  return ids;
}

// What a child does inside the cgroup: returns 0 or the errno it got.
struct Probe {
  std::string what;
  std::function<int()> op;
  int want;  // 0: must succeed
};

int open_errno(const char* path, int flags) {
  const int fd = ::open(path, flags | O_CLOEXEC);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

int mknod_errno(const std::string& path, dev_t dev) {
  if (::mknod(path.c_str(), S_IFCHR | 0600, dev) != 0) return errno;
  ::unlink(path.c_str());
  return 0;
}

const char* errno_name(int e) { return e == 0 ? "success" : ::strerrorname_np(e); }

// Forks a child that writes its pid into the cgroup's cgroup.procs and runs the probes there.
// Returns one line per probe that did not end as expected (empty: all did) and checks that the
// child exited cleanly.
std::string probe_in(const TempCgroup& cg, const std::vector<Probe>& probes) {
  auto [rd, wr] = sys::pipe();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string out;
    const std::string procs = cg.path() + "/cgroup.procs";
    const std::string me = std::to_string(::getpid());
    const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) {
      out = fmt::format("cannot join {}: {}\n", procs, std::strerror(errno));
    } else {
      for (const Probe& p : probes)
        if (const int got = p.op(); got != p.want)
          out += fmt::format("{}: got {}, want {}\n", p.what, errno_name(got), errno_name(p.want));
    }
    const bool sent = ::write(wr.get(), out.data(), out.size()) == static_cast<ssize_t>(out.size());
    ::_exit(sent ? 0 : 1);
  }
  wr.reset();
  const std::string report = sys::read_all(rd.get(), "probe report");
  REQUIRE(sys::exit_status(sys::waitpid(pid)) == 0);
  return report;
}

}  // namespace

// Skips the case (after recording why) unless root can create a cgroup2 child cgroup here.
#define REQUIRE_KERNEL_CGROUP(cg)                   \
  const std::string cg##_root = kernel_test_root(); \
  if (cg##_root.empty()) {                          \
    SUCCEED("skipped");                             \
    return;                                         \
  }                                                 \
  TempCgroup cg(cg##_root);                         \
  if (!cg.error().empty()) {                        \
    berth::test::skip_test(cg.error());             \
    SUCCEED("skipped");                             \
    return;                                         \
  }

TEST_CASE("device program in the kernel: an allow-list, then replaced by allow-all", "[cgroups][root]") {
  REQUIRE_KERNEL_CGROUP(cg);
  TempDir tmp;

  apply_device_program(cg.fd(), {deny_all(), rule(true, "c", 1, 3, "rw")});
  const std::vector<std::uint32_t> first = attached(cg.fd());
  REQUIRE(first.size() == 1);
  const std::vector<Probe> allow_list = {
      {"open /dev/zero O_RDONLY", [] { return open_errno("/dev/zero", O_RDONLY); }, EPERM},
      {"open /dev/null O_RDWR", [] { return open_errno("/dev/null", O_RDWR); }, 0},
      {"mknod c 1:3 (m not granted)", [&] { return mknod_errno(tmp / "null", makedev(1, 3)); }, EPERM},
  };
  CHECK(probe_in(cg, allow_list) == "");

  apply_device_program(cg.fd(), {allow_all()});
  const std::vector<std::uint32_t> second = attached(cg.fd());
  REQUIRE(second.size() == 1);
  CHECK(second[0] != first[0]);
  const std::vector<Probe> allow_all_probes = {
      {"open /dev/zero O_RDONLY", [] { return open_errno("/dev/zero", O_RDONLY); }, 0},
      {"open /dev/zero O_RDWR", [] { return open_errno("/dev/zero", O_RDWR); }, 0},
  };
  CHECK(probe_in(cg, allow_all_probes) == "");
}

TEST_CASE("device program in the kernel: a denied bit refuses O_RDWR; every instruction form verifies",
          "[cgroups][root]") {
  REQUIRE_KERNEL_CGROUP(cg);
  // Beside the deny of c 1:5 w, rules that make device_program emit each of its forms (type
  // check or not, partial and full allow and deny, numbers above INT32_MAX) for the verifier;
  // none of them touches /dev/zero or /dev/null.
  apply_device_program(cg.fd(), {
                                    allow_all(),
                                    rule(false, "c", 4294967295, kAny, "rwm"),
                                    rule(true, "a", 1, 5, "m"),
                                    rule(false, "b", kAny, 2147483648, "r"),
                                    rule(false, "c", 1, 5, "w"),
                                    rule(true, kAny, 1, 3, "r"),
                                });
  REQUIRE(attached(cg.fd()).size() == 1);
  const std::vector<Probe> deny_list = {
      {"open /dev/zero O_RDONLY", [] { return open_errno("/dev/zero", O_RDONLY); }, 0},
      {"open /dev/zero O_WRONLY", [] { return open_errno("/dev/zero", O_WRONLY); }, EPERM},
      {"open /dev/zero O_RDWR", [] { return open_errno("/dev/zero", O_RDWR); }, EPERM},
      {"open /dev/null O_RDWR", [] { return open_errno("/dev/null", O_RDWR); }, 0},
  };
  CHECK(probe_in(cg, deny_list) == "");
}

TEST_CASE("device program in the kernel: errors name the bpf(2) command", "[cgroups][root]") {
  const std::string root = kernel_test_root();
  if (root.empty()) {
    SUCCEED("skipped");
    return;
  }
  // Not a cgroup2 directory: the program loads, the query refuses the fd.
  TempDir tmp;
  sys::Fd dir(::open((tmp / "").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(dir.valid());
  try {
    apply_device_program(dir.get(), {deny_all()});
    FAIL("apply_device_program accepted a directory that is not a cgroup");
  } catch (const Error& e) {
    CHECK(e.errnum() == EBADF);
    CHECK(e.message() == "bpf BPF_PROG_QUERY (cgroup device programs)");
  }
}

TEST_CASE("device program: without privileges the load fails with EPERM", "[cgroups]") {
  // As root, in a child that drops to nobody first; otherwise right here.
  auto attempt = [] {
    try {
      apply_device_program(-1, {deny_all()});
      return std::string("no error");
    } catch (const Error& e) {
      return fmt::format("{} [{}]", e.what(), errno_name(e.errnum()));
    }
  };
  std::string got;
  if (::geteuid() != 0) {
    got = attempt();
  } else {
    auto [rd, wr] = sys::pipe();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const bool dropped = ::setgroups(0, nullptr) == 0 && ::setresgid(65534, 65534, 65534) == 0 &&
                           ::setresuid(65534, 65534, 65534) == 0;
      const std::string out = dropped ? attempt() : std::string("cannot drop privileges");
      const bool sent = ::write(wr.get(), out.data(), out.size()) == static_cast<ssize_t>(out.size());
      ::_exit(sent ? 0 : 1);
    }
    wr.reset();
    got = sys::read_all(rd.get(), "child report");
    REQUIRE(sys::exit_status(sys::waitpid(pid)) == 0);
  }
  REQUIRE(got == "bpf BPF_PROG_LOAD (cgroup device program): Operation not permitted [EPERM]");
}
