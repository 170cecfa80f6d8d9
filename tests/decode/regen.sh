#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# tests/decode/regen.sh - `make golden`: rebuilds the golden decode captures
# and their expected outputs.
#
#   1. tests/decode/make_golden.py writes every capture into tests/decode/pcaps/
#      (deterministic: unchanged generator, unchanged bytes);
#   2. build/flowcut reads each capture in tests/decode/pcaps/ (also any
#      hand-added .pcap/.pcapng there) and writes
#        tests/decode/expected/NAME.json        the flow records
#        tests/decode/expected/NAME.stats.json  the final counters
#      with the extra arguments in tests/decode/expected/NAME.args, if any
#      (the same ones tests/decode/check_golden.sh passes).
#
# Run it only after a deliberate decoder or output change, then review
# `git diff tests/decode/` like code: the diff is the behaviour change.
#
# usage: tests/decode/regen.sh [NAME ...]    (default: all captures)
#   env FLOWCUT=path  binary to use (default build/flowcut)
set -euo pipefail
cd "$(dirname "$0")/../.."

FLOWCUT=${FLOWCUT:-build/flowcut}
PCAPS=tests/decode/pcaps
EXPECTED=tests/decode/expected

python3 tests/decode/make_golden.py "$PCAPS" "$@"

if [ ! -x "$FLOWCUT" ]; then
	echo "regen.sh: $FLOWCUT is not built (run make); captures regenerated, expected outputs not" >&2
	exit 1
fi

mkdir -p "$EXPECTED"
shopt -s nullglob
if [ $# -gt 0 ]; then
	files=()
	for n in "$@"; do files+=("$PCAPS/$n.pcap"); done
else
	files=("$PCAPS"/*.pcap "$PCAPS"/*.pcapng)
fi
fail=0
for p in "${files[@]}"; do
	name=$(basename "${p%.*}")
	args=()
	[ -f "$EXPECTED/$name.args" ] && read -r -a args <"$EXPECTED/$name.args"
	if "$FLOWCUT" read "$p" --quiet -o "$EXPECTED/$name.json" \
		--stats "$EXPECTED/$name.stats.json" "${args[@]}"; then
		echo "regenerated $name"
	else
		echo "regen.sh: flowcut failed on $p" >&2
		fail=1
	fi
done
exit $fail
