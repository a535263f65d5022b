// What container.cpp, container_exec.cpp, checkpoint.cpp and restore.cpp share, beyond the
// public API.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.hpp"
#include "oci/state.hpp"
#include "runtime/cgroups/cgroup.hpp"
#include "runtime/cgroups/systemd.hpp"
#include "runtime/container.hpp"
#include "runtime/state_store.hpp"

namespace berth::criu {
struct Opts;
struct Dirs;
}  // namespace berth::criu

namespace berth::detail {

// The state document of a record with this status (pid only while not stopped).
oci::State make_state(const ContainerRecord& r, oci::Status status);

// Writes pid to path atomically (temporary file + rename), as runc's --pid-file.
void write_pid_file(const std::string& path, pid_t pid);

// A bundle read for a new container (create, restore): config.json parsed and validated
// (errors name the file and the field), root.path resolved.
struct Bundle {
  std::string path;  // resolved
  std::string config_text;
  oci::Spec spec;
  std::string rootfs;  // resolved root.path
};
Bundle load_bundle(const std::string& bundle);

// The record of a new container from its bundle, before it has a process.
ContainerRecord new_record(const std::string& id, const Bundle& b);

// Now, in RFC 3339 (UTC, nanoseconds): the `created` field.
std::string now_rfc3339();

// The hooks kept in the record (poststart, poststop after create).
std::optional<oci::Hooks> hooks_from_record(const ContainerRecord& r);
// config.md: a failing poststart or poststop hook is logged as a warning and the lifecycle goes on.
void run_hooks_warn(const std::vector<oci::Hook>& hooks, std::string_view kind, const std::string& state);

// The container's cgroup (cgroupfs driver) with its limits written, before its process exists.
// Rootless, permission errors leave it without one (an invalid Cgroup) unless limits are asked.
cgroups::Cgroup make_cgroup(const oci::Spec& spec, const std::string& id, bool rootless);
// --systemd-cgroup: the unit and where systemd will put the container; nothing exists yet.
cgroups::Paths systemd_paths(const oci::Spec& spec, const std::string& id, cgroups::systemd::Unit& unit);
// Starts the scope holding pid and completes the other hierarchies, limits written.
cgroups::Cgroup join_systemd_cgroup(const oci::Spec& spec, const cgroups::systemd::Unit& unit,
                                    const cgroups::Paths& paths, pid_t pid);

// The cgroup of a new container (create, restore) in rec.cgroup: made with its limits by the
// cgroupfs driver (and returned), or, with --systemd-cgroup, only planned (unit; systemd makes
// it when the process exists: join_systemd_cgroup).
cgroups::Cgroup plan_cgroup(const oci::Spec& spec, const CreateOptions& opts, bool rootless, ContainerRecord& rec,
                            cgroups::systemd::Unit& unit);

// After a create or restore failed: its process (if any) killed and reaped, its cgroup (or
// systemd scope) and state directory removed. Errors here are logged: the one that made the
// container fail is the one to report.
void discard(pid_t pid, const ContainerRecord& rec, const cgroups::Cgroup& cg, StateDir& dir) noexcept;

// The criu_opts checkpoint and restore both send: the directories, the log, and the flags of
// CriuOptions (checkpoint.cpp).
criu::Opts criu_opts(const CriuOptions& o, const criu::Dirs& d, const char* log);

}  // namespace berth::detail
