#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Golden decode tests: every capture in tests/decode/pcaps/ is read by the
# ASan+UBSan build and its records and counters must equal the checked-in
# expectations in tests/decode/expected/ (regenerate with `make golden` after
# a deliberate change, and review the diff). Wall-clock fields (elapsed_s) and
# the source path are not compared.
set -u
cd "$(dirname "$0")/../.."
bin=${FC_BIN:-build/asan/flowcut}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shopt -s nullglob
pcaps=(tests/decode/pcaps/*.pcap tests/decode/pcaps/*.pcapng)
if [ ${#pcaps[@]} -eq 0 ]; then
	echo "FAIL golden (no captures in tests/decode/pcaps)"
	exit 1
fi
for p in "${pcaps[@]}"; do
	name=$(basename "${p%.*}")
	exp=tests/decode/expected/$name
	args=()
	[ -f "$exp.args" ] && read -r -a args <"$exp.args"
	if ! "$bin" read "$p" --quiet -o "$tmp/$name.json" --stats "$tmp/$name.stats.json" "${args[@]}" \
		2>"$tmp/$name.err"; then
		echo "FAIL golden $name (exit status; $(head -c 300 "$tmp/$name.err"))"
		continue
	fi
	if ! diff -u "$exp.json" "$tmp/$name.json" >"$tmp/$name.diff"; then
		echo "FAIL golden $name (records differ)"
		head -n 20 "$tmp/$name.diff"
		continue
	fi
	if ! python3 - "$exp.stats.json" "$tmp/$name.stats.json" <<'PY'; then
import json, sys
def load(p):
    d = json.load(open(p))
    for k in ("elapsed_s", "source", "sinks", "export_ring_full"):
        d.pop(k, None)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print(f"  stats.{k}: expected {a.get(k)} got {b.get(k)}")
    sys.exit(1)
PY
		echo "FAIL golden $name (stats differ)"
		continue
	fi
	echo "PASS golden $name"
done
