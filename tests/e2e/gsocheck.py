#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UDP_SEGMENT (GSO) bursts through the tunnel, every datagram checked.

usage: gsocheck.py send|recv --bind IP:PORT [--to IP:PORT] [--seed N]
                   [--bursts N] [--timeout S]

Two ends of one UDP conversation through fauxtcp:
  opener  (--to given): on the client host, writes to fauxtcp-client's
          --local; sends HELLO every 0.2 s until READY comes back, so the
          fake-TCP connection is up before any measured datagram leaves.
  remote  (no --to): fauxtcp-server's --remote; waits for a HELLO and
          answers READY to its source (the server's socket for the
          connection), which is then the peer.
Either end sends or receives. The sender sends a plan drawn from --seed:
bursts of datagrams as one sendto() with UDP_SEGMENT set to the burst's
datagram size (sizes 16..1400, 1 to 64 datagrams, the last one equal or
shorter), and now and then a burst of plain datagrams, one sendto() each.
Every datagram starts with "GSOd", its sequence number and its length,
and is otherwise random bytes. The receiver draws the same plan and
checks that every datagram arrived once with exactly its bytes: merged or
cut datagrams show up as altered (and the rest of their bytes missing).
Prints one line; exit status 0 only if everything arrived intact.
"""
import argparse
import random
import socket
import struct
import sys
import time

UDP_SEGMENT = 103  # linux/udp.h
SO_RCVBUFFORCE = 33  # asm-generic/socket.h (not in Python's socket module)
MAGIC = b"GSOd"
HEAD = struct.Struct("!4sIH")  # magic, sequence number, length
HELLO, READY = b"HELLO-gsocheck", b"READY-gsocheck"
SIZES = [16, 17, 64, 100, 333, 512, 999, 1000, 1280, 1399, 1400]


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def plan(seed, bursts):
    """[(gso, [datagram, ...]), ...]; gso 0: plain sendto()s."""
    rng = random.Random(seed)
    # The edges first: full bursts, a short last one, bursts of one.
    shapes = [(1400, 44, 1400), (1400, 44, 17), (1000, 1, 500), (1400, 1, 1400),
              (16, 64, 16), (1400, 2, 1399), (512, 3, 16)]
    while len(shapes) < bursts:
        size = rng.choice(SIZES) if rng.random() < 0.5 else rng.randint(16, 1400)
        count = rng.choice([1, 2, 3, rng.randint(1, min(64, 65000 // size))])
        last = size if rng.random() < 0.5 else rng.randint(16, size)
        shapes.append((size, count, last))
    out, seq = [], 0
    for i, (size, count, last) in enumerate(shapes):
        dgs = []
        for k in range(count):
            n = size if k + 1 < count else last
            dgs.append(HEAD.pack(MAGIC, seq, n) + rng.randbytes(n - HEAD.size))
            seq += 1
        plain = i >= 7 and rng.random() < 0.15
        out.append((0 if plain else size, dgs))
    return out


def handshake(sock, to, deadline):
    """The opener's HELLO until READY, or the remote's wait for a HELLO:
    the peer's address."""
    while time.monotonic() < deadline:
        if to:
            sock.sendto(HELLO, to)
        sock.settimeout(0.2)
        try:
            data, src = sock.recvfrom(65536)
        except socket.timeout:
            continue
        if to and data == READY:
            return to
        if not to and data == HELLO:
            sock.sendto(READY, src)
            return src
    sys.exit("gsocheck: no " + ("READY" if to else "HELLO") + " came")


def send(sock, peer, bursts):
    n = 0
    for gso, dgs in bursts:
        if gso:
            sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, gso)
            sock.sendto(b"".join(dgs), peer)
        else:
            sock.setsockopt(socket.SOL_UDP, UDP_SEGMENT, 0)
            for d in dgs:
                sock.sendto(d, peer)
        n += len(dgs)
        time.sleep(0.002)  # paced: a loss here would be a buffer's, not the tunnel's
    print(f"sent {n} datagrams in {len(bursts)} bursts "
          f"({sum(1 for g, _ in bursts if g)} with UDP_SEGMENT)")
    return 0


def recv(sock, bursts, deadline):
    want = {}
    for _, dgs in bursts:
        for d in dgs:
            want[HEAD.unpack_from(d)[1]] = d
    got, altered, dup, other, problems = set(), 0, 0, 0, []
    sock.settimeout(0.2)
    idle = None
    while len(got) < len(want) and time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            if got and idle is not None and time.monotonic() - idle > 3:
                break  # 3 s of silence after data: the rest is lost
            continue
        idle = time.monotonic()
        if not data.startswith(MAGIC):
            other += 1  # a HELLO or READY repeated
            continue
        seq = HEAD.unpack_from(data)[1] if len(data) >= HEAD.size else -1
        if want.get(seq) != data:
            altered += 1
            if len(problems) < 5:
                exp = len(want[seq]) if seq in want else "none"
                problems.append(f"seq {seq}: {len(data)} bytes, expected {exp}")
        elif seq in got:
            dup += 1
        else:
            got.add(seq)
    missing = len(want) - len(got)
    print(f"expected {len(want)} received intact {len(got)} missing {missing} "
          f"altered {altered} duplicated {dup} (control datagrams {other})")
    for p in problems:
        print("  " + p)
    return 0 if missing == 0 and altered == 0 and dup == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["send", "recv"])
    ap.add_argument("--bind", required=True, type=addr)
    ap.add_argument("--to", type=addr)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bursts", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()
    deadline = time.monotonic() + a.timeout
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(a.bind)
    try:  # root in the tests: past net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    bursts = plan(a.seed, a.bursts)
    peer = handshake(sock, a.to, deadline)
    sys.exit(send(sock, peer, bursts) if a.what == "send" else recv(sock, bursts, deadline))


if __name__ == "__main__":
    main()
