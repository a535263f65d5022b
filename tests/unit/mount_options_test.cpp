// runtime/mount/options.cpp: mount options into flags, propagation, recursive
// attributes and data; classification of spec mounts. Pure: no root needed.
#include "runtime/mount/options.hpp"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <catch2/catch.hpp>

#include "runtime/sys/error.hpp"

using namespace berth;
using namespace berth::mount;

namespace {

oci::Mount make_mount(std::string dest, std::optional<std::string> type, std::optional<std::string> source,
                      std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

}  // namespace

TEST_CASE("runc's default /dev tmpfs options", "[mount]") {
  const MountOptions o = parse_options({"nosuid", "strictatime", "mode=755", "size=65536k"});
  REQUIRE(o.flags == (MS_NOSUID | MS_STRICTATIME));
  REQUIRE(o.data == "mode=755,size=65536k");
  REQUIRE(o.propagation.empty());
  REQUIRE_FALSE(o.has_recursive_attrs());
  REQUIRE(o.atime_given);
  REQUIRE_FALSE(o.bind());
}

TEST_CASE("devpts options: unknown ones are data, in order", "[mount]") {
  const MountOptions o = parse_options({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  REQUIRE(o.flags == (MS_NOSUID | MS_NOEXEC));
  REQUIRE(o.data == "newinstance,ptmxmode=0666,mode=0620,gid=5");
}

TEST_CASE("later options override earlier ones", "[mount]") {
  REQUIRE(parse_options({"ro", "rw"}).flags == 0);
  REQUIRE(parse_options({"rw", "ro"}).flags == MS_RDONLY);
  REQUIRE(parse_options({"nosuid", "suid"}).flags == 0);
  REQUIRE(parse_options({"nodev", "dev", "noexec", "exec"}).flags == 0);
  REQUIRE(parse_options({"sync", "async"}).flags == 0);
  REQUIRE(parse_options({"mand", "nomand"}).flags == 0);
  REQUIRE(parse_options({"lazytime", "nolazytime", "iversion"}).flags == MS_I_VERSION);
  REQUIRE(parse_options({"silent", "loud"}).flags == 0);
  REQUIRE(parse_options({"nosymfollow"}).flags == MS_NOSYMFOLLOW);
  REQUIRE(parse_options({"nosymfollow", "symfollow"}).flags == 0);
  REQUIRE(parse_options({"acl"}).flags == MS_POSIXACL);
  REQUIRE(parse_options({"dirsync", "remount"}).flags == (MS_DIRSYNC | MS_REMOUNT));
  REQUIRE(parse_options({"defaults"}).flags == 0);
  REQUIRE(parse_options({"defaults"}).data.empty());
}

TEST_CASE("explicitly cleared flags are remembered", "[mount]") {
  const MountOptions o = parse_options({"rw", "dev", "nosuid"});
  REQUIRE(o.cleared == (MS_RDONLY | MS_NODEV));
  REQUIRE(o.flags == MS_NOSUID);
  REQUIRE(parse_options({"rw", "ro"}).cleared == 0);
}

TEST_CASE("atime options are one mode: the last wins", "[mount]") {
  REQUIRE(parse_options({"noatime", "relatime"}).flags == MS_RELATIME);
  REQUIRE(parse_options({"relatime", "strictatime"}).flags == MS_STRICTATIME);
  REQUIRE(parse_options({"strictatime", "noatime"}).flags == MS_NOATIME);
  REQUIRE(parse_options({"noatime", "atime"}).flags == 0);
  REQUIRE(parse_options({"relatime", "norelatime"}).flags == 0);
  REQUIRE(parse_options({"strictatime", "nostrictatime"}).flags == 0);
  REQUIRE(parse_options({"nodiratime"}).flags == MS_NODIRATIME);
  REQUIRE(parse_options({"nodiratime", "diratime"}).flags == 0);
  REQUIRE_FALSE(parse_options({"nodiratime"}).atime_given);
  REQUIRE(parse_options({"atime"}).atime_given);
}

TEST_CASE("bind and rbind", "[mount]") {
  REQUIRE(parse_options({"bind"}).flags == MS_BIND);
  REQUIRE(parse_options({"rbind"}).flags == (MS_BIND | MS_REC));
  REQUIRE(parse_options({"rbind", "ro"}).bind());
}

TEST_CASE("propagation options are kept in order", "[mount]") {
  const MountOptions o = parse_options({"rbind", "rprivate", "shared", "rslave", "unbindable", "runbindable",
                                        "private", "slave", "rshared"});
  REQUIRE(o.propagation == std::vector<unsigned long>{MS_PRIVATE | MS_REC, MS_SHARED, MS_SLAVE | MS_REC,
                                                      MS_UNBINDABLE, MS_UNBINDABLE | MS_REC, MS_PRIVATE,
                                                      MS_SLAVE, MS_SHARED | MS_REC});
  REQUIRE(o.flags == (MS_BIND | MS_REC));
  REQUIRE(o.data.empty());
}

TEST_CASE("recursive attributes go to mount_setattr", "[mount]") {
  SECTION("flags") {
    const MountOptions o = parse_options({"rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"});
    REQUIRE(o.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                           MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
    REQUIRE(o.attr_clr == 0);
    REQUIRE(o.flags == (MS_BIND | MS_REC));  // not mount(2) flags
  }
  SECTION("clearing") {
    const MountOptions o = parse_options({"rro", "rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"});
    REQUIRE(o.attr_set == 0);
    REQUIRE(o.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                           MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
  }
  SECTION("atime is a mode: the whole mask is cleared, one mode set") {
    const MountOptions a = parse_options({"rnoatime"});
    REQUIRE(a.attr_set == MOUNT_ATTR_NOATIME);
    REQUIRE(a.attr_clr == MOUNT_ATTR__ATIME);
    const MountOptions b = parse_options({"rnoatime", "rstrictatime"});
    REQUIRE(b.attr_set == MOUNT_ATTR_STRICTATIME);
    REQUIRE(b.attr_clr == MOUNT_ATTR__ATIME);
    const MountOptions c = parse_options({"rstrictatime", "rrelatime"});
    REQUIRE(c.attr_set == MOUNT_ATTR_RELATIME);
    REQUIRE(c.attr_clr == MOUNT_ATTR__ATIME);
    REQUIRE(c.has_recursive_attrs());
    REQUIRE(parse_options({"ratime"}).attr_set == MOUNT_ATTR_RELATIME);
    REQUIRE(parse_options({"rnorelatime"}).attr_set == MOUNT_ATTR_STRICTATIME);
  }
}

TEST_CASE("idmap, ridmap and tmpcopyup never reach the filesystem", "[mount]") {
  REQUIRE(parse_options({"bind", "idmap"}).idmap == Idmap::Flat);
  REQUIRE(parse_options({"rbind", "ridmap"}).idmap == Idmap::Recursive);
  const MountOptions o = parse_options({"tmpcopyup", "mode=700"});
  REQUIRE(o.tmpcopyup);
  REQUIRE(o.data == "mode=700");
}

TEST_CASE("bind remount flags", "[mount]") {
  REQUIRE(bind_remount_flags(parse_options({"rbind"})) == 0);
  REQUIRE(bind_remount_flags(parse_options({"bind", "rprivate"})) == 0);
  REQUIRE(bind_remount_flags(parse_options({"rbind", "ro", "nosuid"})) ==
          (MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID));
  REQUIRE(bind_remount_flags(parse_options({"bind", "remount", "noexec"})) == (MS_BIND | MS_REMOUNT | MS_NOEXEC));
}

TEST_CASE("locked flags of the source are kept on retry", "[mount]") {
  const unsigned long want = MS_BIND | MS_REMOUNT | MS_RDONLY;
  SECTION("nosuid/nodev and the atime mode are added") {
    const auto r = keep_locked_flags(want, parse_options({"bind", "ro"}), ST_NOSUID | ST_NODEV | ST_NOATIME);
    REQUIRE(r == (want | MS_NOSUID | MS_NODEV | MS_NOATIME));
  }
  SECTION("relatime is translated from ST_RELATIME") {
    const auto r = keep_locked_flags(want, parse_options({"bind", "ro"}), ST_NOEXEC | ST_RELATIME);
    REQUIRE(r == (want | MS_NOEXEC | MS_RELATIME));
  }
  SECTION("an explicit rw on a read-only source cannot work") {
    REQUIRE_FALSE(keep_locked_flags(MS_BIND | MS_REMOUNT | MS_NOSUID, parse_options({"bind", "rw", "nosuid"}),
                                    ST_RDONLY));
  }
  SECTION("another atime mode than the source's cannot work") {
    REQUIRE_FALSE(keep_locked_flags(want | MS_STRICTATIME, parse_options({"bind", "ro", "strictatime"}),
                                    ST_NOATIME));
  }
  SECTION("nothing new to try") {
    REQUIRE_FALSE(keep_locked_flags(want | MS_RELATIME, parse_options({"bind", "ro", "relatime"}), ST_RELATIME));
  }
}

TEST_CASE("mount flags as mount_setattr attributes", "[mount]") {
  REQUIRE(flags_to_attrs(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) ==
          (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  REQUIRE(flags_to_attrs(MS_NOATIME | MS_NODIRATIME) == (MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME));
  REQUIRE(flags_to_attrs(MS_STRICTATIME) == MOUNT_ATTR_STRICTATIME);
  REQUIRE(flags_to_attrs(MS_RELATIME) == MOUNT_ATTR_RELATIME);
}

TEST_CASE("mount operations are described for errors", "[mount]") {
  REQUIRE(describe_mount("proc", "/proc", "proc", 0) == "mount `proc` on `/proc` (proc)");
  REQUIRE(describe_mount("/src", "/dst", "", MS_BIND) == "bind `/src` on `/dst`");
  REQUIRE(describe_mount("/src", "/dst", "", MS_BIND | MS_REC) == "rbind `/src` on `/dst`");
  REQUIRE(describe_mount("", "/dst", "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID) ==
          "remount `/dst` (ro,nosuid)");
  REQUIRE(describe_mount("", "/", "", MS_SLAVE | MS_REC) == "make `/` rslave");
  REQUIRE(describe_mount("", "/x", "", MS_PRIVATE) == "make `/x` private");
  REQUIRE(describe_mount("/rootfs", "/", "", MS_MOVE) == "move `/rootfs` to `/`");
  REQUIRE(flags_to_string(0) == "rw");
}

TEST_CASE("destinations are cleaned lexically", "[mount]") {
  REQUIRE(clean_path("/proc") == "/proc");
  REQUIRE(clean_path("/dev/") == "/dev");
  REQUIRE(clean_path("dev/shm") == "/dev/shm");
  REQUIRE(clean_path("//a/./b//c") == "/a/b/c");
  REQUIRE(clean_path("/a/../../../etc") == "/etc");
  REQUIRE(clean_path("") == "/");
  REQUIRE(clean_path("/") == "/");
  REQUIRE(clean_path("..") == "/");
}

TEST_CASE("spec mounts are classified", "[mount]") {
  REQUIRE(plan_mount(make_mount("/proc", "proc", "proc", {}), 0).kind == MountKind::Proc);
  REQUIRE(plan_mount(make_mount("/sys", "sysfs", "sysfs", {"ro"}), 0).kind == MountKind::Sysfs);
  REQUIRE(plan_mount(make_mount("/dev", "tmpfs", "tmpfs", {}), 0).kind == MountKind::Tmpfs);
  REQUIRE(plan_mount(make_mount("/dev/pts", "devpts", "devpts", {}), 0).kind == MountKind::Devpts);
  REQUIRE(plan_mount(make_mount("/dev/mqueue", "mqueue", "mqueue", {}), 0).kind == MountKind::Mqueue);
  REQUIRE(plan_mount(make_mount("/sys/fs/cgroup", "cgroup", "cgroup", {}), 0).kind == MountKind::Cgroup);
  REQUIRE(plan_mount(make_mount("/sys/fs/cgroup", "cgroup2", "cgroup2", {}), 0).kind == MountKind::Cgroup2);
  REQUIRE(plan_mount(make_mount("/merged", "overlay", "overlay", {"lowerdir=/a"}), 0).kind == MountKind::Other);

  SECTION("a bind mount is a bind mount whatever the type says") {
    const MountPlan p = plan_mount(make_mount("data/", "none", "/host/data", {"rbind", "ro"}), 4);
    REQUIRE(p.kind == MountKind::Bind);
    REQUIRE(p.type.empty());
    REQUIRE(p.destination == "/data");
    REQUIRE(p.source == "/host/data");
    REQUIRE(p.index == 4);
  }
  SECTION("uidMappings make an idmapped bind") {
    oci::Mount m = make_mount("/data", std::nullopt, "/host", {"bind"});
    m.uid_mappings = std::vector<oci::LinuxIdMapping>{{0, 1000, 1}};
    m.gid_mappings = std::vector<oci::LinuxIdMapping>{{0, 1000, 1}};
    const MountPlan p = plan_mount(m, 0);
    REQUIRE(p.options.idmap == Idmap::Flat);
    REQUIRE(p.uid_mappings.size() == 1);
  }
}

TEST_CASE("impossible mounts are refused before any syscall, naming the mount", "[mount]") {
  REQUIRE_THROWS_WITH(plan_mount(make_mount("", "tmpfs", "tmpfs", {}), 2), "mounts[2]: destination: empty path");
  REQUIRE_THROWS_WITH(plan_mount(make_mount("/x", "tmpfs", "tmpfs", {"idmap"}), 1),
                      "mounts[1]: idmapped mounts need `bind` or `rbind`");
  REQUIRE_THROWS_WITH(plan_mount(make_mount("/x", std::nullopt, std::nullopt, {"bind"}), 0),
                      "mounts[0]: bind mount without a source");
  oci::Mount half = make_mount("/x", std::nullopt, "/y", {"bind"});
  half.uid_mappings = std::vector<oci::LinuxIdMapping>{{0, 0, 1}};
  REQUIRE_THROWS_WITH(plan_mount(half, 3), "mounts[3]: uidMappings and gidMappings must be given together");
}

TEST_CASE("nothing but procfs and lxcfs files under /proc", "[mount]") {
  REQUIRE_NOTHROW(check_proc_destination("/proc", MountKind::Proc));
  REQUIRE_NOTHROW(check_proc_destination("/proc", MountKind::Bind));
  REQUIRE_NOTHROW(check_proc_destination("/proc/cpuinfo", MountKind::Bind));
  REQUIRE_NOTHROW(check_proc_destination("/proc/sys/kernel/ns_last_pid", MountKind::Bind));
  REQUIRE_NOTHROW(check_proc_destination("/processes", MountKind::Tmpfs));
  REQUIRE_THROWS_WITH(check_proc_destination("/proc", MountKind::Tmpfs),
                      "`/proc` cannot be mounted because it is not of type proc");
  REQUIRE_THROWS_WITH(check_proc_destination("/proc/self/attr/exec", MountKind::Bind),
                      "`/proc/self/attr/exec` cannot be mounted because it is inside /proc");
  REQUIRE_THROWS_WITH(plan_mount(make_mount("/proc/../proc/sys", "tmpfs", "tmpfs", {}), 5),
                      "mounts[5]: `/proc/sys` cannot be mounted because it is inside /proc");
}

TEST_CASE("when /dev is set up by berth", "[mount]") {
  std::vector<MountPlan> plans;
  REQUIRE(needs_dev_setup(plans));
  plans.push_back(plan_mount(make_mount("/dev", "tmpfs", "tmpfs", {}), 0));
  REQUIRE(needs_dev_setup(plans));
  plans.push_back(plan_mount(make_mount("/dev/", "none", "/dev", {"rbind"}), 1));
  REQUIRE_FALSE(needs_dev_setup(plans));
}

TEST_CASE("rootfs propagation", "[mount]") {
  oci::Spec spec;
  REQUIRE(root_propagation(spec) == (MS_SLAVE | MS_REC));
  REQUIRE(final_root_propagation(spec) == 0);
  spec.linux.emplace();
  spec.linux->rootfs_propagation = oci::RootfsPropagation::Private;
  REQUIRE(root_propagation(spec) == (MS_PRIVATE | MS_REC));
  REQUIRE(final_root_propagation(spec) == 0);
  spec.linux->rootfs_propagation = oci::RootfsPropagation::Slave;
  REQUIRE(root_propagation(spec) == (MS_SLAVE | MS_REC));
  REQUIRE(final_root_propagation(spec) == 0);
  spec.linux->rootfs_propagation = oci::RootfsPropagation::Shared;
  REQUIRE(root_propagation(spec) == (MS_SLAVE | MS_REC));
  REQUIRE(final_root_propagation(spec) == MS_SHARED);
  spec.linux->rootfs_propagation = oci::RootfsPropagation::Unbindable;
  REQUIRE(root_propagation(spec) == (MS_PRIVATE | MS_REC));
  REQUIRE(final_root_propagation(spec) == MS_UNBINDABLE);
  spec.linux->rootfs_propagation = oci::RootfsPropagation::RShared;
  REQUIRE(root_propagation(spec) == (MS_SLAVE | MS_REC));
  REQUIRE(final_root_propagation(spec) == (MS_SHARED | MS_REC));
  spec.linux->rootfs_propagation = oci::RootfsPropagation::RUnbindable;
  REQUIRE(root_propagation(spec) == (MS_PRIVATE | MS_REC));
  REQUIRE(final_root_propagation(spec) == (MS_UNBINDABLE | MS_REC));
  spec.linux->rootfs_propagation = oci::RootfsPropagation::RPrivate;
  REQUIRE(root_propagation(spec) == (MS_PRIVATE | MS_REC));
  REQUIRE(final_root_propagation(spec) == 0);
  spec.linux->rootfs_propagation = oci::RootfsPropagation::RSlave;
  REQUIRE(root_propagation(spec) == (MS_SLAVE | MS_REC));
  REQUIRE(final_root_propagation(spec) == 0);
}
