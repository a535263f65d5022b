#include "runtime/cgroups/stats.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/unit/temp_dir.hpp"

#include "runtime/sys/error.hpp"
#include "runtime/sys/syscalls.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using berth::Error;
using namespace berth::cgroups;

namespace {

using berth::test::TempDir;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
// What a v1 memory controller reports as "no limit" (LONG_MAX rounded down to a page).
constexpr std::uint64_t kV1NoLimit = 9223372036854771712ULL;

void put(const fs::path& dir, const std::string& name, std::string_view text) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << text;
}

std::uint64_t ticks_ns(std::uint64_t ticks) {
  return ticks * 1'000'000'000ULL / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
}

// The kernel's formats, copied from a hybrid host (cpu and cpuacct mounted apart, hugetlb
// bound to no v1 hierarchy) and from a cgroup2 one.
Paths write_v1_host(const TempDir& t) {
  put(t / "cpu", "cpu.stat", "nr_periods 120\nnr_throttled 7\nthrottled_time 3500000\nnr_bursts 0\nburst_time 0\n");

  put(t / "cpuacct", "cpuacct.usage", "17278358361625\n");
  put(t / "cpuacct", "cpuacct.usage_percpu", "8425695351095 8852667046870 \n");
  put(t / "cpuacct", "cpuacct.stat", "user 1438620\nsystem 289216\n");
  put(t / "cpuacct", "cpuacct.usage_all",
      "cpu user system\n0 6978348000000 1383752000000\n1 7303476000000 1487428000000\n");

  put(t / "cpuset", "cpuset.cpus", "0-1,4\n");
  put(t / "cpuset", "cpuset.mems", "0\n");
  put(t / "cpuset", "cpuset.cpu_exclusive", "0\n");
  put(t / "cpuset", "cpuset.mem_hardwall", "0\n");
  put(t / "cpuset", "cpuset.mem_exclusive", "0\n");
  put(t / "cpuset", "cpuset.memory_migrate", "0\n");
  put(t / "cpuset", "cpuset.memory_spread_page", "0\n");
  put(t / "cpuset", "cpuset.memory_spread_slab", "0\n");
  put(t / "cpuset", "cpuset.memory_pressure", "0\n");
  put(t / "cpuset", "cpuset.sched_load_balance", "1\n");
  put(t / "cpuset", "cpuset.sched_relax_domain_level", "-1\n");

  const fs::path mem = t / "memory";
  put(mem, "memory.usage_in_bytes", "357396480\n");
  put(mem, "memory.limit_in_bytes", "9223372036854771712\n");
  put(mem, "memory.max_usage_in_bytes", "5445468160\n");
  put(mem, "memory.failcnt", "3\n");
  put(mem, "memory.memsw.usage_in_bytes", "357515264\n");
  put(mem, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
  put(mem, "memory.memsw.max_usage_in_bytes", "5445500000\n");
  put(mem, "memory.memsw.failcnt", "0\n");
  put(mem, "memory.kmem.usage_in_bytes", "115273728\n");
  put(mem, "memory.kmem.limit_in_bytes", "9223372036854771712\n");
  put(mem, "memory.kmem.max_usage_in_bytes", "120000000\n");
  put(mem, "memory.kmem.failcnt", "0\n");
  put(mem, "memory.kmem.tcp.usage_in_bytes", "0\n");
  put(mem, "memory.kmem.tcp.limit_in_bytes", "9223372036854771712\n");
  put(mem, "memory.kmem.tcp.max_usage_in_bytes", "0\n");
  put(mem, "memory.kmem.tcp.failcnt", "0\n");
  put(mem, "memory.stat",
      "cache 9326592\nrss 5144576\nrss_huge 0\nshmem 9166848\nmapped_file 7704576\n"
      "dirty 4096\nwriteback 0\nswap 0\npgpgin 30638\npgpgout 27105\npgfault 45384\n"
      "pgmajfault 0\ninactive_anon 0\nactive_anon 1531904\ninactive_file 118784\n"
      "active_file 40960\nunevictable 12779520\nhierarchical_memory_limit 9223372036854771712\n"
      "hierarchical_memsw_limit 9223372036854771712\ntotal_cache 346382336\n"
      "total_dirty -4096\n");  // a per-cpu counter caught below zero, as some kernels show

  put(t / "pids", "pids.current", "12\n");
  put(t / "pids", "pids.max", "max\n");

  // bfq is the scheduler but counted nothing: runc then falls through to the throttle files.
  const fs::path blk = t / "blkio";
  put(blk, "blkio.bfq.io_serviced_recursive", "Total 0\n");
  put(blk, "blkio.bfq.io_service_bytes_recursive", "Total 0\n");
  put(blk, "blkio.throttle.io_serviced_recursive",
      "8:0 Read 124\n8:0 Write 104\n8:0 Sync 104\n8:0 Async 124\n8:0 Discard 0\n8:0 Total 228\nTotal 228\n");
  put(blk, "blkio.throttle.io_service_bytes_recursive",
      "8:0 Read 1282048\n8:0 Write 2195456\n8:0 Sync 2195456\n8:0 Async 1282048\n8:0 Discard 0\n"
      "8:0 Total 3477504\nTotal 3477504\n");
  put(blk, "blkio.throttle.io_serviced", "8:0 Read 1\n8:0 Write 1\nTotal 2\n");  // not recursive: not used

  // The hybrid hierarchy: hugetlb lives here; cpu.stat exists too but cpu is bound to v1.
  const fs::path uni = t / "unified";
  put(uni, "cgroup.controllers", "hugetlb\n");
  put(uni, "cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
  put(uni, "cpu.pressure", "some avg10=1.25 avg60=3.63 avg300=11.99 total=4666005985\n");
  put(uni, "hugetlb.2MB.current", "4194304\n");
  put(uni, "hugetlb.2MB.max", "max\n");
  put(uni, "hugetlb.2MB.events", "max 2\n");
  put(uni, "hugetlb.2MB.events.local", "max 2\n");
  put(uni, "hugetlb.2MB.rsvd.current", "6291456\n");
  put(uni, "hugetlb.2MB.rsvd.max", "max\n");
  put(uni, "hugetlb.2MB.numa_stat", "total=0 N0=0\n");
  put(uni, "hugetlb.1GB.current", "0\n");
  put(uni, "hugetlb.1GB.max", "max\n");
  put(uni, "hugetlb.1GB.events", "max 0\n");

  Paths p;
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio"}) p.v1[c] = (t / c).string();
  p.v1["name=systemd"] = (t / "systemd").string();
  p.unified = uni.string();
  p.mode = Mode::Hybrid;
  return p;
}

Paths write_v2_host(const TempDir& t) {
  const fs::path d = t / "ctr";
  put(d, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  put(d, "cpu.stat",
      "usage_usec 17153236\nuser_usec 14281940\nsystem_usec 2871296\nnr_periods 50\n"
      "nr_throttled 5\nthrottled_usec 1200\nnr_bursts 0\nburst_usec 0\n");
  put(d, "cpu.pressure",
      "some avg10=1.25 avg60=3.63 avg300=11.99 total=4666005985\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  put(d, "memory.current", "2846720\n");
  put(d, "memory.max", "max\n");
  put(d, "memory.peak", "3000000\n");
  put(d, "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n");
  put(d, "memory.swap.current", "1000\n");
  put(d, "memory.swap.max", "max\n");
  put(d, "memory.stat",
      "anon 143360\nfile 2355200\nkernel 348160\nkernel_stack 16384\npagetables 32768\n"
      "sock 0\nshmem 0\nfile_mapped 1224704\nfile_dirty 0\nfile_writeback 0\nswapcached 0\n"
      "inactive_anon 4096\nactive_anon 139264\ninactive_file 679936\nactive_file 1675264\n"
      "unevictable 0\nslab_reclaimable 116720\nslab_unreclaimable 149344\nslab 266064\n"
      "pgfault 753\npgmajfault 16\n");
  put(d, "memory.pressure",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  put(d, "pids.current", "3\n");
  put(d, "pids.max", "100\n");
  put(d, "io.stat",
      "254:1 rbytes=6901432320 wbytes=14245535744 rios=263278 wios=248603 dbytes=0 dios=0\n"
      "259:0 rbytes=6911345664 wbytes=14245536256 rios=264538 wios=244914 dbytes=530485248 dios=2\n");
  put(d, "io.pressure",
      "some avg10=2.82 avg60=1.94 avg300=0.54 total=22988185\nfull avg10=2.69 avg60=1.87 avg300=0.51 total=13927206\n");
  put(d, "hugetlb.2MB.current", "2097152\n");
  put(d, "hugetlb.2MB.max", "max\n");
  put(d, "hugetlb.2MB.events", "max 1\n");
  put(d, "hugetlb.2MB.events.local", "max 1\n");

  Paths p;
  p.unified = d.string();
  p.mode = Mode::Unified;
  return p;
}

const json::value& at(const json::value& v, std::string_view key) { return v.as_object().at(key); }

}  // namespace

// --- v1 / hybrid -------------------------------------------------------------------------

TEST_CASE("v1 cpu and cpuacct are read from their own hierarchies", "[cgroups][stats]") {
  TempDir t;
  const Stats s = read_stats(write_v1_host(t), 0);
  CHECK(s.cpu.usage.total == 17278358361625ULL);
  CHECK(s.cpu.usage.percpu == std::vector<std::uint64_t>{8425695351095ULL, 8852667046870ULL});
  CHECK(s.cpu.usage.user == ticks_ns(1438620));
  CHECK(s.cpu.usage.kernel == ticks_ns(289216));
  CHECK(s.cpu.usage.percpu_user == std::vector<std::uint64_t>{6978348000000ULL, 7303476000000ULL});
  CHECK(s.cpu.usage.percpu_kernel == std::vector<std::uint64_t>{1383752000000ULL, 1487428000000ULL});
  CHECK(s.cpu.throttling.periods == 120);
  CHECK(s.cpu.throttling.throttled_periods == 7);
  CHECK(s.cpu.throttling.throttled_time == 3500000);
  CHECK_FALSE(s.cpu.psi);  // the unified cpu.pressure belongs to no controller read here
}

TEST_CASE("v1 memory, cpuset and pids", "[cgroups][stats]") {
  TempDir t;
  const Stats s = read_stats(write_v1_host(t), 0);
  CHECK(s.memory.cache == 9326592);
  CHECK(s.memory.usage.usage == 357396480);
  CHECK(s.memory.usage.limit == kV1NoLimit);
  CHECK(s.memory.usage.max == 5445468160ULL);
  CHECK(s.memory.usage.failcnt == 3);
  CHECK(s.memory.swap.usage == 357515264);
  CHECK(s.memory.swap.max == 5445500000ULL);
  CHECK(s.memory.kernel.usage == 115273728);
  CHECK(s.memory.kernel.max == 120000000);
  CHECK(s.memory.kernel_tcp.limit == kV1NoLimit);
  CHECK(s.memory.raw.at("rss") == 5144576);
  CHECK(s.memory.raw.at("hierarchical_memory_limit") == kV1NoLimit);
  CHECK(s.memory.raw.at("total_dirty") == 0);  // negative saturates, as runc's ParseUint
  CHECK_FALSE(s.memory.psi);

  CHECK(s.cpuset.cpus == std::vector<std::uint16_t>{0, 1, 4});
  CHECK(s.cpuset.mems == std::vector<std::uint16_t>{0});
  CHECK(s.cpuset.sched_load_balance == 1);
  CHECK(s.cpuset.sched_relax_domain_level == -1);

  CHECK(s.pids.current == 12);
  CHECK(s.pids.limit == 0);  // "max"
}

TEST_CASE("v1 blkio takes the first group of files that counted something", "[cgroups][stats]") {
  TempDir t;
  const Stats s = read_stats(write_v1_host(t), 0);
  const std::vector<BlkioEntry> serviced{{8, 0, "Read", 124},  {8, 0, "Write", 104},  {8, 0, "Sync", 104},
                                         {8, 0, "Async", 124}, {8, 0, "Discard", 0}, {8, 0, "Total", 228}};
  CHECK(s.blkio.io_serviced_recursive == serviced);
  REQUIRE(s.blkio.io_service_bytes_recursive.size() == 6);
  CHECK(s.blkio.io_service_bytes_recursive[1] == BlkioEntry{8, 0, "Write", 2195456});
  CHECK(s.blkio.sectors_recursive.empty());
  CHECK_FALSE(s.blkio.psi);
}

TEST_CASE("v1 blkio: cfq files, and sectors lines without an op", "[cgroups][stats]") {
  TempDir t;
  const fs::path blk = t / "blkio";
  put(blk, "blkio.sectors_recursive", "8:0 6792\n8:16 10\n");
  put(blk, "blkio.io_service_bytes_recursive", "8:0 Read 1282048\nTotal 1282048\n");
  put(blk, "blkio.throttle.io_serviced_recursive", "8:0 Read 1\nTotal 1\n");
  Paths p;
  p.v1["blkio"] = blk.string();
  const Stats s = read_stats(p, 0);
  CHECK(s.blkio.sectors_recursive == std::vector<BlkioEntry>{{8, 0, "", 6792}, {8, 16, "", 10}});
  CHECK(s.blkio.io_service_bytes_recursive == std::vector<BlkioEntry>{{8, 0, "Read", 1282048}});
  CHECK(s.blkio.io_serviced_recursive.empty());  // cfq's own file is absent; throttle is not mixed in
}

TEST_CASE("hybrid host: hugetlb from the cgroup2 directory, reservation counters first", "[cgroups][stats]") {
  TempDir t;
  const Stats s = read_stats(write_v1_host(t), 0);
  REQUIRE(s.hugetlb.size() == 2);
  CHECK(s.hugetlb.at("2MB").usage == 6291456);  // rsvd.current
  CHECK(s.hugetlb.at("2MB").failcnt == 2);
  CHECK(s.hugetlb.at("2MB").max == 0);
  CHECK(s.hugetlb.at("1GB").usage == 0);
}

TEST_CASE("a v1 hugetlb hierarchy wins over the cgroup2 directory", "[cgroups][stats]") {
  TempDir t;
  Paths p = write_v1_host(t);
  const fs::path h = t / "hugetlb";
  put(h, "hugetlb.2MB.usage_in_bytes", "2097152\n");
  put(h, "hugetlb.2MB.max_usage_in_bytes", "4194304\n");
  put(h, "hugetlb.2MB.failcnt", "5\n");
  put(h, "hugetlb.2MB.limit_in_bytes", "9223372036854771712\n");
  put(h, "hugetlb.1GB.usage_in_bytes", "0\n");
  put(h, "hugetlb.1GB.rsvd.usage_in_bytes", "1073741824\n");
  put(h, "hugetlb.1GB.rsvd.max_usage_in_bytes", "1073741824\n");
  put(h, "hugetlb.1GB.rsvd.failcnt", "1\n");
  p.v1["hugetlb"] = h.string();
  const Stats s = read_stats(p, 0);
  REQUIRE(s.hugetlb.size() == 2);
  CHECK(s.hugetlb.at("2MB").usage == 2097152);
  CHECK(s.hugetlb.at("2MB").max == 4194304);
  CHECK(s.hugetlb.at("2MB").failcnt == 5);
  CHECK(s.hugetlb.at("1GB").usage == 1073741824);
  CHECK(s.hugetlb.at("1GB").failcnt == 1);
}

TEST_CASE("v1: optional files an older kernel lacks are skipped", "[cgroups][stats]") {
  TempDir t;
  put(t / "memory", "memory.usage_in_bytes", "4096\n");  // no memsw, kmem, stat
  put(t / "cpuacct", "cpuacct.usage", "10\n");            // no usage_all (before 4.7)
  Paths p;
  p.v1["memory"] = (t / "memory").string();
  p.v1["cpuacct"] = (t / "cpuacct").string();
  const Stats s = read_stats(p, 0);
  CHECK(s.memory.usage.usage == 4096);
  CHECK(s.memory.swap.usage == 0);
  CHECK(s.memory.raw.empty());
  CHECK(s.cpu.usage.total == 10);
  CHECK(s.cpu.usage.percpu_user.empty());
}

TEST_CASE("v1: a hierarchy directory that is gone is an error", "[cgroups][stats]") {
  TempDir t;
  Paths p;
  p.v1["memory"] = (t / "memory").string();
  try {
    read_stats(p, 0);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == ENOENT);
    CHECK_THAT(e.what(), Catch::Contains("memory.usage_in_bytes"));
  }
}

// --- v2 ----------------------------------------------------------------------------------

TEST_CASE("v2 cpu.stat is converted to nanoseconds", "[cgroups][stats]") {
  TempDir t;
  const Stats s = read_stats(write_v2_host(t), 0);
  CHECK(s.cpu.usage.total == 17153236000ULL);
  CHECK(s.cpu.usage.user == 14281940000ULL);
  CHECK(s.cpu.usage.kernel == 2871296000ULL);
  CHECK(s.cpu.usage.percpu.empty());
  CHECK(s.cpu.throttling.periods == 50);
  CHECK(s.cpu.throttling.throttled_periods == 5);
  CHECK(s.cpu.throttling.throttled_time == 1200000);
  REQUIRE(s.cpu.psi);
  CHECK(s.cpu.psi->some.avg10 == Approx(1.25));
  CHECK(s.cpu.psi->some.avg300 == Approx(11.99));
  CHECK(s.cpu.psi->some.total == 4666005985ULL);
  CHECK(s.cpu.psi->full.total == 0);
}

TEST_CASE("v2 memory: max is 2^64-1, swap includes memory, failcnt from memory.events", "[cgroups][stats]") {
  TempDir t;
  const Stats s = read_stats(write_v2_host(t), 0);
  CHECK(s.memory.cache == 2355200);  // memory.stat "file"
  CHECK(s.memory.usage.usage == 2846720);
  CHECK(s.memory.usage.limit == kMax);
  CHECK(s.memory.usage.max == 3000000);
  CHECK(s.memory.usage.failcnt == 4);
  CHECK(s.memory.swap.usage == 2846720 + 1000);
  CHECK(s.memory.swap.limit == kMax);
  CHECK(s.memory.swap.max == 0);
  CHECK(s.memory.kernel.usage == 0);
  CHECK(s.memory.raw.at("anon") == 143360);
  CHECK(s.memory.raw.size() == 21);
  REQUIRE(s.memory.psi);
  CHECK(s.memory.psi->full.avg10 == 0);
}

TEST_CASE("v2 memory: finite limits add up; no swap accounting counts as no swap", "[cgroups][stats]") {
  TempDir t;
  Paths p = write_v2_host(t);
  const fs::path d = p.unified;
  put(d, "memory.max", "1073741824\n");
  put(d, "memory.swap.max", "536870912\n");
  CHECK(read_stats(p, 0).memory.swap.limit == 1073741824ULL + 536870912ULL);

  fs::remove(d / "memory.swap.current");
  fs::remove(d / "memory.swap.max");
  fs::remove(d / "memory.peak");  // before 5.19
  const Stats s = read_stats(p, 0);
  CHECK(s.memory.usage.max == 0);
  CHECK(s.memory.swap.usage == s.memory.usage.usage);
  CHECK(s.memory.swap.limit == 1073741824ULL);
}

TEST_CASE("v2 pids, io.stat as runc's blkio entries, hugetlb", "[cgroups][stats]") {
  TempDir t;
  const Stats s = read_stats(write_v2_host(t), 0);
  CHECK(s.pids.current == 3);
  CHECK(s.pids.limit == 100);

  const std::vector<BlkioEntry> bytes{{254, 1, "Read", 6901432320ULL},
                                      {254, 1, "Write", 14245535744ULL},
                                      {259, 0, "Read", 6911345664ULL},
                                      {259, 0, "Write", 14245536256ULL}};
  const std::vector<BlkioEntry> ios{
      {254, 1, "Read", 263278}, {254, 1, "Write", 248603}, {259, 0, "Read", 264538}, {259, 0, "Write", 244914}};
  CHECK(s.blkio.io_service_bytes_recursive == bytes);
  CHECK(s.blkio.io_serviced_recursive == ios);
  CHECK(s.blkio.io_queue_recursive.empty());  // dbytes, dios: nothing in v1 to map them to
  REQUIRE(s.blkio.psi);
  CHECK(s.blkio.psi->full.total == 13927206);

  REQUIRE(s.hugetlb.size() == 1);
  CHECK(s.hugetlb.at("2MB").usage == 2097152);
  CHECK(s.hugetlb.at("2MB").failcnt == 1);
}

TEST_CASE("v2: controllers that are not enabled leave their sections empty", "[cgroups][stats]") {
  TempDir t;
  put(t / "ctr", "cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\n");
  Paths p;
  p.unified = (t / "ctr").string();
  p.mode = Mode::Unified;
  const Stats s = read_stats(p, 0);
  CHECK(s.cpu.usage.total == 5000);
  CHECK_FALSE(s.cpu.psi);
  CHECK(s.memory.usage.usage == 0);
  CHECK(s.memory.swap.usage == 0);
  CHECK(s.pids.current == 0);
  CHECK(s.blkio.io_service_bytes_recursive.empty());
  CHECK(s.hugetlb.empty());
}

TEST_CASE("v2: a cgroup directory that is gone is an error", "[cgroups][stats]") {
  TempDir t;
  Paths p;
  p.unified = (t / "gone").string();
  p.mode = Mode::Unified;
  try {
    read_stats(p, 0);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.errnum() == ENOENT);
    CHECK_THAT(e.what(), Catch::Contains((t / "gone/cpu.stat").string()));
  }
}

TEST_CASE("a malformed file is an error naming it", "[cgroups][stats]") {
  TempDir t;
  Paths p = write_v2_host(t);
  const fs::path d = p.unified;
  const auto fails_naming = [&](const std::string& file, std::string_view text) {
    const std::string saved = berth::sys::read_file(AT_FDCWD, d / file);
    put(d, file, text);
    CHECK_THROWS_WITH(read_stats(p, 0), Catch::StartsWith("parse `" + (d / file).string() + "`"));
    put(d, file, saved);
  };
  fails_naming("memory.stat", "anon lots\n");
  fails_naming("memory.current", "\n");
  fails_naming("memory.events", "max\n");
  fails_naming("pids.max", "lots\n");
  fails_naming("cpu.stat", "usage_usec 12 34\n");
  fails_naming("io.stat", "8:x rbytes=1\n");
  fails_naming("io.stat", "8:0 rbytes=-\n");
  fails_naming("cpu.pressure", "some avg10=x avg60=0.00 avg300=0.00 total=0\n");
  fails_naming("hugetlb.2MB.events", "max two\n");
  CHECK_NOTHROW(read_stats(p, 0));

  TempDir v1;
  Paths q = write_v1_host(v1);
  put(v1 / "cpuset", "cpuset.cpus", "3-1\n");
  CHECK_THROWS_WITH(read_stats(q, 0), Catch::Contains("cpuset.cpus") && Catch::Contains("3-1"));
  put(v1 / "cpuset", "cpuset.cpus", "0-1\n");
  put(v1 / "blkio", "blkio.throttle.io_serviced_recursive", "8:0 Read\n");
  CHECK_THROWS_WITH(read_stats(q, 0), Catch::Contains("blkio.throttle.io_serviced_recursive"));
}

// --- json --------------------------------------------------------------------------------

TEST_CASE("empty stats serialise as runc's zero value", "[cgroups][stats][json]") {
  CHECK(json::serialize(to_json(Stats{})) ==
        R"({"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},)"
        R"("cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,)"
        R"("memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,)"
        R"("sched_relax_domain_level":0},)"
        R"("memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},)"
        R"("kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},)"
        R"("pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null})");
}

TEST_CASE("v1 stats in runc's JSON shape", "[cgroups][stats][json]") {
  TempDir t;
  const json::value j = to_json(read_stats(write_v1_host(t), 0));
  const auto& usage = at(at(j, "cpu"), "usage");
  CHECK(at(usage, "total").as_uint64() == 17278358361625ULL);
  CHECK(at(usage, "percpu").as_array().size() == 2);
  CHECK(at(usage, "percpu_kernel").as_array().at(1).as_uint64() == 1487428000000ULL);
  CHECK(at(usage, "percpu_user").as_array().size() == 2);
  const auto& thr = at(at(j, "cpu"), "throttling").as_object();
  CHECK(thr.at("periods").as_uint64() == 120);
  CHECK(thr.at("throttledPeriods").as_uint64() == 7);
  CHECK(thr.at("throttledTime").as_uint64() == 3500000);

  CHECK(json::serialize(at(at(j, "cpuset"), "cpus")) == "[0,1,4]");
  CHECK(at(at(j, "cpuset"), "sched_relax_domain_level").as_int64() == -1);

  const auto& mem = at(j, "memory");
  CHECK(at(mem, "cache").as_uint64() == 9326592);
  CHECK(json::serialize(at(mem, "usage")) ==
        R"({"limit":9223372036854771712,"usage":357396480,"max":5445468160,"failcnt":3})");
  CHECK(json::serialize(at(mem, "kernelTCP")) == R"({"limit":9223372036854771712,"failcnt":0})");
  CHECK(at(at(mem, "raw"), "total_cache").as_uint64() == 346382336);
  CHECK_FALSE(mem.as_object().contains("psi"));

  CHECK(json::serialize(at(j, "pids")) == R"({"current":12})");

  const auto& serviced = at(at(j, "blkio"), "ioServicedRecursive").as_array();
  REQUIRE(serviced.size() == 6);
  CHECK(json::serialize(serviced[0]) == R"({"major":8,"op":"Read","value":124})");  // minor 0: omitempty
  CHECK(json::serialize(serviced[4]) == R"({"major":8,"op":"Discard"})");
  CHECK(at(at(j, "blkio"), "ioServiceBytesRecursive").as_array().size() == 6);

  CHECK(json::serialize(at(j, "hugetlb")) == R"({"1GB":{"failcnt":0},"2MB":{"usage":6291456,"failcnt":2}})");
}

TEST_CASE("v2 stats in runc's JSON shape", "[cgroups][stats][json]") {
  TempDir t;
  const json::value j = to_json(read_stats(write_v2_host(t), 0));
  const auto& usage = at(at(j, "cpu"), "usage").as_object();
  CHECK_FALSE(usage.contains("percpu"));
  CHECK(usage.at("kernel").as_uint64() == 2871296000ULL);

  const auto& cpu_psi = at(at(j, "cpu"), "psi").as_object();
  CHECK(cpu_psi.at("some").at("avg60").as_double() == Approx(3.63));
  CHECK(cpu_psi.at("some").at("total").as_uint64() == 4666005985ULL);
  CHECK_FALSE(cpu_psi.contains("full"));  // all zero: omitzero

  const auto& mem = at(j, "memory");
  CHECK(at(at(mem, "usage"), "limit").as_uint64() == kMax);  // 18446744073709551615, not a double
  CHECK(json::serialize(at(mem, "swap")) == R"({"limit":18446744073709551615,"usage":2847720,"failcnt":0})");
  CHECK(json::serialize(at(mem, "psi")) == "{}");

  CHECK(json::serialize(at(j, "pids")) == R"({"current":3,"limit":100})");
  const auto& blkio = at(j, "blkio").as_object();
  CHECK(json::serialize(blkio.at("ioServiceBytesRecursive").as_array().at(2)) ==
        R"({"major":259,"op":"Read","value":6911345664})");
  CHECK(blkio.at("psi").at("full").at("total").as_uint64() == 13927206);
  CHECK(json::serialize(at(j, "hugetlb")) == R"({"2MB":{"usage":2097152,"failcnt":1}})");
  CHECK(at(j, "network_interfaces").is_null());
}

TEST_CASE("network interfaces use runc's Go field names", "[cgroups][stats][json]") {
  Stats s;
  s.network_interfaces.push_back(NetworkInterface{.name = "eth0",
                                                  .rx_bytes = 1,
                                                  .rx_packets = 2,
                                                  .rx_errors = 3,
                                                  .rx_dropped = 4,
                                                  .tx_bytes = 5,
                                                  .tx_packets = 6,
                                                  .tx_errors = 7,
                                                  .tx_dropped = 8});
  CHECK(json::serialize(to_json(s).as_object().at("network_interfaces")) ==
        R"([{"Name":"eth0","RxBytes":1,"RxPackets":2,"RxErrors":3,"RxDropped":4,)"
        R"("TxBytes":5,"TxPackets":6,"TxErrors":7,"TxDropped":8}])");
}

// --- network -----------------------------------------------------------------------------

TEST_CASE("parse_net_dev reads every interface of /proc/<pid>/net/dev", "[cgroups][stats][net]") {
  const std::string_view text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo:    6534      58    0    0    0     0          0         0     6534      58    0    0    0     0       0          0\n"
      "  eth0: 39209300    1341    2    3    0     0          0         0    66488     871    4    5    0     0       0          0\n"
      "veth-with-long-name:18446744073709551615 1 0 0 0 0 0 0 7 8 0 0 0 0 0 0\n";
  const auto all = parse_net_dev(text);
  REQUIRE(all.size() == 3);
  CHECK(all[0].name == "lo");
  CHECK(all[0].rx_bytes == 6534);
  CHECK(all[1].name == "eth0");
  CHECK(all[1].rx_bytes == 39209300);
  CHECK(all[1].rx_packets == 1341);
  CHECK(all[1].rx_errors == 2);
  CHECK(all[1].rx_dropped == 3);
  CHECK(all[1].tx_bytes == 66488);
  CHECK(all[1].tx_packets == 871);
  CHECK(all[1].tx_errors == 4);
  CHECK(all[1].tx_dropped == 5);
  CHECK(all[2].name == "veth-with-long-name");
  CHECK(all[2].rx_bytes == kMax);
  CHECK(all[2].tx_packets == 8);

  CHECK(parse_net_dev("").empty());
  CHECK_THROWS_WITH(parse_net_dev("  eth0: 1 2 3\n", "/proc/7/net/dev"),
                    Catch::StartsWith("parse `/proc/7/net/dev`") && Catch::Contains("eth0: 1 2 3"));
  CHECK_THROWS_WITH(parse_net_dev("eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"), Catch::Contains("/proc/net/dev"));
}

TEST_CASE("read_stats reports no interfaces for a process in berth's own network namespace",
          "[cgroups][stats][net]") {
  const Stats s = read_stats(Paths{}, ::getpid());
  CHECK(s.network_interfaces.empty());
  CHECK(read_stats(Paths{}, 0).network_interfaces.empty());
}
