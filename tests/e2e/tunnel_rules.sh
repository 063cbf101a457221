#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The server's TUN mode and its nft table (inet fauxtcp_PORT), end to end,
# in namespaces this script creates and always deletes:
#
#   client host (C)        router (R), NAT             server host (S)
#   c0 198.51.100.2/24 --- r0 198.51.100.1  r1 203.0.113.1 --- s0 203.0.113.2/24, .3/24
#      2001:db8:1::2/64       2001:db8:1::1    2001:db8:2::1      2001:db8:2::2/64, ::3/64
#   fauxtcp-client x4      masquerade IPv4 out r1      fauxtcp-server (TUN), UDP echo
#                                                      127.0.0.1:1234; a stateful
#                                                      firewall, so conntrack runs
#
# Checks: each of the server host's two addresses per family is reachable
# (the second IPv6 one added while the server runs); the tunnel flow has
# no conntrack entry; 20 random-seq RSTs and 200 random-seq junk segments
# spoofed from the client's NATed tuple (scapy, sent on the router's veth
# so that the router's netfilter does not see them) draw no RST from the
# server host and do not end the session; checksums on the wire are right
# with the TUN's offloads on; ICMP errors from the path beyond the host
# still lower the relay's path MTU; --no-manage-rules prints the table,
# which loads and works as printed, and phantun's own DNAT rule still works.
#
# FAUXTCP_BUILD: the build directory (default ../../build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
check=(python3 "$here/udpcheck.py")
scapy=/usr/bin/python3 # Debian's, which has python3-scapy
e2e_need_daemons
e2e_need_tools tcpdump conntrack nft ethtool
$scapy -c 'import scapy.all' 2>/dev/null || e2e_die "python3-scapy missing (scripts/setup installs it)"
e2e_init
tmp=$E2E_TMP

e2e_router_topology
ns_ ip addr add 203.0.113.3/24 dev s0
# The server host's own firewall, stateful as most are: conntrack runs
# there, and what it finds INVALID is not forwarded. (Input only counts
# it: dropping it there would hide the RST the host's stack answered such
# segments with under the conntrack-judged DNAT.)
ns_ nft -f - <<'NFT'
table inet hostfw {
	chain input { type filter hook input priority 0; policy accept; ct state invalid counter; }
	chain forward { type filter hook forward priority 0; policy accept; ct state invalid counter drop; }
}
NFT
e2e_udp_echo || e2e_die "no UDP echo"

start_server() { # LOG [ARGS...]
	e2e_server "$NS_S" "$tmp/$1" tun -l 4567 -r 127.0.0.1:1234 "${@:2}"
	server_pid=$E2E_LAST_PID
}
stop_server() { e2e_stop "$server_pid"; }
start_client() { # NAME LOCAL REMOTE
	e2e_client "$NS_C" "$tmp/client-$1.log" -l "$2" -r "$3"
}
status() { ns_ "$E2E_SERVER" status -v -l 4567; }
echo_ok() { # PORT NAME [N]: N random datagrams through the client on 127.0.0.1:PORT
	nc_ "${check[@]}" --to "127.0.0.1:$1" --bind "127.0.0.1:$((40000 + $1))" --random "${3:-100}" --max-size 1400 \
		--timeout 2 --name "$2"
}
tcp4567_tracked() { ns_ conntrack -L -p tcp 2>/dev/null | grep -E 'port=4567( |$)'; }

# ---- the server's table, every address ----
start_server server.log --log-level debug
e2e_expect "server started, table installed with both IPv4 addresses mapped" \
	grep -q 'mapped into .*203.0.113.2 -> 192.168.201.2, 203.0.113.3 -> 192.168.201.3' "$tmp/server.log"
ns_ nft list table inet fauxtcp_4567 >"$tmp/table"
sed 's/^/# /' "$tmp/table"
e2e_expect "the table is stateless: notrack before conntrack, no NAT" \
	bash -c "grep -q 'priority raw' $tmp/table && grep -q 'notrack' $tmp/table && ! grep -qE 'type nat|dnat|snat |masquerade' $tmp/table"
# An address added while the server runs is followed.
ns_ ip addr add 2001:db8:2::3/64 dev s0 nodad
e2e_expect "an address added while running is mapped (2001:db8:2::3 -> fcc9::3)" \
	e2e_until 3 bash -c "ip netns exec $NS_S nft list map inet fauxtcp_4567 to_tun6 | grep -q '2001:db8:2::3 : fcc9::3'"

start_client a4 127.0.0.1:1301 203.0.113.2:4567
start_client b4 127.0.0.1:1302 203.0.113.3:4567
start_client a6 127.0.0.1:1303 '[2001:db8:2::2]:4567'
start_client b6 127.0.0.1:1304 '[2001:db8:2::3]:4567'
sleep 0.5
for x in "1301 203.0.113.2" "1302 203.0.113.3" "1303 2001:db8:2::2" "1304 2001:db8:2::3"; do
	read -r port addr <<<"$x"
	e2e_expect "reachable on $addr (echoes through the tunnel)" echo_ok "$port" "to-$addr"
done
status >"$tmp/status"
sed 's/^/# /' "$tmp/status"
e2e_result "the relay answered each from the address it came to (192.168.201.2, .3, fcc9::2, ::3)" \
	"$(for a in '192.168.201.2:4567' '192.168.201.3:4567' '\[fcc9::2\]:4567' '\[fcc9::3\]:4567'; do
		grep -q "> $a established" "$tmp/status" || echo no
	  done | grep -q no && echo 1 || echo 0)"
ns_ conntrack -L 2>/dev/null >"$tmp/ct"
e2e_result "conntrack runs on the server host but has no entry for the tunnel flow" \
	"$([ -s "$tmp/ct" ] && ! tcp4567_tracked >/dev/null; echo $?)"

# ---- the attack: RSTs and junk spoofed from the client's NATed tuple ----
tuple4=$(grep -oE '203\.0\.113\.1:[0-9]+ > 192\.168\.201\.2:4567 established' "$tmp/status" | head -1)
cport4=$(echo "$tuple4" | sed -E 's/^203\.0\.113\.1:([0-9]+) .*/\1/')
tuple6=$(grep -oE '\[2001:db8:1::2\]:[0-9]+ > \[fcc9::2\]:4567 established' "$tmp/status" | head -1)
cport6=$(echo "$tuple6" | sed -E 's/^\[2001:db8:1::2\]:([0-9]+) .*/\1/')
echo "# attacking $tuple4 and $tuple6"
# What leaves the server host from the tunnel port, whoever sends it.
e2e_bg "$NS_S" "$tmp/rst-dump.err" tcpdump -i s0 -nn -U -w "$tmp/rst.pcap" \
	'(ip and tcp src port 4567 and tcp[13] & 4 != 0) or (ip6 and tcp src port 4567 and ip6[53] & 4 != 0)'
dump=$E2E_LAST_PID
sleep 1
established_before=$(grep -c 'connection established' "$tmp/server.log")
s_mac=$(ns_ cat /sys/class/net/s0/address) r_mac=$(nr_ cat /sys/class/net/r1/address)
nr_ $scapy - "$r_mac" "$s_mac" "${cport4:-0}" "${cport6:-0}" <<'PY' >"$tmp/scapy.log" 2>&1
import random, sys
from scapy.all import Ether, IP, IPv6, TCP, sendp
rmac, smac, p4, p6 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(4567)
frames = []
for src, dst, port, ip in (("203.0.113.1", "203.0.113.2", p4, IP), ("2001:db8:1::2", "2001:db8:2::2", p6, IPv6)):
    l3 = lambda: Ether(src=rmac, dst=smac) / ip(src=src, dst=dst)
    for _ in range(20):
        frames.append(l3() / TCP(sport=port, dport=4567, flags="R", seq=rnd.getrandbits(32)))
    for _ in range(200):
        frames.append(l3() / TCP(sport=port, dport=4567, flags=rnd.choice(["A", "PA", "FA"]),
                                 seq=rnd.getrandbits(32), ack=rnd.getrandbits(32)))
sendp(frames, iface="r1", verbose=False)
print("sent", len(frames))
PY
sed 's/^/# scapy: /' "$tmp/scapy.log"
# The next segments the client sends are the ones the host's stack used to
# answer (conntrack had dropped the entry, so they were no longer DNATed).
e2e_expect "IPv4: the session carries on after the attack" echo_ok 1301 after-attack-v4 50
e2e_expect "IPv6: the session carries on after the attack" echo_ok 1303 after-attack-v6 50
sleep 0.5
e2e_stop "$dump"
# The host's own RSTs leave with its default TTL (64); what the relay sends
# was forwarded out of the TUN (63).
tcpdump -r "$tmp/rst.pcap" -nn -v 2>/dev/null | grep -v '^ ' >"$tmp/rsts"
rsts=$(grep -c . "$tmp/rsts") krsts=$(grep -cE 'ttl 64|hlim 64' "$tmp/rsts")
sed 's/^/# RST seen: /' "$tmp/rsts" | head -5
e2e_result "no RST from the server host's kernel ($krsts of $rsts RSTs from port 4567 on s0)" \
	"$([ "$krsts" = 0 ]; echo $?)"
status >"$tmp/status2"
e2e_result "same connections, none closed or re-established" \
	"$(grep -q "$tuple4" "$tmp/status2" && grep -qF "$tuple6" "$tmp/status2" &&
	  [ "$(grep -c 'connection established' "$tmp/server.log")" = "$established_before" ] &&
	  ! grep -q 'connection closed' "$tmp/server.log"; echo $?)"
e2e_result "still no conntrack entry for the tunnel flow" "$(! tcp4567_tracked >/dev/null; echo $?)"

# ---- checksums on the wire, with the TUN's offloads on ----
# The server's segments leave the TUN with a partial checksum and the
# rewrite of their source patches it; the client's arrive whole and the
# rewrite of their destination patches that. With checksum offload off on
# both ends of the server's link, the kernel finishes them before the
# "wire" (as a NIC would) and the server's relay verifies what it gets;
# tcpdump on the router checks both directions.
nr_ ethtool -K r1 tx off >/dev/null
ns_ ethtool -K s0 tx off rx off >/dev/null
e2e_bg "$NS_R" "$tmp/wire.txt" tcpdump -i r1 -nn -vv -U 'tcp port 4567'
dump=$E2E_LAST_PID
sleep 1
e2e_expect "IPv4 traffic with checksums finished on the link" echo_ok 1302 csum-v4 200
e2e_expect "IPv6 traffic with checksums finished on the link" echo_ok 1304 csum-v6 200
sleep 0.3
e2e_stop "$dump"
segs=$(grep -c 'cksum\|, seq\|Flags' "$tmp/wire.txt")
bad=$(grep -c 'incorrect' "$tmp/wire.txt")
status >"$tmp/status3"
e2e_result "checksums right on the wire both ways ($bad wrong of $segs lines), and the relay's own check: $(grep -o 'bad checksum [0-9]*' "$tmp/status3")" \
	"$([ "$bad" = 0 ] && [ "$segs" -gt 100 ] && grep -q 'bad checksum 0,' "$tmp/status3"; echo $?)"
nr_ ethtool -K r1 tx on >/dev/null
ns_ ethtool -K s0 tx on rx on >/dev/null

# ---- path MTU: a router beyond the server host reports a smaller one ----
# As a router on the path would send them (scapy, on the router's veth):
# "fragmentation needed" and "packet too big" to the server host's address,
# quoting a segment of a live connection as it left that host.
nr_ $scapy - "$r_mac" "$s_mac" "${cport4:-0}" "${cport6:-0}" <<'PY' >"$tmp/scapy-pmtu.log" 2>&1
import sys
from scapy.all import Ether, IP, IPv6, TCP, ICMP, ICMPv6PacketTooBig, sendp
rmac, smac, p4, p6 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seg4 = IP(src="203.0.113.2", dst="203.0.113.1", flags="DF", ttl=63) / TCP(sport=4567, dport=p4, flags="A") / (b"x" * 1400)
seg6 = IPv6(src="2001:db8:2::2", dst="2001:db8:1::2", hlim=63) / TCP(sport=4567, dport=p6, flags="A") / (b"x" * 1400)
sendp([Ether(src=rmac, dst=smac) / IP(src="203.0.113.1", dst="203.0.113.2") /
       ICMP(type=3, code=4, nexthopmtu=1400) / bytes(seg4)[:28],
       Ether(src=rmac, dst=smac) / IPv6(src="2001:db8:2::1", dst="2001:db8:2::2") /
       ICMPv6PacketTooBig(mtu=1300) / bytes(seg6)[:1232]], iface="r1", verbose=False)
PY
e2e_expect "path MTU from a router beyond the host reaches the relay (IPv4: 1360 bytes a segment now)" \
	e2e_wait_log "$tmp/server.log" '> 192\.168\.201\.2:4567: the path reports a smaller MTU \(ICMP\): at most 1360 bytes' 2
e2e_expect "path MTU from a router beyond the host reaches the relay (IPv6: 1240 bytes)" \
	e2e_wait_log "$tmp/server.log" '> \[fcc9::2\]:4567: the path reports a smaller MTU \(ICMP\): at most 1240 bytes' 2

stop_server
e2e_expect "server left no nft table behind" bash -c "! ip netns exec $NS_S nft list tables | grep -q fauxtcp"

# ---- --no-manage-rules ----
start_server nomanage.log --no-manage-rules
awk '/^table inet fauxtcp_4567 {/, /^}$/' "$tmp/nomanage.log" >"$tmp/printed.nft"
sed 's/^/# printed: /' "$tmp/printed.nft"
e2e_expect "--no-manage-rules prints the table (every address, notrack) and installs nothing" \
	bash -c "grep -q '203.0.113.3 : 192.168.201.3' $tmp/printed.nft && grep -q '2001:db8:2::3 : fcc9::3' $tmp/printed.nft &&
		 grep -q '2001:db8:2::2 : fcc9::2' $tmp/printed.nft &&
		 grep -q notrack $tmp/printed.nft && ! ip netns exec $NS_S nft list tables | grep -q fauxtcp"
# phantun's README: the user's own DNAT rule, conntrack and all.
e2e_phantun_server_host "$NS_S"
# The clients' old connections died with the server: their next datagram
# meets a stray RST, the one after opens a new connection.
nc_ "${check[@]}" --to 127.0.0.1:1301 --random 5 --timeout 0.5 --max-loss 1 --name wake-v4 >/dev/null
nc_ "${check[@]}" --to 127.0.0.1:1303 --random 5 --timeout 0.5 --max-loss 1 --name wake-v6 >/dev/null
e2e_expect "phantun's DNAT rule (the user's, with --no-manage-rules), IPv4" echo_ok 1301 dnat-v4
e2e_expect "phantun's DNAT rule (the user's, with --no-manage-rules), IPv6" echo_ok 1303 dnat-v6
ns_ nft delete table inet phantun_dnat
ns_ nft -f "$tmp/printed.nft"
e2e_expect "the printed table loads as printed" ns_ nft list table inet fauxtcp_4567 >/dev/null
# A new table can change which TUN-side address the same tuple reaches.
for p in 1301 1302 1303 1304; do
	nc_ "${check[@]}" --to 127.0.0.1:$p --random 5 --timeout 0.5 --max-loss 1 --name wake-$p >/dev/null
done
for x in "1301 203.0.113.2" "1302 203.0.113.3" "1303 2001:db8:2::2" "1304 2001:db8:2::3"; do
	read -r port addr <<<"$x"
	e2e_expect "the printed table, $addr" echo_ok "$port" "printed-$addr" 50
done
stop_server
e2e_expect "--no-manage-rules: the user's table is left alone at exit" ns_ nft list table inet fauxtcp_4567 >/dev/null
ns_ nft delete table inet fauxtcp_4567

[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp"/*.log
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
