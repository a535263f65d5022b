#include "runtime/cgroups/devices_bpf.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "runtime/sys/error.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::cgroups {

namespace {

// Registers of the program. The prologue unpacks struct bpf_cgroup_dev_ctx into R2..R5; R1 (the
// context pointer) is free after that and serves as scratch.
constexpr std::uint8_t kCtx = BPF_REG_1;
constexpr std::uint8_t kScratch = BPF_REG_1;
constexpr std::uint8_t kType = BPF_REG_2;    // BPF_DEVCG_DEV_*
constexpr std::uint8_t kAccess = BPF_REG_3;  // requested BPF_DEVCG_ACC_* bits no later rule decided yet
constexpr std::uint8_t kMajor = BPF_REG_4;
constexpr std::uint8_t kMinor = BPF_REG_5;

constexpr std::int32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn load_u32(std::uint8_t dst, std::uint8_t src, std::int16_t off) {
  return insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0);
}
bpf_insn alu32_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(std::uint8_t dst, std::uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov64_imm(std::uint8_t dst, std::int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn jump_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
  return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn jump_reg(std::uint8_t op, std::uint8_t dst, std::uint8_t src) {
  return insn(BPF_JMP | op | BPF_X, dst, src, 0, 0);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// A LinuxDeviceCgroup in the kernel's terms; nullopt matches anything.
struct Rule {
  bool allow = false;
  std::optional<std::int32_t> type;  // BPF_DEVCG_DEV_*
  std::optional<std::uint32_t> major;
  std::optional<std::uint32_t> minor;
  std::int32_t access = 0;  // BPF_DEVCG_ACC_*

  bool catch_all() const { return !type && !major && !minor && access == kAllAccess; }
};

std::optional<std::uint32_t> device_number(const std::optional<std::int64_t>& v, std::size_t i,
                                           std::string_view field) {
  if (!v || *v == -1) return std::nullopt;
  if (*v < 0 || *v > std::numeric_limits<std::uint32_t>::max())
    throw Error(fmt::format("rule {}: {} {} is out of range (-1 for any, or 0 to 4294967295)", i, field, *v));
  return static_cast<std::uint32_t>(*v);
}

Rule parse(const oci::LinuxDeviceCgroup& d, std::size_t i) {
  Rule r;
  r.allow = d.allow;
  const std::string type = d.type.value_or("a");
  if (type == "c")
    r.type = BPF_DEVCG_DEV_CHAR;
  else if (type == "b")
    r.type = BPF_DEVCG_DEV_BLOCK;
  else if (type != "a")
    throw Error(fmt::format("rule {}: type must be \"a\", \"b\" or \"c\", got \"{}\"", i, type));
  r.major = device_number(d.major, i, "major");
  r.minor = device_number(d.minor, i, "minor");
  for (char c : d.access.value_or("rwm")) {
    switch (c) {
      case 'r': r.access |= BPF_DEVCG_ACC_READ; break;
      case 'w': r.access |= BPF_DEVCG_ACC_WRITE; break;
      case 'm': r.access |= BPF_DEVCG_ACC_MKNOD; break;
      default: throw Error(fmt::format("rule {}: access must be made of r, w and m, got \"{}\"", i, *d.access));
    }
  }
  return r;
}

// One rule's instructions. Its jumps to "the next rule" are patched once the block is complete.
class Block {
 public:
  void add(bpf_insn i) { insns_.push_back(i); }
  void jump_to_next(bpf_insn i) {
    to_next_.push_back(insns_.size());
    insns_.push_back(i);
  }
  // Goes on to the next rule unless `reg` holds `value`.
  void require_equal(std::uint8_t reg, std::uint32_t value) {
    if (value <= static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max())) {
      jump_to_next(jump_imm(BPF_JNE, reg, static_cast<std::int32_t>(value)));
      return;
    }
    // A jump's immediate is sign-extended to 64 bits while the register holds the zero-extended
    // u32, so a value above INT32_MAX is compared through a register (a 32-bit mov zero-extends).
    add(insn(BPF_ALU | BPF_MOV | BPF_K, kScratch, 0, 0, static_cast<std::int32_t>(value)));
    jump_to_next(jump_reg(BPF_JNE, reg, kScratch));
  }
  void append_to(std::vector<bpf_insn>& out) {
    for (std::size_t at : to_next_) insns_[at].off = static_cast<std::int16_t>(insns_.size() - at - 1);
    out.insert(out.end(), insns_.begin(), insns_.end());
  }

 private:
  std::vector<bpf_insn> insns_;
  std::vector<std::size_t> to_next_;
};

// The program visits rules from the last to the first, so the first rule that decides a bit is
// the one that wins on v1. kAccess keeps the requested bits still undecided: an allow rule
// removes its bits and returns "allow" once none are left; a deny rule returns "deny" as soon as
// it covers one of them (one denied bit refuses the whole request, as on v1).
void append_rule(std::vector<bpf_insn>& out, const Rule& r) {
  Block b;
  if (r.type) b.jump_to_next(jump_imm(BPF_JNE, kType, *r.type));
  if (r.major) b.require_equal(kMajor, *r.major);
  if (r.minor) b.require_equal(kMinor, *r.minor);
  if (r.allow) {
    // Granting every bit decides whatever is left: no need to look at kAccess.
    if (r.access != kAllAccess) {
      b.add(alu32_imm(BPF_AND, kAccess, ~r.access));
      b.jump_to_next(jump_imm(BPF_JNE, kAccess, 0));
    }
    b.add(mov64_imm(BPF_REG_0, 1));
  } else {
    b.add(mov32_reg(kScratch, kAccess));
    b.add(alu32_imm(BPF_AND, kScratch, r.access));
    b.jump_to_next(jump_imm(BPF_JEQ, kScratch, 0));
    b.add(mov64_imm(BPF_REG_0, 0));
  }
  b.add(exit_insn());
  b.append_to(out);
}

}  // namespace

std::vector<bpf_insn> device_program(const std::vector<oci::LinuxDeviceCgroup>& rules) {
  std::vector<Rule> parsed;
  parsed.reserve(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) parsed.push_back(parse(rules[i], i));

  // The last catch-all sets the default and overrides everything before it.
  std::size_t first = 0;
  bool default_allow = false;
  for (std::size_t i = parsed.size(); i-- > 0;)
    if (parsed[i].catch_all()) {
      first = i + 1;
      default_allow = parsed[i].allow;
      break;
    }
  // Rules right after it with the default's action only restate the default: no rule with the
  // other action comes before them for them to override.
  while (first < parsed.size() && (parsed[first].allow == default_allow || parsed[first].access == 0)) ++first;

  std::vector<bpf_insn> out = {
      load_u32(kType, kCtx, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu32_imm(BPF_AND, kType, 0xffff),
      load_u32(kAccess, kCtx, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu32_imm(BPF_RSH, kAccess, 16),
      load_u32(kMajor, kCtx, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(kMinor, kCtx, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (std::size_t i = parsed.size(); i-- > first;)
    if (parsed[i].access != 0) append_rule(out, parsed[i]);
  out.push_back(mov64_imm(BPF_REG_0, default_allow ? 1 : 0));
  out.push_back(exit_insn());
  return out;
}

namespace {

// The kernel only refuses GPL-only helpers to other licenses, and the program calls no helper.
constexpr char kLicense[] = "Apache-2.0";
// Shown by `bpftool prog`; at most 15 characters of [A-Za-z0-9_.].
constexpr char kProgName[] = "berth_devices";
static_assert(sizeof kProgName <= BPF_OBJ_NAME_LEN);

bpf_attr zeroed_attr() {
  bpf_attr a;
  std::memset(&a, 0, sizeof a);  // the kernel rejects non-zero bytes past the fields a command uses
  return a;
}

std::uint64_t ptr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

int prog_load(bpf_attr& attr) {
  // The verifier gives up with EAGAIN when a signal arrives; libbpf retries too.
  for (int attempt = 0;; ++attempt) {
    const long fd = bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0 || errno != EAGAIN || attempt == 4) return static_cast<int>(fd);
  }
}

// Before Linux 5.11 programs were charged to RLIMIT_MEMLOCK, and a low limit made the load fail
// with EPERM. The limit is raised for the load only (runc and crun raise it for good), so that
// processes started later do not inherit it.
class MemlockRaised {
 public:
  MemlockRaised() {
    if (::getrlimit(RLIMIT_MEMLOCK, &old_) != 0 || old_.rlim_cur == RLIM_INFINITY) return;
    rlimit raised{RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_MEMLOCK, &raised) != 0) {
      raised.rlim_cur = old_.rlim_max;  // without CAP_SYS_RESOURCE: up to the hard limit
      raised.rlim_max = old_.rlim_max;
      if (::setrlimit(RLIMIT_MEMLOCK, &raised) != 0) return;
    }
    changed_ = true;
  }
  ~MemlockRaised() {
    if (changed_) ::setrlimit(RLIMIT_MEMLOCK, &old_);
  }
  MemlockRaised(const MemlockRaised&) = delete;
  MemlockRaised& operator=(const MemlockRaised&) = delete;

 private:
  rlimit old_{};
  bool changed_ = false;
};

// The end of a verifier log on one line: the reason for a rejection is in its last lines.
std::string log_tail(const std::string& log) {
  constexpr std::size_t kMax = 1024;
  std::string_view v(log.c_str());
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  if (v.size() > kMax) {
    v.remove_prefix(v.size() - kMax);
    if (const std::size_t nl = v.find('\n'); nl != std::string_view::npos) v.remove_prefix(nl + 1);
  }
  // The log aligns its annotations with runs of spaces, which mean nothing on one line.
  std::string out;
  for (char c : v) {
    if (c == '\n')
      out += " | ";
    else if (c != ' ' || out.empty() || out.back() != ' ')
      out += c;
  }
  return out;
}

sys::Fd load_program(const std::vector<bpf_insn>& insns) {
  bpf_attr attr = zeroed_attr();
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = ptr(insns.data());
  attr.insn_cnt = static_cast<std::uint32_t>(insns.size());
  attr.license = ptr(kLicense);
  std::memcpy(attr.prog_name, kProgName, sizeof kProgName);

  std::optional<MemlockRaised> memlock;
  int fd = prog_load(attr);
  if (fd < 0 && errno == EPERM) {
    memlock.emplace();
    fd = prog_load(attr);
  }
  if (fd >= 0) return sys::Fd(fd);
  const int err = errno;

  // Loaded again with a log only after a failure: with a log, the verifier also describes every
  // instruction of a program it accepts.
  std::string log;
  for (std::size_t size = 64 << 10; size <= (16 << 20); size *= 2) {
    log.assign(size, '\0');
    attr.log_level = 1;
    attr.log_buf = ptr(log.data());
    attr.log_size = static_cast<std::uint32_t>(size);
    fd = prog_load(attr);
    if (fd >= 0) return sys::Fd(fd);  // whatever failed before (a signal, memory) has passed
    if (errno != ENOSPC) break;       // ENOSPC: the log did not fit
  }
  const std::string tail = log_tail(log);
  const std::string what = "bpf BPF_PROG_LOAD (cgroup device program";
  throw Error(tail.empty() ? what + ")" : fmt::format("{}, verifier log: {})", what, tail), err);
}

// The ids of the device programs attached to the cgroup itself (not inherited ones).
std::vector<std::uint32_t> attached_programs(int cgroup_dirfd) {
  std::vector<std::uint32_t> ids(64);  // the kernel's limit per cgroup and attach type
  for (int attempt = 0;; ++attempt) {
    bpf_attr attr = zeroed_attr();
    attr.query.target_fd = static_cast<std::uint32_t>(cgroup_dirfd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = ptr(ids.data());
    attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return ids;
    }
    // ENOSPC: more programs than room (some were attached meanwhile); prog_cnt has the count.
    if (errno != ENOSPC || attempt == 9) throw_errno("bpf BPF_PROG_QUERY (cgroup device programs)");
    ids.resize(std::max<std::size_t>(attr.query.prog_cnt, ids.size() * 2));
  }
}

std::optional<sys::Fd> program_by_id(std::uint32_t id) {
  bpf_attr attr = zeroed_attr();
  attr.prog_id = id;
  const long fd = bpf(BPF_PROG_GET_FD_BY_ID, attr);
  if (fd >= 0) return sys::Fd(static_cast<int>(fd));
  // ENOENT: detached and freed since the query. EPERM/EACCES: an LSM may hide a program someone
  // else attached (systemd's); runc leaves such programs be, which is safe because a device
  // program can only take access away.
  if (errno == ENOENT || errno == EPERM || errno == EACCES) return std::nullopt;
  throw_errno(fmt::format("bpf BPF_PROG_GET_FD_BY_ID (cgroup device program {})", id));
}

}  // namespace

void apply_device_program(int cgroup_dirfd, const std::vector<oci::LinuxDeviceCgroup>& rules) {
  const sys::Fd prog = load_program(device_program(rules));

  // Opened before the new program is attached, so that it cannot be mistaken for an old one,
  // and held so that no id can be reused by an unrelated program meanwhile.
  std::vector<sys::Fd> old;
  for (std::uint32_t id : attached_programs(cgroup_dirfd))
    if (std::optional<sys::Fd> fd = program_by_id(id)) old.push_back(std::move(*fd));

  // New first, then the old ones: in between a device needs both to allow it, so the cgroup is
  // never left without a program, nor looser than either set of rules.
  bpf_attr attr = zeroed_attr();
  attr.target_fd = static_cast<std::uint32_t>(cgroup_dirfd);
  attr.attach_bpf_fd = static_cast<std::uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attr) != 0) throw_errno("bpf BPF_PROG_ATTACH (cgroup device program)");

  for (const sys::Fd& fd : old) {
    attr = zeroed_attr();
    attr.target_fd = static_cast<std::uint32_t>(cgroup_dirfd);
    attr.attach_bpf_fd = static_cast<std::uint32_t>(fd.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    // ENOENT: someone else detached it meanwhile.
    if (bpf(BPF_PROG_DETACH, attr) != 0 && errno != ENOENT)
      throw_errno("bpf BPF_PROG_DETACH (previous cgroup device program)");
  }
}

}  // namespace berth::cgroups
