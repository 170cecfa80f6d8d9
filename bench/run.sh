#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/run.sh - flowcut's throughput and memory benchmark (`make bench`).
#
# Owns: building bench/gen_synth.c and bench/floor.c into build/bench/,
# generating the synthetic captures into bench/data/ (once; they are
# reproducible byte for byte, so they are not committed), and timing, on each
# capture and with the page cache warm:
#   floor      bare libpcap read loop (bench/floor.c), the I/O floor
#   floor-64k  the same loop with the 64 KiB stdio buffer flowcut gives libpcap
#              (x_floor is always against "floor", the loop as libpcap ships)
#   flowcut    build/flowcut read FILE --quiet -o /dev/null --stats JSON
#   flowcut-1t the same with --no-reader-thread (decode, flows and file I/O on one thread)
#   softflowd  softflowd -r FILE (no -n: it builds export packets, sends none)
#   nfpcapd    nfpcapd -r FILE -w TMPDIR (nfdump 1.7)
#   argus      argus -r FILE -w /dev/null
# Each tool runs --runs times (default 3); the run with the lowest wall time is
# kept ("best of N"), with its own CPU time and peak RSS. Memory per flow is
# (peak RSS - peak RSS of the same tool on a 1,000-packet capture) / flows,
# where flows is the generator's count of bidirectional 5-tuples (flowcut:
# "flows.created" from its --stats JSON). Peers count flows their own way
# (nfpcapd one per direction, softflowd splits ICMP echo request and reply),
# so read that column as memory per connection in the capture.
#
# Nothing is ever sent on the network: softflowd gets no export target and the
# others write files. A missing or failing tool is reported and skipped.
#
# usage: bench/run.sh [--quick] [--runs N] [--only tool,tool] [--regen]
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

BIN=build/bench
DATA=bench/data
FLOWCUT=${FLOWCUT:-build/flowcut}
TOOL_TIMEOUT=${TOOL_TIMEOUT:-600}	# seconds per tool run
RUNS=3
QUICK=0
REGEN=0
ONLY=""
TOOLS="floor floor-64k flowcut flowcut-1t softflowd nfpcapd argus"

usage() {
	sed -n '/^# usage:/s/^# //p' "$0"
	echo "  --quick     200k-packet captures (a smoke test, ~1 minute)"
	echo "  --runs N    runs per tool, best kept (default 3)"
	echo "  --only L    comma-separated subset of: ${TOOLS// /,}"
	echo "  --regen     regenerate the captures even if present"
	echo "  env: FLOWCUT=path (default build/flowcut), TOOL_TIMEOUT=seconds (default 600)"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--only) ONLY=${2:?--only needs a list}; shift ;;
	--regen) REGEN=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "run.sh: --runs must be a positive integer" >&2; exit 2 ;; esac
if [ -n "$ONLY" ]; then
	for t in ${ONLY//,/ }; do
		case " $TOOLS " in *" $t "*) ;; *) echo "run.sh: unknown tool '$t'" >&2; exit 2 ;; esac
	done
	TOOLS=${ONLY//,/ }
fi

TMP=$(mktemp -d /tmp/flowcut-bench.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT

log() { printf '%s\n' "$*" >&2; }

# --- build the two helpers ---------------------------------------------------

mkdir -p "$BIN" "$DATA"
build_one() { # out src libs...
	local out=$1 src=$2
	shift 2
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
		log "cc -O2 $src -> $out"
		cc -O2 -g -std=gnu11 -Wall -Wextra -o "$out" "$src" "$@" || exit 1
	fi
}
PCAP_LIBS=$(pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
PCAP_CFLAGS=$(pkg-config --cflags libpcap 2>/dev/null || true)
build_one "$BIN/gen_synth" bench/gen_synth.c -lm
# shellcheck disable=SC2086
build_one "$BIN/floor" bench/floor.c $PCAP_CFLAGS $PCAP_LIBS

# --- captures -----------------------------------------------------------------

# Captures are rebuilt when bench/gen_synth.c changes: the .meta file beside
# each one records the generator's hash and its summary line.
GEN_HASH=$(sha256sum bench/gen_synth.c | cut -c1-16)

gen_capture() { # name gen_synth-args...
	local file="$DATA/$1.pcap" meta="$DATA/$1.meta"
	shift
	if [ "$REGEN" = 0 ] && [ -s "$file" ] && [ -s "$meta" ] &&
		grep -qx "gen_hash=$GEN_HASH" "$meta" && grep -qx "args=$*" "$meta"; then
		return 0
	fi
	log "generating $file ($*)"
	if ! "$BIN/gen_synth" -o "$file.tmp" "$@" 2>"$TMP/gen.err"; then
		cat "$TMP/gen.err" >&2
		rm -f "$file.tmp"
		exit 1
	fi
	mv "$file.tmp" "$file"
	{
		echo "gen_hash=$GEN_HASH"
		echo "args=$*"
		grep -o 'packets=[0-9]* flows=[0-9]* bytes=[0-9]*.*' "$TMP/gen.err" | tr ' ' '\n'
		grep -v 'packets=[0-9]* flows=' "$TMP/gen.err" | sed 's/^/summary=/'
	} >"$meta"
}

meta_get() { # name key
	sed -n "s/^$2=//p" "$DATA/$1.meta" | head -n1
}

if [ "$QUICK" = 1 ]; then
	CAPTURES="synth-large-200k synth-small-200k"
	gen_capture synth-large-200k --size large --packets 200000 --flows 6000
	gen_capture synth-small-200k --size small --packets 200000 --flows 6000
else
	# ~1 GB of ~500-byte packets, and the same flows in 64-128-byte frames
	CAPTURES="synth-large-2m synth-small-2m"
	gen_capture synth-large-2m --size large --packets 2000000 --flows 60000
	gen_capture synth-small-2m --size small --packets 2000000 --flows 60000
fi
gen_capture synth-tiny --size large --packets 1000 --flows 10	# RSS baseline

# --- running one tool ---------------------------------------------------------

# Fills the CMD array for tool $1 on file $2, or returns 1 if the tool is missing.
tool_cmd() {
	local tool=$1 file=$2
	case "$tool" in
	floor) CMD=("$BIN/floor" "$file") ;;
	floor-64k) CMD=("$BIN/floor" --buf64k "$file") ;;	# flowcut's stdio buffer size
	flowcut)
		[ -x "$FLOWCUT" ] || return 1
		CMD=("$FLOWCUT" read "$file" --quiet -o /dev/null --stats "$TMP/flowcut.stats.json")
		;;
	flowcut-1t)	# the same on one thread: no reader thread overlapping file I/O
		[ -x "$FLOWCUT" ] || return 1
		CMD=("$FLOWCUT" read "$file" --quiet -o /dev/null --no-reader-thread \
			--stats "$TMP/flowcut.stats.json")
		;;
	softflowd)
		command -v softflowd >/dev/null || return 1
		# -6: track IPv6 too; -m: room for every flow, so none is force-expired
		# and peak RSS reflects all of them; no -n: nothing is sent anywhere.
		# No -c: with -r and a control socket, softflowd 1.1.0 blocks in
		# accept() at EOF instead of exiting.
		CMD=(softflowd -r "$file" -d -6 -v 10 -m 4000000)
		;;
	nfpcapd)
		command -v nfpcapd >/dev/null || return 1
		CMD=(nfpcapd -r "$file" -w "$TMP/nfpcapd.out")
		;;
	argus)
		command -v argus >/dev/null || return 1
		CMD=(argus -r "$file" -w /dev/null)
		;;
	esac
	return 0
}

# Runs CMD once; sets R_WALL (s), R_CPU (user+sys s), R_RSS (KiB), R_RC.
run_once() {
	local t0 t1 line
	rm -rf "$TMP/nfpcapd.out" "$TMP/flowcut.stats.json"
	mkdir -p "$TMP/nfpcapd.out"
	t0=$(date +%s%N)
	/usr/bin/time -f 'TIME %U %S %M' -o "$TMP/time.out" \
		timeout -k 10 "$TOOL_TIMEOUT" "${CMD[@]}" >"$TMP/out.log" 2>"$TMP/err.log"
	R_RC=$?
	t1=$(date +%s%N)
	R_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
	line=$(grep '^TIME ' "$TMP/time.out" | tail -n1)
	R_CPU=$(echo "$line" | awk '{ printf "%.2f", $2 + $3 }')
	R_RSS=$(echo "$line" | awk '{ print $4 }')
}

# Prints the number in flows.created of a flowcut --stats JSON, if any.
flowcut_flows() {
	python3 - "$1" <<-'EOF' 2>/dev/null
		import json, sys
		d = json.load(open(sys.argv[1]))
		f = d.get("flows", {})
		n = f.get("created") if isinstance(f, dict) else f
		p = d.get("packets_read")
		if isinstance(n, int):
		    print(n, p if isinstance(p, int) else "")
	EOF
}

declare -A BASE_RSS

baseline_rss() { # tool -> BASE_RSS[tool] (KiB), from one run on the tiny capture
	local tool=$1
	[ -n "${BASE_RSS[$tool]:-}" ] && return
	BASE_RSS[$tool]=""
	tool_cmd "$tool" "$DATA/synth-tiny.pcap" || return
	run_once
	[ "$R_RC" = 0 ] && BASE_RSS[$tool]=$R_RSS
}

# --- the benchmark ------------------------------------------------------------

printf 'flowcut benchmark: %s, %s CPUs, %s; best of %s runs, page cache warm\n' \
	"$(uname -r)" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$RUNS"
[ -x "$FLOWCUT" ] || printf 'note: %s is not built (make); flowcut rows are skipped\n' "$FLOWCUT"

for cap in $CAPTURES; do
	file="$DATA/$cap.pcap"
	packets=$(meta_get "$cap" packets)
	flows=$(meta_get "$cap" flows)
	bytes=$(meta_get "$cap" bytes)
	cat "$file" "$DATA/synth-tiny.pcap" >/dev/null	# warm the page cache

	printf '\n== %s: %s packets, %s flows, %s MB on the wire (%s B/packet avg), %s MB file\n' \
		"$cap" "$packets" "$flows" "$((bytes / 1000000))" "$((bytes / packets))" \
		"$(($(stat -c %s "$file") / 1000000))"
	printf '%-10s %8s %8s %9s %9s %9s %9s %10s %8s\n' \
		tool wall_s cpu_s ns/pkt cpu_ns/pkt Mpkt/s rss_MB B/flow x_floor
	floor_wall=""
	for tool in $TOOLS; do
		if ! tool_cmd "$tool" "$file"; then
			printf '%-10s %s\n' "$tool" "not installed / not built: skipped"
			continue
		fi
		best_wall="" best_cpu="" best_rss="" fail="" note=""
		tool_flows=$flows
		for _ in $(seq "$RUNS"); do
			run_once
			if [ "$R_RC" != 0 ]; then
				fail="exit status $R_RC: $(tail -n1 "$TMP/err.log" | cut -c1-100)"
				break
			fi
			if [ "${tool%-1t}" = flowcut ]; then
				read -r n fc_pkts <<<"$(flowcut_flows "$TMP/flowcut.stats.json")"
				[ -n "$n" ] && tool_flows=$n
				[ -n "$fc_pkts" ] && [ "$fc_pkts" != "$packets" ] &&
					note="flowcut read $fc_pkts packets, expected $packets"
			fi
			if [ -z "$best_wall" ] || awk -v a="$R_WALL" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
				best_wall=$R_WALL best_cpu=$R_CPU best_rss=$R_RSS
			fi
		done
		if [ -n "$fail" ]; then
			printf '%-10s FAILED (%s)\n' "$tool" "$fail"
			continue
		fi
		[ "$tool" = floor ] && floor_wall=$best_wall
		baseline_rss "$tool"
		awk -v t="$tool" -v w="$best_wall" -v c="$best_cpu" -v r="$best_rss" \
			-v b="${BASE_RSS[$tool]:-}" -v p="$packets" -v f="$tool_flows" -v fl="$floor_wall" '
			BEGIN {
				bpf = (b == "" || f == 0 || t ~ /^floor/) ? "-" : sprintf("%.0f", (r - b) * 1024 / f)
				xf = (fl == "" || fl == 0) ? "n/a" : sprintf("%.2f", w / fl)
				printf "%-10s %8.3f %8.2f %9.1f %9.1f %9.2f %9.1f %10s %8s\n",
					t, w, c, w * 1e9 / p, c * 1e9 / p, p / w / 1e6, r / 1024, bpf, xf
			}'
		[ -n "$note" ] && printf '%-10s note: %s\n' "" "$note"
	done
done
printf '\nwall_s: elapsed time of the process (best run); cpu_s: user+sys of that run;\n'
printf 'ns/pkt and Mpkt/s from wall time, cpu_ns/pkt from cpu_s; x_floor = wall_s / floor wall_s;\n'
printf 'B/flow: (peak RSS - peak RSS on a 1000-packet capture) / flows in the capture.\n'
