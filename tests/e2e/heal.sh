#!/usr/bin/env bash
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
repo=$(cd "$here/../.." && pwd)
build=${FAUXTCP_BUILD:-$repo/build}
client=$(realpath "$build/fauxtcp-client" 2>/dev/null)
server=$(realpath "$build/fauxtcp-server" 2>/dev/null)
ph_dir=$(realpath -m "$repo/../shared/phantun")
ph_server=$ph_dir/phantun_server
probe=$here/udpprobe.py
heal_s=2                            # --heal-timeout of every client here
max_outage=$((heal_s * 1000 + 1500)) # ms
heal_re="nothing heard from the server for $heal_s s while sending"
est_re='198\.51\.100\.2:[0-9]+: connection established'

die_early() { echo "FAIL $*"; echo "0 passed, 1 failed"; exit 1; }
[ "$(id -u)" = 0 ] || die_early "needs root (network namespaces)"
[ -x "$ph_server" ] || die_early "phantun 0.8.1 missing: need $ph_server (check out shared/ beside the repository)"
v=$("$ph_server" --version 2>&1)
[ "$v" = "Phantun Server 0.8.1" ] || die_early "$ph_server is not phantun_server 0.8.1: '$v'"
if [ ! -x "$client" ] || [ ! -x "$server" ]; then die_early "no fauxtcp-client/fauxtcp-server in $build"; fi
for t in ip nft conntrack python3 setpriv ss realpath; do
	command -v "$t" >/dev/null || die_early "$t is missing"
done

C=fxh-c-$$ R=fxh-r-$$ S=fxh-s-$$
tmp=$(mktemp -d /tmp/fxh.$$.XXXXXX)
chmod 755 "$tmp" # the client runs as uid 65534
pass=0 fail=0 pids=() figures=() t_start=$(date +%s)

cleanup() { # (stderr: no "Killed" notices)
	local p n
	trap - EXIT INT TERM
	if [ -n "${FAUXTCP_HEAL_LOGS:-}" ]; then
		mkdir -p "$FAUXTCP_HEAL_LOGS" && cp "$tmp"/*.log "$FAUXTCP_HEAL_LOGS"/
	fi
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "$C" "$R" "$S"; do
		# anything still running in a namespace of ours (only those)
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$tmp"
} 2>/dev/null
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

c() { ip netns exec "$C" "$@"; }
r() { ip netns exec "$R" "$@"; }
s() { ip netns exec "$S" "$@"; }
now() { date +%s%N; }
result() { # NAME OK?
	if [ "$2" = 0 ]; then
		echo "ok   $1"
		pass=$((pass + 1))
	else
		echo "FAIL $1"
		fail=$((fail + 1))
	fi
}
bg() { # NS LOG CMD...: sets last_pid
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null &
	last_pid=$!
	pids+=("$last_pid")
}
stop() { # PID: SIGTERM, SIGKILL after 5 s; forgotten by the cleanup
	local pid=$1 keep=() q i
	kill -TERM "$pid"
	for ((i = 0; i < 250; i++)); do kill -0 "$pid" || break; sleep 0.02; done
	kill -KILL "$pid"
	wait "$pid"
	for q in "${pids[@]}"; do [ "$q" = "$pid" ] || keep+=("$q"); done
	pids=("${keep[@]}")
} 2>/dev/null
wait_log() { # FILE REGEX [SECS]
	local i
	for ((i = 0; i < ${3:-5} * 20; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
wait_udp() { # NS PORT [SECS]: a UDP socket bound to PORT in NS
	local i
	for ((i = 0; i < ${3:-5} * 20; i++)); do
		ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
count() { grep -Ec -- "$2" "$1"; } # FILE REGEX: matching lines
num() { [[ $1 =~ ^[0-9]+$ ]]; }       # a number (not "none", not empty)

# ---- topology ----
for n in "$C" "$R" "$S"; do
	ip netns add "$n" || die_early "cannot create namespace $n"
	ip -n "$n" link set lo up
done
ip -n "$C" link add c0 type veth peer name r0 netns "$R"
ip -n "$S" link add s0 type veth peer name r1 netns "$R"
ip -n "$C" addr add 198.51.100.2/24 dev c0
ip -n "$R" addr add 198.51.100.1/24 dev r0
ip -n "$R" addr add 203.0.113.1/24 dev r1
ip -n "$S" addr add 203.0.113.2/24 dev s0
for l in "$C c0" "$R r0" "$R r1" "$S s0"; do
	# shellcheck disable=SC2086
	set -- $l
	ip -n "$1" link set "$2" mtu 1500 up
done
ip -n "$C" route add default via 198.51.100.1
ip -n "$S" route add default via 203.0.113.1
r sysctl -q -w net.ipv4.ip_forward=1
s sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 # phantun_server's README; TUN mode checks both
c sysctl -q -w net.ipv4.ip_forward=0
r nft -f - <<'NFT' || die_early "nft on the router"
table ip nat {
	chain postrouting { type nat hook postrouting priority srcnat; oifname "r1" masquerade; }
}
table inet cut {
	chain forward { type filter hook forward priority 0; }
}
NFT
# A hardened office host: nothing comes in unless it answers us.
c nft -f - <<'NFT' || die_early "nft on the client host"
table inet hardened {
	chain input {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ct state established,related accept
	}
	chain forward { type filter hook forward priority 0; policy drop; }
}
NFT
bg "$S" "$tmp/echo.log" python3 "$here/udpecho.py" 127.0.0.1 1234
# The sink: takes every datagram, answers none, logs one line per datagram.
bg "$S" "$tmp/sink.err" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 1240))
f = open(sys.argv[1], "w", buffering=1)
while True:
    f.write("%d\n" % len(s.recv(65535)))' "$tmp/sink.log"
if ! wait_udp "$S" 1234 || ! wait_udp "$S" 1240; then die_early "the UDP echo or sink did not start"; fi

# ---- the daemons ----
nlog=0
server_start() { # KIND UDP-PORT: tun, raw or phantun on S port 4567, relaying to 127.0.0.1:UDP-PORT
	nlog=$((nlog + 1))
	srv_log=$tmp/$nlog-server-$1.log
	case $1 in
	tun) bg "$S" "$srv_log" "$server" -l 4567 -r "127.0.0.1:$2" ;;
	raw) bg "$S" "$srv_log" "$server" --mode raw --iface s0 -l 4567 -r "127.0.0.1:$2" ;;
	phantun)
		# phantun_server's host set-up, as its README asks (ip_forward
		# above, and the DNAT of its port to its TUN peer address)
		s nft -f - <<-'NFT'
		table inet phantun_dnat {
			chain prerouting {
				type nat hook prerouting priority dstnat;
				iifname "s0" tcp dport 4567 dnat ip to 192.168.201.2
			}
		}
		NFT
		bg "$S" "$srv_log" env RUST_LOG=info "$ph_server" --local 4567 --remote "127.0.0.1:$2" ;;
	esac
	srv_pid=$last_pid
	if [ "$1" = phantun ]; then
		wait_log "$srv_log" 'Listening on 4567' 5 || echo "# phantun_server did not start: $(tail -3 "$srv_log")"
		for _ in $(seq 40); do
			s ip -4 addr show | grep -q '192.168.201.1' && break
			sleep 0.05
		done
	else
		wait_log "$srv_log" 'accepting fake TCP' 5 || echo "# fauxtcp-server did not start: $(tail -3 "$srv_log")"
	fi
}
server_stop() { # KIND
	stop "$srv_pid"
	[ "$1" = phantun ] && s nft delete table inet phantun_dnat
	return 0
}
# fauxtcp-client as an ordinary user holding CAP_NET_RAW and nothing else.
client_start() { # NAME
	nlog=$((nlog + 1))
	cli_log=$tmp/$nlog-client-$1.log
	bg "$C" "$cli_log" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_raw --ambient-caps=+net_raw --bounding-set=-all,+net_raw \
		"$client" -l 127.0.0.1:1111 -r 203.0.113.2:4567 --heal-timeout "$heal_s"
	cli_pid=$last_pid
	wait_log "$cli_log" 'listening on' 5 || echo "# fauxtcp-client did not start: $(tail -3 "$cli_log")"
}
cli_status() { c setpriv --reuid=65534 --regid=65534 --clear-groups "$client" status -l 127.0.0.1:1111; }
alive() { kill -0 "$cli_pid" 2>/dev/null && kill -0 "$srv_pid" 2>/dev/null; }

# ---- heal: the router drops what the server sends on the current connection ----
heal_case() { # KIND NAME
	local kind=$1 name=$2 t0 cport natport ct t_drop t_heal t_new nport d rec w gap lost alt t_end dropped heals
	echo "# $name"
	server_start "$kind" 1234
	client_start "$kind-heal"
	nlog=$((nlog + 1))
	local plog=$tmp/$nlog-probe-$kind.log
	bg "$C" "$tmp/$nlog-probe-$kind.out" python3 "$probe" run --to 127.0.0.1:1111 --bind 127.0.0.1:45000 \
		--interval 0.01 --size 64 --log "$plog"
	local probe_pid=$last_pid
	t0=$(now)
	for _ in $(seq 100); do [ -e "$plog" ] && break; sleep 0.05; done
	rec=$(python3 "$probe" recovery "$plog" --since "$t0" --wait 5 2>&1)
	result "$name echoes flow before the cut (first after $rec ms)" "$(num "$rec"; echo $?)"
	sleep 1 # steady flow

	# The current connection: the client's port from its log, the NATed
	# port from the router's conntrack (its reply tuple's destination).
	cport=$(grep -Eo "$est_re" "$cli_log" | tail -1 | sed -E 's/.*:([0-9]+): .*/\1/')
	ct=$(r conntrack -L -p tcp --orig-src 198.51.100.2 --sport "${cport:-0}" --dport 4567 2>/dev/null | head -1)
	natport=$(echo "$ct" | grep -o 'dport=[0-9]*' | sed -n 2p | cut -d= -f2)
	echo "# current connection: client port ${cport:-?}, NATed port ${natport:-?}: ${ct:-no conntrack entry}"
	# In the forward hook the NAT is already undone (the segment carries the
	# client's own port again): the NATed port is matched through the
	# connection's conntrack reply tuple.
	r nft add rule inet cut forward ip saddr 203.0.113.2 tcp sport 4567 \
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
	result "$name heal line $d ms after the cut ($((heal_s * 1000 - 100))-3500)" \
		"$(num "$d" && [ "$d" -ge $((heal_s * 1000 - 100)) ] && [ "$d" -le 3500 ]; echo $?)"
	nport=$(grep -Eo "$est_re" "$cli_log" | tail -1 | sed -E 's/.*:([0-9]+): .*/\1/')
	result "$name new connection established after the heal, on a new port ($cport -> $nport)" \
		"$(num "$t_new" && num "$cport" && num "$nport" && [ "$nport" != "$cport" ]; echo $?)"
	rec=$(python3 "$probe" recovery "$plog" --since "$t_drop" --wait 5)
	result "$name echoes resume ($rec ms after the cut)" "$(num "$rec"; echo $?)"
	sleep 1
	t_end=$(($(now) - 300000000))
	w=$(python3 "$probe" window "$plog" --from $((t_drop - 500000000)) --to "$t_end")
	gap=$(echo "$w" | sed -E 's/.*longest-gap-ms ([0-9]+).*/\1/')
	lost=$(echo "$w" | sed -E 's/.* lost ([0-9]+) .*/\1/')
	alt=$(echo "$w" | sed -E 's/.* altered ([0-9]+) .*/\1/')
	echo "# probe from 0.5 s before the cut: $w"
	figures+=("$name: heal line after $d ms, outage $gap ms, lost $lost")
	result "$name outage $gap ms (< $max_outage), lost $lost, nothing altered" \
		"$(num "$rec" && num "$gap" && [ "$gap" -lt "$max_outage" ] && [ "$alt" = 0 ]; echo $?)"
	dropped=$(r nft list chain inet cut forward | grep -o 'packets [0-9]*' | head -1 | cut -d' ' -f2)
	heals=$(count "$cli_log" "$heal_re")
	result "$name the cut dropped ${dropped:-0} segments of the old connection only; one heal line ($heals)" \
		"$(num "$dropped" && [ "$dropped" -gt 0 ] && [ "$heals" = 1 ]; echo $?)"
	cli_status | grep -o 'reconnects after silence [0-9]*' | sed 's/^/# client status: /'
	result "$name both daemons alive" "$(alive; echo $?)"

	stop "$probe_pid"
	stop "$cli_pid"
	server_stop "$kind"
	r nft flush chain inet cut forward
}

# ---- no flap: a one-way stream that nobody answers ----
oneway_case() { # KIND NAME
	local kind=$1 name=$2 before got heals est liveness segs_in
	echo "# $name"
	server_start "$kind" 1240
	client_start "$kind-oneway"
	before=$(wc -l <"$tmp/sink.log")
	c python3 -c '
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
	result "$name the sink got $got of 600 datagrams" "$([ "$got" -ge 594 ]; echo $?)"
	result "$name no heal line ($heals) and exactly one connection established ($est)" \
		"$([ "$heals" = 0 ] && [ "$est" = 1 ]; echo $?)"
	# What the client heard: from phantun_server only its SYN|ACK (so the
	# stream did exercise the rule), from fauxtcp-server its liveness ACKs.
	segs_in=$(cli_status | grep -o '^segments: in [0-9]*' | grep -o '[0-9]*$')
	if [ "$kind" = phantun ]; then
		result "$name the server said nothing after its SYN|ACK (segments in: ${segs_in:-?})" \
			"$(num "$segs_in" && [ "$segs_in" -le 1 ]; echo $?)"
	else
		liveness=$(s "$server" status -l 4567 | grep -o 'liveness ACKs [0-9]*' | grep -o '[0-9]*$')
		# at least one a second for 12 s, less the first (data then)
		result "$name the server sent liveness ACKs (${liveness:-none}; client segments in: ${segs_in:-?})" \
			"$(num "$liveness" && [ "$liveness" -ge 10 ]; echo $?)"
	fi
	figures+=("$name: $got of 600 delivered, $heals heal lines, $est connections")
	result "$name both daemons alive" "$(alive; echo $?)"
	stop "$cli_pid"
	server_stop "$kind"
}

heal_case tun "[heal, fauxtcp-server TUN]"
heal_case raw "[heal, fauxtcp-server raw]"
heal_case phantun "[heal, phantun_server]"
oneway_case phantun "[one-way, phantun_server]"
oneway_case tun "[one-way, fauxtcp-server TUN]"

echo "# figures (heal-timeout $heal_s s, a probe every 10 ms):"
printf '#   %s\n' "${figures[@]}"
if [ "$fail" -ne 0 ]; then
	echo "# logs:"
	for f in "$tmp"/*-server-*.log "$tmp"/*-client-*.log; do
		echo "# ==> ${f##*/}"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
fi
echo "$pass passed, $fail failed ($(($(date +%s) - t_start)) s)"
[ "$fail" -eq 0 ]
