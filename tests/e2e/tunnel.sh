#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fauxtcp end to end, in namespaces this script creates and always deletes:
#
#   client host (C)          router (R), NAT          server host (S)
#   c0 198.51.100.2/24  ---  r0 198.51.100.1   r1 203.0.113.1  ---  s0 203.0.113.2/24
#      2001:db8:1::2/64         2001:db8:1::1      2001:db8:2::1        2001:db8:2::2/64
#   input+forward policy     masquerade IPv4 out r1,            fauxtcp-server (TUN or raw)
#   drop, ip_forward 0,      optional loss (nft numgen)         UDP echo 127.0.0.1:1234
#   fauxtcp-client as uid                                        UDP echo 203.0.113.2:7 (baseline)
#   65534 with CAP_NET_RAW
#
# The client host is never changed by fauxtcp: its nftables ruleset, links
# and forwarding sysctls are compared before and after.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
check=(python3 "$here/udpcheck.py")
modes=${FAUXTCP_SERVER_MODES:-tun raw}
e2e_need_daemons
e2e_init
tmp=$E2E_TMP

e2e_router_topology
nr_ nft -f - <<'NFT'
table inet loss {
	chain forward { type filter hook forward priority 0; }
}
NFT
e2e_hardened "$NS_C"
e2e_bg "$NS_S" "$tmp/echo.log" python3 "$here/udpecho.py" 127.0.0.1 1234
e2e_bg "$NS_S" "$tmp/echo.log" python3 "$here/udpecho.py" 203.0.113.2 7
if ! e2e_wait_udp "$NS_S" 1234 || ! e2e_wait_udp "$NS_S" 7; then e2e_die "the UDP echoes did not start"; fi
e2e_snapshot "$NS_C" >"$tmp/client-host.before"

nserver=0
start_server() { # MODE [ARGS...]
	nserver=$((nserver + 1))
	e2e_server "$NS_S" "$tmp/server-$nserver.log" "$1" -l 4567 -r 127.0.0.1:1234 "${@:2}"
	server_pid=$E2E_LAST_PID
}
start_client() { # NAME LOCAL REMOTE [ARGS...]: pid in E2E_LAST_PID
	e2e_client "$NS_C" "$tmp/$mode-$1.log" -l "$2" -r "$3" "${@:4}"
}

for mode in $modes; do
	echo "# server mode: $mode"
	start_server "$mode"
	start_client v4 127.0.0.1:1234 203.0.113.2:4567
	v4_pid=$E2E_LAST_PID
	start_client v6 127.0.0.1:1236 '[2001:db8:2::2]:4567'
	v6_pid=$E2E_LAST_PID
	grep Cap "/proc/$v4_pid/status" | sed 's/^/# client /'

	nc_ "${E2E_USER[@]}" "$E2E_CLIENT" -l 127.0.0.1:1299 -r 203.0.113.2:4567 --check >"$tmp/check" 2>&1
	checkrc=$?
	sed 's/^/# /' "$tmp/check"
	e2e_result "[$mode] --check: path, guard, capability, MTU advice, and the server answers" \
		"$([ $checkrc = 0 ] && grep -qE '^answer: +a phantun or fauxtcp server' "$tmp/check" &&
		  grep -q '^capability:  CAP_NET_RAW held' "$tmp/check" && grep -q 'WireGuard MTU 1428' "$tmp/check"; echo $?)"

	sizes4=$(seq -s, 1 1460) sizes6=$(seq -s, 1 1440)
	# The first datagram waits for the handshake (and the next hop's
	# resolution): a longer first timeout.
	e2e_expect "[$mode] IPv4: every size 1-1460 echoed byte for byte" \
		nc_ "${check[@]}" --to 127.0.0.1:1234 --sizes "$sizes4" --timeout 2 --name ipv4-sizes
	e2e_expect "[$mode] IPv6: every size 1-1440 echoed byte for byte" \
		nc_ "${check[@]}" --to 127.0.0.1:1236 --sizes "$sizes6" --timeout 2 --name ipv6-sizes
	e2e_expect "[$mode] IPv4: 1461 bytes is too big for the path (dropped, counted)" \
		nc_ "${check[@]}" --to 127.0.0.1:1234 --sizes 1461 --max-loss 1 --timeout 0.3 --name too-big
	e2e_expect "[$mode] 1000 random datagrams" \
		nc_ "${check[@]}" --to 127.0.0.1:1234 --random 1000 --seed 7 --name random
	nc_ "${check[@]}" --to 127.0.0.1:1234 --random 300 --seed 1 --bind 127.0.0.1:40001 --name peer1 >"$tmp/p1" &
	p1=$!
	nc_ "${check[@]}" --to 127.0.0.1:1234 --random 300 --seed 2 --bind 127.0.0.1:40002 --name peer2 >"$tmp/p2" &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	cat "$tmp/p1" "$tmp/p2"
	e2e_result "[$mode] two UDP peers at once" $((r1 | r2))

	# status, over the daemon's abstract socket: as the daemon's user it
	# lists the peers' connections; another user is refused.
	nc_ setpriv --reuid=65534 --regid=65534 --clear-groups "$E2E_CLIENT" status -v -l 127.0.0.1:1234 >"$tmp/status"
	sed 's/^/# /' "$tmp/status"
	e2e_result "[$mode] status lists both peers' connections and the counters" \
		"$(grep -q 'peer 127.0.0.1:40001: .* established, .*datagrams out 300 in 300' "$tmp/status" &&
		  grep -q 'peer 127.0.0.1:40002: ' "$tmp/status" && grep -q '^drops: too big 1,' "$tmp/status"; echo $?)"
	nc_ setpriv --reuid=65533 --regid=65533 --clear-groups "$E2E_CLIENT" status -l 127.0.0.1:1234 >"$tmp/status2" 2>&1
	rc=$?
	e2e_result "[$mode] status refused to another user (exit 1)" "$([ $rc = 1 ] && grep -q refused "$tmp/status2"; echo $?)"

	# 5% loss each way on the router, for the tunnel and for plain UDP.
	nr_ nft add rule inet loss forward numgen random mod 100 '<' 5 drop
	base=$(nc_ "${check[@]}" --bind 0.0.0.0:0 --to 203.0.113.2:7 --random 1000 --seed 3 --max-loss 1 --timeout 0.2 --name direct-udp)
	# --give-up 40 (8 s): a handshake that fails (its SYN or SYN|ACK lost
	# twice: about 1 in 100 here) costs phantun's 2 s before the next
	# datagram opens a new connection, which must not end the measurement.
	tunl=$(nc_ "${check[@]}" --to 127.0.0.1:1234 --random 1000 --seed 3 --max-loss 1 --timeout 0.2 --give-up 40 --name tunnel)
	nr_ nft flush chain inet loss forward
	echo "$base"
	echo "$tunl"
	bl=$(echo "$base" | sed -E 's/.*lost ([0-9]+).*/\1/') tl=$(echo "$tunl" | sed -E 's/.*lost ([0-9]+).*/\1/')
	# Each echo crosses the router twice: ~9.75% lost either way. The
	# tunnel adds almost nothing: a lost handshake ACK costs the first
	# datagram (phantun's rule), a lost SYN only time.
	# 1000 tries at p = 0.0975 have sigma 9.4: the tunnel must stay within
	# about 3.5 sigma of the same run's plain UDP, and nothing altered.
	e2e_result "[$mode] 5% loss both ways: tunnel lost $tl/1000, plain UDP $bl/1000" \
		"$([ "$tl" -le $((bl + 45)) ] && ! echo "$tunl" | grep -q "altered [1-9]"; echo $?)"

	# Handshake packet: the server echoes it back, so the peer gets it
	# first, then its own datagram.
	printf 'FAUXTCP-HELLO' >"$tmp/hs.bin"
	chmod 644 "$tmp/hs.bin"
	start_client hs 127.0.0.1:1238 203.0.113.2:4567 --handshake-packet "$tmp/hs.bin"
	hs_pid=$E2E_LAST_PID
	e2e_expect "[$mode] handshake packet sent first on a new connection" nc_ python3 -c '
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b"first datagram", ("127.0.0.1", 1238))
got = [s.recv(2000), s.recv(2000)]
print("# handshake test got", got)
raise SystemExit(0 if got == [b"FAUXTCP-HELLO", b"first datagram"] else 1)'

	# The server dies without a word (as killed) and comes back: the next
	# datagram meets a stray RST, the one after opens a new connection.
	e2e_stop "$server_pid" 5 KILL
	start_server "$mode"
	e2e_expect "[$mode] server restart recovered within two datagrams" \
		nc_ "${check[@]}" --to 127.0.0.1:1234 --random 20 --seed 5 --gap 0.05 --timeout 0.5 --max-loss 0.1 --name after-restart

	# GRO merges the server's back-to-back segments into super-packets
	# (only equal-sized ones: the first sets gso_size), on the router's
	# ingress (forwarded on as GSO) and on the client host's link; each
	# datagram must still come out whole and separate.
	for l in "$NS_C c0" "$NS_R r1"; do
		read -r ns ifc <<<"$l"
		ip netns exec "$ns" ethtool -K "$ifc" gro on >/dev/null
		ip netns exec "$ns" sh -c "echo 1000000 > /sys/class/net/$ifc/gro_flush_timeout"
	done
	nr_ ethtool -K r0 tso off >/dev/null
	ns_ ethtool -K s0 tso off >/dev/null
	nc_ "${check[@]}" --to 127.0.0.1:1234 --sizes "$(printf '1000,%.0s' $(seq 300))" --burst 50 --timeout 1 --name gro-burst >"$tmp/gro"
	grorc=$?
	cat "$tmp/gro"
	kill -USR1 "$v4_pid"
	sleep 0.3
	gro=$(grep -o 'GRO super-packets split [0-9]* into [0-9]*' "$tmp/$mode-v4.log" | tail -1)
	supers=$(echo "$gro" | sed -E 's/.*split ([0-9]+) into.*/\1/')
	for l in "$NS_C c0" "$NS_R r1"; do
		read -r ns ifc <<<"$l"
		ip netns exec "$ns" ethtool -K "$ifc" gro off >/dev/null
		ip netns exec "$ns" sh -c "echo 0 > /sys/class/net/$ifc/gro_flush_timeout"
	done
	nr_ ethtool -K r0 tso on >/dev/null
	ns_ ethtool -K s0 tso on >/dev/null
	e2e_result "[$mode] GRO forced on the path: ${gro:-no super-packets}, every datagram whole" \
		"$([ "$grorc" = 0 ] && [ "${supers:-0}" -gt 0 ]; echo $?)"

	# GSO on the way out: datagrams that queued while the client was
	# stopped are read in one go, and their segments leave as one
	# super-packet per burst, cut back by the kernel on the path (and
	# split by the server's receive path in raw mode). Each must arrive
	# whole and separate.
	gso_before=$(grep -o 'GSO super-packets sent [0-9]*' "$tmp/$mode-v4.log" | tail -1 | grep -o '[0-9]*$')
	kill -STOP "$v4_pid"
	nc_ "${check[@]}" --to 127.0.0.1:1234 --sizes "$(printf '1200,%.0s' $(seq 40)),700" --burst 41 --timeout 3 \
		--name gso-burst >"$tmp/gso" &
	gso_check=$!
	sleep 1.6 # the warm-up's echo times out (1 s), then the burst is queued
	kill -CONT "$v4_pid"
	wait "$gso_check"
	gsorc=$?
	cat "$tmp/gso"
	kill -USR1 "$v4_pid"
	sleep 0.3
	gso_after=$(grep -o 'GSO super-packets sent [0-9]*' "$tmp/$mode-v4.log" | tail -1 | grep -o '[0-9]*$')
	e2e_result "[$mode] GSO: $((${gso_after:-0} - ${gso_before:-0})) super-packets sent for a queued burst, every datagram whole" \
		"$([ "$gsorc" = 0 ] && [ "${gso_after:-0}" -gt "${gso_before:-0}" ]; echo $?)"

	# The client host's address changes: the client follows the kernel and
	# opens new connections from the new address, UDP side untouched.
	# (deleting the primary address first: with promote_secondaries off
	# the kernel would take a secondary in the same subnet with it)
	nc_ ip addr del 198.51.100.2/24 dev c0
	nc_ ip addr add 198.51.100.3/24 dev c0
	nc_ ip route add default via 198.51.100.1
	nc_ "${check[@]}" --to 127.0.0.1:1234 --random 40 --seed 9 --gap 0.05 --timeout 0.5 --max-loss 0.1 --name after-address-change >"$tmp/addr"
	addrrc=$?
	cat "$tmp/addr"
	grep -q "path to the server" "$tmp/$mode-v4.log"
	seen=$?
	e2e_result "[$mode] client address change followed (new connections from 198.51.100.3)" \
		"$([ "$addrrc" = 0 ] && [ "$seen" = 0 ] && grep -q '198.51.100.3:[0-9]*: connection established' "$tmp/$mode-v4.log"; echo $?)"
	nc_ ip addr del 198.51.100.3/24 dev c0
	nc_ ip addr add 198.51.100.2/24 dev c0
	nc_ ip route add default via 198.51.100.1
	sleep 0.3

	for p in "$v4_pid" "$v6_pid" "$hs_pid" "$server_pid"; do e2e_stop "$p"; done
	e2e_expect "[$mode] server left no nft table behind" \
		bash -c "! ip netns exec $NS_S nft list tables | grep -q fauxtcp"
done

e2e_snapshot "$NS_C" >"$tmp/client-host.after"
e2e_expect "client host unchanged: nftables ruleset, links, forwarding sysctls" \
	diff -u "$tmp/client-host.before" "$tmp/client-host.after"
[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp"/*.log
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
