// oci/state.cpp
#include <catch2/catch.hpp>

#include <string>

#include "oci/json.hpp"
#include "oci/state.hpp"
#include "runtime/sys/error.hpp"

using namespace berth::oci;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_state(text);
  } catch (const berth::Error& e) {
    return e.what();
  }
  return "(accepted)";
}

State running() {
  State s;
  s.oci_version = "1.3.0";
  s.id = "c1";
  s.status = Status::Running;
  s.pid = 4422;
  s.bundle = "/containers/redis";
  return s;
}

}  // namespace

TEST_CASE("state round trips with runc's extra fields", "[oci][state]") {
  State s = running();
  s.annotations = StringMap{{"myKey", "myValue"}};
  s.rootfs = "/containers/redis/rootfs";
  s.created = "2026-11-23T19:22:26.123456789Z";
  s.owner = "";
  CHECK(pretty_json(to_json(s)) ==
        "{\n\t\"ociVersion\": \"1.3.0\",\n\t\"id\": \"c1\",\n\t\"status\": \"running\",\n\t\"pid\": 4422,\n"
        "\t\"bundle\": \"/containers/redis\",\n\t\"rootfs\": \"/containers/redis/rootfs\",\n"
        "\t\"created\": \"2026-11-23T19:22:26.123456789Z\",\n\t\"owner\": \"\",\n"
        "\t\"annotations\": {\n\t\t\"myKey\": \"myValue\"\n\t}\n}");
  CHECK(parse_state(pretty_json(to_json(s))) == s);
  CHECK(state_from_json(to_json(s)) == s);
}

TEST_CASE("runtime.md's example state parses", "[oci][state]") {
  const State s = parse_state(R"({
    "ociVersion": "0.2.0", "id": "oci-container1", "status": "running", "pid": 4422,
    "bundle": "/containers/redis", "annotations": {"myKey": "myValue"}, "someRuntimeExtra": 1})");
  CHECK(s.id == "oci-container1");
  CHECK(s.status == Status::Running);
  CHECK(s.pid == 4422);
  CHECK(s.annotations->at("myKey") == "myValue");
}

TEST_CASE("a stopped container has no pid", "[oci][state]") {
  State s = running();
  s.status = Status::Stopped;
  s.pid.reset();
  const boost::json::value v = to_json(s);
  CHECK_FALSE(v.as_object().contains("pid"));
  CHECK(v.at("status") == "stopped");
  CHECK(state_from_json(v) == s);
}

TEST_CASE("every status spelling", "[oci][state]") {
  CHECK(to_string(Status::Creating) == "creating");
  CHECK(to_string(Status::Created) == "created");
  CHECK(to_string(Status::Running) == "running");
  CHECK(to_string(Status::Stopped) == "stopped");
  CHECK(to_string(Status::Paused) == "paused");
  for (const Status st : all_values<Status>()) CHECK(from_string<Status>(to_string(st)) == st);
}

TEST_CASE("invalid states are refused naming the field", "[oci][state]") {
  CHECK(error_of(R"({"ociVersion": "1.3.0", "id": "c", "status": "running", "bundle": "/b"})") ==
        "pid: required when status is \"running\"");
  CHECK(error_of(R"({"ociVersion": "1.3.0", "id": "c", "status": "created", "bundle": "/b"})") ==
        "pid: required when status is \"created\"");
  CHECK(error_of(R"({"ociVersion": "1.3.0", "id": "c", "status": "creating", "bundle": "/b"})") == "(accepted)");
  CHECK(error_of(R"({"ociVersion": "1.3.0", "id": "c", "status": "zombie", "pid": 1, "bundle": "/b"})") ==
        "status: unknown container status \"zombie\"");
  CHECK(error_of(R"({"ociVersion": "1.3.0", "id": "c", "status": "running", "pid": -1, "bundle": "/b"})") ==
        "pid: must not be negative, got -1");
  CHECK(error_of(R"({"ociVersion": "1.3.0", "id": "c", "status": "running", "pid": 4294967296, "bundle": "/b"})") ==
        "pid: expected a 32-bit integer, got 4294967296");
  CHECK(error_of(R"({"ociVersion": "1.3.0", "status": "stopped", "bundle": "/b"})") == "id: required field is missing");
  CHECK(error_of(R"({"ociVersion": "1.3.0", "id": 7, "status": "stopped", "bundle": "/b"})") == "id: expected a string");
  CHECK(error_of("{") == "invalid JSON at line 1, column 2: incomplete JSON");
}
