// Logging for the berth binary: spdlog sinks that write what runc writes.
//
// stderr always gets `berth[ <cmd>]: <msg>` for errors (and warnings, and
// debug lines with --debug when no log file is set). With `--log FILE` every
// line at info level or above (debug with --debug) is appended to FILE in
// runc's logrus shape, because containerd's shim and conmon read that file:
//   text: time="2026-11-23T19:22:26Z" level=error msg="container does not exist"
//   json: {"level":"error","msg":"container does not exist","time":"2026-11-23T19:22:26Z"}
// Each line is written with a single write(2) on an O_APPEND fd, so readers
// never see half a line.
//
// Only cmd/ configures sinks; the library logs through spdlog's default logger.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "cmd/options.hpp"

namespace berth::cmd {

// Logs warnings and errors to stderr only. Called first thing in main, so
// that errors in the global options are reported.
void setup_default_logging();

// Applies --debug, --log and --log-format. Throws berth::Error when the log
// file cannot be opened.
void setup_logging(const GlobalOptions& options);

// The prefix of stderr lines: "berth" until the subcommand is known, then
// "berth create", so that `berth create: not implemented yet ...` reads well.
void set_log_prefix(std::string prefix);

// Flushes every sink; main calls it before returning.
void flush_logs() noexcept;

// For the init stage: re-emits a log line received from the container's init
// process (over the sync socket) at its own level.
void forward_log(spdlog::level::level_enum level, std::string_view message);

// logrus level names ("debug", "info", "warning", "error", "fatal", "panic";
// "warn" and "trace" too) to spdlog levels, and back.
std::optional<spdlog::level::level_enum> level_from_name(std::string_view name) noexcept;
std::string_view level_name(spdlog::level::level_enum level) noexcept;

// The formatters, exposed for tests. `time` is printed in UTC as RFC 3339.
std::string format_rfc3339(std::chrono::system_clock::time_point time);
std::string format_text_line(spdlog::level::level_enum level, std::string_view msg,
                             std::chrono::system_clock::time_point time);
std::string format_json_line(spdlog::level::level_enum level, std::string_view msg,
                             std::chrono::system_clock::time_point time);

}  // namespace berth::cmd
