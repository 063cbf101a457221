#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# heal-timeout (docs/security.md "Sessions heal themselves"), end to end, in
# namespaces this script creates and always deletes (fxh-*-PID):
#
#   client host (C)          router (R), NAT                    server host (S)
#   c0 198.51.100.2/24 ----- r0 198.51.100.1   r1 203.0.113.1 -- s0 203.0.113.2/24
#   input+forward policy     masquerade out of r1, default      fauxtcp-server (TUN or raw on
#   drop, ip_forward 0;      conntrack; table inet cut: the     s0), or phantun_server 0.8.1
#   fauxtcp-client as uid    drop rule of the case              with its README's DNAT to
#   65534 with only          (forward hook)                     192.168.201.2; UDP echo
#   CAP_NET_RAW,                                                127.0.0.1:1234, UDP sink
#   --heal-timeout 2                                            127.0.0.1:1240 (never answers)
#
# Heal cases (fauxtcp-server TUN, fauxtcp-server raw, phantun_server): a
# probe sends a datagram every 10 ms to the echo; then the router drops the
# server->client segments of the current connection only (the one whose
# NATed port conntrack gave). The client must log "nothing heard from the
# server for 2 s while sending" 2-3.5 s after the drop, open a new
# connection on a new port, and the echoes must come back; the outage (the
# longest time without an echo) must stay below heal-timeout + 1.5 s.
#
# No-flap cases (phantun_server, then fauxtcp-server TUN): a one-way stream,
# 50 datagrams a second for 12 s, to the sink. phantun_server sends nothing
# on it and fauxtcp-server only its liveness ACKs: no heal line, exactly one
# "connection established".
#
# The phantun binaries are ../shared/phantun/ beside the repository; without
# them this fails, it does not skip. FAUXTCP_HEAL_LOGS=DIR keeps the logs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
probe=$here/udpprobe.py
heal_s=2                            # --heal-timeout of every client here
max_outage=$((heal_s * 1000 + 1500)) # ms
heal_re="nothing heard from the server for $heal_s s while sending"
est_re='198\.51\.100\.2:[0-9]+: connection established'

[ "$(id -u)" = 0 ] || e2e_die "needs root (network namespaces)"
e2e_need_phantun
e2e_need_daemons
e2e_need_tools ip nft conntrack python3 setpriv ss realpath
E2E_NAME=fxh E2E_KEEP=${FAUXTCP_HEAL_LOGS:-}
e2e_init
tmp=$E2E_TMP
figures=() t_start=$(date +%s)

now() { date +%s%N; }
count() { grep -Ec -- "$2" "$1"; } # FILE REGEX: matching lines
num() { [[ $1 =~ ^[0-9]+$ ]]; }       # a number (not "none", not empty)

# ---- topology: IPv4 only; the router's table inet cut holds the drop rule of the case ----
e2e_router_topology ipv6=0 || e2e_die "cannot build the topology"
nr_ nft -f - <<'NFT' || e2e_die "nft on the router"
table inet cut {
	chain forward { type filter hook forward priority 0; }
}
NFT
e2e_hardened "$NS_C" || e2e_die "nft on the client host"
e2e_bg "$NS_S" "$tmp/echo.log" python3 "$here/udpecho.py" 127.0.0.1 1234
# The sink: takes every datagram, answers none, logs one line per datagram.
e2e_bg "$NS_S" "$tmp/sink.err" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 1240))
f = open(sys.argv[1], "w", buffering=1)
while True:
    f.write("%d\n" % len(s.recv(65535)))' "$tmp/sink.log"
if ! e2e_wait_udp "$NS_S" 1234 || ! e2e_wait_udp "$NS_S" 1240; then e2e_die "the UDP echo or sink did not start"; fi

# ---- the daemons ----
nlog=0
server_start() { # KIND UDP-PORT: tun, raw or phantun on S port 4567, relaying to 127.0.0.1:UDP-PORT
	nlog=$((nlog + 1))
	srv_log=$tmp/$nlog-server-$1.log
	if [ "$1" = phantun ]; then
		e2e_phantun_server_host "$NS_S"
		e2e_phantun_server "$NS_S" "$srv_log" --local 4567 --remote "127.0.0.1:$2"
	else
		e2e_server "$NS_S" "$srv_log" "$1" -l 4567 -r "127.0.0.1:$2"
	fi
	srv_pid=$E2E_LAST_PID
}
server_stop() { # KIND
	e2e_stop "$srv_pid"
	[ "$1" = phantun ] && ns_ nft delete table inet phantun_dnat
	return 0
}
client_start() { # NAME
	nlog=$((nlog + 1))
	cli_log=$tmp/$nlog-client-$1.log
	e2e_client "$NS_C" "$cli_log" -l 127.0.0.1:1111 -r 203.0.113.2:4567 --heal-timeout "$heal_s"
	cli_pid=$E2E_LAST_PID
}
cli_status() { nc_ setpriv --reuid=65534 --regid=65534 --clear-groups "$E2E_CLIENT" status -v -l 127.0.0.1:1111; }
alive() { kill -0 "$cli_pid" 2>/dev/null && kill -0 "$srv_pid" 2>/dev/null; }

# ---- heal: the router drops what the server sends on the current connection ----
heal_case() { # KIND NAME
	local kind=$1 name=$2 t0 cport natport ct t_drop t_heal t_new nport d rec gap lost alt t_end dropped heals
	echo "# $name"
	server_start "$kind" 1234
	client_start "$kind-heal"
	nlog=$((nlog + 1))
	local plog=$tmp/$nlog-probe-$kind.log
	e2e_bg "$NS_C" "$tmp/$nlog-probe-$kind.out" python3 "$probe" run --to 127.0.0.1:1111 --bind 127.0.0.1:45000 \
		--interval 0.01 --size 64 --log "$plog"
	local probe_pid=$E2E_LAST_PID
	t0=$(now)
	for _ in $(seq 100); do [ -e "$plog" ] && break; sleep 0.05; done
	rec=$(python3 "$probe" recovery "$plog" --since "$t0" --wait 5 2>&1)
	e2e_result "$name echoes flow before the cut (first after $rec ms)" "$(num "$rec"; echo $?)"
	sleep 1 # steady flow

	# The current connection: the client's port from its log, the NATed
	# port from the router's conntrack (its reply tuple's destination).
	cport=$(grep -Eo "$est_re" "$cli_log" | tail -1 | sed -E 's/.*:([0-9]+): .*/\1/')
	ct=$(nr_ conntrack -L -p tcp --orig-src 198.51.100.2 --sport "${cport:-0}" --dport 4567 2>/dev/null | head -1)
	natport=$(echo "$ct" | grep -o 'dport=[0-9]*' | sed -n 2p | cut -d= -f2)
	echo "# current connection: client port ${cport:-?}, NATed port ${natport:-?}: ${ct:-no conntrack entry}"
	# In the forward hook the NAT is already undone (the segment carries the
	# client's own port again): the NATed port is matched through the
	# connection's conntrack reply tuple.
	nr_ nft add rule inet cut forward ip saddr 203.0.113.2 tcp sport 4567 \
		ct reply proto-dst "${natport:-0}" counter drop
	t_drop=$(now)

	t_heal=$(python3 "$probe" logtime "$cli_log" "$heal_re" --after "$t_drop" --wait 5)
	if num "$t_heal"; then
		d=$(((t_heal - t_drop) / 1000000))
		t_new=$(python3 "$probe" logtime "$cli_log" "$est_re" --after "$t_heal" --wait 3)
	else
		d=none t_new=none
	fi
	grep -F "$heal_re" "$cli_log" | tail -1 | sed 's/^/# /'
	e2e_result "$name heal line $d ms after the cut ($((heal_s * 1000 - 100))-3500)" \
		"$(num "$d" && [ "$d" -ge $((heal_s * 1000 - 100)) ] && [ "$d" -le 3500 ]; echo $?)"
	nport=$(grep -Eo "$est_re" "$cli_log" | tail -1 | sed -E 's/.*:([0-9]+): .*/\1/')
	e2e_result "$name new connection established after the heal, on a new port ($cport -> $nport)" \
		"$(num "$t_new" && num "$cport" && num "$nport" && [ "$nport" != "$cport" ]; echo $?)"
	rec=$(python3 "$probe" recovery "$plog" --since "$t_drop" --wait 5)
	e2e_result "$name echoes resume ($rec ms after the cut)" "$(num "$rec"; echo $?)"
	sleep 1
	t_end=$(($(now) - 300000000))
	e2e_window "$plog" $((t_drop - 500000000)) "$t_end"
	gap=$E2E_GAP lost=$E2E_LOST alt=$E2E_ALTERED
	echo "# probe from 0.5 s before the cut: $E2E_WINDOW"
	figures+=("$name: heal line after $d ms, outage $gap ms, lost $lost")
	e2e_result "$name outage $gap ms (< $max_outage), lost $lost, nothing altered" \
		"$(num "$rec" && num "$gap" && [ "$gap" -lt "$max_outage" ] && [ "$alt" = 0 ]; echo $?)"
	dropped=$(nr_ nft list chain inet cut forward | grep -o 'packets [0-9]*' | head -1 | cut -d' ' -f2)
	heals=$(count "$cli_log" "$heal_re")
	e2e_result "$name the cut dropped ${dropped:-0} segments of the old connection only; one heal line ($heals)" \
		"$(num "$dropped" && [ "$dropped" -gt 0 ] && [ "$heals" = 1 ]; echo $?)"
	cli_status | grep -o 'reconnects after silence [0-9]*' | sed 's/^/# client status: /'
	e2e_result "$name both daemons alive" "$(alive; echo $?)"

	e2e_stop "$probe_pid"
	e2e_stop "$cli_pid"
	server_stop "$kind"
	nr_ nft flush chain inet cut forward
}

# ---- no flap: a one-way stream that nobody answers ----
oneway_case() { # KIND NAME
	local kind=$1 name=$2 before got heals est liveness segs_in
	echo "# $name"
	server_start "$kind" 1240
	client_start "$kind-oneway"
	before=$(wc -l <"$tmp/sink.log")
	nc_ python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t = time.monotonic()
for i in range(600):  # 50 a second for 12 s
    s.sendto(b"one-way %05d " % i + b"x" * 50, ("127.0.0.1", 1111))
    t += 0.02
    time.sleep(max(0.0, t - time.monotonic()))'
	sleep 0.5
	got=$(($(wc -l <"$tmp/sink.log") - before))
	heals=$(count "$cli_log" "$heal_re")
	est=$(count "$cli_log" "$est_re")
	e2e_result "$name the sink got $got of 600 datagrams" "$([ "$got" -ge 594 ]; echo $?)"
	e2e_result "$name no heal line ($heals) and exactly one connection established ($est)" \
		"$([ "$heals" = 0 ] && [ "$est" = 1 ]; echo $?)"
	# What the client heard: from phantun_server only its SYN|ACK (so the
	# stream did exercise the rule), from fauxtcp-server its liveness ACKs.
	segs_in=$(cli_status | grep -o '^segments: in [0-9]*' | grep -o '[0-9]*$')
	if [ "$kind" = phantun ]; then
		e2e_result "$name the server said nothing after its SYN|ACK (segments in: ${segs_in:-?})" \
			"$(num "$segs_in" && [ "$segs_in" -le 1 ]; echo $?)"
	else
		liveness=$(ns_ "$E2E_SERVER" status -v -l 4567 | grep -o 'liveness ACKs [0-9]*' | grep -o '[0-9]*$')
		# at least one a second for 12 s, less the first (data then)
		e2e_result "$name the server sent liveness ACKs (${liveness:-none}; client segments in: ${segs_in:-?})" \
			"$(num "$liveness" && [ "$liveness" -ge 10 ]; echo $?)"
	fi
	figures+=("$name: $got of 600 delivered, $heals heal lines, $est connections")
	e2e_result "$name both daemons alive" "$(alive; echo $?)"
	e2e_stop "$cli_pid"
	server_stop "$kind"
}

heal_case tun "[heal, fauxtcp-server TUN]"
heal_case raw "[heal, fauxtcp-server raw]"
heal_case phantun "[heal, phantun_server]"
oneway_case phantun "[one-way, phantun_server]"
oneway_case tun "[one-way, fauxtcp-server TUN]"

echo "# figures (heal-timeout $heal_s s, a probe every 10 ms):"
printf '#   %s\n' "${figures[@]}"
[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp"/*-server-*.log "$tmp"/*-client-*.log
echo "$E2E_PASS passed, $E2E_FAIL failed ($(($(date +%s) - t_start)) s)"
[ "$E2E_FAIL" -eq 0 ]
