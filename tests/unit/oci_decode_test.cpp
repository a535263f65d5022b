// oci/decode.cpp, oci/decode_linux.cpp, oci/json.cpp (parse side), oci/enums.hpp.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "oci/json.hpp"
#include "oci/spec.hpp"
#include "oci/validate.hpp"
#include "runtime/sys/error.hpp"
#include "tests/unit/oci_test_support.hpp"

using namespace berth::oci;
using berth::test::read_file;

namespace {

std::string error_of(const std::string& text) {
  try {
    const Spec s = parse_config(text);
    validate(s);
  } catch (const berth::Error& e) {
    return e.what();
  }
  return "(accepted)";
}

constexpr const char* kMinimal = R"({"ociVersion": "1.3.0", "root": {"path": "rootfs"}})";

}  // namespace

TEST_CASE("spec's good Linux vectors parse and validate", "[oci][decode]") {
  if (berth::test::spec_vectors().empty()) {
    berth::test::skip_test(berth::test::kNoVectors);
    return;
  }
  int linux_docs = 0;
  std::string skipped;
  for (const auto& path : berth::test::vector_files("good")) {
    const std::string text = read_file(path);
    if (berth::test::is_other_platform(text)) {
      // freebsd-*, zos-*: they configure another platform's container (a
      // jail, a z/OS one), whose process and mounts follow other rules.
      skipped += " " + path.filename().string();
      continue;
    }
    INFO(path.filename().string());
    ++linux_docs;
    Spec s;
    REQUIRE_NOTHROW(s = parse_config(text));
    REQUIRE_NOTHROW(validate(s));
  }
  if (!skipped.empty()) WARN("not Linux configs (they carry a freebsd/solaris/windows/zos object), skipped:" << skipped);
  CHECK(linux_docs >= 5);
}

TEST_CASE("spec's bad Linux vectors are refused naming the field", "[oci][decode]") {
  if (berth::test::spec_vectors().empty()) {
    berth::test::skip_test(berth::test::kNoVectors);
    return;
  }
  // Where each known vector is wrong; a vector added later must at least be refused.
  const std::map<std::string, std::string> where = {
      {"invalid-json.json", "invalid JSON at line 1, column 2: "},
      {"linux-hugepage.json", "linux.resources.hugepageLimits[0].pageSize: "},
      {"linux-netdevice.json", "linux.netDevices.eth0.name: expected a string"},
      {"linux-rdma.json", "linux.resources.rdma.mlx5_1.hcaHandles: expected an unsigned 32-bit integer"},
  };
  int linux_docs = 0;
  std::string skipped;
  for (const auto& path : berth::test::vector_files("bad")) {
    const std::string text = read_file(path);
    if (berth::test::is_other_platform(text)) {
      skipped += " " + path.filename().string();
      continue;
    }
    ++linux_docs;
    const std::string name = path.filename().string();
    const std::string error = error_of(text);
    INFO(name << ": " << error);
    CHECK(error != "(accepted)");
    const auto it = where.find(name);
    if (it != where.end()) CHECK_THAT(error, Catch::StartsWith(it->second));
  }
  if (!skipped.empty()) WARN("not Linux configs, skipped:" << skipped);
  CHECK(linux_docs >= 4);
}

TEST_CASE("parse_config reads every field", "[oci][decode]") {
  const Spec s = parse_config(read_file(berth::test::fixture("full-config.json")));
  REQUIRE(s.oci_version == "1.3.0");
  REQUIRE(s.process);
  const Process& p = *s.process;
  CHECK(p.terminal == true);
  CHECK(p.console_size == ConsoleSize{25, 80});
  REQUIRE(p.user);
  CHECK(p.user->uid == 1000u);
  CHECK(p.user->gid == 4294967295u);
  CHECK(p.user->umask == 18u);
  CHECK(p.user->additional_gids == std::vector<std::uint32_t>{5, 6});
  CHECK(p.args->at(2) == "echo \"<hello & bye>\" \u2028 done\ttab");
  CHECK(p.env->at(2) == "EMPTY=");
  CHECK(p.capabilities->inheritable == Strings{});  // present but empty stays present
  CHECK(p.rlimits->at(1).hard == UINT64_MAX);
  CHECK(p.no_new_privileges == false);
  CHECK(p.oom_score_adj == -1000);
  CHECK(p.scheduler->policy == SchedulerPolicy::Deadline);
  CHECK(p.scheduler->flags->size() == 7);
  CHECK(p.io_priority->class_ == IoPriorityClass::Be);
  CHECK(p.exec_cpu_affinity->final == "0-3, 7, 8-15:2/4");
  CHECK(s.root == Root{"rootfs", false});
  CHECK(s.mounts->at(1).uid_mappings->at(0) == LinuxIdMapping{0, 100000, 65536});
  CHECK(s.mounts->at(2).options == Strings{});
  CHECK(s.mounts->at(0).options == std::nullopt);
  CHECK(s.hooks->poststop->at(0).timeout == INT64_MAX);
  CHECK(s.annotations->at("com.example.empty").empty());
  REQUIRE(s.linux);
  const Linux& l = *s.linux;
  CHECK(l.sysctl->at("net/core/somaxconn") == "256");
  CHECK(l.resources->devices->at(2).major == -1);
  CHECK(l.resources->memory->kernel == -1);
  CHECK(l.resources->memory->check_before_update == true);
  CHECK(l.resources->cpu->realtime_runtime == -1);
  CHECK(l.resources->pids->limit == -1);
  CHECK(l.resources->block_io->leaf_weight == 65535);
  CHECK(l.resources->block_io->throttle_write_bps_device->at(0).rate == UINT64_MAX);
  CHECK(l.resources->hugepage_limits->at(0).limit == 9223372036854772000u);
  CHECK(l.resources->network->priorities->at(1).priority == UINT32_MAX);
  CHECK(l.resources->rdma->at("mlx4_0").hca_handles == std::nullopt);
  CHECK(l.resources->unified->at("memory.high") == "max");
  CHECK(l.namespaces->size() == 8);
  CHECK(l.namespaces->at(1).type == NamespaceType::Network);
  CHECK(l.namespaces->at(1).path == "/var/run/netns/neta");
  CHECK(l.devices->at(3).type == "p");
  CHECK(l.net_devices->at("ens4").name == std::nullopt);
  CHECK(l.seccomp->default_errno_ret == 1u);
  CHECK(l.seccomp->architectures->size() == 23);
  CHECK(l.seccomp->flags->at(3) == SeccompFlag::WaitKillableRecv);
  CHECK(l.seccomp->syscalls->at(2).args->at(1).value_two == UINT64_MAX);
  CHECK(l.seccomp->syscalls->at(2).args->at(1).op == SeccompOperator::MaskedEqual);
  CHECK(l.rootfs_propagation == RootfsPropagation::RSlave);
  CHECK(l.intel_rdt->enable_monitoring == true);
  CHECK(l.memory_policy->mode == MemoryPolicyMode::Bind);
  CHECK(l.personality->domain == PersonalityDomain::Linux32);
  CHECK(l.time_offsets->at("boottime").secs == INT64_MIN);
  CHECK(l.time_offsets->at("boottime").nanosecs == 999999999u);
}

TEST_CASE("unknown properties are ignored and null means absent", "[oci][decode]") {
  const Spec s = parse_config(R"({
    "ociVersion": "1.3.0", "root": {"path": "rootfs", "x-extra": [1, {"a": null}]},
    "hostname": null, "futureTopLevel": {"deep": true},
    "process": {"cwd": "/", "args": ["sh"], "env": null, "shinyNewField": 3},
    "linux": {"resources": {"oomScoreAdj": 100}, "namespaces": [{"type": "uts", "future": 1}]},
    "windows": {"layerFolders": ["C:\\x"]}
  })");
  CHECK_FALSE(s.hostname);
  CHECK_FALSE(s.process->env);
  CHECK(s.linux->resources == LinuxResources{});
  CHECK(s.linux->namespaces->at(0) == LinuxNamespace{NamespaceType::Uts, std::nullopt});
}

TEST_CASE("decode errors name the JSON path", "[oci][decode]") {
  const auto error = [](const std::string& text) {
    try {
      parse_config(text);
    } catch (const berth::Error& e) {
      CHECK(e.errnum() == 0);
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(error(R"({"ociVersion": "1.3.0", "process": {"cwd": "/", "args": ["sh", 1]}})") ==
        "process.args[1]: expected a string");
  CHECK(error(R"({"ociVersion": "1.3.0", "linux": {"sysctl": {"net.core.somaxconn": 1}}})") ==
        "linux.sysctl[\"net.core.somaxconn\"]: expected a string");
  CHECK(error(R"({"ociVersion": "1.3.0", "linux": {"resources": {"rdma": {"mlx5_1": {"hcaHandles": 4294967296}}}}})") ==
        "linux.resources.rdma.mlx5_1.hcaHandles: expected an unsigned 32-bit integer, got 4294967296");
  CHECK(error(R"({"ociVersion": "1.3.0", "linux": {"devices": [{"path": "/dev/x", "type": "c", "major": 1e3}]}})") ==
        "linux.devices[0].major: expected a 64-bit integer, got 1E3");
  CHECK(error(R"({"ociVersion": "1.3.0", "annotations": {"a\"b": 1}})") == "annotations[\"a\\\"b\"]: expected a string");
  CHECK(error(R"({"ociVersion": "1.3.0", "linux": {"namespaces": [{"type": "<pdi>"}]}})") ==
        "linux.namespaces[0].type: unknown namespace type \"\\u003cpdi\\u003e\"");
  CHECK(error(R"({"ociVersion": "1.3.0", "root": {"path": null}})") == "root.path: required field is missing");
  CHECK(error("42") == "(root): expected an object");
}

TEST_CASE("invalid JSON reports line and column", "[oci][decode][json]") {
  const auto error = [](const std::string& text) {
    try {
      parse_json(text);
    } catch (const berth::Error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(error("{]") == "invalid JSON at line 1, column 2: syntax error");
  CHECK(error("{\n\t\"a\": 1,\n\t\"b\" 2\n}") == "invalid JSON at line 3, column 6: syntax error");
  CHECK(error("") == "invalid JSON at line 1, column 1: incomplete JSON");
  CHECK(error("{\"a\": 1} {}") == "invalid JSON at line 1, column 10: extra data");
  CHECK(error("{\"a\": \"\xff\"}") == "invalid JSON at line 1, column 8: syntax error");
  CHECK(error("// comment\n{}") == "invalid JSON at line 1, column 1: syntax error");
  // Depth is bounded so that no walker can be driven into a stack overflow.
  std::string deep(65, '[');
  deep += std::string(65, ']');
  CHECK_THAT(error(deep), Catch::StartsWith("invalid JSON at line 1, column 65: "));
  std::string ok(64, '[');
  ok += std::string(64, ']');
  CHECK(error(ok) == "(accepted)");
}

TEST_CASE("JsonPath renders fields, indices and odd keys", "[oci][json]") {
  const JsonPath root;
  CHECK(root.str() == "(root)");
  const JsonPath linux = root.field("linux");
  const JsonPath ns = linux.field("namespaces");
  CHECK(ns[2].field("type").str() == "linux.namespaces[2].type");
  const JsonPath sysctl = linux.field("sysctl");
  CHECK(sysctl.field("net.ipv4.ip_forward").str() == "linux.sysctl[\"net.ipv4.ip_forward\"]");
  CHECK(sysctl.field("").str() == "linux.sysctl[\"\"]");
  CHECK(root.field("a b").str() == "[\"a b\"]");
  CHECK(root[0].str() == "[0]");
}

TEST_CASE("decode_config takes an already parsed document", "[oci][decode]") {
  const boost::json::value doc = parse_json(kMinimal);
  const Spec s = decode_config(doc);
  CHECK(s.root->path == "rootfs");
  CHECK(s == parse_config(kMinimal));
}

TEMPLATE_TEST_CASE("enum names round trip", "[oci][enums]", NamespaceType, RootfsPropagation, SeccompAction, SeccompArch,
                   SeccompFlag, SeccompOperator, IoPriorityClass, SchedulerPolicy, SchedulerFlag, MemoryPolicyMode,
                   MemoryPolicyFlag, PersonalityDomain) {
  for (const TestType e : all_values<TestType>()) {
    const std::string_view name = to_string(e);
    CHECK_FALSE(name.empty());
    CHECK(from_string<TestType>(name) == e);
  }
  CHECK_FALSE(from_string<TestType>(""));
  CHECK_FALSE(from_string<TestType>("nonsense"));
}

TEST_CASE("enum spellings follow the spec", "[oci][enums]") {
  CHECK(to_string(NamespaceType::Network) == "network");
  CHECK(from_string<NamespaceType>("mnt") == std::nullopt);  // the spec says "mount"
  CHECK(to_string(SeccompAction::KillProcess) == "SCMP_ACT_KILL_PROCESS");
  CHECK(to_string(SeccompArch::X86_64) == "SCMP_ARCH_X86_64");
  CHECK(to_string(SeccompOperator::MaskedEqual) == "SCMP_CMP_MASKED_EQ");
  CHECK(to_string(SeccompFlag::WaitKillableRecv) == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
  CHECK(to_string(MemoryPolicyMode::WeightedInterleave) == "MPOL_WEIGHTED_INTERLEAVE");
  CHECK(to_string(SchedulerFlag::UtilClampMax) == "SCHED_FLAG_UTIL_CLAMP_MAX");
  CHECK(to_string(IoPriorityClass::Idle) == "IOPRIO_CLASS_IDLE");
  CHECK(to_string(PersonalityDomain::Linux32) == "LINUX32");
  CHECK(from_string<RootfsPropagation>("rshared") == RootfsPropagation::RShared);
  CHECK(to_string(static_cast<NamespaceType>(99)) == "?");
}
