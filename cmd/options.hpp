// The command-line frame shared by berth's subcommands: the global options,
// the description of a subcommand, and the helpers that parse a subcommand's
// argv with Boost.Program_options the way runc (urfave/cli) does.
//
// runc's CLI is the contract: containerd's shim and conmon call berth exactly
// as they call runc, so flag names, short forms, defaults and argument order
// come from runc 1.1.5 and nothing here may rename them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "runtime/container.hpp"

namespace berth::cmd {

namespace po = boost::program_options;

}  // namespace berth::cmd

// Boost's typed_value<T>::notify dereferences an any_cast result it has just
// checked by type, which g++ 12 reports as a potential null dereference once
// inlined. Instantiated once, warning-free, in options.cpp.
extern template void boost::program_options::typed_value<std::string>::notify(const boost::any&) const;
extern template void boost::program_options::typed_value<std::vector<std::string>>::notify(const boost::any&) const;

namespace berth::cmd {

enum class LogFormat { Text, Json };

// --rootless: runc's tri-state, passed to the library (CreateOptions::rootless). Auto lets the
// runtime decide from the euid and the user namespace it runs in.
using Rootless = berth::Rootless;

inline constexpr std::string_view kDefaultRoot = "/run/berth";

// The default --root, as runc's: $XDG_RUNTIME_DIR/berth for an unprivileged user (or for root
// in a user namespace whose $USER is not root) when XDG_RUNTIME_DIR is set, else /run/berth.
// `xdg` tells which.
std::string default_root(bool* xdg = nullptr);

// The options given before the subcommand (`berth [global options] command ...`).
struct GlobalOptions {
  bool debug = false;
  std::string log;  // --log FILE; empty: log to stderr only
  LogFormat log_format = LogFormat::Text;
  std::string root{kDefaultRoot};
  std::string criu = "criu";
  bool systemd_cgroup = false;
  Rootless rootless = Rootless::Auto;
};

std::string_view to_string(LogFormat f) noexcept;
std::string_view to_string(Rootless r) noexcept;

inline constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

// What `--help` prints for a subcommand, and how many positional arguments it takes.
struct CommandInfo {
  std::string_view name;         // "create"
  std::string_view summary;      // one line, listed by `berth --help`
  std::string_view args_usage;   // "<container-id>"; shown after "[command options]"
  std::string_view description;  // free text for `berth <cmd> --help`; may be empty
  std::size_t min_args = 0;
  std::size_t max_args = 0;  // kUnlimited: no upper bound
  // exec and ps: everything after the container id belongs to the process
  // (`berth exec ID ls -l`), so flag parsing stops at the first argument,
  // as urfave/cli's SkipArgReorder does for runc.
  bool stop_at_first_arg = false;
};

// A boolean flag: `--detach` sets it, `--detach=false` clears it (Go's flag
// syntax, which runc accepts). It never consumes the next argument.
po::typed_value<bool>* flag(bool* target);

// The result of parsing one command line against a set of flags.
struct ParsedLine {
  bool help = false;              // -h/--help was given
  std::vector<std::string> args;  // positional arguments, in order
};

// Parses `args` (argv without the program or subcommand name) against `flags`
// plus an implicit -h/--help, stores the values (running notifiers) unless
// help was asked, and turns Boost's errors into berth::Error messages that
// name the flag: `unknown flag --foo`. `stop_at_first_arg`: see CommandInfo.
ParsedLine parse_line(const po::options_description& flags, const std::vector<std::string>& args,
                      bool stop_at_first_arg);

// Parses a subcommand's argv. Returns std::nullopt after printing the
// command's help to stdout when -h/--help was given; otherwise the positional
// arguments, whose count is checked against info (Error:
// `requires exactly 1 argument: <container-id>`).
std::optional<std::vector<std::string>> parse_command(const CommandInfo& info,
                                                      const po::options_description& flags,
                                                      const std::vector<std::string>& args);

// runc's help layout: "   --bundle value, -b value  description".
std::string format_flags(const po::options_description& flags);
void print_command_help(std::ostream& out, const CommandInfo& info, const po::options_description& flags);

// Strict conversions of flag values; each throws berth::Error naming the flag
// (`invalid value "x" for flag --preserve-fds: expected ...`).
std::uint64_t parse_uint(std::string_view flag_name, std::string_view text,
                         std::uint64_t max = std::numeric_limits<std::uint64_t>::max());
std::int64_t parse_int(std::string_view flag_name, std::string_view text,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max());
// A Go duration ("5s", "1m30s", "250ms", "1.5h"), as `events --interval` takes.
std::chrono::nanoseconds parse_duration(std::string_view flag_name, std::string_view text);
// A byte count with an optional binary unit ("512m", "1g", "4096"), as
// docker/go-units RAMInBytes reads runc's `update --memory*` flags; "-1" is
// passed through as -1 (unlimited).
std::int64_t parse_bytes(std::string_view flag_name, std::string_view text);

// systemd socket activation, read as runc reads it (go-systemd's activation.Files): the
// LISTEN_FDS fds from 3 on, when LISTEN_PID is this process; 0 otherwise. create and run pass
// them to the container before the --preserve-fds ones.
int listen_fds_from_env();

// getenv, with "" for an unset variable.
std::string env_or_empty(const char* name);

// The working directory (runc's default image path is <cwd>/checkpoint).
std::string current_dir();

}  // namespace berth::cmd
