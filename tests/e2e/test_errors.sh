#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Startup errors are one clear line and a non-zero exit: unknown interface,
# interface down, no CAP_NET_RAW, missing -i.
. "$(dirname "$0")/lib.sh"
e2e_setup

expect_fail() {	# want_rc regex cmd...
	local want=$1 re=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -eq "$want" ] || die "$*: exit $rc, expected $want: $(cat "$T/err")"
	grep -qE "$re" "$T/err" || die "$*: message does not match /$re/: $(cat "$T/err")"
	[ "$(grep -c . "$T/err")" -eq 1 ] || die "$*: more than one line: $(cat "$T/err")"
}

expect_fail 1 "no such interface 'nosuch$$'" in_cap "$FLOWCUT" capture -i "nosuch$$"
in_cap ip link set "$IF_CAP" down
expect_fail 1 "'$IF_CAP' is down" in_cap "$FLOWCUT" capture -i "$IF_CAP"
in_cap ip link set "$IF_CAP" up
if command -v setpriv >/dev/null; then
	expect_fail 1 "needs CAP_NET_RAW" in_cap setpriv --bounding-set=-all --inh-caps=-all \
		"$FLOWCUT" capture -i "$IF_CAP"
fi
rc=0
"$FLOWCUT" capture >/dev/null 2>"$T/err" || rc=$?
[ $rc -eq 2 ] || die "no -i: exit $rc, expected 2"
