#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fauxtcp against the real phantun 0.8.1 binaries, both ways, IPv4 and IPv6,
# in namespaces this script creates and always deletes (fxi-*-PID-1), the
# router topology of lib.sh (e2e_router_topology nat=inet) with a fourth
# host on the router's r2 (e2e_router_link):
#
#   P, phantun_client's host           R, router              S, server host
#   p0 192.0.2.2/24 ------------------ r2 192.0.2.1
#      2001:db8:3::2/64                   2001:db8:3::1
#   TUN, ip_forward, masquerade out                          r1 203.0.113.1 ---- s0 203.0.113.2/24
#   of p0 (phantun's README)                                    2001:db8:2::1      2001:db8:2::2/64
#                                      masquerade out of r1
#   C, a hardened host                 (IPv4 and IPv6),       UDP echo 127.0.0.1:1234 (and :1235,
#   c0 198.51.100.2/24 --------------- r0 198.51.100.1        recording); fauxtcp-server (TUN, or
#      2001:db8:1::2/64                   2001:db8:1::1       raw on s0), or phantun_server with
#   input+forward policy drop,         default conntrack      the README's DNAT to 192.168.201.2
#   ip_forward 0; fauxtcp-client as                           and fcc9::2 and ip_forward
#   uid 65534 with only CAP_NET_RAW
#
# Pairings, each over IPv4 and IPv6 (veth MTU 1500: payloads up to 1460 and
# 1440 bytes):
#   tun      phantun_client > fauxtcp-server in TUN mode
#   raw      phantun_client > fauxtcp-server --mode raw --iface s0
#   phantun  fauxtcp-client > phantun_server
# For each: every size 1..max echoed byte for byte and max+1 dropped (not
# truncated); 200 random sizes; two UDP peers at once, each getting only its
# own echoes; restarts of the server (SIGKILL, then SIGTERM) and of the
# client under a probe every 10 ms, with the outage and the datagrams lost
# printed and bounded; handshake packets from either side
# (--handshake-packet), delivered first as the spec says.
#
# The phantun binaries are ../shared/phantun/ beside the repository (never
# copied into it); without them this fails, it does not skip.
# FAUXTCP_INTEROP_PAIRINGS="tun raw phantun" picks pairings;
# FAUXTCP_INTEROP_LOGS=DIR keeps the daemons' and probes' logs there.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
udp=$here/interop_udp.py
probe=$here/udpprobe.py
pairings=${FAUXTCP_INTEROP_PAIRINGS:-tun raw phantun}

[ "$(id -u)" = 0 ] || e2e_die "needs root (network namespaces)"
e2e_need_phantun
e2e_need_daemons
e2e_need_tools ip nft python3 setpriv ss timeout realpath tcpdump
E2E_NAME=fxi E2E_KEEP=${FAUXTCP_INTEROP_LOGS:-}
e2e_init
tmp=$E2E_TMP
t_start=$(date +%s)

now() { date +%s%N; }
# expect NAME CMD...: CMD's exit status decides; its output shown with "# "
expect() {
	local name=$1 out rc
	shift
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	e2e_result "$name" "$rc"
}

# ---- topology: IPv6 NATed too; phantun_client's host P on the router's r2 ----
e2e_router_topology nat=inet || e2e_die "cannot build the topology"
NS_P=''
e2e_netns NS_P p || e2e_die "cannot add phantun_client's host"
e2e_router_link "$NS_P" p0 default || e2e_die "cannot link phantun_client's host"
e2e_phantun_client_host "$NS_P" p0 || e2e_die "nft on the phantun_client host"
e2e_hardened "$NS_C" || e2e_die "nft on the hardened host"
e2e_bg "$NS_S" "$tmp/echo.log" python3 "$here/udpecho.py" 127.0.0.1 1234
# and one that records what it gets, for the handshake packets
e2e_bg "$NS_S" "$tmp/echo-record.err" python3 "$udp" echo --bind 127.0.0.1:1235 --log "$tmp/echo-record.log"
if ! e2e_wait_udp "$NS_S" 1234 || ! e2e_wait_udp "$NS_S" 1235; then e2e_die "the UDP echo did not start"; fi
remote_udp=127.0.0.1:1234 # where the servers relay to
e2e_snapshot "$NS_C" >"$tmp/hardened.before"

head -c 300 /dev/urandom >"$tmp/cli-hello.bin"
head -c 200 /dev/urandom >"$tmp/srv-hello.bin"
chmod 644 "$tmp"/*.bin

# ---- the daemons ----
nlog=0
newlog() { nlog=$((nlog + 1)); log=$tmp/$nlog-$1.log; }

remote() { if [ "$1" = 4 ]; then echo 203.0.113.2:4567; else echo '[2001:db8:2::2]:4567'; fi; }
srv_start() { # ARGS...: this pairing's server on S port 4567; sets srv_pid, srv_log
	if [ "$pairing" = phantun ]; then
		newlog "phantun_server"
		srv_log=$log
		e2e_phantun_server "$NS_S" "$srv_log" --local 4567 --remote "$remote_udp" "$@"
	else
		newlog "fauxtcp-server-$pairing"
		srv_log=$log
		e2e_server "$NS_S" "$srv_log" "$pairing" -l 4567 -r "$remote_udp" "$@"
	fi
	srv_pid=$E2E_LAST_PID
}
# Clients: instance K (1: IPv4, 2: IPv6, 3: IPv4 with a handshake packet,
# 4: IPv6 with one) listens on 127.0.0.1:111K of its host: phantun_client
# on P, or fauxtcp-client on C (as an ordinary user holding CAP_NET_RAW).
cli_start() { # K FAM [ARGS...]: this pairing's client; sets cli_pid[K]
	local k=$1 fam=$2
	shift 2
	if [ "$pairing" = phantun ]; then
		newlog "fauxtcp-client-$k-ipv$fam"
		e2e_client "$NS_C" "$log" -l "127.0.0.1:111$k" -r "$(remote "$fam")" "$@"
	else
		newlog "phantun_client-$k-ipv$fam"
		e2e_phantun_client "$NS_P" "$log" --local "127.0.0.1:111$k" --remote "$(remote "$fam")" \
			--tun-local "192.168.200.$((4 * k + 1))" --tun-peer "192.168.200.$((4 * k + 2))" \
			--tun-local6 "fcc8::$((4 * k + 1))" --tun-peer6 "fcc8::$((4 * k + 2))" "$@"
	fi
	cli_pid[k]=$E2E_LAST_PID
}

# ---- restarts: a probe per family, a datagram every 10 ms ----
start_probes() {
	local fam
	for fam in 4 6; do
		rm -f "$tmp/probe$fam-$pairing.log"
		e2e_bg "$cns" "$tmp/probe$fam-$pairing.out" python3 "$probe" run --to "127.0.0.1:111$((fam == 4 ? 1 : 2))" \
			--bind "127.0.0.1:4500$fam" --interval 0.01 --size 64 --log "$tmp/probe$fam-$pairing.log"
		probe_pid[fam]=$E2E_LAST_PID
	done
	sleep 0.2
	for fam in 4 6; do
		python3 "$probe" recovery "$tmp/probe$fam-$pairing.log" --since "$(now)" --wait 5 >/dev/null ||
			echo "# IPv$fam probe: no echo before the restarts"
	done
}
stop_probes() { e2e_stop "${probe_pid[4]}" 5 TERM; e2e_stop "${probe_pid[6]}" 5 TERM; }
# After a restart: for each family, the first echo of a datagram sent after
# the restarted side was up, then the window from 0.5 s before
# the kill to 0.7 s after recovery: the datagrams lost and the outage (the
# longest time without an echo). Bounds: the first echo within 2 s of the
# restart; no more lost than were sent while the side was down (its down
# time / 10 ms) plus 100 (1 s: phantun's retry of a lost SYN); every echo
# byte for byte.
measure() { # WHAT T_KILL4 T_UP4 T_KILL6 T_UP6 (ns): when each family's side stopped, and was up again
	local what=$1 fam t_end lost gap alt down maxlost
	local -a rec stopped up
	stopped[4]=$2 up[4]=$3 stopped[6]=$4 up[6]=$5
	for fam in 4 6; do
		rec[fam]=$(python3 "$probe" recovery "$tmp/probe$fam-$pairing.log" --since "${up[fam]}" --wait 8)
	done
	sleep 1
	t_end=$(($(now) - 300000000))
	for fam in 4 6; do
		down=$(((up[fam] - stopped[fam]) / 1000000))
		maxlost=$((down / 10 + 100))
		e2e_window "$tmp/probe$fam-$pairing.log" $((stopped[fam] - 500000000)) "$t_end"
		lost=$E2E_LOST gap=$E2E_GAP alt=$E2E_ALTERED
		echo "# IPv$fam $what: down $down ms; $E2E_WINDOW"
		figures+=("$name IPv$fam $what: outage $gap ms, lost $lost (down $down ms)")
		e2e_result "$name IPv$fam: $what: outage $gap ms, lost $lost datagrams (<= $maxlost), first echo ${rec[fam]} ms after the restart (<= 2000)" \
			"$([ "${rec[fam]}" != none ] && [ "${rec[fam]}" -le 2000 ] &&
				[ "$lost" -le "$maxlost" ] && [ "$alt" = 0 ]; echo $?)"
	done
}

figures=() cli_pid=() probe_pid=()
for pairing in $pairings; do
	case $pairing in
	tun) name="[phantun_client > fauxtcp-server TUN]" cns=$NS_P ;;
	raw) name="[phantun_client > fauxtcp-server raw]" cns=$NS_P ;;
	phantun) name="[fauxtcp-client > phantun_server]" cns=$NS_C ;;
	*) e2e_die "unknown pairing $pairing" ;;
	esac
	echo "# $name"
	t_pair=$(date +%s)
	if [ "$pairing" = phantun ]; then
		e2e_phantun_server_host "$NS_S"
	fi
	srv_start
	cli_start 1 4
	cli_start 2 6
	if [ "$pairing" = phantun ]; then
		st=$(grep -E '^(Uid|CapEff|CapPrm|CapBnd):' "/proc/${cli_pid[1]}/status" | tr -s '\t' ' ' | paste -sd' ')
		e2e_result "$name fauxtcp-client runs as uid 65534 with CAP_NET_RAW only ($st)" \
			"$(echo "$st" | grep -Eq '^Uid: 65534 65534 65534 65534 CapPrm: 0000000000002000 CapEff: 0000000000002000 CapBnd: 0000000000002000$'; echo $?)"
	fi

	# ---- sizes, random content, two peers ----
	for fam in 4 6; do
		port=111$((fam == 4 ? 1 : 2))
		max=$((fam == 4 ? 1460 : 1440))
		expect "$name IPv$fam: every size 1-$max echoed byte for byte" \
			ip netns exec "$cns" python3 "$udp" sweep --to "127.0.0.1:$port" --sizes "1-$max" --seed "$fam" --max-retried 3 --name "ipv$fam-sizes"
		expect "$name IPv$fam: $((max + 1)) bytes dropped (not truncated), $max bytes echoed" \
			ip netns exec "$cns" python3 "$udp" toobig --to "127.0.0.1:$port" --size $((max + 1)) --name "ipv$fam-too-big"
		expect "$name IPv$fam: 200 random sizes, content byte for byte" \
			ip netns exec "$cns" python3 "$udp" sweep --to "127.0.0.1:$port" --random 200 --max-size "$max" --seed $((fam + 10)) \
			--max-retried 2 --name "ipv$fam-random"
		expect "$name IPv$fam: two UDP peers at once, each only its own echoes" \
			ip netns exec "$cns" python3 "$udp" peers --to "127.0.0.1:$port" --peers 2 --count 200 --max-size "$max" \
			--base-port "4${fam}001" --seed $((fam + 20)) --max-loss 0.02 --name "ipv$fam-two-peers"
	done

	# ---- restarts under the probes ----
	start_probes
	for sig in KILL TERM; do
		t_kill=$(now)
		e2e_stop "$srv_pid" 5 "$sig"
		srv_start
		t_up=$(now)
		measure "server restart (SIG$sig)" "$t_kill" "$t_up" "$t_kill" "$t_up"
	done
	t_kill4=$(now)
	e2e_stop "${cli_pid[1]}" 5 TERM
	t_kill6=$(now)
	e2e_stop "${cli_pid[2]}" 5 TERM
	cli_start 1 4
	t_up4=$(now)
	cli_start 2 6
	t_up6=$(now)
	measure "client restart (SIGTERM)" "$t_kill4" "$t_up4" "$t_kill6" "$t_up6"
	stop_probes

	# ---- handshake packets: the server's (every client), the client's
	# (clients 3 and 4). The server relays to an echo that records what it
	# gets, and the server host's link is captured. phantun hands a
	# connection's segments to one worker per CPU (one UDP socket each), so
	# back-to-back datagrams can leave it in either order: the order is
	# checked on the wire (seq and ack) and where fauxtcp delivers them.
	e2e_stop "$srv_pid" 5 TERM
	e2e_bg "$NS_S" "$tmp/tcpdump-$pairing.err" tcpdump -i s0 -nn -U --immediate-mode -w "$tmp/hs-$pairing.pcap" tcp port 4567
	dump_pid=$E2E_LAST_PID
	e2e_wait_log "$tmp/tcpdump-$pairing.err" 'listening on' 5 || echo "# tcpdump: $(cat "$tmp/tcpdump-$pairing.err")"
	remote_udp=127.0.0.1:1235
	srv_start --handshake-packet "$tmp/srv-hello.bin"
	remote_udp=127.0.0.1:1234
	cli_start 3 4 --handshake-packet "$tmp/cli-hello.bin"
	cli_start 4 6 --handshake-packet "$tmp/cli-hello.bin"
	if [ "$pairing" = phantun ]; then strict=--strict-client; else strict=--strict-server; fi
	for fam in 4 6; do
		expect "$name IPv$fam: the server's handshake packet reaches a new UDP peer once, byte for byte" \
			ip netns exec "$cns" python3 "$udp" handshake --to "127.0.0.1:111$((fam == 4 ? 1 : 2))" --timeout 3 \
			--server-hs "$tmp/srv-hello.bin" --record "$tmp/echo-record.log" "$strict" --name "ipv$fam-server-hs"
		expect "$name IPv$fam: the client's handshake packet reaches the UDP server once, byte for byte" \
			ip netns exec "$cns" python3 "$udp" handshake --to "127.0.0.1:111$((fam == 4 ? 3 : 4))" --timeout 3 \
			--server-hs "$tmp/srv-hello.bin" --client-hs "$tmp/cli-hello.bin" \
			--record "$tmp/echo-record.log" "$strict" --name "ipv$fam-client-hs"
	done
	sleep 0.2
	e2e_stop "$dump_pid" 5 TERM
	for fam in 4 6; do
		expect "$name IPv$fam on the wire: each handshake packet is the first data (seq 1), counted in seq and ack" \
			python3 "$udp" wire --pcap "$tmp/hs-$pairing.pcap" --family "$fam" \
			--server-hs "$tmp/srv-hello.bin" --client-hs "$tmp/cli-hello.bin" --name "ipv$fam-wire"
	done

	for k in 1 2 3 4; do e2e_stop "${cli_pid[k]}" 5 TERM; done
	e2e_stop "$srv_pid" 5 TERM
	if [ "$pairing" = phantun ]; then
		ns_ nft delete table inet phantun_dnat
		e2e_snapshot "$NS_C" >"$tmp/hardened.after"
		expect "$name the hardened host is unchanged: nftables ruleset, links, forwarding" \
			diff -u "$tmp/hardened.before" "$tmp/hardened.after"
	else
		expect "$name server left no nft table behind" \
			bash -c "! ip netns exec $NS_S nft list tables | grep -q fauxtcp"
	fi
	echo "# $name: $(($(date +%s) - t_pair)) s"
done

echo "# restarts (a probe every 10 ms):"
printf '#   %s\n' "${figures[@]}"
[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp"/[0-9]*.log
echo "$E2E_PASS passed, $E2E_FAIL failed ($(($(date +%s) - t_start)) s)"
[ "$E2E_FAIL" -eq 0 ]
