// --systemd-cgroup: the container's cgroup is a transient systemd unit (a scope with
// Delegate=yes, or a slice) that berth asks systemd for over D-Bus, as runc's
// libcontainer/cgroups/systemd does. systemd then owns the cgroup's place in the tree and does
// not migrate the container's processes away behind berth's back.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.hpp"
#include "runtime/cgroups/dbus.hpp"

namespace berth::cgroups::systemd {

struct Unit {
  std::string slice;  // the parent slice: "system.slice"
  std::string name;   // "berth-ID.scope", or a slice's own name ("foo-bar.slice")
  bool is_slice() const { return name.ends_with(".slice"); }
  friend bool operator==(const Unit&, const Unit&) = default;
};

// linux.cgroupsPath in runc's systemd form "slice:prefix:name". An empty slice is
// "system.slice"; a name ending in ".slice" is the container's cgroup itself (the prefix is
// ignored); otherwise the unit is "prefix-name.scope". An empty cgroupsPath means
// "system.slice:berth:<id>". Errors name linux.cgroupsPath and the expected form.
Unit parse_cgroups_path(std::string_view cgroups_path, std::string_view id);

// A slice's cgroup as systemd lays it out: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice",
// "-.slice" -> "/" (runc's ExpandSlice, with its checks).
std::string expand_slice(std::string_view slice);

// The unit's cgroup relative to the cgroup root: "/system.slice/berth-ID.scope".
std::string cgroup_path(const Unit& u);

// Whether systemd runs the host: /run/systemd/system is a directory (sd_booted(3)).
bool booted();

// What the property translation depends on besides the spec.
struct Host {
  bool unified = true;       // cgroup v2 at /sys/fs/cgroup: MemoryMax/CPUWeight, not MemoryLimit/CPUShares
  int systemd_version = -1;  // -1: unknown, so no property that needs a minimum version
};

// The properties (a(sv) items) for StartTransientUnit, in runc's order: Description, Slice (a
// scope) or Wants (a slice), PIDs (a scope, when pid > 0), Delegate (a scope),
// accounting, DefaultDependencies=no, then the resources. Throws Error naming the
// linux.resources field for values it cannot translate.
std::vector<dbus::Value> unit_properties(const Unit& u, pid_t pid, const oci::LinuxResources* resources,
                                         const Host& host);

// Creates the transient unit holding `pid` (StartTransientUnit(name, "replace", properties,
// [])) and waits for its job to end; a job result other than "done" is an Error naming the unit
// and the result. A unit of the same name left over (UnitExists) is reset and retried once.
// For a slice unit systemd cannot place a pid: the caller writes it into cgroup.procs.
// Connects as runc does: systemd's private socket for root, else the system bus. Throws a clear
// Error when systemd does not run the host.
void start_scope(const Unit& u, pid_t pid, const oci::LinuxResources* resources);
// StopUnit(name, "replace") and waits for the job, then resets a failed unit so systemd forgets
// it. A unit that does not exist (NoSuchUnit) is not an error.
void stop_scope(const Unit& u);

// The same on an open connection (tests pass one end of a socketpair).
void start_scope(dbus::Connection& c, const Unit& u, pid_t pid, const oci::LinuxResources* resources,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));
void stop_scope(dbus::Connection& c, const Unit& u, std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A connection to systemd: /run/systemd/private when root (no bus daemon needed, and systemd
// sends it job signals unasked), else the system bus, subscribed to JobRemoved.
dbus::Connection connect();

}  // namespace berth::cgroups::systemd
