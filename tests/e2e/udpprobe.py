#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A steady UDP sender/receiver through the tunnel, and the questions the
fault tests ask of what it recorded. Times are CLOCK_REALTIME nanoseconds
(the same clock as `date +%s%N` and the daemons' log timestamps).

  udpprobe.py run --to 127.0.0.1:1234 --bind 127.0.0.1:45000 --log F
      one numbered datagram every --interval (10 ms) until SIGTERM; F gets
      "s SEQ SENT" per datagram sent, "e SEQ SENT RECV LEN" per echo that
      came back byte for byte, "x SEQ LEN" per echo that did not
  udpprobe.py recovery F --since T [--arrived-after T2] [--wait SECS]
      the first echo of a datagram sent at or after T (and arriving at or
      after T2): prints the ms from T to its arrival; exit 1 if none came
      within --wait seconds
  udpprobe.py window F --from T1 --to T2
      datagrams sent in [T1, T2]: sent, echoed, lost, altered, and the
      longest time without an echo arriving inside [T1, T2] (ms)
  udpprobe.py logtime F REGEX [--after T] [--wait SECS]
      the timestamp (ns) of the first daemon log line matching REGEX
      stamped at or after T (the stamps have ms: T's ms is enough), waiting
      for it up to SECS: "2026-01-02T03:04:05.678Z fauxtcp-... info: ..."
"""
import argparse
import calendar
import re
import select
import signal
import socket
import sys
import time


def payload(seq, sent, size):
    head = seq.to_bytes(8, "big") + sent.to_bytes(8, "big")
    body = bytes((seq + i) & 0xff for i in range(max(size - 16, 0)))
    return (head + body)[:max(size, 16)]


def run(a):
    host, port = a.to.rsplit(":", 1)
    bhost, bport = a.bind.rsplit(":", 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((bhost.strip("[]"), int(bport)))
    s.setblocking(False)
    dst = (host.strip("[]"), int(port))
    log = open(a.log, "w", buffering=1)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    out = {}
    seq = 0
    nxt = time.monotonic()
    while not stop:
        now = time.monotonic()
        if now >= nxt:
            sent = time.time_ns()
            p = payload(seq, sent, a.size)
            try:
                s.sendto(p, dst)
            except OSError:
                pass  # the client is down (ECONNREFUSED): still counted as sent
            out[seq] = p
            log.write(f"s {seq} {sent}\n")
            seq += 1
            nxt += a.interval
            if nxt < now:  # we were descheduled: do not send a burst
                nxt = now + a.interval
            # forget datagrams that will not come back any more
            if seq % 1000 == 0:
                for k in [k for k in out if k < seq - 3000]:
                    del out[k]
        try:
            r, _, _ = select.select([s], [], [], max(0.0, nxt - time.monotonic()))
        except InterruptedError:
            continue
        if not r:
            continue
        while True:
            try:
                d = s.recv(65535)
            except BlockingIOError:
                break
            except OSError:
                continue  # an ICMP error for an earlier datagram
            recv = time.time_ns()
            k = int.from_bytes(d[:8], "big") if len(d) >= 16 else -1
            want = out.pop(k, None)
            if want is not None and want == d:
                log.write(f"e {k} {int.from_bytes(d[8:16], 'big')} {recv} {len(d)}\n")
            else:
                log.write(f"x {k} {len(d)}\n")
    log.close()
    return 0


def read(path):
    sent, echo, bad = {}, [], 0
    with open(path) as f:
        for line in f:
            w = line.split()
            if not line.endswith("\n"):
                break  # being written
            if w[0] == "s":
                sent[int(w[1])] = int(w[2])
            elif w[0] == "e":
                echo.append((int(w[1]), int(w[2]), int(w[3])))
            elif w[0] == "x":
                bad += 1
    return sent, echo, bad


def recovery(a):
    deadline = time.monotonic() + a.wait
    with open(a.log) as f:
        part = ""
        while True:
            chunk = f.read()
            lines = (part + chunk).split("\n")
            part = lines.pop()  # a line still being written
            for line in lines:
                w = line.split()
                if w and w[0] == "e" and int(w[2]) >= a.since and int(w[3]) >= a.arrived_after:
                    print(f"{(int(w[3]) - a.since) / 1e6:.0f}")
                    return 0
            if time.monotonic() > deadline:
                print("none")
                return 1
            time.sleep(0.02)


def window(a):
    sent, echo, bad = read(a.log)
    ours = {k for k, t in sent.items() if a.start <= t <= a.end}
    back = {k for (k, _, _) in echo if k in ours}
    arrivals = sorted(r for (k, _, r) in echo if a.start <= r <= a.end)
    gap, last = 0, a.start
    for r in arrivals + [a.end]:
        gap = max(gap, r - last)
        last = r
    print(f"sent {len(ours)} echoed {len(back)} lost {len(ours) - len(back)} "
          f"altered {bad} longest-gap-ms {gap / 1e6:.0f}")
    return 0


def logtime(a):
    rx = re.compile(a.regex)
    after = a.after // 10**6 * 10**6  # the stamps have ms
    deadline = time.monotonic() + a.wait
    with open(a.log, errors="replace") as f:
        part = ""
        while True:
            lines = (part + f.read()).split("\n")
            part = lines.pop()
            for line in lines:
                m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z ", line)
                if not m or not rx.search(line):
                    continue
                y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
                t = calendar.timegm((y, mo, d, h, mi, s)) * 10**9 + ms * 10**6
                if t >= after:
                    print(t)
                    return 0
            if time.monotonic() >= deadline:
                print("none")
                return 1
            time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--to", required=True)
    p.add_argument("--bind", default="127.0.0.1:0")
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--log", required=True)
    p = sub.add_parser("recovery")
    p.add_argument("log")
    p.add_argument("--since", type=int, required=True)
    p.add_argument("--arrived-after", type=int, default=0)
    p.add_argument("--wait", type=float, default=5.0)
    p = sub.add_parser("window")
    p.add_argument("log")
    p.add_argument("--from", dest="start", type=int, required=True)
    p.add_argument("--to", dest="end", type=int, required=True)
    p = sub.add_parser("logtime")
    p.add_argument("log")
    p.add_argument("regex")
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--wait", type=float, default=0.0)
    a = ap.parse_args()
    return {"run": run, "recovery": recovery, "window": window, "logtime": logtime}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
