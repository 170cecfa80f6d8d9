#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bypass.sh - `make bench-bypass` (root): the kernel bypass benchmark.
#  1. Per-packet cost of the programs with BPF_PROG_TEST_RUN repeat
#     (build/bench/bypass_bench, pinned to CPU 1): XDP and socket filter, hit
#     and miss, IPv4 and IPv6, next to a floor per program type (a program
#     that only returns); min and median of RUNS interleaved runs, gross and
#     net of the floor.
#  2. Elephant flows (build/bench/bypass_gen, C, both ends): CONNS TCP
#     transfers, MB megabytes in all (~90 % of the bytes), plus UDP mice
#     (1000-byte datagrams over 2000 flows, ~10 % of the bytes), unpaced, seen
#     on a span port (tc mirred mirror of the receiving veth into a second
#     veth pair with SPAN_QUEUES queues, as on a tap). TSO/GSO/GRO are off,
#     so packets are wire-sized. flowcut runs with --bypass off, socket and
#     xdp (--bypass-after-bytes 1M); reported: the generator's rate, the
#     monitor's CPU from "capturing" to the end (loading and verifying the
#     programs is startup): user_s = user-mode seconds of all its threads
#     (/proc/PID/stat utime), cpu_s = user + system, on_cpu_s = on-CPU time in
#     ns (schedstat). This kernel has no IRQ time accounting: system and
#     on-CPU time include the interrupts and softirqs (the generator's TCP
#     stack, the mirror, the XDP program) that ran on the monitor's CPU while
#     it was current; user_s does not. Then packets userspace read, the
#     monitor's wakeups (voluntary context switches), kernel ring drops (kernel_drops),
#     tap drops (span veth TX dropped), link drops (the sender veth's TX
#     dropped: never reached the monitored link, so in no record), and
#     per-flow exactness of every record (packets and bytes, both directions
#     summed) against the sender-side truth (a full tcpdump in the sender's
#     namespace, itself checked complete).
# Everything lives in two network namespaces removed on exit.
# usage: bench/bypass.sh [REPEAT [RUNS]]
#   env: MODES="off socket xdp idle" CONNS=3 MB=300 SPAN_QUEUES=2 SKIP_PROG=1 FLOWCUT=build/flowcut
#        SESSIONS=1 (every mode SESSIONS times, round-robin: off socket xdp off socket xdp ...)
#        PERF_OUT=/tmp/p (perf record -g of the monitor over the measured window, to
#        /tmp/p.MODE.RUN, and its samples split into user / syscall / interrupt)
#        idle: the monitor (--bypass xdp) with no traffic for IDLE_S=7 s
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ "$(id -u)" -eq 0 ] || { echo "bench-bypass needs root" >&2; exit 1; }
FLOWCUT=${FLOWCUT:-$ROOT/build/flowcut}
GEN=$ROOT/build/bench/bypass_gen
MODES=${MODES:-off socket xdp} CONNS=${CONNS:-3} MB=${MB:-300} SPAN_QUEUES=${SPAN_QUEUES:-2}
if [ -z "${SKIP_PROG:-}" ]; then
	echo "== BPF_PROG_TEST_RUN, ns per packet (floor = the test-run loop itself), taskset -c 1"
	taskset -c 1 build/bench/bypass_bench "${1:-1000000}" "${2:-15}"
fi

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
# SPAN_QUEUES: see BENCHMARKS.md (one 256-frame XDP ring per RX queue).
ip -n "$NS_C" link add "$SP_A" numtxqueues "$SPAN_QUEUES" numrxqueues "$SPAN_QUEUES" type veth \
	peer name "$SP_B" numtxqueues "$SPAN_QUEUES" numrxqueues "$SPAN_QUEUES"
ip -n "$NS_C" addr add 10.202.0.1/24 dev "$IF_C"
ip -n "$NS_S" addr add 10.202.0.2/24 dev "$IF_S"
for i in "$IF_C" "$SP_A" "$SP_B" lo; do
	ip netns exec "$NS_C" ethtool -K "$i" tso off gso off gro off tx off >/dev/null 2>&1 || true
	ip -n "$NS_C" link set "$i" up
done
# XPS: CPU i transmits into span queue i, whose XDP ring the NAPI on that same CPU
# drains; without it the queue is picked by flow hash and both CPUs fill one ring.
for ((q = 0; q < SPAN_QUEUES; q++)); do
	ip netns exec "$NS_C" sh -c "printf %x $((1 << q)) >/sys/class/net/$SP_A/queues/tx-$q/xps_cpus" 2>/dev/null || true
done
ip netns exec "$NS_S" ethtool -K "$IF_S" tso off gso off gro off tx off >/dev/null 2>&1 || true
ip -n "$NS_S" link set "$IF_S" up
ip -n "$NS_S" link set lo up
tc -n "$NS_C" qdisc add dev "$IF_C" clsact
tc -n "$NS_C" filter add dev "$IF_C" ingress protocol all u32 match u32 0 0 action mirred egress mirror dev "$SP_A"
tc -n "$NS_C" filter add dev "$IF_C" egress protocol all u32 match u32 0 0 action mirred egress mirror dev "$SP_A"
ip netns exec "$NS_C" "$GEN" sink 10.202.0.1 7001 7000 >"$T/sink.out" &
pids+=($!)

wait_for() { local i; for ((i = 0; i < 200; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
wait_for "$T/sink.out" ready
tx_drops() { ip -n "$1" -s link show "$2" | awk '/TX: /{getline; print $4; exit}'; }
span_drops() { tx_drops "$NS_C" "$SP_A"; }
# Frames veth forwarded to the span port without its NAPI (netif_rx), i.e. frames the
# XDP program never saw: the sender's TX packets count both paths (the NAPI ones via the
# peer's xdp_packets), the receiver's rx_queue_*_xdp_packets only the NAPI/XDP one.
span_nonxdp() {
	local tx xdp
	tx=$(ip -n "$NS_C" -s link show "$SP_A" | awk '/TX: /{getline; print $2; exit}')
	xdp=$(ip netns exec "$NS_C" ethtool -S "$SP_B" | awk '/rx_queue_.*_xdp_packets:/ {s += $2} END {print s + 0}')
	echo $((tx - xdp))
}
link_drops() { tx_drops "$NS_S" "$IF_S"; }
# On-CPU time of all the process's threads in ns (schedstat; /proc/PID/stat ticks are 10 ms).
sched_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d", s}'; }
# Voluntary context switches of all its threads: how often it slept (woke up).
wakeups() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {s += $2} END {printf "%d", s}'; }
# perf samples of the monitor: in user mode, in the kernel on its behalf (syscalls,
# page faults), or in an interrupt/softirq that merely ran while it was current.
perf_split() {
	perf script -i "$1" -F ip,sym 2>/dev/null | python3 -c '
import sys
c = {"user": 0, "syscall": 0, "irq": 0}
for s in sys.stdin.read().strip().split("\n\n"):
    ls = [l.strip() for l in s.strip().split("\n") if l.strip()]
    if not ls:
        continue
    if any(w in l for l in ls for w in ("handle_softirqs", "irq_exit", "sysvec_", "common_interrupt")):
        c["irq"] += 1
    elif ls[0].split()[0].startswith("ffffffff"):
        c["syscall"] += 1
    else:
        c["user"] += 1
n = sum(c.values()) or 1
print("  perf samples: %d, user %.0f %%, kernel for it %.0f %%, interrupts %.0f %%" %
      (n, 100 * c["user"] / n, 100 * c["syscall"] / n, 100 * c["irq"] / n))'
}

run_mode() {	# MODE RUN
	local mode=$1 run=${2:-1} n0 n1 d0 d1 l0 l1 pid tpid ticks cpu hz sched0 oncpu uticks user wk0 wk
	rm -f "$T/rec.json" "$T/stats.json" "$T/truth.pcap"
	ip netns exec "$NS_S" tcpdump -Z root -U --immediate-mode -B 524288 -s 96 -n -i "$IF_S" \
		-w "$T/truth.pcap" tcp or udp 2>"$T/truth.err" &
	tpid=$!
	pids+=("$tpid")
	wait_for "$T/truth.err" "listening on"
	ip netns exec "$NS_C" "$FLOWCUT" capture -i "$SP_B" -q --stats "$T/stats.json" -o "$T/rec.json" \
		--no-metrics --bypass "${mode/idle/xdp}" --bypass-after-bytes 1M --bypass-pin-dir "" \
		--bypass-control "" 2>"$T/fc.err" &
	pid=$!
	pids+=("$pid")
	wait_for "$T/fc.err" "capturing on"
	sleep 0.3
	d0=$(span_drops)
	n0=$(span_nonxdp)
	l0=$(link_drops)
	hz=$(getconf CLK_TCK)
	# from here on: loading and verifying the programs is startup, not traffic
	ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	uticks=$(awk '{print $14}' "/proc/$pid/stat")
	sched0=$(sched_ns "$pid")
	wk0=$(wakeups "$pid")
	if [ "$mode" = idle ]; then	# no traffic: what the monitor costs by itself
		sleep "${IDLE_S:-7}"
		sleep 1
		echo "idle    cpu_s=$(echo "scale=2; ($(awk '{print $14 + $15}' "/proc/$pid/stat") - $ticks) / $(getconf CLK_TCK)" | bc)" \
			"on_cpu_s=$(echo "scale=3; ($(sched_ns "$pid") - $sched0) / 1000000000" | bc) over $((${IDLE_S:-7} + 1)) s"
		kill -TERM "$pid" "$tpid"
		wait "$pid" "$tpid" 2>/dev/null || true
		return
	fi
	local ppid=
	if [ -n "${PERF_OUT:-}" ]; then	# profile the monitor over the measured window
		perf record -q -g -p "$pid" -o "$PERF_OUT.$mode.$run" 2>/dev/null &
		ppid=$!
	fi
	# A timeline for runs that go wrong: every 100 ms, each thread's user and
	# system ticks and on-CPU ns (printed only when a run drops or is short).
	(while kill -0 "$pid" 2>/dev/null; do
		for t in /proc/"$pid"/task/*; do
			printf '%s %s %s %s\n' "$(date +%s.%N | cut -c7-14)" "${t##*/}" \
				"$(awk '{print $14, $15}' "$t/stat" 2>/dev/null)" "$(awk '{print $1}' "$t/schedstat" 2>/dev/null)"
		done
		sleep 0.1
	done) >"$T/timeline" 2>/dev/null &
	local tlpid=$!
	pids+=("$tlpid")
	# 90 % of the bytes in CONNS elephants, 10 % in 2000 UDP mice
	ip netns exec "$NS_S" "$GEN" send 10.202.0.1 7001 7000 "$CONNS" "$((MB * 1000000 / CONNS))" 2000 \
		"$((MB * 1000000 / 9 / 1000))" 1000 >"$T/gen.out"
	grep '^send:' "$T/gen.out" | sed 's/^/  /' >&2
	sleep 1
	ticks=$(( $(awk '{print $14 + $15}' "/proc/$pid/stat") - ticks ))
	uticks=$(( $(awk '{print $14}' "/proc/$pid/stat") - uticks ))
	cpu=$(echo "scale=2; $ticks / $hz" | bc)
	user=$(echo "scale=2; $uticks / $hz" | bc)
	oncpu=$(echo "scale=3; ($(sched_ns "$pid") - $sched0) / 1000000000" | bc)
	wk=$(( $(wakeups "$pid") - wk0 ))
	if [ -n "$ppid" ]; then
		kill -INT "$ppid"
		wait "$ppid" 2>/dev/null || true
		perf_split "$PERF_OUT.$mode.$run" >&2
	fi
	d1=$(span_drops)
	n1=$(span_nonxdp)
	l1=$(link_drops)
	kill -TERM "$pid"
	wait "$pid" || true
	kill "$tlpid" 2>/dev/null || true
	wait "$tlpid" 2>/dev/null || true
	grep -iE 'warn|error|drop' "$T/fc.err" | head -3 | sed 's/^/  flowcut: /' >&2 || true
	kill -TERM "$tpid"
	wait "$tpid" 2>/dev/null || true
	[ "$mode" = xdp ] && echo "  span frames that skipped XDP (veth non-NAPI path): $((n1 - n0))" >&2
	python3 - "$mode" "$user" "$cpu" "$oncpu" "$wk" "$((d1 - d0))" "$((l1 - l0))" "$T/stats.json" "$T/rec.json" "$T/truth.pcap" \
		"$T/truth.err" "$T/timeline" <<'PY'
import json, re, struct, sys
mode, user, cpu, oncpu, wk, tapdrops, linkdrops, st, recs, pcap, terr, tl = sys.argv[1:]
st = json.load(open(st))
truth = {}	# (proto, lower endpoint, higher endpoint) -> [packets, IP bytes]
with open(pcap, "rb") as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        n = struct.unpack("<IIII", h)[2]
        fr = f.read(n)
        if len(fr) < 42 or fr[12:14] != b"\x08\x00" or fr[23] not in (6, 17):
            continue
        ihl = (fr[14] & 15) * 4
        tot = struct.unpack("!H", fr[16:18])[0]
        sp, dp = struct.unpack("!HH", fr[14 + ihl:18 + ihl])
        a, b = (fr[26:30], sp), (fr[30:34], dp)
        k = (fr[23],) + ((a, b) if a < b else (b, a))
        t = truth.setdefault(k, [0, 0])
        t[0] += 1
        t[1] += tot
got = {}
nrec = {}
for r in map(json.loads, open(recs)):
    if r["proto"] not in (6, 17) or ":" in r["src"]:
        continue
    a = (bytes(map(int, r["src"].split("."))), r["sport"])
    b = (bytes(map(int, r["dst"].split("."))), r["dport"])
    k = (r["proto"],) + ((a, b) if a < b else (b, a))
    g = got.setdefault(k, [0, 0])
    g[0] += r["pkts"] + r["rpkts"]
    g[1] += r["bytes"] + r["rbytes"]
    nrec.setdefault(k, []).append(r)
exact = sum(1 for k in truth if got.get(k) == truth[k])
el = [k for k in truth if k[0] == 6 and truth[k][1] > 10000000]
el_exact = sum(1 for k in el if got.get(k) == truth[k])
tb = sum(v[1] for v in truth.values())
gb = sum(v[1] for v in got.values())
comp = open(terr).read()
m = re.search(r"(\d+) packets captured.*?(\d+) packets received by filter.*?(\d+) packets dropped by kernel", comp, re.S)
complete = bool(m) and m.group(1) == m.group(2) and m.group(3) == "0"
print(f"{mode:7s} user_s={user:>5s} cpu_s={cpu:>5s} on_cpu_s={oncpu:>6s} packets_read={st['packets_read']:>8d} wakeups={wk:>5s} kernel_drops={st['kernel_drops']:>6d} "
      f"tap_drops={tapdrops:>6s} link_drops={linkdrops:>5s} flows_exact={exact}/{len(truth)} "
      f"elephants_exact={el_exact}/{len(el)} bytes={gb}/{tb} truth_complete={'yes' if complete else 'NO'}")
if st["kernel_drops"] or exact != len(truth):	# what went wrong: counters, elephants, timeline
    print("  stats: " + " ".join(f"{k}={v}" for k, v in st.items()
                                 if k.startswith("bypass_") and v not in (0, "")), file=sys.stderr)
    for k in el:
        for r in nrec.get(k, []):
            print(f"  elephant {r['sport']}->{r['dport']} pkts={r['pkts'] + r['rpkts']} truth={truth[k][0]} "
                  f"end={r.get('end_reason')} bypass={r.get('bypass')}", file=sys.stderr)
    print("  timeline (s.cs tid utime stime on_cpu_ns):", file=sys.stderr)
    prev = {}
    for line in open(tl):
        f = line.split()
        if len(f) == 5:
            t, tid, u, sy, ns = f[0], f[1], int(f[2]), int(f[3]), int(f[4])
            d = ns - prev.get(tid, ns)
            prev[tid] = ns
            if d > 20000000:	# > 20 ms on CPU in 100 ms
                print(f"    {t} tid {tid} on-CPU +{d / 1e6:.0f} ms (utime {u} stime {sy})", file=sys.stderr)
PY
}
echo "== elephant flows ($CONNS TCP connections, $MB MB, + $((MB / 9)) MB of UDP mice in 2000 flows)," \
	"span queues $SPAN_QUEUES"
for ((r = 1; r <= ${SESSIONS:-1}; r++)); do
	for m in $MODES; do
		run_mode "$m" "$r"
	done
done
