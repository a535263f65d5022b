#!/bin/bash
# Installs what the tests need, builds berth twice (a normal build for the binary and the
# integration tests, an address+undefined sanitizer build for the unit tests and the fuzzer),
# runs every suite and ends with one line: "N passed, M failed, K skipped".
#   tests/run-all.sh [--no-install]
set -u
cd "$(dirname "$0")/.." || exit 2
src=$(pwd)

if [ "${1:-}" != "--no-install" ]; then
  contrib/install-deps.sh --tests || { echo "run-all: installing dependencies failed" >&2; exit 2; }
fi

setup() {  # setup DIR [meson args...]
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
  else meson setup "$dir" "$@" >/dev/null; fi
}
setup build || { echo "run-all: meson setup build failed" >&2; exit 2; }
ninja -C build >/dev/null || { ninja -C build; echo "run-all: build failed" >&2; exit 2; }
setup build-san -Db_sanitize=address,undefined -Db_lundef=false -Dman=disabled -Dstatic_link=false \
  || { echo "run-all: meson setup build-san failed" >&2; exit 2; }
ninja -C build-san tests/unit-tests tests/fuzz/fuzz-config >/dev/null \
  || { ninja -C build-san tests/unit-tests tests/fuzz/fuzz-config; echo "run-all: sanitizer build failed" >&2; exit 2; }

passed=0 failed=0 skipped=0
report() {  # report SUITE PASSED FAILED SKIPPED
  printf '%-12s %s passed, %s failed, %s skipped\n' "$1:" "$2" "$3" "$4"
  passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
}

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1

# A Catch2 binary: counts test cases from its XML report. Tests that skip themselves (this
# host cannot do what they need) append "name: reason" to $BERTH_SKIP_LOG and pass; they are
# counted as skipped and their reasons printed. With --vm the binary runs in the cgroup v2 guest
# of tests/vm (its report directory is shared with the guest, whose /tmp is its own).
catch2_suite() {  # catch2_suite NAME [--vm] BINARY [args...]
  local name=$1; shift
  local runner=()
  local d
  d=$(mktemp -d)
  if [ "$1" = --vm ]; then
    shift
    runner=(tests/vm/run-in-vm.sh --timeout 2400 --share "$d" --)
  fi
  local bin=$1; shift
  local xml=$d/report.xml skiplog=$d/skip
  : >"$skiplog"
  BERTH_SKIP_LOG=$skiplog "${runner[@]}" "$bin" -r xml -o "$xml" "$@"
  local rc=$?
  local ok bad
  ok=$(sed -n 's/.*<OverallResultsCases successes="\([0-9]*\)" failures="\([0-9]*\)".*/\1/p' "$xml" 2>/dev/null | tail -n1)
  bad=$(sed -n 's/.*<OverallResultsCases successes="\([0-9]*\)" failures="\([0-9]*\)".*/\2/p' "$xml" 2>/dev/null | tail -n1)
  if [ -z "$ok" ]; then
    echo "$name: no result (exit status $rc); the binary crashed or was killed" >&2
    ok=0 bad=1
  else
    # The failing assertions, from the report itself (a rerun could pass and show nothing).
    [ "$bad" != 0 ] && awk '/<TestCase /{buf=""; keep=0} {buf=buf $0 "\n"} /success="false"/{keep=1}
      /<\/TestCase>/{if (keep) printf "%s", buf}' "$xml" | head -n 80
    [ "$rc" != 0 ] && [ "$bad" = 0 ] && { echo "$name: exit status $rc with no failed case (sanitizer report?)" >&2; bad=1; }
  fi
  local sk
  sk=$(sort -u "$skiplog" | wc -l)
  sort -u "$skiplog" | sed "s/^/  skipped: /"
  report "$name" $((ok - sk)) "$bad" "$sk"
  rm -rf "$d"
}

simple_suite() {  # simple_suite NAME CMD...: exit 0 pass, 77 skip, else fail
  local name=$1; shift
  local out rc
  out=$("$@" 2>&1); rc=$?
  case $rc in
    0) report "$name" 1 0 0 ;;
    77) echo "$out" | tail -n 3 | sed 's/^/  skipped: /'; report "$name" 0 0 1 ;;
    *) echo "$out" | tail -n 40; report "$name" 0 1 0 ;;
  esac
}

# An engine suite (tests/engines/*.sh) prints ok / not ok / skip lines and ends with its own
# "N passed, M failed, K skipped" line.
counted_suite() {  # counted_suite NAME CMD...
  local name=$1; shift
  local out line p f k
  out=$("$@" 2>&1)
  echo "$out" | awk '/^not ok /{show=1} /^(ok|skip) /{show=0} show' | head -n 120
  echo "$out" | grep -E '^skip ' | sed 's/^skip /  skipped: /'
  line=$(echo "$out" | tail -n1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1/p')
  f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\2/p')
  k=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\3/p')
  [ -n "$p" ] || { echo "$out" | tail -n 20; echo "$name: no summary line (crashed?)" >&2; p=0 f=1 k=0; }
  report "$name" "$p" "$f" "$k"
}

catch2_suite unit build-san/tests/unit-tests
simple_suite fuzz build-san/tests/fuzz/fuzz-config --iterations "${BERTH_FUZZ_ITERATIONS:-20000}" \
  "$src/tests/fixtures"
simple_suite libfuzzer tests/fuzz/run-libfuzzer.sh
if [ "$(id -u)" = 0 ]; then
  catch2_suite integration build/tests/integration/integration-tests
  # Pure cgroup v2 is not available on every host: the cgroup tests run again in a guest with
  # Debian's 6.1 kernel and cgroup2 only (tests/vm/README.md).
  simple_suite vm-lane tests/vm/selftest.sh
  catch2_suite cgroup-v2 --vm build/tests/integration/integration-tests "[cgroup]"
  # AppArmor is enabled in the guest (Debian's 6.1 kernel): the [lsm] profile cases run there.
  catch2_suite lsm-vm --vm build/tests/integration/integration-tests "[lsm]"
  # CRIU 3.17 fails on some kernels (6.18: its vDSO parsing): checkpoint/restore run where it
  # works, in the guest; on this host the [criu] cases in `integration` test what berth says.
  catch2_suite criu-vm --vm build/tests/integration/integration-tests "[criu]"
  # Real engines drive berth: podman (through conmon) and containerd (through its runc shim).
  counted_suite podman tests/engines/podman.sh
  counted_suite containerd tests/engines/containerd.sh
else
  echo "  skipped: integration: needs root (runs real containers)"; report integration 0 0 1
  echo "  skipped: podman, containerd: need root (run real engines)"; report engines 0 0 2
fi

# The docs check prints its own "N passed, M failed" line.
docs_out=$(tests/docs/check-docs.sh build/cmd/berth 2>&1)
echo "$docs_out" | grep -E '^not ok' || true
docs_line=$(echo "$docs_out" | tail -n1)
dp=$(echo "$docs_line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
df=$(echo "$docs_line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
[ -n "$dp" ] || { echo "$docs_out" | tail -n 20; dp=0 df=1; }
report docs "$dp" "$df" 0

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
