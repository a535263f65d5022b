// What berth tells CRIU about a container, so that a dump can be restored: which mounts come
// from outside the container (bind mounts, masked files, device nodes, cgroup v1 binds), which
// namespaces were joined rather than created, where stdio pointed, which cgroups to use. Pure
// functions of the config and of strings read from /proc, for the unit tests; checkpoint.cpp
// and restore.cpp put the answers into criu::Opts.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oci/spec.hpp"
#include "runtime/criu/rpc.hpp"

namespace berth::criu {

// A mount CRIU must not dump but take from the host on restore. At dump CRIU is told
// (path -> id) and stores the id in the image; at restore (id -> source). The ids are runc's
// (the container path; "/dev/null" for masked files), so images move between the two.
struct ExternalMount {
  std::string path;    // the mount point inside the container
  std::string id;      // what the image calls it
  std::string source;  // on the host: what restore binds there
};
// The ext_mnt entries of a dump and of a restore (ids once each).
std::vector<ExtMountMap> dump_ext_mnt(const std::vector<ExternalMount>& m);
std::vector<ExtMountMap> restore_ext_mnt(const std::vector<ExternalMount>& m);

// The container's external mounts: mounts[] that are binds (type "bind" or a bind/rbind
// option), the files of linux.maskedPaths (bound from /dev/null; masked directories are
// read-only tmpfs, which CRIU dumps itself) for which `is_file(path)` says so, and every
// device node (bound from the host inside a user namespace; a harmless extra key otherwise).
// At restore `is_file` may say yes to all: the masked files share one id. cgroup v1 binds are
// added by the caller (cgroup_v1_binds).
std::vector<ExternalMount> external_mounts(const oci::Spec& spec, const std::function<bool(const std::string&)>& is_file);

// The binds each `cgroup` mount of the config became (mount/cgroupfs.cpp) on a cgroup v1 or
// hybrid host without a new cgroup namespace: `<destination>/<hierarchy>` bound from the
// container's own cgroup directory, found from the texts of /proc/self/mountinfo and of
// /proc/<member>/cgroup (member: a process in the container's cgroup). With a cgroup
// namespace, or on a cgroup2-only host, the mounts are real and CRIU dumps them: none.
std::vector<ExternalMount> cgroup_mount_binds(const oci::Spec& spec, bool unified_host, std::string_view mountinfo,
                                              std::string_view member_cgroup, std::string_view rootfs);

// "soft", "full", "strict", "ignore" (runc's --manage-cgroups-mode); "" is nullopt (CRIU's
// default, soft). Throws naming --manage-cgroups-mode otherwise.
std::optional<CgMode> parse_cgroups_mode(std::string_view s);

// --empty-ns: namespace names of the spec ("network", "ipc", ...) to CLONE_NEW* flags. The
// network namespace is always included: berth does not manage network devices, so CRIU must
// not dump or restore their configuration (runc does the same).
std::uint32_t empty_ns_mask(const std::vector<std::string>& names);

// Joined network and pid namespaces are external: "net[<inode>]:extRootNetNS" at dump, and the
// key "extRootNetNS" gets an fd of the namespace at restore (runc's keys).
std::string external_ns_key(oci::NamespaceType t);  // "extRootNetNS", "extRootPidNS"
const char* criu_ns_name(oci::NamespaceType t);     // "net", "pid"

// descriptors.json (runc's name and format, in the image directory): where the container's
// fds 0, 1 and 2 pointed at dump ("pipe:[123]", "/dev/null", ...). Restore hands its own stdio
// to CRIU for the entries that are such keys: pipes, and files outside the container.
std::string encode_descriptors(const std::vector<std::string>& fds);
std::vector<std::string> decode_descriptors(std::string_view json);  // throws naming the file
inline constexpr const char* kDescriptorsFile = "descriptors.json";

// A stdio fd on a mount the container does not have (conmon's /dev/null for stdin, a host
// file) cannot be dumped as a file: it is declared external, "file[<mnt_id>:<inode>]" (hex, as
// CRIU spells it), and restore gives CRIU the caller's fd under that key. nullopt when the
// fd's mount (the mnt_id line of /proc/<pid>/fdinfo/<fd>) is one of the container's
// (/proc/<pid>/mountinfo).
std::optional<std::string> external_file_key(std::string_view fdinfo, std::string_view container_mountinfo,
                                             std::uint64_t inode);
// Whether a descriptors.json entry names something restore passes its own fd for.
bool inherited_stdio(std::string_view descriptor);

// cg_root for restore: one per line of /proc/<criu>/cgroup (after criu joined the container's
// cgroup), controllers split as runc does ("cpu,cpuacct" gives "cpu" and "cpuacct"; the cgroup2
// line gives an unnamed root).
std::vector<CgroupRoot> cgroup_roots(std::string_view proc_cgroup);

}  // namespace berth::criu
