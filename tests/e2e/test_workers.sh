#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# --workers 2: a fanout group hashing on the kernel's symmetric flow hash.
# Many flows, so both workers get some; every flow must be one record with
# both directions counted (its two directions met on one worker), flow ids
# unique, per-worker counters present and adding up, and every flow equal
# to the sender-side truth.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
start_truth
start_flowcut --workers 2
in_snd $PY udp-many "$ADDR_CAP" 7000 48 >/dev/null
in_snd $PY udp-many "$ADDR6_CAP" 7000 16 >/dev/null
in_snd $PY tcp-many "$ADDR_CAP" 7001 12 >/dev/null
in_snd $PY tcp-many "$ADDR6_CAP" 7001 4 >/dev/null
settle
stop_flowcut
stop_truth
$CHECK count "$T/rec.json" 64 proto=17 pkts=1 rpkts=1
$CHECK count "$T/rec.json" 16 proto=6 state=SF end_reason=fin
$CHECK workers "$T/rec.json" "$T/stats.json"
$CHECK match "$T/rec.json" "$T/truth.pcap"
$CHECK stats "$T/stats.json" kernel_drops=0 identity_ok=true
