#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A plain UDP echo: one socket, every datagram sent back to its source.
(socat's UDP-LISTEN,fork races on back-to-back datagrams from one peer.)
usage: udpecho.py ADDR PORT"""
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((host, port))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
