#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""ipfix_tool.py - helpers for tests/e2e/test_ipfix.sh.

  port                     print a free loopback port (TCP and UDP)
  tcp-relay PORT UDPPORT [--die-after BYTES] [--log FILE]
                           IPFIX-over-TCP collector on 127.0.0.1:PORT that
                           forwards every message as one datagram to
                           127.0.0.1:UDPPORT (nfcapd 1.7 has no TCP input),
                           and logs per connection whether the first Set was
                           a template set; exits after BYTES (a dying collector)
  compare JSONFILE NFDUMPFILE [--uniflow]
                           flowcut JSON records vs `nfdump -q -N -6 -o fmt:...`
                           lines: same flows, packets, bytes both ways (with
                           --uniflow: one record per direction that saw packets)
  fmt                      print the nfdump -o format compare expects
"""
import datetime
import decimal
import ipaddress
import json
import socket
import struct
import sys
from collections import Counter

NFDUMP_FMT = "fmt:%ts|%te|%pr|%sa|%da|%sp|%dp|%ipkt|%ibyt|%opkt|%obyt|%svln"
PROTO = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58, "GRE": 47, "ESP": 50, "SCTP": 132}


def free_port():
    for _ in range(100):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        return port
    raise SystemExit("no free port")


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_relay(port, udp_port, die_after, log):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    total = 0
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        first = True
        while True:
            hdr = read_exact(conn, 4)
            if hdr is None:
                break
            version, length = struct.unpack("!HH", hdr)
            body = read_exact(conn, length - 4) if length >= 16 else None
            if version != 10 or body is None:
                break
            msg = hdr + body
            if first:
                set_id = struct.unpack("!H", msg[16:18])[0]
                with open(log, "a") as f:
                    f.write("connection first_set=%s\n" %
                            ("template" if set_id in (2, 3) else set_id))
                first = False
            out.sendto(msg, ("127.0.0.1", udp_port))
            total += len(msg)
            if die_after and total >= die_after:
                conn.close()
                srv.close()
                return
        conn.close()


def ms_utc(text):
    ms = int(decimal.Decimal(text) * 1000)
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S") + ".%03d" % (ms % 1000)


ICMP_REPLY = {1: {8: 0, 13: 14, 15: 16, 17: 18}, 58: {128: 129}}


def json_keys(line, uniflow):
    """The nfdump view of one flowcut record: one biflow, or one or two uniflows."""
    r = json.loads(line, parse_float=decimal.Decimal)
    icmp = r["proto"] in (1, 58)
    sport, dport = (0, (r["sport"] << 8) | r["dport"]) if icmp else (r["sport"], r["dport"])
    common = (ms_utc(r["start"]), ms_utc(r["end"]), r["proto"])
    src, dst = ipaddress.ip_address(r["src"]), ipaddress.ip_address(r["dst"])
    vlan = r.get("vlan", 0)
    if not uniflow:
        return [common + (src, dst, sport, dport, r["pkts"], r["bytes"], r["rpkts"],
                          r["rbytes"], vlan)]
    keys = [common + (src, dst, sport, dport, r["pkts"], r["bytes"], 0, 0, vlan)]
    if r["rpkts"]:
        if icmp:
            rtype = ICMP_REPLY[r["proto"]].get(r["sport"], r["sport"])
            rsport, rdport = 0, (rtype << 8) | r["dport"]
        else:
            rsport, rdport = dport, sport
        keys.append(common + (dst, src, rsport, rdport, r["rpkts"], r["rbytes"], 0, 0, vlan))
    return keys


def port(text):
    """nfdump prints an ICMP type/code "dst port" as TYPE.CODE."""
    if "." in text:
        t, c = text.split(".")
        return int(t) << 8 | int(c)
    return int(text)


def nfdump_key(line):
    f = [x.strip() for x in line.split("|")]
    proto = int(f[2]) if f[2].isdigit() else PROTO[f[2]]
    return (f[0], f[1], proto, ipaddress.ip_address(f[3]), ipaddress.ip_address(f[4]),
            port(f[5]), port(f[6]), int(f[7]), int(f[8]), int(f[9]), int(f[10]), int(f[11]))


def compare(json_file, nf_file, uniflow):
    with open(json_file) as f:
        want = Counter(k for l in f if l.strip() for k in json_keys(l, uniflow))
    with open(nf_file) as f:
        got = Counter(nfdump_key(l) for l in f if l.strip())
    if want == got:
        print("same %d flows" % sum(want.values()))
        return 0
    missing, extra = want - got, got - want
    print("flowcut %d flows, nfdump %d" % (sum(want.values()), sum(got.values())))
    for k in list(missing)[:10]:
        print("  only in flowcut:", k)
    for k in list(extra)[:10]:
        print("  only in nfdump: ", k)
    return 1


def main():
    a = sys.argv[1:]
    if a[:1] == ["port"]:
        print(free_port())
    elif a[:1] == ["tcp-relay"]:
        die = int(a[a.index("--die-after") + 1]) if "--die-after" in a else 0
        log = a[a.index("--log") + 1] if "--log" in a else "/dev/null"
        tcp_relay(int(a[1]), int(a[2]), die, log)
    elif a[:1] == ["compare"]:
        return compare(a[1], a[2], "--uniflow" in a)
    elif a[:1] == ["fmt"]:
        print(NFDUMP_FMT)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
