// berth run by an unprivileged user, as runc's rootless mode: `berth spec --rootless` output runs
// unchanged, container root is the user's own uid in a user namespace, state goes under
// $XDG_RUNTIME_DIR/berth, a delegated cgroup is used and none is needed otherwise (limits are
// then an error), more ids are mapped through newuidmap/newgidmap, and root inside
// `unshare -U -r` is rootless too (--rootless auto).
//
// The tests run as root and drop to a system user made for them (berth-rootless, left in place
// for the next run) with setpriv. Each gets a copy of the busybox bundle chowned to that user
// and an XDG_RUNTIME_DIR of its own (0700).
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/integration/bundle.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using berth::test::Bundle;
using berth::test::RunOptions;
using berth::test::RunResult;

namespace {

constexpr const char* kUser = "berth-rootless";
// The subordinate ids the tests give the user for newuidmap/newgidmap, unless it has some.
constexpr std::uint32_t kSubStart = 1000000, kSubCount = 65536;

struct User {
  uid_t uid;
  gid_t gid;
};

std::optional<User> lookup_user() {
  const passwd* pw = ::getpwnam(kUser);
  if (!pw) return std::nullopt;
  return User{pw->pw_uid, pw->pw_gid};
}

// The test user, created when missing. nullopt (and a skip) when that is impossible here.
std::optional<User> rootless_user() {
  if (auto u = lookup_user()) return u;
  if (!berth::test::find_program("useradd")) {
    berth::test::skip("useradd (package passwd) is missing: cannot create the unprivileged test user");
    return std::nullopt;
  }
  const RunResult r =
      berth::test::run({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", kUser});
  auto u = lookup_user();
  if (!u) berth::test::skip("useradd " + std::string(kUser) + " failed: " + r.describe());
  return u;
}

// The user's first range in /etc/subuid or /etc/subgid ("name:start:count"), adding ours when
// it has none. nullopt when the file cannot be written.
std::optional<std::uint32_t> subordinate_start(const std::string& file) {
  {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos || line.substr(0, a) != kUser) continue;
      return static_cast<std::uint32_t>(std::stoul(line.substr(a + 1, b - a - 1)));
    }
  }
  std::ofstream out(file, std::ios::app);
  out << kUser << ":" << kSubStart << ":" << kSubCount << "\n";
  if (!out) return std::nullopt;
  return kSubStart;
}

std::string uid_str(const User& u) { return std::to_string(u.uid); }
std::string gid_str(const User& u) { return std::to_string(u.gid); }

// argv run as the test user: real and effective ids, no supplementary groups, no capabilities.
RunResult as_user(const User& u, std::vector<std::string> argv, const RunOptions& o = {}) {
  argv.insert(argv.begin(), {"setpriv", "--reuid=" + uid_str(u), "--regid=" + gid_str(u), "--clear-groups",
                             "--inh-caps=-all"});
  return berth::test::run(argv, o);
}

void chown_tree(const fs::path& p, const User& u) {
  const RunResult r = berth::test::run({"chown", "-R", uid_str(u) + ":" + gid_str(u), p.string()});
  if (!r.ok()) throw std::runtime_error("chown -R " + p.string() + ": " + r.describe());
}

// A busybox bundle the user owns, with `berth spec --rootless` (made by the user, so the
// mappings name its ids) as config, and $XDG_RUNTIME_DIR (0700) for berth's default --root.
class RootlessBundle {
 public:
  explicit RootlessBundle(const User& u, bool rootless_spec = true) : user_(u) {
    fs::permissions(b_.path(""), fs::perms::owner_all);
    fs::create_directory(b_.path("xdg"));
    fs::permissions(b_.path("xdg"), fs::perms::owner_all);
    chown_tree(b_.path(""), u);
    if (!rootless_spec) return;
    fs::remove(b_.dir() / "config.json");
    const RunResult r = as_user(u, {berth::test::berth_binary(), "spec", "--rootless", "--bundle", b_.dir().string()});
    if (!r.ok()) throw std::runtime_error("berth spec --rootless as " + std::string(kUser) + ": " + r.describe());
    b_.config = json::parse(berth::test::read_file(b_.dir() / "config.json"));
  }
  ~RootlessBundle() {
    // The user's containers are the user's to delete; Bundle's own delete (as root, another
    // --root) finds nothing.
    RunOptions o = env();
    o.timeout = std::chrono::seconds(20);
    for (const auto& extra : extra_roots_) berth({"--root", extra, "delete", "--force", b_.id()}, o);
    berth({"delete", "--force", b_.id()}, o);
  }
  RootlessBundle(const RootlessBundle&) = delete;
  RootlessBundle& operator=(const RootlessBundle&) = delete;

  Bundle& bundle() { return b_; }
  const std::string& id() const { return b_.id(); }
  fs::path xdg() const { return b_.path("xdg"); }
  fs::path state_dir() const { return xdg() / "berth" / b_.id(); }
  void args(std::vector<std::string> a) { b_.args(std::move(a)); }
  // Saves config.json (written by root into the user's bundle: world-readable, that is enough).
  void save() const {
    b_.save();
    ::chown((b_.dir() / "config.json").c_str(), user_.uid, user_.gid);
  }

  RunOptions env() const {
    RunOptions o;
    o.env["XDG_RUNTIME_DIR"] = xdg().string();
    o.env["USER"] = kUser;
    o.env["HOME"] = b_.path("").string();
    return o;
  }
  // berth ARGS as the user, with its XDG_RUNTIME_DIR (so the default --root is its own).
  RunResult berth(std::vector<std::string> args, std::optional<RunOptions> o = std::nullopt) const {
    args.insert(args.begin(), berth::test::berth_binary());
    return as_user(user_, args, o ? *o : env());
  }
  RunResult run_fg(std::vector<std::string> global = {}) const {
    save();
    global.insert(global.end(), {"run", "--bundle", b_.dir().string(), b_.id()});
    return berth(global);
  }
  std::string status() const {
    const RunResult r = berth({"state", b_.id()});
    if (!r.ok()) return "(none)";
    return std::string(json::parse(r.out).at("status").as_string());
  }
  bool wait_status(const std::string& want) const {
    for (int i = 0; i < 250; ++i) {
      if (status() == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // A --root the destructor also cleans.
  void also_clean(const std::string& root) { extra_roots_.push_back(root); }

 private:
  Bundle b_;
  User user_;
  std::vector<std::string> extra_roots_;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// A cgroup subtree delegated to the user, as systemd's Delegate=yes would: in every hierarchy,
// <own cgroup of the test>/berth-deleg-<pid> and its child leaf/, chowned to the user. A
// process put into leaf/ has berth's rootless default cgroup (v1: <own>/<id>; cgroup2-only:
// <own>/../<id>) inside the subtree. Removed again by the destructor.
class Delegation {
 public:
  explicit Delegation(const User& u) {
    std::vector<std::pair<std::string, std::string>> own;  // controllers, path
    {
      std::ifstream in("/proc/self/cgroup");
      for (std::string line; std::getline(in, line);) {
        const auto a = line.find(':'), b = line.find(':', a + 1);
        if (a != std::string::npos && b != std::string::npos)
          own.emplace_back(line.substr(a + 1, b - a - 1), line.substr(b + 1));
      }
    }
    std::vector<bool> taken(own.size(), false);
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
      const auto dash = line.find(" - ");
      if (dash == std::string::npos) continue;
      const auto left = split(line.substr(0, dash), ' '), right = split(line.substr(dash + 3), ' ');
      if (left.size() < 5 || right.size() < 3 || (right[0] != "cgroup" && right[0] != "cgroup2")) continue;
      if (left[3] != "/") continue;  // a sub-tree mount: not the host's hierarchy
      const auto opts = split(right[2], ',');
      for (size_t i = 0; i < own.size(); ++i) {
        if (taken[i]) continue;
        bool match = right[0] == "cgroup2" ? own[i].first.empty() : !own[i].first.empty();
        if (match && right[0] == "cgroup")
          for (const auto& c : split(own[i].first, ','))
            match = match && std::find(opts.begin(), opts.end(), c) != opts.end();
        if (!match) continue;
        taken[i] = true;
        unified_ = unified_ || (right[0] == "cgroup2" && left[4] == "/sys/fs/cgroup");
        dirs_.push_back(fs::path(left[4] + (own[i].second == "/" ? "" : own[i].second)) /
                        ("berth-deleg-" + std::to_string(::getpid())));
      }
    }
    for (const fs::path& d : dirs_) {
      fs::create_directory(d);
      fs::create_directory(d / "leaf");
      // A v1 cpuset cgroup takes no task until it has cpus and mems.
      for (const char* f : {"cpuset.cpus", "cpuset.mems"})
        if (fs::exists(d / f) && !fs::exists(d / "cgroup.controllers")) {
          const std::string v = berth::test::read_file(d.parent_path() / f);
          berth::test::write_file(d / f, v);
          berth::test::write_file(d / "leaf" / f, v);
        }
      chown_tree(d, u);
    }
  }
  ~Delegation() {
    for (const fs::path& d : dirs_) {
      ::rmdir((d / "leaf").c_str());
      ::rmdir(d.c_str());
    }
  }
  Delegation(const Delegation&) = delete;
  Delegation& operator=(const Delegation&) = delete;

  bool unified() const { return unified_; }
  const std::vector<fs::path>& dirs() const { return dirs_; }
  // Shell commands that move the shell ($$) into every leaf.
  std::string enter() const {
    std::string script;
    for (const fs::path& d : dirs_) script += "echo $$ > " + (d / "leaf" / "cgroup.procs").string() + " && ";
    return script;
  }

 private:
  std::vector<fs::path> dirs_;
  bool unified_ = false;
};

std::string strip_cr(std::string s) {
  std::erase(s, '\r');
  return s;
}

bool berth_reachable(const User& u) {
  const RunResult r = as_user(u, {berth::test::berth_binary(), "--version"});
  if (!r.ok()) berth::test::skip(std::string(kUser) + " cannot run " + berth::test::berth_binary() + ": " + r.describe());
  return r.ok();
}

#define REQUIRE_ROOTLESS_USER(u)                           \
  REQUIRE_ROOT();                                          \
  const std::optional<User> u##_opt = rootless_user();     \
  if (!u##_opt || !berth_reachable(*u##_opt)) return;      \
  const User& u = *u##_opt

}  // namespace

TEST_CASE("rootless: `berth spec --rootless` runs unchanged as the user who made it", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  RootlessBundle rb(u);
  // Only the command changes: terminal stays on (berth relays the pty), the rootfs is the
  // bundle's "rootfs", the mappings are the ones spec wrote.
  rb.args({"sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; cat /proc/self/setgroups"});
  const RunResult r = rb.run_fg();
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(strip_cr(r.out) == "uid=0(root) gid=0(root)\n 0 " + uid_str(u) + " 1\n 0 " + gid_str(u) + " 1\ndeny\n");
}

TEST_CASE("rootless: state under $XDG_RUNTIME_DIR/berth through create, start, state, ps, kill, delete", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  RootlessBundle rb(u);
  rb.bundle().process()["terminal"] = false;
  rb.args({"sleep", "1000"});
  // Runtime hooks run as the user, in its namespaces.
  auto hook = [&](const char* name) {
    const std::string out = rb.bundle().path(name).string();
    return json::array{json::object{{"path", "/bin/sh"}, {"args", json::array{"sh", "-c", "id -u > " + out}}}};
  };
  rb.bundle().config.as_object()["hooks"] =
      json::object{{"prestart", hook("prestart")}, {"createRuntime", hook("createRuntime")}, {"poststop", hook("poststop")}};
  rb.save();
  const RunResult created = rb.berth({"create", "--bundle", rb.bundle().dir().string(), rb.id()});
  INFO(created.describe());
  REQUIRE(created.ok());
  // The default --root: the user's, made 0700 (and sticky, as runc does, against XDG pruning).
  struct stat st {};
  REQUIRE(::stat(rb.state_dir().c_str(), &st) == 0);
  CHECK(st.st_uid == u.uid);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(::stat((rb.xdg() / "berth").c_str(), &st) == 0);
  CHECK(st.st_uid == u.uid);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(rb.status() == "created");
  CHECK(berth::test::read_file(rb.bundle().path("prestart")) == uid_str(u) + "\n");
  CHECK(berth::test::read_file(rb.bundle().path("createRuntime")) == uid_str(u) + "\n");

  const RunResult list = rb.berth({"list", "--quiet"});
  INFO(list.describe());
  CHECK(list.out == rb.id() + "\n");

  REQUIRE(rb.berth({"start", rb.id()}).ok());
  REQUIRE(rb.wait_status("running"));
  const RunResult state = rb.berth({"state", rb.id()});
  REQUIRE(state.ok());
  const json::value doc = json::parse(state.out);
  const auto pid = doc.at("pid").as_int64();
  // The container's process is the user's on the host.
  REQUIRE(::stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0);
  CHECK(st.st_uid == u.uid);

  const RunResult ps = rb.berth({"ps", "--format", "json", rb.id()});
  INFO(ps.describe());
  CHECK(ps.out == "[" + std::to_string(pid) + "]\n");
  // No delegated cgroup here: nothing to freeze, and the error says so.
  const RunResult pause = rb.berth({"pause", rb.id()});
  CHECK_FALSE(pause.ok());
  CHECK(pause.err.find("no cgroup") != std::string::npos);

  REQUIRE(rb.berth({"kill", rb.id(), "KILL"}).ok());
  REQUIRE(rb.wait_status("stopped"));
  REQUIRE(rb.berth({"delete", rb.id()}).ok());
  CHECK_FALSE(fs::exists(rb.state_dir()));
  CHECK(berth::test::read_file(rb.bundle().path("poststop")) == uid_str(u) + "\n");
  CHECK(rb.berth({"list", "--quiet"}).out.empty());
}

TEST_CASE("rootless: container root cannot write a root-owned host file bound into it", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  RootlessBundle rb(u);
  const fs::path secret = rb.bundle().path("root-owned");
  berth::test::write_file(secret, "host\n");
  REQUIRE(::chown(secret.c_str(), 0, 0) == 0);
  REQUIRE(::chmod(secret.c_str(), 0644) == 0);
  rb.bundle().process()["terminal"] = false;
  rb.bundle().config.as_object()["mounts"].as_array().push_back(json::object{
      {"destination", "/secret"}, {"type", "bind"}, {"source", secret.string()}, {"options", json::array{"bind"}}});
  // uid 0 in the container has CAP_DAC_OVERRIDE over its own namespace only; host root's files
  // stay host root's, seen as the overflow uid.
  rb.args({"sh", "-c", "cat /secret; stat -c '%u %a' /secret; if echo pwned > /secret; then echo WROTE; fi; "
                       "chmod 666 /secret || echo no-chmod"});
  const RunResult r = rb.run_fg();
  INFO(r.describe());
  CHECK(r.out == "host\n65534 644\nno-chmod\n");
  CHECK(r.err.find("Permission denied") != std::string::npos);
  CHECK(berth::test::read_file(secret) == "host\n");
}

TEST_CASE("rootless: limits without a delegated cgroup are an error naming linux.resources", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  RootlessBundle rb(u);
  rb.bundle().process()["terminal"] = false;
  rb.bundle().linux()["resources"] = json::object{{"pids", json::object{{"limit", 100}}}};
  rb.args({"true"});
  const RunResult r = rb.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("linux.resources") != std::string::npos);
  CHECK(r.err.find("Permission denied") != std::string::npos);
  CHECK_FALSE(fs::exists(rb.state_dir()));  // nothing left behind
}

TEST_CASE("rootless: a delegated cgroup is used, with limits, pause and resume", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  Delegation deleg(u);
  REQUIRE_FALSE(deleg.dirs().empty());
  if (deleg.unified()) {
    const std::string offered = berth::test::read_file(deleg.dirs()[0] / "cgroup.controllers");
    if (offered.find("pids") == std::string::npos) {
      berth::test::skip("the pids controller is not enabled for the test's cgroup, so it cannot be delegated");
      return;
    }
  }
  RootlessBundle rb(u);
  rb.bundle().process()["terminal"] = false;
  rb.bundle().linux()["resources"] = json::object{{"pids", json::object{{"limit", 100}}}};
  rb.args({"sleep", "1000"});
  rb.save();
  // berth starts in the delegated leaf, as it would from a shell in a delegated session.
  std::string script = deleg.enter() + "exec setpriv --reuid=" + uid_str(u) + " --regid=" + gid_str(u) +
                       " --clear-groups --inh-caps=-all " + berth::test::berth_binary() + " run -d --bundle " +
                       rb.bundle().dir().string() + " " + rb.id();
  const RunResult r = berth::test::run({"sh", "-c", script}, rb.env());
  INFO(r.describe());
  REQUIRE(r.ok());
  REQUIRE(rb.wait_status("running"));
  const auto pid = json::parse(rb.berth({"state", rb.id()}).out).at("pid").as_int64();
  // The container's cgroup, in the delegated subtree, has the limit.
  std::string pids_dir;
  {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(in, line);) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      const std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      INFO(line);
      CHECK(path.find("/berth-deleg-" + std::to_string(::getpid()) + "/") != std::string::npos);
      CHECK(path.substr(path.rfind('/') + 1) == rb.id());
      if (deleg.unified() && ctrls.empty()) pids_dir = "/sys/fs/cgroup" + path;
      if (!deleg.unified() && ctrls == "pids") pids_dir = "/sys/fs/cgroup/pids" + path;
    }
  }
  REQUIRE_FALSE(pids_dir.empty());
  CHECK(berth::test::read_file(fs::path(pids_dir) / "pids.max") == "100\n");
  const RunResult ps = rb.berth({"ps", "--format", "json", rb.id()});
  CHECK(ps.out == "[" + std::to_string(pid) + "]\n");
  const RunResult pause = rb.berth({"pause", rb.id()});
  INFO(pause.describe());
  CHECK(pause.ok());
  CHECK(rb.status() == "paused");
  CHECK(rb.berth({"resume", rb.id()}).ok());
  CHECK(rb.status() == "running");
  const RunResult del = rb.berth({"delete", "--force", rb.id()});
  INFO(del.describe());
  CHECK(del.ok());
  CHECK_FALSE(fs::exists(pids_dir));
}

TEST_CASE("rootless: --rootless=false as an unprivileged user reports the cgroup permission error", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  RootlessBundle rb(u);
  rb.bundle().process()["terminal"] = false;
  rb.args({"true"});
  const RunResult r = rb.run_fg({"--rootless=false"});
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cgroups: mkdir") != std::string::npos);
  CHECK(r.err.find("Permission denied") != std::string::npos);
  CHECK_FALSE(fs::exists(rb.state_dir()));
  // And true (or auto, above) runs without one.
  const RunResult ok = rb.run_fg({"--rootless=true"});
  INFO(ok.describe());
  CHECK(ok.ok());
}

TEST_CASE("rootless: an unknown --rootless value is refused", "[rootless]") {
  const RunResult r = berth::test::berth({"--rootless", "maybe", "list"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("invalid value \"maybe\" for flag --rootless") != std::string::npos);
}

TEST_CASE("rootless: root in `unshare -U -r` is rootless with --rootless auto", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  if (!berth::test::find_program("unshare")) {
    berth::test::skip("unshare (util-linux) is missing");
    return;
  }
  // The plain `berth spec` (root's config: new network namespace, no user namespace of its own)
  // run by root of a user namespace an unprivileged user made. gid 5 (tty) is not mapped there.
  RootlessBundle rb(u, /*rootless_spec=*/false);
  for (auto& m : rb.bundle().config.as_object()["mounts"].as_array()) {
    if (m.at("destination") != "/dev/pts") continue;
    json::array& opts = m.as_object()["options"].as_array();
    opts.erase(std::remove(opts.begin(), opts.end(), json::value("gid=5")), opts.end());
  }
  rb.args({"sh", "-c", "id -u; cat /proc/self/uid_map | tr -s ' '"});
  rb.save();
  const std::string root = rb.bundle().path("ns-state").string();
  rb.also_clean(root);
  const std::vector<std::string> run = {"unshare", "-U", "-r", berth::test::berth_binary(), "--root", root};
  auto in_userns = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = run;
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"run", "--bundle", rb.bundle().dir().string(), rb.id()});
    return as_user(u, argv, rb.env());
  };
  const RunResult r = in_userns({});
  INFO(r.describe());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "0\n 0 " + uid_str(u) + " 1\n");
  // Explicitly not rootless, the same is the cgroup permission error.
  const RunResult strict = in_userns({"--rootless=false"});
  INFO(strict.describe());
  CHECK(strict.exit_code == 1);
  CHECK(strict.err.find("cgroups: mkdir") != std::string::npos);
}

TEST_CASE("rootless: mappings beyond the user's own id go through newuidmap and newgidmap", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  if (!berth::test::find_program("newuidmap") || !berth::test::find_program("newgidmap")) {
    berth::test::skip("newuidmap/newgidmap (package uidmap) are not installed");
    return;
  }
  const auto subuid = subordinate_start("/etc/subuid"), subgid = subordinate_start("/etc/subgid");
  if (!subuid || !subgid) {
    berth::test::skip("cannot give the test user ranges in /etc/subuid and /etc/subgid");
    return;
  }
  RootlessBundle rb(u);
  rb.bundle().process()["terminal"] = false;
  const auto own = [](std::uint32_t id, std::uint32_t sub) {
    return json::array{json::object{{"containerID", 0}, {"hostID", id}, {"size", 1}},
                       json::object{{"containerID", 1}, {"hostID", sub}, {"size", 1000}}};
  };
  rb.bundle().linux()["uidMappings"] = own(u.uid, *subuid);
  rb.bundle().linux()["gidMappings"] = own(u.gid, *subgid);
  // Container uid 100 exists only through the subordinate range: host subuid+99.
  rb.bundle().process()["user"] = json::object{{"uid", 100}, {"gid", 100}};
  rb.args({"sleep", "1000"});
  rb.save();
  const RunResult r = rb.berth({"create", "--bundle", rb.bundle().dir().string(), rb.id()});
  INFO(r.describe());
  REQUIRE(r.ok());
  const std::string proc = "/proc/" + std::to_string(json::parse(rb.berth({"state", rb.id()}).out).at("pid").as_int64());
  struct stat st {};
  REQUIRE(::stat(proc.c_str(), &st) == 0);
  CHECK(st.st_uid == *subuid + 99);
  CHECK(st.st_gid == *subgid + 99);
  auto squeeze = [](std::string s) {
    std::string out;
    for (char c : s)
      if (c != ' ' || (!out.empty() && out.back() != ' ' && out.back() != '\n')) out += c;
    return out;
  };
  CHECK(squeeze(berth::test::read_file(proc + "/uid_map")) ==
        "0 " + uid_str(u) + " 1\n1 " + std::to_string(*subuid) + " 1000\n");
  CHECK(squeeze(berth::test::read_file(proc + "/gid_map")) ==
        "0 " + gid_str(u) + " 1\n1 " + std::to_string(*subgid) + " 1000\n");
  CHECK(rb.berth({"delete", "--force", rb.id()}).ok());
}

TEST_CASE("rootless: a mapping the user may not make names linux.uidMappings and the errno", "[rootless]") {
  REQUIRE_ROOTLESS_USER(u);
  RootlessBundle rb(u);
  rb.bundle().process()["terminal"] = false;
  // Host uid 0 is nobody's to map but root's, with or without newuidmap.
  rb.bundle().linux()["uidMappings"] = json::array{json::object{{"containerID", 0}, {"hostID", 0}, {"size", 1}}};
  rb.args({"true"});
  const RunResult r = rb.run_fg();
  INFO(r.describe());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("linux.uidMappings") != std::string::npos);
  CHECK(r.err.find("Operation not permitted") != std::string::npos);
  CHECK_FALSE(fs::exists(rb.state_dir()));
}
