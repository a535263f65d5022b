// apply_credentials: supplementary groups, gid, uid, umask, capabilities and
// no_new_privs, in the order runc's finalizeNamespace uses.
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "oci/capabilities.hpp"
#include "runtime/process/attributes.hpp"
#include "runtime/process/capabilities.hpp"
#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace berth::process {

namespace {

constexpr mode_t kDefaultUmask = 0022;

bool setgroups_denied() {
  // "deny" in a user namespace whose gid_map was written without CAP_SETGID in
  // the parent namespace (rootless); setgroups(2) then always fails with EPERM.
  const auto s = sys::try_read_file(AT_FDCWD, "/proc/self/setgroups");
  return s && s->starts_with("deny");
}

void set_groups(const oci::User& user) {
  const std::vector<std::uint32_t> gids = user.additional_gids.value_or(std::vector<std::uint32_t>{});
  if (setgroups_denied()) {
    // runc skips it silently; say so when groups were asked for.
    if (!gids.empty())
      spdlog::warn("process.user.additionalGids: setgroups is denied in this user namespace; {} group(s) not set",
                   gids.size());
    return;
  }
  // Always called, also with no gids: init inherited the runtime's own groups.
  const std::vector<gid_t> list(gids.begin(), gids.end());
  if (::setgroups(list.size(), list.data()) != 0)
    throw Error(fmt::format("process.user.additionalGids: setgroups [{}]", fmt::join(gids, ", ")), errno);
}

void raise_ambient(std::uint64_t ambient, std::uint64_t inheritable, int last_cap) {
  // EINVAL: a kernel without ambient capabilities (< 4.3); nothing to clear.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw Error("process.capabilities.ambient: prctl PR_CAP_AMBIENT_CLEAR_ALL", errno);
  for (int c = 0; c <= last_cap; ++c) {
    if (((ambient >> c) & 1U) == 0) continue;
    // Needs the capability in both permitted and inheritable. runc goes on
    // silently, so that its own default spec (ambient without inheritable)
    // works; a debug line says why, any other failure is a warning.
    if (((inheritable >> c) & 1U) == 0) {
      spdlog::debug("process.capabilities.ambient: {} not raised: it is not in process.capabilities.inheritable",
                    oci::capability_name(c).value_or("?"));
      continue;
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(c), 0, 0) != 0)
      spdlog::warn("process.capabilities.ambient: cannot raise {}: {}", oci::capability_name(c).value_or("?"),
                   std::system_category().message(errno));
  }
}

}  // namespace

CapabilityPlan plan_capabilities(const oci::LinuxCapabilities& caps, int last_cap, std::uint64_t held) {
  CapabilityPlan plan;
  const int last = std::min(last_cap, 63);  // the sets are 64-bit masks
  const auto skip = [&](std::string line) {
    if (std::find(plan.skipped.begin(), plan.skipped.end(), line) == plan.skipped.end())
      plan.skipped.push_back(std::move(line));
  };
  const auto bits = [&](const std::optional<oci::Strings>& names, bool must_be_held) {
    std::uint64_t out = 0;
    for (const std::string& name : names.value_or(oci::Strings{})) {
      const auto n = oci::capability_from_name(name);
      if (!n || *n < 0 || *n > last) {
        skip(fmt::format("{} (unknown to the kernel)", name));
        continue;
      }
      const std::uint64_t bit = std::uint64_t{1} << *n;
      if (must_be_held && (held & bit) == 0) {
        skip(fmt::format("{} (not held by the runtime)", name));
        continue;
      }
      out |= bit;
    }
    return out;
  };
  // The bounding set is only ever lowered: asking to keep a capability that is
  // already gone is harmless.
  plan.bounding = bits(caps.bounding, false);
  plan.effective = bits(caps.effective, true);
  plan.permitted = bits(caps.permitted, true);
  plan.inheritable = bits(caps.inheritable, true);
  plan.ambient = bits(caps.ambient, true);
  return plan;
}

void apply_credentials(const oci::Process& p) {
  const oci::User user = p.user.value_or(oci::User{});

  // setresuid/setresgid clear the parent-death signal; put it back at the end.
  int pdeath_signal = 0;
  if (::prctl(PR_GET_PDEATHSIG, &pdeath_signal, 0, 0, 0) != 0) throw Error("prctl PR_GET_PDEATHSIG", errno);

  std::optional<CapabilityPlan> plan;
  int last_cap = 0;
  if (p.capabilities) {
    last_cap = caps::last_cap();
    plan = plan_capabilities(*p.capabilities, last_cap, caps::get().permitted);
    if (!plan->skipped.empty())
      spdlog::warn("process.capabilities: ignoring unknown or unavailable capabilities: {}",
                   fmt::join(plan->skipped, ", "));
    // PR_CAPBSET_DROP needs CAP_SETPCAP, which the target user may not keep.
    caps::limit_bounding(plan->bounding, last_cap);
  }

  // Keep the permitted set across the uid change; capset below trims it.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw Error("prctl PR_SET_KEEPCAPS", errno);
  set_groups(user);
  if (::setresgid(user.gid, user.gid, user.gid) != 0)
    throw Error(fmt::format("process.user.gid: setresgid {}", user.gid), errno);
  if (::setresuid(user.uid, user.uid, user.uid) != 0)
    throw Error(fmt::format("process.user.uid: setresuid {}", user.uid), errno);
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw Error("prctl PR_SET_KEEPCAPS", errno);
  ::umask(static_cast<mode_t>(user.umask.value_or(kDefaultUmask) & 07777));

  if (plan) {
    with_context("process.capabilities", [&] {
      caps::set(caps::Sets{plan->effective, plan->permitted, plan->inheritable});
    });
    // Last: raising needs the capability in the permitted and inheritable sets
    // just set, and a uid change from 0 clears the ambient set.
    raise_ambient(plan->ambient, plan->inheritable, last_cap);
  }

  if (p.no_new_privileges.value_or(false) && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    throw Error("process.noNewPrivileges: prctl PR_SET_NO_NEW_PRIVS", errno);

  if (pdeath_signal != 0 && ::prctl(PR_SET_PDEATHSIG, pdeath_signal, 0, 0, 0) != 0)
    throw Error("prctl PR_SET_PDEATHSIG", errno);
}

}  // namespace berth::process
