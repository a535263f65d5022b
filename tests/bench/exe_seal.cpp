// Benchmark (not a test) of the CVE-2019-5736 protection on the create path: the detached
// read-only mount berth uses (open_tree + mount_setattr) against the sealed memfd copy runc and
// crun use, each followed by the exec of the result (this program itself, which exits at once
// when re-executed: the cost of running from a fresh memfd's pages is counted too). As root:
//   build/tests/bench-exe-seal [ROUNDS]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "runtime/exe_seal.hpp"
#include "runtime/sys/fd.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// Seals with `make`, then execs the result once; returns {seal time, seal + exec + wait time}.
template <class F>
std::pair<double, double> once(F make) {
  const auto t0 = Clock::now();
  berth::sys::Fd fd = make();
  const auto t1 = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    char a0[] = "bench-exe-seal", a1[] = "--exit";
    char* argv[] = {a0, a1, nullptr};
    char* envp[] = {nullptr};
    ::freopen("/dev/null", "w", stdout);
    ::fexecve(fd.get(), argv, envp);
    ::_exit(127);
  }
  int st;
  ::waitpid(pid, &st, 0);
  const auto t2 = Clock::now();
  return {micros(t1 - t0), micros(t2 - t0)};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--exit") return 0;
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  std::vector<double> mount_seal, mount_total, memfd_seal, memfd_total;
  for (int i = 0; i < rounds; ++i) {
    auto [a, b] = once(berth::sealed_self_exe);
    mount_seal.push_back(a);
    mount_total.push_back(b);
    auto [c, d] = once(berth::memfd_sealed_copy);
    memfd_seal.push_back(c);
    memfd_total.push_back(d);
  }
  std::printf("median over %d rounds (us)       seal   seal+exec\n", rounds);
  std::printf("read-only detached mount   %10.1f  %10.1f\n", median(mount_seal), median(mount_total));
  std::printf("sealed memfd copy          %10.1f  %10.1f\n", median(memfd_seal), median(memfd_total));
  return 0;
}
