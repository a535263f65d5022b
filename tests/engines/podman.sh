#!/bin/bash
# podman drives berth through conmon, exactly as it drives runc: an isolated podman (its own
# storage, configuration, locks, events and hooks under one temporary directory) runs every
# container with --runtime set to the lib's argv-logging berth wrapper, and the suite checks what
# the containers see. Most cases that fail through berth run again with runc: when runc fails the
# same way (same exit status), this host cannot do it and the case is skipped with the reason;
# otherwise berth is wrong and the case fails, showing both.
#   tests/engines/podman.sh          (as root; BERTH=path/to/berth to test another binary)
set -u
. "$(dirname "$0")/lib.sh"

IMG=localhost/busybox:latest

if [ "$(id -u)" != 0 ]; then skip podman "needs root (runs real containers)"; finish; exit; fi
for tool in podman conmon jq script; do
  command -v "$tool" >/dev/null || { skip podman "$tool is not installed (contrib/install-deps.sh --tests)"; finish; exit; }
done
[ -x "$BERTH" ] || { fail podman "no berth binary at $BERTH (build it, or set BERTH)"; finish; exit; }
have_runc=false
command -v runc >/dev/null && have_runc=true

work=$(mktemp -d /tmp/berth-podman.XXXXXX)
chmod 755 "$work"
on_exit "rm -rf '$work'"
# conmon leaves files in its working directory, inherited from podman's (see oom_kill).
cd "$work" || { fail setup-workdir "cannot enter $work"; finish; exit; }
wrapdir=$work/wrap
make_wrapper "$wrapdir"
RT=$wrapdir/berth
prefix=berth-pm-$$
seq_n=0
# next_name: a fresh container name in $N (in the calling shell, not a subshell).
next_name() { seq_n=$((seq_n + 1)); N=$prefix-$seq_n; }

# Everything podman keeps lives under $work. static_dir must be graphroot/libpod: conmon's exit
# command (podman container cleanup) gets --root on its command line, and podman then looks for
# its database there; anywhere else the cleanup never finds the container and podman waits 20 s
# for an exit that was already recorded.
write_conf() {  # write_conf DEFAULT_ULIMITS_TOML
  cat >"$work/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/graph"
runroot = "$work/run"
EOF
  cat >"$work/containers.conf" <<EOF
[containers]
netns = "none"
$1
[engine]
# berth takes runc's --log FILE --log-format=json, so podman passes them as it does to runc and
# reads berth's errors from that file.
runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "berth"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
lock_type = "file"
tmp_dir = "$work/tmp"
static_dir = "$work/graph/libpod"
volume_path = "$work/graph/volumes"
[engine.runtimes]
berth = ["$RT"]
[network]
network_config_dir = "$work/netconf"
EOF
}
write_conf ""
: >"$work/registries.conf"
export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf

# pm ARGS...: podman through berth. rpm ARGS...: the same through runc, for comparisons.
pm() { timeout -k 10 60 podman --runtime "$RT" "$@"; }
rpm() { timeout -k 10 60 podman --runtime runc "$@"; }

cleanup_podman() {
  timeout -k 10 60 podman rm -f -a -t 0
  # conmon (and anything else) still running for this suite: its command line names $work.
  local pid
  for pid in $(pgrep -f -- "$work/"); do
    [ "$pid" != $$ ] && kill -9 "$pid"
  done
  # Not `podman system reset`, which newer podman makes clear host-wide state too (the blob info
  # cache in /var/lib/containers/cache). Container storage is unmounted once its container is
  # gone; anything still mounted under $work goes before the directory does.
  local m
  for m in $(awk -v w="$work/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m"
  done
  local id
  for id in $(created_ids); do
    [ -d "/run/berth/$id" ] && "$BERTH" delete --force "$id"
  done
  return 0
}
# The ids berth was asked to create.
created_ids() { sed -En 's/(^|.* )create .* ([0-9a-f]{64})$/\2/p' "$wrapdir/argv.log" | sort -u; }
on_exit cleanup_podman

# --- setup ---------------------------------------------------------------------------------------

if ! out=$("$ENGINES_DIR/busybox-image.sh" "$work/busybox.tar" 2>&1); then
  fail setup-image "$out"; finish; exit
fi
if ! out=$(timeout 120 podman load -q -i "$work/busybox.tar" 2>&1); then
  fail setup-load "$out"; finish; exit
fi

# Limits: podman asks for nofile and nproc of 1048576, which only a runtime with CAP_SYS_RESOURCE
# may set. The hard limits the runtime really has under podman and conmon are not the shell's (here
# conmon's nproc is 32768 while the shell's is 96364), so a throw-away runtime records them.
cat >"$work/probe" <<EOF
#!/bin/sh
cat /proc/self/limits >'$work/limits'
exit 1
EOF
chmod 755 "$work/probe"
next_name
timeout -k 10 60 podman --runtime "$work/probe" run --rm --name "$N" "$IMG" true >/dev/null 2>&1
timeout -k 10 60 podman rm -f "$N" >/dev/null 2>&1
hard_nofile=$(awk '/^Max open files/ {print $5}' "$work/limits" 2>/dev/null)
hard_nproc=$(awk '/^Max processes/ {print $4}' "$work/limits" 2>/dev/null)
lim() {  # lim VALUE FALLBACK: VALUE capped at podman's default 1048576
  local v=${1:-$2}
  [ "$v" = unlimited ] && v=1048576
  [ "$v" -gt 1048576 ] && v=1048576
  echo "$v"
}
hard_nofile=$(lim "$hard_nofile" "$(ulimit -Hn)")
hard_nproc=$(lim "$hard_nproc" "$(ulimit -Hu)")
write_conf "default_ulimits = [\"nofile=$hard_nofile:$hard_nofile\", \"nproc=$hard_nproc:$hard_nproc\"]"
echo "# runtime hard limits under conmon: nofile $hard_nofile, nproc $hard_nproc"

cgroup2=false
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && cgroup2=true

# --- helpers -------------------------------------------------------------------------------------

# matches TEXT REGEX: an empty REGEX matches anything, even no output.
matches() { [ -z "$2" ] || printf '%s' "$1" | grep -Eq -- "$2"; }

# case_run NAME REGEX RUN-ARGS...: `podman run --rm RUN-ARGS` through berth exits 0 and prints
# something matching REGEX. When it does not, the same runs with runc: if runc fails as well, the
# host cannot do it and the case is skipped; if runc passes, berth is wrong.
case_run() {
  local name=$1 re=$2; shift 2
  local out rc
  next_name
  out=$(pm run --rm --name "$N" "$@" 2>&1); rc=$?
  if [ "$rc" = 0 ] && matches "$out" "$re"; then pass "$name"; return; fi
  compare_runc "$name" "$re" 0 "$rc" "$out" "$@"
}

# case_status NAME STATUS REGEX RUN-ARGS...: like case_run, with the exit status expected.
case_status() {
  local name=$1 want=$2 re=$3; shift 3
  local out rc
  next_name
  out=$(pm run --rm --name "$N" "$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ] && matches "$out" "$re"; then pass "$name"; return; fi
  compare_runc "$name" "$re" "$want" "$rc" "$out" "$@"
}

compare_runc() {  # compare_runc NAME REGEX WANT-STATUS BERTH-STATUS BERTH-OUTPUT RUN-ARGS...
  local name=$1 re=$2 want=$3 rc=$4 out=$5; shift 5
  if ! $have_runc; then
    fail "$name" "berth: status $rc (want $want), output must match: $re" "$out"; return
  fi
  local rout rrc
  rout=$(rpm run --rm --name "$N-runc" "$@" 2>&1); rrc=$?
  if [ "$rrc" = "$rc" ] && ! { [ "$rrc" = "$want" ] && matches "$rout" "$re"; }; then
    skip "$name" "runc fails the same way on this host (status $rrc): $(printf '%s' "$rout" | tail -n 1)"
  else
    fail "$name" "podman run $*" "berth: status $rc (want $want), output must match: $re" "$out" \
      "runc: status $rrc: $rout"
  fi
}

# until_true SECONDS CMD...: polls CMD every 0.1 s until it succeeds or the deadline passes.
until_true() {
  local end=$((SECONDS + $1)); shift
  while ! "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.1
  done
}
# in_pty COMMAND-LINE: runs it on a new pseudo-terminal (util-linux script), output on one line.
# The timeout is outside: inside, it would put podman in a background process group of that
# terminal, and podman's switch to raw mode would stop it with SIGTTOU.
in_pty() { timeout -k 10 60 script -qec "$1" /dev/null </dev/null 2>&1 | tr '\r\n' '  '; }
logs_have() { pm logs "$1" 2>&1 | grep -q -- "$2"; }
state_of() { pm inspect --format "$2" "$1" 2>&1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# run_detached NAME RUN-ARGS...: starts $N in the background; fails NAME when podman cannot.
run_detached() {
  local name=$1; shift
  next_name
  local out
  if ! out=$(pm run -d --name "$N" "$@" 2>&1); then
    fail "$name" "podman run -d $*" "$out"; return 1
  fi
  CID=$out
}

# --- cases ---------------------------------------------------------------------------------------

basics() {
  case_run run-echo '^hello from berth$' "$IMG" echo hello from berth
  case_status exit-0 0 '' "$IMG" sh -c 'exit 0'
  case_status exit-3 3 '' "$IMG" sh -c 'exit 3'
  local out
  next_name
  out=$(echo "data through stdin" | pm run --rm -i --name "$N" "$IMG" cat 2>&1)
  expect stdin "data through stdin" "$out"
  case_run env-hostname-workdir '^bar hh /tmp$' -e FOO=bar --hostname hh -w /tmp "$IMG" \
    sh -c 'echo "$FOO $(hostname) $(pwd)"'
  case_status exit-command-not-found 127 '' "$IMG" /no/such/binary
}

lifecycle() {
  run_detached detached "$IMG" sh -c 'echo started; exec sleep 1000' || return
  local name=$N cid=$CID
  if until_true 20 logs_have "$name" started; then pass logs; else fail logs "$(pm logs "$name" 2>&1)"; fi
  expect_match ps "^$name Up" "$(pm ps --filter "name=^$name\$" --format '{{.Names}} {{.Status}}' 2>&1)"
  local st pid
  st=$(state_of "$name" '{{.State.Running}} {{.State.Pid}}')
  pid=${st#* }
  if [[ $st =~ ^true\ [0-9]+$ ]] && [ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "sleep 1000 " ]; then
    pass inspect-running-pid
  else
    fail inspect-running-pid "inspect: $st" "cmdline of $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>&1)"
  fi
  expect_match top 'sleep 1000' "$(pm top "$name" 2>&1)"
  expect_match stats-no-stream "^$name [0-9.]+[kMG]?B / " \
    "$(pm stats --no-stream --format '{{.Name}} {{.MemUsage}}' "$name" 2>&1)"
  check ran-through-berth ran_through_berth "$wrapdir" "$cid"

  # exec
  expect exec-echo "hi" "$(pm exec "$name" echo hi 2>&1)"
  pm exec "$name" sh -c 'exit 7' >/dev/null 2>&1
  expect exec-exit-status 7 "$?"
  expect exec-user "1000 1000" "$(pm exec -u 1000:1000 "$name" sh -c 'echo $(id -u) $(id -g)' 2>&1)"
  expect exec-named-user "uid=1000(tester) gid=1000(tester)" "$(pm exec -u tester "$name" id 2>&1)"
  expect exec-workdir "/tmp" "$(pm exec -w /tmp "$name" pwd 2>&1)"
  expect exec-env "y z" "$(pm exec -e X=y -e Y=z "$name" sh -c 'echo "$X $Y"' 2>&1)"
  expect exec-stdin "piped" "$(echo piped | pm exec -i "$name" cat 2>&1)"
  expect_match exec-tty '^/dev/pts/[0-9]+' "$(pm exec -t "$name" tty </dev/null 2>&1 | tr -d '\r\0')"
  expect_match exec-it '/dev/pts/[0-9]+ .*stdin-is-tty' \
    "$(in_pty "podman --runtime $RT exec -it $name sh -c 'tty; test -t 0 && echo stdin-is-tty'")"
  expect exec-not-found 127 "$(pm exec "$name" /no/such/binary >/dev/null 2>&1; echo $?)"
  pm exec -d "$name" sh -c 'echo done >/tmp/detached-exec' >/dev/null 2>&1
  exec_done() { [ "$(pm exec "$name" cat /tmp/detached-exec 2>/dev/null)" = done ]; }
  if until_true 20 exec_done; then pass exec-detached; else fail exec-detached "no /tmp/detached-exec"; fi

  # rm -f of a running container: gone from podman, from berth's state and from the host.
  local out
  if out=$(pm rm -f -t 0 "$name" 2>&1) && ! pm container exists "$name" && [ ! -d "/run/berth/$cid" ] \
    && ! kill -0 "$pid" 2>/dev/null; then
    pass rm-force-running
  else
    fail rm-force-running "$out" "state dir: $(ls -d "/run/berth/$cid" 2>&1)" "pid $pid: $(ps -o pid,stat,cmd -p "$pid" 2>&1)"
  fi
}

kill_default() {
  # podman kill sends SIGKILL by default: 128 + 9.
  run_detached kill-default "$IMG" sleep 1000 || return
  local name=$N out
  pm kill "$name" >/dev/null 2>&1
  expect kill-default-137 137 "$(pm wait "$name" 2>&1)"
  expect inspect-exit-code 137 "$(state_of "$name" '{{.State.ExitCode}}')"
  if out=$(pm rm "$name" 2>&1) && ! pm container exists "$name"; then pass rm-stopped; else fail rm-stopped "$out"; fi
}

kill_signal() {
  # A signal reaches the container's init, which traps it.
  run_detached kill-signal "$IMG" sh -c \
    'trap "echo got-usr1; exit 5" USR1; echo ready; while :; do sleep 1 & wait $!; done' || return
  local name=$N out
  until_true 20 logs_have "$name" ready
  pm kill -s USR1 "$name" >/dev/null 2>&1
  out=$(pm wait "$name" 2>&1)
  if [ "$out" = 5 ] && logs_have "$name" got-usr1; then pass kill-signal-trapped
  else fail kill-signal-trapped "wait: $out" "logs: $(pm logs "$name" 2>&1)"; fi
}

# stop_case NAME TIMEOUT MIN-MS MAX-MS EXIT-CODE SCRIPT: podman stop -t TIMEOUT of a container
# running SCRIPT (which prints "ready") takes MIN-MS to MAX-MS and ends with EXIT-CODE.
stop_case() {
  local case=$1 timeout=$2 min=$3 max=$4 want=$5 script=$6
  run_detached "$case" "$IMG" sh -c "$script" || return
  local name=$N out t0 t1 code
  until_true 20 logs_have "$name" ready
  t0=$(now_ms)
  out=$(pm stop -t "$timeout" "$name" 2>&1)
  t1=$(now_ms)
  code=$(state_of "$name" '{{.State.ExitCode}}')
  if [ $((t1 - t0)) -ge "$min" ] && [ $((t1 - t0)) -lt "$max" ] && [ "$code" = "$want" ]; then pass "$case"
  else fail "$case" "stop -t $timeout took $((t1 - t0)) ms (want $min to $max): $out" \
    "exit code $code (want $want)" "logs: $(pm logs "$name" 2>&1)"; fi
}

stops() {
  # A container that exits on TERM stops at once; one that ignores TERM is killed after -t.
  stop_case stop-graceful 30 0 10000 0 \
    'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 1 & wait $!; done'
  stop_case stop-sigkill-fallback 2 1900 20000 137 \
    'trap "" TERM; echo ready; while :; do sleep 1; done'
}

wait_status() {
  # wait gives the exit status of a container that ends on its own.
  run_detached wait "$IMG" sh -c 'sleep 1; exit 42' || return
  expect wait-exit-status 42 "$(pm wait "$N" 2>&1)"
}

restart_case() {
  # restart: a new init process in a container that berth creates again.
  run_detached restart "$IMG" sh -c 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done' || return
  local name=$N cid=$CID pid1 pid2 out creates
  pid1=$(state_of "$name" '{{.State.Pid}}')
  out=$(pm restart -t 10 "$name" 2>&1)
  pid2=$(state_of "$name" '{{.State.Pid}}')
  creates=$(grep -Ec "(^| )create .*$cid\$" "$wrapdir/argv.log")
  if [ "$(state_of "$name" '{{.State.Running}}')" = true ] && [ "$pid1" != "$pid2" ] && [ "$creates" -ge 2 ]; then
    pass restart
  else
    fail restart "$out" "pids $pid1 -> $pid2, berth create calls: $creates"
  fi
}

pause_resume() {
  # A counter in the container's root file system, read from the host through the merged dir.
  # (rename: a reader never sees a half-written file)
  run_detached pause "$IMG" sh -c \
    'i=0; while :; do i=$((i+1)); echo $i >/tmp/c; mv /tmp/c /tmp/count; sleep 0.05; done' || return
  local name=$N merged
  merged=$(state_of "$name" '{{.GraphDriver.Data.MergedDir}}')
  until_true 20 test -s "$merged/tmp/count"
  local out
  out=$(pm pause "$name" 2>&1) || { fail pause "$out"; return; }
  expect pause-state paused "$(state_of "$name" '{{.State.Status}}')"
  local pid freezer frozen=""
  pid=$(state_of "$name" '{{.State.Pid}}')
  if $cgroup2; then
    freezer=/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' "/proc/$pid/cgroup")/cgroup.freeze
    frozen=$(cat "$freezer" 2>&1)
    expect pause-cgroup-frozen 1 "$frozen"
  else
    freezer=/sys/fs/cgroup/freezer$(awk -F: '$2 == "freezer" {print $3}' "/proc/$pid/cgroup")/freezer.state
    frozen=$(cat "$freezer" 2>&1)
    expect pause-cgroup-frozen FROZEN "$frozen"
  fi
  local c1 c2
  c1=$(cat "$merged/tmp/count")
  sleep 0.5  # long enough for ten increments, were the counter running
  c2=$(cat "$merged/tmp/count")
  expect pause-counter-stops "$c1" "$c2"
  out=$(pm unpause "$name" 2>&1) || fail unpause "$out"
  expect unpause-state running "$(state_of "$name" '{{.State.Status}}')"
  counter_moved() { [ "$(cat "$merged/tmp/count")" != "$c2" ]; }
  if until_true 10 counter_moved; then pass unpause-counter-runs; else fail unpause-counter-runs "still $c2"; fi
}

# cg_read V1-CONTROLLER V1-FILE V2-FILE: in-container script printing a cgroup file of its own.
cg_read() {
  if $cgroup2; then echo "cat /sys/fs/cgroup/$3"; else echo "cat /sys/fs/cgroup/$1/$2"; fi
}

limits() {
  local cpu_re='^50000$'
  $cgroup2 && cpu_re='^50000 100000$'
  case_run memory-limit '^67108864$' --memory 64m "$IMG" sh -c "$(cg_read memory memory.limit_in_bytes memory.max)"
  case_run cpus-quota "$cpu_re" --cpus 0.5 "$IMG" sh -c "$(cg_read cpu cpu.cfs_quota_us cpu.max)"
  case_run pids-limit '^50$' --pids-limit 50 "$IMG" sh -c "$(cg_read pids pids.max pids.max)"
  # An explicit --ulimit replaces containers.conf's default_ulimits, and podman adds its own nproc
  # of 1048576 back, which the runtime may not set here: give nproc too.
  case_run ulimit-nofile '^100 100$' --ulimit nofile=100:100 --ulimit "nproc=$hard_nproc:$hard_nproc" \
    "$IMG" sh -c 'echo $(ulimit -n) $(ulimit -Hn)'
}

more_options() {
  # Options that reach other parts of the config: user namespace, cpuset, memory reservation,
  # OOM score, supplementary groups, /dev/shm size, a named volume.
  case_run userns-uidmap '^ +0 +100000 +65536 0 written$' --uidmap 0:100000:65536 --gidmap 0:100000:65536 \
    "$IMG" sh -c 'echo -n "$(cat /proc/self/uid_map) $(id -u) "; touch /tmp/x && echo written'
  case_run cpuset-cpus '^0$' --cpuset-cpus 0 "$IMG" sh -c "$(cg_read cpuset cpuset.cpus cpuset.cpus)"
  case_run memory-reservation '^33554432$' --memory-reservation 32m "$IMG" \
    sh -c "$(cg_read memory memory.soft_limit_in_bytes memory.low)"
  case_run oom-score-adj '^100$' --oom-score-adj 100 "$IMG" cat /proc/self/oom_score_adj
  case_run group-add '^uid=1000\(tester\) gid=1000\(tester\) groups=42,1000\(tester\)$' \
    --group-add 42 --user 1000 "$IMG" id
  case_run shm-size '^shm /dev/shm tmpfs .*size=10240k' --shm-size 10m "$IMG" grep /dev/shm /proc/mounts
  case_run named-volume '^kept$' -v "$prefix-vol:/v" "$IMG" sh -c 'echo kept >/v/f && cat /v/f'
  case_run named-volume-again '^kept$' -v "$prefix-vol:/v" "$IMG" cat /v/f
}

podman_update() {
  # podman update rewrites the limits of a running container (berth update).
  if ! pm update --help >/dev/null 2>&1; then
    skip podman-update "this podman has no update command"; return
  fi
  run_detached podman-update --memory 64m --cpus 0.5 "$IMG" sleep 1000 || return
  local name=$N out mem cpu
  out=$(pm update --memory 128m --cpus 1 "$name" 2>&1) || fail podman-update "$out"
  mem=$(pm exec "$name" sh -c "$(cg_read memory memory.limit_in_bytes memory.max)" 2>&1)
  cpu=$(pm exec "$name" sh -c "$(cg_read cpu cpu.cfs_quota_us cpu.max)" 2>&1)
  expect podman-update-memory 134217728 "$mem"
  if $cgroup2; then expect podman-update-cpus "100000 100000" "$cpu"; else expect podman-update-cpus 100000 "$cpu"; fi
  pm rm -f -t 0 "$name" >/dev/null 2>&1
}

oom_kill() {
  # The OOM killer ends a container that outgrows --memory (no swap: --memory-swap equal). conmon
  # 2.1.6 flags the kill by creating "oom" in its working directory, which it inherits from podman,
  # and podman 4.3 looks for that file in the container's bundle (StaticDir): start it from there.
  next_name
  local name=$N out rc bundle
  if ! out=$(pm create --name "$name" --memory 20m --memory-swap 20m "$IMG" \
    sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived ${#x}' 2>&1); then
    fail oom-exit-137 "podman create: $out"; return
  fi
  bundle=$(state_of "$name" '{{.StaticDir}}')
  out=$(cd "$bundle" && pm start -a "$name" 2>&1); rc=$?
  if [ "$rc" = 137 ]; then pass oom-exit-137; else fail oom-exit-137 "status $rc" "$out"; fi
  expect oom-killed-reported true "$(state_of "$name" '{{.State.OOMKilled}}')"
  pm rm -f "$name" >/dev/null 2>&1
}

terminals() {
  local out
  next_name
  out=$(pm run --rm -t --name "$N" "$IMG" tty </dev/null 2>&1 | tr -d '\r\0')
  expect_match run-tty '^/dev/pts/[0-9]+' "$out"
  next_name
  out=$(in_pty "podman --runtime $RT run --rm -it --name $N $IMG sh -c 'tty; test -t 0 && echo stdin-is-tty'")
  expect_match run-it '/dev/pts/[0-9]+ .*stdin-is-tty' "$out"
}

users_and_fs() {
  case_run user-numeric '^uid=1000(\(tester\))? gid=1000(\(tester\))?' --user 1000:1000 "$IMG" id
  case_run user-named '^uid=1000\(tester\) gid=1000\(tester\)' --user tester "$IMG" id
  case_run read-only '^root-ro tmp-rw$' --read-only "$IMG" sh -c \
    'touch /x 2>/dev/null && echo -n "root-rw " || echo -n "root-ro "; touch /tmp/x && echo tmp-rw'
  mkdir -p "$work/bind"
  echo host-file >"$work/bind/in"
  case_run bind-mount '^host-file$' -v "$work/bind:/data" "$IMG" sh -c 'cat /data/in; echo from-ctr >/data/out'
  expect bind-mount-write-back from-ctr "$(cat "$work/bind/out" 2>&1)"
  case_run bind-mount-ro '^ro-refused host-file$' -v "$work/bind:/data:ro" "$IMG" sh -c \
    'touch /data/x 2>/dev/null && echo ro-allowed || echo -n "ro-refused "; cat /data/in'
  case_run tmpfs '^tmpfs /scratch tmpfs .*written$' --tmpfs /scratch:size=1m "$IMG" sh -c \
    'echo written >/scratch/f; grep " /scratch " /proc/mounts | tr "\n" " "; cat /scratch/f'
}

privileged_ok() {  # privileged_ok OUTPUT HOSTDEV
  local eff bnd
  eff=$(printf '%s\n' "$1" | awk '/^CapEff/ {print $2}')
  bnd=$(printf '%s\n' "$1" | awk '/^CapBnd/ {print $2}')
  [[ $eff =~ ^[0-9a-f]+$ ]] && [ "$eff" = "$bnd" ] && (((0x$eff >> 21) & 1)) \
    && { [ -z "$2" ] || printf '%s\n' "$1" | grep -qx -- "$2"; }
}

devices_and_caps() {
  case_run device-added '^1,3 ok$' --device /dev/null:/dev/mynull "$IMG" sh -c \
    'echo x >/dev/mynull && echo "$(stat -c %t,%T /dev/mynull) ok"'
  # /dev/mem (1,1) is not in the device cgroup's allow list: the node can be made, not opened.
  case_run device-cgroup-deny '^head: /tmp/mem: Operation not permitted$' "$IMG" sh -c \
    'mknod /tmp/mem c 1 1 || exit 1; head -c 1 /tmp/mem && echo opened; exit 0'
  case_run cap-default-chown '^chowned$' "$IMG" sh -c 'touch /tmp/f && chown 1000 /tmp/f && echo chowned'
  case_run cap-drop-chown '^refused$' --cap-drop CHOWN "$IMG" sh -c \
    'touch /tmp/f; chown 1000 /tmp/f 2>/dev/null && echo chowned || echo refused'
  # CAP_NET_ADMIN is bit 12 of CapEff.
  local out eff
  next_name
  out=$(pm run --rm --name "$N" --cap-add NET_ADMIN "$IMG" sh -c 'grep CapEff /proc/self/status' 2>&1)
  eff=$(echo "$out" | awk '{print $2}')
  if [[ $eff =~ ^[0-9a-f]+$ ]] && (((0x$eff >> 12) & 1)); then pass cap-add-net-admin
  else fail cap-add-net-admin "$out"; fi
  next_name
  out=$(pm run --rm --name "$N" "$IMG" sh -c 'grep CapEff /proc/self/status' 2>&1)
  eff=$(echo "$out" | awk '{print $2}')
  if [[ $eff =~ ^[0-9a-f]+$ ]] && ! (((0x$eff >> 12) & 1)); then pass cap-default-no-net-admin
  else fail cap-default-no-net-admin "$out"; fi

  # --privileged: every capability of the bounding set is effective, and /dev is the host's.
  local hostdev="" d
  for d in kmsg loop-control loop0 tty1 fuse; do
    if [ -c "/dev/$d" ] || [ -b "/dev/$d" ]; then hostdev=$d; break; fi
  done
  local priv=(--privileged "$IMG" sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status; ls /dev')
  next_name
  out=$(pm run --rm --name "$N" "${priv[@]}" 2>&1)
  if privileged_ok "$out" "$hostdev"; then
    pass privileged
  else
    local rout="(runc not installed)"
    $have_runc && rout=$(rpm run --rm --name "$N-runc" "${priv[@]}" 2>&1)
    if $have_runc && ! privileged_ok "$rout" "$hostdev"; then
      skip privileged "runc fails the same way on this host: $(printf '%s' "$rout" | tail -n 1)"
    else
      fail privileged "want CapEff = CapBnd with CAP_SYS_ADMIN, and the host's /dev/$hostdev" \
        "berth: $out" "runc: $(printf '%s' "$rout" | grep ^Cap | tr '\n' ' ')"
    fi
  fi
  case_run no-new-privileges '^NoNewPrivs:[[:space:]]+1$' --security-opt no-new-privileges "$IMG" \
    grep NoNewPrivs /proc/self/status
  case_run seccomp-default '^Seccomp:[[:space:]]+2$' "$IMG" grep '^Seccomp:' /proc/self/status
  case_run seccomp-unconfined '^Seccomp:[[:space:]]+0$' --security-opt seccomp=unconfined "$IMG" \
    grep '^Seccomp:' /proc/self/status
}

namespaces() {
  # netns "none" is a private network namespace with only lo, so net.* sysctls are allowed.
  case_run sysctl-net '^1$' --sysctl net.ipv4.ip_forward=1 "$IMG" cat /proc/sys/net/ipv4/ip_forward
  case_run sysctl-ipc '^65000$' --ipc private --sysctl kernel.msgmax=65000 "$IMG" cat /proc/sys/kernel/msgmax
  case_run network-none '^lo $' --network none "$IMG" sh -c \
    'ls /sys/class/net | tr "\n" " "'
  local host_ifs
  host_ifs=$(awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' /proc/net/dev | sort | tr '\n' ' ')
  case_run network-host "^$host_ifs\$" --network host "$IMG" sh -c \
    'awk -F: "NR > 2 {gsub(/ /, \"\", \$1); print \$1}" /proc/net/dev | sort | tr "\n" " "'
  local host_init
  host_init=$(cat /proc/1/comm)
  case_run pid-host "^$host_init\$" --pid host "$IMG" cat /proc/1/comm
  case_run pid-private '^sh 1$' "$IMG" sh -c 'echo "$(cat /proc/1/comm) $$"'
  case_run cgroupns-private '^all-root$' --cgroupns private "$IMG" sh -c \
    'grep -v ":/$" /proc/self/cgroup || echo all-root'
  case_run uts-hostname '^ctr-host$' --hostname ctr-host "$IMG" hostname
}

hooks() {
  # OCI hooks from a --hooks-dir. berth runs prestart, createRuntime (both in create) and poststart
  # (in start); podman keeps poststop for itself and runs it on cleanup. Each hook records its stage,
  # the container id from the state on stdin and the command of the process that ran it.
  local hd=$work/hooks out
  mkdir -p "$hd"
  cat >"$work/hook.sh" <<EOF
#!/bin/sh
id=\$(sed -n 's/.*"id" *: *"\\([0-9a-f]*\\)".*/\\1/p')
echo "\$1 \$id \$(cat /proc/\$PPID/comm)" >>'$work/hooks.log'
EOF
  chmod 755 "$work/hook.sh"
  : >"$work/hooks.log"
  local stage
  for stage in prestart createRuntime poststart poststop; do
    cat >"$hd/$stage.json" <<EOF
{"version": "1.0.0", "hook": {"path": "$work/hook.sh", "args": ["hook.sh", "$stage"]},
 "when": {"always": true}, "stages": ["$stage"]}
EOF
  done
  next_name
  out=$(pm --hooks-dir "$hd" run --name "$N" "$IMG" echo hooked 2>&1)
  local id
  id=$(state_of "$N" '{{.Id}}')
  pm rm "$N" >/dev/null 2>&1
  expect hooks-container-ran hooked "$out"
  for stage in prestart createRuntime poststart; do
    if grep -qx "$stage $id berth" "$work/hooks.log"; then pass "hook-$stage"
    else fail "hook-$stage" "want \"$stage $id berth\" in hooks.log:" "$(cat "$work/hooks.log")"; fi
  done
  if grep -qx "poststop $id podman" "$work/hooks.log"; then pass hook-poststop-by-podman
  else fail hook-poststop-by-podman "want \"poststop $id podman\" in hooks.log:" "$(cat "$work/hooks.log")"; fi
}

systemd_cgroup() {
  # podman's systemd cgroup manager: berth gets --systemd-cgroup and asks systemd for the scope.
  if [ ! -d /run/systemd/system ]; then
    skip systemd-cgroup-manager "PID 1 is not systemd (no /run/systemd/system): the systemd cgroup manager needs it"
    return
  fi
  next_name
  local name=$N out id pid
  if ! out=$(pm --cgroup-manager systemd run -d --name "$name" "$IMG" sleep 1000 2>&1); then
    fail systemd-cgroup-manager "$out"; return
  fi
  id=$out
  pid=$(pm --cgroup-manager systemd inspect --format '{{.State.Pid}}' "$name" 2>&1)
  out=$(cat "/proc/$pid/cgroup" 2>&1)
  if grep -q -- "libpod-$id.scope" <<<"$out" \
    && grep -E "(^| )create .*$id\$" "$wrapdir/argv.log" | grep -q -- --systemd-cgroup; then
    pass systemd-cgroup-manager
  else
    fail systemd-cgroup-manager "/proc/$pid/cgroup of container $id:" "$out" \
      "berth calls: $(grep -- "$id" "$wrapdir/argv.log" | cut -c1-200)"
  fi
  pm --cgroup-manager systemd rm -f -t 0 "$name" >/dev/null 2>&1
}

# podman container checkpoint, then restore (conmon runs `berth restore`): the process goes on
# counting from where it was. CRIU must work on this kernel (the VM lane's Debian 6.1 does).
checkpoint_restore() {
  local err
  if ! command -v criu >/dev/null; then skip checkpoint-restore "criu is not installed"; return; fi
  if ! err=$(criu check 2>&1); then
    skip checkpoint-restore "criu check fails on this kernel ($(tail -n1 <<<"$err")); the VM lane runs it"; return
  fi
  run_detached checkpoint-restore "$IMG" sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/count; sleep 0.1; done' \
    || return
  local name=$N out v
  count() { v=$(pm exec "$name" cat /tmp/count 2>/dev/null); echo "${v:-0}"; }
  reached() { [ "$(count)" -ge "$1" ]; }
  if ! until_true 20 reached 20; then
    fail checkpoint-restore "the counter did not reach 20: $(count)"; pm rm -f -t 0 "$name" >/dev/null 2>&1; return
  fi
  if ! out=$(pm container checkpoint "$name" 2>&1); then
    fail checkpoint-restore "podman container checkpoint" "$out"; pm rm -f -t 0 "$name" >/dev/null 2>&1; return
  fi
  local st; st=$(state_of "$name" '{{.State.Status}}')
  if ! out=$(pm container restore "$name" 2>&1); then
    fail checkpoint-restore "podman container restore (status after checkpoint: $st)" "$out"
    pm rm -f -t 0 "$name" >/dev/null 2>&1; return
  fi
  # A container started afresh would count from 1 again within 0.1 s.
  sleep 1
  v=$(count)
  st="$st -> $(state_of "$name" '{{.State.Status}}')"
  if [ "$v" -ge 20 ] && [ "$st" = "exited -> running" ]; then pass checkpoint-restore
  else fail checkpoint-restore "status $st, count after restore: $v (want >= 20)"; fi
  pm rm -f -t 0 "$name" >/dev/null 2>&1
}

# Every container podman created through the wrapper reached berth's create, and berth's state
# of each is gone once podman removed them.
final_checks() {
  local out
  out=$(pm rm -f -a -t 0 2>&1) || fail rm-all "$out"
  local ids missing="" id name
  ids=$(jq -r --arg p "$prefix-" 'select(.Type == "container" and .Status == "init"
      and (.Name | startswith($p)) and (.Name | endswith("-runc") | not)) | "\(.ID) \(.Name)"' \
      "$work/events.log" | sort -u)
  local n=0
  while read -r id name; do
    [ -n "$id" ] || continue
    n=$((n + 1))
    ran_through_berth "$wrapdir" "$id" || missing="$missing $name($id)"
  done <<<"$ids"
  echo "# podman created $n containers through the wrapper"
  if [ "$n" -gt 0 ] && [ -z "$missing" ]; then pass all-containers-through-berth
  else fail all-containers-through-berth "containers: $n; not created by berth:$missing"; fi
  local left="" undeleted=""
  for id in $(created_ids); do
    [ -e "/run/berth/$id" ] && left="$left $id"
    grep -Eq "(^| )delete .*$id\$" "$wrapdir/argv.log" || undeleted="$undeleted $id"
  done
  if [ -z "$undeleted" ]; then pass every-create-deleted; else fail every-create-deleted "never deleted:$undeleted"; fi
  if [ -z "$left" ]; then pass no-berth-state-left; else fail no-berth-state-left "left in /run/berth:$left"; fi
  local procs
  procs=$(pgrep -af -- "$work/")
  if [ -z "$procs" ]; then pass no-conmon-left; else fail no-conmon-left "$procs"; fi
  # berth delete removed each container's cgroup (podman's own libpod_parent stays).
  local cgs
  cgs=$(find /sys/fs/cgroup -maxdepth 5 -type d -name 'libpod-*' 2>/dev/null | grep -F -f <(created_ids))
  if [ -z "$cgs" ]; then pass no-cgroup-left; else fail no-cgroup-left "$cgs"; fi
}

basics
lifecycle
kill_default
kill_signal
stops
wait_status
restart_case
pause_resume
limits
more_options
podman_update
oom_kill
terminals
users_and_fs
devices_and_caps
namespaces
hooks
checkpoint_restore
systemd_cgroup
final_checks
finish
