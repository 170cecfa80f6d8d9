#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""traffic.py - the end-to-end tests' traffic: small servers and clients
(stdlib only) whose exchanges have known shapes, and a raw injector for
802.1Q frames (this kernel has no VLAN devices).

Servers print "ready" on stdout once bound, then serve until killed.
Clients print one JSON line describing what they sent and got back.

  udp-server ADDR PORT                  echo every datagram back
  udp-client ADDR PORT SIZE...          one socket, one request/response per size
  tcp-server ADDR PORT                  behaviour chosen by the client's first line:
      FIN   read until EOF, then close (normal teardown)
      RSTR  read the line, then abort (SO_LINGER 0: RST from the responder)
      HOLD  read until EOF or error, then close
  tcp-client ADDR PORT MODE NBYTES      MODE fin | rsto | rstr | hold
  tcp-refused ADDR PORT                 connect to a closed port (expects ECONNREFUSED)
  udp-many ADDR PORT N                  N sockets, one 64-byte request/response each
  tcp-many ADDR PORT N                  N connections, 1000 bytes each, closed by FIN
  vlan-inject IF SRCMAC DSTMAC VID COUNT SRCIP DSTIP SPORT DPORT PAYLOAD
"""
import json
import os
import signal
import socket
import struct
import sys
import threading
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def ready():
    print("ready", flush=True)


def udp_server(addr, port):
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    ready()
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def udp_client(addr, port, *sizes):
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.settimeout(3)
    s.connect((addr, int(port)))
    got = 0
    for n in map(int, sizes):
        s.send(b"x" * n)
        data = s.recv(65535)
        if len(data) != n:
            raise SystemExit(f"udp-client: echo of {n} bytes came back as {len(data)}")
        got += 1
    print(json.dumps({"sport": s.getsockname()[1], "sizes": [int(x) for x in sizes],
                      "echoes": got}), flush=True)
    s.close()


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def read_line(c):
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            break
        line += b
    return line.strip().decode()


def serve_conn(c):
    try:
        mode = read_line(c)
        if mode == "RSTR":
            linger0(c)
            c.close()
            return
        total = 0
        while True:
            try:
                b = c.recv(65536)
            except OSError:
                break
            if not b:
                break
            total += len(b)
        c.close()
    except OSError:
        c.close()


def tcp_server(addr, port):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(128)
    ready()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_conn, args=(c,), daemon=True).start()


def tcp_client(addr, port, mode, nbytes):
    nbytes = int(nbytes)
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.settimeout(5)
    if os.environ.get("TCP_PACING_BPS"):  # bytes/s; TCP paces itself (no fq needed)
        s.setsockopt(socket.SOL_SOCKET, 47, int(os.environ["TCP_PACING_BPS"]))  # SO_MAX_PACING_RATE
    s.connect((addr, int(port)))
    sport = s.getsockname()[1]
    if mode == "fin":
        s.sendall(b"FIN\n" + b"\0" * nbytes)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        s.close()
    elif mode == "rsto":
        s.sendall(b"HOLD\n" + b"\0" * nbytes)
        time.sleep(0.05)  # let the data be ACKed so the flow is established both ways
        linger0(s)
        s.close()
    elif mode == "rstr":
        s.sendall(b"RSTR\n")
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        s.close()
    elif mode == "hold":
        s.sendall(b"HOLD\n" + b"\0" * nbytes)
        print(json.dumps({"sport": sport, "mode": mode}), flush=True)
        time.sleep(3600)
        return
    else:
        raise SystemExit(f"tcp-client: unknown mode {mode}")
    print(json.dumps({"sport": sport, "mode": mode}), flush=True)


def udp_many(addr, port, n):
    # Every socket stays open until the end: a closed socket's port may be
    # handed out again at once, which would merge two exchanges into one flow.
    socks = []
    for _ in range(int(n)):
        s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((addr, int(port)))
        s.send(b"m" * 64)
        if len(s.recv(65535)) != 64:
            raise SystemExit("udp-many: bad echo")
        socks.append(s)
    if len({s.getsockname()[1] for s in socks}) != len(socks):
        raise SystemExit("udp-many: source ports repeat")
    for s in socks:
        s.close()
    print(json.dumps({"flows": int(n)}), flush=True)


def tcp_many(addr, port, n):
    for _ in range(int(n)):
        s = socket.socket(family_of(addr), socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((addr, int(port)))
        s.sendall(b"FIN\n" + b"\0" * 1000)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        s.close()
    print(json.dumps({"flows": int(n)}), flush=True)


def tcp_refused(addr, port):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((addr, int(port)))
    except ConnectionRefusedError:
        print(json.dumps({"sport": s.getsockname()[1], "refused": True}), flush=True)
        return
    raise SystemExit("tcp-refused: the connection was accepted")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def vlan_inject(ifname, srcmac, dstmac, vid, count, srcip, dstip, sport, dport, payload):
    payload = b"v" * int(payload)
    udp_len = 8 + len(payload)
    src, dst = socket.inet_aton(srcip), socket.inet_aton(dstip)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", int(sport), int(dport), udp_len, 0) + payload
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    for i in range(int(count)):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0x1000 + i, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = mac(dstmac) + mac(srcmac) + struct.pack("!HH", 0x8100, int(vid) & 0xFFF) + \
            struct.pack("!H", 0x0800) + ip + udp
        s.send(frame)
    print(json.dumps({"vlan": int(vid), "frames": int(count), "ip_bytes": 20 + udp_len}),
          flush=True)


CMDS = {
    "udp-server": udp_server, "udp-client": udp_client, "tcp-server": tcp_server,
    "tcp-client": tcp_client, "tcp-refused": tcp_refused,
    "udp-many": udp_many, "tcp-many": tcp_many, "vlan-inject": vlan_inject,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        sys.exit(__doc__)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    CMDS[sys.argv[1]](*sys.argv[2:])
