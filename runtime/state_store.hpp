// The per-container state directory under --root (default /run/berth):
//   <root>/<id>/            mode 0700; its existence reserves the ID
//   <root>/<id>/state.json  written atomically (temporary file, fsync, rename)
//   <root>/<id>/exec.fifo   present from create until start: the init stage blocks on it
// A lock (flock on the directory) serialises commands on the same container.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "runtime/cgroups/layout.hpp"
#include "runtime/sys/fd.hpp"

namespace berth {

// What berth keeps about a container between commands: the OCI state fields plus what
// start, kill and delete need later (init's start time against PID reuse, the hooks).
struct ContainerRecord {
  std::string id;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;                          // 0 while creating
  std::uint64_t init_start_time = 0;      // /proc/<pid>/stat field 22, in clock ticks
  std::string created;                    // RFC 3339, UTC
  std::string owner;                      // "" for root, as runc
  std::map<std::string, std::string> annotations;
  boost::json::value hooks;               // the config's "hooks" object (poststart, poststop)
  bool has_pid_ns = false;                // a new pid namespace: killing init kills all
  std::string pid_ns;                     // "pid:[inode]" of the container, for kill --all
  bool notify = false;                    // created under NOTIFY_SOCKET: /run/notify is mounted
  cgroups::Paths cgroup;                  // the container's cgroup directories (empty: none)
  std::string systemd_unit;               // --systemd-cgroup: the scope (or slice) unit holding it
  // config.json as read at create: `exec` gives its processes the container's namespaces,
  // seccomp filter, LSM labels and defaults from it, even if the bundle changed since.
  std::string config;
};

// Validates a container ID the way runc does: ^[\w+-\.]+$, not "." or "..", at most 1024 bytes.
void validate_container_id(const std::string& id);

class StateDir {
 public:
  // Creates <root>/<id> (and <root>, 0700): fails with "container `id` already exists"
  // when the ID is taken. The directory is locked until the object dies.
  static StateDir create(const std::string& root, const std::string& id);
  // Opens and locks an existing container's directory; "container `id` does not exist".
  static StateDir open(const std::string& root, const std::string& id);
  // The IDs under root (directories), sorted; empty when root does not exist.
  static std::vector<std::string> list(const std::string& root);

  const std::string& path() const { return path_; }
  int fd() const { return dir_.get(); }

  void write_record(const ContainerRecord& r);
  // nullopt when state.json is missing (a create that died half-way).
  std::optional<ContainerRecord> read_record() const;
  // Removes the directory and everything in it.
  void remove();

 private:
  StateDir(std::string path, sys::Fd dir) : path_(std::move(path)), dir_(std::move(dir)) {}
  std::string path_;
  sys::Fd dir_;
};

boost::json::value to_json(const ContainerRecord& r);
ContainerRecord record_from_json(const boost::json::value& v);

}  // namespace berth
