#!/usr/bin/env python3
"""A service manager's notification socket, without the service manager.

notifylisten.py PATH LOG: binds a datagram unix socket at PATH (mode 0777:
the client runs as uid 65534) and appends each sd_notify field received to
LOG as "PID FIELD", PID being the sender's as the kernel vouches for it
(SO_PASSCRED), which is what systemd's NotifyAccess=main checks.
"""
import os
import socket
import struct
import sys

path, log = sys.argv[1], sys.argv[2]
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
        for field in data.decode(errors="replace").splitlines():
            out.write("%s %s\n" % (pid, field))
