#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_golden.py - writes flowcut's golden decode captures.

Usage: make_golden.py OUTDIR [NAME ...]

Each capture is a handful of hand-built packets exercising one thing the
decoder or the flow table must get right (see tests/decode/README.md). The
bytes are fully determined by this file: fixed addresses from the
documentation ranges (RFC 5737, RFC 3849), fixed timestamps, no randomness,
so regenerating gives identical files. IPv4 header checksums are correct, and
so are TCP, UDP and ICMP checksums. Python 3 standard library only.
"""

import os
import struct
import sys

T0 = 1700000000  # 2023-11-14T22:13:20Z; every capture starts here

# --- addresses ---------------------------------------------------------------

MAC_C = bytes.fromhex("020000000001")
MAC_S = bytes.fromhex("020000000002")
MAC_BCAST = b"\xff" * 6


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ip6(s):
    head, _, tail = s.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    words = h + [0] * (8 - len(h) - len(t)) + t
    return struct.pack("!8H", *words)


C4, S4 = ip4("192.0.2.10"), ip4("198.51.100.20")
C4B, S4B = ip4("192.0.2.11"), ip4("203.0.113.30")
C6, S6 = ip6("2001:db8::10"), ip6("2001:db8:1::20")

# --- checksums and headers ---------------------------------------------------


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def l4_csum(src, dst, proto, seg, off):
    """Fills the checksum at byte offset off of a TCP/UDP/ICMPv6 segment."""
    c = csum(pseudo(src, dst, proto, len(seg)) + seg)
    if proto == 17 and c == 0:
        c = 0xFFFF  # RFC 768: zero means "no checksum"
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def ipv4(src, dst, proto, payload, ident=1, ttl=64, df=True, mf=False, frag_off=0,
         total_len=None):
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_off // 8)
    tl = total_len if total_len is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, flags, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, nh, payload, hlim=64, flowlabel=0):
    return struct.pack("!IHBB16s16s", 0x60000000 | flowlabel, len(payload), nh, hlim,
                       src, dst) + payload


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", win=64240, opts=b""):
    """TCP segment; flags is a string of F S R P A letters."""
    bits = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[c] for c in flags)
    off = (20 + len(opts)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack if "A" in flags else 0,
                      off << 4, bits, win, 0, 0) + opts + payload
    return l4_csum(src, dst, 6, seg, 16)


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return l4_csum(src, dst, 17, seg, 6)


def icmp_echo(reply, ident, seq, data=b"flowcut golden icmp echo data!!!"):
    m = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def icmp6_echo(src, dst, reply, ident, seq, data=b"flowcut golden icmpv6 echo data!"):
    m = struct.pack("!BBHHH", 129 if reply else 128, 0, 0, ident, seq) + data
    return l4_csum(src, dst, 58, m, 2)


def eth(payload, ethertype, src=MAC_C, dst=MAC_S, tags=()):
    """Ethernet II; tags is a list of (tpid, vid) outermost first."""
    h = dst + src
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", ethertype) + payload


def eth4(ip, c2s=True, tags=()):
    return eth(ip, 0x0800, *((MAC_C, MAC_S) if c2s else (MAC_S, MAC_C)), tags=tags)


def eth6(ip, c2s=True, tags=()):
    return eth(ip, 0x86DD, *((MAC_C, MAC_S) if c2s else (MAC_S, MAC_C)), tags=tags)


MSS_OPTS = bytes.fromhex("020405b4") + b"\x01\x01\x04\x02"  # MSS 1460, NOP NOP SACK-perm
HTTP_REQ = b"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: flowcut-golden\r\n\r\n"
HTTP_RSP = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n"
            b"hello, flowcut")
UDP_REQ = b"flowcut golden udp request"
UDP_RSP = b"flowcut golden udp response, a little longer"
APP_PORT = 9999  # no tshark dissector claims it, so the payload is plain data


def tcp_session(src, dst, sport, dport, ip, mac, t, rtt=0.010):
    """A full HTTP exchange with FIN teardown: 10 packets, client closes first.
    ip(src, dst, seg) wraps a segment in IP; mac(ip_pkt, c2s) in a link layer.
    Returns [(ts, frame)]."""
    cs, ss = 1000, 5000
    pk = []

    def add(dt, c2s, flags, seq, ack, data=b"", opts=b""):
        nonlocal t
        t += dt
        a, b = (src, dst) if c2s else (dst, src)
        pa, pb = (sport, dport) if c2s else (dport, sport)
        seg = tcp(a, b, pa, pb, seq, ack, flags, data, opts=opts)
        pk.append((t, mac(ip(a, b, seg), c2s)))

    add(0, True, "S", cs, 0, opts=MSS_OPTS)
    add(rtt / 2, False, "SA", ss, cs + 1, opts=MSS_OPTS)
    add(rtt / 2, True, "A", cs + 1, ss + 1)
    add(0.001, True, "PA", cs + 1, ss + 1, HTTP_REQ)
    cs2 = cs + 1 + len(HTTP_REQ)
    add(rtt / 2, False, "A", ss + 1, cs2)
    add(0.002, False, "PA", ss + 1, cs2, HTTP_RSP)
    ss2 = ss + 1 + len(HTTP_RSP)
    add(rtt / 2, True, "FA", cs2, ss2)
    add(rtt / 2, False, "A", ss2, cs2 + 1)
    add(0.001, False, "FA", ss2, cs2 + 1)
    add(rtt / 2, True, "A", cs2 + 1, ss2 + 1)
    return pk


def v4(proto):
    return lambda a, b, seg: ipv4(a, b, proto, seg)


def v6(proto):
    return lambda a, b, seg: ipv6(a, b, proto, seg)


def udp_pair(src, dst, sport, dport, ip, mac, t, rtt=0.005):
    return [(t, mac(ip(src, dst, udp(src, dst, sport, dport, UDP_REQ)), True)),
            (t + rtt, mac(ip(dst, src, udp(dst, src, dport, sport, UDP_RSP)), False))]


# --- pcap writer -------------------------------------------------------------

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW = 0, 1, 101
LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 113, 276


def write_pcap(path, linktype, packets, nano=False, big_endian=False, snaplen=65535):
    """packets: [(ts, frame)] or [(ts, frame, orig_len)]; ts is float seconds after
    T0, or an (s, frac) pair in the file's own resolution for exact fractions."""
    bo = ">" if big_endian else "<"
    out = [struct.pack(bo + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0,
                       snaplen, linktype)]
    res = 10**9 if nano else 10**6
    for p in packets:
        ts, frame = p[0], p[1]
        orig = p[2] if len(p) > 2 else len(frame)
        if isinstance(ts, tuple):
            sec, frac = ts
        else:
            units = round(ts * res)
            sec, frac = divmod(units, res)
        cap = frame[:snaplen]
        out.append(struct.pack(bo + "IIII", T0 + sec, frac, len(cap), orig) + cap)
    with open(path, "wb") as f:
        f.write(b"".join(out))


# --- the captures ------------------------------------------------------------

GOLDEN = {}


def golden(fn):
    GOLDEN[fn.__name__[2:]] = fn
    return fn


@golden
def g_tcp_sf(path):
    """IPv4 TCP: handshake, HTTP request/response, FIN teardown (one flow, end fin)."""
    write_pcap(path, LINKTYPE_ETHERNET, tcp_session(C4, S4, 40001, 80, v4(6), eth4, 0.1))


@golden
def g_tcp_rej(path):
    """IPv4 TCP SYN answered by RST/ACK: a rejected connection (one flow, end rst)."""
    syn = tcp(C4, S4, 40002, 81, 1000, 0, "S", opts=MSS_OPTS)
    rst = tcp(S4, C4, 81, 40002, 0, 1001, "RA", win=0)
    write_pcap(path, LINKTYPE_ETHERNET, [(0.1, eth4(ipv4(C4, S4, 6, syn))),
                                         (0.1005, eth4(ipv4(S4, C4, 6, rst, df=False), False))])


@golden
def g_tcp_synack_first(path):
    """Capture starts after the SYN: the SYN-ACK is the first packet seen. The
    client is still the SYN-ACK's destination."""
    pk = tcp_session(C4, S4, 40003, 80, v4(6), eth4, 0.1)[1:]
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_udp_dns(path):
    """A DNS A query and its answer over IPv4 UDP port 53 (one flow)."""
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    qname = b"\x07example\x03com\x00"
    q += qname + struct.pack("!HH", 1, 1)
    r = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + qname + struct.pack("!HH", 1, 1)
    r += struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + ip4("93.184.216.34")
    write_pcap(path, LINKTYPE_ETHERNET, [
        (0.1, eth4(ipv4(C4, S4, 17, udp(C4, S4, 53001, 53, q), df=False))),
        (0.112, eth4(ipv4(S4, C4, 17, udp(S4, C4, 53, 53001, r), df=False), False)),
    ])


@golden
def g_icmp_echo(path):
    """Two ping exchanges with different identifiers: two flows of 2 packets."""
    pk = []
    for i, ident in enumerate((0x1234, 0x5678)):
        t = 0.1 + i
        pk.append((t, eth4(ipv4(C4, S4, 1, icmp_echo(False, ident, 1), ident=10 + i,
                                df=False))))
        pk.append((t + 0.02, eth4(ipv4(S4, C4, 1, icmp_echo(True, ident, 1), ident=20 + i,
                                       df=False), False)))
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_ipv6_tcp(path):
    """The tcp_sf session over IPv6."""
    write_pcap(path, LINKTYPE_ETHERNET, tcp_session(C6, S6, 40004, 80, v6(6), eth6, 0.1))


@golden
def g_vlan_qinq(path):
    """UDP request/response under an 802.1ad S-tag (VID 100) and an 802.1Q C-tag (VID 200)."""
    tags = ((0x88A8, 100), (0x8100, 200))
    mac = lambda ip, c2s: eth4(ip, c2s, tags)  # noqa: E731
    write_pcap(path, LINKTYPE_ETHERNET, udp_pair(C4, S4, 40005, APP_PORT, v4(17), mac, 0.1))


@golden
def g_mpls(path):
    """UDP request/response over a two-label MPLS stack (labels 1000, 2000; S bit on
    the inner one)."""
    def mac(ip, c2s):
        labels = struct.pack("!II", (1000 << 12) | 64, (2000 << 12) | (1 << 8) | 64)
        return eth(labels + ip, 0x8847, *((MAC_C, MAC_S) if c2s else (MAC_S, MAC_C)))
    write_pcap(path, LINKTYPE_ETHERNET, udp_pair(C4, S4, 40006, APP_PORT, v4(17), mac, 0.1))


@golden
def g_pppoe(path):
    """A PPPoE discovery PADI (not a flow) then a UDP request/response inside a PPPoE
    session (session id 0x0042, PPP protocol 0x0021)."""
    padi_tags = struct.pack("!HH", 0x0101, 0) + struct.pack("!HH", 0x0103, 4) + b"\x00\x00\x00\x01"
    padi = struct.pack("!BBHH", 0x11, 0x09, 0, len(padi_tags)) + padi_tags
    pk = [(0.05, eth(padi, 0x8863, MAC_C, MAC_BCAST))]

    def mac(ip, c2s):
        ppp = struct.pack("!H", 0x0021) + ip
        sess = struct.pack("!BBHH", 0x11, 0x00, 0x0042, len(ppp)) + ppp
        return eth(sess, 0x8864, *((MAC_C, MAC_S) if c2s else (MAC_S, MAC_C)))
    pk += udp_pair(C4, S4, 40007, APP_PORT, v4(17), mac, 0.1)
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_gre_teb(path):
    """GRE (RFC 2784, protocol 0x6558 transparent Ethernet bridging) between
    203.0.113.1 and 203.0.113.2, carrying an Ethernet frame with an inner TCP SYN
    and SYN-ACK."""
    o1, o2 = ip4("203.0.113.1"), ip4("203.0.113.2")
    syn = tcp(C4, S4, 40008, 80, 1000, 0, "S", opts=MSS_OPTS)
    synack = tcp(S4, C4, 80, 40008, 5000, 1001, "SA", opts=MSS_OPTS)
    pk = []
    for i, (inner, c2s) in enumerate(((ipv4(C4, S4, 6, syn), True),
                                      (ipv4(S4, C4, 6, synack), False))):
        gre = struct.pack("!HH", 0, 0x6558) + eth4(inner, c2s)
        a, b = (o1, o2) if c2s else (o2, o1)
        outer = ipv4(a, b, 47, gre, ident=100 + i)
        pk.append((0.1 + 0.01 * i, eth(outer, 0x0800, bytes.fromhex("020000000101"),
                                       bytes.fromhex("020000000102"))))
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_vxlan(path):
    """VXLAN (RFC 7348, UDP 4789, VNI 42) carrying a UDP request/response."""
    o1, o2 = ip4("203.0.113.1"), ip4("203.0.113.2")
    pk = []
    for i, (t, frame) in enumerate(udp_pair(C4, S4, 40009, APP_PORT, v4(17), eth4, 0.1)):
        vx = struct.pack("!II", 0x08000000, 42 << 8) + frame
        a, b = (o1, o2) if i == 0 else (o2, o1)
        outer = ipv4(a, b, 17, udp(a, b, 49152 + i, 4789, vx), ident=200 + i)
        pk.append((t, eth(outer, 0x0800, bytes.fromhex("020000000101"),
                          bytes.fromhex("020000000102"))))
    write_pcap(path, LINKTYPE_ETHERNET, pk)


def fragment4(src, dst, proto, payload, ident, sizes):
    """Splits an IPv4 payload into fragments of the given sizes (multiples of 8
    except the last)."""
    out, off = [], 0
    for i, n in enumerate(sizes):
        last = i == len(sizes) - 1
        chunk = payload[off:] if last else payload[off:off + n]
        out.append(ipv4(src, dst, proto, chunk, ident=ident, df=False, mf=not last,
                        frag_off=off))
        off += len(chunk)
    return out


@golden
def g_ipv4_frags(path):
    """A 2,000-byte UDP datagram in 3 IPv4 fragments (ID 0x1111), then one
    non-first fragment (offset 1480, ID 0x2222) whose first fragment never
    arrives: an orphan."""
    data = bytes(i & 0xFF for i in range(2000))
    seg = udp(C4, S4, 40010, APP_PORT, data)
    frags = fragment4(C4, S4, 17, seg, 0x1111, (1480, 400, 128))
    pk = [(0.1 + 0.0001 * i, eth4(f)) for i, f in enumerate(frags)]
    orphan = ipv4(C4B, S4B, 17, bytes(range(64)), ident=0x2222, df=False, mf=False,
                  frag_off=1480)
    pk.append((0.2, eth4(orphan)))
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_ipv6_frags(path):
    """A 2,000-byte UDP datagram in 2 IPv6 fragments (Fragment header, RFC 8200 §4.5,
    identification 0xabcd1234)."""
    data = bytes((i * 7) & 0xFF for i in range(2000))
    seg = udp(C6, S6, 40011, APP_PORT, data)
    pk, off, first_len = [], 0, 1448
    for i, chunk in enumerate((seg[:first_len], seg[first_len:])):
        mf = i == 0
        fh = struct.pack("!BBHI", 17, 0, off | (1 if mf else 0), 0xABCD1234)
        pk.append((0.1 + 0.0001 * i, eth6(ipv6(C6, S6, 44, fh + chunk))))
        off += len(chunk)
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_ipv6_ext(path):
    """IPv6 UDP request behind Hop-by-Hop, Destination Options and a Segment Routing
    header (type 4, segments left 0), answered by a plain IPv6 UDP response."""
    req = udp(C6, S6, 40012, APP_PORT, UDP_REQ)
    srh = struct.pack("!BBBBBBH", 17, 2, 4, 0, 0, 0, 0) + S6   # -> UDP
    dst_opts = struct.pack("!BB", 43, 0) + b"\x01\x04\x00\x00\x00\x00"  # PadN, -> Routing
    hbh = struct.pack("!BB", 60, 0) + b"\x01\x04\x00\x00\x00\x00"       # PadN, -> DstOpts
    pk = [(0.1, eth6(ipv6(C6, S6, 0, hbh + dst_opts + srh + req))),
          (0.105, eth6(ipv6(S6, C6, 17, udp(S6, C6, APP_PORT, 40012, UDP_RSP)), False))]
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_nano(path):
    """Nanosecond-resolution pcap (magic a1b23c4d) in big-endian byte order: a UDP
    request/response whose timestamps need all 9 fraction digits."""
    pk = udp_pair(C4, S4, 40013, APP_PORT, v4(17), eth4, 0)
    pk = [((0, 123456789), pk[0][1]), ((0, 987654321), pk[1][1])]
    write_pcap(path, LINKTYPE_ETHERNET, pk, nano=True, big_endian=True)


@golden
def g_sll(path):
    """Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16-byte header): UDP pair."""
    def mac(ip, c2s):
        return struct.pack("!HHH8sH", 4 if c2s else 0, 1, 6,
                           (MAC_C if c2s else MAC_S) + b"\0\0", 0x0800) + ip
    write_pcap(path, LINKTYPE_LINUX_SLL,
               udp_pair(C4, S4, 40014, APP_PORT, v4(17), mac, 0.1))


@golden
def g_sll2(path):
    """Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20-byte header, ifindex 3):
    IPv6 UDP pair."""
    def mac(ip, c2s):
        return struct.pack("!HHIHBB8s", 0x86DD, 0, 3, 1, 4 if c2s else 0, 6,
                           (MAC_C if c2s else MAC_S) + b"\0\0") + ip
    write_pcap(path, LINKTYPE_LINUX_SLL2,
               udp_pair(C6, S6, 40015, APP_PORT, v6(17), mac, 0.1))


@golden
def g_raw(path):
    """LINKTYPE_RAW (101): bare IPv4 and IPv6 packets, a UDP pair of each."""
    raw = lambda ip, c2s: ip  # noqa: E731
    pk = udp_pair(C4, S4, 40016, APP_PORT, v4(17), raw, 0.1)
    pk += udp_pair(C6, S6, 40016, APP_PORT, v6(17), raw, 0.2)
    write_pcap(path, LINKTYPE_RAW, pk)


@golden
def g_null(path):
    """BSD loopback (LINKTYPE_NULL, family in the writer's byte order, here little
    endian): an IPv4 UDP pair (AF_INET 2) and an IPv6 UDP pair (AF_INET6 30, macOS)."""
    af = lambda fam: lambda ip, c2s: struct.pack("<I", fam) + ip  # noqa: E731
    lo4, lo6 = ip4("127.0.0.1"), ip6("::1")
    pk = udp_pair(lo4, lo4, 40017, APP_PORT, v4(17), af(2), 0.1)
    pk += udp_pair(lo6, lo6, 40017, APP_PORT, v6(17), af(30), 0.2)
    write_pcap(path, LINKTYPE_NULL, pk)


@golden
def g_arp(path):
    """An ARP request and its reply: no flow, two non-flow (arp) packets."""
    def arp(op, sha, spa, tha, tpa):
        return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)
    pk = [(0.1, eth(arp(1, MAC_C, C4, b"\0" * 6, S4), 0x0806, MAC_C, MAC_BCAST)),
          (0.1002, eth(arp(2, MAC_S, S4, MAC_C, C4), 0x0806, MAC_S, MAC_C))]
    write_pcap(path, LINKTYPE_ETHERNET, pk)


@golden
def g_trunc_snaplen(path):
    """A TCP session with a 1,400-byte response, captured with snaplen 64:
    caplen < len on every longer packet. Flow byte counts must use the wire
    length; the ports are still inside the 64 bytes."""
    big = HTTP_RSP + b"x" * (1400 - len(HTTP_RSP))
    pk = []
    cs, ss, t = 1001, 5001, 0.1
    req_end = cs + len(HTTP_REQ)

    def add(c2s, flags, seq, ack, data=b"", opts=b""):
        nonlocal t
        a, b = (C4, S4) if c2s else (S4, C4)
        pa, pb = (40018, 80) if c2s else (80, 40018)
        frame = eth4(ipv4(a, b, 6, tcp(a, b, pa, pb, seq, ack, flags, data, opts=opts)), c2s)
        pk.append((t, frame[:64], len(frame)))
        t += 0.005
    add(True, "S", cs - 1, 0, opts=MSS_OPTS)
    add(False, "SA", ss - 1, cs, opts=MSS_OPTS)
    add(True, "A", cs, ss)
    add(True, "PA", cs, ss, HTTP_REQ)
    add(False, "PA", ss, req_end, big)
    add(True, "FA", req_end, ss + len(big))
    add(False, "FA", ss + len(big), req_end + 1)
    add(True, "A", req_end + 1, ss + len(big) + 1)
    write_pcap(path, LINKTYPE_ETHERNET, pk, snaplen=64)


@golden
def g_idle_split(path):
    """The same UDP 5-tuple twice, 120 s apart: with the default 60 s UDP idle
    timeout these are two flows of 2 packets each."""
    mac = eth4
    pk = udp_pair(C4, S4, 40019, APP_PORT, v4(17), mac, 0.1)
    pk += udp_pair(C4, S4, 40019, APP_PORT, v4(17), mac, 120.1)
    write_pcap(path, LINKTYPE_ETHERNET, pk)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        print("\ncaptures: " + " ".join(sorted(GOLDEN)))
        return 0 if len(argv) >= 2 else 2
    outdir, names = argv[1], argv[2:] or sorted(GOLDEN)
    os.makedirs(outdir, exist_ok=True)
    for name in names:
        if name not in GOLDEN:
            print("make_golden.py: unknown capture '%s'" % name, file=sys.stderr)
            return 2
        GOLDEN[name](os.path.join(outdir, name + ".pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
