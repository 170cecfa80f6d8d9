#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_clickhouse.py - compare a ClickHouse flows table with `flowcut read` JSON.

usage: check_clickhouse.py HTTP_BASE DB.TABLE RECORDS.json [--times N]

Checks count(), sum(pkts), sum(bytes), sum(rpkts), sum(rbytes) (times N when
the records were inserted N times) and, when N is 1, every row field by field,
keyed by (flow_id, start_ns). Prints what differs and exits 1 on a mismatch.
"""
import ipaddress
import json
import sys
import urllib.parse
import urllib.request

COLS = ("flow_id start_ns end_ns proto family IPv6NumToString(src) IPv6NumToString(dst) "
        "sport dport icmp_id vlan vlan_inner pkts bytes rpkts rbytes tcp_flags rtcp_flags "
        "state history end_reason community_id tunnel_type tunnel_id "
        "IPv6NumToString(tunnel_src) IPv6NumToString(tunnel_dst) tunnel_depth bypass_pkts "
        "bypass_bytes bypass_rpkts bypass_rbytes bypass_start_ns toUInt32(start) toUInt32(end)"
        ).split()


def query(base, sql):
    url = base + "/?" + urllib.parse.urlencode({"query": sql})
    with urllib.request.urlopen(url, timeout=20) as r:
        return r.read().decode()


def unescape_tsv(s):
    if s == "\\N":
        return None
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "\\": "\\", "0": "\0", "'": "'"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def ts_ns(text):
    sec, _, frac = str(text).partition(".")
    return int(sec) * 1000000000 + int(frac.ljust(9, "0")[:9] or 0)


def addr16(text):
    a = ipaddress.ip_address(text)
    if a.version == 4:
        return b"\0" * 10 + b"\xff\xff" + a.packed
    return a.packed


def expected(rec):
    tcp = rec["proto"] == 6
    tun = rec.get("tunnel")
    byp = rec.get("bypass")
    start, end = ts_ns(rec["start"]), ts_ns(rec["end"])
    return (
        rec["flow_id"], start, end, rec["proto"], 6 if ":" in rec["src"] else 4,
        addr16(rec["src"]), addr16(rec["dst"]), rec["sport"], rec["dport"],
        rec.get("icmp_id"), rec.get("vlan"), rec.get("vlan_inner"),
        rec["pkts"], rec["bytes"], rec["rpkts"], rec["rbytes"],
        rec["tcp_flags"] if tcp else 0, rec["rtcp_flags"] if tcp else 0,
        rec["state"] if tcp else "", rec["history"] if tcp else "",
        rec["end_reason"], rec["community_id"],
        tun["type"] if tun else "", tun["id"] if tun else 0,
        addr16(tun["src"]) if tun else b"\0" * 16, addr16(tun["dst"]) if tun else b"\0" * 16,
        tun["depth"] if tun else 0,
        byp["pkts"] if byp else 0, byp["bytes"] if byp else 0,
        byp["rpkts"] if byp else 0, byp["rbytes"] if byp else 0,
        ts_ns(byp["start"]) if byp else 0,
        start // 1000000000, end // 1000000000,
    )


def parse_row(line):
    f = [unescape_tsv(x) for x in line.split("\t")]
    conv = []
    for name, v in zip(COLS, f):
        if v is None:
            conv.append(None)
        elif name.startswith("IPv6NumToString"):
            conv.append(ipaddress.IPv6Address(v).packed)
        elif name in ("state", "history", "end_reason", "community_id", "tunnel_type"):
            conv.append(v)
        else:
            conv.append(int(v))
    return tuple(conv)


def main():
    base, table, path = sys.argv[1:4]
    times = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--times" else 1
    # Timestamps are seconds with 9 decimals: keep them as text, a float loses ns.
    recs = [json.loads(l, parse_float=str) for l in open(path) if l.strip()]
    want = [len(recs)] + [sum(r[k] for r in recs) for k in ("pkts", "bytes", "rpkts", "rbytes")]
    want = [w * times for w in want]
    got = [int(x) for x in query(base, "SELECT count(), sum(pkts), sum(bytes), sum(rpkts), "
                                 "sum(rbytes) FROM %s FORMAT TabSeparated" % table).split()]
    bad = 0
    if got != want:
        print("%s: totals (count, pkts, bytes, rpkts, rbytes) %s, flowcut read says %s"
              % (table, got, want))
        bad = 1
    if times == 1:
        rows = query(base, "SELECT %s FROM %s FORMAT TabSeparated" % (", ".join(COLS), table))
        have = {}
        for line in rows.splitlines():
            r = parse_row(line)
            have[(r[0], r[1])] = r
        for rec in recs:
            e = expected(rec)
            h = have.pop((e[0], e[1]), None)
            if h != e:
                bad += 1
                if bad <= 5:
                    diff = [(COLS[i], e[i], h[i] if h else None) for i in range(len(COLS))
                            if not h or e[i] != h[i]]
                    print("%s: flow %d start %d differs: %s" % (table, e[0], e[1], diff))
        if have:
            bad += 1
            print("%s: %d rows not in flowcut read's output" % (table, len(have)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
