#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Wakeup-to-run delays from `perf sched timehist -w`, split by whether
the wakee ran on the CPU its waker woke it from (same) or on the other
(cross: on a VM whose idle vCPUs halt, an IPI and a VM exit).

  perf sched record -a -o sched.data -- sleep 3     # during a ping-pong
  perf sched timehist -w -i sched.data > th.txt
  tests/bench/wakeups.py th.txt client=PID server=PID sockperf-c=PID ...

Prints, per named task and kind: wakeups, p50, mean, p90 (us).
"""
import re
import statistics
import sys


def main(path, names):
    pending, delays = {}, {}
    for line in open(path):
        f = line.split()
        if len(f) < 3 or not f[1].startswith("["):
            continue
        if "awakened:" in line:
            m = re.search(r"awakened: \S+\[(\d+)\]", line)
            if m and m.group(1) in names:
                pending[m.group(1)] = f[1]
            continue
        m = re.search(r"\[(\d+)(?:/\d+)?\]$", f[2])
        if not m or len(f) < 6 or m.group(1) not in pending:
            continue
        pid = m.group(1)
        kind = "same" if pending.pop(pid) == f[1] else "cross"
        delays.setdefault((names[pid], kind), []).append(float(f[4]) * 1000)
    for (name, kind), v in sorted(delays.items()):
        v.sort()
        print("%-12s %-5s wakeups %6d  p50 %5.1f  mean %5.1f  p90 %5.1f us"
              % (name, kind, len(v), v[len(v) // 2], statistics.mean(v), v[int(len(v) * 0.9)]))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], {p: n for n, p in (a.split("=", 1) for a in sys.argv[2:])})
