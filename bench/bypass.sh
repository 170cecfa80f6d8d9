#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bypass.sh - `make bench-bypass` (root): the kernel bypass benchmark.
#  1. Per-packet cost of the programs with BPF_PROG_TEST_RUN repeat
#     (build/bench/bypass_bench): XDP and socket filter, hit and miss, IPv4
#     and IPv6, next to the floor (an XDP program that only returns PASS).
#  2. Elephant flows: 3 TCP transfers of 100 MB each (~90 % of the bytes)
#     plus 34k UDP datagrams of 1000 bytes over 2000 flows (the mice), as fast
#     as the generator goes, seen on a span port (tc mirred mirror of the
#     receiving veth into a second veth pair, as on a tap). flowcut runs with
#     --bypass off, socket and xdp (--bypass-after-bytes 1M); reported: the
#     monitor's CPU seconds (user + system, /proc/PID/stat, from "capturing"
#     to the end: the programs' load and verification are startup), kernel ring drops
#     (kernel_drops), tap drops (span veth TX dropped), packets userspace read,
#     and whether every elephant's record equals the sender-side truth.
# Everything lives in two network namespaces removed on exit.
# usage: bench/bypass.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ "$(id -u)" -eq 0 ] || { echo "bench-bypass needs root" >&2; exit 1; }
FLOWCUT=$ROOT/build/flowcut
PY="python3 $ROOT/tests/e2e/traffic.py"
echo "== BPF_PROG_TEST_RUN, ns per packet (floor = the test-run loop itself)"
build/bench/bypass_bench "${1:-5000000}"

T=$(mktemp -d /tmp/flowcut-bench-bypass.XXXXXX)
NS_C=fcbb-$$-c NS_S=fcbb-$$-s IF_C=fbc$$ IF_S=fbs$$ SP_A=fba$$ SP_B=fbb$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_S" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add "$IF_C" netns "$NS_C" type veth peer name "$IF_S" netns "$NS_S"
ip -n "$NS_C" link add "$SP_A" type veth peer name "$SP_B"
ip -n "$NS_C" addr add 10.202.0.1/24 dev "$IF_C"
ip -n "$NS_S" addr add 10.202.0.2/24 dev "$IF_S"
for i in "$IF_C" "$SP_A" "$SP_B" lo; do
	ip netns exec "$NS_C" ethtool -K "$i" tso off gso off gro off tx off >/dev/null 2>&1 || true
	ip -n "$NS_C" link set "$i" up
done
ip netns exec "$NS_S" ethtool -K "$IF_S" tso off gso off gro off tx off >/dev/null 2>&1 || true
ip -n "$NS_S" link set "$IF_S" up
ip -n "$NS_S" link set lo up
tc -n "$NS_C" qdisc add dev "$IF_C" clsact
tc -n "$NS_C" filter add dev "$IF_C" ingress protocol all u32 match u32 0 0 action mirred egress mirror dev "$SP_A"
tc -n "$NS_C" filter add dev "$IF_C" egress protocol all u32 match u32 0 0 action mirred egress mirror dev "$SP_A"
ip netns exec "$NS_C" $PY tcp-server 0.0.0.0 7001 >"$T/srv.out" &
pids+=($!)
ip netns exec "$NS_C" $PY udp-server 0.0.0.0 7000 >"$T/usrv.out" &
pids+=($!)
sleep 0.5

wait_for() { local i; for ((i = 0; i < 200; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
span_drops() { ip -n "$NS_C" -s link show "$SP_A" | awk '/TX: /{getline; print $4; exit}'; }

run_mode() {	# MODE
	local mode=$1 d0 d1 pid tpid ticks cpu hz
	rm -f "$T/rec.json" "$T/stats.json" "$T/truth.pcap"
	ip netns exec "$NS_S" tcpdump -Z root -U --immediate-mode -B 262144 -s 96 -n -i "$IF_S" \
		-w "$T/truth.pcap" tcp 2>"$T/truth.err" &
	tpid=$!
	pids+=($tpid)
	wait_for "$T/truth.err" "listening on"
	ip netns exec "$NS_C" "$FLOWCUT" capture -i "$SP_B" -q --stats "$T/stats.json" -o "$T/rec.json" \
		--no-metrics --bypass "$mode" --bypass-after-bytes 1M --bypass-pin-dir "" \
		--bypass-control "" 2>"$T/fc.err" &
	pid=$!
	pids+=($pid)
	wait_for "$T/fc.err" "capturing on"
	sleep 0.3
	d0=$(span_drops)
	hz=$(getconf CLK_TCK)
	# from here on: loading and verifying the programs is startup, not traffic
	ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	ip netns exec "$NS_S" python3 - 10.202.0.1 <<'PY' &
import socket, sys
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2000)]
for i in range(34000):
    s[i % 2000].sendto(b"m" * 1000, (sys.argv[1], 7000))
PY
	local gen=($!) t0 t1
	t0=$(date +%s%N)
	for _ in 1 2 3; do
		ip netns exec "$NS_S" $PY tcp-client 10.202.0.1 7001 fin 100000000 >/dev/null &
		gen+=($!)
	done
	wait "${gen[@]}"
	t1=$(date +%s%N)
	echo "  generator: 334 MB in $(( (t1 - t0) / 1000000 )) ms" >&2
	sleep 1
	ticks=$(( $(awk '{print $14 + $15}' "/proc/$pid/stat") - ticks ))
	cpu=$(echo "scale=2; $ticks / $hz" | bc)
	d1=$(span_drops)
	kill -TERM "$pid"
	wait "$pid" || true
	kill -TERM "$tpid"
	wait "$tpid" 2>/dev/null || true
	python3 - "$mode" "$cpu" "$((d1 - d0))" "$T/stats.json" "$T/rec.json" "$T/truth.pcap" "$T/truth.err" <<'PY'
import json, struct, sys
mode, cpu, tapdrops, st, recs, pcap, terr = sys.argv[1:]
st = json.load(open(st))
truth = {}
with open(pcap, "rb") as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        n = struct.unpack("<IIII", h)[2]
        fr = f.read(n)
        if len(fr) < 54 or fr[12:14] != b"\x08\x00" or fr[23] != 6:
            continue
        ihl = (fr[14] & 15) * 4
        tot = struct.unpack("!H", fr[16:18])[0]
        sp, dp = struct.unpack("!HH", fr[14 + ihl:18 + ihl])
        k = (min(sp, dp), max(sp, dp))
        truth[k] = truth.get(k, 0) + tot
el = [r for r in map(json.loads, open(recs)) if r["proto"] == 6 and r["bytes"] > 50000000]
exact = sum(1 for r in el if truth.get((min(r["sport"], r["dport"]), max(r["sport"], r["dport"]))) == r["bytes"] + r["rbytes"])
comp = open(terr).read()
print(f"{mode:7s} cpu_s={cpu:>6s} packets_read={st['packets_read']:>8d} kernel_drops={st['kernel_drops']:>6d} "
      f"tap_drops={tapdrops:>6s} elephants_exact={exact}/{len(el)}")
PY
}
echo "== elephant flows (3 x 100 MB TCP + 34 MB of UDP mice in 2000 flows), monitor CPU"
for m in off socket xdp; do
	run_mode "$m"
done
