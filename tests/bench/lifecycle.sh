#!/bin/bash
# Benchmark (not a test): berth beside runc and crun, on the same busybox bundle.
#   tests/bench/lifecycle.sh [ROUNDS]   (as root, after a build in build/ or with $BERTH_BINARY;
#                                        apt-get install runc crun)
# Times `run` of /bin/true, create+start+delete and `exec /bin/true` for each runtime, interleaved round by round
# (this machine is shared and noisy), and prints the median and the ratio to berth.
# Every runtime runs behind the same wrapper: a private mount namespace with the cgroup2 mount
# of this hybrid host hidden, which crun 1.8.1 needs.
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-30}
berth=${BERTH_BINARY:-$(pwd)/build/cmd/berth}
[ -x "$berth" ] || { echo "build berth first: meson setup build && ninja -C build" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
contrib/busybox-bundle.sh "$work/bundle" "$berth"
sed -i 's/"sh"$/"\/bin\/true"/' "$work/bundle/config.json"
grep -q '"/bin/true"' "$work/bundle/config.json"
# crun 1.8.1 refuses ociVersion 1.3.0 ("unknown version specified"); all three take runc's.
sed -i 's/"ociVersion": "[^"]*"/"ociVersion": "1.0.2-dev"/' "$work/bundle/config.json"

runtimes=(berth)
command -v runc >/dev/null && runtimes+=(runc)
command -v crun >/dev/null && runtimes+=(crun)
declare -A bin=([berth]=$berth [runc]=$(command -v runc || true) [crun]=$(command -v crun || true))

wrap() {  # wrap RUNTIME ARGS...: the runtime in the shared wrapper, its own --root
  local rt=$1; shift
  unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh \
    "${bin[$rt]}" --root "$work/root-$rt" "$@"
}
now() { date +%s%N; }

# exec: each runtime's own long-running container, one `exec /bin/true` per round.
cp -a "$work/bundle" "$work/sleeper"
sed -i 's|"/bin/true"|"sleep", "100000"|' "$work/sleeper/config.json"
for rt in "${runtimes[@]}"; do wrap "$rt" run -d --bundle "$work/sleeper" "sleeper-$rt" >/dev/null; done

declare -A t_run t_csd t_exec
for i in $(seq 1 "$rounds"); do
  for rt in $(printf '%s\n' "${runtimes[@]}" | shuf); do
    id="b$i"
    a=$(now); wrap "$rt" run --bundle "$work/bundle" "$id-r" >/dev/null; b=$(now)
    wrap "$rt" delete -f "$id-r" >/dev/null 2>&1 || true
    t_run[$rt]+="$(( (b - a) / 1000 )) "
    a=$(now)
    wrap "$rt" create --bundle "$work/bundle" "$id-c" >/dev/null
    wrap "$rt" start "$id-c" >/dev/null
    wrap "$rt" delete -f "$id-c" >/dev/null
    b=$(now)
    t_csd[$rt]+="$(( (b - a) / 1000 )) "
    a=$(now); wrap "$rt" exec "sleeper-$rt" /bin/true; b=$(now)
    t_exec[$rt]+="$(( (b - a) / 1000 )) "
  done
done
for rt in "${runtimes[@]}"; do wrap "$rt" delete -f "sleeper-$rt" >/dev/null 2>&1 || true; done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-28s' "median over $rounds rounds"; for rt in "${runtimes[@]}"; do printf '%14s' "$rt"; done; echo
for op in run csd exec; do
  label="run /bin/true"; [ $op = csd ] && label="create+start+delete"; [ $op = exec ] && label="exec /bin/true"
  declare -n tab="t_$op"
  base=$(echo "${tab[berth]}" | median)
  printf '%-28s' "$label (ms)"
  for rt in "${runtimes[@]}"; do m=$(echo "${tab[$rt]}" | median); printf '%14s' "$(awk "BEGIN{printf \"%.2f\", $m/1000}")"; done; echo
  printf '%-28s' "  ratio to berth"
  for rt in "${runtimes[@]}"; do m=$(echo "${tab[$rt]}" | median); printf '%14s' "$(awk "BEGIN{printf \"%.2fx\", $m/$base}")"; done; echo
done
