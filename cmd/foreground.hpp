// A container the command itself waits for (`berth run`, `berth restore` without --detach):
// its terminal relayed in raw mode, signals forwarded, its exit status returned.
#pragma once

#include <functional>

#include "runtime/container.hpp"

namespace berth::cmd {

// Runs `start` (what lets the container's process go; may be empty), then forwards signals
// and relays the terminal until the container's init exits; returns its exit status. Unless
// `keep`, the container is deleted afterwards, and after a failure too (that error wins).
int run_in_foreground(Container& c, const std::function<void()>& start, bool keep);

}  // namespace berth::cmd
