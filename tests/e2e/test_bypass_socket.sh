#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Kernel bypass, socket mode: a 100 MB TCP transfer over IPv4 and IPv6 with
# --bypass-after-bytes 1M, captured on the receiving veth. Each record's
# packets and bytes must equal the truth (tcpdump in the sender's namespace,
# TSO/GSO/GRO off so that packets are wire-sized), while userspace read only
# a small fraction of the packets (packets_read) and the kernel's share is
# in the record's bypass object. The truth is a full tcpdump capture in the
# sender's namespace that must have captured every packet its filter received
# (stop_truth_drained) and dropped none.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
# The truth at 100 MB full speed: a big buffer and short snaplen so that the
# sender-side tcpdump itself loses nothing (checked below).
bg ip netns exec "$NS_SND" tcpdump -Z root -U --immediate-mode -B 262144 -s 128 -n -i "$IF_SND" \
	-w "$T/truth.pcap" 2>"$T/truth.err"
TRUTH_PID=$LAST_PID
wait_line "$T/truth.err" "listening on" "$TRUTH_PID"
start_flowcut --bypass socket --bypass-after-bytes 1M --bypass-pin-dir "" -q
for a in "$ADDR_CAP" "$ADDR6_CAP"; do
	in_snd $PY tcp-client "$a" 7001 fin 100000000 >/dev/null
	settle
done
stop_truth_drained
stop_flowcut
$CHECK match "$T/rec.json" "$T/truth.pcap"
python3 - "$T/rec.json" "$T/stats.json" <<'PY'
import json, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r["proto"] == 6 and r["bytes"] > 100000000]
assert len(recs) == 2, f"expected two 100 MB flows, got {len(recs)}"
for r in recs:
    b = r.get("bypass")
    assert b, f"no bypass object: {r}"
    assert b["bytes"] > 90000000, f"kernel share too small: {b}"
    assert r["end_reason"] == "fin", r
st = json.load(open(sys.argv[2]))
total = sum(r["pkts"] + r["rpkts"] for r in recs)
assert st["packets_read"] * 10 < total, f"userspace read {st['packets_read']} of {total} packets"
assert st["bypass_flows"] == 2 and st["bypass_add_failed"] == 0 and st["bypass_sync_failed"] == 0, st
PY
