// The state of a container (runtime.md "State", schema/state-schema.json): what
// `berth state` prints and what hooks receive on stdin, plus the extra fields
// runc prints (rootfs, created, owner).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "oci/spec.hpp"

namespace berth::oci {

// runtime.md defines creating/created/running/stopped; `paused` is runc's
// additional state for a frozen cgroup (runtime.md allows runtime-defined
// values for new states), printed by `state` and `list`.
enum class Status { Creating, Created, Running, Stopped, Paused };

template <>
struct EnumTraits<Status> {
  static constexpr std::string_view kWhat = "container status";
  static constexpr std::array<std::string_view, 5> kNames = {"creating", "created", "running", "stopped", "paused"};
};

struct State {
  std::string oci_version;
  std::string id;
  Status status = Status::Creating;
  std::optional<std::int32_t> pid;  // REQUIRED when created/running/paused; absent when stopped
  std::string bundle;               // absolute path of the bundle directory
  std::optional<StringMap> annotations;
  // runc's extra fields.
  std::optional<std::string> rootfs;
  std::optional<std::string> created;  // RFC 3339 with nanoseconds, e.g. "2026-11-23T19:22:26.123456789Z"
  std::optional<std::string> owner;
  friend bool operator==(const State&, const State&) = default;
};

// Key order: ociVersion, id, status, pid, bundle, rootfs, created, owner, annotations.
boost::json::value to_json(const State& state);

// Throws berth::Error naming the field on a type error, a missing required
// field, an unknown status, or a missing pid for a created/running/paused state.
State state_from_json(const boost::json::value& doc);

// parse_json + state_from_json.
State parse_state(std::string_view text);

}  // namespace berth::oci
