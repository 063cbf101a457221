#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""livepeer: play the CLIENT side of a phantun capture against a live server.

Run inside the client network namespace of the e2e topology (see
tests/e2e/lib.sh):

    livepeer.py --pcap FILE --iface VETH [--idle-timeout SECS]
                [--skip N,...] [--tolerance-ms 300] [--grace SECS] [-v]

Frames of the capture whose Ethernet source is 02:00:00:00:00:01 are the
client's: they are sent as they are (layer 2, scapy sendp) at their capture
times relative to the first frame. Frames from 02:00:00:00:00:02 are the
server's: each one is expected, in order, as the next live frame on the same
4-tuple, and is compared field by field (Ethernet, IPv4/IPv6 header, TCP
header, options, payload) and on time (within --tolerance-ms). Live frames
that no expected frame consumes are reported as extra. The last line is
"N passed, M failed"; the exit status is 0 only if M == 0.

Adaptation to the live server:
  * per 4-tuple, the difference between the live server's seq and the
    captured one is taken from the SYN|ACK (normally 0); it is added to the
    ack field of the client frames sent later on that tuple (when they carry
    ACK; checksum updated) and to the seq of the server frames expected
    later on it, so that one different ISN is reported once (on the
    SYN|ACK), not on every frame after it;
  * a client frame is sent only once the server frames that precede it on
    its tuple in the capture have arrived (or have been declared missing),
    and not earlier after the last of them than in the capture; when that
    holds it back, the rest of the schedule moves by the same amount;
  * with --idle-timeout SECS, any gap longer than 60 s between two
    consecutive capture frames is shortened to SECS.

Matching: an expected frame that has not come by its time + tolerance is
waited for a little longer while nothing else is due on its tuple (up to
1 s, never past the next client frame on the tuple nor half way to the next
expected frame), so a late answer is reported as late, not as missing and
then mistaken for the next one. A live frame that left the server before
the client frame it would answer was sent is reported as extra.

Sending: one frame with sendp(); frames less than 1 ms apart in the capture
(pcap f: 12 us) leave back to back on sendp's scapy L2 socket, as sendp()
itself spends 0.15-1 ms per frame.

Self-test (no network): --self-test plays the same engine against a
simulated server that answers each client frame with the capture's own
server frames (same delays). --mutate changes what the simulated server
sends, to check that the comparison catches it:
    --mutate N:FIELD=VALUE   set a field of capture frame N (checksums fixed
                             unless FIELD is a checksum)
    --mutate N:FIELD+=DELTA  add to a numeric field
    --mutate N:drop | N:dup | N:delay=MS
--seq-offset K makes the simulated server use ISN K on every tuple that has
a SYN|ACK; the self-test then also checks that the client frames sent on
those tuples carry ack + K.
"""

import argparse
import collections
import ipaddress
import struct
import sys
import threading
import time

MAC_CLIENT = bytes.fromhex("020000000001")
MAC_SERVER = bytes.fromhex("020000000002")

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10
TCP_URG = 0x20
TCP_ECE = 0x40
TCP_CWR = 0x80

LONG_GAP = 60.0          # capture gaps above this are shortened
BATCH_WINDOW = 0.001     # client frames this close together leave in one sendp
LATE_MAX = 1.0           # longest wait for a late answer past its time


class FrameError(Exception):
    pass


# ---------------------------------------------------------------------------
# Checksums

def csum16(data, start=0):
    """One's complement sum of data (16-bit words, big endian), folded."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    s = start
    for (w,) in struct.iter_unpack("!H", data):
        s += w
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def checksum(data, start=0):
    return (~csum16(data, start)) & 0xFFFF


def csum_update32(old_csum, old_val, new_val):
    """RFC 1624 incremental update of a checksum for a changed 32-bit word.

    Keeps a wrong checksum exactly as wrong as it was."""
    s = (~old_csum) & 0xFFFF
    for shift in (16, 0):
        s += (~(old_val >> shift)) & 0xFFFF
        s += (new_val >> shift) & 0xFFFF
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


# ---------------------------------------------------------------------------
# Frames

def fmt_mac(b):
    return ":".join("%02x" % x for x in b)


def fmt_flags(f):
    s = ""
    for bit, ch in ((TCP_FIN, "F"), (TCP_SYN, "S"), (TCP_RST, "R"),
                    (TCP_PSH, "P"), (TCP_URG, "U"), (TCP_ECE, "E"),
                    (TCP_CWR, "W")):
        if f & bit:
            s += ch
    if f & TCP_ACK:
        s += "."
    return "0x%02x [%s]" % (f, s or "none")


def fmt_bytes(b):
    if not b:
        return "(none)"
    h = bytes(b).hex()
    if len(h) > 48:
        h = h[:48] + "..."
    return "%d bytes %s" % (len(b), h)


class Frame:
    """An Ethernet frame carrying IPv4 or IPv6 and (normally) TCP.

    Fields are read and written in place on .data by name (see FIELDS); the
    parse only computes offsets, so a frame can be changed and re-read."""

    def __init__(self, data, t=0.0):
        self.data = bytearray(data)
        self.t = t
        self.parse()

    def copy(self):
        return Frame(self.data, self.t)

    def parse(self):
        d = self.data
        if len(d) < 14:
            raise FrameError("frame shorter than an Ethernet header")
        self.etype = struct.unpack_from("!H", d, 12)[0]
        l3 = 14
        self.l3 = l3
        self.l4 = None
        if self.etype == ETH_IPV4:
            if len(d) < l3 + 20:
                raise FrameError("truncated IPv4 header")
            self.family = 4
            ihl = d[l3] & 0x0F
            self.ip_hlen = ihl * 4
            iplen = struct.unpack_from("!H", d, l3 + 2)[0]
            self.end = min(len(d), l3 + iplen)
            self.proto = d[l3 + 9]
            self.l4 = l3 + self.ip_hlen
        elif self.etype == ETH_IPV6:
            if len(d) < l3 + 40:
                raise FrameError("truncated IPv6 header")
            self.family = 6
            self.ip_hlen = 40
            plen = struct.unpack_from("!H", d, l3 + 4)[0]
            self.end = min(len(d), l3 + 40 + plen)
            self.proto = d[l3 + 6]
            self.l4 = l3 + 40
        else:
            raise FrameError("ethertype 0x%04x is neither IPv4 nor IPv6"
                             % self.etype)
        self.is_tcp = self.proto == 6 and self.end >= self.l4 + 20
        if self.is_tcp:
            doff = (d[self.l4 + 12] >> 4) * 4
            self.tcp_hlen = doff
            self.payload_off = min(self.end, self.l4 + max(doff, 20))
        self._fields = self._field_specs()

    # name -> (offset, length, mask, shift, kind); length 0 with mask: bits
    def _field_specs(self):
        l3, l4 = self.l3, self.l4
        f = collections.OrderedDict()
        f["eth.dst"] = (0, 6, None, 0, "mac")
        f["eth.src"] = (6, 6, None, 0, "mac")
        f["eth.type"] = (12, 2, None, 0, "hex")
        if self.family == 4:
            f["ip.version"] = (l3, 1, 0xF0, 4, "int")
            f["ip.ihl"] = (l3, 1, 0x0F, 0, "int")
            f["ip.tos"] = (l3 + 1, 1, None, 0, "hex")
            f["ip.len"] = (l3 + 2, 2, None, 0, "int")
            f["ip.id"] = (l3 + 4, 2, None, 0, "int")
            f["ip.flags_frag"] = (l3 + 6, 2, None, 0, "hex")
            f["ip.ttl"] = (l3 + 8, 1, None, 0, "int")
            f["ip.proto"] = (l3 + 9, 1, None, 0, "int")
            f["ip.checksum"] = (l3 + 10, 2, None, 0, "hex")
            f["ip.src"] = (l3 + 12, 4, None, 0, "ip")
            f["ip.dst"] = (l3 + 16, 4, None, 0, "ip")
            f["ip.options"] = (l3 + 20, max(0, self.ip_hlen - 20), None, 0,
                               "bytes")
        else:
            f["ip.version"] = (l3, 1, 0xF0, 4, "int")
            f["ip6.tc"] = (l3, 2, 0x0FF0, 4, "hex")
            f["ip6.flow"] = (l3 + 1, 3, 0x0FFFFF, 0, "hex")
            f["ip6.plen"] = (l3 + 4, 2, None, 0, "int")
            f["ip6.nh"] = (l3 + 6, 1, None, 0, "int")
            f["ip6.hlim"] = (l3 + 7, 1, None, 0, "int")
            f["ip.src"] = (l3 + 8, 16, None, 0, "ip")
            f["ip.dst"] = (l3 + 24, 16, None, 0, "ip")
        if self.is_tcp:
            f["tcp.sport"] = (l4, 2, None, 0, "int")
            f["tcp.dport"] = (l4 + 2, 2, None, 0, "int")
            f["tcp.seq"] = (l4 + 4, 4, None, 0, "int")
            f["tcp.ack"] = (l4 + 8, 4, None, 0, "int")
            f["tcp.dataofs"] = (l4 + 12, 1, 0xF0, 4, "int")
            f["tcp.reserved"] = (l4 + 12, 1, 0x0F, 0, "hex")
            f["tcp.flags"] = (l4 + 13, 1, None, 0, "flags")
            f["tcp.window"] = (l4 + 14, 2, None, 0, "int")
            f["tcp.checksum"] = (l4 + 16, 2, None, 0, "hex")
            f["tcp.urgptr"] = (l4 + 18, 2, None, 0, "int")
            f["tcp.options"] = (l4 + 20, max(0, self.payload_off - l4 - 20),
                                None, 0, "bytes")
            f["tcp.payload"] = (self.payload_off,
                                self.end - self.payload_off, None, 0, "bytes")
        else:
            f["ip.payload"] = (l4, self.end - l4, None, 0, "bytes")
        f["trailer"] = (self.end, len(self.data) - self.end, None, 0, "bytes")
        return f

    def field_names(self):
        return list(self._fields)

    def has(self, name):
        return name in self._fields

    def kind(self, name):
        return self._fields[name][4]

    def get(self, name):
        off, ln, mask, shift, kind = self._fields[name]
        raw = bytes(self.data[off:off + ln])
        if kind in ("mac", "ip", "bytes"):
            return raw
        v = int.from_bytes(raw, "big") if raw else 0
        if mask is not None:
            v = (v >> shift) & (mask >> shift)
        return v

    def set(self, name, value):
        off, ln, mask, shift, kind = self._fields[name]
        if kind in ("mac", "ip", "bytes"):
            if isinstance(value, str):
                if kind == "mac":
                    value = bytes.fromhex(value.replace(":", ""))
                elif kind == "ip":
                    value = ipaddress.ip_address(value).packed
                else:
                    value = bytes.fromhex(value)
            self.data[off:off + ln] = value
        else:
            cur = int.from_bytes(self.data[off:off + ln], "big")
            if mask is not None:
                value = (cur & ~mask) | ((value << shift) & mask)
            value &= (1 << (8 * ln)) - 1
            self.data[off:off + ln] = value.to_bytes(ln, "big")
        self.parse()

    def fmt(self, name, value=None):
        if value is None:
            value = self.get(name)
        kind = self._fields[name][4]
        if kind == "mac":
            return fmt_mac(value)
        if kind == "ip":
            try:
                return str(ipaddress.ip_address(value))
            except ValueError:
                return value.hex()
        if kind == "bytes":
            return fmt_bytes(value)
        if kind == "hex":
            return "0x%x" % value
        if kind == "flags":
            return fmt_flags(value)
        return str(value)

    # -- derived values --------------------------------------------------
    @property
    def src_mac(self):
        return bytes(self.data[6:12])

    def addr(self, which):
        return str(ipaddress.ip_address(self.get("ip." + which)))

    @property
    def tuple(self):
        """(src ip, src port, dst ip, dst port) as sent."""
        return (self.addr("src"), self.get("tcp.sport"),
                self.addr("dst"), self.get("tcp.dport"))

    @property
    def flags(self):
        return self.get("tcp.flags")

    def pseudo_sum(self):
        tcplen = self.end - self.l4
        if self.family == 4:
            ph = self.get("ip.src") + self.get("ip.dst") + struct.pack(
                "!BBH", 0, self.proto, tcplen)
        else:
            ph = self.get("ip.src") + self.get("ip.dst") + struct.pack(
                "!IxxxB", tcplen, self.proto)
        return csum16(ph)

    def tcp_checksum_ok(self):
        return csum16(self.data[self.l4:self.end], self.pseudo_sum()) == 0xFFFF

    def ip_checksum_ok(self):
        if self.family != 4:
            return True
        return csum16(self.data[self.l3:self.l3 + self.ip_hlen]) == 0xFFFF

    def fix_checksums(self, ip=True, tcp=True):
        if ip and self.family == 4:
            self.set("ip.checksum", 0)
            self.set("ip.checksum",
                     checksum(self.data[self.l3:self.l3 + self.ip_hlen]))
        if tcp and self.is_tcp:
            self.set("tcp.checksum", 0)
            self.set("tcp.checksum", checksum(self.data[self.l4:self.end],
                                              self.pseudo_sum()))

    def add_to_seq_field(self, name, delta):
        """Add delta (mod 2^32) to tcp.seq or tcp.ack, checksum updated
        incrementally."""
        old = self.get(name)
        new = (old + delta) & 0xFFFFFFFF
        self.set(name, new)
        self.set("tcp.checksum",
                 csum_update32(self.get("tcp.checksum"), old, new))

    def summary(self):
        if not self.is_tcp:
            return "%s > %s proto %d" % (self.addr("src"), self.addr("dst"),
                                         self.proto)
        ttl = self.get("ip.ttl") if self.family == 4 else self.get("ip6.hlim")
        return "%s.%d > %s.%d %s seq %d ack %d win %d len %d ttl %d" % (
            self.addr("src"), self.get("tcp.sport"), self.addr("dst"),
            self.get("tcp.dport"), fmt_flags(self.flags).split(" ")[1],
            self.get("tcp.seq"), self.get("tcp.ack"),
            self.get("tcp.window"), self.end - self.payload_off, ttl)


def compare(expected, live):
    """Field-by-field differences, as "name: expected X, got Y" strings."""
    diffs = []
    names = expected.field_names()
    for n in live.field_names():
        if n not in names:
            names.append(n)
    for n in names:
        if not expected.has(n):
            diffs.append("%s: expected (absent), got %s" % (n, live.fmt(n)))
            continue
        if not live.has(n):
            diffs.append("%s: expected %s, got (absent)"
                         % (n, expected.fmt(n)))
            continue
        ev, lv = expected.get(n), live.get(n)
        if ev == lv:
            continue
        if expected.kind(n) == "bytes" and n == "tcp.payload" and ev and lv:
            first = next((i for i in range(min(len(ev), len(lv)))
                          if ev[i] != lv[i]), min(len(ev), len(lv)))
            diffs.append("%s: expected %s, got %s (first difference at "
                         "byte %d)" % (n, expected.fmt(n), live.fmt(n), first))
        else:
            diffs.append("%s: expected %s, got %s"
                         % (n, expected.fmt(n), live.fmt(n)))
    return diffs


# ---------------------------------------------------------------------------
# The capture

class Event:
    """One capture frame: a client frame to send or a server frame to
    expect."""

    def __init__(self, num, frame, role, adj):
        self.num = num          # 1-based frame number in the pcap
        self.frame = frame
        self.role = role        # "client" or "server"
        self.adj = adj          # capture time relative to frame 1, shortened
        self.tuple = None       # the connection, server-to-client order
        # engine state
        self.resolved = False
        self.arrival = None     # server: live arrival time
        self.sent_at = None     # client: live send time
        self.shift_at = 0.0     # server: schedule shift when it was armed


def read_pcap(path):
    from scapy.utils import RawPcapReader
    frames = []
    rd = RawPcapReader(path)
    try:
        div = 1e9 if getattr(rd, "nano", False) else 1e6
        for data, meta in rd:
            frames.append(Frame(data, meta.sec + meta.usec / div))
    finally:
        rd.close()
    return frames


def load_events(path, idle_timeout, skip):
    frames = read_pcap(path)
    if not frames:
        raise SystemExit("%s: no frames" % path)
    events, notes = [], []
    adj = 0.0
    for i, fr in enumerate(frames):
        num = i + 1
        if i:
            gap = fr.t - frames[i - 1].t
            if idle_timeout is not None and gap > LONG_GAP:
                notes.append("gap of %.3f s before frame %d shortened to %g s"
                             % (gap, num, idle_timeout))
                gap = idle_timeout
            adj += gap
        if num in skip:
            notes.append("frame %d skipped (--skip)" % num)
            continue
        if fr.src_mac == MAC_CLIENT:
            role = "client"
        elif fr.src_mac == MAC_SERVER:
            role = "server"
        else:
            notes.append("frame %d ignored: Ethernet source %s is neither "
                         "peer's" % (num, fmt_mac(fr.src_mac)))
            continue
        if not fr.is_tcp:
            raise SystemExit("frame %d (%s) is not TCP: the live peer only "
                             "sends and sees TCP; list it with --skip"
                             % (num, role))
        ev = Event(num, fr, role, adj)
        s, sp, d, dp = fr.tuple
        ev.tuple = (s, sp, d, dp) if role == "server" else (d, dp, s, sp)
        events.append(ev)
    return events, notes


# ---------------------------------------------------------------------------
# I/O: live (scapy) and simulated (self-test)

class LiveIO:
    """Sends with scapy sendp() on iface; an AsyncSniffer queues the
    server's frames (kernel arrival timestamps)."""

    def __init__(self, iface, bpf):
        from scapy.all import AsyncSniffer, conf
        self.iface = iface
        self.cond = threading.Condition()
        self.inbox = []
        started = threading.Event()
        self.sock = conf.L2socket(iface=iface)
        self.sniffer = AsyncSniffer(iface=iface, filter=bpf, store=False,
                                    prn=self._on_packet,
                                    started_callback=started.set)
        self.sniffer.start()
        if not started.wait(10):
            raise SystemExit("sniffer on %s did not start" % iface)
        time.sleep(0.2)   # let the BPF program settle before the first send

    def _on_packet(self, pkt):
        with self.cond:
            self.inbox.append((float(pkt.time), bytes(pkt)))
            self.cond.notify_all()

    def now(self):
        return time.time()

    def take(self):
        with self.cond:
            got, self.inbox = self.inbox, []
        return got

    def wait(self, until):
        """Sleep until `until` or until a frame arrives."""
        with self.cond:
            if self.inbox:
                return
            delay = until - time.time()
            if delay > 0:
                self.cond.wait(delay)

    def send(self, events, frames):
        """Send at layer 2 on the scapy L2 socket. A single frame goes
        through sendp(); frames of a batch (less than BATCH_WINDOW apart in
        the capture) are written to the same socket back to back, because
        sendp() spends 0.15-1 ms per frame and pcap f needs its two client
        frames 12 us apart (the server's echo of the first must not
        overtake the second)."""
        from scapy.all import Raw, sendp
        data = [bytes(f.data) for f in frames]
        t = time.time()
        if len(data) == 1:
            sendp(Raw(load=data[0]), socket=self.sock, verbose=False)
        else:
            for d in data:
                self.sock.outs.send(d)
        return t

    def close(self):
        try:
            self.sniffer.stop()
        except Exception:  # noqa: BLE001 (already stopped)
            pass
        self.sock.close()

    def finish(self, out):
        return 0


def apply_mutations(f, ops, num):
    """Apply --mutate operations to frame f (capture frame num). Returns
    (frame, how many copies to send, extra delay in seconds)."""
    copies, delay = 1, 0.0
    for op in ops:
        kind = op[0]
        if kind == "drop":
            copies = 0
        elif kind == "dup":
            copies = 2
        elif kind == "delay":
            delay += op[1] / 1000.0
        elif kind in ("set", "add"):
            _, name, val = op
            if not f.has(name):
                raise SystemExit("--mutate %d: frame has no field %s"
                                 % (num, name))
            if kind == "add":
                val = f.get(name) + val
            f.set(name, val)
            if not name.endswith("checksum"):
                f.fix_checksums(ip=name.startswith(("ip.", "ip6.")),
                                tcp=True)
    return f, copies, delay


class SimIO:
    """A simulated server for --self-test: each client frame sent makes it
    send the capture's server frames that follow it (up to the next client
    frame) after the capture's delays, with the mutations applied."""

    def __init__(self, events, mutations, seq_offset):
        self.clock = 1000.0
        self.events = events
        self.mutations = mutations
        self.seq_offset = seq_offset
        self.pending = []          # (time, data)
        self.errors = []
        self.synack_tuples = {e.tuple for e in events if e.role == "server"
                              and e.frame.flags == TCP_SYN | TCP_ACK}
        self.seen_synack = set()
        self.started = False
        self.adjusted = 0

    def now(self):
        return self.clock

    def take(self):
        got = [p for p in self.pending if p[0] <= self.clock]
        self.pending = [p for p in self.pending if p[0] > self.clock]
        return got

    def wait(self, until):
        nxt = min([p[0] for p in self.pending] + [until])
        self.clock = max(self.clock, nxt)

    def _answers(self, ev):
        """Server events following client event ev up to the next client
        event (or, with ev None, those before the first client event)."""
        idx = 0 if ev is None else self.events.index(ev) + 1
        out = []
        for e in self.events[idx:]:
            if e.role == "client":
                break
            out.append(e)
        return out

    def _emit(self, base_time, base_adj, sev):
        f = sev.frame.copy()
        if sev.tuple in self.synack_tuples and self.seq_offset:
            if f.flags == TCP_SYN | TCP_ACK or sev.tuple in self.seen_synack:
                self.seen_synack.add(sev.tuple)
                f.add_to_seq_field("tcp.seq", self.seq_offset)
        f, copies, delay = apply_mutations(f, self.mutations.get(sev.num, []),
                                           sev.num)
        t = base_time + (sev.adj - base_adj) + delay
        for k in range(copies):
            self.pending.append((t + k * 1e-4, bytes(f.data)))

    def send(self, events, frames):
        t = self.clock
        if not self.started:
            self.started = True
            for sev in self._answers(None):
                self._emit(t - events[0].adj, 0.0, sev)
        for ev, fr in zip(events, frames):
            self._check_sent(ev, fr)
            for sev in self._answers(ev):
                self._emit(t, ev.adj, sev)
        self.clock += 1e-5 * len(frames)
        return t

    def _check_sent(self, ev, fr):
        exp = ev.frame.copy()
        if (self.seq_offset and ev.tuple in self.seen_synack
                and exp.flags & TCP_ACK):
            exp.add_to_seq_field("tcp.ack", self.seq_offset)
        if bytes(exp.data) != bytes(fr.data):
            self.errors.append("sent frame %d: %s" % (
                ev.num, "; ".join(compare(exp, fr)) or "bytes differ"))
        elif exp.data != ev.frame.data:
            self.adjusted += 1
        if not fr.tcp_checksum_ok() and ev.frame.tcp_checksum_ok():
            self.errors.append("sent frame %d: bad TCP checksum" % ev.num)

    def close(self):
        pass

    def finish(self, out):
        for e in self.errors:
            out("self-test: " + e)
        if self.seq_offset:
            out("self-test: %d client frames sent with ack + %d"
                % (self.adjusted, self.seq_offset))
        return len(self.errors)


# ---------------------------------------------------------------------------
# The engine

class Engine:
    def __init__(self, events, io, tolerance, grace, verbose=False,
                 out=print):
        self.events = events
        self.io = io
        self.tol = tolerance
        self.grace = grace
        self.verbose = verbose
        self.out = out
        self.clients = [e for e in events if e.role == "client"]
        self.servers = [e for e in events if e.role == "server"]
        self.live = collections.defaultdict(collections.deque)  # tuple -> q
        self.other = []                  # live frames that did not parse
        self.early = []                  # (time, summary) of early frames
        self.seqdiff = {}                # tuple -> live seq - capture seq
        self.t0 = None
        self.shift = 0.0                 # how far the schedule has moved
        self.passed = 0
        self.failed = 0
        self.next_client = 0             # index in self.clients

    # -- helpers -----------------------------------------------------------
    def _absorb(self):
        for t, data in self.io.take():
            try:
                fr = Frame(data, t)
            except FrameError as exc:
                self.other.append((t, None, str(exc)))
                continue
            if not fr.is_tcp:
                self.other.append((t, fr, "not TCP"))
                continue
            self.live[fr.tuple].append(fr)

    def _armed(self, sev):
        """A server frame is looked for once every client frame before it
        in the capture has been sent."""
        if self.next_client >= len(self.clients):
            return True
        return self.clients[self.next_client].num > sev.num

    def _first_unresolved_on(self, tup):
        for s in self.servers:
            if s.tuple == tup and not s.resolved:
                return s
        return None

    def _expected_time(self, sev):
        return self.t0 + sev.adj + sev.shift_at

    def _resolve_servers(self, now):
        """Match or time out the server frames that can be. Returns
        (progress, earliest deadline still pending)."""
        progress, wake = False, None
        for s in self.servers:
            if s.resolved:
                continue
            if not self._armed(s):
                break
            if self._first_unresolved_on(s.tuple) is not s:
                continue
            q = self.live[s.tuple]
            # a frame that left the server before the client frame it
            # could answer was sent answers nothing we expect now
            stim = self._stimulus(s)
            while q and stim is not None and q[0].t < stim.sent_at:
                fr = q.popleft()
                self.early.append((fr.t, "%s (left before frame %d, the "
                                   "client frame that frame %d answers, was "
                                   "sent)" % (fr.summary(), stim.num, s.num)))
            deadline = self._give_up(s)
            if q:
                self._match(s, q.popleft())
                progress = True
            elif now >= deadline:
                s.resolved = True
                s.arrival = None
                s.resolved_at = deadline
                self.failed += 1
                self.out("frame %d: missing: nothing on %s from +%.3f s "
                         "(expected +%.3f s) to +%.3f s; expected %s"
                         % (s.num, fmt_tuple(s.tuple),
                            self._stimulus(s).sent_at - self.t0
                            if self._stimulus(s) else 0.0,
                            s.adj + s.shift_at, deadline - self.t0,
                            s.frame.summary()))
                progress = True
            elif wake is None or deadline < wake:
                wake = deadline
        return progress, wake

    def _give_up(self, s):
        """When an expected frame that has not come is declared missing.

        At least its expected time + tolerance (later than that it fails
        the time check anyway); longer (up to LATE_MAX) while nothing else
        is due on its tuple, so that a late frame is reported as late, not
        as missing and then taken for the next one: never past the time the
        next client frame on the tuple is due, nor past the midpoint to the
        next expected frame on it."""
        exp = self._expected_time(s)
        limit = exp + max(LATE_MAX, self.tol)
        after = False
        for e in self.events:
            if e is s:
                after = True
                continue
            if not after or e.tuple != s.tuple:
                continue
            if e.role == "client":
                limit = min(limit, self.t0 + e.adj + self.shift)
            else:
                shift = e.shift_at if self._armed(e) else self.shift
                limit = min(limit, (exp + self.t0 + e.adj + shift) / 2)
            break
        return max(exp + self.tol, limit)

    def _stimulus(self, s):
        """The last client frame sent before s on its tuple, or None."""
        last = None
        for c in self.clients:
            if c.num > s.num:
                break
            if c.tuple == s.tuple and c.sent_at is not None:
                last = c
        return last

    def _match(self, s, live):
        exp = s.frame.copy()
        d = self.seqdiff.get(s.tuple)
        if exp.flags == TCP_SYN | TCP_ACK:
            d = (live.get("tcp.seq") - exp.get("tcp.seq")) & 0xFFFFFFFF
            self.seqdiff[s.tuple] = d
            if d:
                self.out("note: frame %d: live server seq differs from the "
                         "capture's by %d on %s; adapting later frames"
                         % (s.num, d, fmt_tuple(s.tuple)))
            d = 0   # the SYN|ACK itself is compared as captured
        if d:
            exp.add_to_seq_field("tcp.seq", d)
        alt = self._earlier_ack(s, exp, live)
        if alt is not None:
            self.out("note: frame %d acks %d, the end of an earlier client "
                     "segment, where the capture acks %d (it left before the "
                     "server read the later one)"
                     % (s.num, alt.get("tcp.ack"), exp.get("tcp.ack")))
            exp = alt
        diffs = compare(exp, live)
        exp_t = s.adj + s.shift_at
        got_t = live.t - self.t0
        if abs(got_t - exp_t) > self.tol:
            diffs.append("time: expected +%.3f s, got +%.3f s (off by %+d ms,"
                         " tolerance %d ms)" % (exp_t, got_t,
                                                round((got_t - exp_t) * 1000),
                                                round(self.tol * 1000)))
        s.resolved = True
        s.arrival = live.t
        s.resolved_at = live.t
        if diffs:
            self.failed += 1
            self.out("frame %d: %s" % (s.num, "; ".join(diffs)))
        else:
            self.passed += 1
            if self.verbose:
                self.out("frame %d ok (+%.3f s, expected +%.3f s)"
                         % (s.num, got_t, exp_t))
            else:
                self.out("frame %d ok" % s.num)

    def _earlier_ack(self, s, exp, live):
        """The expected frame with the live ack, if that ack ends a client
        data segment on the tuple that was sent before the one the capture
        acks (both already sent); else None. A server frame answering a UDP
        datagram carries whatever the server had read when the answer came:
        in pcap f the echo of the 20-byte handshake datagram races the
        100-byte segment sent 12 us after it, and phantun happened to read
        both first. Any other ack difference is still reported."""
        got, want = live.get("tcp.ack"), exp.get("tcp.ack")
        if got == want or not exp.flags & TCP_ACK:
            return None
        ends = []
        for c in self.clients:
            if c.tuple != s.tuple or c.sent_at is None or not c.frame.has("tcp.payload"):
                continue
            n = len(c.frame.get("tcp.payload"))
            if n:
                ends.append((c.frame.get("tcp.seq") + n) & 0xFFFFFFFF)
        if got not in ends or want not in ends or ends.index(got) >= ends.index(want):
            return None
        alt = exp.copy()
        alt.add_to_seq_field("tcp.ack", (got - want) & 0xFFFFFFFF)
        return alt

    def _blockers(self, cev):
        """Server frames before cev on its tuple: all must be resolved."""
        return [s for s in self.servers
                if s.num < cev.num and s.tuple == cev.tuple]

    def _due(self, cev):
        """When cev may leave, or None if it is still waiting for an
        answer."""
        blockers = self._blockers(cev)
        if any(not s.resolved for s in blockers):
            return None
        # before the first send, the first frame is due at once
        base = (self.t0 + cev.adj + self.shift) if self.t0 is not None \
            else 0.0
        if blockers:
            last = blockers[-1]
            # not earlier after the answer than in the capture (the answer's
            # own lateness moves the schedule); after a missing answer, as
            # soon as it was declared missing
            if last.arrival is not None:
                base = max(base, last.arrival + (cev.adj - last.adj))
            else:
                base = max(base, last.resolved_at)
        return base

    def _send_due(self, now):
        """Send the next client frame (and those batched with it) if due.
        Returns "sent", the time it is due, or None (waiting for answers, or
        nothing left)."""
        if self.next_client >= len(self.clients):
            return None
        first = self.clients[self.next_client]
        due = self._due(first)
        if due is None:
            return None
        if due > now:
            return due
        batch = [first]
        j = self.next_client + 1
        while j < len(self.clients):
            c = self.clients[j]
            prev = self.clients[j - 1]
            between = [s for s in self.servers if prev.num < s.num < c.num]
            if between or c.adj - first.adj > BATCH_WINDOW:
                break
            if any(not s.resolved for s in self._blockers(c)):
                break
            batch.append(c)
            j += 1
        frames = []
        for c in batch:
            f = c.frame.copy()
            d = self.seqdiff.get(c.tuple, 0)
            if d and f.flags & TCP_ACK:
                f.add_to_seq_field("tcp.ack", d)
            frames.append(f)
        t = self.io.send(batch, frames)
        if self.t0 is None:
            self.t0 = t - first.adj
            for s in self.servers:
                if s.num < first.num:
                    s.shift_at = 0.0
        # the schedule moves when a client frame leaves later than planned
        self.shift = max(self.shift, due - (self.t0 + first.adj))
        for c, f in zip(batch, frames):
            c.sent_at = t
            c.resolved = True
            if self.verbose:
                self.out("sent frame %d at +%.3f s: %s"
                         % (c.num, t - self.t0, f.summary()))
        self.next_client = j
        upto = self.clients[j].num if j < len(self.clients) else None
        for s in self.servers:
            if s.num > batch[-1].num and (upto is None or s.num < upto):
                s.shift_at = self.shift
        return "sent"

    def _all_done(self):
        return (self.next_client >= len(self.clients)
                and all(s.resolved for s in self.servers))

    # -- main loop -----------------------------------------------------------
    def run(self):
        if not self.clients:
            raise SystemExit("the capture has no client frames to send")
        while not self._all_done():
            self._absorb()
            now = self.io.now()
            progress, wake = self._resolve_servers(now)
            if progress:
                continue
            due = self._send_due(now)
            if due == "sent":
                continue
            wakes = [w for w in (wake, due) if w is not None]
            self.io.wait(min(wakes) if wakes else now + 0.05)
        # grace: answers nobody expects
        last = max([e.sent_at or 0 for e in self.clients] +
                   [getattr(s, "resolved_at", 0) or 0 for s in self.servers])
        end = max(self.io.now(), last + self.grace)
        while self.io.now() < end:
            self.io.wait(end)
            self._absorb()
        self._absorb()
        extras = []
        for tup, q in self.live.items():
            for fr in q:
                extras.append((fr.t, fr.summary()))
        extras.extend(self.early)
        for t, fr, why in self.other:
            extras.append((t, "%s (%s)" % (fr.summary() if fr else "?",
                                           why)))
        for t, summ in sorted(extras):
            self.failed += 1
            self.out("extra: unexpected frame from the server at +%.3f s: %s"
                     % (t - self.t0, summ))
        return self.passed, self.failed


def fmt_tuple(t):
    return "%s.%d > %s.%d" % t


# ---------------------------------------------------------------------------

def parse_skip(s):
    out = set()
    for part in (s or "").split(","):
        part = part.strip()
        if part:
            out.add(int(part))
    return out


def parse_mutations(specs):
    muts = collections.defaultdict(list)
    for spec in specs or []:
        try:
            num, op = spec.split(":", 1)
            num = int(num)
            if op in ("drop", "dup"):
                muts[num].append((op,))
            elif op.startswith("delay="):
                muts[num].append(("delay", float(op[6:])))
            elif "+=" in op:
                name, val = op.split("+=", 1)
                muts[num].append(("add", name, int(val, 0)))
            elif "=" in op:
                name, val = op.split("=", 1)
                try:
                    val = int(val, 0)
                except ValueError:
                    pass
                muts[num].append(("set", name, val))
            else:
                raise ValueError(op)
        except ValueError:
            raise SystemExit("bad --mutate %r (N:FIELD=V, N:FIELD+=D, "
                             "N:drop, N:dup, N:delay=MS)" % spec)
    return muts


def bpf_for(events):
    addrs = sorted({e.frame.addr("src") for e in events
                    if e.role == "server"})
    if not addrs:
        return "tcp"
    return "tcp and (%s)" % " or ".join("src host %s" % a for a in addrs)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Play the client side of a capture against a live "
                    "fake-TCP server and check every answer.")
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--iface")
    ap.add_argument("--idle-timeout", type=float, default=None,
                    help="shorten capture gaps > 60 s to this many seconds")
    ap.add_argument("--skip", default="",
                    help="comma-separated capture frame numbers to leave out")
    ap.add_argument("--tolerance-ms", type=float, default=300.0)
    ap.add_argument("--grace", type=float, default=1.5,
                    help="seconds to keep listening for extra answers at "
                         "the end (default 1.5)")
    ap.add_argument("--self-test", action="store_true",
                    help="no network: a simulated server answers with the "
                         "capture's own frames")
    ap.add_argument("--mutate", action="append",
                    help="self-test: alter what the simulated server sends")
    ap.add_argument("--seq-offset", type=int, default=0,
                    help="self-test: simulated server ISN on SYN|ACK tuples")
    ap.add_argument("--list", action="store_true",
                    help="print the frames' classification and schedule, "
                         "then exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    out = lambda s: print(s, flush=True)  # noqa: E731
    events, notes = load_events(args.pcap, args.idle_timeout,
                                parse_skip(args.skip))
    for n in notes:
        out("note: " + n)
    if args.list:
        for e in events:
            out("frame %d %s +%.6f %s" % (e.num, e.role, e.adj,
                                          e.frame.summary()))
        return 0
    if args.self_test:
        io = SimIO(events, parse_mutations(args.mutate), args.seq_offset)
    else:
        if args.mutate or args.seq_offset:
            ap.error("--mutate and --seq-offset need --self-test")
        if not args.iface:
            ap.error("--iface is required (or --self-test)")
        io = LiveIO(args.iface, bpf_for(events))
    eng = Engine(events, io, args.tolerance_ms / 1000.0, args.grace,
                 args.verbose, out)
    try:
        passed, failed = eng.run()
    finally:
        io.close()
    failed += io.finish(out)
    out("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
