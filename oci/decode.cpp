// config.json -> oci::Spec, the platform-neutral part (config.md). The `linux`
// object is decoded in decode_linux.cpp. Readers are defined leaves first and
// read members in the schema's order, so the first error reported is the first
// bad field of the document.
#include <boost/json/monotonic_resource.hpp>

#include "oci/codec.hpp"
#include "oci/spec.hpp"
#include "runtime/sys/error.hpp"

namespace berth::oci {

const json::object& expect_object(const json::value& v, const JsonPath& where) {
  const json::object* o = v.if_object();
  if (!o) fail(where, "expected an object");
  return *o;
}

const json::array& expect_array(const json::value& v, const JsonPath& where) {
  const json::array* a = v.if_array();
  if (!a) fail(where, "expected an array");
  return *a;
}

void decode_into(const json::value& v, const JsonPath& where, std::string& out) {
  const json::string* s = v.if_string();
  if (!s) fail(where, "expected a string");
  out.assign(s->data(), s->size());
}

void decode_into(const json::value& v, const JsonPath& where, bool& out) {
  const bool* b = v.if_bool();
  if (!b) fail(where, "expected a boolean");
  out = *b;
}

void decode_into(const json::value& v, const JsonPath& w, LinuxIdMapping& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "containerID", w, out.container_id);
  read_required(o, "hostID", w, out.host_id);
  read_required(o, "size", w, out.size);
}

void decode_into(const json::value& v, const JsonPath& w, Root& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "path", w, out.path);
  read_optional(o, "readonly", w, out.readonly);
}

void decode_into(const json::value& v, const JsonPath& w, Mount& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "destination", w, out.destination);
  read_optional(o, "type", w, out.type);
  read_optional(o, "source", w, out.source);
  read_optional(o, "options", w, out.options);
  read_optional(o, "uidMappings", w, out.uid_mappings);
  read_optional(o, "gidMappings", w, out.gid_mappings);
}

void decode_into(const json::value& v, const JsonPath& w, ConsoleSize& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "height", w, out.height);
  read_required(o, "width", w, out.width);
}

void decode_into(const json::value& v, const JsonPath& w, User& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "uid", w, out.uid);
  read_required(o, "gid", w, out.gid);
  read_optional(o, "umask", w, out.umask);
  read_optional(o, "additionalGids", w, out.additional_gids);
  read_optional(o, "username", w, out.username);
}

void decode_into(const json::value& v, const JsonPath& w, LinuxCapabilities& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "bounding", w, out.bounding);
  read_optional(o, "effective", w, out.effective);
  read_optional(o, "inheritable", w, out.inheritable);
  read_optional(o, "permitted", w, out.permitted);
  read_optional(o, "ambient", w, out.ambient);
}

void decode_into(const json::value& v, const JsonPath& w, PosixRlimit& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "type", w, out.type);
  read_required(o, "hard", w, out.hard);
  read_required(o, "soft", w, out.soft);
}

void decode_into(const json::value& v, const JsonPath& w, Scheduler& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "policy", w, out.policy);
  read_optional(o, "nice", w, out.nice);
  read_optional(o, "priority", w, out.priority);
  read_optional(o, "flags", w, out.flags);
  read_optional(o, "runtime", w, out.runtime);
  read_optional(o, "deadline", w, out.deadline);
  read_optional(o, "period", w, out.period);
}

void decode_into(const json::value& v, const JsonPath& w, IoPriority& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "class", w, out.class_);
  read_required(o, "priority", w, out.priority);
}

void decode_into(const json::value& v, const JsonPath& w, CpuAffinity& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "initial", w, out.initial);
  read_optional(o, "final", w, out.final);
}

void decode_into(const json::value& v, const JsonPath& w, Process& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "terminal", w, out.terminal);
  read_optional(o, "consoleSize", w, out.console_size);
  read_optional(o, "user", w, out.user);
  read_optional(o, "args", w, out.args);
  read_optional(o, "commandLine", w, out.command_line);
  read_optional(o, "env", w, out.env);
  read_required(o, "cwd", w, out.cwd);
  read_optional(o, "capabilities", w, out.capabilities);
  read_optional(o, "rlimits", w, out.rlimits);
  read_optional(o, "noNewPrivileges", w, out.no_new_privileges);
  read_optional(o, "apparmorProfile", w, out.apparmor_profile);
  read_optional(o, "oomScoreAdj", w, out.oom_score_adj);
  read_optional(o, "scheduler", w, out.scheduler);
  read_optional(o, "selinuxLabel", w, out.selinux_label);
  read_optional(o, "ioPriority", w, out.io_priority);
  read_optional(o, "execCPUAffinity", w, out.exec_cpu_affinity);
}

void decode_into(const json::value& v, const JsonPath& w, Hook& out) {
  const json::object& o = expect_object(v, w);
  read_required(o, "path", w, out.path);
  read_optional(o, "args", w, out.args);
  read_optional(o, "env", w, out.env);
  read_optional(o, "timeout", w, out.timeout);
}

void decode_into(const json::value& v, const JsonPath& w, Hooks& out) {
  const json::object& o = expect_object(v, w);
  read_optional(o, "prestart", w, out.prestart);
  read_optional(o, "createRuntime", w, out.create_runtime);
  read_optional(o, "createContainer", w, out.create_container);
  read_optional(o, "startContainer", w, out.start_container);
  read_optional(o, "poststart", w, out.poststart);
  read_optional(o, "poststop", w, out.poststop);
}

Spec decode_config(const json::value& doc) {
  const JsonPath root;
  const json::object& o = expect_object(doc, root);
  Spec s;
  read_required(o, "ociVersion", root, s.oci_version);
  read_optional(o, "process", root, s.process);
  read_optional(o, "root", root, s.root);
  read_optional(o, "hostname", root, s.hostname);
  read_optional(o, "domainname", root, s.domainname);
  read_optional(o, "mounts", root, s.mounts);
  read_optional(o, "hooks", root, s.hooks);
  read_optional(o, "annotations", root, s.annotations);
  read_optional(o, "linux", root, s.linux);
  return s;
}

Spec parse_config(std::string_view text) {
  // The JSON tree only lives until it is decoded: an arena (first block on the
  // stack) turns its many small allocations into a few and frees them at once.
  unsigned char first_block[16 * 1024];
  json::monotonic_resource arena(first_block, sizeof first_block);
  const json::value doc = parse_json(text, json::storage_ptr(&arena));
  return decode_config(doc);
}

}  // namespace berth::oci
