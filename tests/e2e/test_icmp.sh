#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# ICMP echo, IPv4 and IPv6: 3 requests and 3 replies each, 84 / 104 IP bytes
# per packet (56 bytes of ping data), flows still open at SIGTERM end as
# "shutdown"; the counts also match tcpdump's view from the sender.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_truth
start_flowcut
in_snd ping -q -c 3 -i 0.2 -W 2 "$ADDR_CAP" >/dev/null
in_snd ping -q -6 -c 3 -i 0.2 -W 2 "$ADDR6_CAP" >/dev/null
settle
stop_flowcut
stop_truth
$CHECK expect "$T/rec.json" proto=1 src=$ADDR_SND dst=$ADDR_CAP pkts=3 rpkts=3 bytes=252 rbytes=252 \
	end_reason=shutdown
$CHECK expect "$T/rec.json" proto=58 src=$ADDR6_SND dst=$ADDR6_CAP pkts=3 rpkts=3 bytes=312 \
	rbytes=312 end_reason=shutdown
$CHECK match "$T/rec.json" "$T/truth.pcap"
$CHECK stats "$T/stats.json" kernel_drops=0 identity_ok=true flows.shutdown=$(grep -c . "$T/rec.json")
