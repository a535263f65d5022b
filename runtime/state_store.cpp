#include "runtime/state_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <cerrno>

#include <boost/json.hpp>

#include "runtime/sys/dir.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace json = boost::json;

namespace berth {

namespace {

constexpr const char* kStateFile = "state.json";
constexpr const char* kStateTmp = ".state.json.tmp";


void lock(int fd, const std::string& path) {
  int r;
  do r = ::flock(fd, LOCK_EX);
  while (r < 0 && errno == EINTR);
  if (r < 0) throw_errno("flock", path);
}

// Removes everything under dirfd (one level of subdirectories is all berth ever creates,
// but recurse anyway so a half-made directory of any shape can be deleted).
void remove_contents(int dirfd, const std::string& path) {
  const int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) throw_errno("dup", path);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    throw_errno("opendir", path);
  }
  sys::Dir guard(d);
  ::rewinddir(d);
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (::unlinkat(dirfd, name.c_str(), 0) == 0) continue;
    if (errno != EISDIR) throw_errno("unlink", path + "/" + name);
    sys::Fd sub = sys::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    remove_contents(sub.get(), path + "/" + name);
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0) throw_errno("rmdir", path + "/" + name);
  }
}

}  // namespace

void validate_container_id(const std::string& id) {
  if (id.empty()) throw Error("container id: must not be empty");
  if (id.size() > 1024) throw Error("container id: longer than 1024 characters");
  if (id == "." || id == "..") throw Error(fmt::format("container id `{}`: invalid", id));
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok)
      throw Error(fmt::format("container id `{}`: invalid character `{}` (allowed: letters, digits, _ + - .)", id, c));
  }
}

StateDir StateDir::create(const std::string& root, const std::string& id) {
  validate_container_id(id);
  sys::mkdir_p(root, 0700);
  const std::string path = root + "/" + id;
  if (::mkdir(path.c_str(), 0700) < 0) {
    if (errno == EEXIST) throw Error(fmt::format("container `{}` already exists", id));
    throw_errno("mkdir", path);
  }
  try {
    sys::Fd fd = sys::openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    lock(fd.get(), path);
    return StateDir(path, std::move(fd));
  } catch (...) {
    ::rmdir(path.c_str());
    throw;
  }
}

StateDir StateDir::open(const std::string& root, const std::string& id) {
  validate_container_id(id);
  const std::string path = root + "/" + id;
  auto fd = sys::try_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!fd) throw Error(fmt::format("container `{}` does not exist", id));
  lock(fd->get(), path);
  // A concurrent delete may have removed it while we waited for the lock.
  struct stat st;
  if (::fstat(fd->get(), &st) == 0 && st.st_nlink == 0) throw Error(fmt::format("container `{}` does not exist", id));
  return StateDir(path, std::move(*fd));
}

std::vector<std::string> StateDir::list(const std::string& root) {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    throw_errno("opendir", root);
  }
  sys::Dir guard(d);
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' || e->d_type != DT_DIR) continue;
    ids.emplace_back(e->d_name);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void StateDir::write_record(const ContainerRecord& r) {
  const std::string text = json::serialize(to_json(r));
  {
    sys::Fd tmp = sys::openat(dir_.get(), kStateTmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    sys::write_all(tmp.get(), text, path_ + "/" + kStateTmp);
    if (::fsync(tmp.get()) < 0) throw_errno("fsync", path_ + "/" + kStateTmp);
  }
  if (::renameat(dir_.get(), kStateTmp, dir_.get(), kStateFile) < 0) throw_errno("rename", path_ + "/" + kStateFile);
}

std::optional<ContainerRecord> StateDir::read_record() const {
  auto text = sys::try_read_file(dir_.get(), kStateFile);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec) throw Error(fmt::format("parse `{}/{}`: {}", path_, kStateFile, ec.message()));
  return with_context(fmt::format("read `{}/{}`", path_, kStateFile), [&] { return record_from_json(v); });
}

void StateDir::remove() {
  remove_contents(dir_.get(), path_);
  if (::rmdir(path_.c_str()) < 0 && errno != ENOENT) throw_errno("rmdir", path_);
}

json::value to_json(const ContainerRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["bundle"] = r.bundle;
  o["rootfs"] = r.rootfs;
  o["pid"] = r.pid;
  o["initStartTime"] = r.init_start_time;
  o["created"] = r.created;
  o["owner"] = r.owner;
  json::object ann;
  for (const auto& [k, v] : r.annotations) ann[k] = v;
  o["annotations"] = std::move(ann);
  if (!r.hooks.is_null()) o["hooks"] = r.hooks;
  o["hasPidNs"] = r.has_pid_ns;
  o["notify"] = r.notify;
  o["pidNs"] = r.pid_ns;
  if (!r.cgroup.empty()) {
    json::object cg;
    cg["mode"] = r.cgroup.mode == cgroups::Mode::Unified ? "unified"
                 : r.cgroup.mode == cgroups::Mode::Hybrid ? "hybrid" : "legacy";
    json::object v1;
    for (const auto& [c, dir] : r.cgroup.v1) v1[c] = dir;
    cg["v1"] = std::move(v1);
    if (!r.cgroup.unified.empty()) cg["unified"] = r.cgroup.unified;
    o["cgroup"] = std::move(cg);
  }
  if (!r.systemd_unit.empty()) o["systemdUnit"] = r.systemd_unit;
  if (!r.config.empty()) o["config"] = r.config;
  return o;
}

ContainerRecord record_from_json(const json::value& v) {
  ContainerRecord r;
  const json::object* o = v.if_object();
  if (!o) throw Error("expected an object");
  auto str = [&](const char* k) -> std::string {
    const json::value* x = o->if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  r.id = str("id");
  r.bundle = str("bundle");
  r.rootfs = str("rootfs");
  r.created = str("created");
  r.owner = str("owner");
  r.pid_ns = str("pidNs");
  if (const json::value* x = o->if_contains("pid"); x && x->is_int64()) r.pid = static_cast<pid_t>(x->get_int64());
  if (const json::value* x = o->if_contains("initStartTime")) {
    if (x->is_uint64()) r.init_start_time = x->get_uint64();
    else if (x->is_int64()) r.init_start_time = static_cast<std::uint64_t>(x->get_int64());
  }
  if (const json::value* x = o->if_contains("annotations"); x && x->is_object())
    for (const auto& [k, val] : x->get_object())
      if (val.is_string()) r.annotations[std::string(k)] = std::string(val.get_string());
  if (const json::value* x = o->if_contains("hooks")) r.hooks = *x;
  if (const json::value* x = o->if_contains("hasPidNs"); x && x->is_bool()) r.has_pid_ns = x->get_bool();
  if (const json::value* x = o->if_contains("notify"); x && x->is_bool()) r.notify = x->get_bool();
  r.systemd_unit = str("systemdUnit");
  r.config = str("config");
  if (const json::value* x = o->if_contains("cgroup"); x && x->is_object()) {
    const json::object& cg = x->get_object();
    if (const json::value* m = cg.if_contains("mode"); m && m->is_string())
      r.cgroup.mode = m->get_string() == "unified" ? cgroups::Mode::Unified
                      : m->get_string() == "hybrid" ? cgroups::Mode::Hybrid : cgroups::Mode::Legacy;
    if (const json::value* v1 = cg.if_contains("v1"); v1 && v1->is_object())
      for (const auto& [c, dir] : v1->get_object())
        if (dir.is_string()) r.cgroup.v1[std::string(c)] = std::string(dir.get_string());
    if (const json::value* u = cg.if_contains("unified"); u && u->is_string()) r.cgroup.unified = std::string(u->get_string());
  }
  return r;
}

}  // namespace berth
