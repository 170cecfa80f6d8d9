#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# TCP: a 1 MB transfer closed by FIN both ways (SF, fin), a refused connection
# (REJ), an originator abort and a responder abort (RSTO / RSTR, rst), over
# IPv4 and IPv6. Packet and byte counts per direction must equal tcpdump's
# view from the sender's namespace.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
start_truth
start_flowcut
for a in "$ADDR_CAP" "$ADDR6_CAP"; do
	fin=$(in_snd $PY tcp-client "$a" 7001 fin 1000000 | json_field sport)
	rej=$(in_snd $PY tcp-refused "$a" 7999 | json_field sport)
	rsto=$(in_snd $PY tcp-client "$a" 7001 rsto 2000 | json_field sport)
	rstr=$(in_snd $PY tcp-client "$a" 7001 rstr 0 | json_field sport)
	settle
	echo "$a $fin $rej $rsto $rstr" >>"$T/ports"
done
stop_flowcut
stop_truth
while read -r a fin rej rsto rstr; do
	$CHECK expect "$T/rec.json" proto=6 dst=$a sport=$fin state=SF end_reason=fin
	$CHECK expect "$T/rec.json" proto=6 dst=$a sport=$rej dport=7999 state=REJ end_reason=rst \
		pkts=1 rpkts=1
	$CHECK expect "$T/rec.json" proto=6 dst=$a sport=$rsto state=RSTO end_reason=rst
	$CHECK expect "$T/rec.json" proto=6 dst=$a sport=$rstr state=RSTR end_reason=rst
done <"$T/ports"
python3 - "$T/rec.json" <<'PY'
import json, sys
big = [r for r in map(json.loads, open(sys.argv[1])) if r["proto"] == 6 and r["bytes"] > 1000000]
assert len(big) == 2, f"expected two 1 MB flows, got {len(big)}"
PY
$CHECK match "$T/rec.json" "$T/truth.pcap"
$CHECK stats "$T/stats.json" kernel_drops=0 identity_ok=true
