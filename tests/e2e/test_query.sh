#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The SQLite store end to end, no network needed: every golden capture is
# read into a store with --sink sqlite:DB, and `flowcut query --format json`
# must give back exactly the records `flowcut read` prints (as a multiset;
# the store lists by end time), top talkers/ports/protocols must equal sums
# over those records, and the table form and the errors must be sane.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d "/tmp/flowcut-e2e-query.$$.XXXXXX")
trap 'rm -rf "$T"' EXIT
PCAPS="$ROOT/tests/decode/pcaps"

n=0
for p in "$PCAPS"/*.pcap; do
	name=$(basename "$p" .pcap)
	"$FLOWCUT" read "$p" -q >"$T/$name.ref.json"
	"$FLOWCUT" read "$p" -q --sink "sqlite:$T/$name.db"
	[ -s "$T/$name.ref.json" ] || continue	# captures without flows make no store rows
	"$FLOWCUT" query --db "$T/$name.db" --format json --limit 1000000 >"$T/$name.got.json"
	for what in talkers src dst ports protocols; do
		"$FLOWCUT" query --db "$T/$name.db" --top "$what" --format json --limit 1000000 \
			>"$T/$name.top-$what.json"
	done
	"$FLOWCUT" query --db "$T/$name.db" --top talkers >"$T/$name.table" 2>&1
	n=$((n + 1))
done
[ $n -ge 10 ] || die "only $n captures had flows"

python3 - "$T" <<'PY' || die "store and flowcut read disagree"
import collections, glob, json, os, sys

t = sys.argv[1]
bad = 0
for ref in sorted(glob.glob(os.path.join(t, "*.ref.json"))):
    name = os.path.basename(ref)[:-len(".ref.json")]
    if not os.path.exists(os.path.join(t, name + ".got.json")):
        continue
    want = [json.loads(l) for l in open(ref) if l.strip()]
    got = [json.loads(l) for l in open(os.path.join(t, name + ".got.json"))]
    key = lambda r: json.dumps(r, sort_keys=True)
    if sorted(map(key, want)) != sorted(map(key, got)):
        print(f"{name}: records differ ({len(got)} from the store, {len(want)} from read)")
        bad += 1
    sums = {w: collections.defaultdict(lambda: [0, 0, 0]) for w in
            ("talkers", "src", "dst", "ports", "protocols")}
    for r in want:
        v = (r["bytes"] + r["rbytes"], r["pkts"] + r["rpkts"], 1)
        keys = {"src": [r["src"]], "dst": [r["dst"]],
                "talkers": sorted({r["src"], r["dst"]}),
                "ports": [(r["proto"], r["dport"])], "protocols": [r["proto"]]}
        for w, ks in keys.items():
            for k in ks:
                s = sums[w][k]
                for i in range(3):
                    s[i] += v[i]
    for w, exp in sums.items():
        rows = [json.loads(l) for l in open(os.path.join(t, f"{name}.top-{w}.json"))]
        got_w = {}
        for r in rows:
            k = r["addr"] if "addr" in r else (r["proto"], r["port"]) if "port" in r else r["proto"]
            got_w[k] = [r["bytes"], r["pkts"], r["flows"]]
        if got_w != {k: v for k, v in exp.items()}:
            print(f"{name}: --top {w} differs: {got_w} != {dict(exp)}")
            bad += 1
        if [r["bytes"] for r in rows] != sorted((r["bytes"] for r in rows), reverse=True):
            print(f"{name}: --top {w} not in byte order")
            bad += 1
sys.exit(1 if bad else 0)
PY

# the table has a header and aligned columns
head -n1 "$T/tcp_sf.table" | grep -qE '^HOST +BYTES +PKTS +FLOWS$' || die "table header: $(cat "$T/tcp_sf.table")"
grep -qE '^192\.0\.2\.10 +[0-9.]+ [kM]?B ' "$T/tcp_sf.table" || die "table row: $(cat "$T/tcp_sf.table")"

# --since/--until: every golden record ends in 2023-11-14 (epoch 1.7e9)
"$FLOWCUT" query --db "$T/tcp_sf.db" --since 1700000000 --until 1700000001 --format json | grep -q flow_id ||
	die "--since/--until in epoch seconds found nothing"
[ -z "$("$FLOWCUT" query --db "$T/tcp_sf.db" --since 1h --format json)" ] || die "--since 1h found old flows"
"$FLOWCUT" query --db "$T/tcp_sf.db" --host 198.51.100.20 --port 80 --proto tcp --format json | grep -q flow_id ||
	die "filters found nothing"

# --retain counts back from the newest record when that is older than now:
# reading an old capture into a store with retention keeps it (reopening
# runs retention at open), and --retain goes to sqlite sinks only
"$FLOWCUT" read "$PCAPS/tcp_sf.pcap" -q --sink "sqlite:$T/ret.db" --retain 7d
"$FLOWCUT" read "$PCAPS/tcp_sf.pcap" -q --sink "sqlite:$T/ret.db" --retain 7d
[ "$("$FLOWCUT" query --db "$T/ret.db" --format json | wc -l)" -eq \
	$((2 * $(wc -l <"$T/tcp_sf.ref.json"))) ] || die "--retain 7d deleted records of an old capture"
printf '[read]\nretain = 7d\n' >"$T/ret.conf"
"$FLOWCUT" read "$PCAPS/tcp_sf.pcap" -q --config "$T/ret.conf" --sink "sqlite:$T/ret2.db" ||
	die "retain in [read] of the config file"

expect_fail() {	# want_rc regex cmd...
	local want=$1 re=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -eq "$want" ] || die "$*: exit $rc, expected $want: $(cat "$T/err")"
	grep -qE -- "$re" "$T/err" || die "$*: message does not match /$re/: $(cat "$T/err")"
}
expect_fail 1 "no flow store at $T/nope.db \(start .flowcut capture., or pass --db\)" \
	"$FLOWCUT" query --db "$T/nope.db"
expect_fail 2 "--since: 'yesterday' is not a time" "$FLOWCUT" query --db "$T/tcp_sf.db" --since yesterday
expect_fail 2 "--top: 'hosts' is not one of" "$FLOWCUT" query --db "$T/tcp_sf.db" --top hosts
expect_fail 2 "'10.0.0.256' is not an IPv4 or IPv6 address" "$FLOWCUT" query --db "$T/tcp_sf.db" --src 10.0.0.256
expect_fail 1 "retain=forever: not a duration" \
	"$FLOWCUT" read "$PCAPS/tcp_sf.pcap" -q --sink "sqlite:$T/ret3.db" --retain forever
expect_fail 1 "retain=bogus: not a duration" \
	"$FLOWCUT" read "$PCAPS/tcp_sf.pcap" -q --sink "sqlite:$T/ret3.db?retain=bogus" --retain 7d
expect_fail 2 "--proto: 'tpc' is not a protocol" "$FLOWCUT" query --db "$T/tcp_sf.db" --proto tpc
exit 0
