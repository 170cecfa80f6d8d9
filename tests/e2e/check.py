#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check.py - assertions of the end-to-end tests (stdlib only).

The truth is a tcpdump capture taken in the *sender's* namespace, parsed here
(classic pcap, Ethernet, optional 802.1Q) into bidirectional flows with
packets and IP bytes per direction; flowcut's records from the other
namespace must match it flow for flow. Only the test's own traffic is
compared: TCP, UDP and ICMP echo between the test's addresses (IPv6
neighbour discovery and MLD come and go on their own schedule).

  check.py match   RECORDS TRUTH.pcap       every test flow == one record, counts equal
  check.py expect  RECORDS KEY=VALUE...     exactly one test record has all these fields
  check.py count   RECORDS N [KEY=VALUE...] N test records have these fields
  check.py stats   STATS KEY=VALUE...       --stats members (dotted paths) equal
  check.py workers RECORDS STATS            --workers 2 invariants
  check.py pcapeq  A.pcap B.pcap            same frames (IP length), in order per direction
Exit 0 when every assertion holds; otherwise one line per failure and exit 1.
"""
import ipaddress
import json
import struct
import sys

TEST_NETS = [ipaddress.ip_network("10.201.0.0/16"), ipaddress.ip_network("fd00:201::/32")]
ECHO_TYPES = {(1, 8), (1, 0), (58, 128), (58, 129)}
failures = []


def fail(msg):
    failures.append(msg)


def in_test_net(a):
    ip = ipaddress.ip_address(a)
    return any(ip in n for n in TEST_NETS)


def read_pcap(path):
    """Yields (ts, frame bytes) of a classic pcap file, any magic/byte order."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file")
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, expected Ethernet")
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield sec, data[off:off + caplen]
        off += caplen


def parse(frame):
    """Returns a dict for IPv4/IPv6 frames, else None."""
    if len(frame) < 14:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    off, vlan = 14, None
    if et == 0x8100 and len(frame) >= 18:
        vlan = struct.unpack("!H", frame[14:16])[0] & 0xFFF
        et = struct.unpack("!H", frame[16:18])[0]
        off = 18
    ip = frame[off:]
    if et == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        length, proto = struct.unpack("!H", ip[2:4])[0], ip[9]
        src, dst = str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20]))
        l4 = ip[ihl:]
    elif et == 0x86DD and len(ip) >= 40:
        length, proto = struct.unpack("!H", ip[4:6])[0] + 40, ip[6]
        src, dst = str(ipaddress.IPv6Address(ip[8:24])), str(ipaddress.IPv6Address(ip[24:40]))
        l4 = ip[40:]
    else:
        return None
    p = {"proto": proto, "src": src, "dst": dst, "len": length, "vlan": vlan, "sport": 0,
         "dport": 0, "flags": 0}
    if proto in (6, 17) and len(l4) >= 4:
        p["sport"], p["dport"] = struct.unpack("!HH", l4[:4])
        if proto == 6 and len(l4) >= 14:
            p["flags"] = l4[13]
    elif proto in (1, 58) and len(l4) >= 1:
        p["icmp_type"] = l4[0]
    return p


def selected(p):
    if not (in_test_net(p["src"]) and in_test_net(p["dst"])):
        return False
    if p["proto"] in (6, 17):
        return True
    return (p["proto"], p.get("icmp_type", p.get("sport"))) in ECHO_TYPES


def key_of(p):
    if p["proto"] in (1, 58):
        ends = frozenset([(p["src"], 0), (p["dst"], 0)])
    else:
        ends = frozenset([(p["src"], p["sport"]), (p["dst"], p["dport"])])
    return (p["proto"], ends, p.get("vlan") or 0)


def truth_flows(path):
    flows = {}
    for _, frame in read_pcap(path):
        p = parse(frame)
        if not p or not selected(p):
            continue
        k = key_of(p)
        f = flows.get(k)
        if f is None:
            f = flows[k] = {"src": p["src"], "sport": p["sport"], "dst": p["dst"],
                            "dport": p["dport"], "pkts": 0, "bytes": 0, "rpkts": 0,
                            "rbytes": 0}
        fwd = p["src"] == f["src"] and (p["proto"] in (1, 58) or p["sport"] == f["sport"])
        f["pkts" if fwd else "rpkts"] += 1
        f["bytes" if fwd else "rbytes"] += p["len"]
    return flows


def load_records(path):
    recs = []
    with open(path) as f:
        for line in f:
            if line.strip():
                recs.append(json.loads(line))
    return recs


def rec_selected(r):
    p = {"src": r["src"], "dst": r["dst"], "proto": r["proto"], "sport": r.get("sport", 0)}
    return selected(p)


def rec_key(r):
    p = {"proto": r["proto"], "src": r["src"], "dst": r["dst"], "sport": r.get("sport", 0),
         "dport": r.get("dport", 0), "vlan": r.get("vlan")}
    return key_of(p)


def test_records(path):
    return [r for r in load_records(path) if rec_selected(r)]


def cmd_match(records, truth):
    recs = test_records(records)
    flows = truth_flows(truth)
    if not flows:
        fail("the truth capture holds no test flow")
    by_key = {}
    for r in recs:
        by_key.setdefault(rec_key(r), []).append(r)
    for k, f in flows.items():
        got = by_key.pop(k, [])
        name = f"{k[0]} {f['src']}:{f['sport']} -> {f['dst']}:{f['dport']}"
        if len(got) != 1:
            fail(f"{name}: {len(got)} records, expected 1")
            continue
        r = got[0]
        for fld in ("src", "dst", "pkts", "bytes", "rpkts", "rbytes"):
            if r.get(fld) != f[fld]:
                fail(f"{name}: {fld} is {r.get(fld)}, the wire says {f[fld]}")
    for k, rs in by_key.items():
        for r in rs:
            fail(f"record without a flow on the wire: {json.dumps(r)}")


def parse_kv(items):
    out = {}
    for it in items:
        k, v = it.split("=", 1)
        out[k] = int(v) if v.lstrip("-").isdigit() else v
    return out


def matches(r, want):
    return all(r.get(k) == v for k, v in want.items())


def cmd_expect(records, *kv):
    want = parse_kv(kv)
    hits = [r for r in test_records(records) if matches(r, want)]
    if len(hits) != 1:
        fail(f"{len(hits)} records with {want}, expected 1; records:\n  " +
             "\n  ".join(json.dumps(r) for r in test_records(records)))


def cmd_count(records, n, *kv):
    want = parse_kv(kv)
    hits = [r for r in test_records(records) if matches(r, want)]
    if len(hits) != int(n):
        fail(f"{len(hits)} records with {want}, expected {n}")


def dig(obj, path):
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return None
    return obj


def cmd_stats(stats, *kv):
    with open(stats) as f:
        st = json.load(f)
    for k, v in parse_kv(kv).items():
        got = dig(st, k)
        if v == "true" or v == "false":
            v = v == "true"
        if got != v:
            fail(f"stats {k} is {got}, expected {v}")


def cmd_workers(records, stats):
    recs = load_records(records)
    with open(stats) as f:
        st = json.load(f)
    ids = [r["flow_id"] for r in recs]
    if len(ids) != len(set(ids)):
        fail("a flow_id appears more than once")
    keys = {}
    for r in test_records(records):
        keys.setdefault(rec_key(r), []).append(r)
        if not r.get("pkts") or not r.get("rpkts"):
            fail(f"one direction missing (flow split across workers?): {json.dumps(r)}")
    for k, rs in keys.items():
        if len(rs) != 1:
            fail(f"flow {k} has {len(rs)} records (split across workers)")
    per = {}
    for r in test_records(records):
        per[r["flow_id"] >> 48] = per.get(r["flow_id"] >> 48, 0) + 1
    if len(per) != 2:
        fail(f"records came from workers {sorted(per)}, expected both 0 and 1")
    ws = st.get("workers", [])
    if len(ws) != 2:
        fail(f"stats has {len(ws)} workers, expected 2")
    else:
        for w in ws:
            if not w["packets_read"] or not w["kernel_packets"]:
                fail(f"worker {w['worker']} saw nothing: {w}")
        for fld in ("packets_read", "kernel_packets", "kernel_drops"):
            if sum(w[fld] for w in ws) != st[fld]:
                fail(f"per-worker {fld} does not add up to {st[fld]}")
        for w in ws:
            if w["kernel_drops"]:
                fail(f"worker {w['worker']}: {w['kernel_drops']} kernel drops")


def ip_lengths(path):
    out = []
    for _, frame in read_pcap(path):
        p = parse(frame)
        if p and in_test_net(p["src"]) and in_test_net(p["dst"]) and p["src"].count(".") == 3:
            out.append((p["src"], p["dst"], p["proto"], p["len"], len(frame)))
    return out


def cmd_pcapeq(a, b):
    """Same frames, and in each direction (src, dst) in the same order. The
    interleaving of the two directions may differ: a frame received on one
    CPU and one sent on another at the same moment reach two packet sockets
    in either order."""
    la, lb = ip_lengths(a), ip_lengths(b)
    if not la:
        fail(f"{a}: no IPv4 test packets")
    if len(la) != len(lb):
        fail(f"{a} has {len(la)} IPv4 test packets, {b} has {len(lb)}")
        return
    for d in sorted({(x[0], x[1]) for x in la + lb}):
        da = [x for x in la if (x[0], x[1]) == d]
        db = [x for x in lb if (x[0], x[1]) == d]
        if da != db:
            diff = next((i for i in range(min(len(da), len(db))) if da[i] != db[i]),
                        min(len(da), len(db)))
            fail(f"{d[0]} -> {d[1]}: packet {diff} of that direction differs "
                 f"({len(da)} vs {len(db)} packets)")


CMDS = {"match": cmd_match, "expect": cmd_expect, "count": cmd_count, "stats": cmd_stats,
        "workers": cmd_workers, "pcapeq": cmd_pcapeq}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in CMDS:
        sys.exit(__doc__)
    CMDS[sys.argv[1]](*sys.argv[2:])
    for m in failures:
        print(f"check: {m}")
    sys.exit(1 if failures else 0)
