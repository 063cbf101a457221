#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""UDP load from many peers: N sockets bound to consecutive source ports,
sending round-robin at a fixed total rate, so a tunnel client sees N UDP
peers (and opens N fake-TCP connections).

usage: udpgen.py --to HOST:PORT --peers N [--first-port P] [--bind ADDR]
                 [--rate DGRAMS_PER_S] [--size BYTES] [--tag X]
                 (--count C | --secs S)

Every datagram starts with the one-byte tag (udpsink.py counts by tag),
so a warm-up round (tag W) and a measured run (tag M) can use the same
source ports, i.e. the same connections. Prints "sent N" at the end."""
import argparse
import socket
import time

ap = argparse.ArgumentParser()
ap.add_argument("--to", required=True)
ap.add_argument("--peers", type=int, default=1)
ap.add_argument("--first-port", type=int, default=20000)
ap.add_argument("--bind", default="127.0.0.1")
ap.add_argument("--rate", type=float, default=20000)
ap.add_argument("--size", type=int, default=1400)
ap.add_argument("--tag", default="M")
ap.add_argument("--count", type=int)
ap.add_argument("--secs", type=float)
a = ap.parse_args()
host, port = a.to.rsplit(":", 1)
dest = (host, int(port))

socks = []
for i in range(a.peers):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, a.first_port + i))
    socks.append(s)
payload = a.tag.encode()[:1] * a.size

limit = a.count if a.count is not None else None
start = time.monotonic()
end = start + a.secs if a.secs is not None else None
sent = errors = 0
i = 0
n = len(socks)
while True:
    now = time.monotonic()
    if end is not None and now >= end:
        break
    if limit is not None and sent + errors >= limit:
        break
    due = int((now - start) * a.rate) - sent - errors
    if limit is not None:
        due = min(due, limit - sent - errors)
    if due <= 0:
        time.sleep(0.0002)
        continue
    for _ in range(min(due, 1000)):
        try:
            socks[i].sendto(payload, dest)
            sent += 1
        except OSError:
            errors += 1
        i = i + 1 if i + 1 < n else 0
print(f"sent {sent} errors {errors} secs {time.monotonic() - start:.3f}", flush=True)
