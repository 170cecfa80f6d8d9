#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Stopping: SIGTERM while a TCP connection and a UDP flow are open -> exit 0,
# both emitted with end_reason "shutdown" (TCP still S1), stats written and
# consistent. --duration stops by itself with exit 0 too.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
start_flowcut
bg ip netns exec "$NS_SND" $PY tcp-client "$ADDR_CAP" 7001 hold 5000 >"$T/hold.out"
wait_line "$T/hold.out" sport "$LAST_PID"
hold=$(json_field sport <"$T/hold.out")
udp=$(in_snd $PY udp-client "$ADDR6_CAP" 7000 200 | json_field sport)
settle
stop_flowcut
$CHECK expect "$T/rec.json" proto=6 sport=$hold state=S1 end_reason=shutdown
$CHECK expect "$T/rec.json" proto=17 sport=$udp pkts=1 rpkts=1 end_reason=shutdown
$CHECK stats "$T/stats.json" identity_ok=true kernel_drops=0 flows.open=0 \
	flows.records=$(grep -c . "$T/rec.json")
grep -q "kernel_packets=" "$T/fc.err" || die "no final kernel counter line on stderr"

rm -f "$T/stats.json"
rc=0
in_cap "$FLOWCUT" capture -i "$IF_CAP" --duration 0.5s -q -o /dev/null --stats "$T/stats.json" \
	2>"$T/dur.err" || rc=$?
[ $rc -eq 0 ] || die "--duration: exit $rc: $(cat "$T/dur.err")"
$CHECK stats "$T/stats.json" identity_ok=true
