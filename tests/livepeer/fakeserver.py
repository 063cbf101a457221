#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""fakeserver: a stand-in for the server under test, to check the live
peer's own plumbing (sniffer, sendp, timing, filters, the e2e topology)
before a real server exists. Run it in the SERVER namespace:

    fakeserver.py --pcap FILE --iface VETH [--idle-timeout SECS]
                  [--skip N,...] [--seq-offset K] [--mutate SPEC ...]

It waits for the capture's client frames, in order, and answers each with
the capture's server frames that follow it, after the capture's delays
(counted from the client frame's arrival), sent at layer 2. --seq-offset
and --mutate work as in livepeer.py --self-test. It also checks that the
client frames it receives are the capture's (with ack + K on the tuples
where it used ISN K), prints one line per difference and ends with
"N received ok, M differ" once every client frame has come and every
answer has left (or on SIGTERM); exit status 0 only if M == 0 and all
came. The host's own kernel must be kept quiet (see
tests/e2e/livepeer_selftest.sh).
"""

import argparse
import heapq
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livepeer as L  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--idle-timeout", type=float)
    ap.add_argument("--skip", default="")
    ap.add_argument("--seq-offset", type=int, default=0)
    ap.add_argument("--mutate", action="append")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="give up after this many seconds")
    args = ap.parse_args()
    out = lambda s: print(s, flush=True)  # noqa: E731

    events, _ = L.load_events(args.pcap, args.idle_timeout,
                              L.parse_skip(args.skip))
    muts = L.parse_mutations(args.mutate)
    clients = [e for e in events if e.role == "client"]
    synack_tuples = {e.tuple for e in events if e.role == "server"
                     and e.frame.flags == L.TCP_SYN | L.TCP_ACK}
    seen_synack = set()

    from scapy.all import AsyncSniffer, Raw, conf, sendp
    cond = threading.Condition()
    inbox = []
    stop = threading.Event()

    def on_pkt(p):
        with cond:
            inbox.append((float(p.time), bytes(p)))
            cond.notify_all()

    def on_term(*_):
        stop.set()
        with cond:
            cond.notify_all()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    sock = conf.L2socket(iface=args.iface)
    started = threading.Event()
    sn = AsyncSniffer(iface=args.iface, store=False, prn=on_pkt,
                      filter="tcp and ether src 02:00:00:00:00:01",
                      started_callback=started.set)
    sn.start()
    started.wait(10)
    out("fakeserver: ready")

    heap = []       # (time, seq, bytes)
    seqno = 0
    nxt = 0
    good = bad = 0
    deadline = time.time() + args.timeout

    def answers_after(ev):
        idx = events.index(ev) + 1
        res = []
        for e in events[idx:]:
            if e.role == "client":
                break
            res.append(e)
        return res

    while not stop.is_set() and time.time() < deadline:
        with cond:
            got, inbox[:] = list(inbox), []
        for t, data in got:
            try:
                fr = L.Frame(data, t)
            except L.FrameError:
                continue
            if nxt >= len(clients):
                bad += 1
                out("fakeserver: unexpected client frame: %s" % fr.summary())
                continue
            c = clients[nxt]
            nxt += 1
            exp = c.frame.copy()
            if (args.seq_offset and c.tuple in seen_synack
                    and exp.flags & L.TCP_ACK):
                exp.add_to_seq_field("tcp.ack", args.seq_offset)
            diffs = L.compare(exp, fr)
            if diffs:
                bad += 1
                out("fakeserver: client frame %d: %s"
                    % (c.num, "; ".join(diffs)))
            else:
                good += 1
            for s in answers_after(c):
                f = s.frame.copy()
                if args.seq_offset and s.tuple in synack_tuples and (
                        f.flags == L.TCP_SYN | L.TCP_ACK
                        or s.tuple in seen_synack):
                    seen_synack.add(s.tuple)
                    f.add_to_seq_field("tcp.seq", args.seq_offset)
                f, copies, delay = L.apply_mutations(
                    f, muts.get(s.num, []), s.num)
                for k in range(copies):
                    heapq.heappush(heap, (t + s.adj - c.adj + delay + k * 1e-4,
                                          seqno, bytes(f.data)))
                    seqno += 1
        now = time.time()
        while heap and heap[0][0] <= now:
            _, _, data = heapq.heappop(heap)
            sendp(Raw(load=data), socket=sock, verbose=False)
        if nxt >= len(clients) and not heap:
            break
        wait = 0.05
        if heap:
            wait = max(0.0, min(wait, heap[0][0] - time.time()))
        with cond:
            if not inbox and wait > 0:
                cond.wait(wait)
    sn.stop()
    sock.close()
    missing = len(clients) - nxt
    if missing:
        out("fakeserver: %d client frames never came" % missing)
    out("%d received ok, %d differ" % (good, bad))
    return 0 if bad == 0 and missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
