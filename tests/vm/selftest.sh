#!/bin/bash
# tests/vm/selftest.sh: checks that the VM lane (run-in-vm.sh) gives what berth's tests rely
# on. Boots the guest three times:
#   1. checks inside: cgroup2 at /sys/fs/cgroup with cpu memory pids io cpuset hugetlb in the
#      root's cgroup.subtree_control, fresh tmpfs on /tmp /run /dev/shm, loopback up, modules
#      loading on demand, the forwarded environment; writes files to the current directory
#      and to a --share directory under /tmp (both must reach the host) and outside them
#      (must not);
#   2. `exit 3` with output on stdout and stderr: status 3 and both streams come back;
#   3. --timeout 2 on a command that sleeps: status 124.
# Exit status: 0 all passed, 1 a check failed, 77 this host cannot run the lane at all (one
# line on stderr says why). Extra arguments go to run-in-vm.sh, e.g. `selftest.sh --mem 1024`.
set -u

HERE=$(cd "$(dirname "$0")" && pwd -P)

# ------------------------------------------------------------------------------ in the guest
# shellcheck disable=SC2016  # the sh -c scripts below expand their own $1
if [ "${1:-}" = --in-guest ]; then
  share=$2 cwd=$3 leak=$4 marker=$5
  fails=0
  pass() { echo "PASS: $*"; }
  fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
  check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
  mtype() { awk -v m="$1" '$2 == m { t = $3 } END { print t }' /proc/mounts; }  # top mount's type

  echo "guest: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"
  subtree=$(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)
  echo "guest: cgroup.subtree_control: $subtree"
  check "cgroup2 mounted at /sys/fs/cgroup" [ "$(mtype /sys/fs/cgroup)" = cgroup2 ]
  check "no cgroup v1 hierarchy mounted" [ -z "$(awk '$3 == "cgroup"' /proc/mounts)" ]
  missing=
  for c in cpu memory pids io cpuset hugetlb; do
    case " $subtree " in *" $c "*) ;; *) missing="$missing $c" ;; esac
  done
  check "root subtree_control has cpu memory pids io cpuset hugetlb${missing:+ (missing:$missing)}" [ -z "$missing" ]
  check "runs as root" [ "$(id -u)" = 0 ]
  check "/tmp, /run and /dev/shm are tmpfs" \
    [ "$(mtype /tmp) $(mtype /run) $(mtype /dev/shm)" = "tmpfs tmpfs tmpfs" ]
  check "/tmp is not the host's" [ ! -e "$marker" ]
  check "/proc, /sys, /dev, /dev/pts mounted" \
    [ "$(mtype /proc) $(mtype /sys) $(mtype /dev) $(mtype /dev/pts)" = "proc sysfs devtmpfs devpts" ]
  check "loopback is up" [ $(( $(cat /sys/class/net/lo/flags) & 1 )) = 1 ]
  check "current directory is the host's" [ "$(pwd -P)" = "$cwd" ]
  # modules: veth with modprobe, tun loaded by the kernel when /dev/net/tun is opened
  check "modprobe veth" sh -c 'modprobe veth && [ -d /sys/module/veth ]'
  check "tun loads on demand (open /dev/net/tun)" sh -c 'exec 5<>/dev/net/tun && [ -d /sys/module/tun ]'
  check "overlay mount" sh -c 'mkdir -p /tmp/o/l /tmp/o/u /tmp/o/w /tmp/o/m &&
    mount -t overlay -o lowerdir=/tmp/o/l,upperdir=/tmp/o/u,workdir=/tmp/o/w o /tmp/o/m && umount /tmp/o/m'
  # environment: PATH, BERTH_* and CI* forwarded, --env set, nothing else
  check "PATH forwarded" [ "$PATH" = "${BERTH_SELFTEST_HOST_PATH:-}" ]
  check "BERTH_* forwarded" [ "${BERTH_SELFTEST_FORWARDED:-}" = "yes it is" ]
  check "CI* forwarded" [ "${CI_SELFTEST:-}" = ci ]
  check "--env set" [ "${SELFTEST_FROM_OPTION:-}" = "a b=c" ]
  check "other variables not forwarded" [ -z "${SELFTEST_NOT_FORWARDED:-}" ]
  check "BERTH_VM names the accelerator" grep -qxE 'tcg|kvm' <<<"${BERTH_VM:-}"
  # writes: the shares reach the host, the rest of / is a throw-away overlay
  check "write to the --share directory" sh -c 'echo from-guest > "$1/share-file"' sh "$share"
  check "write to the current directory" sh -c 'echo from-guest > "$1/cwd-file"' sh "$cwd"
  check "write outside the shares (overlay)" sh -c 'echo leak > "$1"' sh "$leak"
  [ $fails = 0 ] || exit 1
  exit 0
fi

# ------------------------------------------------------------------------------ on the host
skip() { echo "selftest: skipped: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (qemu's 9p shares keep file ownership)"
if ! command -v qemu-system-x86_64 >/dev/null || ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
  "$HERE/install-deps.sh" >/dev/null 2>&1 || skip "qemu-system-x86_64 or busybox-static is missing and cannot be installed"
  command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is missing and cannot be installed"
fi

failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

work=$(mktemp -d)
trap 'rm -rf "$work" "$work.marker"' EXIT
mkdir "$work/share" "$work/cwd"
leak=/var/tmp/berth-vm-selftest-leak.$$
rm -f "$leak"
marker=$work.marker      # a file in the host's /tmp, which the guest must not see
touch "$marker"

# The first run also prepares the cache (downloads the kernel once).
t=$(now)
"$HERE/run-in-vm.sh" --prepare "$@" || { echo "FAIL: preparing the kernel and initramfs"; exit 1; }
echo "selftest: prepare: $(since "$t")"

# 1. checks inside the guest
t=$(now)
(cd "$work/cwd" &&
  BERTH_SELFTEST_FORWARDED="yes it is" CI_SELFTEST=ci SELFTEST_NOT_FORWARDED=1 BERTH_SELFTEST_HOST_PATH=$PATH \
  "$HERE/run-in-vm.sh" --timing --share "$work/share" --share "$HERE" --env "SELFTEST_FROM_OPTION=a b=c" "$@" -- \
    "$HERE/selftest.sh" --in-guest "$work/share" "$work/cwd" "$leak" "$marker")
rc=$?
echo "selftest: run 1 (checks in the guest): $(since "$t")"
if [ $rc = 0 ]; then pass "checks in the guest"; else fail "checks in the guest (exit status $rc)"; fi
if [ "$(cat "$work/share/share-file" 2>/dev/null)" = from-guest ]; then pass "file written to the --share directory is on the host"
else fail "file written to the --share directory is not on the host"; fi
if [ "$(cat "$work/cwd/cwd-file" 2>/dev/null)" = from-guest ]; then pass "file written to the current directory is on the host"
else fail "file written to the current directory is not on the host"; fi
if [ ! -e "$leak" ]; then pass "write outside the shares stayed in the guest"
else fail "write outside the shares reached the host ($leak)"; rm -f "$leak"; fi

# 2. exit status and output streams
t=$(now)
"$HERE/run-in-vm.sh" --timing "$@" -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 3' \
  >"$work/out" 2>"$work/err"
rc=$?
echo "selftest: run 2 (exit 3): $(since "$t")"
grep -v '^run-in-vm.sh: timing' "$work/err" > "$work/err.cmd"
if [ $rc = 3 ]; then pass "exit status passes through (exit 3 -> 3)"; else fail "exit 3 came back as $rc"; fi
if [ "$(cat "$work/out")" = to-stdout ] && [ "$(cat "$work/err.cmd")" = to-stderr ]; then
  pass "stdout and stderr come back separately"
else
  fail "stdout/stderr: got \`$(cat "$work/out")' and \`$(cat "$work/err.cmd")'"
fi

# 3. timeout
t=$(now)
"$HERE/run-in-vm.sh" --timeout 2 "$@" -- sleep 600 >/dev/null 2>&1
rc=$?
echo "selftest: run 3 (--timeout 2): $(since "$t")"
if [ $rc = 124 ]; then pass "--timeout stops the VM with status 124"; else fail "--timeout gave status $rc"; fi

if [ $failed = 0 ]; then echo "selftest: all passed"; exit 0; fi
echo "selftest: $failed failed"
exit 1
