#include "cmd/foreground.hpp"

#include <unistd.h>

#include <optional>

#include <spdlog/spdlog.h>

#include "runtime/signal_proxy.hpp"
#include "runtime/sys/fd.hpp"
#include "runtime/terminal.hpp"

namespace berth::cmd {

namespace {

void destroy_quietly(Container& c) noexcept {
  try {
    c.destroy(true);
  } catch (const std::exception& e) {
    spdlog::warn("delete container `{}` after failure: {}", c.id(), e.what());
  }
}

}  // namespace

int run_in_foreground(Container& c, const std::function<void()>& start, bool keep) {
  int status;
  {
    const sys::Fd pty = c.take_terminal();
    std::optional<terminal::RawMode> raw;
    if (pty.valid()) raw.emplace(STDIN_FILENO);
    SignalProxy proxy;
    try {
      if (start) start();
      status = proxy.forward_until_exit(c.pid(), pty.valid() ? pty.get() : -1);
    } catch (...) {
      if (!keep) destroy_quietly(c);
      throw;
    }
  }
  if (!keep) c.destroy(true);
  return status;
}

}  // namespace berth::cmd
