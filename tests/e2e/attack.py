#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The on-path attacker of tests/e2e/attack.sh, run in the router's network
namespace. Needs scapy (Debian's python3-scapy: run it with /usr/bin/python3).

It sniffs the router's two veths (r0 toward the client host, r1 toward the
server host) with packet sockets and keeps, for each fake-TCP 4-tuple as the
host behind that veth sees it:

  - the peer's next sequence number (seq + length of the last segment the
    router sent out of that veth toward the target: what the target expects
    next), and the Ethernet addresses to use;
  - the target's next sequence number (from the segments it sent in).

Frames the router sends out of a veth are seen there as PACKET_OUTGOING;
our own injections are too, and are recognised by their bytes and ignored.
Injected frames are sent with scapy's sendp on the veth toward the target,
so the router's own netfilter never sees them: toward the client (side
"client", r0) with the server's address and port as source and the client's
private address and port as destination; toward the server (side "server",
r1) with the router's NATed address and port as source.

  attack.py serve --port 4567 [--client-iface r0] [--server-iface r1]

reads one command per line on stdin and answers one line on stdout:

  tuple SIDE [SECS]           the live tuple of SIDE, waiting up to SECS
  BATCH SIDE COUNT [PARAM]    run one attack batch against SIDE; answers
                              "done BATCH SIDE sent N frames K tuple T" or
                              "error ..." (nothing live to attack)

BATCH is one of (COUNT is per kind):
  rst-off1 rstack-off1         RST / RST|ACK at the expected seq +1 / -1
  rst-off2e31 rstack-off2e31   ... at the expected seq + 2^31
  rst-rand rstack-rand         ... at a random seq
  rst-exact rstack-exact       ... at exactly the seq the target expects
                               next, sent right after the peer's segment
  twopkt-rst twopkt-rstack     a 20-byte data segment at a random seq X,
                               20 ms later an RST (RST|ACK) at X + 20
  syn synack                   SYN / SYN|ACK at a random seq on the tuple
  junk-flags junk-ipopts junk-tcpopts junk-iplen junk-trailing
  junk-badcsum junk-trunc      malformed segments, random seq and ack
                               (PARAM: at most this many frames a second,
                               default 2000; scapy builds about 800)
For RSTs and the two-packet attack PARAM is the spacing in ms (default 25).
"""
import argparse
import os
import random
import select
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, Ether, IPOption, Raw, conf, raw, sendp

ETH_P_ALL = 3
PACKET_OUTGOING = 4
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
M32 = 0xFFFFFFFF


def r32():
    return random.getrandbits(32)


class Flow:
    """One fake-TCP connection as the target behind one veth sees it."""

    def __init__(self, peer, tgt):
        self.peer, self.tgt = peer, tgt  # (ip string, port)
        self.peer_next = self.tgt_next = None
        self.peer_t = self.tgt_t = 0.0
        self.tgt_mac = self.our_mac = None

    def live_since(self):
        return min(self.peer_t, self.tgt_t)

    def __str__(self):
        return f"{self.peer[0]}:{self.peer[1]}>{self.tgt[0]}:{self.tgt[1]}"


class Side:
    def __init__(self, name, iface, port):
        self.name, self.iface, self.port = name, iface, port
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((iface, ETH_P_ALL))
        self.sock.setblocking(False)
        self.tx = conf.L2socket(iface=iface)
        with open(f"/sys/class/net/{iface}/address") as f:
            self.mac = f.read().strip()
        self.flows = {}
        self.peer_events = 0  # segments of the peer toward the target seen
        self.ours = {}  # bytes of frames we sent -> count, to ignore them

    def live(self):
        best = None
        for fl in self.flows.values():
            if fl.peer_next is None or fl.tgt_next is None:
                continue
            if best is None or fl.live_since() > best.live_since():
                best = fl
        return best

    def handle(self, d, pkttype, now):
        if pkttype == PACKET_OUTGOING and d in self.ours:
            self.ours[d] -= 1
            if not self.ours[d]:
                del self.ours[d]
            return
        if len(d) < 54 or d[12:14] != b"\x08\x00" or d[14] >> 4 != 4 or d[23] != 6:
            return
        ihl = (d[14] & 15) * 4
        tot = struct.unpack_from("!H", d, 16)[0]
        t = 14 + ihl
        if ihl < 20 or len(d) < t + 20:
            return
        sport, dport, seq, _ack = struct.unpack_from("!HHII", d, t)
        doff = (d[t + 12] >> 4) * 4
        flags = d[t + 13]
        if self.port not in (sport, dport):
            return
        plen = max(tot - ihl - doff, 0)
        nxt = (seq + plen + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)) & M32
        src = (socket.inet_ntoa(d[26:30]), sport)
        dst = (socket.inet_ntoa(d[30:34]), dport)
        if pkttype == PACKET_OUTGOING:  # the router to the target: the peer's
            key = (src, dst)
        else:  # the target's own segment
            key = (dst, src)
        fl = self.flows.get(key)
        if fl is None:
            fl = self.flows[key] = Flow(*key)
        if pkttype == PACKET_OUTGOING:
            fl.peer_next, fl.peer_t = nxt, now
            fl.tgt_mac, fl.our_mac = d[0:6], d[6:12]
            self.peer_events += 1
        else:
            fl.tgt_next, fl.tgt_t = nxt, now
            fl.tgt_mac, fl.our_mac = d[6:12], d[0:6]

    def drain(self):
        now = time.monotonic()
        while True:
            try:
                d, addr = self.sock.recvfrom(65535)
            except BlockingIOError:
                return
            self.handle(d, addr[2], now)

    def send(self, frame):
        b = raw(frame) if not isinstance(frame, bytes) else frame
        self.ours[b] = self.ours.get(b, 0) + 1
        if len(self.ours) > 20000:  # never seen back (should not happen)
            self.ours.clear()
        sendp(Raw(b), iface=self.iface, socket=self.tx, verbose=False)


class Attacker:
    def __init__(self, a):
        self.sides = {"client": Side("client", a.client_iface, a.port),
                      "server": Side("server", a.server_iface, a.port)}

    def pump(self, secs):
        """Read both veths for SECS seconds (at least once)."""
        end = time.monotonic() + secs
        socks = {s.sock: s for s in self.sides.values()}
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select(list(socks), [], [], max(left, 0))
            for s in r:
                socks[s].drain()
            if left <= 0:
                return

    def wait_live(self, side, secs):
        end = time.monotonic() + secs
        while True:
            self.pump(0)
            fl = side.live()
            if fl is not None and time.monotonic() - fl.live_since() < 0.5:
                return fl
            if time.monotonic() > end:
                return None
            self.pump(0.01)

    def after_peer(self, side, secs=0.1):
        """Right after the peer's next segment toward the target (or SECS)."""
        n = side.peer_events
        end = time.monotonic() + secs
        while side.peer_events == n and time.monotonic() < end:
            self.pump(0.0005)
        return side.live()

    # ---- frames ----
    @staticmethod
    def seg(side, fl, flags, seq, ack, payload=b"", ip_opts=None, tcp_opts=b"",
            ip_len=None, window=65535):
        ipkw = {"options": [IPOption(ip_opts)]} if ip_opts else {}
        if ip_len is not None:
            ipkw["len"] = ip_len
        tcpkw = {"dataofs": 5 + len(tcp_opts) // 4, "options": []} if tcp_opts else {}
        mac = fl.our_mac.hex(":") if fl.our_mac else side.mac
        return raw(Ether(src=mac, dst=fl.tgt_mac.hex(":")) /
                   IP(src=fl.peer[0], dst=fl.tgt[0], ttl=64, id=0, flags="DF", **ipkw) /
                   TCP(sport=fl.peer[1], dport=fl.tgt[1], seq=seq & M32, ack=ack & M32,
                       flags=flags, window=window, **tcpkw) /
                   Raw(tcp_opts + payload))

    # ---- batches ----
    def rst(self, side, name, count, spacing):
        flags = RST | ACK if name.startswith("rstack") else RST
        kind = name.split("-", 1)[1]
        sent = 0
        for i in range(count):
            fl = self.after_peer(side)
            if fl is None:
                break
            seq = fl.peer_next
            if kind == "off1":
                seq += 1 if i % 2 == 0 else -1
            elif kind == "off2e31":
                seq += 1 << 31
            elif kind == "rand":
                seq = r32()
            ack = fl.tgt_next if flags & ACK else 0
            side.send(self.seg(side, fl, flags, seq, ack, window=0))
            sent += 1
            self.pump(spacing)
        return sent

    def twopkt(self, side, name, count, spacing):
        flags = RST | ACK if name.endswith("rstack") else RST
        sent = 0
        for _ in range(count):
            fl = self.after_peer(side)
            if fl is None:
                break
            x = r32()
            side.send(self.seg(side, fl, PSH | ACK, x, fl.tgt_next, random.randbytes(20)))
            self.pump(0.020)
            fl = side.live() or fl
            side.send(self.seg(side, fl, flags, x + 20, fl.tgt_next if flags & ACK else 0, window=0))
            sent += 2
            self.pump(spacing)
        return sent

    def syn(self, side, name, count, spacing):
        flags = SYN | ACK if name == "synack" else SYN
        sent = 0
        for _ in range(count):
            fl = self.after_peer(side)
            if fl is None:
                break
            side.send(self.seg(side, fl, flags, r32(), fl.tgt_next if flags & ACK else 0,
                               tcp_opts=b"\x02\x04\x05\xb4\x01\x03\x03\x07"))
            sent += 1
            self.pump(spacing)
        return sent

    # IP options: valid ones, and ones whose length lies
    IP_OPTS = [
        b"\x01\x01\x01\x00",                          # NOP NOP NOP EOL
        b"\x07\x0b\x04" + bytes(8) + b"\x00",          # record route, 2 slots
        b"\x44\x0c\x05\x00" + bytes(8),                # timestamp
        b"\x94\x04\x00\x00",                           # router alert
        b"\x44\xff\x00\x00",                           # timestamp, length past the header
        b"\x07\x01\x00\x00",                           # record route, length 1
        b"\x83\x00\x00\x00",                           # loose source route, length 0
        b"\x89\x27" + bytes(38),                       # strict source route, length 39 of 40
    ]
    # TCP options whose lengths lie (padded to 4 bytes)
    TCP_OPTS = [
        b"\x02\xff\x05\xb4",                           # MSS, length 255
        b"\x03\x00\x07\x01",                           # window scale, length 0
        b"\x08\x01\x00\x00",                           # timestamps, length 1
        b"\x13\x12\x00\x00",                           # MD5 signature, 18 bytes in 4
        b"\x05\x0a\x00\x00\x00\x00\x00\x00",           # SACK, 10 bytes in 8
        b"\x04\x02\x1e\x28" + bytes(4),                # SACK-permitted, then length 40 past the end
        b"\xfe\x01\xfe\x01",                           # experimental, length 1
        b"\x01\x01\x02\x04",                           # MSS whose value the data offset cuts off
        b"\x22\xfd\x00\x00" + bytes(36),               # 40 bytes of options, length 253
    ]

    def junk_frame(self, side, fl, kind):
        seq, ack = r32(), r32()
        pl = random.randbytes(random.randint(0, 48))
        pa = PSH | ACK
        if kind == "flags":
            return self.seg(side, fl, random.randint(0, 255), seq, ack, pl)
        if kind == "ipopts":
            return self.seg(side, fl, pa, seq, ack, pl, ip_opts=random.choice(self.IP_OPTS))
        if kind == "tcpopts":
            o = random.choice(self.TCP_OPTS)
            o += bytes(-len(o) % 4)
            return self.seg(side, fl, pa, seq, ack, pl, tcp_opts=o)
        if kind == "iplen":  # IP total length past the end of the frame
            real = 40 + len(pl)
            return self.seg(side, fl, pa, seq, ack, pl,
                            ip_len=random.choice([real + 1, real + random.randint(2, 1400), 65535]))
        if kind == "trailing":  # junk after the IP total length
            return self.seg(side, fl, pa, seq, ack, pl) + random.randbytes(random.randint(1, 64))
        if kind == "badcsum":
            b = bytearray(self.seg(side, fl, pa, seq, ack, pl))
            if random.random() < 0.75:  # TCP checksum
                off = 14 + 20 + 16
            else:  # IPv4 header checksum
                off = 14 + 10
            b[off] ^= random.randint(1, 255)
            return bytes(b)
        if kind == "trunc":  # cut inside the IPv4 or the TCP header
            b = self.seg(side, fl, pa, seq, ack, pl)
            return b[:random.randint(14, 14 + 20 + 19)]
        raise ValueError(kind)

    def junk(self, side, name, count, rate):
        kind = name.split("-", 1)[1]
        sent = 0
        t0 = time.monotonic()
        fl = side.live()
        for i in range(count):
            if i % 16 == 0:
                self.pump(0)
                fl = side.live() or fl
            if fl is None:
                break
            side.send(self.junk_frame(side, fl, kind))
            sent += 1
            ahead = t0 + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                self.pump(ahead)
        return sent

    def batch(self, name, side_name, count, param):
        side = self.sides[side_name]
        t0 = time.monotonic()
        fl = self.wait_live(side, 2.0)
        if fl is None:
            return "error no live tuple seen on " + side.iface
        if name.startswith("rst"):
            n = self.rst(side, name, count, (param or 25) / 1000)
        elif name.startswith("twopkt"):
            n = self.twopkt(side, name, count, (param or 25) / 1000)
        elif name in ("syn", "synack"):
            n = self.syn(side, name, count, (param or 25) / 1000)
        elif name.startswith("junk-"):
            n = self.junk(side, name, count, param or 2000)
        else:
            return "error unknown batch " + name
        ms = (time.monotonic() - t0) * 1000
        return f"done {name} {side_name} sent {n} frames in {ms:.0f} ms, tuple {fl}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["serve"])
    ap.add_argument("--port", type=int, default=4567)
    ap.add_argument("--client-iface", default="r0")
    ap.add_argument("--server-iface", default="r1")
    ap.add_argument("--seed", type=int)
    a = ap.parse_args()
    random.seed(a.seed)
    atk = Attacker(a)
    print("ready", flush=True)
    stdin = sys.stdin.fileno()
    socks = [s.sock for s in atk.sides.values()]
    buf = b""
    while True:
        r, _, _ = select.select([stdin] + socks, [], [])
        atk.pump(0)
        if stdin not in r:
            continue
        chunk = os.read(stdin, 4096)
        if not chunk:
            return 0
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            w = line.decode().split()
            if not w:
                continue
            try:
                if w[0] == "tuple":
                    fl = atk.wait_live(atk.sides[w[1]], float(w[2]) if len(w) > 2 else 0)
                    out = f"tuple {fl}" if fl else "tuple none"
                else:
                    out = atk.batch(w[0], w[1], int(w[2]), float(w[3]) if len(w) > 3 else None)
            except (IndexError, KeyError, ValueError) as e:
                out = f"error {line.decode()!r}: {e}"
            print(out, flush=True)


if __name__ == "__main__":
    sys.exit(main())
