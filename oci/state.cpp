// state.json / `berth state` output <-> oci::State (runtime.md "State").
#include "oci/state.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <fmt/format.h>

#include "oci/codec.hpp"

namespace berth::oci {

json::value to_json(const State& s) {
  json::object o;
  put(o, "ociVersion", s.oci_version);
  put(o, "id", s.id);
  put(o, "status", s.status);
  put(o, "pid", s.pid);
  put(o, "bundle", s.bundle);
  put(o, "rootfs", s.rootfs);
  put(o, "created", s.created);
  put(o, "owner", s.owner);
  put(o, "annotations", s.annotations);
  return o;
}

State state_from_json(const json::value& doc) {
  const JsonPath root;
  const json::object& o = expect_object(doc, root);
  State s;
  read_required(o, "ociVersion", root, s.oci_version);
  read_required(o, "id", root, s.id);
  read_required(o, "status", root, s.status);
  read_optional(o, "pid", root, s.pid);
  read_required(o, "bundle", root, s.bundle);
  read_optional(o, "rootfs", root, s.rootfs);
  read_optional(o, "created", root, s.created);
  read_optional(o, "owner", root, s.owner);
  read_optional(o, "annotations", root, s.annotations);
  if (s.pid && *s.pid < 0) fail(root.field("pid"), fmt::format("must not be negative, got {}", *s.pid));
  // runtime.md: REQUIRED when created or running on Linux (paused: runc's frozen running).
  const bool alive = s.status == Status::Created || s.status == Status::Running || s.status == Status::Paused;
  if (alive && !s.pid) fail(root.field("pid"), fmt::format("required when status is {}", quote(to_string(s.status))));
  return s;
}

State parse_state(std::string_view text) {
  unsigned char first_block[4096];
  json::monotonic_resource arena(first_block, sizeof first_block);
  return state_from_json(parse_json(text, json::storage_ptr(&arena)));
}

}  // namespace berth::oci
