#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Kernel bypass, XDP mode, as on a real tap: flowcut captures on a span port,
# the far end of a second veth pair fed by tc mirred mirrors of everything the
# receiving veth ($IF_CAP) gets and sends. A 100 MB TCP transfer over IPv4
# and over IPv6 with --bypass-after-bytes 1M: each record equals the truth
# (a sender-side tcpdump that captured everything it received), userspace
# read only a small fraction of the packets, and the XDP program dropped the
# rest on the span port. Then a blocked CIDR: its pings still work (the span
# port is only a copy) but the monitor never sees them, and the block entry
# counts every one (requests and replies).
. "$(dirname "$0")/lib.sh"
e2e_setup
command -v tc >/dev/null || skip "tc missing"
SPAN_A=fsa$$
SPAN_B=fsb$$
# One span queue per CPU, and XPS so CPU i mirrors into queue i: each CPU
# fills the XDP ring (256 frames) that its own NAPI drains. With one queue
# both CPUs fed one ring and even a 100 MB/s paced burst overflowed it on a
# loaded machine (97 span drops in one run; BENCHMARKS.md, "Bypass").
NQ=$(nproc)
[ "$NQ" -ge 1 ] && [ "$NQ" -le 64 ] || NQ=1
in_cap ip link add "$SPAN_A" numtxqueues "$NQ" numrxqueues "$NQ" type veth \
	peer name "$SPAN_B" numtxqueues "$NQ" numrxqueues "$NQ"
for ((q = 0; q < NQ && q < 62; q++)); do
	in_cap sh -c "printf %x $((1 << q)) >/sys/class/net/$SPAN_A/queues/tx-$q/xps_cpus" 2>/dev/null || true
done
for i in "$SPAN_A" "$SPAN_B"; do
	in_cap ethtool -K "$i" tso off gso off gro off tx off >/dev/null 2>&1 || true
	in_cap ip link set "$i" up
done
in_cap tc qdisc add dev "$IF_CAP" clsact
in_cap tc filter add dev "$IF_CAP" ingress protocol all u32 match u32 0 0 action mirred egress mirror dev "$SPAN_A"
in_cap tc filter add dev "$IF_CAP" egress protocol all u32 match u32 0 0 action mirred egress mirror dev "$SPAN_A"
start_servers
bg ip netns exec "$NS_SND" tcpdump -Z root -U --immediate-mode -B 262144 -s 128 -n -i "$IF_SND" \
	-w "$T/truth.pcap" 2>"$T/truth.err"
TRUTH_PID=$LAST_PID
wait_line "$T/truth.err" "listening on" "$TRUTH_PID"
bg ip netns exec "$NS_CAP" "$FLOWCUT" capture -i "$SPAN_B" --stats "$T/stats.json" -o "$T/rec.json" \
	--bypass xdp --bypass-after-bytes 1M --bypass-pin-dir "" --bypass-control "$T/ctl.sock" -q \
	2>"$T/fc.err"
FC_PID=$LAST_PID
wait_line "$T/fc.err" "capturing on $SPAN_B" "$FC_PID"
grep -q "bypass: xdp native on $SPAN_B" "$T/fc.err" || die "not native XDP: $(cat "$T/fc.err")"
# Paced at 100 MB/s: the mirror copies into a veth whose XDP rings hold 256
# frames each, and a burst can overflow them (the span port's TX "dropped"),
# as a real tap drops what it cannot carry; the test wants a lossless tap.
for a in "$ADDR_CAP" "$ADDR6_CAP"; do
	TCP_PACING_BPS=100000000 in_snd $PY tcp-client "$a" 7001 fin 100000000 >/dev/null
	settle
done
# blocked: pings both ways, 5 each
"$FLOWCUT" block -S "$T/ctl.sock" add 10.201.0.0/24
in_snd ping -c 5 -i 0.05 -W 1 "$ADDR_CAP" >/dev/null || die "ping failed: the span port must not affect traffic"
settle
"$FLOWCUT" block -S "$T/ctl.sock" list >"$T/block.txt"
stop_truth_drained
stop_flowcut
in_cap ip -s -s link show "$SPAN_A" >"$T/span.txt"
span_drops=$(awk '/TX: /{getline; print $4; exit}' "$T/span.txt")
[ "$span_drops" = 0 ] || die "the span port dropped $span_drops packets: $(cat "$T/span.txt")"
grep -qx "10.201.0.0/24 pkts=10 bytes=840" "$T/block.txt" || die "block counters: $(cat "$T/block.txt")"
python3 - "$T/rec.json" "$T/stats.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert not [r for r in recs if r["proto"] == 1], "the monitor saw blocked pings"
big = [r for r in recs if r["proto"] == 6 and r["bytes"] > 100000000]
assert len(big) == 2, f"expected two 100 MB flows, got {len(big)}"
for r in big:
    assert r.get("bypass") and r["bypass"]["bytes"] > 90000000, r
    assert r["end_reason"] == "fin", r
st = json.load(open(sys.argv[2]))
total = sum(r["pkts"] + r["rpkts"] for r in big)
assert st["packets_read"] * 10 < total, f"userspace read {st['packets_read']} of {total} packets"
assert st["bypass_kernel_blocked"] == 10, st
assert st["bypass_flows"] == 2 and st["bypass_add_failed"] == 0 and st["bypass_sync_failed"] == 0, st
PY
tcpdump -r "$T/truth.pcap" -w "$T/truth_tcp.pcap" tcp 2>/dev/null	# the pings were blocked
$CHECK match "$T/rec.json" "$T/truth_tcp.pcap"
