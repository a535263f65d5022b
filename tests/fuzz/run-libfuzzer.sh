#!/bin/sh
# Builds tests/fuzz/config_fuzz.cpp with clang++ and libFuzzer (plus ASan and
# UBSan) and runs it for a bounded number of inputs over the seed corpus
# (tests/fixtures and, when present beside the checkout, the runtime-spec test
# vectors), in a temporary directory.
#
#   tests/fuzz/run-libfuzzer.sh [RUNS]        (default 50000; env CLANGXX picks the compiler)
#
# Exit status: 0 no finding, 77 clang++/libFuzzer not available (skip), other:
# a finding (the temporary directory with the crashing input is kept) or a
# build failure.
set -eu

runs=${1:-50000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cxx=${CLANGXX:-clang++}

if ! command -v "$cxx" >/dev/null 2>&1; then
	echo "run-libfuzzer: skipped: $cxx not found (install clang to fuzz with libFuzzer)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-libfuzzer.XXXXXX")
keep=0
cleanup() { if [ "$keep" = 0 ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT

# Does this clang have libFuzzer and the sanitizers runtimes?
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$tmp/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$tmp/probe.cpp" -o "$tmp/probe" >"$tmp/probe.log" 2>&1; then
	echo "run-libfuzzer: skipped: $cxx cannot link -fsanitize=fuzzer,address,undefined:"
	sed 's/^/  /' "$tmp/probe.log" | head -5
	exit 77
fi

echo "run-libfuzzer: building with $cxx"
# shellcheck disable=SC2046 # one word per source file is intended
"$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$root" $(ls "$root"/oci/*.cpp) "$here/config_fuzz.cpp" \
	-lboost_json -lfmt -o "$tmp/config-fuzz"

mkdir "$tmp/corpus" "$tmp/artifacts"
n=0
for f in "$root"/tests/fixtures/*.json "$root"/tests/fixtures/runtime-spec/*/*.json; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	cp "$f" "$tmp/corpus/seed-$n.json"
done
echo "run-libfuzzer: $n seed files, $runs runs"

status=0
"$tmp/config-fuzz" -runs="$runs" -seed=1 -max_len=262144 -timeout=20 -rss_limit_mb=4096 \
	-print_final_stats=1 -artifact_prefix="$tmp/artifacts/" "$tmp/corpus" || status=$?
if [ "$status" != 0 ]; then
	keep=1
	echo "run-libfuzzer: FINDING (exit $status); reproducer kept in $tmp/artifacts/"
	exit "$status"
fi
echo "run-libfuzzer: no finding"
