# Sourced by the engine suites (podman.sh, containerd.sh): counting, skips with reasons, the
# berth wrapper that proves an engine really called berth, and clean-up of what a suite started.
# A suite prints "ok NAME", "not ok NAME" (with details) or "skip NAME: REASON" per case and ends
# with one line "N passed, M failed, K skipped" (tests/run-all.sh adds it to the total).

ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$ENGINES_DIR/../.." && pwd)
# The berth binary under test: $BERTH, else the normal build.
BERTH=${BERTH:-$SRC_DIR/build/cmd/berth}
BERTH=$(readlink -f "$BERTH")

t_passed=0 t_failed=0 t_skipped=0
_cleanups=()

pass() { t_passed=$((t_passed + 1)); echo "ok $1"; }
fail() {  # fail NAME [DETAIL...]
  t_failed=$((t_failed + 1)); echo "not ok $1"
  shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /' | head -n 30
  return 0
}
skip() {  # skip NAME REASON: this host cannot do what the case needs
  t_skipped=$((t_skipped + 1)); echo "skip $1: $2"
  [ -n "${BERTH_SKIP_LOG:-}" ] && echo "$1: $2" >>"$BERTH_SKIP_LOG"
  return 0
}

# check NAME CMD...: passes when CMD exits 0; on failure shows its output.
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "exit status $?: $*" "$out"; fi
}

# expect NAME EXPECTED ACTUAL: exact comparison.
expect() {
  if [ "$2" = "$3" ]; then pass "$1"
  else fail "$1" "expected: $(printf %q "$2")" "actual:   $(printf %q "$3")"; fi
}

# expect_match NAME REGEX ACTUAL: extended regex match (grep -E) on the whole text.
expect_match() {
  if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"
  else fail "$1" "expected to match: $2" "actual: $3"; fi
}

# Run at exit in reverse order: stop what the suite started (by PID), remove its directories.
on_exit() { _cleanups+=("$*"); }
_run_cleanups() {
  local i
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" >/dev/null 2>&1 || true; done
}
finish() {
  _run_cleanups
  _cleanups=()
  echo "$t_passed passed, $t_failed failed, $t_skipped skipped"
  [ "$t_failed" = 0 ]
}
trap '_run_cleanups' EXIT
trap 'exit 130' INT TERM

# make_wrapper DIR: DIR/berth (and DIR/runc, for engines that find their runtime in PATH) log
# every call's argv to DIR/argv.log and exec the real berth.
make_wrapper() {
  local dir=$1
  mkdir -p "$dir"
  : >"$dir/argv.log"
  cat >"$dir/berth" <<WRAP
#!/bin/sh
printf '%s\n' "\$*" >>'$dir/argv.log'
exec '$BERTH' "\$@"
WRAP
  chmod 755 "$dir/berth"
  ln -sf berth "$dir/runc"
}

# ran_through_berth LOGDIR ID: berth was asked to create (or run/restore) container ID.
ran_through_berth() {
  grep -Eq "(^| )(create|run|restore) .*$2\$" "$1/argv.log"
}
