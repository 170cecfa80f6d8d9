#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# test_ipfix.sh - the ipfix sinks against real tools, on loopback only:
#  1. ipfix (UDP) -> nfcapd (nfdump 1.7): `nfdump -r` shows the same flows,
#     packets and bytes, both directions, as `flowcut read` JSON, for golden
#     captures and real ones; tshark decodes every template and data record
#     with no malformed packet and no expert warning.
#  2. ipfix+tcp -> a TCP collector that relays each message to nfcapd (1.7
#     has no TCP input): same comparison; tshark decodes the TCP stream;
#     every connection starts with templates.
#  3. a TCP collector that dies mid-run: the sink reports failure (write < 0)
#     instead of hanging or claiming delivery; with retries, it reconnects to
#     the restarted collector, templates first, and delivers the rest.
# Every process started here is ended by PID; the temp dir is removed.
# Prints "PASS part"/"FAIL part" lines; exits non-zero on any failure, 77 if
# nfcapd/nfdump/tshark are missing.
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
SHARED=${FC_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
FLOWCUT=${FLOWCUT:-$ROOT/build/flowcut}
TOOL="python3 $E2E_DIR/ipfix_tool.py"
export TZ=UTC

for t in nfcapd nfdump tshark cc; do
	command -v $t >/dev/null || { echo "$t not installed (scripts/setup.sh test)" >&2; exit 77; }
done
if [ ! -x "$FLOWCUT" ] || [ ! -f "$ROOT/build/libflowcut.a" ]; then
	echo "build first (make)" >&2
	exit 1
fi

T=$(mktemp -d /tmp/fc-ipfix.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -z "${E2E_KEEP:-}" ] && rm -rf "$T"
	return 0
}
trap cleanup EXIT
bg() { "$@" & pids+=($!); LAST_PID=$!; }
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 0; }
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
wait_file() {	# FILE REGEX: up to 10 s
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# A private copy: a concurrent `make` may replace build/flowcut mid-run.
cp "$FLOWCUT" "$T/flowcut"
FLOWCUT=$T/flowcut

# The driver: reads a capture with the library, writes through a sink URL.
eval "$(make -s -p -n -q -C "$ROOT" 2>/dev/null | grep -E '^(LDLIBS|BASE_CFLAGS|OPT_CFLAGS) :=' |
	sed 's/ := \(.*\)/="\1"/')"
# shellcheck disable=SC2086 # flag lists split on purpose
(cd "$ROOT" && cc $BASE_CFLAGS $OPT_CFLAGS -o "$T/ipfix_send" tests/e2e/ipfix_send.c \
	-Wl,--whole-archive build/libflowcut.a -Wl,--no-whole-archive $LDLIBS) ||
	{ echo "cannot build ipfix_send" >&2; exit 1; }

CAPS=(
	"$ROOT"/tests/decode/pcaps/{tcp_sf,tcp_rej,icmp_echo,ipv6_tcp,udp_dns,vlan_qinq,vxlan,gre_teb}.pcap
	"$SHARED"/corpus/real/suricata-bug-5162.pcap
	"$SHARED"/corpus/real/pcap-parser-wireshark_samples-test.pcapng
)
FMT=$($TOOL fmt)

start_collectors() {	# NAME PROTO(udp|tcp): nfcapd, tshark on the export port, TCP relay
	local name=$1 proto=$2
	NFPORT=$($TOOL port)
	EXPORT_PORT=$NFPORT
	while [ "$proto" = tcp ] && [ "$EXPORT_PORT" = "$NFPORT" ]; do EXPORT_PORT=$($TOOL port); done
	mkdir -p "$T/$name/nf"
	bg tshark -i lo -B 64 -f "$proto port $EXPORT_PORT" -w "$T/$name/export.pcap" >/dev/null \
		2>"$T/$name/tshark.log"
	TSHARK_PID=$LAST_PID
	# a big socket buffer: UDP loss under a burst is not what this test is about
	bg nfcapd -B 8388608 -w "$T/$name/nf" -p "$NFPORT" -b 127.0.0.1 >"$T/$name/nfcapd.log" 2>&1
	NFCAPD_PID=$LAST_PID
	wait_file "$T/$name/nfcapd.log" 'Startup nfcapd' || { echo "nfcapd did not start" >&2; exit 1; }
	wait_file "$T/$name/tshark.log" 'Capturing on' || { echo "tshark did not start" >&2; exit 1; }
	sleep 1	# "Capturing on" comes a moment before the capture is live
	if [ "$proto" = tcp ]; then
		bg $TOOL tcp-relay "$EXPORT_PORT" "$NFPORT" --log "$T/$name/relay.log" \
			>"$T/$name/relay.out" 2>&1
		RELAY_PID=$LAST_PID
		wait_file "$T/$name/relay.out" listening || { echo "relay did not start" >&2; exit 1; }
	fi
}

# check_run NAME PROTO TYPE QUERY: export every capture, then compare and decode.
check_run() {
	local name=$1 proto=$2 type=$3 query=$4 i=0 c dec="$T/$1/decoded.txt"
	start_collectors "$name" "$proto"
	: >"$T/$name/flowcut.json"
	for c in "${CAPS[@]}"; do
		i=$((i + 1))
		"$FLOWCUT" read -q "$c" >>"$T/$name/flowcut.json" || echo "flowcut read $c failed"
		# one observation domain per capture: each run is its own sequence space
		# -d 1: a millisecond between batches of 64 keeps UDP bursts small enough
		# for nfcapd and the capture on a loaded machine
		if ! "$T/ipfix_send" -d 1 "$c" "$type://127.0.0.1:$EXPORT_PORT?domain=$i$query" \
			>>"$T/$name/send.log" 2>&1; then
			echo "send $c failed:"; cat "$T/$name/send.log"
		fi
	done
	sleep 1
	[ "$proto" = tcp ] && stop "$RELAY_PID"
	stop "$NFCAPD_PID"
	sleep 0.5
	stop "$TSHARK_PID"
	local flows
	flows=$(wc -l <"$T/$name/flowcut.json")
	nfdump -R "$T/$name/nf" -q -N -6 -o "$FMT" >"$T/$name/nfdump.txt" 2>"$T/$name/nfdump.err" ||
		{ echo "nfdump failed: $(cat "$T/$name/nfdump.err")"; }
	if $TOOL compare "$T/$name/flowcut.json" "$T/$name/nfdump.txt" $UNI; then
		pass "$name nfdump: same $flows flows, packets and bytes both ways"
	else
		fail "$name nfdump"
	fi
	# nfdump 1.7 leaves the exporter-statistics (options) records out of its
	# sequence count, so it may count a "sequence error" per statistics record
	# after the first; RFC 7011 and tshark count every data record, as we do.
	if grep -q 'Bad Packets: 0' "$T/$name/nfcapd.log"; then
		pass "$name nfcapd: no bad packets ($(grep -o 'Sequence Errors: [0-9]*' "$T/$name/nfcapd.log"))"
	else
		fail "$name nfcapd: $(grep 'Bad Packets' "$T/$name/nfcapd.log")"
	fi

	# tshark: decode everything; count data records per template; no warnings.
	tshark -r "$T/$name/export.pcap" -d "$proto.port==$EXPORT_PORT,cflow" -V >"$dec" 2>/dev/null
	local expert tmpl
	expert=$(tshark -r "$T/$name/export.pcap" -d "$proto.port==$EXPORT_PORT,cflow" -q -z expert,warn \
		2>/dev/null | grep -v -E '^(=|$|Running as)' || true)
	if grep -qi malformed "$dec" || [ -n "$expert" ]; then
		fail "$name tshark: malformed or expert warnings: $expert"
	else
		pass "$name tshark: no malformed packet, no expert warning"
	fi
	local flow_recs
	flow_recs=$(grep -c -E '^ +Flow [0-9]+$' "$dec" || true)
	tmpl=$(grep -c 'Template Id: ' "$dec" || true)
	# every flow record decoded, plus the statistics records (one per domain at least)
	if [ "$flow_recs" -ge "$((flows + ${#CAPS[@]}))" ] && [ "$tmpl" -gt 0 ]; then
		pass "$name tshark: $flow_recs data records, $tmpl template records decoded"
	else
		fail "$name tshark: $flow_recs data records for $flows flows, $tmpl templates"
		grep -m3 -B2 -A8 'Flow 1$' "$dec" | head -30
	fi
	if [ "$proto" = tcp ]; then
		if [ "$(grep -c 'first_set=template' "$T/$name/relay.log")" -eq "${#CAPS[@]}" ] &&
			! grep -v 'first_set=template' "$T/$name/relay.log" | grep -q .; then
			pass "$name: every connection starts with a template set"
		else
			fail "$name: connections not starting with templates: $(cat "$T/$name/relay.log")"
		fi
	fi
	return 0
}

UNI=
check_run udp udp ipfix ""
UNI=--uniflow	# two records per flow; nfdump must show each direction on its own
check_run udp_uniflow_mtu512 udp ipfix "&uniflow=1&mtu=512"
UNI=
check_run tcp tcp ipfix+tcp "&mtu=16384"

# 3. A collector that dies mid-run.
BIG="$SHARED/corpus/real/pcap-parser-wireshark_samples-test.pcapng"
mkdir -p "$T/kill"
NFPORT=$($TOOL port)
KPORT=$($TOOL port)
bg $TOOL tcp-relay "$KPORT" "$NFPORT" --die-after 20000 --log "$T/kill/relay.log" >"$T/kill/relay.out" 2>&1
wait_file "$T/kill/relay.out" listening
start=$(date +%s)
if timeout 30 "$T/ipfix_send" -b 16 -d 5 "$BIG" "ipfix+tcp://127.0.0.1:$KPORT?timeout_ms=1000" \
	>"$T/kill/send.out" 2>"$T/kill/send.err"; then
	fail "tcp collector killed: sink claimed delivery of everything"
elif grep -q 'write failed' "$T/kill/send.err" && [ $(($(date +%s) - start)) -lt 20 ]; then
	pass "tcp collector killed: write() fails fast ($(cat "$T/kill/send.err"))"
else
	fail "tcp collector killed: $(cat "$T/kill/send.err")"
fi

# ... and comes back: the sink reconnects, templates first, and delivers the rest.
: >"$T/kill/relay2.log"
bg $TOOL tcp-relay "$KPORT" "$NFPORT" --die-after 20000 --log "$T/kill/relay2.log" >"$T/kill/relay2.out" 2>&1
R1=$LAST_PID
wait_file "$T/kill/relay2.out" listening
bg "$T/ipfix_send" -t 15 -b 16 -d 2 "$BIG" "ipfix+tcp://127.0.0.1:$KPORT?timeout_ms=1000" \
	>"$T/kill/send2.out" 2>"$T/kill/send2.err"
SENDER=$LAST_PID
wait "$R1" 2>/dev/null	# first collector dies after 20000 bytes
bg $TOOL tcp-relay "$KPORT" "$NFPORT" --log "$T/kill/relay2.log" >"$T/kill/relay3.out" 2>&1
wait "$SENDER"
st=$?
if [ $st -eq 0 ] && [ "$(grep -c 'first_set=template' "$T/kill/relay2.log")" -ge 2 ] &&
	! grep -v 'first_set=template' "$T/kill/relay2.log" | grep -q . &&
	grep -q "records \([0-9]*\) delivered \1 " "$T/kill/send2.out"; then
	pass "tcp collector restarted: reconnect, templates first, rest delivered ($(cat "$T/kill/send2.out"))"
else
	fail "tcp collector restarted: exit $st, $(cat "$T/kill/send2.out" "$T/kill/send2.err" "$T/kill/relay2.log")"
fi

[ $fails -eq 0 ]
