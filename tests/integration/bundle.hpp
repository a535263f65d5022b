// A busybox bundle for container tests: a fresh temp dir with rootfs/ (Debian's static busybox,
// made by contrib/busybox-bundle.sh), config.json from `berth spec` held as JSON to edit, and
// its own --root state directory. The destructor force-deletes the container.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "oci/json.hpp"
#include "tests/integration/harness.hpp"

namespace berth::test {

// Records why a test cannot run on this host: the test runner counts it as skipped and
// prints the reason (Catch2 v2 has no SKIP).
inline void skip(const std::string& reason) {
  WARN("skipped: " << reason);
  if (const char* log = std::getenv("BERTH_SKIP_LOG")) {
    std::ofstream f(log, std::ios::app);
    f << Catch::getResultCapture().getCurrentTestName() << ": " << reason << "\n";
  }
}

inline bool have_root() { return ::geteuid() == 0; }

#define REQUIRE_ROOT()                                                 \
  do {                                                                 \
    if (!berth::test::have_root()) {                                   \
      berth::test::skip("needs root to create namespaces and mounts"); \
      return;                                                          \
    }                                                                  \
  } while (0)

class Bundle {
 public:
  explicit Bundle(std::string id = "") : tmp_("berth-ct") {
    static int n = 0;
    id_ = id.empty() ? "t" + std::to_string(::getpid()) + "-" + std::to_string(++n) : std::move(id);
    // One busybox bundle per test run, copied for each test: making it runs ~400 processes,
    // which takes seconds under emulation (the cgroup v2 VM lane).
    // Removed only by the process that made it, not by a forked child that exits.
    struct Template {
      std::unique_ptr<TempDir> dir;
      pid_t owner = ::getpid();
      ~Template() {
        if (::getpid() != owner) (void)dir.release();
      }
    };
    static Template templ;
    if (!templ.dir) {
      auto d = std::make_unique<TempDir>("berth-bundle");
      const auto script = source_root() / "contrib" / "busybox-bundle.sh";
      RunOptions slow;
      slow.timeout = std::chrono::seconds(300);  // emulated and loaded, it has taken over 30 s
      RunResult r = run({"sh", script.string(), (*d / "bundle").string(), berth_binary()}, slow);
      if (!r.ok()) throw std::runtime_error("busybox-bundle.sh: " + r.describe());
      templ.dir = std::move(d);
    }
    RunResult r = run({"cp", "-a", (*templ.dir / "bundle").string(), dir().string()});
    if (!r.ok()) throw std::runtime_error("copy the busybox bundle: " + r.describe());
    config = boost::json::parse(read_file(dir() / "config.json"));
  }
  ~Bundle() {
    RunOptions o;
    o.timeout = std::chrono::seconds(20);
    berth({"--root", state_root(), "delete", "--force", id_}, o);
  }
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;

  const std::string& id() const { return id_; }
  std::filesystem::path dir() const { return tmp_ / "bundle"; }
  std::filesystem::path rootfs() const { return dir() / "rootfs"; }
  std::string state_root() const { return (tmp_ / "state").string(); }
  std::filesystem::path path(const std::string& p) const { return tmp_ / p; }

  boost::json::object& process() { return config.as_object()["process"].as_object(); }
  boost::json::object& linux() { return config.as_object()["linux"].as_object(); }
  // Drops linux.namespaces[] entries of `type` ("pid": the container shares the host's).
  void without_namespace(std::string_view type) {
    boost::json::array& ns = linux()["namespaces"].as_array();
    ns.erase(std::remove_if(ns.begin(), ns.end(), [&](const boost::json::value& n) { return n.at("type").as_string() == type; }),
             ns.end());
  }
  void args(std::vector<std::string> a) {
    boost::json::array arr;
    for (auto& s : a) arr.emplace_back(s);
    process()["args"] = std::move(arr);
  }
  void save() const { write_file(dir() / "config.json", berth::oci::pretty_json(config)); }

  // berth --root <state> ARGS...
  RunResult cli(std::vector<std::string> args, const RunOptions& o = {}) const {
    args.insert(args.begin(), {"--root", state_root()});
    return berth(args, o);
  }
  // Saves the config and runs the container in the foreground: `berth run --bundle B ID`.
  RunResult run_fg(const RunOptions& o = {}) const {
    save();
    return cli({"run", "--bundle", dir().string(), id_}, o);
  }
  RunResult create() const {
    save();
    return cli({"create", "--bundle", dir().string(), id_});
  }
  boost::json::value state() const {
    RunResult r = cli({"state", id_});
    if (!r.ok()) return nullptr;
    return boost::json::parse(r.out);
  }
  std::string status() const {
    auto s = state();
    return s.is_object() ? std::string(s.at("status").as_string()) : std::string("(none)");
  }

  boost::json::value config;

 private:
  TempDir tmp_;
  std::string id_;
};

// Runs a shell script with $BERTH (the binary with --root), $B (the bundle) and $ID set; saves
// the config first.
inline RunResult shell(const Bundle& b, const std::string& script, RunOptions o = {}) {
  b.save();
  o.env["BERTH"] = berth_binary() + " --root " + b.state_root();
  o.env["B"] = b.dir().string();
  o.env["ID"] = b.id();
  return run({"sh", "-c", script}, o);
}

// Polls `berth state` until the container has status `want` (up to 4 s).
inline bool wait_status(const Bundle& b, const std::string& want) {
  for (int i = 0; i < 200; ++i) {
    if (b.status() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace berth::test
