// Reading and writing one cgroup control file. A write is one write(2) of the whole value, as
// the kernel parses each write separately. Errors name the file; a missing file means this
// kernel (or this hierarchy) lacks the knob, which callers turn into an error naming the field.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::cgroups {

// Writes value to dir/file; throws Error "write `dir/file` (value): strerror".
void write(const std::string& dir, std::string_view file, std::string_view value);
// As write, but an error is prefixed with the config field it came from, and a missing file is
// reported as the kernel lacking the limit: "linux.resources.cpu.realtimeRuntime: this kernel
// (or host's cgroup setup) has no `cpu.rt_runtime_us`".
void write_field(std::string_view field, const std::string& dir, std::string_view file, std::string_view value);
// The content without the trailing newline; nullopt when the file does not exist.
std::optional<std::string> read(const std::string& dir, std::string_view file);
bool exists(const std::string& dir, std::string_view file);

}  // namespace berth::cgroups
