#!/bin/bash
# tests/vm/run-in-vm.sh: run one command as root in a throw-away qemu guest that boots
# Debian bookworm's own 6.1 kernel, with pure cgroup v2 and every controller enabled.
# See tests/vm/README.md for what the guest looks like, timings and pitfalls.
#
#   tests/vm/run-in-vm.sh [--mem MB] [--cpus N] [--timeout S] [--share PATH]... \
#                         [--env NAME=VALUE]... -- CMD [ARG...]
#
# Exit status: CMD's; 124 when --timeout killed the VM; 125 when the VM itself failed (the
# guest console is then printed to stderr). Needs root on the host (9p passthrough).
set -euo pipefail

PROG=run-in-vm.sh
HERE=$(cd "$(dirname "$0")" && pwd -P)

usage() {
  cat <<'EOF'
usage: tests/vm/run-in-vm.sh [options] -- CMD [ARG...]

Runs CMD as root in a qemu guest booting Debian bookworm's 6.1 kernel. The host's
filesystem is the guest's read-only root, under a tmpfs overlay that is thrown away; the
current directory and every --share PATH are shared read-write at the same path. cgroup2
is mounted at /sys/fs/cgroup with every controller enabled in the root. CMD's stdout and
stderr are streamed back; the exit status is CMD's (124: timeout, 125: the VM failed).

options:
  --mem MB            guest memory in MiB (default 2048)
  --cpus N            guest CPUs (default: the host's CPU count)
  --timeout S         stop the VM after S seconds and exit 124 (default: no limit)
  --share PATH        also share the host directory PATH read-write (repeatable)
  --env NAME=VALUE    set NAME in CMD's environment (repeatable)
  --timing            print boot and run times to stderr
  -v, --verbose       --timing, and print the guest console to stderr after the run
  --prepare           only prepare the cached kernel and initramfs, then exit
  -h, --help          this text

CMD's environment is HOME=/root, the host's PATH, the host variables whose names start
with BERTH_ or CI, BERTH_VM=tcg or kvm, and the --env values (the last of a name wins).
stdin is /dev/null; stdout and stderr are pipes.

environment (host):
  BERTH_VM_CACHE       cache directory (default /var/cache/berth-vm)
  BERTH_VM_KERNEL_PKG  kernel package to use, e.g. linux-image-6.1.0-57-amd64
                       (default: the one linux-image-amd64 depends on)
  BERTH_VM_ACCEL       auto (default), kvm or tcg; auto picks kvm only for hardware KVM
  BERTH_VM_APPEND      extra kernel command line arguments
EOF
}

die() { echo "$PROG: $*" >&2; exit 125; }

mem=2048
cpus=$(nproc)
timeout=0
timing=0
verbose=0
prepare_only=0
shares=()
extra_env=()

while [ $# -gt 0 ]; do
  case $1 in --mem|--cpus|--timeout|--share|--env) [ $# -ge 2 ] || die "$1 needs a value" ;; esac
  case $1 in
    --mem) mem=$2; shift 2 ;;
    --mem=*) mem=${1#*=}; shift ;;
    --cpus) cpus=$2; shift 2 ;;
    --cpus=*) cpus=${1#*=}; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --share) shares+=("$2"); shift 2 ;;
    --share=*) shares+=("${1#*=}"); shift ;;
    --env) extra_env+=("$2"); shift 2 ;;
    --env=*) extra_env+=("${1#*=}"); shift ;;
    --timing) timing=1; shift ;;
    -v|--verbose) verbose=1; timing=1; shift ;;
    --prepare) prepare_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "$PROG: unknown option \`$1'" >&2; usage >&2; exit 125 ;;
  esac
done
[ "$prepare_only" = 1 ] || [ $# -gt 0 ] || { usage >&2; exit 125; }
[[ $mem =~ ^[1-9][0-9]*$ ]] || die "--mem: not a number of MiB: \`$mem'"
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus: not a CPU count: \`$cpus'"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout: not a number of seconds: \`$timeout'"
for kv in "${extra_env[@]}"; do
  [[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env: expected NAME=VALUE, got \`$kv'"
done
[ "$(id -u)" = 0 ] || die "must run as root (the 9p shares keep file ownership)"

cache=${BERTH_VM_CACHE:-/var/cache/berth-vm}

# ---------------------------------------------------------------------------------------
# Guest stage 1: /init of the initramfs, run by busybox sh as PID 1. It loads the modules
# the root filesystem needs, builds the guest's mount table and switches to stage 2.
# It depends on nothing per run, so the initramfs is built once per kernel and cached.
# ---------------------------------------------------------------------------------------
read -r -d '' stage1 <<'STAGE1' || true
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
N=/newroot
O9P=trans=virtio,version=9p2000.L,msize=512000

fail() {
  echo "berth-vm init: $*"
  [ -d $N/run/berth-vm ] && echo "berth-vm init: $*" > $N/run/berth-vm/init-error
  echo b > /proc/sysrq-trigger
  sleep 10
}
mnt() { mount "$@" || fail "mount $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/load.list); do insmod /modules/$m.ko || fail "insmod $m"; done

# / : the host's root, read-only over 9p, under a tmpfs overlay thrown away at power-off
mkdir -p /lower /rw $N
mnt -t 9p -o $O9P,ro,cache=loose berth_root /lower
mnt -t tmpfs -o mode=0755 berth-vm-rw /rw
mkdir -p /rw/upper /rw/work
mnt -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work berth-vm-root $N

# /run: fresh; /run/berth-vm: this run's directory on the host (command, status, output)
mnt -t tmpfs -o mode=0755,nosuid,nodev tmpfs $N/run
mkdir -p $N/run/berth-vm $N/run/lock
mnt -t 9p -o $O9P,cache=none berth_run $N/run/berth-vm

mnt -t proc -o nosuid,nodev,noexec proc $N/proc
mnt -t sysfs -o nosuid,nodev,noexec sysfs $N/sys
mnt -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $N/sys/fs/cgroup
for c in $(cat $N/sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > $N/sys/fs/cgroup/cgroup.subtree_control || echo "berth-vm init: cannot enable controller $c"
done
mount -t bpf -o nosuid,nodev,noexec bpf $N/sys/fs/bpf
mount -t securityfs -o nosuid,nodev,noexec securityfs $N/sys/kernel/security
mount -t debugfs -o nosuid,nodev,noexec debugfs $N/sys/kernel/debug
mount -t tracefs -o nosuid,nodev,noexec tracefs $N/sys/kernel/tracing

mount --move /dev $N/dev || fail "move /dev"
mkdir -p $N/dev/pts $N/dev/shm $N/dev/mqueue $N/dev/hugepages $N/dev/net
mnt -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts $N/dev/pts
mnt -t tmpfs -o nosuid,nodev,mode=1777 shm $N/dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue $N/dev/mqueue
mount -t hugetlbfs -o nosuid,nodev hugetlbfs $N/dev/hugepages
ln -sfn /proc/self/fd $N/dev/fd
ln -sfn /proc/self/fd/0 $N/dev/stdin
ln -sfn /proc/self/fd/1 $N/dev/stdout
ln -sfn /proc/self/fd/2 $N/dev/stderr
# No udev: the nodes whose modules load on first open (char-major-10-N aliases).
mknod -m 666 $N/dev/net/tun c 10 200
mknod -m 666 $N/dev/fuse c 10 229
mknod -m 660 $N/dev/loop-control c 10 237
mknod -m 644 $N/dev/autofs c 10 235
mkdir -p $N/dev/mapper
mknod -m 600 $N/dev/mapper/control c 10 236

mnt -t tmpfs -o mode=1777,nosuid,nodev tmpfs $N/tmp

# The guest kernel's modules and busybox's modprobe, read-only from the host's cache.
# The kernel runs modprobe for on-demand loads; the tools replace the host's in the guest,
# since modules.dep is written by busybox depmod.
mkdir -p $N/usr/lib/berth-vm
mnt -t 9p -o $O9P,ro,cache=loose berth_kernel $N/usr/lib/berth-vm
KVER=$(uname -r)
mkdir -p $N/lib/modules
ln -sfn /usr/lib/berth-vm/lib/modules/$KVER $N/lib/modules/$KVER
echo /usr/lib/berth-vm/bin/modprobe > /proc/sys/kernel/modprobe
for t in modprobe insmod rmmod lsmod modinfo depmod; do
  rm -f $N/usr/sbin/$t $N/sbin/$t 2>/dev/null
  ln -s /usr/lib/berth-vm/bin/$t $N/usr/sbin/$t
done

# Read-write shares, parents first (the host sorted them), at their host paths.
i=0
while IFS= read -r p; do
  mkdir -p "$N$p" || fail "mkdir $p"
  mnt -t 9p -o $O9P,cache=mmap berth_s$i "$N$p"
  i=$((i + 1))
done < $N/run/berth-vm/shares

hostname berth-vm
ip link set lo up

# PID 1 leads its own session: the kernel starts it in session and process group 0.
exec setsid switch_root $N /bin/bash /run/berth-vm/stage2.sh
fail "switch_root failed"
STAGE1

# ---------------------------------------------------------------------------------------
# Guest stage 2: PID 1 after switch_root (the host's bash). Runs CMD, relays its output to
# files that the host streams, writes its exit status and powers the guest off.
# ---------------------------------------------------------------------------------------
read -r -d '' stage2 <<'STAGE2' || true
#!/bin/bash
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
R=/run/berth-vm
read -r up _ < /proc/uptime
echo "$up" > "$R/t_start"

# CMD's stdout and stderr are pipes, as under a CI runner; two relays copy them to files
# in the run directory, which the host streams with tail -f.
exec 3> >(exec cat >> "$R/stdout"); relay1=$!
exec 4> >(exec cat >> "$R/stderr"); relay2=$!

mapfile -d '' -t argv < "$R/argv"
mapfile -d '' -t envv < "$R/env"
IFS= read -r -d '' cwd < "$R/cwd" || true
cd "$cwd" 2>/dev/null || { echo "run-in-vm: \`$cwd' does not exist in the guest, running in /" >&4; cd /; }

# CMD gets a session of its own (setsid -w waits for it).
setsid -w env -i "${envv[@]}" "${argv[@]}" </dev/null >&3 2>&4
rc=$?
exec 3>&- 4>&-
read -r up _ < /proc/uptime
echo "$up" > "$R/t_end"

# Kill what CMD left running (daemons, detached containers) so the relays see EOF.
kill_leftovers() {
  local d p s
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    case $p in 1|"$relay1"|"$relay2") continue ;; esac
    read -r s 2>/dev/null < "$d/stat" || continue
    s=${s##*) }; set -- $s
    [ "$2" = 2 ] || [ "$p" = 2 ] && continue     # kernel threads
    kill -KILL "$p" 2>/dev/null
  done
}
alive() {  # running and not a zombie
  local s
  read -r s 2>/dev/null < "/proc/$1/stat" || return 1
  s=${s##*) }; [ "${s%% *}" != Z ]
}
n=0
while alive "$relay1" || alive "$relay2"; do
  [ $((n % 20)) = 0 ] && kill_leftovers
  n=$((n + 1))
  [ $n -gt 200 ] && { echo "run-in-vm: output relays did not finish; output may be cut" >> "$R/stderr"; break; }
  sleep 0.05
done

echo "$rc" > "$R/status"
sync
echo b > /proc/sysrq-trigger     # with qemu -no-reboot, a reboot ends qemu
sleep 10
STAGE2

# ---------------------------------------------------------------------------------------
# Preparation: kernel + modules + vmlinux + initramfs, cached per kernel package version
# ---------------------------------------------------------------------------------------
have_tools() {
  command -v qemu-system-x86_64 >/dev/null && command -v xz >/dev/null \
    && command -v dpkg-deb >/dev/null && command -v flock >/dev/null \
    && command -v timeout >/dev/null \
    && dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'
}

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF kernel inside a bzImage. qemu boots an
# ELF through its PVH entry point (CONFIG_PVH=y), which skips the real-mode setup and the
# in-guest decompression (about 5 s under TCG).
extract_vmlinux() {
  local bz=$1 out=$2 setup_sects off len start magic
  setup_sects=$(od -An -t u1 -j 0x1f1 -N 1 "$bz" | tr -d ' ')
  [ "$setup_sects" = 0 ] && setup_sects=4
  read -r off len < <(od -An -t u4 -j 0x248 -N 8 "$bz")   # payload_offset, payload_length
  start=$(( (setup_sects + 1) * 512 + off + 1 ))
  magic=$(tail -c +"$start" "$bz" | head -c 6 | od -An -t x1 | tr -d ' \n')
  case $magic in
    fd377a585a00) tail -c +"$start" "$bz" | head -c "$len" | xz -dc --single-stream > "$out.tmp" ;;
    1f8b*) { tail -c +"$start" "$bz" | head -c "$len" | gzip -dc > "$out.tmp"; } 2>/dev/null || true ;;
    *) echo "$PROG: unknown kernel payload compression (magic $magic)" >&2; return 1 ;;
  esac
  [ "$(head -c 4 "$out.tmp" | od -An -t x1 | tr -d ' \n')" = 7f454c46 ] || { rm -f "$out.tmp"; return 1; }
  mv "$out.tmp" "$out"
}

# module_closure DIR NAME...: NAME and its dependencies, dependencies first, as paths
# relative to DIR, from the modules.dep that busybox depmod wrote.
module_closure() {
  local dir=$1; shift
  local -A seen=()
  local out=()
  visit() {
    local re=${1//[-_]/[-_]} line path dep
    line=$(grep -E "(^|/)$re\.ko:" "$dir/modules.dep" | head -n1) || true
    [ -n "$line" ] || { echo "$PROG: module $1 not found" >&2; return 1; }
    path=${line%%:*}
    [ -n "${seen[$path]:-}" ] && return 0
    seen[$path]=1
    for dep in ${line#*:}; do dep=${dep##*/}; visit "${dep%.ko}" || return 1; done
    out+=("$path")
  }
  local m
  for m in "$@"; do visit "$m" || return 1; done
  printf '%s\n' "${out[@]}"
}

# Hardware the guest does not have: dropped from the cache to save about 220 of 400 MB.
pruned_module_dirs="sound drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet
  drivers/iio drivers/hwmon drivers/infiniband drivers/bluetooth drivers/staging drivers/usb
  net/bluetooth net/mac80211 net/wireless"

# kernel_package: prints "PACKAGE VERSION" of the kernel to use, from apt's lists. Each
# apt-cache call takes about a second, so the answer is kept until the lists change.
kernel_package() {
  local stamp line
  stamp=$( { echo "${BERTH_VM_KERNEL_PKG:-}"; stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null; } | md5sum | cut -c1-12)
  if [ -f "$cache/resolved" ] && read -r line < "$cache/resolved" && [ "${line%% *}" = "$stamp" ]; then
    echo "${line#* }"
    return 0
  fi
  line=$(kernel_package_from_apt) || return 1
  echo "$stamp $line" > "$cache/resolved.$$" && mv "$cache/resolved.$$" "$cache/resolved"
  echo "$line"
}
kernel_package_from_apt() {
  local pkg=${BERTH_VM_KERNEL_PKG:-} ver
  if [ -z "$pkg" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
      | sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1)
  fi
  [ -n "$pkg" ] || return 1
  ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
  echo "$pkg $ver"
}

# prepare_kernel PKG VER DIR: download, unpack and post-process the kernel package into DIR.
# It is built in a temporary directory and renamed, so DIR is either complete or absent.
# (Called with ||, so set -e does not apply inside: every step is checked.)
prepare_kernel() {
  local pkg=$1 ver=$2 dir=$3 tmp kver d
  echo "$PROG: preparing $pkg $ver in $dir (once per kernel version)" >&2
  tmp=$(mktemp -d "$cache/.tmp.XXXXXX") || return 1
  if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >/dev/null 2>"$tmp/apt.err"); then
    cat "$tmp/apt.err" >&2; rm -rf "$tmp"; return 1
  fi
  if ! { dpkg-deb -x "$tmp"/*.deb "$tmp/x" &&
         kver=$(ls "$tmp/x/lib/modules/") && [ -f "$tmp/x/boot/vmlinuz-$kver" ] &&
         mkdir -p "$tmp/k/lib/modules" "$tmp/k/bin" &&
         mv "$tmp/x/boot/config-$kver" "$tmp/k/config" &&
         mv "$tmp/x/lib/modules/$kver" "$tmp/k/lib/modules/$kver"; }; then
    echo "$PROG: unpacking $pkg failed" >&2; rm -rf "$tmp"; return 1
  fi
  for d in $pruned_module_dirs; do rm -rf "$tmp/k/lib/modules/$kver/kernel/$d"; done
  if ! extract_vmlinux "$tmp/x/boot/vmlinuz-$kver" "$tmp/k/vmlinux"; then
    echo "$PROG: cannot extract vmlinux from vmlinuz-$kver" >&2; rm -rf "$tmp"; return 1
  fi
  if ! { /bin/busybox depmod -b "$tmp/k" "$kver" && cp /bin/busybox "$tmp/k/bin/busybox" &&
         (cd "$tmp/k/bin" && for d in modprobe insmod rmmod lsmod modinfo depmod; do ln -s busybox $d || exit 1; done) &&
         echo "$kver" > "$tmp/k/kver" && echo "$pkg $ver" > "$tmp/k/package" && : > "$tmp/k/.inuse" &&
         rm -rf "$dir" && mv "$tmp/k" "$dir"; }; then
    echo "$PROG: preparing $dir failed" >&2; rm -rf "$tmp"; return 1
  fi
  rm -rf "$tmp"
}

# initramfs_path DIR: DIR/initramfs-HASH.cpio, where HASH covers stage 1, the module list
# and busybox, so editing stage 1 makes a new one.
initramfs_modules="virtio_pci 9pnet_virtio 9p overlay virtio_rng"
initramfs_path() {
  local key
  key=$({ printf '%s\n' "$stage1" "$initramfs_modules"; md5sum < "$1/bin/busybox"; } | md5sum | cut -c1-12)
  echo "$1/initramfs-$key.cpio"
}

# prepare_initramfs DIR IMAGE: the initramfs with busybox, stage 1 as /init, and the modules
# stage 1 loads (with their dependencies, in load order).
prepare_initramfs() {
  local dir=$1 image=$2 kver st m
  [ -f "$image" ] && return 0
  kver=$(cat "$dir/kver")
  st=$(mktemp -d "$cache/.initrd.XXXXXX") || return 1
  if ! { mkdir -p "$st/bin" "$st/modules" "$st/proc" "$st/sys" "$st/dev" "$st/newroot" &&
         cp "$dir/bin/busybox" "$st/bin/busybox" &&
         printf '%s\n' "$stage1" > "$st/init" && chmod 755 "$st/init"; }; then
    rm -rf "$st"; return 1
  fi
  # shellcheck disable=SC2086
  for m in $(module_closure "$dir/lib/modules/$kver" $initramfs_modules); do
    cp "$dir/lib/modules/$kver/$m" "$st/modules/" || { rm -rf "$st"; return 1; }
    m=${m##*/}; echo "${m%.ko}" >> "$st/modules/load.list"
  done
  [ -s "$st/modules/load.list" ] || { rm -rf "$st"; echo "$PROG: initramfs modules not found" >&2; return 1; }
  if ! (cd "$st" && find . | LC_ALL=C sort | /bin/busybox cpio -o -H newc > "$image.tmp" 2>/dev/null) ||
     ! mv "$image.tmp" "$image"; then
    rm -rf "$st" "$image.tmp"; return 1
  fi
  rm -rf "$st"
  # initramfs images of earlier versions of this script, unused for a day
  find "$dir" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "${image##*/}" -mmin +1440 -delete 2>/dev/null || true
}

# prune_old_kernels KEEP: remove the cached kernels other than KEEP that no run is using
# (each run holds a shared lock on DIR/.inuse while its VM lives).
prune_old_kernels() {
  local keep=$1 d
  for d in "$cache"/linux-image-*; do
    { [ -d "$d" ] && [ "$d" != "$keep" ]; } || continue
    (flock -n -x 7 && rm -rf "$d") 7<"$d/.inuse" 2>/dev/null || true
  done
}

# prepare: sets kdir and initrd. The fast path (everything cached) takes no lock.
prepare() {
  local pv pkg ver
  if ! have_tools; then
    echo "$PROG: installing the lane's packages (tests/vm/install-deps.sh)" >&2
    "$HERE/install-deps.sh" || die "tests/vm/install-deps.sh failed"
    have_tools || die "qemu-system-x86_64, xz, dpkg-deb, flock or busybox-static still missing"
  fi
  mkdir -p "$cache" || die "cannot create the cache \`$cache'"
  pv=$(kernel_package) || true
  if [ -z "$pv" ] && [ -z "${BERTH_VM_KERNEL_PKG:-}" ] && [ -d "$cache/current" ]; then
    pv=$(cat "$cache/current/package")    # apt knows no kernel (lists missing): use the cached one
  fi
  if [ -z "$pv" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    pv=$(kernel_package) || die "apt knows no linux-image-6.1.0-N-amd64 package (is this Debian bookworm?)"
  fi
  read -r pkg ver <<<"$pv"
  kdir=$cache/${pkg}_${ver//:/_}
  [ -f "$kdir/kver" ] && initrd=$(initramfs_path "$kdir") && [ -f "$initrd" ] && return 0
  exec 9>"$cache/.lock" || die "cannot write to the cache \`$cache'"
  flock 9
  rm -rf "$cache"/.tmp.* "$cache"/.initrd.*      # left by a preparation that was killed
  if [ ! -f "$kdir/kver" ]; then
    prepare_kernel "$pkg" "$ver" "$kdir" || die "preparing $pkg $ver failed"
    ln -sfn "${kdir##*/}" "$cache/current.tmp" && mv -T "$cache/current.tmp" "$cache/current"
    prune_old_kernels "$kdir"
  fi
  initrd=$(initramfs_path "$kdir")
  prepare_initramfs "$kdir" "$initrd" || die "building the initramfs failed"
  exec 9>&-
}

now() { date +%s.%N; }
t0=$(now)
prepare
t_prep=$(now)
if [ "$prepare_only" = 1 ]; then
  echo "$PROG: ready: $(cat "$kdir/package") in $kdir" >&2
  exit 0
fi
# Keep this kernel's files while the VM runs (prune_old_kernels skips locked ones).
exec 8<"$kdir/.inuse" || die "the cached kernel \`$kdir' was removed by a concurrent run"
flock -s 8

# ---------------------------------------------------------------------------------------
# Accelerator
# ---------------------------------------------------------------------------------------
accel=${BERTH_VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
  # A /dev/kvm without vmx/svm (e.g. kvm_pvm, "Pagetable-based VM") cannot run an
  # unmodified kernel: it fails with "KVM internal error ... emulation failure".
  accel=tcg
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ]; then
    accel=kvm
  fi
fi
case $accel in
  kvm) qaccel=kvm cpu=host append_accel= ;;
  # Nehalem: no AVX, so glibc avoids the AVX2 string functions that TCG runs 5-8x slower.
  # tsc=reliable: without it the guest distrusts the emulated TSC and falls back to hpet.
  tcg) qaccel=tcg,thread=multi cpu=Nehalem append_accel=tsc=reliable ;;
  *) die "BERTH_VM_ACCEL must be auto, kvm or tcg" ;;
esac

# ---------------------------------------------------------------------------------------
# The run directory: shared with the guest at /run/berth-vm
# ---------------------------------------------------------------------------------------
rundir=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm.XXXXXX")
qpid=
bg_pids=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local p
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

printf '%s\0' "$@" > "$rundir/argv"
cwd=$(pwd -P)
printf '%s\0' "$cwd" > "$rundir/cwd"

# CMD's environment: HOME, PATH, BERTH_* and CI* from the host, BERTH_VM=tcg or kvm (tests
# can scale their timeouts by it), then --env (the last of a name wins).
{
  printf '%s\0' HOME=/root "PATH=${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
  env -0 | grep -zE '^(BERTH_|CI)[A-Za-z0-9_]*=' || true
  printf '%s\0' "BERTH_VM=$accel"
  [ ${#extra_env[@]} = 0 ] || printf '%s\0' "${extra_env[@]}"
} > "$rundir/env"
printf '%s\n' "$stage2" > "$rundir/stage2.sh"
: > "$rundir/stdout"
: > "$rundir/stderr"

# Read-write shares: the current directory and every --share, parents first; a path under
# another share is already visible through it.
share_list=()
[ "$cwd" = / ] || share_list+=("$cwd")
for s in "${shares[@]}"; do
  [ -d "$s" ] || die "--share \`$s': not a directory"
  share_list+=("$(cd "$s" && pwd -P)")
done
for p in "${share_list[@]}"; do
  case $p in *$'\n'*) die "cannot share a path that contains a newline: \`$p'" ;; esac
done
: > "$rundir/shares"
while IFS= read -r p; do
  [ -n "$p" ] || continue
  case $p in
    /) die "cannot share / read-write" ;;
    /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|/run|/run/*) die "cannot share \`$p' (the guest mounts its own)" ;;
  esac
  covered=0
  while IFS= read -r q; do
    case $p/ in "$q"/*) covered=1 ;; esac
  done < "$rundir/shares"
  [ $covered = 1 ] || echo "$p" >> "$rundir/shares"
done < <(for p in "${share_list[@]}"; do printf '%s\t%s\n' "${#p}" "$p"; done | sort -n -s | cut -f2-)

# ---------------------------------------------------------------------------------------
# qemu
# ---------------------------------------------------------------------------------------
qarg() { printf '%s' "${1//,/,,}"; }   # qemu option values escape a comma by doubling it
# shellcheck disable=SC2054  # the commas are inside qemu's option values
qemu_args=(-machine q35 -accel "$qaccel" -cpu "$cpu" -smp "$cpus" -m "$mem"
  -nodefaults -no-user-config -display none -no-reboot
  -serial "file:$rundir/console.log"
  -kernel "$kdir/vmlinux" -initrd "$initrd"
  -append "console=ttyS0 quiet panic=-1 rdinit=/init cgroup_no_v1=all mitigations=off random.trust_cpu=on $append_accel ${BERTH_VM_APPEND:-}"
  -device virtio-rng-pci
  -fsdev "local,id=fs_root,path=/,security_model=none,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=fs_root,mount_tag=berth_root
  -fsdev "local,id=fs_run,path=$(qarg "$rundir"),security_model=none"
  -device virtio-9p-pci,fsdev=fs_run,mount_tag=berth_run
  -fsdev "local,id=fs_kernel,path=$(qarg "$kdir"),security_model=none,readonly=on"
  -device virtio-9p-pci,fsdev=fs_kernel,mount_tag=berth_kernel)
i=0
while IFS= read -r p; do
  qemu_args+=(-fsdev "local,id=fs_s$i,path=$(qarg "$p"),security_model=passthrough,multidevs=remap"
              -device "virtio-9p-pci,fsdev=fs_s$i,mount_tag=berth_s$i")
  i=$((i + 1))
done < "$rundir/shares"

t_qemu=$(now)
if [ "$timeout" -gt 0 ]; then
  timeout -k 5 "$timeout" qemu-system-x86_64 "${qemu_args[@]}" </dev/null >"$rundir/qemu.log" 2>&1 &
else
  qemu-system-x86_64 "${qemu_args[@]}" </dev/null >"$rundir/qemu.log" 2>&1 &
fi
qpid=$!
if [ "$timing" = 1 ]; then   # note the host time at which CMD starts
  ( while [ ! -e "$rundir/t_start" ] && kill -0 "$qpid" 2>/dev/null; do sleep 0.02; done
    now > "$rundir/t_start_host" ) &
  bg_pids+=($!)
fi
tail -q -c +1 -s 0.1 --pid="$qpid" -f "$rundir/stdout" & bg_pids+=($!)
tail -q -c +1 -s 0.1 --pid="$qpid" -f "$rundir/stderr" >&2 & bg_pids+=($!)
qrc=0
wait "$qpid" || qrc=$?
qpid=
wait "${bg_pids[@]}" 2>/dev/null || true
bg_pids=()
t_end=$(now)

if [ "$verbose" = 1 ]; then
  echo "----- $PROG: guest console -----" >&2
  cat "$rundir/console.log" >&2 || true
fi
if [ "$timing" = 1 ]; then
  if [ -f "$rundir/t_start_host" ] && [ -f "$rundir/t_start" ]; then
    # The guest's wall clock is coarse under TCG: use its uptime only for durations.
    read -r up_start < "$rundir/t_start"
    up_end=$up_start
    [ -f "$rundir/t_end" ] && read -r up_end < "$rundir/t_end"
    awk -v p="$PROG" -v a="${qaccel%%,*}" -v t0="$t0" -v tp="$t_prep" -v tq="$t_qemu" \
        -v ts="$(cat "$rundir/t_start_host")" -v te="$t_end" -v us="$up_start" -v ue="$up_end" \
      'BEGIN { printf "%s: timing (%s): prepare %.2fs, boot (qemu start to CMD start) %.2fs, CMD %.2fs, total %.2fs\n", p, a, tp - t0, ts - tq, ue - us, te - t0 }' >&2
  else
    awk -v p="$PROG" -v t0="$t0" -v te="$t_end" 'BEGIN { printf "%s: timing: total %.2fs, CMD never started\n", p, te - t0 }' >&2
  fi
fi

if [ -s "$rundir/status" ]; then
  exit "$(cat "$rundir/status")"
fi
if [ "$timeout" -gt 0 ] && { [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; }; then
  echo "$PROG: timeout: the VM was stopped after ${timeout}s" >&2
  exit 124
fi
echo "$PROG: the VM failed (qemu exit status $qrc, no exit status from the guest)" >&2
[ -f "$rundir/init-error" ] && cat "$rundir/init-error" >&2
if [ "$verbose" = 0 ]; then
  echo "----- guest console -----" >&2
  tail -n 100 "$rundir/console.log" >&2 || true
fi
if [ -s "$rundir/qemu.log" ]; then
  echo "----- qemu -----" >&2
  cat "$rundir/qemu.log" >&2
fi
exit 125
