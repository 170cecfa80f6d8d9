#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The whole test suite, against the ASan+UBSan build (build/asan). Every
# suite prints "PASS name" / "FAIL name" lines; this script counts them and
# ends with "N passed, N failed". Usage: tests/run.sh [unit|bpf|fuzz|golden|corpus|oracle|e2e ...]
set -u
cd "$(dirname "$0")/.."
export FC_SHARED=${FC_SHARED:-$(cd .. && pwd)/shared}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
suites=${*:-unit bpf fuzz golden corpus oracle e2e}
mkdir -p build
# A private log per run (concurrent runs must not truncate each other's);
# the last run's log is kept as build/test-log.txt.
log=$(mktemp build/test-log.XXXXXX)
trap 'mv -f "$log" build/test-log.txt 2>/dev/null' EXIT

run_suite() {	# name, command...
	local name=$1
	shift
	echo "== $name" | tee -a "$log"
	"$@" 2>&1 | tee -a "$log" | grep -E '^(PASS|FAIL|SKIP) ' || true
}

unit() {
	local t
	for t in build/asan/tests/test_*; do
		[ -x "$t" ] || continue
		if ! "$t" >"build/$(basename "$t").out" 2>&1; then
			grep -q '^FAIL ' "build/$(basename "$t").out" ||
				echo "FAIL $(basename "$t") (exit status, see build/$(basename "$t").out)"
		fi
		cat "build/$(basename "$t").out"
	done
}

# BPF_PROG_TEST_RUN tests of the bypass programs (root; they print SKIP otherwise).
bpf_tests() {
	local t
	for t in build/asan/tests/bpf_test_*; do
		[ -x "$t" ] || continue
		"$t" || echo "FAIL $(basename "$t") (exit status)"
	done
}

fuzz_replay() {
	local t name dirs
	for t in build/asan/tests/replay_fuzz_*; do
		[ -x "$t" ] || continue
		name=${t#build/asan/tests/replay_}
		dirs=()
		for d in "tests/fuzz/seeds/$name" "tests/fuzz/crashes/$name"; do
			[ -d "$d" ] && dirs+=("$d")
		done
		if [ ${#dirs[@]} -eq 0 ]; then
			echo "FAIL replay_$name (no saved inputs)"
		elif "$t" "${dirs[@]}"; then
			echo "PASS replay_$name"
		else
			echo "FAIL replay_$name"
		fi
	done
}

for s in $suites; do
	case $s in
	unit) run_suite unit unit ;;
	bpf) run_suite bpf bpf_tests ;;
	fuzz) run_suite fuzz-replay fuzz_replay ;;
	golden) run_suite golden tests/decode/check_golden.sh ;;
	corpus) run_suite corpus python3 tests/corpus/check_corpus.py ;;
	oracle) run_suite oracle python3 tests/corpus/oracle_tshark.py ;;
	e2e) [ -x tests/e2e/run.sh ] && run_suite e2e tests/e2e/run.sh ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done

pass=$(grep -c '^PASS ' "$log")
fail=$(grep -c '^FAIL ' "$log")
if [ "$fail" -gt 0 ]; then
	echo "failures:"
	grep '^FAIL ' "$log"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
