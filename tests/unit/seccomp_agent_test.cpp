// The container process state sent to a seccomp agent (config-linux.md).
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "runtime/seccomp/agent.hpp"

TEST_CASE("process_state_json: the spec's container process state, metadata only when set") {
  berth::oci::State st;
  st.oci_version = "1.3.0";
  st.id = "c1";
  st.status = berth::oci::Status::Creating;
  st.pid = 4422;
  st.bundle = "/b";
  const auto doc = boost::json::parse(berth::seccomp::process_state_json(4422, std::string("MKNOD=/dev/null"), st));
  CHECK(doc.at("ociVersion") == "1.3.0");
  CHECK(doc.at("fds") == boost::json::array{"seccompFd"});
  CHECK(doc.at("pid") == 4422);
  CHECK(doc.at("metadata") == "MKNOD=/dev/null");
  CHECK(doc.at("state").at("id") == "c1");
  CHECK(doc.at("state").at("status") == "creating");
  const auto bare = boost::json::parse(berth::seccomp::process_state_json(1, std::nullopt, st));
  CHECK_FALSE(bare.as_object().contains("metadata"));
}
