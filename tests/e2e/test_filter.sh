#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# -f runs in the kernel (SO_ATTACH_FILTER): with -f icmp only the 6 echo
# packets reach flowcut, so packets_read == kernel_packets == 6, nothing is
# counted as "filtered", and the UDP exchange leaves no record at all.
. "$(dirname "$0")/lib.sh"
e2e_setup
start_servers
start_flowcut -f icmp
in_snd $PY udp-client "$ADDR_CAP" 7000 10 20 >/dev/null
in_snd ping -q -c 3 -i 0.2 -W 2 "$ADDR_CAP" >/dev/null
in_snd $PY udp-client "$ADDR_CAP" 7000 30 >/dev/null
settle
stop_flowcut
$CHECK expect "$T/rec.json" proto=1 pkts=3 rpkts=3 bytes=252 rbytes=252
$CHECK count "$T/rec.json" 0 proto=17
[ "$(grep -c . "$T/rec.json")" -eq 1 ] || die "expected one record: $(cat "$T/rec.json")"
$CHECK stats "$T/stats.json" packets_read=6 kernel_packets=6 nonflow.filtered=0 kernel_drops=0
# A bad expression is a command-line error (exit 2) naming the expression.
rc=0
in_cap "$FLOWCUT" capture -i "$IF_CAP" -f 'not a filter(' 2>"$T/bad.err" || rc=$?
[ $rc -eq 2 ] || die "bad filter: exit $rc, expected 2"
grep -q "not a filter(" "$T/bad.err" || die "bad filter message: $(cat "$T/bad.err")"
