// The subcommands of berth: one file each in cmd/, all with this shape.
// A command parses its argv (without its own name) into a typed options
// struct and calls into runtime/; it returns the exit status or throws
// berth::Error, which main() reports.
#pragma once

#include <string>
#include <vector>

#include "cmd/options.hpp"

namespace berth::cmd {

using CommandFn = int (*)(const GlobalOptions& global, const std::vector<std::string>& args);

// kXCommand: the name, summary, usage and argument count of `berth x`.
extern const CommandInfo kCheckpointCommand;
int cmd_checkpoint(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kCreateCommand;
int cmd_create(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kDeleteCommand;
int cmd_delete(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kEventsCommand;
int cmd_events(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kExecCommand;
int cmd_exec(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kKillCommand;
int cmd_kill(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kListCommand;
int cmd_list(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kPauseCommand;
int cmd_pause(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kPsCommand;
int cmd_ps(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kRestoreCommand;
int cmd_restore(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kResumeCommand;
int cmd_resume(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kRunCommand;
int cmd_run(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kSpecCommand;
int cmd_spec(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kStartCommand;
int cmd_start(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kStateCommand;
int cmd_state(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kUpdateCommand;
int cmd_update(const GlobalOptions& global, const std::vector<std::string>& args);

extern const CommandInfo kFeaturesCommand;
int cmd_features(const GlobalOptions& global, const std::vector<std::string>& args);

  // hidden: the re-exec'd init stage of a container
extern const CommandInfo kInitCommand;
int cmd_init(const GlobalOptions& global, const std::vector<std::string>& args);

}  // namespace berth::cmd
