// docs/library.md's example: run a container from a bundle with berth's library, as `berth run`
// does, and report its exit status. Built with berth (docs/meson.build) so that it keeps
// compiling as the API changes:
//   build/docs/library-example /run/berth-example BUNDLE ID
#include <sys/prctl.h>

#include <cstdio>
#include <exception>
#include <string>

#include "runtime/container.hpp"
#include "runtime/init/init.hpp"

int main(int argc, char** argv) {
  // The init stage of every container is this program re-executed as `<program> init`.
  berth::init::enter_if_init_stage(argc, argv);
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s STATE-ROOT BUNDLE ID\n", argv[0]);
    return 2;
  }
  // The container's init must be our child, or reparented to us, for wait().
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  try {
    berth::Factory factory(argv[1]);
    berth::CreateOptions opts;
    opts.id = argv[3];
    opts.bundle = argv[2];
    berth::Container c = factory.create(opts);
    std::printf("created %s, init pid %d, status %s\n", c.id().c_str(), c.pid(),
                std::string(berth::oci::to_string(c.status())).c_str());
    std::fflush(stdout);
    c.start();
    const int status = c.wait();
    c.destroy(/*force=*/false);
    std::printf("exited with status %d\n", status);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "library-example: %s\n", e.what());
    return 1;
  }
}
