#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# 802.1Q: frames injected with a raw AF_PACKET socket (no VLAN devices on
# this kernel). The receiving kernel moves the tag into packet metadata;
# flowcut must put it back, so the same 5-tuple on VLAN 42 and VLAN 43 makes
# two flows with the right "vlan".
. "$(dirname "$0")/lib.sh"
e2e_setup
start_truth
start_flowcut
in_snd $PY vlan-inject "$IF_SND" "$MAC_SND" "$MAC_CAP" 42 3 "$ADDR_SND" "$ADDR_CAP" 5555 5556 50 >/dev/null
in_snd $PY vlan-inject "$IF_SND" "$MAC_SND" "$MAC_CAP" 43 2 "$ADDR_SND" "$ADDR_CAP" 5555 5556 50 >/dev/null
settle
stop_flowcut
stop_truth
$CHECK expect "$T/rec.json" proto=17 vlan=42 sport=5555 dport=5556 pkts=3 bytes=234 rpkts=0
$CHECK expect "$T/rec.json" proto=17 vlan=43 sport=5555 dport=5556 pkts=2 bytes=156 rpkts=0
$CHECK match "$T/rec.json" "$T/truth.pcap"
$CHECK stats "$T/stats.json" kernel_drops=0 identity_ok=true
