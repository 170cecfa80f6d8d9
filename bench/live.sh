#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/live.sh - live-capture benchmark (`make bench-live`, as root).
#
# Replays a synthetic capture (bench/gen_synth.c; by default the small-packet
# one: 64-128-byte frames, 6,000 flows, 15 % on VLANs; `make bench-live` also
# runs the core benchmark's capture, synth-large-2m: 2M packets of ~515
# bytes, 60,000 flows) from one network namespace over a veth pair into
# another, where one capture tool at a time listens on the peer:
#   flowcut-1   build/flowcut capture --workers 1
#   flowcut-2   build/flowcut capture --workers 2
#   tcpdump     tcpdump -w /dev/null
#   softflowd   softflowd -i (export to 127.0.0.1 inside the namespace: nothing leaves it)
# and reports packets received, kernel drops and CPU seconds per million
# packets received (utime+stime of the tool's process from /proc, all
# threads).
#
# The sender is build/bench/live_send (bench/live_send.c: the file in memory,
# 256 frames per sendmmsg, qdisc bypassed), pinned to CPU 0, flat out unless
# --rate; --gen tcpreplay uses `tcpreplay --topspeed -K` as earlier runs did.
# On a veth the kernel's receive work, including copying each frame into the
# tool's ring, runs on the sender's CPU and is charged to the sender, so the
# sender's rate is the machine's limit and the tools' CPU is their own work.
#
# CPU is counted from the moment the tool is capturing until 0.5 s after the
# last frame was sent (its ring drained), so startup (flowcut maps and zeroes
# a 64 MiB ring per worker) and shutdown are left out; start_s shows startup.
#
# usage: bench/live.sh [--loops N] [--rate PPS] [--gen live_send|tcpreplay]
#                      [--pcap FILE] [--tools "flowcut-1 ..."]
#        (default: 10 loops of the 200k capture, flat out, every tool)
#        env: PERF_OUT=/tmp/p  perf record -g of each tool while the frames arrive,
#             to /tmp/p.TOOL (the tool's CPU figure then includes perf's overhead)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
FLOWCUT=${FLOWCUT:-build/flowcut}
SENDER=${SENDER:-build/bench/live_send}
LOOPS=10
RATE=0
GEN=live_send
TOOLS="flowcut-1 flowcut-2 tcpdump softflowd"
PCAP=bench/data/synth-small-200k.pcap

while [ $# -gt 0 ]; do
	case "$1" in
	--loops) LOOPS=${2:?}; shift ;;
	--rate) RATE=${2:?}; shift ;;
	--gen) GEN=${2:?}; shift ;;
	--tools) TOOLS=${2:?}; shift ;;
	--pcap) PCAP=${2:?}; shift ;;
	-h | --help) sed -n '/^# usage:/s/^# //p' "$0"; exit 0 ;;
	*) echo "live.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

log() { printf '%s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "live.sh: needs root (network namespaces)"; exit 1; }
case $GEN in
tcpreplay) command -v tcpreplay >/dev/null ||
	{ log "live.sh: tcpreplay missing (scripts/setup.sh all)"; exit 1; } ;;
live_send) [ -x "$SENDER" ] || { log "live.sh: $SENDER not built (make $SENDER)"; exit 1; } ;;
*) log "live.sh: --gen live_send or tcpreplay"; exit 2 ;;
esac
[ -x "$FLOWCUT" ] || { log "live.sh: $FLOWCUT not built (make)"; exit 1; }

if [ ! -s "$PCAP" ]; then	# the two captures `make bench-live` uses (same arguments as bench/run.sh)
	case $(basename "$PCAP") in
	synth-large-2m.pcap) gen_args="--size large --packets 2000000 --flows 60000" ;;
	synth-small-200k.pcap) gen_args="--size small --packets 200000 --flows 6000" ;;
	*) log "live.sh: $PCAP does not exist"; exit 1 ;;
	esac
	mkdir -p build/bench "$(dirname "$PCAP")"
	cc -O2 -std=gnu11 -o build/bench/gen_synth bench/gen_synth.c -lm || exit 1
	# shellcheck disable=SC2086
	build/bench/gen_synth -o "$PCAP" $gen_args || exit 1
fi

TMP=$(mktemp -d /tmp/flowcut-live.XXXXXX)
NS_TX=fc-live-$$-tx
NS_RX=fc-live-$$-rx
IF_TX=flt$$
IF_RX=flr$$
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$NS_TX" 2>/dev/null
	ip netns del "$NS_RX" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NS_TX" && ip netns add "$NS_RX" || exit 1
ip link add "$IF_TX" netns "$NS_TX" type veth peer name "$IF_RX" netns "$NS_RX" || exit 1
for ns in "$NS_TX:$IF_TX" "$NS_RX:$IF_RX"; do
	ip netns exec "${ns%%:*}" ethtool -K "${ns#*:}" tso off gso off gro off >/dev/null 2>&1
	ip netns exec "${ns%%:*}" ip link set lo up
	ip netns exec "${ns%%:*}" ip link set "${ns#*:}" up
done

cpu_s() { # pid -> utime+stime in seconds (all threads)
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

wait_file() { # file regex
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	log "timeout waiting for /$2/ in $1"; return 1
}

replay() {
	if [ "$GEN" = tcpreplay ]; then
		ip netns exec "$NS_TX" tcpreplay --topspeed -K --loop "$LOOPS" -i "$IF_TX" "$PCAP" \
			>"$TMP/replay.out" 2>&1
		echo "$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$TMP/replay.out" | head -n1)" \
			"$(sed -n 's/.*Rated: .* \([0-9.]*\) pps.*/\1/p' "$TMP/replay.out" | head -n1 | cut -d. -f1)"
		return
	fi
	ip netns exec "$NS_TX" taskset -c 0 "$SENDER" -i "$IF_TX" -l "$LOOPS" -r "$RATE" "$PCAP" \
		>"$TMP/replay.out" 2>&1
	sed -n 's/^live_send: packets=\([0-9]*\) .* pps=\([0-9]*\).*/\1 \2/p' "$TMP/replay.out"
}

printf '%-11s %10s %10s %10s %8s %8s %8s %10s\n' tool sent_pkts sent_pps received drops \
	start_s cpu_s cpu_s/Mpkt
run_tool() { # name
	local name=$1 pid rx=0 drops=0 cpu cpu0 sent
	rm -f "$TMP"/tool.*
	case $name in
	flowcut-1 | flowcut-2)
		ip netns exec "$NS_RX" "$FLOWCUT" capture -i "$IF_RX" --workers "${name#flowcut-}" -q \
			-o /dev/null --stats "$TMP/tool.stats" 2>"$TMP/tool.err" &
		pid=$!; pids+=("$pid")
		wait_file "$TMP/tool.err" "capturing on" || return ;;
	tcpdump)
		ip netns exec "$NS_RX" tcpdump -Z root -n -i "$IF_RX" -w /dev/null 2>"$TMP/tool.err" &
		pid=$!; pids+=("$pid")
		wait_file "$TMP/tool.err" "listening on" || return ;;
	softflowd)
		command -v softflowd >/dev/null || { log "softflowd missing: skipped"; return; }
		ip netns exec "$NS_RX" softflowd -d -i "$IF_RX" -n 127.0.0.1:9995 -c "$TMP/sf.ctl" \
			-p "$TMP/sf.pid" >"$TMP/tool.err" 2>&1 &
		pid=$!; pids+=("$pid")
		for ((i = 0; i < 100; i++)); do
			[ -S "$TMP/sf.ctl" ] && break; sleep 0.05; done ;;
	esac
	sleep 0.3	# startup work that runs after the ready line (threads, first poll)
	cpu0=$(cpu_s "$pid")
	local perf_pid=""
	if [ -n "${PERF_OUT:-}" ]; then	# profile the tool while the frames arrive
		perf record -q -g -o "$PERF_OUT.$name" -p "$pid" 2>/dev/null &
		perf_pid=$!
		sleep 0.2
	fi
	read -r sent pps < <(replay)
	sleep 0.5	# let the tool empty its ring before the counters are read
	cpu=$(awk -v a="$cpu0" -v b="$(cpu_s "$pid")" 'BEGIN { printf "%.2f", b - a }')
	if [ -n "$perf_pid" ]; then
		kill -INT "$perf_pid" 2>/dev/null
		wait "$perf_pid" 2>/dev/null
	fi
	if [ "$name" = softflowd ]; then
		ip netns exec "$NS_RX" softflowctl -c "$TMP/sf.ctl" statistics >"$TMP/tool.sfstat" 2>&1
		# all frames, like the others (softflowd ignores VLAN frames as non-IP by default)
		rx=$(sed -n 's/^Packets received by libpcap: *\([0-9]*\).*/\1/p' "$TMP/tool.sfstat")
		drops=$(sed -n 's/^Packets dropped by libpcap: *\([0-9]*\).*/\1/p' "$TMP/tool.sfstat")
		ip netns exec "$NS_RX" softflowctl -c "$TMP/sf.ctl" shutdown >/dev/null 2>&1
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	case $name in
	flowcut-*)
		rx=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets_read"])' "$TMP/tool.stats")
		drops=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kernel_drops"])' "$TMP/tool.stats") ;;
	tcpdump)
		rx=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$TMP/tool.err")
		drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$TMP/tool.err") ;;
	esac
	printf '%-11s %10s %10s %10s %8s %8s %8s %10s\n' "$name" "${sent:-?}" "${pps:-?}" "${rx:-?}" \
		"${drops:-?}" "$cpu0" "$cpu" \
		"$(awk -v c="$cpu" -v r="${rx:-0}" 'BEGIN { if (r > 0) printf "%.3f", c / (r / 1e6); else print "?" }')"
}

for t in $TOOLS; do
	run_tool "$t"
done
log "replayed $PCAP x $LOOPS over a veth pair with $GEN (rate ${RATE:-0}, 0 = flat out)"
