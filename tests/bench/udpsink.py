#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts UDP datagrams by their first byte (udpgen.py's tag) and the
distinct source addresses they came from; prints the counts at SIGTERM or
SIGINT, e.g. "M 100000 W 1000 sources 1000".

With --ack-every K it answers each source's first datagram and every K-th
after with a 16-byte datagram, as a real UDP protocol's acks or keepalives
would (the tunnel's server then sends segments back, which is what a
stateful NAT's TCP window tracking needs to see; a strictly one-way stream
is bench.sh's flood test).

usage: udpsink.py ADDR PORT [--ack-every K]"""
import signal
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
ack_every = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--ack-every" else 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((host, port))
s.settimeout(0.1)
counts = {}
per_source = {}
stop = False
ack = b"a" * 16


def on_signal(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
buf = bytearray(65536)
while not stop:
    try:
        n, peer = s.recvfrom_into(buf)
    except (socket.timeout, InterruptedError):
        continue
    tag = chr(buf[0]) if n else "-"
    counts[tag] = counts.get(tag, 0) + 1
    k = per_source.get(peer, 0)
    per_source[peer] = k + 1
    if ack_every and k % ack_every == 0:
        try:
            s.sendto(ack, peer)
        except OSError:
            pass
print(" ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" sources {len(per_source)}", flush=True)
