// berth create: sets up a container from a bundle and leaves its init
// process waiting for `berth start` (runc create).
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cmd/commands.hpp"
#include "cmd/create_flags.hpp"
#include "runtime/container.hpp"

namespace berth::cmd {

const CommandInfo kCreateCommand{
    .name = "create",
    .summary = "create a container",
    .args_usage = "<container-id>",
    .description = create_description("create"),
    .min_args = 1,
    .max_args = 1,
};

namespace {

struct CreateArgs {
  std::string id;
  CreateFlags f;
};

}  // namespace

int cmd_create(const GlobalOptions& global, const std::vector<std::string>& args) {
  CreateArgs a;
  po::options_description flags;
  add_leading_create_flags(flags, a.f);
  flags.add_options()
      ("pid-file", po::value(&a.f.pid_file), "specify the file to write the process id to");
  add_trailing_create_flags(flags, a.f);
  const auto positional = parse_command(kCreateCommand, flags, args);
  if (!positional) return 0;
  a.id = (*positional)[0];
  spdlog::debug("create `{}` from bundle `{}`", a.id, a.f.bundle.empty() ? "." : a.f.bundle);
  Factory factory(global.root);
  factory.create(create_options(global, a.id, a.f));
  return 0;
}

}  // namespace berth::cmd
