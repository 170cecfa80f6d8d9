#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs each libFuzzer target for FUZZ_SECONDS (default 60), seeded from its
# seed directory and, for the reader, from the shared capture corpus. New
# crashes are written to tests/fuzz/crashes/<target>/ so `make test` replays
# them forever after (fix the bug, keep the input).
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
shared=${FC_SHARED:-$(pwd)/../shared}
rc=0
for t in "$@"; do
	work=build/fuzz/corpus/$t
	crashes=tests/fuzz/crashes/$t
	mkdir -p "$work" "$crashes"
	seeds=()
	[ -d "tests/fuzz/seeds/$t" ] && seeds+=("tests/fuzz/seeds/$t")
	if [ "$t" = fuzz_reader ] && [ -d "$shared/corpus" ]; then
		seeds+=("$shared/corpus/real" "$shared/corpus/malformed")
	fi
	echo "== $t for ${secs}s"
	if ! "build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$crashes/" "$work" "${seeds[@]}" 2>"build/fuzz/$t.log"; then
		echo "!! $t found a problem; see build/fuzz/$t.log and $crashes/"
		rc=1
	fi
	tail -n 2 "build/fuzz/$t.log"
done
exit $rc
