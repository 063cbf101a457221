#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A service manager's notification socket, without the service manager.

notifylisten.py PATH LOG [PORT]: binds a datagram unix socket at PATH
(mode 0777: the client runs as uid 65534) and appends each sd_notify field
received to LOG as "PID FIELD", PID being the sender's as the kernel vouches
for it (SO_PASSCRED), which is what systemd's NotifyAccess=main checks.

With PORT, the first READY=1 is answered at once, within the same
millisecond, by one datagram to 127.0.0.1:PORT (run it in the client's
namespace), and "- probe echoed" or "- probe lost" (no echo within 2 s, no
second try) is logged: READY=1 must mean usable, not about to be.
"""
import os
import socket
import struct
import sys


def probe(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.sendto(b"ready", ("127.0.0.1", port))
    try:
        return s.recvfrom(2048)[0] == b"ready"
    except (socket.timeout, ConnectionRefusedError):
        return False


path, log = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
os.chmod(path, 0o777)
with open(log, "a", buffering=1) as out:
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = "?"
        for level, kind, cred in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cred[:12])[0]
        fields = data.decode(errors="replace").splitlines()
        for field in fields:
            out.write("%s %s\n" % (pid, field))
        if port and "READY=1" in fields:
            out.write("- probe %s\n" % ("echoed" if probe(port) else "lost"))
            port = 0
