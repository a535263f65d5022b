// The seccomp filter of linux.seccomp (config-linux.md "Seccomp"), built with libseccomp the
// way runc builds it, so that profiles written for runc (Docker's, containerd's) behave the same.
#pragma once

#include <memory>

#include "oci/features.hpp"
#include "oci/spec.hpp"
#include "runtime/sys/fd.hpp"

namespace berth::seccomp {

// Built before any privilege is dropped, so that config errors are reported before the
// container process is changed; loading is separate so it can happen as late as possible
// before execve (every syscall after it is filtered).
// Whether the config asks for SCMP_ACT_NOTIFY anywhere: the listener fd then goes to the agent
// at listenerPath (the parent and init both decide from the config, before names are resolved).
bool notify_requested(const oci::LinuxSeccomp& config) noexcept;

// What `berth features` reports: every action and operator, the architectures and flags the
// libseccomp berth is built with can do.
oci::SeccompFeatures features();

class Filter {
 public:
  // Throws Error naming the config field ("linux.seccomp.syscalls[3].names[1]: ...").
  // Syscall names libseccomp does not know are skipped (runc does the same: profiles list
  // syscalls of newer kernels), and so are rules whose action is the default action.
  static Filter build(const oci::LinuxSeccomp& config);

  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;
  ~Filter();

  // True when some rule has SCMP_ACT_NOTIFY: load() then returns the listener fd.
  bool uses_notify() const noexcept { return notify_; }

  // Installs the filter on the calling thread (on every thread with
  // SECCOMP_FILTER_FLAG_TSYNC). Needs no_new_privs or CAP_SYS_ADMIN: the filter does not set
  // no_new_privs itself, since process.noNewPrivileges decides that. Returns the listener fd
  // (close-on-exec) when uses_notify(), an invalid Fd otherwise.
  sys::Fd load();

 private:
  struct CtxDeleter {
    void operator()(void* ctx) const noexcept;
  };
  Filter(void* ctx, bool notify) noexcept;

  std::unique_ptr<void, CtxDeleter> ctx_;  // scmp_filter_ctx, which is a void*
  bool notify_ = false;
};

}  // namespace berth::seccomp
