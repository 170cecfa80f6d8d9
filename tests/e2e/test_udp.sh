#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# UDP request/response over IPv4 and IPv6: sizes known on the sender side, so
# bytes = payload + 28 (IPv4) or + 48 (IPv6) per datagram, both ways.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
start_truth
start_flowcut
sizes="1 100 500 1400 0"
sp4=$(in_snd $PY udp-client "$ADDR_CAP" 7000 $sizes | json_field sport)
sp6=$(in_snd $PY udp-client "$ADDR6_CAP" 7000 $sizes | json_field sport)
settle
stop_flowcut
stop_truth
b4=$((1 + 100 + 500 + 1400 + 0 + 5 * 28))
b6=$((1 + 100 + 500 + 1400 + 0 + 5 * 48))
$CHECK expect "$T/rec.json" proto=17 src=$ADDR_SND sport=$sp4 dst=$ADDR_CAP dport=7000 \
	pkts=5 rpkts=5 bytes=$b4 rbytes=$b4 end_reason=shutdown
$CHECK expect "$T/rec.json" proto=17 src=$ADDR6_SND sport=$sp6 dst=$ADDR6_CAP dport=7000 \
	pkts=5 rpkts=5 bytes=$b6 rbytes=$b6 end_reason=shutdown
$CHECK match "$T/rec.json" "$T/truth.pcap"
$CHECK stats "$T/stats.json" kernel_drops=0 identity_ok=true
