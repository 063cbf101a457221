#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sends UDP datagrams to an echo through the tunnel and checks each echo
byte for byte. Prints one summary line; exit 0 when the loss is within
--max-loss and nothing came back altered.

  udpcheck.py --to 127.0.0.1:1234 --sizes 1,100,1460   each size once
  udpcheck.py --to ... --random 1000 --max-size 1460   random sizes/content
"""
import argparse
import os
import random
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True)
    ap.add_argument("--bind", default="127.0.0.1:0")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--random", type=int, default=0)
    ap.add_argument("--max-size", type=int, default=1460)
    ap.add_argument("--max-loss", type=float, default=0.0)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--gap", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--name", default="udpcheck")
    ap.add_argument("--burst", type=int, default=0,
                    help="send this many back to back, then collect the echoes")
    ap.add_argument("--give-up", type=int, default=10,
                    help="stop after this many losses in a row")
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    bhost, bport = a.bind.rsplit(":", 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((bhost.strip("[]"), int(bport)))
    s.settimeout(a.timeout)
    rng = random.Random(a.seed)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    sizes += [rng.randint(1, a.max_size) for _ in range(a.random)]
    if a.burst:
        return burst(a, s, host, port, sizes, rng)
    sent = ok = lost = bad = run = 0
    for i, n in enumerate(sizes):
        if run >= a.give_up:
            break  # the tunnel is down: do not wait out every datagram
        # Each datagram unique, so a late echo of an earlier one is told apart.
        payload = (i.to_bytes(4, "big") + rng.randbytes(max(n, 4)))[:n] if n >= 4 else rng.randbytes(n)
        s.sendto(payload, (host.strip("[]"), int(port)))
        sent += 1
        deadline = time.monotonic() + a.timeout
        while True:
            try:
                s.settimeout(max(0.001, deadline - time.monotonic()))
                data = s.recv(65535)
            except socket.timeout:
                lost += 1
                run += 1
                break
            if data == payload:
                ok += 1
                run = 0
                break
            if n >= 4 and len(data) >= 4 and data[:4] != payload[:4]:
                continue  # a late echo of an earlier datagram
            bad += 1
            break
        if a.gap:
            time.sleep(a.gap)
    lost += len(sizes) - sent
    sent = len(sizes)
    loss = lost / sent if sent else 1.0
    verdict = bad == 0 and loss <= a.max_loss
    print(f"{a.name}: sent {sent}, echoed {ok}, lost {lost} ({loss:.1%}), altered {bad}: "
          f"{'ok' if verdict else 'FAIL'}")
    return 0 if verdict else 1


def burst(a, s, host, port, sizes, rng):
    """Back-to-back datagrams (so the path may merge their segments, e.g.
    GRO): every one must come back whole and separate."""
    ok = bad = 0
    # Warm up: the connection exists before the first burst.
    s.sendto(b"warm-up", (host.strip("[]"), int(port)))
    try:
        s.settimeout(a.timeout)
        s.recv(65535)
    except socket.timeout:
        pass
    for start in range(0, len(sizes), a.burst):
        want = {}
        for i in range(start, min(start + a.burst, len(sizes))):
            payload = i.to_bytes(4, "big") + rng.randbytes(max(sizes[i] - 4, 0))
            want[i] = payload
            s.sendto(payload, (host.strip("[]"), int(port)))
        deadline = time.monotonic() + a.timeout
        while want and time.monotonic() < deadline:
            try:
                s.settimeout(max(0.001, deadline - time.monotonic()))
                data = s.recv(65535)
            except socket.timeout:
                break
            i = int.from_bytes(data[:4], "big") if len(data) >= 4 else -1
            if want.get(i) == data:
                ok += 1
                del want[i]
            else:
                bad += 1
    lost = len(sizes) - ok
    loss = lost / len(sizes)
    verdict = bad == 0 and loss <= a.max_loss
    print(f"{a.name}: sent {len(sizes)} in bursts of {a.burst}, echoed {ok}, lost {lost} "
          f"({loss:.1%}), altered {bad}: {'ok' if verdict else 'FAIL'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
