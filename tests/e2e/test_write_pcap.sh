#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# -w: the file flowcut writes holds the same frames as tcpdump's capture on
# the same interface at the same time (same count, same IP length and frame
# length, same order in each direction), and both tcpdump and tshark read it.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
bg ip netns exec "$NS_CAP" tcpdump -Z root -U --immediate-mode -n -i "$IF_CAP" -w "$T/ref.pcap" \
	2>"$T/ref.err"
REF_PID=$LAST_PID
wait_line "$T/ref.err" "listening on" "$REF_PID"
start_flowcut -w "$T/fc.pcap"
in_snd ping -q -c 3 -i 0.2 -W 2 "$ADDR_CAP" >/dev/null
in_snd $PY udp-client "$ADDR_CAP" 7000 1 1000 1472 >/dev/null
in_snd $PY tcp-client "$ADDR_CAP" 7001 fin 100000 >/dev/null
settle
stop_flowcut
kill -TERM "$REF_PID"
wait "$REF_PID" 2>/dev/null || true
tcpdump -n -r "$T/fc.pcap" >"$T/fc.txt" 2>"$T/fc.rerr" || die "tcpdump cannot read -w file: $(cat "$T/fc.rerr")"
n_tshark=$(tshark -n -r "$T/fc.pcap" 2>/dev/null | wc -l)
[ "$n_tshark" -eq "$(wc -l <"$T/fc.txt")" ] || die "tshark reads $n_tshark frames, tcpdump $(wc -l <"$T/fc.txt")"
$CHECK pcapeq "$T/fc.pcap" "$T/ref.pcap"
