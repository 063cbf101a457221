#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Watch a one-way UDP flood from two hosts' kernel UDP counters.

    flood_watch.py --send PID --recv PID [--interval 0.02] [--size 1400]

PID: any process in the sending / receiving network namespace (its
/proc/PID/net/snmp is that namespace's). Samples the sender's UDP
OutDatagrams and the receiver's UDP InDatagrams every --interval seconds
until SIGTERM or SIGINT. Prints "ready" once the first sample is taken
(start the flood after it), and at the end one line:

    secs=S sent=N delivered=N gap_ms=G send_mbps=R rcvbuf_errors=A,B per250=a,b,...

- the flood: from the first to the last sample in which the sender sent at
  least --burst datagrams (a paced flood sends hundreds per sample; the
  odd datagram before or after, an end-of-run report's retries, are not
  the flood); secs: its length, sent: OutDatagrams counted in it,
  send_mbps: sent * size * 8 / secs (is the sender pacing at its rate?)
- delivered: InDatagrams from the first sample to the last (what arrives
  just after the flood's end counts)
- gap_ms: the longest time within the flood in which nothing was
  delivered: a run of consecutive samples whose InDatagrams did not move,
  from the sample before the run to its last one (a span that certainly
  had no delivery; a late sample shows as a long interval with deliveries
  in it, not as a gap)
- rcvbuf_errors: UDP RcvbufErrors on the sending host, the receiving host
  (a full socket buffer: a daemon's on the sending host, the sink's)
- per250: datagrams delivered in each 0.25 s of the flood
"""
import argparse
import signal
import sys
import time


def counters(path):
    with open(path) as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--send", required=True, help="a pid in the sending namespace")
    ap.add_argument("--recv", required=True, help="a pid in the receiving namespace")
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--size", type=int, default=1400)
    ap.add_argument("--burst", type=int, default=20)
    ap.add_argument("--max-secs", type=float, default=120)
    a = ap.parse_args()
    spath = "/proc/%s/net/snmp" % a.send
    rpath = "/proc/%s/net/snmp" % a.recv

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    t0 = time.monotonic()
    samples = []  # (t, out, in)
    nxt = t0
    try:
        first = last = (counters(spath), counters(rpath))
    except OSError as e:
        print("cannot read the counters: %s" % e)
        return 1
    while True:
        try:
            last = (counters(spath), counters(rpath))
        except OSError:  # a namespace went away: the test is being torn down
            print("the counters went away")
            return 1
        samples.append((time.monotonic() - t0, last[0]["OutDatagrams"],
                        last[1]["InDatagrams"]))
        if len(samples) == 1:
            print("ready", flush=True)
        if stop or samples[-1][0] > a.max_secs:
            break
        nxt += a.interval
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
        else:
            nxt = time.monotonic()  # late: no catching up, just go on

    # where a datagram was dropped for a full socket buffer, on either host
    # (on the sending host: a tunnel daemon's socket; receiving: the sink)
    bufs = "rcvbuf_errors=%d,%d" % tuple(
        last[k]["RcvbufErrors"] - first[k]["RcvbufErrors"] for k in (0, 1))
    high = [i for i in range(1, len(samples))
            if samples[i][1] - samples[i - 1][1] >= a.burst]
    delivered = samples[-1][2] - samples[0][2]
    if not high:
        print("secs=0 sent=0 delivered=%d gap_ms=-1 send_mbps=0 %s per250=" % (delivered, bufs))
        return 0
    s, e = high[0], high[-1]
    ts = samples[s - 1][0]  # the flood started after this sample
    secs = samples[e][0] - ts
    sent = samples[e][1] - samples[s - 1][1]
    gap, run_from = 0.0, None
    for i in range(s, e + 1):
        if samples[i][2] == samples[i - 1][2]:
            if run_from is None:
                run_from = samples[i - 1][0]
            gap = max(gap, samples[i][0] - run_from)
        else:
            run_from = None
    per = [0] * (int(secs / 0.25) + 1)
    for i in range(s, e + 1):
        k = min(int((samples[i][0] - ts) / 0.25), len(per) - 1)
        per[k] += samples[i][2] - samples[i - 1][2]
    print("secs=%.3f sent=%d delivered=%d gap_ms=%d send_mbps=%.1f %s per250=%s" % (
        secs, sent, delivered, round(gap * 1000),
        sent * a.size * 8 / secs / 1e6 if secs > 0 else 0, bufs, ",".join(map(str, per))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
