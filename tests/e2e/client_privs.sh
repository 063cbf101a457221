#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a local user gets from a fauxtcp-client that holds CAP_NET_RAW
# through file capabilities (the README's setcap): its own tunnel, and
# nothing of the host's other traffic, files, interfaces or ports.
#
#   C (fxp-c-PID-0) v0 192.0.2.1/24 (and .3) <-> v1 192.0.2.2/24 S (fxp-s-PID-0)
#                   d0 198.51.100.1/24 <-> d1 (in C: an interface the route does not use)
#
# S runs a plain TCP echo service on port 5000 and fauxtcp-server in raw
# mode on port 4567. In C, root keeps a plain TCP session with S:5000 while
# uid 65534 runs a setcap'd copy of the client with -r S:5000 --pcap: the
# capture must hold our segments and none of root's session. Then the
# refusals (--pcap, -c and --handshake-packet beyond the user's rights,
# --iface), the status socket's checks, the guard ports, and the server's
# and client's captures of a real tunnel. Runs as root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
client=$(realpath "${FAUXTCP_CLIENT:-$here/../../build/fauxtcp-client}")
server=$(realpath "${FAUXTCP_SERVER:-$here/../../build/fauxtcp-server}")
py=/usr/bin/python3
e2e_need_tools setcap tcpdump socat
E2E_NAME=fxp
e2e_init
trap 'rm -f "/tmp/fxp-$$.pcap"; e2e_cleanup' EXIT # that file: only if a refusal failed
tmp=$E2E_TMP
ok() { e2e_result "$*" 0; }
bad() { e2e_result "$*" 1; }

e2e_netns NS_C c || e2e_die "cannot create the namespaces"
e2e_netns NS_S s || e2e_die "cannot create the namespaces"
e2e_veth "$NS_C" v0 192.0.2.1/24,192.0.2.3/24 "$NS_S" v1 192.0.2.2/24 || e2e_die "cannot link them"
# A second interface the route to S does not use.
e2e_veth "$NS_C" d0 198.51.100.1/24 "$NS_C" d1 - || e2e_die "cannot add d0"
# Arrays, not functions: they run under timeout, and "CMD &" leaves the
# program's own pid in $! (each of these execs the next).
in_c=(ip netns exec "$NS_C")
in_s=(ip netns exec "$NS_S")
as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
user=(ip netns exec "$NS_C" "${as_user[@]}")
other=(ip netns exec "$NS_C" setpriv --reuid=65533 --regid=65533 --clear-groups)
stop() { e2e_stop "$1" 5; } # PID: SIGTERM, then wait for it (the client writes its capture at exit)

# Copies the user can run: with CAP_NET_RAW as the README says, and one
# over-granted with CAP_DAC_READ_SEARCH too (an admin's mistake must not
# turn into reading root's files).
cp "$client" "$tmp/fauxtcp-client"
cp "$client" "$tmp/fauxtcp-client-dac"
setcap cap_net_raw+ep "$tmp/fauxtcp-client"
setcap cap_net_raw,cap_dac_read_search+ep "$tmp/fauxtcp-client-dac"
mkdir -m 700 "$tmp/u"
chown 65534:65534 "$tmp/u"

expect() { e2e_expect_error "$@"; } # NAME PATTERN CMD...: fails with one stderr line matching

# frames FILE: one line per frame, "TCP SRC:PORT > DST:PORT FLAGS PAYLOAD"
# or the ethertype of anything else.
cat >"$tmp/frames.py" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 24
while off + 16 <= len(d):
    cap = struct.unpack_from('<I', d, off + 8)[0]
    f = d[off + 16:off + 16 + cap]
    off += 16 + cap
    et = struct.unpack_from('!H', f, 12)[0]
    if et != 0x0800 or f[14 + 9] != 6:
        print('ETHERTYPE %04x' % et)
        continue
    ip = f[14:]
    hl = (ip[0] & 15) * 4
    tcp = ip[hl:]
    sp, dp = struct.unpack_from('!HH', tcp)
    th = (tcp[12] >> 4) * 4
    print('TCP %s:%d > %s:%d %02x %s' % ('.'.join(map(str, ip[12:16])), sp,
          '.'.join(map(str, ip[16:20])), dp, tcp[13], tcp[th:].decode('ascii', 'replace').strip() or '-'))
EOF
frames() { "$py" "$tmp/frames.py" "$1"; }

# Root's plain TCP session: a line a tenth of a second, each echoed.
cat >"$tmp/plain.py" <<'EOF'
import socket, sys, time
src, dst, port, secs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
s = socket.socket()
s.bind((src, int(sys.argv[6]) if len(sys.argv) > 6 else 0))
s.connect((dst, port))
open(out, 'w').write('%d\n' % s.getsockname()[1])
s.settimeout(2)
n = 0
end = time.time() + secs
try:
    while time.time() < end:
        msg = b'ROOTSECRET %d\n' % n
        s.sendall(msg)
        got = b''
        while len(got) < len(msg):
            b = s.recv(len(msg) - len(got))
            if not b:
                raise ConnectionResetError('closed by the peer')
            got += b
        if got != msg:
            raise ValueError('bad echo')
        n += 1
        time.sleep(0.1)
except (OSError, ValueError) as e:
    print('broken after %d echoes: %s' % (n, e))
    sys.exit(1)
print('%d echoes' % n)
EOF
# Datagrams into the tunnel: "OURS n", 20 a second.
cat >"$tmp/send.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.05)
got = 0
for i in range(int(float(sys.argv[2]) * 20)):
    s.sendto(b'OURS %d' % i, ('127.0.0.1', int(sys.argv[1])))
    try:
        got += len(s.recv(2000)) > 0
    except OSError:
        pass
print(got)
EOF

e2e_bg "$NS_S" "$tmp/tcp-echo.log" socat TCP-LISTEN:5000,bind=192.0.2.2,fork,reuseaddr EXEC:cat
e2e_bg "$NS_S" "$tmp/udp-echo.log" "$py" -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 7000))
while True:
    d, a = s.recvfrom(2000); s.sendto(d, a)'
e2e_bg "$NS_S" "$tmp/server.log" "$server" --mode raw --iface v1 -l 4567 -r 127.0.0.1:7000 --pcap "$tmp/server.pcap"
server_pid=$E2E_LAST_PID
sleep 0.5

# ---- 1. --pcap records our segments, not root's session with the same host and port
"${in_c[@]}" "$py" "$tmp/plain.py" 192.0.2.1 192.0.2.2 5000 6 "$tmp/rootport" >"$tmp/plain.out" 2>&1 &
plain=$!
sleep 0.5
e2e_bg "$NS_C" "$tmp/sniff.log" "${as_user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4000 -r 192.0.2.2:5000 --pcap "$tmp/u/cap.pcap"
sniffer=$E2E_LAST_PID
sleep 0.5
"${in_c[@]}" "$py" "$tmp/send.py" 4000 2 >/dev/null

# ---- 2. the guard ports: only on our source address, in the client's range,
# the user's sockets; a session of root's on the same port number from
# another address of the host is not answered (which would reset it)
gport=$("${in_c[@]}" ss -Hltn 'src 192.0.2.1' | awk '{split($4, a, ":"); print a[2]}' | head -1)
if [ -n "$gport" ] && [ "$gport" -ge 32768 ] && [ "$gport" -le 60999 ] &&
	"${in_c[@]}" ss -Hltne "sport = :$gport" 2>/dev/null | grep -q 'uid:65534' &&
	[ "$("${in_c[@]}" ss -Hltne 2>/dev/null | grep -c 'uid:65534')" -eq 1 ]; then
	ok "guard: one listener, 192.0.2.1:$gport, uid 65534, in 32768-60999"
else
	bad "guard ports of the user's client:"
	"${in_c[@]}" ss -Hltne 2>/dev/null | sed 's/^/     /'
fi
if [ -n "$gport" ] &&
	"${in_c[@]}" "$py" "$tmp/plain.py" 192.0.2.3 192.0.2.2 5000 1.5 "$tmp/port3" "$gport" >"$tmp/plain3.out" 2>&1; then
	ok "root's session from 192.0.2.3:$gport (the guard's port number, another address): $(cat "$tmp/plain3.out"), not reset"
else
	bad "root's session from 192.0.2.3:$gport: $(cat "$tmp/plain3.out" 2>/dev/null)"
fi

# ---- 3. the status socket of the user's client
if "${user[@]}" "$client" status -v -l 127.0.0.1:4000 2>&1 | grep -q '^connections: 1 of'; then
	ok "status: the user gets the report of the user's own client"
else
	bad "status as the user"
fi
if "${other[@]}" "$client" status -l 127.0.0.1:4000 2>&1 |
	grep -qx 'status: refused: run it as the daemon'"'"'s user or root'; then
	ok "status: another user is refused by the daemon"
else
	bad "status as another user"
fi

wait "$plain"
plain_rc=$?
stop "$sniffer"
rootport=$(cat "$tmp/rootport" 2>/dev/null)
if [ "$plain_rc" -eq 0 ] && [ -n "$rootport" ]; then
	ok "root's plain session from port $rootport ran beside the client: $(cat "$tmp/plain.out")"
else
	bad "root's plain session: $(cat "$tmp/plain.out")"
fi
frames "$tmp/u/cap.pcap" >"$tmp/cap.txt" 2>&1
ours=$(awk '$1 == "TCP" && $2 == "192.0.2.1:'"$gport"'" && $6 ~ /^OURS/' "$tmp/cap.txt" | wc -l)
theirs=$(awk '$1 == "TCP" && $2 == "192.0.2.2:5000" && $4 == "192.0.2.1:'"$gport"'"' "$tmp/cap.txt" | wc -l)
leaked=$(grep -c 'ROOTSECRET\|:'"$rootport"' ' "$tmp/cap.txt")
foreign=$(awk '$1 == "TCP" && $2 != "192.0.2.1:'"$gport"'" && $4 != "192.0.2.1:'"$gport"'"' "$tmp/cap.txt" | wc -l)
if [ "$leaked" -eq 0 ] && [ "$foreign" -eq 0 ] && [ "$ours" -gt 0 ] && [ "$theirs" -gt 0 ]; then
	ok "--pcap as the user: $ours of our datagrams, $theirs segments from the server to our port, 0 frames of root's session (port $rootport), nothing else of TCP"
else
	bad "--pcap as the user: ours $ours, the server's to us $theirs, root's $leaked, other TCP $foreign:"
	sed 's/^/     /' "$tmp/cap.txt" | head -20
fi
if tcpdump -nn -r "$tmp/u/cap.pcap" "tcp port $rootport" 2>/dev/null | grep -q .; then
	bad "tcpdump finds root's session in the capture"
else
	ok "tcpdump -r: no frame of port $rootport in the capture"
fi
if [ "$(stat -c '%u %a' "$tmp/u/cap.pcap")" = "65534 600" ]; then
	ok "the capture belongs to the user, mode 600"
else
	bad "the capture's owner and mode: $(stat -c '%u %a' "$tmp/u/cap.pcap")"
fi

# ---- 4. --pcap where the user could not otherwise write, or through links
expect "--pcap in a directory not the user's" \
	"cannot write --pcap /tmp/fxp-$$.pcap: its directory /tmp belongs to uid 0 with mode 1777.*mkdir -m 700" \
	"${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --pcap "/tmp/fxp-$$.pcap"
mkdir -m 777 "$tmp/g"
chown 65534:65534 "$tmp/g"
chmod 777 "$tmp/g"
expect "--pcap in the user's directory writable by others" \
	"its directory $tmp/g belongs to uid 65534 with mode 0777" \
	"${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --pcap "$tmp/g/x.pcap"
echo KEEP >"$tmp/rootfile"
ln -s "$tmp/rootfile" "$tmp/u/link.pcap"
expect "--pcap through a symbolic link" "$tmp/u/link.pcap already exists \(a file or a symbolic link\)" \
	"${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --pcap "$tmp/u/link.pcap"
ln -s /tmp "$tmp/u/tmpdir"
expect "--pcap in a linked directory that is not the user's" "its directory $tmp/u/tmpdir belongs to uid 0" \
	"${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --pcap "$tmp/u/tmpdir/fxp-$$.pcap"
expect "--pcap over an existing file" "cap.pcap already exists" \
	"${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --pcap "$tmp/u/cap.pcap"
ln -s "$tmp/rootfile" "$tmp/rootlink.pcap"
expect "--pcap through a symbolic link, as root" "--pcap $tmp/rootlink.pcap: $tmp/rootlink.pcap is a symbolic link" \
	"${in_c[@]}" "$client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --pcap "$tmp/rootlink.pcap"
if [ "$(cat "$tmp/rootfile")" = KEEP ] && [ ! -e "/tmp/fxp-$$.pcap" ] && [ ! -e "$tmp/g/x.pcap" ]; then
	ok "no file was written or created by the refusals"
else
	bad "a refusal wrote something"
fi

# ---- 5. files the user cannot read, with a capability that could
printf '[client]\nlocal = 127.0.0.1:4001\nremote = 192.0.2.2:5000\n' >"$tmp/root.ini"
printf 'secret' >"$tmp/root.bin"
chmod 600 "$tmp/root.ini" "$tmp/root.bin"
expect "-c FILE the user cannot read (CAP_DAC_READ_SEARCH given too)" "root.ini: cannot open: Permission denied" \
	"${user[@]}" "$tmp/fauxtcp-client-dac" -c "$tmp/root.ini"
expect "--handshake-packet the user cannot read (CAP_DAC_READ_SEARCH given too)" \
	"cannot read --handshake-packet .*/root.bin: Permission denied" \
	"${user[@]}" "$tmp/fauxtcp-client-dac" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --handshake-packet "$tmp/root.bin"

# ---- 6. --iface and the server's address
expect "--iface other than the route's, as the user" \
	"--iface d0: the route to 192.0.2.2 goes through v0, and with file capabilities \(or setuid\) fauxtcp-client sends only where the routing table does" \
	"${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --iface d0
timeout 1.5 "${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --iface v0 2>"$tmp/iface.err"
if grep -q 'listening on 127.0.0.1:4001' "$tmp/iface.err"; then
	ok "--iface naming the route's interface, as the user: runs"
else
	bad "--iface v0 as the user:"
	sed 's/^/     /' "$tmp/iface.err"
fi
timeout 1.5 "${in_c[@]}" "$client" -l 127.0.0.1:4001 -r 192.0.2.2:5000 --iface d0 2>"$tmp/iface.err"
if grep -q 'listening on 127.0.0.1:4001' "$tmp/iface.err"; then
	ok "--iface other than the route's, as root: runs"
else
	bad "--iface d0 as root:"
	sed 's/^/     /' "$tmp/iface.err"
fi
expect "a broadcast server address" "--remote 192.0.2.255 is a broadcast, multicast or unroutable address" \
	"${user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4001 -r 192.0.2.255:5000

# ---- 7. the status name taken by someone else
cat >"$tmp/squat.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b'\0' + sys.argv[1].encode())
s.listen(8)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b'\x1b]0;owned\x07FAKE REPORT\n')
    except OSError:
        pass
    c.close()
EOF
e2e_bg "$NS_C" "$tmp/squat.log" "${as_user[@]}" "$py" "$tmp/squat.py" "fauxtcp-client 127.0.0.1:4002"
squatter=$E2E_LAST_PID
sleep 0.3
e2e_bg "$NS_C" "$tmp/squatted.log" "$client" -l 127.0.0.1:4002 -r 192.0.2.2:4567
rootclient=$E2E_LAST_PID
sleep 0.5
if grep -q "no status socket: its name is held by pid [0-9]* (uid 65534), not by this client" "$tmp/squatted.log"; then
	ok "the client names who holds its status name: $(grep -o 'held by pid [0-9]* (uid 65534)' "$tmp/squatted.log")"
else
	bad "squatted status name not reported:"
	sed 's/^/     /' "$tmp/squatted.log"
fi
expect "status answered by a squatter of another uid" \
	"the status socket of --local 127.0.0.1:4002 is held by pid [0-9]+ \(uid 65534\), not by the fauxtcp-client holding that address \(uid 0\)" \
	"${in_c[@]}" "$client" status -l 127.0.0.1:4002
if ! grep -q 'FAKE' "$tmp/out"; then
	ok "the squatter's answer is not shown"
else
	bad "the squatter's answer was shown"
fi
stop "$squatter"
stop "$rootclient"
e2e_bg "$NS_C" "$tmp/squat.log" "$py" "$tmp/squat.py" "fauxtcp-client 127.0.0.1:4003"
squatter=$E2E_LAST_PID
sleep 0.3
e2e_bg "$NS_C" "$tmp/rootclient.log" "$client" -l 127.0.0.1:4003 -r 192.0.2.2:4567
rootclient=$E2E_LAST_PID
sleep 0.5
"${in_c[@]}" "$client" status -v -l 127.0.0.1:4003 >"$tmp/status3" 2>&1
if grep -q 'FAKE REPORT' "$tmp/status3" && ! grep -q $'\x1b\|\x07' "$tmp/status3"; then
	ok "status output is printable text only: $(cat "$tmp/status3")"
else
	bad "status output not cleaned: $(od -c "$tmp/status3" | head -3)"
fi
stop "$squatter"
stop "$rootclient"

# ---- 8. a real tunnel: both daemons' captures hold the handshake and the data
e2e_bg "$NS_C" "$tmp/tunnel.log" "${as_user[@]}" "$tmp/fauxtcp-client" -l 127.0.0.1:4004 -r 192.0.2.2:4567 --pcap "$tmp/u/tunnel.pcap"
tclient=$E2E_LAST_PID
sleep 0.5
echoes=$("${in_c[@]}" "$py" "$tmp/send.py" 4004 1)
# The packet socket's filter still lets through what lowers the path MTU:
# a "fragmentation needed" quoting our connection.
tport=$("${in_c[@]}" ss -Hltn 'src 192.0.2.1' | awk '{split($4, a, ":"); print a[2]}' | head -1)
"${in_s[@]}" "$py" - "${tport:-0}" <<'EOF2'
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
q = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 0, 0x4000, 64, 6, 0, socket.inet_aton('192.0.2.1'),
                socket.inet_aton('192.0.2.2')) + struct.pack('!HHI', int(sys.argv[1]), 4567, 0)
icmp = struct.pack('!BBHHH', 3, 4, 0, 0, 1000) + q
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).sendto(icmp, ('192.0.2.1', 0))
EOF2
sleep 0.3
if grep -q "192.0.2.1:$tport.*the path reports a smaller MTU (ICMP): at most 960 bytes" "$tmp/tunnel.log"; then
	ok "ICMP fragmentation needed for our connection (port $tport) passes the packet filter: MTU lowered"
else
	bad "ICMP fragmentation needed for port $tport not taken:"
	sed 's/^/     /' "$tmp/tunnel.log"
fi
stop "$tclient"
stop "$server_pid"
frames "$tmp/u/tunnel.pcap" >"$tmp/tunnel.txt" 2>&1
frames "$tmp/server.pcap" >"$tmp/server.txt" 2>&1
if [ "${echoes:-0}" -gt 0 ] &&
	grep -q ' > 192.0.2.2:4567 02 ' "$tmp/tunnel.txt" && grep -q '^TCP 192.0.2.2:4567 .* 12 ' "$tmp/tunnel.txt" &&
	grep -q '^TCP 192.0.2.2:4567 .* OURS' "$tmp/tunnel.txt" &&
	grep -q ' > 192.0.2.2:4567 02 ' "$tmp/server.txt" && grep -q ' > 192.0.2.2:4567 .* OURS' "$tmp/server.txt" &&
	grep -q '^TCP 192.0.2.2:4567 .* OURS' "$tmp/server.txt"; then
	ok "tunnel: $echoes echoes; the client's and the raw-mode server's captures hold SYN, SYN|ACK and data both ways"
else
	bad "tunnel captures ($echoes echoes): client $(wc -l <"$tmp/tunnel.txt") frames, server $(wc -l <"$tmp/server.txt")"
	head -5 "$tmp/tunnel.txt" "$tmp/server.txt" | sed 's/^/     /'
fi

echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
