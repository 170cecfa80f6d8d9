#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - the end-to-end suite: runs every tests/e2e/test_*.sh (each builds
# and removes its own network namespaces) and prints "PASS name",
# "FAIL name" (with the test's output) or "SKIP name: reason".
# usage: tests/e2e/run.sh [test_name ...]
set -u
cd "$(dirname "$0")" || exit 1
tests=${*:-$(ls test_*.sh)}
rc=0
for t in $tests; do
	t=${t%.sh}
	out=$(mktemp)
	start=$(date +%s%N)
	bash "./$t.sh" >"$out" 2>&1
	st=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	if [ $st -eq 0 ]; then
		echo "PASS $t (${secs}s)"
	elif [ $st -eq 77 ]; then
		echo "SKIP $t: $(tail -n1 "$out")"
	else
		echo "FAIL $t (exit $st, ${secs}s)"
		sed 's/^/    /' "$out"
		rc=1
	fi
	rm -f "$out"
done
exit $rc
