#!/usr/bin/env bash
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
build=${FAUXTCP_BUILD:-$here/../../build}
client=$(realpath "$build/fauxtcp-client")
server=$(realpath "$build/fauxtcp-server")
check="python3 $here/udpcheck.py"
scapy=/usr/bin/python3 # Debian's, which has python3-scapy
C=fxn-c-$$ R=fxn-r-$$ S=fxn-s-$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
pass=0 fail=0 pids=() server_pid=''

for t in tcpdump conntrack nft ethtool; do
	command -v $t >/dev/null || { echo "tunnel_rules.sh: $t missing (scripts/setup installs it)" >&2; exit 1; }
done
$scapy -c 'import scapy.all' 2>/dev/null || { echo "tunnel_rules.sh: python3-scapy missing" >&2; exit 1; }

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in "$C" "$R" "$S"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

c() { ip netns exec "$C" "$@"; }
r() { ip netns exec "$R" "$@"; }
s() { ip netns exec "$S" "$@"; }
result() { # NAME OK?
	if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}
expect() { # NAME CMD...
	local name=$1
	shift
	"$@"
	result "$name" $?
}
wait_for() { # SECS CMD...: until CMD succeeds
	local i
	for i in $(seq $(($1 * 20))); do
		"${@:2}" && return 0
		sleep 0.05
	done
	return 1
}

# ---- topology ----
for n in "$C" "$R" "$S"; do
	ip netns add "$n"
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -q -w net.ipv6.conf.default.accept_dad=0
done
ip -n "$C" link add c0 type veth peer name r0 netns "$R"
ip -n "$S" link add s0 type veth peer name r1 netns "$R"
ip -n "$C" addr add 198.51.100.2/24 dev c0
ip -n "$C" addr add 2001:db8:1::2/64 dev c0 nodad
ip -n "$R" addr add 198.51.100.1/24 dev r0
ip -n "$R" addr add 2001:db8:1::1/64 dev r0 nodad
ip -n "$R" addr add 203.0.113.1/24 dev r1
ip -n "$R" addr add 2001:db8:2::1/64 dev r1 nodad
ip -n "$S" addr add 203.0.113.2/24 dev s0
ip -n "$S" addr add 203.0.113.3/24 dev s0
ip -n "$S" addr add 2001:db8:2::2/64 dev s0 nodad
for l in "$C c0" "$R r0" "$R r1" "$S s0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$C" route add default via 198.51.100.1
ip -n "$C" -6 route add default via 2001:db8:1::1
ip -n "$S" route add default via 203.0.113.1
ip -n "$S" -6 route add default via 2001:db8:2::1
r sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
s sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
r nft -f - <<'NFT'
table ip nat {
	chain postrouting { type nat hook postrouting priority srcnat; oifname "r1" masquerade; }
}
NFT
# The server host's own firewall, stateful as most are: conntrack runs
# there, and what it finds INVALID is not forwarded. (Input only counts
# it: dropping it there would hide the RST the host's stack answered such
# segments with under the conntrack-judged DNAT.)
s nft -f - <<'NFT'
table inet hostfw {
	chain input { type filter hook input priority 0; policy accept; ct state invalid counter; }
	chain forward { type filter hook forward priority 0; policy accept; ct state invalid counter drop; }
}
NFT
# (Background jobs are started with ip netns exec itself, never through a
# function, so that $! is the process and kill reaches it.)
ip netns exec "$S" python3 "$here/udpecho.py" 127.0.0.1 1234 & pids+=($!)
sleep 0.3

start_server() { # LOG [ARGS...]
	local log=$1
	shift
	ip netns exec "$S" "$server" -l 4567 -r 127.0.0.1:1234 "$@" 2>"$tmp/$log" &
	server_pid=$!
	pids+=("$server_pid")
	wait_for 3 grep -q 'accepting fake TCP' "$tmp/$log"
}
stop_server() {
	kill -TERM "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=''
}
start_client() { # NAME LOCAL REMOTE
	ip netns exec "$C" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_raw --ambient-caps=+net_raw --bounding-set=-all,+net_raw \
		"$client" -l "$2" -r "$3" 2>"$tmp/client-$1.log" &
	pids+=($!)
	eval "client_$1=$!"
}
status() { s "$server" status -l 4567; }
echo_ok() { # PORT NAME [N]: N random datagrams through the client on 127.0.0.1:PORT
	c $check --to "127.0.0.1:$1" --bind "127.0.0.1:$((40000 + $1))" --random "${3:-100}" --max-size 1400 \
		--timeout 2 --name "$2"
}
tcp4567_tracked() { s conntrack -L -p tcp 2>/dev/null | grep -E 'port=4567( |$)'; }

# ---- the server's table, every address ----
start_server server.log --log-level debug
expect "server started, table installed with both IPv4 addresses mapped" \
	grep -q 'mapped into .*203.0.113.2 -> 192.168.201.2, 203.0.113.3 -> 192.168.201.3' "$tmp/server.log"
s nft list table inet fauxtcp_4567 >"$tmp/table"
sed 's/^/# /' "$tmp/table"
expect "the table is stateless: notrack before conntrack, no NAT" \
	bash -c "grep -q 'priority raw' $tmp/table && grep -q 'notrack' $tmp/table && ! grep -qE 'type nat|dnat|snat |masquerade' $tmp/table"
# An address added while the server runs is followed.
s ip addr add 2001:db8:2::3/64 dev s0 nodad
expect "an address added while running is mapped (2001:db8:2::3 -> fcc9::3)" \
	wait_for 3 bash -c "ip netns exec $S nft list map inet fauxtcp_4567 to_tun6 | grep -q '2001:db8:2::3 : fcc9::3'"

start_client a4 127.0.0.1:1301 203.0.113.2:4567
start_client b4 127.0.0.1:1302 203.0.113.3:4567
start_client a6 127.0.0.1:1303 '[2001:db8:2::2]:4567'
start_client b6 127.0.0.1:1304 '[2001:db8:2::3]:4567'
sleep 0.5
for x in "1301 203.0.113.2" "1302 203.0.113.3" "1303 2001:db8:2::2" "1304 2001:db8:2::3"; do
	set -- $x
	expect "reachable on $2 (echoes through the tunnel)" echo_ok "$1" "to-$2"
done
status >"$tmp/status"
sed 's/^/# /' "$tmp/status"
result "the relay answered each from the address it came to (192.168.201.2, .3, fcc9::2, ::3)" \
	$(for a in '192.168.201.2:4567' '192.168.201.3:4567' '\[fcc9::2\]:4567' '\[fcc9::3\]:4567'; do
		grep -q "> $a established" "$tmp/status" || echo no
	  done | grep -q no && echo 1 || echo 0)
s conntrack -L 2>/dev/null >"$tmp/ct"
result "conntrack runs on the server host but has no entry for the tunnel flow" \
	$([ -s "$tmp/ct" ] && ! tcp4567_tracked >/dev/null; echo $?)

# ---- the attack: RSTs and junk spoofed from the client's NATed tuple ----
tuple4=$(grep -oE '203\.0\.113\.1:[0-9]+ > 192\.168\.201\.2:4567 established' "$tmp/status" | head -1)
cport4=$(echo "$tuple4" | sed -E 's/^203\.0\.113\.1:([0-9]+) .*/\1/')
tuple6=$(grep -oE '\[2001:db8:1::2\]:[0-9]+ > \[fcc9::2\]:4567 established' "$tmp/status" | head -1)
cport6=$(echo "$tuple6" | sed -E 's/^\[2001:db8:1::2\]:([0-9]+) .*/\1/')
echo "# attacking $tuple4 and $tuple6"
# What leaves the server host from the tunnel port, whoever sends it.
ip netns exec "$S" tcpdump -i s0 -nn -U -w "$tmp/rst.pcap" \
	'(ip and tcp src port 4567 and tcp[13] & 4 != 0) or (ip6 and tcp src port 4567 and ip6[53] & 4 != 0)' \
	2>/dev/null &
dump=$!
pids+=($dump)
sleep 1
established_before=$(grep -c 'connection established' "$tmp/server.log")
s_mac=$(s cat /sys/class/net/s0/address) r_mac=$(r cat /sys/class/net/r1/address)
r $scapy - "$r_mac" "$s_mac" "${cport4:-0}" "${cport6:-0}" <<'PY' >"$tmp/scapy.log" 2>&1
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
cat "$tmp/scapy.log" | sed 's/^/# scapy: /'
# The next segments the client sends are the ones the host's stack used to
# answer (conntrack had dropped the entry, so they were no longer DNATed).
expect "IPv4: the session carries on after the attack" echo_ok 1301 after-attack-v4 50
expect "IPv6: the session carries on after the attack" echo_ok 1303 after-attack-v6 50
sleep 0.5
kill "$dump" 2>/dev/null
wait "$dump" 2>/dev/null
# The host's own RSTs leave with its default TTL (64); what the relay sends
# was forwarded out of the TUN (63).
tcpdump -r "$tmp/rst.pcap" -nn -v 2>/dev/null | grep -v '^ ' >"$tmp/rsts"
rsts=$(grep -c . "$tmp/rsts") krsts=$(grep -cE 'ttl 64|hlim 64' "$tmp/rsts")
sed 's/^/# RST seen: /' "$tmp/rsts" | head -5
result "no RST from the server host's kernel ($krsts of $rsts RSTs from port 4567 on s0)" \
	$([ "$krsts" = 0 ]; echo $?)
status >"$tmp/status2"
result "same connections, none closed or re-established" \
	$(grep -q "$tuple4" "$tmp/status2" && grep -qF "$tuple6" "$tmp/status2" &&
	  [ "$(grep -c 'connection established' "$tmp/server.log")" = "$established_before" ] &&
	  ! grep -q 'connection closed' "$tmp/server.log"; echo $?)
result "still no conntrack entry for the tunnel flow" $(! tcp4567_tracked >/dev/null; echo $?)

# ---- checksums on the wire, with the TUN's offloads on ----
# The server's segments leave the TUN with a partial checksum and the
# rewrite of their source patches it; the client's arrive whole and the
# rewrite of their destination patches that. With checksum offload off on
# both ends of the server's link, the kernel finishes them before the
# "wire" (as a NIC would) and the server's relay verifies what it gets;
# tcpdump on the router checks both directions.
r ethtool -K r1 tx off >/dev/null
s ethtool -K s0 tx off rx off >/dev/null
ip netns exec "$R" tcpdump -i r1 -nn -vv -U 'tcp port 4567' >"$tmp/wire.txt" 2>/dev/null &
dump=$!
pids+=($dump)
sleep 1
expect "IPv4 traffic with checksums finished on the link" echo_ok 1302 csum-v4 200
expect "IPv6 traffic with checksums finished on the link" echo_ok 1304 csum-v6 200
sleep 0.3
kill "$dump" 2>/dev/null
wait "$dump" 2>/dev/null
segs=$(grep -c 'cksum\|, seq\|Flags' "$tmp/wire.txt")
bad=$(grep -c 'incorrect' "$tmp/wire.txt")
status >"$tmp/status3"
result "checksums right on the wire both ways ($bad wrong of $segs lines), and the relay's own check: $(grep -o 'bad checksum [0-9]*' "$tmp/status3")" \
	$([ "$bad" = 0 ] && [ "$segs" -gt 100 ] && grep -q 'bad checksum 0,' "$tmp/status3"; echo $?)
r ethtool -K r1 tx on >/dev/null
s ethtool -K s0 tx on rx on >/dev/null

# ---- path MTU: a router beyond the server host reports a smaller one ----
# As a router on the path would send them (scapy, on the router's veth):
# "fragmentation needed" and "packet too big" to the server host's address,
# quoting a segment of a live connection as it left that host.
r $scapy - "$r_mac" "$s_mac" "${cport4:-0}" "${cport6:-0}" <<'PY' >"$tmp/scapy-pmtu.log" 2>&1
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
expect "path MTU from a router beyond the host reaches the relay (IPv4: 1360 bytes a segment now)" \
	wait_for 2 grep -q '> 192.168.201.2:4567: the path reports a smaller MTU (ICMP): at most 1360 bytes' "$tmp/server.log"
expect "path MTU from a router beyond the host reaches the relay (IPv6: 1240 bytes)" \
	wait_for 2 grep -q '> \[fcc9::2\]:4567: the path reports a smaller MTU (ICMP): at most 1240 bytes' "$tmp/server.log"

stop_server
expect "server left no nft table behind" bash -c "! ip netns exec $S nft list tables | grep -q fauxtcp"

# ---- --no-manage-rules ----
start_server nomanage.log --no-manage-rules
awk '/^table inet fauxtcp_4567 {/, /^}$/' "$tmp/nomanage.log" >"$tmp/printed.nft"
sed 's/^/# printed: /' "$tmp/printed.nft"
expect "--no-manage-rules prints the table (every address, notrack) and installs nothing" \
	bash -c "grep -q '203.0.113.3 : 192.168.201.3' $tmp/printed.nft && grep -q '2001:db8:2::3 : fcc9::3' $tmp/printed.nft &&
		 grep -q '2001:db8:2::2 : fcc9::2' $tmp/printed.nft &&
		 grep -q notrack $tmp/printed.nft && ! ip netns exec $S nft list tables | grep -q fauxtcp"
# phantun's README: the user's own DNAT rule, conntrack and all.
s nft -f - <<'NFT'
table ip phantun {
	chain prerouting { type nat hook prerouting priority dstnat; iifname "s0" tcp dport 4567 dnat to 192.168.201.2; }
}
table ip6 phantun {
	chain prerouting { type nat hook prerouting priority dstnat; iifname "s0" tcp dport 4567 dnat to fcc9::2; }
}
NFT
# The clients' old connections died with the server: their next datagram
# meets a stray RST, the one after opens a new connection.
c $check --to 127.0.0.1:1301 --random 5 --timeout 0.5 --max-loss 1 --name wake-v4 >/dev/null
c $check --to 127.0.0.1:1303 --random 5 --timeout 0.5 --max-loss 1 --name wake-v6 >/dev/null
expect "phantun's DNAT rule (the user's, with --no-manage-rules), IPv4" echo_ok 1301 dnat-v4
expect "phantun's DNAT rule (the user's, with --no-manage-rules), IPv6" echo_ok 1303 dnat-v6
s nft delete table ip phantun
s nft delete table ip6 phantun
s nft -f "$tmp/printed.nft"
expect "the printed table loads as printed" s nft list table inet fauxtcp_4567 >/dev/null
# A new table can change which TUN-side address the same tuple reaches.
for p in 1301 1302 1303 1304; do
	c $check --to 127.0.0.1:$p --random 5 --timeout 0.5 --max-loss 1 --name wake-$p >/dev/null
done
for x in "1301 203.0.113.2" "1302 203.0.113.3" "1303 2001:db8:2::2" "1304 2001:db8:2::3"; do
	set -- $x
	expect "the printed table, $2" echo_ok "$1" "printed-$2" 50
done
stop_server
expect "--no-manage-rules: the user's table is left alone at exit" s nft list table inet fauxtcp_4567 >/dev/null
s nft delete table inet fauxtcp_4567

if [ "$fail" -ne 0 ]; then
	echo "# logs:"
	tail -n 15 "$tmp"/*.log | sed 's/^/# /'
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
