#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fauxtcp benchmark, in network namespaces this script creates and always
# deletes. Run as root:
#
#   tests/bench/bench.sh            full run: 5 s per measurement, median of 3
#   tests/bench/bench.sh --short    CI: 1 s, once, 1400x1 and 1200x4 loads, UDP_SEGMENT
#                                   at full speed, 64-byte pings, scaling in raw mode only
#                                   (well under a minute)
#   options: --secs S  --reps N  --flood-secs S  --flood-dirs "up down"  --rate R  --peers "1 100 ..."
#            --perf    also profile both daemons (perf record) in a 1400-byte run each way
#            --only "direct tun raw scaling wg"   run only these parts
#            --server-args "ARGS"   more fauxtcp-server flags (e.g. --no-conntrack-ack)
#            --client-args "ARGS"   more fauxtcp-client flags (e.g. --busy-poll 0)
#            --keep DIR   keep the daemons' logs and the raw results in DIR
#            --loads "1400x1 1400x4@500M ..."  (SIZExSTREAMS[@RATE])  --msgs "64 1400"
#            --wg-loads "1 4 1R 4R"   WireGuard TCP streams (R: server -> client)
#            --gso "44 44@50000 ..."  UDP_SEGMENT rows: BURST[@DATAGRAMS_PER_S] ('' for none)
#
#   client host (C)           router (R)                       server host (S)
#   c0 198.51.100.2/24 --- r0 198.51.100.1  r1 203.0.113.1 --- s0 203.0.113.2/24
#   iperf / sockperf /     masquerade out r1; conntrack       iperf -s -u / sockperf sr /
#   udpgen.py clients      sysctls: the kernel's defaults     udpsink.py on *:5001
#   fauxtcp-client         (nf_conntrack_tcp_be_liberal=0)    fauxtcp-server -l 4567
#    -l 127.0.0.1:4000     veth MTU 1500                       -r 127.0.0.1:5001
#    -r 203.0.113.2:4567                                       (TUN mode or raw mode on s0)
#
# Rows of the tables (report.py prints them at the end):
#   direct    the load from the client host to 203.0.113.2:5001, through the router
#   tun, raw  the same load into fauxtcp-client's 127.0.0.1:4000, the server in
#             TUN or raw mode
# Measurements:
# - throughput: iperf2 UDP at -b 10G, 1400 and 1200-byte datagrams, 1 and 4
#   streams (4 streams = 4 source ports = 4 fake-TCP connections), and one
#   paced row, 1400 bytes at 300 Mbit/s, below what any path here carries
#   (CPU per datagram without the sender's waste on what overflows); goodput,
#   datagrams/s and loss from the iperf server's report (from the kernel's
#   UDP counters when the report never came, marked *); CPU per 1,000
#   datagrams delivered for each daemon (utime+stime, /proc/PID/stat) and the
#   whole host (busy time of all cores, /proc/stat); each daemon's VmHWM.
# - a batching sender (WireGuard-go, QUIC stacks): gsosend.py, 1400-byte
#   datagrams, bursts of 44 per sendto() with UDP_SEGMENT, at full speed and
#   paced at 20,000 datagrams/s (224 Mbit/s, below what any path here
#   carries: CPU per datagram without the waste on what overflows);
#   delivered: the server host's UDP InDatagrams (the sink is iperf -s,
#   which reads whatever comes); the same CPU figures.
# - latency: sockperf ping-pong, 64 and 1400 bytes, p50/p99 round trip.
# - one-way flood, up (client -> server) and down (server -> client, iperf -R),
#   direct and through the tunnel: nothing ever comes back, so only what
#   fauxtcp sends by itself tells the router's conntrack the window
#   (phantun's wire stalls up after ~94 datagrams: conntrack holds the
#   client to the SYN|ACK's unscaled 64 KiB); datagrams sent vs delivered,
#   second by second, against direct's mean in the same direction.
# - WireGuard (wg): wireguard-go on both hosts (inner 2001:db8:14::1 and ::2,
#   MTU 1428 in every row: 1500 - IPv4 20 - TCP 20 - WireGuard 32, so that
#   rows differ only by the path), iperf2 TCP inside it, client->server and
#   server->client (-R: the client host opens every connection), 1 and 4
#   streams; rows: udp (WireGuard straight to 203.0.113.2:51820 through the
#   router, plain UDP), wg-tun, wg-raw (its endpoint fauxtcp-client's
#   127.0.0.1:4000, fauxtcp-server -r 127.0.0.1:51820), all in the same run,
#   each repetition cycling through the three; CPU per GB delivered for
#   fauxtcp (client + server), wireguard-go (both) and the host.
# - connection scaling: 1, 100, 1000, 10000 UDP peers (udpgen.py, fixed
#   total rate; udpsink.py answers each peer now and then, as a real
#   protocol would); CPU per datagram and RSS of the daemons as their
#   tables grow.
#
# Exit status: non-zero only if something did not work (a measurement gave
# no result, a daemon died, connections were not opened, a one-way load
# stalled), never because of a timing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${FAUXTCP_BUILD:-$here/../../build}

secs=5 reps=3 flood_secs=10 rate=20000 peers="1 100 1000 10000" perf=0
loads_list="1400x1 1400x4 1200x1 1200x4 1400x1@300M" msgs="64 1400" scale_modes="tun raw"
only="direct tun raw scaling wg" server_args='' client_args='' keep='' wg_secs=5 wg_loads="1 4 1R 4R"
gso_loads="44 44@20000" flood_dirs="up down"
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "$1"; }
while [ $# -gt 0 ]; do
	case $1 in
	--short) # every part, fewer variants: well under a minute
		secs=1 reps=1 flood_secs=2 loads_list="1400x1 1200x4" msgs=64 scale_modes=raw
		wg_secs=2 wg_loads="1 1R" gso_loads=44 ;;
	--secs) secs=$2; shift ;;
	--reps) reps=$2; shift ;;
	--flood-secs) flood_secs=$2; shift ;;
	--flood-dirs) flood_dirs=$2; shift ;;
	--wg-loads) wg_loads=$2; shift ;;
	--rate) rate=$2; shift ;;
	--peers) peers=$2; shift ;;
	--perf) perf=1 ;;
	--only) only=$2; shift ;;
	--server-args) server_args=$2; shift ;;
	--client-args) client_args=$2; shift ;;
	--keep) keep=$2; shift ;;
	--loads) loads_list=$2; shift ;;
	--msgs) msgs=$2; shift ;;
	--gso) gso_loads=$2; shift ;;
	-h | --help) usage 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root (it creates network namespaces)" >&2; exit 2; }
for t in iperf sockperf python3 nft setpriv ss; do
	command -v $t >/dev/null || { echo "bench.sh: $t missing (apt-get install iperf sockperf)" >&2; exit 2; }
done
if [[ " $only " == *" wg "* ]]; then
	for t in wireguard-go wg ping; do
		command -v $t >/dev/null || { echo "bench.sh: $t missing (scripts/setup installs it)" >&2; exit 2; }
	done
fi

C=fb-c-$$ R=fb-r-$$ S=fb-s-$$
tmp=$(mktemp -d)
chmod 755 "$tmp" # the client runs as uid 65534 and executes its copy from here
# Copies: a rebuild of build/ during the run does not change what is measured.
cp "$build/fauxtcp-client" "$build/fauxtcp-server" "$tmp/" || exit 2
client=$tmp/fauxtcp-client server=$tmp/fauxtcp-server
pids=() failures=0 t_start=$(date +%s)
tick_ms=$((1000 / $(getconf CLK_TCK)))

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	for p in "$C" "$R" "$S"; do ip netns del "$p" 2>/dev/null; done
	[ -n "$keep" ] && mkdir -p "$keep" && cp "$tmp"/*.log "$tmp"/*.tsv "$tmp"/perf-*.data "$keep/" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

c() { ip netns exec "$C" "$@"; }
r() { ip netns exec "$R" "$@"; }
s() { ip netns exec "$S" "$@"; }
say() { echo "# [$(($(date +%s) - t_start))s] $*" >&2; }
fail() { echo "FAIL $*" >&2; failures=$((failures + 1)); }

# ---- topology ----
for n in "$C" "$R" "$S"; do
	ip netns add "$n"
	ip -n "$n" link set lo up
done
ip -n "$C" link add c0 mtu 1500 type veth peer name r0 mtu 1500 netns "$R"
ip -n "$S" link add s0 mtu 1500 type veth peer name r1 mtu 1500 netns "$R"
ip -n "$C" addr add 198.51.100.2/24 dev c0
ip -n "$R" addr add 198.51.100.1/24 dev r0
ip -n "$R" addr add 203.0.113.1/24 dev r1
ip -n "$S" addr add 203.0.113.2/24 dev s0
for l in "$C c0" "$R r0" "$R r1" "$S s0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$C" route add default via 198.51.100.1
ip -n "$S" route add default via 203.0.113.1
r sysctl -q -w net.ipv4.ip_forward=1
# TUN mode: DNAT into the TUN is forwarding (the server checks both families)
s sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Masquerade only; conntrack's sysctls stay the kernel's defaults. A packet
# conntrack finds invalid is not NATed and would leave with the client's
# LAN address: "leaked" counts and drops those, as the Internet would (here
# the server host could route back to the client's LAN).
r nft -f - <<'NFT'
table ip nat {
	chain postrouting { type nat hook postrouting priority srcnat; oifname "r1" masquerade; }
}
table ip internet {
	chain leaked {
		type filter hook postrouting priority srcnat + 1;
		oifname "r1" ip saddr 198.51.100.0/24 counter drop
	}
}
NFT
# 10,000 connections: a guard socket each on the client, a UDP socket each
# on the server, and 10,000 sockets in the load generator.
ulimit -Hn 65536 2>/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---- helpers: /proc readings ----
proc_ticks() { # PID: utime+stime of the process (all threads), in clock ticks
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo -; return; }
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
host_ticks() { # busy time of all cores: user nice system irq softirq steal
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
vm() { # PID FIELD: VmHWM or VmRSS in kB
	[ -n "$1" ] && [ -r "/proc/$1/status" ] || { echo -; return; }
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}
per_k() { # TICKS_BEFORE TICKS_AFTER DATAGRAMS: CPU ms per 1,000 datagrams
	[ "$1" = - ] || [ "$2" = - ] || [ "${3:-0}" = 0 ] && { echo -; return; }
	awk -v a="$1" -v b="$2" -v n="$3" -v t="$tick_ms" 'BEGIN { printf "%.3f", (b - a) * t / (n / 1000) }'
}
udp_counter() { # NS NAME: a namespace's UDP counter (InDatagrams, OutDatagrams)
	ip netns exec "$1" awk -v f="$2" '$1 == "Udp:" {
		if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 } else print $col[f] }' /proc/net/snmp
}
ct_invalid() { # the router's conntrack "invalid" count, summed over CPUs (hex)
	r cat /proc/net/stat/nf_conntrack 2>/dev/null | {
		local head row i col=-1 sum=0
		read -r -a head || { echo 0; return; }
		for i in "${!head[@]}"; do [ "${head[$i]}" = invalid ] && col=$i; done
		[ "$col" -ge 0 ] || { echo 0; return; }
		while read -r -a row; do sum=$((sum + 16#${row[$col]})); done
		echo "$sum"
	}
}
leaked() { r nft list chain ip internet leaked | grep -o 'packets [0-9]*' | grep -o '[0-9]*'; }
wait_udp() { # NS PORT: until something listens there (at most 3 s)
	local i
	for i in $(seq 60); do
		ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
wait_for() { # SECS CMD...: until CMD succeeds
	local i
	for i in $(seq $(($1 * 20))); do
		"${@:2}" && return 0
		sleep 0.05
	done
	return 1
}
stop() { # PID...: SIGTERM, up to 3 s, then SIGKILL; forgotten once reaped
	local p q i keep
	kill -TERM "$@" 2>/dev/null
	for p in "$@"; do
		for i in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		{ kill -KILL "$p"; wait "$p"; } 2>/dev/null
		keep=()
		for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
		pids=("${keep[@]}")
	done
	return 0
}
kill_now() { # PID...: SIGKILL (servers whose output is already read)
	{ kill -KILL "$@"; stop "$@"; } 2>/dev/null # (and no "Killed" notice)
}
lines_ge() { [ "$(wc -l <"$1")" -ge "$2" ]; } # FILE N
spawn() { # NS CMD...: start CMD in NS in the background; its pid in $spawned
	ip netns exec "$@" &
	spawned=$!
	pids+=("$spawned")
}

# ---- the daemons ----
client_pid='' server_pid='' remote_port=5001
start_daemons() { # MODE LOGNAME [SERVER ARGS...]: server, then client; fails if one did not start
	local mode=$1 log=$2 ok=0
	shift 2
	[ "$mode" = raw ] && set -- --mode raw --iface s0 "$@"
	# shellcheck disable=SC2086 # --server-args: split into flags
	spawn "$S" "$server" -l 4567 -r "127.0.0.1:$remote_port" "$@" $server_args 2>"$tmp/$log-server.log"
	server_pid=$spawned
	# ready: its log says so (at most 3 s), and it is still running
	wait_for 3 grep -q 'accepting fake TCP' "$tmp/$log-server.log"
	kill -0 "$server_pid" 2>/dev/null ||
		{ fail "[$log] fauxtcp-server did not start: $(tail -3 "$tmp/$log-server.log")"; ok=1; }
	# as deployed: an ordinary user holding CAP_NET_RAW only
	# shellcheck disable=SC2086 # --client-args: split into flags
	spawn "$C" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_raw --ambient-caps=+net_raw --bounding-set=-all,+net_raw \
		"$client" -l 127.0.0.1:4000 -r 203.0.113.2:4567 $client_args 2>"$tmp/$log-client.log"
	client_pid=$spawned
	wait_udp "$C" 4000 && kill -0 "$client_pid" 2>/dev/null ||
		{ fail "[$log] fauxtcp-client did not start: $(tail -3 "$tmp/$log-client.log")"; ok=1; }
	[ "$ok" = 0 ] || stop "$client_pid" "$server_pid"
	return "$ok"
}
stop_daemons() { # LOGNAME
	kill -0 "$server_pid" 2>/dev/null || fail "[$1] fauxtcp-server died: $(tail -3 "$tmp/$1-server.log")"
	kill -0 "$client_pid" 2>/dev/null || fail "[$1] fauxtcp-client died: $(tail -3 "$tmp/$1-client.log")"
	stop "$client_pid" "$server_pid"
	client_pid='' server_pid=''
}
conns() { # LOG: connections open, from the daemon's log (established - closed; info level)
	echo $(($(grep -c 'connection established' "$1") - $(grep -c 'connection closed' "$1")))
}

# ---- measurements ----
# One iperf2 UDP run from the client host to HOST:PORT; a fresh iperf
# server on the server host's *:5001 (the direct target and the daemons'
# remote). LABEL names the row.
load() { # LABEL HOST PORT SIZE STREAMS RATE REP
	local label=$1 host=$2 port=$3 size=$4 streams=$5 bw=$6 rep=$7 what=$4x$5@$6
	local srv c0 s0 h0 c1 s1 h1 in0 in1 out0 out1 res src=iperf
	spawn "$S" iperf -s -u -p 5001 -y C >"$tmp/iperf.csv" 2>/dev/null
	srv=$spawned
	wait_udp "$S" 5001 || fail "[$label] iperf server not listening"
	in0=$(udp_counter "$S" InDatagrams) out0=$(udp_counter "$C" OutDatagrams)
	c0=$(proc_ticks "$client_pid") s0=$(proc_ticks "$server_pid") h0=$(host_ticks)
	c timeout -k 2 $((secs + 20)) iperf -c "$host" -p "$port" -u -b "$bw" -l "$size" -t "$secs" -P "$streams" \
		>"$tmp/iperf-client.txt" 2>&1
	c1=$(proc_ticks "$client_pid") s1=$(proc_ticks "$server_pid") h1=$(host_ticks)
	in1=$(udp_counter "$S" InDatagrams) out1=$(udp_counter "$C" OutDatagrams)
	wait_for 1 lines_ge "$tmp/iperf.csv" "$streams"
	kill_now "$srv"
	# iperf's CSV, a line per stream: ... bytes(8) bits/s(9) jitter lost(11) total(12) ...
	res=$(awk -F, 'NF >= 12 && $6 >= 0 {
			n++; mbps += $9 / 1e6; lost += $11; total += $12; got[n] = $12 - $11; dg += got[n]
			if ($8 > 0) dgps += got[n] * $9 / ($8 * 8)
			if (got[n] > most) most = got[n] }
		END { for (i = 1; i <= n; i++) if (got[i] < 1000 && (n == 1 || got[i] < most / 10)) stalled++
		      printf "%d %.1f %.0f %.2f %d %d\n", n, mbps, dgps, total ? 100 * lost / total : 0, dg, stalled }' \
		"$tmp/iperf.csv")
	local n mbps dgps loss dg stalled
	read -r n mbps dgps loss dg stalled <<<"$res"
	if [ "$n" != "$streams" ]; then
		# No report from the iperf server (the end of the run never came
		# through): the server host's UDP stack counted what was delivered.
		src=kernel dg=$((in1 - in0))
		read -r mbps dgps loss < <(awk -v d="$dg" -v o="$((out1 - out0))" -v l="$size" -v t="$secs" \
			'BEGIN { printf "%.1f %.0f %.2f\n", d * l * 8 / t / 1e6, d / t, o ? 100 * (o - d) / o : 0 }')
	fi
	# At these rates, for a second or more, a working stream delivers tens
	# of thousands: fewer than 1000 (and, among 4, a tenth of the best) is a
	# stall (a one-way load through the router's conntrack, see flood()).
	[ "$src" = kernel ] && [ "$dg" -lt 1000 ] && stalled=$streams
	[ "$stalled" = 0 ] || fail "[$label $what #$rep] $stalled of $streams streams stalled: $dg datagrams delivered ($src)"
	[ "$dg" -gt 0 ] || return
	local cms sms hms
	cms=$(per_k "$c0" "$c1" "$dg") sms=$(per_k "$s0" "$s1" "$dg") hms=$(per_k "$h0" "$h1" "$dg")
	echo "$label $size $streams $bw $rep $mbps $dgps $loss $dg $cms $sms $hms $(vm "$client_pid" VmHWM)" \
		"$(vm "$server_pid" VmHWM) $src $stalled" >>"$tmp/load.tsv"
	say "$label $what #$rep: $mbps Mbit/s, $dgps dgram/s, loss $loss% ($src);" \
		"CPU ms/1000 dgrams: client $cms, server $sms, host $hms"
}

latency() { # LABEL HOST PORT MSG REP
	local label=$1 host=$2 port=$3 msg=$4 rep=$5 srv p50 p99
	spawn "$S" sockperf sr -i 0.0.0.0 -p 5001 >/dev/null 2>&1
	srv=$spawned
	wait_udp "$S" 5001 || fail "[$label] sockperf server not listening"
	# (sockperf leaves the first 400 ms out of its statistics: the tunnel's
	# handshake is not measured; its 2 s warm-up stage is not needed.)
	c timeout -k 2 $((secs + 20)) sockperf pp -i "$host" -p "$port" -m "$msg" -t "$secs" --full-rtt --dontwarmup \
		>"$tmp/sockperf.txt" 2>&1
	kill_now "$srv"
	p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' "$tmp/sockperf.txt")
	p99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' "$tmp/sockperf.txt")
	if [ -z "$p50" ] || [ -z "$p99" ]; then
		fail "[$label ping-pong $msg #$rep] no result: $(grep -v '^sockperf: \[' "$tmp/sockperf.txt" | tail -2 | tr '\n' ' ')"
		return
	fi
	echo "$label $msg $rep $p50 $p99" >>"$tmp/lat.tsv"
	say "$label ping-pong $msg bytes #$rep: round trip p50 $p50 us, p99 $p99 us"
}

loads() { # LABEL HOST PORT REP
	local l
	for l in $loads_list; do
		[[ $l == *@* ]] || l=$l@10G
		l=${l/x/ } l=${l/@/ }
		load "$1" "$2" "$3" $l "$4"
	done
}
# One UDP_SEGMENT sender run from the client host to HOST:PORT (its own
# source port: a connection of its own through the tunnel); a fresh sink
# on the server host's *:5001. Counts are the kernel's: gsosend.py's sends
# are bursts, which iperf's per-datagram report would not understand.
gso_load() { # LABEL HOST PORT BURST[@RATE] REP
	local label=$1 host=$2 port=$3 burst=${4%@*} rate=0 rep=$5 srv c0 s0 h0 c1 s1 h1 in0 in1 sent dg
	[[ $4 == *@* ]] && rate=${4#*@}
	spawn "$S" iperf -s -u -p 5001 >/dev/null 2>&1
	srv=$spawned
	wait_udp "$S" 5001 || fail "[$label gso] sink not listening"
	in0=$(udp_counter "$S" InDatagrams)
	c0=$(proc_ticks "$client_pid") s0=$(proc_ticks "$server_pid") h0=$(host_ticks)
	c timeout -k 2 $((secs + 20)) python3 "$here/gsosend.py" --to "$host:$port" --secs "$secs" \
		--burst "$burst" --rate "$rate" >"$tmp/gso.txt" 2>&1
	sleep 0.1 # what is still queued on the way is delivered, and its CPU counted
	c1=$(proc_ticks "$client_pid") s1=$(proc_ticks "$server_pid") h1=$(host_ticks)
	in1=$(udp_counter "$S" InDatagrams)
	kill_now "$srv"
	sent=$(awk '$1 == "sent" { print $2 }' "$tmp/gso.txt") dg=$((in1 - in0))
	[ -n "$sent" ] || { fail "[$label gso $4 #$rep] no result: $(tail -2 "$tmp/gso.txt" | tr '\n' ' ')"; return; }
	[ "$dg" -ge 1000 ] || { fail "[$label gso $4 #$rep] stalled: $dg of $sent datagrams delivered"; return; }
	local mbps dgps loss cms sms hms
	read -r mbps dgps loss < <(awk -v d="$dg" -v o="$sent" -v t="$secs" \
		'BEGIN { printf "%.1f %.0f %.2f\n", d * 1400 * 8 / t / 1e6, d / t, o ? 100 * (o - d) / o : 0 }')
	cms=$(per_k "$c0" "$c1" "$dg") sms=$(per_k "$s0" "$s1" "$dg") hms=$(per_k "$h0" "$h1" "$dg")
	echo "$label $burst $rate $rep $sent $dg $mbps $dgps $loss $cms $sms $hms" >>"$tmp/gso.tsv"
	local what="bursts of $burst x 1400 bytes"
	[ "$rate" = 0 ] || what="$what at $rate/s"
	say "$label UDP_SEGMENT, $what #$rep: $mbps Mbit/s, $dgps dgram/s, loss $loss% (sent $sent);" \
		"CPU ms/1000 dgrams: client $cms, server $sms, host $hms"
}
gsos() { # LABEL HOST PORT REP
	local l
	for l in $gso_loads; do gso_load "$1" "$2" "$3" "$l" "$4"; done
}

pings() { # LABEL HOST PORT REP
	local msg
	for msg in $msgs; do latency "$1" "$2" "$3" "$msg" "$4"; done
}

# One stream, one way (DIR up: client host -> server host; down: the
# reverse, iperf -R, the client host opening the flow): the receiver sends
# nothing back, so the router's conntrack learns the receiving end's window
# only from what fauxtcp sends by itself. Delivered: the receiving host's
# UDP InDatagrams, read every second; it must not stop in any second.
# MODE direct is the same flood straight to 203.0.113.2:5001, the baseline.
flood() { # MODE DIR REP
	local mode=$1 dir=$2 rep=$3 srv cli sent in0 prev now per='' last=0 inv0 leak0 i
	local to=(127.0.0.1 4000) rx=$S tx=$C rev=()
	[ "$mode" = direct ] && to=(203.0.113.2 5001)
	[ "$dir" = down ] && rx=$C tx=$S rev=(-R)
	spawn "$S" iperf -s -u -p 5001 >/dev/null 2>&1
	srv=$spawned
	wait_udp "$S" 5001 || fail "[$mode] iperf server not listening"
	inv0=$(ct_invalid) leak0=$(leaked) in0=$(udp_counter "$rx" InDatagrams) sent=$(udp_counter "$tx" OutDatagrams)
	prev=$in0
	spawn "$C" iperf -c "${to[0]}" -p "${to[1]}" -u -b 10G -l 1400 -t $((flood_secs + 2)) "${rev[@]}" >/dev/null 2>&1
	cli=$spawned
	for i in $(seq "$flood_secs"); do
		sleep 1
		now=$(udp_counter "$rx" InDatagrams)
		last=$((now - prev)) prev=$now per=$per${per:+,}$last
	done
	stop "$cli"
	sent=$(($(udp_counter "$tx" OutDatagrams) - sent))
	kill_now "$srv"
	local got=$((prev - in0)) inv=$(($(ct_invalid) - inv0)) leak=$(($(leaked) - leak0))
	echo "$mode $dir $rep $flood_secs $sent $got $last $per $inv $leak" >>"$tmp/flood.tsv"
	say "$mode one-way flood $dir #$rep, ${flood_secs} s: sent $sent, delivered $got ($last in the last second);" \
		"router: conntrack invalid +$inv, left un-NATed +$leak"
	# keeps flowing: something delivered in every second of it (iperf runs
	# 2 s longer than measured: a reverse sender starts late, after its
	# client has reached it)
	[[ ",$per," != *,0,* ]] ||
		fail "[$mode $dir #$rep] the one-way flood stalled: delivered $got of $sent; per second: $per"
}
floods() { # MODE REP
	local dir
	for dir in $flood_dirs; do flood "$1" "$dir" "$2"; done
}

# Peers are udpgen.py's source ports 20000..20000+N-1, so each step's set
# contains the previous one: the daemons' tables grow to exactly N. Each
# step's datagrams carry their own tag, which the sink counts.
scaling() { # MODE
	local mode=$1 sink n i tag k=0 cc=0 sc=0 c0 s0 c1 s1 sent row rows=() log=scale-$1
	local tags=(A B C D E F G H I J K L M N O P)
	start_daemons "$mode" "$log" --max-conns 10000 || return
	spawn "$S" python3 "$here/udpsink.py" 0.0.0.0 5001 --ack-every 64 >"$tmp/sink.txt"
	sink=$spawned
	wait_udp "$S" 5001 || fail "[$mode scaling] sink not listening"
	for n in $peers; do
		tag=${tags[$k]} k=$((k + 1))
		# Warm-up: a datagram from each peer opens its connection. Opening
		# is slower than sending (a guard socket each): whatever overflowed
		# the client's UDP socket is sent again in the next round.
		for _ in 1 2 3 4 5; do
			c timeout -k 2 60 python3 "$here/udpgen.py" --to 127.0.0.1:4000 --peers "$n" \
				--rate $((rate < 5000 ? rate : 5000)) --count "$n" --tag W >/dev/null
			for i in $(seq 40); do
				cc=$(conns "$tmp/$log-client.log") sc=$(conns "$tmp/$log-server.log")
				[ "$cc" -ge "$n" ] && [ "$sc" -ge "$n" ] && break 2
				sleep 0.05
			done
		done
		c0=$(proc_ticks "$client_pid") s0=$(proc_ticks "$server_pid")
		c timeout -k 2 $((secs + 60)) python3 "$here/udpgen.py" --to 127.0.0.1:4000 --peers "$n" \
			--rate "$rate" --secs "$secs" --tag "$tag" >"$tmp/gen.txt"
		sleep 0.2
		c1=$(proc_ticks "$client_pid") s1=$(proc_ticks "$server_pid")
		sent=$(awk '{ print $2 }' "$tmp/gen.txt")
		rows+=("$n ${sent:-0} $tag $cc $sc $c0 $c1 $s0 $s1 $(vm "$client_pid" VmRSS) $(vm "$client_pid" VmHWM)
			$(vm "$server_pid" VmRSS) $(vm "$server_pid" VmHWM)")
		[ "$cc" -ge "$n" ] && [ "$sc" -ge "$n" ] || fail "[$mode, $n peers] only $cc/$sc of $n connections opened"
	done
	stop "$sink"
	stop_daemons "$log"
	for row in "${rows[@]}"; do
		set -- $row
		local got
		got=$(grep -o "\b$3 [0-9]*" "$tmp/sink.txt" | grep -o '[0-9]*$' || echo 0)
		echo "$mode $1 $2 $got $4 $5 $(per_k "$6" "$7" "$got") $(per_k "$8" "$9" "$got") ${10} ${11} ${12} ${13}" \
			>>"$tmp/scale.tsv"
		say "$mode, $1 peers: connections $4 (client) $5 (server), sent $2, delivered $got," \
			"CPU ms/1000 datagrams: client $(per_k "$6" "$7" "$got"), server $(per_k "$8" "$9" "$got")"
		[ "$got" -gt 0 ] && [ "$got" -ge $(($2 / 2)) ] || fail "[$mode, $1 peers] delivered $got of $2"
	done
}

# perf on both daemons during one more 1400-byte single-stream run, DIR up
# (client -> server) or down (server -> client, iperf -R).
profile() { # MODE DIR
	command -v perf >/dev/null || { say "perf missing (apt-get install linux-perf): no profile"; return; }
	local srv cli rev=() data=$tmp/perf-$1-$2.data
	[ "$2" = down ] && rev=(-R)
	spawn "$S" iperf -s -u -p 5001 >/dev/null 2>&1
	srv=$spawned
	wait_udp "$S" 5001
	spawn "$C" iperf -c 127.0.0.1 -p 4000 -u -b 10G -l 1400 -t $((secs + 1)) "${rev[@]}" >/dev/null 2>&1
	cli=$spawned
	sleep 0.5
	perf record -q -g -o "$data" -p "$client_pid,$server_pid" -- sleep "$secs" >/dev/null 2>&1
	wait "$cli" 2>/dev/null
	stop "$cli" "$srv"
	echo "perf (cpu-clock samples), server in $1 mode, $2, 1400-byte single stream at -b 10G, $secs s"
	echo "-- share of samples by process and where (user: [.], kernel: [k])"
	perf report -i "$data" --stdio --no-children --sort comm,dso -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -8
	echo "-- system calls, inclusive (their kernel work included)"
	perf report -i "$data" --stdio --children --sort comm,sym -g none 2>/dev/null |
		grep -E '\[k\] ((__x64_sys_|__sys_)[a-z]|do_writev)' | head -10
	echo "-- top functions, self time"
	perf report -i "$data" --stdio --no-children --sort comm,dso,sym -g none --percent-limit 0.8 \
		2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
	echo
}

# ---- WireGuard through the tunnel ----
wgc=fbwc$$ wgs=fbws$$ wgc_pid='' wgs_pid=''
wgc=${wgc:0:15} wgs=${wgs:0:15}
wg_start() { # wireguard-go on both hosts, keys, addresses; fails if one did not come up
	local ns ifn k
	export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
	for k in c s; do
		(umask 077; wg genkey >"$tmp/wg-$k.key") && wg pubkey <"$tmp/wg-$k.key" >"$tmp/wg-$k.pub" || return 1
	done
	for k in c s; do
		if [ $k = c ]; then ns=$C ifn=$wgc; else ns=$S ifn=$wgs; fi
		rm -f "/var/run/wireguard/$ifn.sock"
		spawn "$ns" wireguard-go -f "$ifn" >"$tmp/wg-$k.log" 2>&1
		if [ $k = c ]; then wgc_pid=$spawned; else wgs_pid=$spawned; fi
		wait_for 5 test -S "/var/run/wireguard/$ifn.sock" || return 1
		ip -n "$ns" addr add "2001:db8:14::$([ $k = c ] && echo 1 || echo 2)/64" dev "$ifn" nodad
		ip -n "$ns" link set "$ifn" mtu 1428 up || return 1
	done
	s wg set "$wgs" listen-port 51820 private-key "$tmp/wg-s.key" \
		peer "$(cat "$tmp/wg-c.pub")" allowed-ips 2001:db8:14::1/128 &&
		c wg set "$wgc" private-key "$tmp/wg-c.key" peer "$(cat "$tmp/wg-s.pub")" \
			allowed-ips 2001:db8:14::2/128 persistent-keepalive 25
}
wg_path() { # udp | wg-tun | wg-raw: where the office peer sends; until a handshake and a ping pass
	local ep=127.0.0.1:4000
	[ "$1" = udp ] && ep=203.0.113.2:51820
	c wg set "$wgc" peer "$(cat "$tmp/wg-s.pub")" endpoint "$ep"
	wait_for 10 c ping -6 -c 1 -W 1 2001:db8:14::2 >/dev/null 2>&1
}
tcp_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; } # NS PORT
wg_ticks() { # fauxtcp (client + server) and wireguard-go (both): "FAUXTCP WG"
	local a b d e
	a=$(proc_ticks "$client_pid") b=$(proc_ticks "$server_pid") d=$(proc_ticks "$wgc_pid") e=$(proc_ticks "$wgs_pid")
	[ "$a" = - ] && a=0
	[ "$b" = - ] && b=0
	echo "$((a + b)) $((d + e))"
}
per_gb() { # TICKS_BEFORE TICKS_AFTER BYTES: CPU s per GB delivered
	[ "${3:-0}" = 0 ] && { echo -; return; }
	awk -v a="$1" -v b="$2" -v n="$3" -v t="$tick_ms" 'BEGIN { printf "%.2f", (b - a) * t / 1000 / (n / 1e9) }'
}
# One iperf2 TCP run inside WireGuard: STREAMS[R] (R: server -> client).
wg_load() { # LABEL LOAD REP
	local label=$1 p=${2%R} dir=up rev=() rep=$3 srv f0 w0 h0 f1 w1 h1 res
	[ "$2" != "$p" ] && dir=down rev=(-R)
	spawn "$S" iperf -s -V -B 2001:db8:14::2 -p 5002 >/dev/null 2>&1
	srv=$spawned
	wait_for 3 tcp_listening "$S" 5002
	read -r f0 w0 < <(wg_ticks)
	h0=$(host_ticks)
	c timeout -k 2 $((wg_secs + 20)) iperf -c 2001:db8:14::2 -V -p 5002 -t "$wg_secs" -P "$p" "${rev[@]}" -y C \
		>"$tmp/wg-iperf.csv" 2>"$tmp/wg-iperf.err"
	read -r f1 w1 < <(wg_ticks)
	h1=$(host_ticks)
	kill_now "$srv"
	# CSV, a line per stream (2.1.8 prints no sum line): ... id(6) bytes(8) bits/s(9)
	res=$(awk -F, 'NF >= 9 && $6 > 0 { b += $8; r += $9 } END { if (r) printf "%.1f %d\n", r / 1e6, b }' "$tmp/wg-iperf.csv")
	local mbps bytes
	read -r mbps bytes <<<"$res"
	if [ -z "$mbps" ] || [ "${bytes:-0}" = 0 ]; then
		fail "[$label $2 #$rep] no TCP result inside WireGuard: $(tail -2 "$tmp/wg-iperf.err" | tr '\n' ' ')"
		return
	fi
	local fg wgg hg
	fg=$(per_gb "$f0" "$f1" "$bytes") wgg=$(per_gb "$w0" "$w1" "$bytes") hg=$(per_gb "$h0" "$h1" "$bytes")
	[ "$label" = udp ] && fg=-
	echo "$label $dir $p $rep $mbps $bytes $fg $wgg $hg" >>"$tmp/wg.tsv"
	say "$label TCP $dir x$p #$rep: $mbps Mbit/s; CPU s/GB: fauxtcp $fg, wireguard-go $wgg, host $hg"
}
wg_part() {
	local rep path l
	wg_start || { fail "[wg] wireguard-go did not start: $(tail -3 "$tmp/wg-c.log" "$tmp/wg-s.log")"; return; }
	for rep in $(seq "$reps"); do
		for path in udp wg-tun wg-raw; do
			if [ "$path" != udp ]; then
				remote_port=51820
				start_daemons "${path#wg-}" "$path" || continue
			fi
			if wg_path "$path"; then
				for l in $wg_loads; do wg_load "$path" "$l" "$rep"; done
			else
				fail "[$path #$rep] no ping through WireGuard"
			fi
			[ "$path" != udp ] && stop_daemons "$path"
			remote_port=5001
		done
	done
	stop "$wgc_pid" "$wgs_pid"
	rm -f "/var/run/wireguard/$wgc.sock" "/var/run/wireguard/$wgs.sock"
}

# ---- the run ----
say "fauxtcp $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?')," \
	"binaries built $(date -u -r "$build/fauxtcp-server" +%FT%TZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "$(nproc) cores, kernel $(uname -r); $secs s per measurement, $reps repetition(s);" \
	"router: nf_conntrack_tcp_be_liberal=$(r sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal), nf_conntrack_max=$(r sysctl -n net.netfilter.nf_conntrack_max)"

part() { [[ " $only " == *" $1 "* ]]; }

part direct && say "== direct: client host -> 203.0.113.2:5001 through the router"
part direct && for rep in $(seq "$reps"); do
	floods direct "$rep"
	loads direct 203.0.113.2 5001 "$rep"
	gsos direct 203.0.113.2 5001 "$rep"
	pings direct 203.0.113.2 5001 "$rep"
done

for mode in tun raw; do
	part "$mode" || continue
	say "== fauxtcp, server in $mode mode: 127.0.0.1:4000 -> 203.0.113.2:4567 -> 127.0.0.1:5001"
	start_daemons "$mode" "$mode" || continue
	for rep in $(seq "$reps"); do
		floods "$mode" "$rep"
		loads "$mode" 127.0.0.1 4000 "$rep"
		gsos "$mode" 127.0.0.1 4000 "$rep"
		pings "$mode" 127.0.0.1 4000 "$rep"
	done
	[ "$perf" = 1 ] && for dir in $flood_dirs; do profile "$mode" "$dir" >>"$tmp/perf.txt"; done
	stop_daemons "$mode"
done

part scaling && say "== connection scaling: $rate datagrams/s of 1400 bytes from $peers peers"
part scaling && for mode in $scale_modes; do scaling "$mode"; done

part wg && say "== WireGuard (wireguard-go) over plain UDP, through fauxtcp TUN and raw: iperf2 TCP inside"
part wg && wg_part

echo
python3 "$here/report.py" "$tmp"
[ -f "$tmp/perf.txt" ] && cat "$tmp/perf.txt"
echo "bench: $(($(date +%s) - t_start)) s, $failures failure(s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failures" -eq 0 ]
