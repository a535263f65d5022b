#!/bin/bash
# containerd drives berth through its io.containerd.runc.v2 shim exactly as it drives runc: a
# private containerd (own root, state, sockets, namespace) runs busybox containers with
# `ctr run --runc-binary <berth wrapper>`, and with berth as `runc` in containerd's PATH for the
# options where ctr drops --runc-binary (--no-pivot, --uidmap). Every container is checked in the
# wrapper's argv log: it really ran through berth. Run as root:
#   tests/engines/containerd.sh          BERTH=path/to/berth to test another binary
# When a case fails, the same container is run again with runc (when installed) and its result
# printed next to berth's, so the report says at once whether berth or the host is at fault.
set -u
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
  skip containerd "needs root (runs a private containerd)"; finish; exit
fi
for tool in containerd ctr containerd-shim-runc-v2 jq script; do
  if ! command -v "$tool" >/dev/null; then
    skip containerd "$tool is not installed (contrib/install-deps.sh --tests)"; finish; exit
  fi
done
if [ ! -x "$BERTH" ]; then
  fail containerd "berth binary $BERTH is missing (build it, or set BERTH)"; finish; exit
fi
real_runc=$(command -v runc || true)  # for the comparisons only; before PATH changes

tmp=$(mktemp -d /tmp/berth-ctr.XXXXXX)
# Container root in a user namespace (--uidmap) must traverse the bundle path to its rootfs.
chmod 711 "$tmp"
ns=berth-ctr-$$              # containerd namespace: also the parent cgroup of every container
n=0                          # containers are berth-ctr-$$-1 .. berth-ctr-$$-$n
sock=$tmp/containerd.sock
wrap=$tmp/wrap
IMG=localhost/busybox:latest
t_start=$SECONDS

# Clean-ups run in reverse order of registration: tasks, containerd, leftover shims and
# containers, cgroups, mounts, then the directory.
on_exit "rm -rf '$tmp'"
unmount_tmp() {  # everything still mounted below $tmp, deepest first
  local m
  for m in $(awk -v t="$tmp/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
}
on_exit unmount_tmp
remove_cgroups() {  # the namespace's parent cgroups (containerd puts containers in /<ns>/<id>)
  local d
  for d in /sys/fs/cgroup/"$ns" /sys/fs/cgroup/*/"$ns"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
}
on_exit remove_cgroups
# Containers a killed shim left behind, in both state roots berth was given.
berth_roots=("$tmp/runc-root/$ns" "/run/containerd/runc/$ns")
remove_containers() {
  local r c
  for r in "${berth_roots[@]}"; do
    [ -d "$r" ] || continue
    for c in "$r"/*; do
      [ -e "$c" ] || continue
      timeout -k 5 30 "$BERTH" --root "$r" delete --force "${c##*/}" \
        || { [ -n "$real_runc" ] && timeout -k 5 30 "$real_runc" --root "$r" delete --force "${c##*/}"; }
    done
  done
  rmdir "/run/containerd/runc/$ns" 2>/dev/null
}
on_exit remove_containers
# Shims started for this containerd, and any runtime or ctr call still stuck: their command
# lines name the temporary directory. A killed shim leaves its socket in /run/containerd/s,
# named by sha256(<containerd address>/<namespace>/<id>).
kill_leftovers() {
  local p i c
  for p in $(pgrep -f -- "$tmp/" 2>/dev/null); do
    [ "$p" != $$ ] && kill -KILL "$p" 2>/dev/null
  done
  for ((i = 1; i <= n; i++)); do
    for c in "berth-ctr-$$-$i" "berth-ctr-$$-$i-runc"; do
      rm -f "/run/containerd/s/$(printf '%s' "$sock/$ns/$c" | sha256sum | cut -d' ' -f1)"
    done
  done
}
on_exit kill_leftovers

# --- the private containerd ---------------------------------------------------------------
make_wrapper "$wrap"
# `runc` in containerd's PATH (used when ctr drops --runc-binary) is berth, unless a comparison
# with runc asked for the real one.
rm -f "$wrap/runc"  # make_wrapper's symlink: writing through it would replace berth's wrapper
cat >"$wrap/runc" <<EOF
#!/bin/sh
[ -e '$tmp/use-real-runc' ] && exec '${real_runc:-/nonexistent/runc}' "\$@"
exec '$wrap/berth' "\$@"
EOF
chmod 755 "$wrap/runc"

cat >"$tmp/config.toml" <<EOF
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = "$tmp/debug.sock"
EOF
PATH="$wrap:$PATH" containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
containerd_pid=$!
stop_containerd() {
  kill -TERM "$containerd_pid" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$containerd_pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$containerd_pid" 2>/dev/null
}
on_exit stop_containerd

ctrc() { timeout -k 5 60 ctr -a "$sock" -n "$ns" "$@"; }
# ctr keeps the FIFOs of a detached exec; in $tmp they go with it.
cexec() { ctrc task exec --fifo-dir "$tmp/fifo" "$@"; }

# Removes every task and container of the namespace (a case that failed half-way leaves some).
remove_tasks() {
  local c
  for c in $(ctrc task ls -q 2>/dev/null); do
    ctrc task kill -a -s KILL "$c"; ctrc task rm -f "$c"
  done
  for c in $(ctrc container ls -q 2>/dev/null); do ctrc container rm "$c"; done
}
on_exit remove_tasks

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds or the time is up.
wait_until() {
  local n=$(($1 * 10)); shift
  while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done
  "$@"
}

if ! wait_until 20 test -S "$sock" || ! ctrc version >/dev/null 2>&1; then
  fail containerd-start "containerd did not serve $sock within 20 s" "$(tail -n 20 "$tmp/containerd.log")"
  finish; exit
fi

"$ENGINES_DIR/busybox-image.sh" "$tmp/busybox.tar" >"$tmp/image.log" 2>&1 \
  || { fail image "busybox-image.sh failed" "$(cat "$tmp/image.log")"; finish; exit; }
if ! out=$(ctrc image import "$tmp/busybox.tar" 2>&1); then
  fail image-import "$out"; finish; exit
fi
pass image-import

# --- running containers -------------------------------------------------------------------
next_id() { n=$((n + 1)); id=berth-ctr-$$-$n; }
RT=berth  # berth, or runc for a comparison
rt_bin() { if [ "$RT" = runc ]; then echo "$real_runc"; else echo "$wrap/berth"; fi; }

# brun ID [ctr run flags...] -- CMD...: runs CMD in a new container (removed afterwards) and
# returns the task's exit status, as `ctr run` does.
brun() {
  local id=$1; shift
  local flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  ctrc run --rm --runc-binary "$(rt_bin)" --runc-root "$tmp/runc-root" --fifo-dir "$tmp/fifo" \
    "${flags[@]}" "$IMG" "$id" "$@"
}
# The same where ctr ignores --runc-binary and --runc-root (--no-pivot, --uidmap): the shim runs
# `runc` from containerd's PATH, with its default root /run/containerd/runc/<namespace>.
brun_path() {
  local id=$1; shift
  local flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  if [ "$RT" = runc ]; then : >"$tmp/use-real-runc"; fi
  ctrc run --rm --fifo-dir "$tmp/fifo" "${flags[@]}" "$IMG" "$id" "$@"
  local rc=$?
  rm -f "$tmp/use-real-runc"
  return $rc
}

# rt_case NAME exact|match EXPECTED FN [ARGS...]: FN ID [ARGS...] runs its container(s) through
# berth and prints what it observed (stdout); the case passes when that equals EXPECTED (or the
# whole text matches the extended regex EXPECTED: ^ and $ are its start and end, newlines literal)
# and berth created ID. On failure FN runs again with runc to tell a berth bug from a host limit.
rt_case() {
  local name=$1 mode=$2 want=$3 fn=$4; shift 4
  local got ok=1
  next_id
  got=$(RT=berth "$fn" "$id" "$@" 2>"$tmp/stderr")
  if [ "$mode" = exact ]; then [ "$got" = "$want" ] || ok=0
  else [[ $got =~ $want ]] || ok=0; fi
  if [ $ok = 1 ] && ran_through_berth "$wrap" "$id"; then pass "$name"; return; fi
  local details=("expected ($mode): $want" "berth gave: $got" "stderr: $(head -c 1500 "$tmp/stderr")")
  [ $ok = 1 ] && details=("the output is right but berth never created $id (argv log: $wrap/argv.log)")
  if [ $ok = 0 ] && [ -n "$real_runc" ]; then
    local rgot
    rgot=$(RT=runc "$fn" "$id-runc" "$@" 2>&1)
    details+=("runc gives: $rgot")
  fi
  fail "$name" "${details[@]}"
}

c_echo() { brun "$1" -- sh -c 'echo hello from berth'; }
rt_case run-echo exact "hello from berth" c_echo

c_exit() { brun "$1" -- sh -c 'exit 7'; echo "status $?"; }
rt_case run-exit-code exact "status 7" c_exit

# ctr does not close the task's stdin at EOF (with runc too): the container reads one line.
c_stdin() { printf 'line one\nline two\n' | brun "$1" -- sh -c 'read l; echo "got: $l"'; }
rt_case run-stdin exact "got: line one" c_stdin

c_env() { brun "$1" --env FOO=bar --env EMPTY= --cwd /tmp -- sh -c 'echo "$FOO/${EMPTY-unset}/$(pwd)"'; }
rt_case run-env-cwd exact "bar///tmp" c_env

# script(1) shows a NUL from the closed stdin as "^@"; the pty adds carriage returns; ctr may
# try to resize the pty of a process that has just exited (a race in ctr, with runc alike).
no_pty_noise() { tr -d '\r\000' | sed 's/\^@//g' | grep -v 'cannot resize a stopped container'; }
c_tty() {
  local cmd
  cmd=$(printf '%q ' ctr -a "$sock" -n "$ns" run --rm -t --runc-binary "$(rt_bin)" \
    --runc-root "$tmp/runc-root" --fifo-dir "$tmp/fifo" "$IMG" "$1" sh -c 'tty; exit 3')
  timeout -k 5 60 script -eqc "$cmd" /dev/null </dev/null | no_pty_noise
  echo "status ${PIPESTATUS[0]}"
}
rt_case run-tty match '^/dev/pts/[0-9]+
status 3$' c_tty

# ctr's default spec: rlimits, no_new_privs, masked and read-only paths, /sys read-only.
c_defaults() {
  brun "$1" -- sh -c 'ulimit -n; grep NoNewPrivs /proc/self/status | tr -d "\t"
    wc -c </proc/keys; echo x >/proc/sys/kernel/domainname 2>/dev/null || echo proc-sys-ro
    echo 1 >/sys/kernel/profiling 2>/dev/null || echo sys-ro'
}
rt_case run-default-spec exact "1024
NoNewPrivs:1
0
proc-sys-ro
sys-ro" c_defaults

c_newprivs() { brun "$1" --allow-new-privs -- grep NoNewPrivs /proc/self/status; }
rt_case run-allow-new-privs match 'NoNewPrivs:[[:space:]]+0$' c_newprivs

c_readonly() {
  brun "$1" --read-only -- sh -c 'touch /x 2>&1 | grep -o "Read-only file system"; echo ok >/dev/shm/y && cat /dev/shm/y'
}
rt_case run-read-only exact "Read-only file system
ok" c_readonly

mkdir -p "$tmp/share"
echo from-host >"$tmp/share/file"
c_bind() {
  rm -f "$tmp/share/new"
  brun "$1" --mount "type=bind,src=$tmp/share,dst=/ro,options=rbind:ro" \
    --mount "type=bind,src=$tmp/share,dst=/rw,options=rbind:rw" -- \
    sh -c 'cat /ro/file; echo x >/ro/new 2>/dev/null || echo ro-refused; echo from-container >/rw/new'
  cat "$tmp/share/new"
}
rt_case run-bind-mounts exact "from-host
ro-refused
from-container" c_bind

# The cgroup hierarchy this host uses, to read limits where the kernel keeps them.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then cgmode=v2; else cgmode=v1; fi

# ctr 1.6's default spec has no cgroup mount: ask for one, read-only (as docker does), and read
# the container's limits through it. v1: each controller's mount shows the container's cgroup;
# v2 without a cgroup namespace: the hierarchy's root, the container's cgroup below it.
c_cgroup_mount() {
  brun "$1" --memory-limit 67108864 --cpu-quota 30000 --cpu-period 100000 \
    --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:nodev:noexec -- sh -c '
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
      d=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
      echo "memory $(cat $d/memory.max), cpu $(cat $d/cpu.max)"
    else
      d=/sys/fs/cgroup/memory
      q=$(ls /sys/fs/cgroup/*/cpu.cfs_quota_us | head -n1)
      echo "memory $(cat $d/memory.limit_in_bytes), cpu $(cat $q) $(cat ${q%_quota_us}_period_us)"
    fi
    mkdir $d/sub 2>&1 | grep -o "Read-only file system"
    # cgroup mounts below /sys/fs/cgroup, and how many of them are writable
    awk "{for (i = 7; i < NF; i++) if (\$i == \"-\") break}
      \$5 ~ \"^/sys/fs/cgroup\" && \$(i + 1) ~ /^cgroup/ {n++; if (\$6 !~ /^ro/) w++}
      END {print n + 0, \"mounts,\", w + 0, \"writable\"}" /proc/self/mountinfo'
}
rt_case run-cgroup-mount match '^memory 67108864, cpu 30000 100000
Read-only file system
[1-9][0-9]* mounts, 0 writable$' c_cgroup_mount

# CapEff with ctr's defaults, then with one added and one dropped.
c_caps() { brun "$1" "${@:2}" -- sh -c 'grep CapEff /proc/self/status | cut -f2'; }
next_id
default_caps=$(RT=berth c_caps "$id" 2>&1)
if ran_through_berth "$wrap" "$id" && [[ $default_caps =~ ^[0-9a-f]{16}$ ]]; then
  want=$(printf '%016x' $(((0x$default_caps | (1 << 21)) & ~1)))  # +CAP_SYS_ADMIN -CAP_CHOWN
  rt_case run-cap-add-drop exact "$want" c_caps --cap-add CAP_SYS_ADMIN --cap-drop CAP_CHOWN
else
  fail run-cap-add-drop "reading the default CapEff failed: $default_caps"
fi

# --privileged: every capability containerd itself has, no seccomp, the host's devices.
host_caps=$(grep CapEff /proc/self/status | cut -f2)
c_privileged() {
  brun "$1" --privileged -- sh -c 'grep -E "CapEff|Seccomp:" /proc/self/status | cut -f2; test -e /dev/kmsg && echo host-devices || echo "no /dev/kmsg in:" /dev/*'
}
rt_case run-privileged exact "$host_caps
0
host-devices" c_privileged

c_seccomp() { brun "$1" --seccomp -- sh -c 'grep -E "^Seccomp(_filters)?:" /proc/self/status | tr -d "\t"'; }
rt_case run-seccomp-default-profile match '^Seccomp:2
Seccomp_filters:[1-9]' c_seccomp
c_no_seccomp() { brun "$1" -- sh -c 'grep -E "^Seccomp:" /proc/self/status | tr -d "\t"'; }
rt_case run-no-seccomp exact "Seccomp:0" c_no_seccomp

# The network namespace, by its inode (the same inside and outside), and what sysfs lists there:
# with --net-host, an interface of the host's (its first besides lo); otherwise lo alone.
host_netns=$(readlink /proc/self/ns/net)
host_if=$(find /sys/class/net -mindepth 1 -maxdepth 1 ! -name lo -printf '%f\n' | sort | head -n1)
c_net_host() {
  brun "$1" --net-host -- sh -c "readlink /proc/self/ns/net; ls /sys/class/net | grep -x '${host_if:-lo}'" \
    | awk -v h="$host_netns" '$0 == h {$0 = "the host network namespace"} 1'
}
rt_case run-net-host exact "the host network namespace
${host_if:-lo}" c_net_host
c_net_private() {
  brun "$1" -- sh -c 'ls /sys/class/net; readlink /proc/self/ns/net' | awk -v h="$host_netns" '$0 == h {$0 = "the host network namespace"} 1'
}
rt_case run-net-private match '^lo
net:\[[0-9]+\]$' c_net_private

c_cgroup_path() { brun "$1" --cgroup "/$ns/custom-$1" -- cat /proc/self/cgroup; }
rt_case run-cgroup-path match "/$ns/custom-berth-ctr-$$-[0-9]+(-runc)?\$" c_cgroup_path

# --no-pivot: ctr then drops --runc-binary; berth is `runc` in containerd's PATH.
c_no_pivot() {
  brun_path "$1" --no-pivot -- sh -c 'echo rootfs-ok; ls /bin/busybox'
  grep -E "create .*--no-pivot .*$1\$" "$wrap/argv.log" >/dev/null && echo no-pivot-passed
}
rt_case run-no-pivot exact "rootfs-ok
/bin/busybox
no-pivot-passed" c_no_pivot

# A user namespace: ctr chowns a copy of the rootfs to the mapped range and drops
# --runc-binary (PATH route again).
c_userns() {
  brun_path "$1" --uidmap 0:100000:65536 --gidmap 0:100000:65536 -- \
    sh -c 'cat /proc/self/uid_map /proc/self/gid_map | tr -s " " | sed "s/^ //"; id -u; touch /written && echo rootfs-writable'
}
rt_case run-user-namespace exact "0 100000 65536
0 100000 65536
0
rootfs-writable" c_userns

if [ -d /run/systemd/system ]; then
  c_systemd() {
    brun "$1" --runc-systemd-cgroup --cgroup "system.slice:berth-ctr:$1" -- \
      sh -c 'grep -E "^(0::|[0-9]+:name=systemd:)" /proc/self/cgroup | head -n1'
  }
  rt_case run-systemd-cgroup match "/system.slice/berth-ctr-berth-ctr-$$-[0-9]+(-runc)?\.scope$" c_systemd
else
  skip run-systemd-cgroup "PID 1 is not systemd on this host (--runc-systemd-cgroup needs it)"
fi

# --- a detached task and the task commands ------------------------------------------------
task_status() { ctrc task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'; }
task_pid() { ctrc task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $2}'; }
status_is() { [ "$(task_status "$1")" = "$2" ]; }
# start_sleeper ID: a detached `sleep 999` task through berth, RUNNING on return (ctr's output,
# or why it failed, in $tmp/out).
start_sleeper() {
  ctrc run -d --runc-binary "$wrap/berth" --runc-root "$tmp/runc-root" --fifo-dir "$tmp/fifo" \
    "$IMG" "$1" sleep 999 >"$tmp/out" 2>&1 && wait_until 10 status_is "$1" RUNNING
}
rootfs_of() { echo "$tmp/state/io.containerd.runtime.v2.task/$ns/$1/rootfs"; }
# The host directory of PID's cgroup for CONTROLLER (v1) or its cgroup2 directory.
cgroup_dir() {
  local pid=$1 ctl=${2:-} mnt path
  if [ $cgmode = v2 ]; then
    mnt=/sys/fs/cgroup
    path=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
  else
    mnt=$(awk -v c="$ctl" '/ - cgroup / {n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) {print $5; exit}}' /proc/self/mountinfo)
    path=$(awk -F: -v c="$ctl" '{n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $3}' "/proc/$pid/cgroup")
  fi
  echo "$mnt$path"
}

next_id
d=$id
loop='trap "echo got-USR1 >/tmp/signal" USR1; i=0
while :; do i=$((i + 1)); echo $i >/tmp/count; sleep 0.1; done'
if ! out=$(ctrc run -d --runc-binary "$wrap/berth" --runc-root "$tmp/runc-root" --fifo-dir "$tmp/fifo" \
  --memory-limit 67108864 --cpus 0.5 "$IMG" "$d" sh -c "$loop" 2>&1) \
  || ! wait_until 10 status_is "$d" RUNNING; then
  fail run-detached "$out" "task ls: $(ctrc task ls 2>&1)"
elif ! ran_through_berth "$wrap" "$d"; then
  fail run-detached "berth never created $d"
else
  pass run-detached
fi
dpid=$(task_pid "$d")
dpid=${dpid:-0}
count_file=$(rootfs_of "$d")/tmp/count

out=$(cexec --exec-id e1 "$d" sh -c 'echo exec output; echo exec stderr >&2' 2>"$tmp/err")
expect task-exec "exec output + exec stderr" "$out + $(cat "$tmp/err")"
cexec --exec-id e2 "$d" sh -c 'exit 5' >/dev/null 2>&1
expect task-exec-exit-code 5 "$?"
out=$(cexec --exec-id e3 --user 1000 --cwd /home/tester "$d" sh -c 'echo "$(id -u):$(id -g) $(pwd)"' 2>&1)
expect task-exec-user-cwd "1000:1000 /home/tester" "$out"
out=$(printf 'piped\n' | cexec --exec-id e4 "$d" head -n1 2>&1)
expect task-exec-stdin piped "$out"
cmd=$(printf '%q ' ctr -a "$sock" -n "$ns" task exec --fifo-dir "$tmp/fifo" -t --exec-id e5 "$d" sh -c 'tty; exit 4')
out=$(timeout -k 5 60 script -eqc "$cmd" /dev/null </dev/null | no_pty_noise; echo "status ${PIPESTATUS[0]}")
expect_match task-exec-tty '^/dev/pts/[0-9]+ status 4$' "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
if grep -Eq "exec --process .* --detach .*$d\$" "$wrap/argv.log" \
  && grep -Eq "exec --process .*--console-socket .*$d\$" "$wrap/argv.log"; then
  pass task-exec-through-berth
else
  fail task-exec-through-berth "no exec of $d (with and without --console-socket) in $wrap/argv.log"
fi

# A second process in the container, for ps and kill --all.
cexec -d --exec-id sleeper "$d" sleep 1000 >/dev/null 2>&1
ps_out=$(ctrc task ps "$d" 2>&1)
sleeper=$(awk '/ExecID:sleeper,/ {print $1}' <<<"$ps_out")
if grep -Eq "^${dpid}[[:space:]]" <<<"$ps_out" && [ -n "$sleeper" ]; then pass task-ps
else fail task-ps "expected the init pid $dpid and the exec 'sleeper'" "$ps_out"; fi
if grep -Eq "ps --format json $d\$" "$wrap/argv.log"; then pass task-ps-through-berth
else fail task-ps-through-berth "no 'ps --format json $d' in the argv log"; fi

# Resources, as the kernel holds them for the task's cgroup.
if [ $cgmode = v1 ]; then
  mem=$(cat "$(cgroup_dir "$dpid" memory)/memory.limit_in_bytes" 2>&1)
  cpu=$(cat "$(cgroup_dir "$dpid" cpu)"/cpu.cfs_{quota,period}_us 2>&1 | tr '\n' ' ')
  expect task-memory-limit 67108864 "$mem"
  expect task-cpus "50000 100000 " "$cpu"
else
  expect task-memory-limit 67108864 "$(cat "$(cgroup_dir "$dpid")/memory.max" 2>&1)"
  expect task-cpus "50000 100000" "$(cat "$(cgroup_dir "$dpid")/cpu.max" 2>&1)"
fi
dcg=$(cgroup_dir "$dpid" memory)
case "$dcg" in
  */"$ns/$d") pass task-cgroup-path ;;
  *) fail task-cgroup-path "expected .../$ns/$d" "$(cat "/proc/$dpid/cgroup" 2>&1)" ;;
esac

metrics=$(ctrc task metrics --format json "$d" 2>&1)
m=$(jq -r '[(.memory.usage | if type == "object" then .usage else . end), .pids.current] | map(tostring) | join(" ")' <<<"$metrics" 2>&1)
expect_match task-metrics '^[1-9][0-9]* [1-9][0-9]*$' "$m"

counter() { cat "$count_file" 2>/dev/null; }
if ctrc task pause "$d" >"$tmp/out" 2>&1 && wait_until 5 status_is "$d" PAUSED; then
  c1=$(counter); sleep 0.5; c2=$(counter)
  if [ "$c1" = "$c2" ] && [ -n "$c1" ]; then pass task-pause
  else fail task-pause "the counter moved while paused: $c1 -> $c2"; fi
else
  fail task-pause "$(cat "$tmp/out")" "status: $(task_status "$d")"
fi
counter_moved() { [ "$(counter)" != "$c2" ]; }
if ctrc task resume "$d" >"$tmp/out" 2>&1 && wait_until 5 status_is "$d" RUNNING && wait_until 5 counter_moved; then
  pass task-resume
else
  fail task-resume "$(cat "$tmp/out")" "status: $(task_status "$d"), counter $(counter) (paused at ${c2:-?})"
fi
if grep -Eq "(^| )pause $d\$" "$wrap/argv.log" && grep -Eq "(^| )resume $d\$" "$wrap/argv.log"; then
  pass task-pause-through-berth
else
  fail task-pause-through-berth "no pause/resume of $d in the argv log"
fi

signalled() { [ "$(cat "$(rootfs_of "$d")/tmp/signal" 2>/dev/null)" = got-USR1 ]; }
out=$(ctrc task kill -s SIGUSR1 "$d" 2>&1)
if wait_until 5 signalled && status_is "$d" RUNNING; then pass task-kill-usr1
else fail task-kill-usr1 "the trap did not run: $out" "status: $(task_status "$d")"; fi

# kill --all TERM: the exec'd sleep dies; init, PID 1 of its namespace without a TERM handler,
# ignores it. Without --all only init would be signalled.
gone() { [ ! -e "/proc/$1" ]; }
out=$(ctrc task kill -a -s SIGTERM "$d" 2>&1)
if [ -n "$sleeper" ] && wait_until 5 gone "$sleeper" && status_is "$d" RUNNING \
  && grep -Eq "kill --all $d 15\$" "$wrap/argv.log"; then
  pass task-kill-all-term
else
  fail task-kill-all-term "$out" "sleeper $sleeper alive: $(gone "${sleeper:-0}" && echo no || echo yes), status $(task_status "$d")"
fi
cexec -d --exec-id sleeper2 "$d" sleep 1000 >/dev/null 2>&1
sleeper2=$(ctrc task ps "$d" 2>/dev/null | awk '/ExecID:sleeper2,/ {print $1}')
out=$(ctrc task kill -a -s SIGKILL "$d" 2>&1)
if wait_until 10 status_is "$d" STOPPED && gone "$dpid" && [ -n "$sleeper2" ] && gone "$sleeper2"; then
  pass task-kill-all
else
  fail task-kill-all "$out" "status $(task_status "$d"); init $dpid, exec ${sleeper2:-none}: $(ls -d /proc/"$dpid" /proc/"${sleeper2:-0}" 2>&1)"
fi

# runc lists no process for a finished container (exit 0); the shim shows an empty list.
out=$(ctrc task ps "$d" 2>&1)
if [[ $out =~ ^PID[[:space:]]+INFO[[:space:]]*$ ]]; then pass task-ps-stopped
else fail task-ps-stopped "expected the header alone, as with runc" "$out"; fi

# Signalling a finished task: berth says "container not running", which the shim maps to
# "process already finished" (not found) rather than an unknown runtime failure.
out=$(ctrc task kill -s SIGTERM "$d" 2>&1)
expect_match task-kill-after-exit 'process already finished: not found' "$out"
log=$tmp/state/io.containerd.runtime.v2.task/$ns/$d/log.json
if [ -s "$log" ] && jq -e . "$log" >/dev/null 2>&1 && [ "$(jq -s length "$log")" = "$(grep -c . "$log")" ]; then
  pass task-log-json-lines
else
  fail task-log-json-lines "$log does not hold one JSON object per line" "$(head -c 1000 "$log" 2>&1)"
fi

out=$(ctrc task rm "$d" 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$(task_status "$d")" ] && [ ! -e "$tmp/runc-root/$ns/$d" ] \
  && [ ! -e "$dcg" ]; then
  pass task-delete
else
  fail task-delete "exit status $rc: $out" "state: $(ls "$tmp/runc-root/$ns" 2>&1)" "cgroup $dcg: $(ls -d "$dcg" 2>&1)"
fi
if grep -Eq "(^| )delete $d\$" "$wrap/argv.log"; then pass task-delete-through-berth
else fail task-delete-through-berth "no 'delete $d' in the argv log"; fi
out=$(ctrc container rm "$d" 2>&1)
if [ $? = 0 ] && ! ctrc container ls -q | grep -qx "$d"; then pass container-rm
else fail container-rm "$out"; fi

# TERM through ctr task kill's default; `ctr run` returns the task's status. PID 1 without a
# handler would ignore TERM: the trap exits 42.
next_id
t=$id
ctrc run --rm --runc-binary "$wrap/berth" --runc-root "$tmp/runc-root" --fifo-dir "$tmp/fifo" "$IMG" "$t" \
  sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done' </dev/null >"$tmp/term.out" 2>&1 &
term_ctr=$!
if wait_until 10 status_is "$t" RUNNING; then
  out=$(ctrc task kill "$t" 2>&1)
  wait "$term_ctr"
  rc=$?
  if [ $rc = 42 ] && ! ctrc container ls -q | grep -qx "$t"; then pass task-kill-term
  else fail task-kill-term "ctr run returned $rc (expected 42) $out" "$(cat "$tmp/term.out")"; fi
else
  fail task-kill-term "the task did not start: $(cat "$tmp/term.out")"
fi

# A pid namespace shared with another task: the second container sees the first's processes.
next_id
p1=$id
if start_sleeper "$p1"; then
  c_shared_pid() {
    brun "$1" --with-ns "pid:/proc/$(task_pid "$p1")/ns/pid" -- ps -o pid,args | awk '$2 == "sleep" {print $1, $2, $3}'
  }
  rt_case run-shared-pid-namespace exact "1 sleep 999" c_shared_pid
  ctrc task kill -s SIGKILL "$p1" >/dev/null 2>&1
  wait_until 10 status_is "$p1" STOPPED
  ctrc task rm "$p1" >/dev/null 2>&1
  ctrc container rm "$p1" >/dev/null 2>&1
else
  fail run-shared-pid-namespace "the first task did not start: $(cat "$tmp/out")"
fi

# The runtime already removed the container (berth delete --force behind the shim's back):
# deleting the task through the shim still succeeds, since berth says "does not exist".
next_id
x=$id
if start_sleeper "$x"; then
  "$BERTH" --root "$tmp/runc-root/$ns" delete --force "$x" >"$tmp/out" 2>&1
  if wait_until 10 status_is "$x" STOPPED && out=$(ctrc task rm "$x" 2>&1) && ctrc container rm "$x" >/dev/null 2>&1; then
    pass task-delete-missing-container
  else
    fail task-delete-missing-container "$out" "$(cat "$tmp/out")" "status: $(task_status "$x")"
  fi
else
  fail task-delete-missing-container "the task did not start: $(cat "$tmp/out")"
fi

# A created container started by `ctr task start` (attached; `container create` has no
# --runc-binary: PATH route), and `task rm -f` of a running one.
next_id
s=$id
if ctrc container create "$IMG" "$s" -- sh -c 'echo started; exit 6' >"$tmp/out" 2>&1; then
  out=$(ctrc task start --fifo-dir "$tmp/fifo" "$s" 2>&1)
  rc=$?
  expect container-create-task-start "started status 6 berth" "$out status $rc $(ran_through_berth "$wrap" "$s" && echo berth)"
  ctrc container rm "$s" >/dev/null 2>&1  # an attached `task start` deletes the task itself
else
  fail container-create-task-start "$(cat "$tmp/out")"
fi
next_id
f=$id
if start_sleeper "$f"; then
  fpid=$(task_pid "$f")
  out=$(ctrc task rm -f "$f" 2>&1)
  if [ -z "$(task_status "$f")" ] && gone "$fpid" && [ ! -e "$tmp/runc-root/$ns/$f" ]; then pass task-delete-force
  else fail task-delete-force "$out" "status: $(task_status "$f")"; fi
  ctrc container rm "$f" >/dev/null 2>&1
else
  fail task-delete-force "the task did not start: $(cat "$tmp/out")"
fi

# Checkpoint and restore through containerd (`ctr container checkpoint --task`, then
# `restore --live` into a new container of the same name): the restored process goes on
# counting from where it was. CRIU must work on this kernel (the VM lane's Debian 6.1 does).
c_checkpoint() {
  local id=$1 f
  f=$(rootfs_of "$id")/tmp/count
  ctrc run -d --runc-binary "$(rt_bin)" --runc-root "$tmp/runc-root" --fifo-dir "$tmp/fifo" "$IMG" "$id" \
    sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/count; sleep 0.1; done' </dev/null >&2 || return
  counted() { local v; v=$(cat "$f" 2>/dev/null); [ "${v:-0}" -ge 20 ]; }
  drop() { ctrc task rm -f "$id" >&2; ctrc container rm "$id" >&2; }
  wait_until 20 counted || { echo "the counter did not reach 20: $(cat "$f" 2>&1)"; drop; return; }
  ctrc container checkpoint --task "$id" "checkpoint/$id:1" >&2 || { drop; return; }
  echo checkpointed
  drop
  ctrc container restore --live "$id" "checkpoint/$id:1" >&2 || { drop; return; }
  echo "restored $(task_status "$id")"
  # The new rootfs has no /tmp/count until the loop writes it: the restored one from 21 on, one
  # started afresh from 1.
  written() { [ -n "$(cat "$f" 2>/dev/null)" ]; }
  wait_until 10 written
  if counted; then echo counter-continued; else echo "counter restarted: $(cat "$f" 2>&1)"; fi
  drop
  ctrc image rm "checkpoint/$id:1" >&2
}
if ! command -v criu >/dev/null; then
  skip task-checkpoint-restore "criu is not installed"
elif ! criu_err=$(criu check 2>&1); then
  skip task-checkpoint-restore "criu check fails on this kernel ($(tail -n1 <<<"$criu_err")); the VM lane runs it"
else
  rt_case task-checkpoint-restore exact "checkpointed
restored RUNNING
counter-continued" c_checkpoint
fi

# Every container of the suite (berth-ctr-$$-1 .. $n) was created by berth, whichever route
# (--runc-binary or PATH) the shim took.
missed=()
for ((i = 1; i <= n; i++)); do ran_through_berth "$wrap" "berth-ctr-$$-$i" || missed+=("berth-ctr-$$-$i"); done
expect every-container-through-berth "" "${missed[*]}"

# Nothing of this suite's may be left in berth's state roots once every task is deleted.
left=$(find "$tmp/runc-root/$ns" "/run/containerd/runc/$ns" -mindepth 1 2>/dev/null)
expect no-leftover-state "" "$left"

echo "# containerd suite took $((SECONDS - t_start)) s"
finish
