#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The interface going down and up during a capture is logged, not fatal:
# flowcut keeps its socket and counts the traffic after the link is back.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_flowcut
in_snd ping -q -c 1 -W 2 "$ADDR_CAP" >/dev/null
in_cap ip link set "$IF_CAP" down
wait_line "$T/fc.err" "interface went down" "$FC_PID"
in_cap ip link set "$IF_CAP" up
# Carrier and the route come back asynchronously: ping until one answers.
ok=0
for _ in $(seq 1 50); do
	if in_snd ping -q -c 1 -W 1 "$ADDR_CAP" >/dev/null 2>&1; then ok=1; break; fi
done
[ $ok -eq 1 ] || die "no ping answer after the link came back"
in_snd ping -q -c 2 -i 0.2 -W 2 "$ADDR_CAP" >/dev/null
settle
stop_flowcut
python3 - "$T/rec.json" <<'PY'
import json, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r["proto"] == 1 and r.get("sport") == 8]
if len(recs) < 3:
    sys.exit(f"expected the pings before and after the flap, got {len(recs)} ICMP records")
if not any(r["pkts"] == 2 and r["rpkts"] == 2 for r in recs):
    sys.exit("the 2-packet ping after the link came back is missing")
PY
