// OCI hooks (config.md "POSIX-platform Hooks"): each hook is executed with the container's
// state on its stdin, its args and env exactly as given, and killed when its timeout passes.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "oci/spec.hpp"

namespace berth::hooks {

// Runs one hook to completion. Throws berth::Error when it cannot be started, exits non-zero,
// is killed, or times out; the message carries the hook's path and the end of its output.
void run(const oci::Hook& hook, std::string_view state_json);

// Runs the hooks of one kind in order, stopping at the first failure, which is thrown with the
// field path as context: "hooks.createRuntime[1]: hook `/bin/x` exited with status 3: ...".
void run_all(const std::optional<std::vector<oci::Hook>>& hooks, std::string_view kind,
             std::string_view state_json);

}  // namespace berth::hooks
