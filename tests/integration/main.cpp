// The runner of integration-tests. The CLI tests need neither root nor
// cgroups; the container tests (issue #3) will make main() return 77, which
// meson reports as SKIP, when they cannot run here (Catch2 v2 has no SKIP).
#define CATCH_CONFIG_RUNNER
#include <csignal>

// Catch2's runner instantiates std::regex, in which g++ 12 sees a false
// -Wmaybe-uninitialized when the sanitizers are on.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <catch2/catch.hpp>
#pragma GCC diagnostic pop

int main(int argc, char* argv[]) {
  // A child that exits before reading its stdin must not kill the runner.
  std::signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
