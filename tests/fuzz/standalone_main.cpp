// A bounded, seeded, dependency-free driver for LLVMFuzzerTestOneInput, so the
// fuzz target runs as an ordinary meson test with g++ (and under the sanitizer
// build) where libFuzzer is not available. It is not coverage-guided: it
// mutates a seed corpus (byte flips, insertions, deletions, splices of two
// seeds, and JSON-aware token and tree mutations) and keeps the mutants that
// still parse as configs, so later rounds start from deeper, valid documents.
//
//   fuzz-config [--iterations N] [--seed S] [--max-len BYTES] [--crash-dir DIR] SEED_DIR_OR_FILE...
//
// When an input crashes (abort, fatal signal, sanitizer report, uncaught
// exception) it is written to DIR/fuzz-config-crash.<pid> as the reproducer.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#ifndef BERTH_FUZZ_ITERATIONS
#define BERTH_FUZZ_ITERATIONS 20000
#endif

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct Options {
  std::uint64_t iterations = BERTH_FUZZ_ITERATIONS;
  std::uint64_t seed = 0x6265727468;  // "berth"
  std::size_t max_len = 256 * 1024;
  fs::path crash_dir = fs::temp_directory_path();
  std::vector<fs::path> inputs;
};

[[noreturn]] void usage(const std::string& msg) {
  std::cerr << "fuzz-config: " << msg
            << "\nusage: fuzz-config [--iterations N] [--seed S] [--max-len BYTES] [--crash-dir DIR] SEED_DIR_OR_FILE...\n";
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value for " + a);
      return argv[++i];
    };
    try {
      if (a == "--iterations") o.iterations = std::stoull(value());
      else if (a == "--seed") o.seed = std::stoull(value());
      else if (a == "--max-len") o.max_len = std::stoull(value());
      else if (a == "--crash-dir") o.crash_dir = value();
      else if (a.starts_with("--")) usage("unknown option " + a);
      else o.inputs.emplace_back(a);
    } catch (const std::logic_error&) {
      usage("invalid number for " + a);
    }
  }
  if (o.inputs.empty()) usage("no seed directory or file given");
  return o;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> load_corpus(const std::vector<fs::path>& inputs) {
  std::vector<fs::path> files;
  for (const fs::path& p : inputs) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(p, ec))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      // The spec's vectors live beside the checkout only; a user's clone lacks them.
      std::cerr << "fuzz-config: note: seed path " << p << " not found, skipped\n";
    }
  }
  std::sort(files.begin(), files.end());  // the same corpus order on every run
  std::vector<std::string> corpus;
  for (const fs::path& f : files) corpus.push_back(read_file(f));
  return corpus;
}

// Tokens that probe the decoder's edges: integer widths, signs, non-integers,
// wrong JSON types, path shapes, and the spec's enum spellings.
const std::vector<std::string_view> kTokens = {
    "0", "-1", "1", "7", "8", "99", "100", "1000", "1001", "65535", "65536", "2147483647", "2147483648",
    "-2147483649", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616", "1e3", "1.5",
    "-0", "1E400", "true", "false", "null", "[]", "{}", "\"\"", "\"/\"", "\"rootfs\"", "\"relative/path\"",
    "\"/abs/path\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\u2028<&>\"", "\"2.0.0\"", "\"1.0.0-rc.1+b\"", "\"01.0.0\"",
    "\"pid\"", "\"user\"", "\"uts\"", "\"time\"", "\"network\"", "\"pdi\"", "\"SCMP_ACT_NOTIFY\"", "\"SCMP_ACT_ERRNO\"",
    "\"SCMP_ARCH_X86_64\"", "\"SCMP_CMP_MASKED_EQ\"", "\"SECCOMP_FILTER_FLAG_LOG\"", "\"rslave\"", "\"CAP_SYS_ADMIN\"",
    "\"CAP_FOO\"", "\"RLIMIT_NOFILE\"", "\"SCHED_FIFO\"", "\"SCHED_DEADLINE\"", "\"IOPRIO_CLASS_RT\"", "\"MPOL_BIND\"",
    "\"MPOL_F_STATIC_NODES\"", "\"LINUX32\"", "\"0-3,7\"", "\"3-1\"", "\"2MB\"", "\"64kB\"", "\"MB:0=1\"", "\"idmap\"",
    "\"rbind\"", "\"write\"", "\"eth0\"", "\"a/b\"", "\"net.ipv4.ip_forward\"", "\"vm.swappiness\"",
};

// Member names of the spec, used by the tree mutator to insert fields.
const std::vector<std::string_view> kKeys = {
    "ociVersion", "process", "root", "path", "readonly", "hostname", "domainname", "mounts", "destination", "type",
    "source", "options", "uidMappings", "gidMappings", "containerID", "hostID", "size", "terminal", "consoleSize",
    "height", "width", "user", "uid", "gid", "umask", "additionalGids", "args", "env", "cwd", "capabilities",
    "bounding", "effective", "permitted", "ambient", "rlimits", "hard", "soft", "noNewPrivileges", "oomScoreAdj",
    "scheduler", "policy", "nice", "priority", "flags", "runtime", "deadline", "period", "ioPriority", "class",
    "execCPUAffinity", "initial", "final", "hooks", "prestart", "poststop", "timeout", "annotations", "linux",
    "namespaces", "timeOffsets", "monotonic", "boottime", "secs", "nanosecs", "devices", "major", "minor",
    "fileMode", "resources", "memory", "limit", "swap", "swappiness", "cpu", "shares", "quota", "burst", "cpus",
    "mems", "idle", "pids", "blockIO", "weight", "weightDevice", "rate", "throttleReadBpsDevice", "hugepageLimits",
    "pageSize", "network", "classID", "priorities", "rdma", "hcaHandles", "unified", "cgroupsPath", "seccomp",
    "defaultAction", "defaultErrnoRet", "architectures", "listenerPath", "listenerMetadata", "syscalls", "names",
    "action", "errnoRet", "index", "value", "valueTwo", "op", "rootfsPropagation", "sysctl", "maskedPaths",
    "readonlyPaths", "mountLabel", "intelRdt", "closID", "memBwSchema", "schemata", "personality", "domain",
    "netDevices", "name", "memoryPolicy", "mode", "nodes", "status", "pid", "id", "bundle",
};

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool chance(unsigned percent) { return below(100) < percent; }

  std::string mutate(const std::vector<std::string>& corpus, std::size_t max_len) {
    std::string s = corpus[below(corpus.size())];
    const std::size_t rounds = 1 + below(4);
    for (std::size_t r = 0; r < rounds; ++r) {
      switch (below(8)) {
        case 0: flip_bit(s); break;
        case 1: insert_bytes(s); break;
        case 2: erase_range(s); break;
        case 3: duplicate_range(s); break;
        case 4: splice(s, corpus[below(corpus.size())]); break;
        case 5:
        case 6: replace_token(s); break;
        default: mutate_tree(s); break;
      }
    }
    if (s.size() > max_len) s.resize(max_len);
    return s;
  }

 private:
  void flip_bit(std::string& s) {
    if (s.empty()) return;
    s[below(s.size())] ^= static_cast<char>(1u << below(8));
  }
  void insert_bytes(std::string& s) {
    static constexpr std::string_view kStructural = "{}[]\":,\\ \n0-.eu";
    const std::size_t at = below(s.size() + 1);
    const std::size_t n = 1 + below(4);
    std::string bytes;
    for (std::size_t i = 0; i < n; ++i)
      bytes += chance(70) ? kStructural[below(kStructural.size())] : static_cast<char>(below(256));
    s.insert(at, bytes);
  }
  void erase_range(std::string& s) {
    if (s.empty()) return;
    const std::size_t at = below(s.size());
    s.erase(at, 1 + below(std::min<std::size_t>(64, s.size() - at)));
  }
  void duplicate_range(std::string& s) {
    if (s.empty()) return;
    const std::size_t at = below(s.size());
    const std::string piece = s.substr(at, 1 + below(128));
    s.insert(below(s.size() + 1), piece);
  }
  void splice(std::string& s, const std::string& other) {
    s = s.substr(0, below(s.size() + 1)) + other.substr(below(other.size() + 1));
  }

  // Replaces one JSON scalar token (a number, string, true, false or null)
  // found by a light lexical scan, keeping the document well-formed around it.
  void replace_token(std::string& s) {
    std::vector<std::pair<std::size_t, std::size_t>> tokens;
    for (std::size_t i = 0; i < s.size();) {
      const char c = s[i];
      std::size_t j = i;
      if (c == '"') {
        for (++j; j < s.size() && s[j] != '"'; ++j)
          if (s[j] == '\\') ++j;
        j = std::min(j + 1, s.size());
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        while (j < s.size() && std::string_view("0123456789+-.eE").find(s[j]) != std::string_view::npos) ++j;
      } else if (c == 't' || c == 'f' || c == 'n') {
        while (j < s.size() && s[j] >= 'a' && s[j] <= 'z') ++j;
      } else {
        ++i;
        continue;
      }
      tokens.emplace_back(i, j - i);
      i = j;
    }
    if (tokens.empty()) return;
    const auto [at, len] = tokens[below(tokens.size())];
    s.replace(at, len, kTokens[below(kTokens.size())]);
  }

  json::value random_value(int depth) {
    switch (below(depth > 2 ? 3 : 5)) {
      case 0: {
        boost::system::error_code ec;
        json::value v = json::parse(kTokens[below(kTokens.size())], ec);
        return ec ? json::value(nullptr) : v;
      }
      case 1: return json::value(json::string_view(kKeys[below(kKeys.size())]));
      case 2: return json::value(static_cast<std::int64_t>(below(5000)) - 1000);
      case 3: {
        json::array a;
        for (std::size_t i = below(3); i > 0; --i) a.push_back(random_value(depth + 1));
        return a;
      }
      default: {
        json::object o;
        for (std::size_t i = below(3); i > 0; --i) o[kKeys[below(kKeys.size())]] = random_value(depth + 1);
        return o;
      }
    }
  }

  // Picks a random node of the parsed document and changes it: drop or add a
  // member, replace a value (often with one of another type), duplicate or
  // drop an array element. Documents that do not parse are left alone.
  void mutate_tree(std::string& s) {
    boost::system::error_code ec;
    json::value doc = json::parse(s, ec);
    if (ec) return;
    std::vector<json::value*> nodes;
    collect(doc, nodes);
    json::value* n = nodes[below(nodes.size())];
    if (json::object* o = n->if_object()) {
      if (!o->empty() && chance(40)) {
        auto it = o->begin() + static_cast<std::ptrdiff_t>(below(o->size()));
        o->erase(it);
      } else {
        (*o)[kKeys[below(kKeys.size())]] = random_value(0);
      }
    } else if (json::array* a = n->if_array()) {
      if (!a->empty() && chance(50)) {
        const std::size_t i = below(a->size());
        if (chance(50)) a->erase(a->begin() + static_cast<std::ptrdiff_t>(i));
        else a->push_back(json::value((*a)[i]));
      } else {
        a->push_back(random_value(0));
      }
    } else {
      *n = random_value(0);
    }
    s = json::serialize(doc);
  }

  static void collect(json::value& v, std::vector<json::value*>& out) {
    out.push_back(&v);
    if (json::object* o = v.if_object())
      for (auto& kv : *o) collect(kv.value(), out);
    else if (json::array* a = v.if_array())
      for (json::value& x : *a) collect(x, out);
  }

  std::mt19937_64 rng_;
};

// The input being run, saved by the crash handlers below with async-signal-safe
// calls only (no allocation), so that a crash leaves its reproducer.
const std::string* g_input = nullptr;
std::string g_crash_path;

void save_input() noexcept {
  if (!g_input) return;
  const int fd = ::open(g_crash_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const char* p = g_input->data();
  std::size_t left = g_input->size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fd);
  static constexpr char kMsg[] = "fuzz-config: FINDING: the crashing input is saved in ";
  [[maybe_unused]] ssize_t r = ::write(2, kMsg, sizeof kMsg - 1);
  r = ::write(2, g_crash_path.data(), g_crash_path.size());
  r = ::write(2, "\n", 1);
  g_input = nullptr;
}

void on_fatal_signal(int sig) {
  save_input();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

// Provided by the sanitizer runtimes (ASan/UBSan call it before exiting on an
// error); null in a plain build.
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)());

namespace {

void install_crash_handlers(const fs::path& dir) {
  g_crash_path = (dir / ("fuzz-config-crash." + std::to_string(::getpid()))).string();
  for (const int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_fatal_signal);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback([] { save_input(); });
}

void run_one(const std::string& input) {
  g_input = &input;
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  } catch (const std::exception& e) {
    std::cerr << "fuzz-config: FINDING: uncaught " << typeid(e).name() << ": " << e.what() << "\n";
    std::abort();
  } catch (...) {
    std::cerr << "fuzz-config: FINDING: uncaught non-standard exception\n";
    std::abort();
  }
  g_input = nullptr;
}

// Whether `input` decodes as a config (cheap check to grow the corpus).
bool parses(const std::string& input) {
  boost::system::error_code ec;
  const json::value v = json::parse(input, ec);
  return !ec && v.is_object() && v.get_object().contains("ociVersion");
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  std::vector<std::string> corpus = load_corpus(opt.inputs);
  if (corpus.empty()) usage("the seed corpus is empty");
  const std::size_t seeds = corpus.size();
  install_crash_handlers(opt.crash_dir);

  const auto start = std::chrono::steady_clock::now();
  for (const std::string& s : corpus) run_one(s);
  Mutator m(opt.seed);
  std::uint64_t grown = 0;
  for (std::uint64_t i = 0; i < opt.iterations; ++i) {
    std::string input = m.mutate(corpus, opt.max_len);
    run_one(input);
    // Keep some mutants that are still configs, bounded, so the loop explores
    // around valid documents rather than only around the seeds.
    if (corpus.size() < seeds + 2000 && m.chance(10) && parses(input)) {
      corpus.push_back(std::move(input));
      ++grown;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "fuzz-config: " << seeds << " seeds + " << opt.iterations << " mutated inputs (seed " << opt.seed
            << ", corpus grew by " << grown << ") in " << secs << " s: no finding\n";
  return 0;
}
