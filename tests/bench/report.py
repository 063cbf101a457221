#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints bench.sh's tables from the raw per-repetition results it wrote
(whitespace-separated, one line per measurement, "-" where a value does
not apply): medians over repetitions, each tunnel row against the direct
row of the same load.

usage: report.py DIR      (reads DIR/load.tsv, gso.tsv, lat.tsv, scale.tsv, flood.tsv, wg.tsv)"""
import os
import statistics
import sys

d = sys.argv[1]
LOAD = "mode size streams bw rep mbps dgps loss delivered cli_ms srv_ms host_ms cli_hwm srv_hwm src stalled".split()
GSO = "mode burst rate rep sent delivered mbps dgps loss cli_ms srv_ms host_ms".split()
LAT = "mode msg rep p50 p99".split()
SCALE = "mode peers sent delivered conns_c conns_s cli_ms srv_ms cli_rss cli_hwm srv_rss srv_hwm".split()
FLOOD = "mode dir rep secs sent delivered last_sec per_sec ct_invalid leaked".split()
WG = "path dir streams rep mbps bytes fx_sgb wg_sgb host_sgb".split()
MODES = ["direct", "tun", "raw"]
WG_PATHS = ["udp", "wg-tun", "wg-raw"]


def rows(name, cols):
    path = os.path.join(d, name)
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            v = line.split()
            if len(v) == len(cols):
                out.append(dict(zip(cols, v)))
    return out


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def med(rs, key):
    vals = [num(r[key]) for r in rs]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def f(v, fmt, width):
    return (format(v, fmt) if v is not None else "-").rjust(width)


def ratio(a, b):
    return a / b if a is not None and b else None


def group(rs, keys):
    g = {}
    for r in rs:
        g.setdefault(tuple(r[k] for k in keys), []).append(r)
    return g


def mib(kb):
    return kb / 1024 if kb is not None else None


load = group(rows("load.tsv", LOAD), ["mode", "size", "streams", "bw"])
if load:
    print("Throughput: iperf2 UDP at -b RATE; goodput, datagrams/s and loss from the iperf server's")
    print("report (*: no report came, the server host's UDP InDatagrams instead); CPU in ms per")
    print("1,000 datagrams delivered (client/server: the fauxtcp processes' utime+stime; host: all")
    print("cores' busy time from /proc/stat); HWM: the daemon's peak RSS so far (VmHWM); x: ratio")
    print("to the direct row of the same load. stalled: runs in which a stream stalled (left out")
    print("of the medians unless all stalled).")
    print("Medians of", max(len(v) for v in load.values()), "run(s).")
    print()
    print("mode     size  P   -b     Mbit/s  kdgram/s  loss%  client  server    host  cliHWM  srvHWM  x goodput  x hostCPU  stalled")
    print("                                                ms/1k   ms/1k   ms/1k     MiB     MiB")
    def rate(bw):
        return float(bw[:-1]) * {"K": 1e3, "M": 1e6, "G": 1e9}.get(bw[-1], 1) if bw[-1].isalpha() else float(bw)
    keys = sorted(load, key=lambda k: (-rate(k[3]), -int(k[1]), int(k[2]), MODES.index(k[0])))
    for k in keys:
        rs = load[k]
        flowing = [r for r in rs if r["stalled"] == "0"]
        nstall = len(rs) - len(flowing)
        rs = flowing or rs
        m = {c: med(rs, c) for c in LOAD[4:-2]}
        mark = "*" if any(r["src"] != "iperf" for r in rs) else " "
        base = load.get(("direct", k[1], k[2], k[3]))
        bm = {c: med(base, c) for c in ("mbps", "host_ms")} if base else {}
        gx = ratio(m["mbps"], bm.get("mbps")) if k[0] != "direct" else None
        cx = ratio(m["host_ms"], bm.get("host_ms")) if k[0] != "direct" else None
        print(f"{k[0]:<8} {k[1]:>4} {k[2]:>2} {k[3]:>5} {f(m['mbps'], '.0f', 8)}{mark}{f(m['dgps'] and m['dgps'] / 1000, '.1f', 8)}"
              f" {f(m['loss'], '.1f', 6)} {f(m['cli_ms'], '.2f', 7)} {f(m['srv_ms'], '.2f', 7)}"
              f" {f(m['host_ms'], '.2f', 7)} {f(mib(m['cli_hwm']), '.1f', 7)} {f(mib(m['srv_hwm']), '.1f', 7)}"
              f" {f(gx, '.2f', 10)} {f(cx, '.2f', 10)}  {f'{nstall}/{nstall + len(flowing)}' if nstall else ''}".rstrip())
    print()

gso = group(rows("gso.tsv", GSO), ["mode", "burst", "rate"])
if gso:
    print("A batching sender (WireGuard-go, QUIC stacks): gsosend.py, 1400-byte datagrams, BURST of")
    print("them per sendto() with UDP_SEGMENT, at full speed (rate 0) or paced (datagrams/s);")
    print("delivered: the server host's UDP InDatagrams (sink: iperf -s); loss: of what the sender")
    print("sent; CPU in ms per 1,000 datagrams delivered, as above; x: ratio to the direct row of")
    print("the same burst and rate.")
    print("Medians of", max(len(v) for v in gso.values()), "run(s).")
    print()
    print("mode   burst     rate    Mbit/s  kdgram/s  loss%  client  server    host  x goodput  x hostCPU")
    print("                                                   ms/1k   ms/1k   ms/1k")
    for k in sorted(gso, key=lambda k: (int(k[1]), float(k[2]), MODES.index(k[0]))):
        m = {c: med(gso[k], c) for c in GSO[4:]}
        base = gso.get(("direct", k[1], k[2]))
        bm = {c: med(base, c) for c in ("mbps", "host_ms")} if base else {}
        gx = ratio(m["mbps"], bm.get("mbps")) if k[0] != "direct" else None
        cx = ratio(m["host_ms"], bm.get("host_ms")) if k[0] != "direct" else None
        print(f"{k[0]:<6} {k[1]:>5} {k[2]:>8} {f(m['mbps'], '.0f', 9)} {f(m['dgps'] and m['dgps'] / 1000, '.1f', 9)}"
              f" {f(m['loss'], '.1f', 6)} {f(m['cli_ms'], '.2f', 7)} {f(m['srv_ms'], '.2f', 7)}"
              f" {f(m['host_ms'], '.2f', 7)} {f(gx, '.2f', 10)} {f(cx, '.2f', 10)}".rstrip())
    print()

lat = group(rows("lat.tsv", LAT), ["mode", "msg"])
if lat:
    print("Latency: sockperf ping-pong, round-trip time in microseconds (sockperf --full-rtt);")
    print("added: the tunnel's p50/p99 minus the direct path's for the same message size.")
    print()
    print("mode     msg     p50     p99  added p50  added p99")
    for k in sorted(lat, key=lambda k: (int(k[1]), MODES.index(k[0]))):
        p50, p99 = med(lat[k], "p50"), med(lat[k], "p99")
        base = lat.get(("direct", k[1]))
        a50 = a99 = None
        if base and k[0] != "direct":
            b50, b99 = med(base, "p50"), med(base, "p99")
            a50 = p50 - b50 if p50 is not None and b50 is not None else None
            a99 = p99 - b99 if p99 is not None and b99 is not None else None
        print(f"{k[0]:<7} {k[1]:>4} {f(p50, '.1f', 7)} {f(p99, '.1f', 7)} {f(a50, '+.1f', 10)} {f(a99, '+.1f', 10)}")
    print()

scale = rows("scale.tsv", SCALE)
if scale:
    print("Connection scaling: N UDP peers (distinct source ports) sending round-robin at a fixed")
    print("total rate through the client, after a warm-up round opened N connections; CPU per")
    print("1,000 datagrams delivered to the sink (the fauxtcp processes' utime+stime); RSS and")
    print("HWM (MiB) of each daemon after the measured run.")
    print()
    print("mode   peers  conns c/s        sent   delivered  client  server  cliRSS  cliHWM  srvRSS  srvHWM")
    print("                                                  ms/1k   ms/1k")
    for r in scale:
        g = {c: num(r[c]) for c in SCALE[1:]}
        print(f"{r['mode']:<6} {r['peers']:>5} {r['conns_c'] + '/' + r['conns_s']:>11} {f(g['sent'], '.0f', 11)}"
              f" {f(g['delivered'], '.0f', 11)} {f(g['cli_ms'], '.2f', 7)} {f(g['srv_ms'], '.2f', 7)}"
              f" {f(mib(g['cli_rss']), '.1f', 7)} {f(mib(g['cli_hwm']), '.1f', 7)}"
              f" {f(mib(g['srv_rss']), '.1f', 7)} {f(mib(g['srv_hwm']), '.1f', 7)}")
    print()

flood = rows("flood.tsv", FLOOD)
if flood:
    print("One-way floods through the NAT router as by default (masquerade,")
    print("nf_conntrack_tcp_be_liberal=0): iperf2 UDP, 1400 bytes at -b 10G, nothing sent back;")
    print("up: client host -> server host, down: server -> client (iperf -R). sent: the sending")
    print("host's UDP OutDatagrams, delivered: the receiving host's InDatagrams. x: delivered per")
    print("second over direct's (the median of its runs, same direction); worst s: the slowest")
    print("second over the same. ct invalid: packets the router's conntrack found invalid;")
    print("leaked: of those, the ones that left un-NATed (dropped there, as the Internet would).")
    print()
    base = {}
    for (mode, dr), rs in group(flood, ["mode", "dir"]).items():
        if mode == "direct":
            base[dr] = statistics.median(num(r["delivered"]) / num(r["secs"]) for r in rs)
    print("mode   dir  run secs        sent   delivered      %      x  worst s  ct invalid  leaked"
          "  per second (k)")
    for r in flood:
        s, dl = num(r["sent"]), num(r["delivered"])
        pct = 100 * dl / s if s else None
        secs = [int(x) for x in r["per_sec"].split(",") if x.isdigit()]
        per = ",".join(f"{x / 1000:.0f}" for x in secs)
        b = base.get(r["dir"])
        x = ratio(dl / num(r["secs"]), b)
        worst = ratio(min(secs), b) if secs else None
        print(f"{r['mode']:<6} {r['dir']:<4} {r['rep']:>3} {r['secs']:>4} {f(s, '.0f', 11)} {f(dl, '.0f', 11)}"
              f" {f(pct, '.1f', 6)} {f(x, '.2f', 6)} {f(worst, '.2f', 8)} {r['ct_invalid']:>11}"
              f" {r['leaked']:>7}  {per}")
    print()

wg = group(rows("wg.tsv", WG), ["path", "dir", "streams"])
if wg:
    print("WireGuard (wireguard-go, MTU 1428 everywhere) with iperf2 TCP inside it; up: client host")
    print("-> server host, down: server -> client (iperf -R; the client host opens every")
    print("connection); P: TCP streams. udp: WireGuard over plain UDP through the same NAT router;")
    print("wg-tun, wg-raw: through fauxtcp, the server in TUN or raw mode. CPU in s per GB")
    print("delivered: fauxtcp (client + server), wireguard-go (both ends), host (all cores' busy")
    print("time). x: ratio to the udp row of the same direction and streams, this run.")
    print("Medians of", max(len(v) for v in wg.values()), "run(s).")
    print()
    print("path    dir   P   Mbit/s  fauxtcp  wg-go   host  x goodput  x wg-go  x hostCPU")
    print("                           s/GB    s/GB   s/GB")
    keys = sorted(wg, key=lambda k: (k[1] != "up", int(k[2]), WG_PATHS.index(k[0])))
    for k in keys:
        m = {c: med(wg[k], c) for c in WG[4:]}
        base = wg.get(("udp", k[1], k[2]))
        bm = {c: med(base, c) for c in ("mbps", "wg_sgb", "host_sgb")} if base else {}
        other = k[0] != "udp"
        gx = ratio(m["mbps"], bm.get("mbps")) if other else None
        wx = ratio(m["wg_sgb"], bm.get("wg_sgb")) if other else None
        hx = ratio(m["host_sgb"], bm.get("host_sgb")) if other else None
        print(f"{k[0]:<7} {k[1]:<4} {k[2]:>2} {f(m['mbps'], '.0f', 8)} {f(m['fx_sgb'], '.2f', 8)}"
              f" {f(m['wg_sgb'], '.2f', 6)} {f(m['host_sgb'], '.2f', 6)} {f(gx, '.2f', 10)}"
              f" {f(wx, '.2f', 8)} {f(hx, '.2f', 10)}".rstrip())
    print()
