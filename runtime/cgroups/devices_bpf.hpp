// Device access control on cgroup v2 (config-linux.md "Allowed Device List"). cgroup2 has no
// devices.allow/deny files: a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup decides
// every open and mknod of a device node instead. There is no libbpf here, so the program is
// assembled from raw instructions, as runc (libcontainer/cgroups/devices/devicefilter.go) and
// crun (src/libcrun/ebpf.c) do.
//
// The rules mean what they mean on cgroup v1, applied in order:
// - A catch-all rule (type "a" or unset, major and minor unset or -1, access "rwm" or unset)
//   resets to allow-all or deny-all; the last one is the default, deny-all when there is none.
//   Every rule before it is overridden, so it is left out of the program.
// - Any other rule allows or denies its access bits on the devices it matches (type "a"/unset,
//   major -1/unset and minor -1/unset match anything), overriding earlier rules for those bits
//   only. An access of several bits (open O_RDWR asks for read and write at once) is allowed
//   only when every bit is: "c 1:5 w" denied after an allow-all still refuses O_RDWR of
//   /dev/zero, as devices.deny does on v1 (runc's and crun's programs let it through).
// - An unset access means "rwm", as an unset type, major or minor means "any" (and as the v1
//   writer in resources_v1.cpp reads it). runc and crun ignore a non-catch-all rule without
//   access; an empty access ("") grants or denies nothing here too.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "oci/spec.hpp"

namespace berth::cgroups {

// The program's instructions for these rules. Pure: unit-testable without privileges. Throws
// berth::Error naming the rule's index for a type other than a/b/c, a major or minor outside
// -1..4294967295, or an access with letters other than r, w and m.
std::vector<bpf_insn> device_program(const std::vector<oci::LinuxDeviceCgroup>& rules);

// Loads device_program(rules) and attaches it to the cgroup2 directory `cgroup_dirfd` (opened
// O_RDONLY | O_DIRECTORY: the kernel refuses O_PATH fds) with BPF_F_ALLOW_MULTI, then detaches
// the device programs attached there before, so an update replaces rather than stacks. While
// both are attached a device needs both to allow it: the switch is never looser than either
// rule set. Needs CAP_SYS_ADMIN: with only CAP_BPF and CAP_NET_ADMIN the new program is attached
// but the old ones cannot be opened by id, so they stay (as when an LSM hides them; runc leaves
// those too, since a device program can only take access away). Throws berth::Error naming the
// bpf(2) command, e.g. "bpf BPF_PROG_LOAD (cgroup device program): Operation not permitted",
// with the verifier's log when the kernel rejects the program.
void apply_device_program(int cgroup_dirfd, const std::vector<oci::LinuxDeviceCgroup>& rules);

}  // namespace berth::cgroups
