#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UDP checks for tests/e2e/interop.sh, through a tunnel to a UDP echo.
Each prints one summary line and exits 0 when the check holds. Contents are
always compared byte for byte; an echo that differs fails at once.

  interop_udp.py sweep --to 127.0.0.1:1111 --sizes 1-1460 [--random 200 --seed 7]
      one datagram at a time (random content, the first 4 bytes its index),
      each size once; a datagram without its echo within --timeout is sent
      again (new content) up to --retries times. Fails if a size is never
      echoed, if anything comes back altered, or if more than --max-retried
      datagrams needed a retry.
  interop_udp.py toobig --to ... --size 1461
      SIZE bytes must not come back at all (dropped, not truncated); then
      SIZE - 1 bytes must come back whole.
  interop_udp.py peers --to ... --peers 2 --count 200 --base-port 40001
      PEERS sockets on their own ports send COUNT random datagrams each,
      interleaved, up to --window (8) each in flight; each datagram carries its peer's
      tag and every socket must get back exactly its own, none of another's.
  interop_udp.py handshake --to ... --server-hs F [--client-hs F2] [--record LOG]
      a new UDP peer sends "first", waits for the echoes, then "second": it
      must get the server's handshake packet, the echo of the client's, the
      echoes of "first" and "second", each once and byte for byte, nothing
      else. With --record (the echo's log): the UDP server must have got the
      client's handshake packet, "first" and "second" from the connection,
      once each. --strict-client: the server's handshake packet is the first
      datagram the peer gets; --strict-server: the UDP server got them in
      the order sent.
  interop_udp.py echo --bind 127.0.0.1:1235 --log LOG
      a UDP echo that logs "SRCPORT LEN SHA256[:16]" for each datagram.
  interop_udp.py wire --pcap F --family 4|6 --server-hs F --client-hs F2
      in a capture of the handshake tests: each side's handshake packet is
      its first data (seq 1), the first datagram follows it in seq, and
      each side's acks count the other's handshake packet.
"""
import argparse
import hashlib
import os
import random
import select
import socket
import struct
import sys
import time


def addr(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def sock(to, bind="127.0.0.1:0"):
    fam = socket.AF_INET6 if ":" in addr(to)[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(addr(bind))
    return s


def parse_sizes(spec):
    out = []
    for part in spec.split(","):
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-")
            out += range(int(lo), int(hi) + 1)
        else:
            out.append(int(part))
    return out


def recv_until(s, deadline):
    """One datagram, or None at the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
        except ConnectionRefusedError:
            continue  # an ICMP error for an earlier datagram


def sweep(a):
    s = sock(a.to, a.bind)
    dst = addr(a.to)
    rng = random.Random(a.seed)
    sizes = parse_sizes(a.sizes) + [rng.randint(1, a.max_size) for _ in range(a.random)]
    seq = 0
    retried, never, altered, late = [], [], 0, 0
    for n in sizes:
        for attempt in range(a.retries + 1):
            seq += 1
            # 1-3 bytes: random content (a late echo of another datagram of
            # the same size could then be taken for this one: never seen,
            # as one datagram is in flight at a time)
            p = (seq.to_bytes(4, "big") + rng.randbytes(n))[:n] if n >= 4 else rng.randbytes(n)
            try:
                s.sendto(p, dst)
            except ConnectionRefusedError:
                s.sendto(p, dst)
            deadline = time.monotonic() + (a.first_timeout if seq == 1 else a.timeout)
            got = False
            while True:
                d = recv_until(s, deadline)
                if d is None:
                    break
                if d == p:
                    got = True
                    break
                if n >= 4 and len(d) >= 4 and d[:4] != p[:4] and int.from_bytes(d[:4], "big") < seq:
                    late += 1  # the echo of a datagram we gave up on
                    continue
                altered += 1
                print(f"{a.name}: size {n}: sent {p[:16].hex()}..., got {len(d)} bytes {d[:16].hex()}...")
                break
            if got or altered:
                break
            retried.append(n)
        else:
            never.append(n)
        if altered:
            break
    ok = not never and not altered and len(retried) <= a.max_retried
    print(f"{a.name}: {len(sizes)} datagrams ({min(sizes)}-{max(sizes)} bytes), "
          f"lost once and resent {len(retried)} {retried[:10]}, never echoed {len(never)} {never[:10]}, "
          f"late {late}, altered {altered}: {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def toobig(a):
    s = sock(a.to, a.bind)
    dst = addr(a.to)
    big = os.urandom(a.size)
    s.sendto(big, dst)
    d = recv_until(s, time.monotonic() + a.timeout)
    fit = os.urandom(a.size - 1)
    s.sendto(fit, dst)
    e = None
    deadline = time.monotonic() + a.timeout
    while True:
        e = recv_until(s, deadline)
        if e is None or e == fit:
            break
    ok = d is None and e == fit
    print(f"{a.name}: {a.size} bytes: {'nothing back' if d is None else f'{len(d)} bytes back'}; "
          f"{a.size - 1} bytes: {'echoed whole' if e == fit else 'not echoed'}: {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def peers(a):
    dst = addr(a.to)
    socks = [sock(a.to, f"127.0.0.1:{a.base_port + i}") for i in range(a.peers)]
    for s in socks:
        s.setblocking(False)
    rng = random.Random(a.seed)
    want = [dict() for _ in socks]  # seq -> payload awaited
    gone = [dict() for _ in socks]  # seq -> payload given up on (late is fine)
    ok = [0] * a.peers
    foreign = altered = 0

    def drain(deadline, done):
        nonlocal foreign, altered
        while not done() and time.monotonic() < deadline:
            r, _, _ = select.select(socks, [], [], max(0.0, deadline - time.monotonic()))
            for i, s in enumerate(socks):
                if s not in r:
                    continue
                try:
                    d = s.recv(65535)
                except (BlockingIOError, ConnectionRefusedError):
                    continue
                tag, seq = d[:1], int.from_bytes(d[1:5], "big")
                if tag != bytes([0x50 + i]):
                    foreign += 1
                    print(f"{a.name}: peer {i} got a datagram tagged {tag.hex()} (seq {seq})")
                elif want[i].get(seq) == d:
                    ok[i] += 1
                    del want[i][seq]
                elif gone[i].get(seq) == d:
                    ok[i] += 1
                    del gone[i][seq]
                else:
                    altered += 1
                    print(f"{a.name}: peer {i} seq {seq}: {len(d)} bytes that differ from what it sent")

    for k in range(a.count):
        # at most --window datagrams per peer in flight
        old = k - a.window
        drain(time.monotonic() + a.timeout,
              lambda: all(not w or min(w) > old for w in want))
        for i in range(a.peers):
            for q in [q for q in want[i] if q <= old]:
                gone[i][q] = want[i].pop(q)
        for i, s in enumerate(socks):
            n = rng.randint(5, a.max_size)
            p = bytes([0x50 + i]) + k.to_bytes(4, "big") + rng.randbytes(n - 5)
            want[i][k] = p
            try:
                s.sendto(p, dst)
            except (BlockingIOError, ConnectionRefusedError):
                pass
        if k == 0:  # the first datagrams open the connections
            drain(time.monotonic() + a.first_timeout, lambda: not any(want))
    drain(time.monotonic() + a.timeout, lambda: not any(want))
    lost = [a.count - x for x in ok]
    verdict = foreign == 0 and altered == 0 and all(x <= a.max_loss * a.count for x in lost)
    print(f"{a.name}: {a.peers} peers x {a.count} datagrams (up to {a.window} each in flight): "
          f"echoed {ok}, lost {lost}, another peer's {foreign}, altered {altered}: "
          f"{'ok' if verdict else 'FAIL'}")
    return 0 if verdict else 1


def sha(d):
    return hashlib.sha256(d).hexdigest()[:16]


def handshake(a):
    """A new UDP peer sends "first", then (after the echoes) "second"."""
    s = sock(a.to, a.bind)
    dst = addr(a.to)
    first = b"first datagram " + os.urandom(16)
    second = b"second datagram " + os.urandom(16)
    srv = open(a.server_hs, "rb").read() if a.server_hs else None
    cli = open(a.client_hs, "rb").read() if a.client_hs else None
    names = {first: "first", second: "second"}
    if cli is not None:
        names[cli] = "client-hs"
    if srv is not None:
        names[srv] = "server-hs"  # (an echo of cli is cli: the same name)
    want = [d for d in (srv, cli, first) if d is not None]
    rec_from = os.path.getsize(a.record) if a.record else 0  # what is logged from now on
    s.sendto(first, dst)
    got = []
    deadline = time.monotonic() + a.timeout
    while len(got) < len(want):
        d = recv_until(s, deadline)
        if d is None:
            break
        got.append(d)
    s.sendto(second, dst)
    deadline = time.monotonic() + a.timeout
    while True:
        d = recv_until(s, deadline)
        if d is None:
            break
        got.append(d)
        if d == second:
            deadline = time.monotonic() + 0.3  # anything more is extra
    want.append(second)

    def show(ds):
        return "[" + ", ".join(names.get(d, f"<{len(d)} bytes {d[:8].hex()}>") for d in ds) + "]"
    problems = []
    # The peer: each once, byte for byte, nothing else, "second" last.
    if sorted(got) != sorted(want) or got[-1:] != [second]:
        problems.append("the client's UDP peer did not get each of them once")
    # The client delivers in the order segments arrive, and the server's
    # handshake packet is the first segment it sends.
    if a.strict_client and srv is not None and got[:1] != [srv]:
        problems.append("the server's handshake packet was not the first datagram the peer got")
    # The UDP server: what this connection delivered (its source port).
    seen = ""
    if a.record:
        time.sleep(0.1)
        with open(a.record) as f:
            f.seek(rec_from)
            rec = [line.split() for line in f]
        port = next((p for p, _, h in rec if h == sha(first)), None)
        mine = [h for p, _, h in rec if p == port]
        hnames = {sha(d): n for d, n in names.items()}
        order = [hnames.get(h, "?" + h) for h in mine]
        seen = f"; the UDP server got from port {port}: [{', '.join(order)}]"
        expect = (["client-hs"] if cli is not None else []) + ["first", "second"]
        if sorted(order) != sorted(expect):
            problems.append("the UDP server did not get each datagram of the connection once")
        elif order != expect:
            if a.strict_server:
                problems.append("the server did not deliver them in the order they were sent")
            else:  # phantun_server: one worker per CPU, each with its own UDP socket
                seen += " (out of the order sent: not checked for this server)"
    ok = not problems
    print(f"{a.name}: the peer got {show(got)}{seen}: " + ("ok" if ok else "FAIL: " + "; ".join(problems)))
    return 0 if ok else 1


def echo(a):
    """A UDP echo that also logs "SRCPORT LEN SHA256[:16]" per datagram."""
    s = sock(a.bind, a.bind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    log = open(a.log, "a", buffering=1)
    while True:
        d, peer = s.recvfrom(65535)
        log.write(f"{peer[1]} {len(d)} {sha(d)}\n")
        s.sendto(d, peer)


def segments(path):
    """(src, sport, dst, dport, flags, seq, ack, payload) of each TCP segment
    in a pcap (Ethernet, Linux cooked or raw IP; no IPv6 extension headers)."""
    raw = open(path, "rb").read()
    magic = struct.unpack("<I", raw[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(end + "I", raw[20:24])[0]
    off = 24
    while off + 16 <= len(raw):
        incl = struct.unpack(end + "I", raw[off + 8:off + 12])[0]
        pkt = raw[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:  # Ethernet
            if len(pkt) < 14 or pkt[12:14] not in (b"\x08\x00", b"\x86\xdd"):
                continue
            pkt = pkt[14:]
        elif linktype == 113:  # Linux cooked (-i any)
            pkt = pkt[16:]
        if not pkt:
            continue
        if pkt[0] >> 4 == 4 and pkt[9] == 6:
            total = struct.unpack("!H", pkt[2:4])[0]
            src, dst = socket.inet_ntop(socket.AF_INET, pkt[12:16]), socket.inet_ntop(socket.AF_INET, pkt[16:20])
            tcp = pkt[(pkt[0] & 15) * 4:total]
        elif pkt[0] >> 4 == 6 and pkt[6] == 6:
            plen = struct.unpack("!H", pkt[4:6])[0]
            src, dst = socket.inet_ntop(socket.AF_INET6, pkt[8:24]), socket.inet_ntop(socket.AF_INET6, pkt[24:40])
            tcp = pkt[40:40 + plen]
        else:
            continue
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        yield src, sport, dst, dport, tcp[13], seq, ack, tcp[(tcp[12] >> 4) * 4:]


def stream(segs):
    """The data bytes from seq 1 on, as far as they are contiguous."""
    by = {}
    for seq, _, pl in segs:
        by.setdefault(seq, pl)
    out, at = b"", 1
    while at in by:
        out += by[at]
        at += len(by[at])
    return out


def wire(a):
    """The connections to PORT in a capture taken while the handshake
    packets were exchanged. On each, the server's data begins at seq 1 with
    its handshake packet, and the client's with its handshake packet (if it
    has one) followed by its first datagram at the next seq; and each side
    counts the other's handshake packet: the ack of its last segment is the
    end (seq + length) of one of the other side's data segments, past the
    handshake packet (phantun acks the last segment received)."""
    srv = open(a.server_hs, "rb").read()
    cli = open(a.client_hs, "rb").read()
    v6 = a.family == 6
    conns = {}
    for src, sport, dst, dport, flags, seq, ack, pl in segments(a.pcap):
        if (":" in src) != v6:
            continue
        if dport == a.port:
            c, d = (src, sport), 0
        elif sport == a.port:
            c, d = (dst, dport), 1
        else:
            continue
        if flags & 0x02:  # SYN: a new connection on this tuple
            if d == 0:
                conns[c] = ([], [])
            continue
        if pl and c in conns:
            conns[c][d].append((seq, ack, pl))
    with_hs = plain = 0
    bad = []
    for c, (up, down) in conns.items():
        if not up and not down:
            continue
        name = f"{c[0]}:{c[1]}"
        u, dn = stream(up), stream(down)
        hs = u.startswith(cli)
        if not dn.startswith(srv):
            bad.append(f"{name}: the server's data from seq 1 begins {dn[:8].hex()}, not its handshake packet")
        if u.startswith(cli + b"first datagram "):
            with_hs += 1
        elif u.startswith(b"first datagram "):
            plain += 1
        else:
            bad.append(f"{name}: the client's data from seq 1 begins {u[:16]!r}")
        for who, mine, theirs, past in (("client", up, down, len(srv)), ("server", down, up, len(cli) if hs else 0)):
            if not mine:
                continue
            ends = {seq + len(pl) for seq, _, pl in theirs}
            last = mine[-1][1]
            if last not in ends or last < 1 + past:
                bad.append(f"{name}: the {who}'s last ack {last} is not past the other's handshake packet "
                           f"at one of its segments' ends {sorted(ends)}")
    ok = not bad and with_hs == 1 and plain == 1
    print(f"{a.name}: {len(conns)} connections; the client's handshake packet at seq 1, its first datagram "
          f"at seq {1 + len(cli)}: {with_hs} (want 1); no client handshake packet, the first datagram at "
          f"seq 1: {plain} (want 1); " + ("the server's handshake packet at seq 1 on each, and acks count them"
                                         if not bad else "; ".join(bad)) + f": {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for c in ("sweep", "toobig", "peers", "handshake", "echo", "wire"):
        p = sub.add_parser(c)
        p.add_argument("--to", required=c not in ("echo", "wire"))
        p.add_argument("--bind", default="127.0.0.1:0")
        p.add_argument("--name", default=c)
        p.add_argument("--timeout", type=float, default=1.0)
        p.add_argument("--seed", type=int, default=None)
        if c == "sweep":
            p.add_argument("--sizes", default="")
            p.add_argument("--random", type=int, default=0)
            p.add_argument("--max-size", type=int, default=1460)
            p.add_argument("--retries", type=int, default=1)
            p.add_argument("--max-retried", type=int, default=0)
            p.add_argument("--first-timeout", type=float, default=3.0)
        elif c == "toobig":
            p.add_argument("--size", type=int, required=True)
        elif c == "peers":
            p.add_argument("--peers", type=int, default=2)
            p.add_argument("--count", type=int, default=200)
            p.add_argument("--max-size", type=int, default=1460)
            p.add_argument("--base-port", type=int, default=40001)
            p.add_argument("--window", type=int, default=8)
            p.add_argument("--max-loss", type=float, default=0.0)
            p.add_argument("--first-timeout", type=float, default=3.0)
        elif c == "handshake":
            p.add_argument("--server-hs")
            p.add_argument("--client-hs")
            p.add_argument("--record", help="the echo's log (interop_udp.py echo)")
            p.add_argument("--strict-client", action="store_true",
                           help="the server's handshake packet must be the first datagram the peer gets")
            p.add_argument("--strict-server", action="store_true",
                           help="the UDP server must get the connection's datagrams in order")
        elif c == "echo":
            p.add_argument("--log", required=True)
        elif c == "wire":
            p.add_argument("--pcap", required=True)
            p.add_argument("--port", type=int, default=4567)
            p.add_argument("--family", type=int, choices=(4, 6), required=True)
            p.add_argument("--server-hs", required=True)
            p.add_argument("--client-hs", required=True)
    a = ap.parse_args()
    return {"sweep": sweep, "toobig": toobig, "peers": peers, "handshake": handshake,
            "echo": echo, "wire": wire}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
