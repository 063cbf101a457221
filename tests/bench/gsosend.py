#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A UDP sender that batches as WireGuard-go and QUIC stacks do: each
sendto() carries a burst of datagrams with UDP_SEGMENT, the kernel cuts
it into datagrams of --size bytes. At full speed, or at --rate datagrams
per second (paced per burst), for --secs seconds.

usage: gsosend.py --to HOST:PORT --secs S [--size 1400] [--burst 44]
                  [--rate DGRAMS_PER_S]
Prints "sent N calls M" at the end (N datagrams in M sendto() calls)."""
import argparse
import socket
import time

UDP_SEGMENT = 103  # linux/udp.h

ap = argparse.ArgumentParser()
ap.add_argument("--to", required=True)
ap.add_argument("--secs", type=float, required=True)
ap.add_argument("--size", type=int, default=1400)
ap.add_argument("--burst", type=int, default=44)  # 44 x 1400 = 61,600: under 64 KiB
ap.add_argument("--rate", type=float, default=0)
a = ap.parse_args()
host, port = a.to.rsplit(":", 1)
dest = (host, int(port))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, a.size)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.connect(dest)
burst = bytes(a.size * a.burst)
period = a.burst / a.rate if a.rate else 0
sent = calls = 0
start = time.monotonic()
end = start + a.secs
next_t = start
while True:
    now = time.monotonic()
    if now >= end:
        break
    if period:
        if now < next_t:
            time.sleep(next_t - now)
        next_t += period
    try:
        s.send(burst)
    except (BlockingIOError, ConnectionRefusedError):
        continue  # a full send buffer, an ICMP from an earlier run: try again
    sent += a.burst
    calls += 1
print(f"sent {sent} calls {calls}", flush=True)
