#include "runtime/criu/plan.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "oci/json.hpp"
#include "runtime/mount/cgroupfs.hpp"
#include "runtime/mount/devices.hpp"
#include "runtime/namespaces.hpp"
#include "runtime/mount/options.hpp"
#include "runtime/sys/error.hpp"

namespace json = boost::json;

namespace berth::criu {

std::vector<ExternalMount> external_mounts(const oci::Spec& spec, const std::function<bool(const std::string&)>& is_file) {
  std::vector<ExternalMount> out;
  if (spec.mounts) {
    for (const oci::Mount& m : *spec.mounts) {
      const bool bind = m.type == "bind" || mount::parse_options(m.options.value_or(oci::Strings{})).bind();
      if (!bind || !m.source) continue;
      const std::string path = mount::clean_path(m.destination);
      out.push_back({path, path, *m.source});
    }
  }
  if (spec.linux && spec.linux->masked_paths) {
    for (const std::string& p : *spec.linux->masked_paths) {
      const std::string path = mount::clean_path(p);
      if (is_file(path)) out.push_back({path, "/dev/null", "/dev/null"});
    }
  }
  for (const mount::DeviceNode& d : mount::plan_devices(spec)) out.push_back({d.path, d.path, d.path});
  return out;
}

std::vector<ExtMountMap> dump_ext_mnt(const std::vector<ExternalMount>& m) {
  std::vector<ExtMountMap> out;
  for (const ExternalMount& e : m) out.push_back({e.path, e.id});
  return out;
}

std::vector<ExtMountMap> restore_ext_mnt(const std::vector<ExternalMount>& m) {
  std::vector<ExtMountMap> out;
  for (const ExternalMount& e : m) {
    if (std::none_of(out.begin(), out.end(), [&](const ExtMountMap& x) { return x.key == e.id; }))
      out.push_back({e.id, e.source});
  }
  return out;
}

std::vector<ExternalMount> cgroup_mount_binds(const oci::Spec& spec, bool unified_host, std::string_view mountinfo,
                                              std::string_view member_cgroup, std::string_view rootfs) {
  std::vector<ExternalMount> out;
  if (unified_host || !spec.mounts || ns::creates(spec, oci::NamespaceType::Cgroup)) return out;
  std::vector<mount::CgroupSubMount> subs;
  for (const oci::Mount& m : *spec.mounts) {
    if (m.type != "cgroup") continue;
    if (subs.empty())
      subs = mount::plan_cgroup_v1(mount::parse_mountinfo(mountinfo), mount::parse_proc_cgroup(member_cgroup), false, rootfs);
    const std::string dest = mount::clean_path(m.destination);
    for (const mount::CgroupSubMount& s : subs) {
      if (s.bind_source.empty()) continue;
      const std::string path = dest + "/" + s.name;
      out.push_back({path, path, s.bind_source});
    }
  }
  return out;
}

std::optional<CgMode> parse_cgroups_mode(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s == "soft") return CgMode::Soft;
  if (s == "full") return CgMode::Full;
  if (s == "strict") return CgMode::Strict;
  if (s == "ignore") return CgMode::Ignore;
  throw Error(fmt::format("--manage-cgroups-mode: `{}` is not one of soft, full, strict, ignore", s));
}

std::uint32_t empty_ns_mask(const std::vector<std::string>& names) {
  std::uint32_t mask = CLONE_NEWNET;
  for (const std::string& n : names) {
    const auto t = oci::from_string<oci::NamespaceType>(n);
    if (!t) throw Error(fmt::format("--empty-ns: `{}` is not a namespace type (network, ipc, uts, pid, mount, user, cgroup, time)", n));
    switch (*t) {
      case oci::NamespaceType::Mount: mask |= CLONE_NEWNS; break;
      case oci::NamespaceType::Pid: mask |= CLONE_NEWPID; break;
      case oci::NamespaceType::Network: mask |= CLONE_NEWNET; break;
      case oci::NamespaceType::Uts: mask |= CLONE_NEWUTS; break;
      case oci::NamespaceType::Ipc: mask |= CLONE_NEWIPC; break;
      case oci::NamespaceType::User: mask |= CLONE_NEWUSER; break;
      case oci::NamespaceType::Cgroup: mask |= CLONE_NEWCGROUP; break;
      case oci::NamespaceType::Time: mask |= CLONE_NEWTIME; break;
    }
  }
  return mask;
}

std::string external_ns_key(oci::NamespaceType t) {
  return t == oci::NamespaceType::Network ? "extRootNetNS" : "extRootPidNS";
}

const char* criu_ns_name(oci::NamespaceType t) { return t == oci::NamespaceType::Network ? "net" : "pid"; }

std::string encode_descriptors(const std::vector<std::string>& fds) {
  json::array a;
  for (const std::string& f : fds) a.emplace_back(f);
  return json::serialize(a);
}

std::vector<std::string> decode_descriptors(std::string_view text) {
  std::vector<std::string> out;
  const json::value v = with_context(kDescriptorsFile, [&] { return oci::parse_json(text); });
  const json::array* a = v.if_array();
  if (!a) throw Error(fmt::format("{}: not an array of strings", kDescriptorsFile));
  for (const json::value& e : *a) {
    if (!e.is_string()) throw Error(fmt::format("{}: not an array of strings", kDescriptorsFile));
    out.emplace_back(e.get_string());
  }
  return out;
}

std::optional<std::string> external_file_key(std::string_view fdinfo, std::string_view container_mountinfo,
                                             std::uint64_t inode) {
  const size_t at = fdinfo.find("mnt_id:");
  if (at == std::string_view::npos) return std::nullopt;
  const unsigned long mnt_id = std::strtoul(std::string(fdinfo.substr(at + 7, 32)).c_str(), nullptr, 10);
  // mountinfo lines start with the mount's id.
  std::string_view rest = container_mountinfo;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.empty() && std::strtoul(std::string(line.substr(0, line.find(' '))).c_str(), nullptr, 10) == mnt_id)
      return std::nullopt;
  }
  return fmt::format("file[{:x}:{:x}]", mnt_id, inode);
}

bool inherited_stdio(std::string_view d) { return d.starts_with("pipe:") || d.starts_with("file["); }

std::vector<CgroupRoot> cgroup_roots(std::string_view proc_cgroup) {
  std::vector<CgroupRoot> out;
  while (!proc_cgroup.empty()) {
    const size_t nl = proc_cgroup.find('\n');
    std::string_view line = proc_cgroup.substr(0, nl);
    proc_cgroup = nl == std::string_view::npos ? std::string_view{} : proc_cgroup.substr(nl + 1);
    const size_t a = line.find(':');
    const size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view ctrls = line.substr(a + 1, b - a - 1);
    const std::string path(line.substr(b + 1));
    if (ctrls.empty()) {
      out.push_back({std::nullopt, path});
      continue;
    }
    while (!ctrls.empty()) {
      const size_t c = ctrls.find(',');
      out.push_back({std::string(ctrls.substr(0, c)), path});
      ctrls = c == std::string_view::npos ? std::string_view{} : ctrls.substr(c + 1);
    }
  }
  return out;
}

}  // namespace berth::criu
