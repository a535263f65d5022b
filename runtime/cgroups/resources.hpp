// linux.resources written into a container's cgroup, at create and by `update`. Each limit goes
// to the hierarchy that has its controller: a v1 hierarchy when the host mounts one, otherwise
// cgroup2 (the whole unified host, or a hybrid host's cgroup2 for controllers v1 does not
// bind). v1-style values are translated for cgroup2 the way runc and crun do. A limit this host
// cannot enforce is an error naming the field, never skipped silently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.hpp"
#include "runtime/cgroups/layout.hpp"

namespace berth::cgroups {

void set_resources(const Paths& paths, const oci::LinuxResources& r);

// The device rules a container's cgroup enforces, in order: deny everything, the config's
// linux.resources.devices, an allow rule for each linux.devices node, then the devices every
// container gets (runc's AllowedDevices: null, zero, full, random, urandom, tty, console, ptmx,
// pts, tun, and mknod of any node).
std::vector<oci::LinuxDeviceCgroup> device_rules(const oci::Spec& spec);

// The cgroup2 controllers that `r` needs on a host where v1 does not have them.
std::vector<std::string> v2_controllers_for(const Paths& paths, const oci::LinuxResources* r);

// cgroup v1 value -> cgroup v2 value, as runc (libcontainer/cgroups/utils.go).
std::uint64_t shares_to_weight(std::uint64_t shares);        // cpu.shares [2, 262144] -> cpu.weight [1, 10000]
std::uint64_t blkio_to_io_weight(std::uint64_t weight);      // blkio.weight [10, 1000] -> io.weight [1, 10000]
// memory.swap.max from the spec's swap (memory + swap, v1 semantics) and limit; "" = leave.
std::string swap_to_v2(std::int64_t limit, std::int64_t swap);

// Per-hierarchy writers (resources_v1.cpp, resources_v2.cpp).
namespace v1 {
void set_memory(const std::string& dir, const oci::LinuxMemory& m);
void set_cpu(const std::string& dir, const oci::LinuxCpu& c);
void set_cpuset(const std::string& dir, const oci::LinuxCpu& c);
void set_pids(const std::string& dir, const oci::LinuxPids& p);
void set_blkio(const std::string& dir, const oci::LinuxBlockIo& b);
void set_hugetlb(const std::string& dir, const std::vector<oci::LinuxHugepageLimit>& h);
void set_net_cls(const std::string& dir, const oci::LinuxNetwork& n);
void set_net_prio(const std::string& dir, const oci::LinuxNetwork& n);
void set_devices(const std::string& dir, const std::vector<oci::LinuxDeviceCgroup>& rules);
}  // namespace v1
namespace v2 {
void set_memory(const std::string& dir, const oci::LinuxMemory& m);
void set_cpu(const std::string& dir, const oci::LinuxCpu& c);
void set_cpuset(const std::string& dir, const oci::LinuxCpu& c);
void set_pids(const std::string& dir, const oci::LinuxPids& p);
void set_io(const std::string& dir, const oci::LinuxBlockIo& b);
void set_hugetlb(const std::string& dir, const std::vector<oci::LinuxHugepageLimit>& h);
void set_devices(const std::string& dir, const std::vector<oci::LinuxDeviceCgroup>& rules);
void set_unified(const std::string& dir, const oci::StringMap& u);
}  // namespace v2
// rdma.max has one format in v1 and v2.
void set_rdma(const std::string& dir, const std::map<std::string, oci::LinuxRdma>& r);

}  // namespace berth::cgroups
