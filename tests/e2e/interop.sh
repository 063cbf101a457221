#!/usr/bin/env bash
# fauxtcp against the real phantun 0.8.1 binaries, both ways, IPv4 and IPv6,
# in namespaces this script creates and always deletes (fxi-*-PID):
#
#   P, phantun_client's host           R, router              S, server host
#   p0 198.51.100.130/25 ------------- r2 198.51.100.129
#      2001:db8:3::2/64                   2001:db8:3::1
#   TUN, ip_forward, masquerade out                          r1 203.0.113.1 ---- s0 203.0.113.2/24
#   of p0 (phantun's README)                                    2001:db8:2::1      2001:db8:2::2/64
#                                      masquerade out of r1
#   C, a hardened host                 (IPv4 and IPv6),       UDP echo 127.0.0.1:1234 (and :1235,
#   c0 198.51.100.2/25 --------------- r0 198.51.100.1        recording); fauxtcp-server (TUN, or
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
repo=$(cd "$here/../.." && pwd)
build=${FAUXTCP_BUILD:-$repo/build}
client=$(realpath "$build/fauxtcp-client" 2>/dev/null)
server=$(realpath "$build/fauxtcp-server" 2>/dev/null)
ph_dir=$(realpath -m "$repo/../shared/phantun")
ph_client=$ph_dir/phantun_client ph_server=$ph_dir/phantun_server
udp=$here/interop_udp.py
probe=$here/udpprobe.py
pairings=${FAUXTCP_INTEROP_PAIRINGS:-tun raw phantun}

die_early() { echo "FAIL $*"; echo "0 passed, 1 failed"; exit 1; }
[ "$(id -u)" = 0 ] || die_early "needs root (network namespaces)"
if [ ! -x "$ph_client" ] || [ ! -x "$ph_server" ]; then # fail, never skip
	die_early "phantun 0.8.1 binaries missing: need $ph_client and $ph_server (check out shared/ beside the repository)"
fi
v=$("$ph_client" --version 2>&1)
[ "$v" = "Phantun Client 0.8.1" ] || die_early "$ph_client is not phantun_client 0.8.1: '$v'"
v=$("$ph_server" --version 2>&1)
[ "$v" = "Phantun Server 0.8.1" ] || die_early "$ph_server is not phantun_server 0.8.1: '$v'"
if [ ! -x "$client" ] || [ ! -x "$server" ]; then die_early "no fauxtcp-client/fauxtcp-server in $build"; fi
for t in ip nft python3 setpriv ss timeout realpath tcpdump; do
	command -v "$t" >/dev/null || die_early "$t is missing"
done

C=fxi-c-$$ P=fxi-p-$$ R=fxi-r-$$ S=fxi-s-$$
tmp=$(mktemp -d /tmp/fxi.$$.XXXXXX)
chmod 755 "$tmp" # the client runs as uid 65534 and reads files from here
pass=0 fail=0 pids=() t_start=$(date +%s)

cleanup() { # (stderr: no "Killed" notices)
	local p n
	trap - EXIT INT TERM
	if [ -n "${FAUXTCP_INTEROP_LOGS:-}" ]; then
		mkdir -p "$FAUXTCP_INTEROP_LOGS" && cp "$tmp"/*.log "$tmp"/*.pcap "$FAUXTCP_INTEROP_LOGS"/
	fi
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "$C" "$P" "$R" "$S"; do
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
p() { ip netns exec "$P" "$@"; }
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
# expect NAME CMD...: CMD's exit status decides; its output shown with "# "
expect() {
	local name=$1 out rc
	shift
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	result "$name" "$rc"
}
bg() { # NS LOG CMD...: sets last_pid
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null &
	last_pid=$!
	pids+=("$last_pid")
}
forget() { # PID: no longer ours to stop at exit
	local keep=() q
	for q in "${pids[@]}"; do [ "$q" = "$1" ] || keep+=("$q"); done
	pids=("${keep[@]}")
}
stop() { # PID SIGNAL: waits (SIGKILL after 5 s), forgets it
	local pid=$1 i
	kill "-$2" "$pid"
	for ((i = 0; i < 250; i++)); do kill -0 "$pid" || break; sleep 0.02; done
	kill -KILL "$pid"
	wait "$pid"
	forget "$pid"
} 2>/dev/null # and no "Killed" notice from the shell
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

# ---- topology ----
for n in "$C" "$P" "$R" "$S"; do
	ip netns add "$n" || die_early "cannot create namespace $n"
	ip -n "$n" link set lo up
	# Fresh links' link-local addresses would stay tentative (DAD).
	ip netns exec "$n" sysctl -q -w net.ipv6.conf.default.accept_dad=0
done
ip -n "$C" link add c0 type veth peer name r0 netns "$R"
ip -n "$P" link add p0 type veth peer name r2 netns "$R"
ip -n "$S" link add s0 type veth peer name r1 netns "$R"
ip -n "$C" addr add 198.51.100.2/25 dev c0
ip -n "$C" addr add 2001:db8:1::2/64 dev c0 nodad
ip -n "$P" addr add 198.51.100.130/25 dev p0
ip -n "$P" addr add 2001:db8:3::2/64 dev p0 nodad
ip -n "$R" addr add 198.51.100.1/25 dev r0
ip -n "$R" addr add 2001:db8:1::1/64 dev r0 nodad
ip -n "$R" addr add 198.51.100.129/25 dev r2
ip -n "$R" addr add 2001:db8:3::1/64 dev r2 nodad
ip -n "$R" addr add 203.0.113.1/24 dev r1
ip -n "$R" addr add 2001:db8:2::1/64 dev r1 nodad
ip -n "$S" addr add 203.0.113.2/24 dev s0
ip -n "$S" addr add 2001:db8:2::2/64 dev s0 nodad
for l in "$C c0" "$P p0" "$R r0" "$R r1" "$R r2" "$S s0"; do
	# shellcheck disable=SC2086
	set -- $l
	ip -n "$1" link set "$2" mtu 1500 up
done
ip -n "$C" route add default via 198.51.100.1
ip -n "$C" -6 route add default via 2001:db8:1::1
ip -n "$P" route add default via 198.51.100.129
ip -n "$P" -6 route add default via 2001:db8:3::1
ip -n "$S" route add default via 203.0.113.1
ip -n "$S" -6 route add default via 2001:db8:2::1
r sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
s sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
p sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
c sysctl -q -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
r nft -f - <<'NFT' || die_early "nft on the router"
table inet nat {
	chain postrouting { type nat hook postrouting priority srcnat; oifname "r1" masquerade; }
}
NFT
# phantun_client's host, as its README asks: forwarding and a masquerade.
p nft -f - <<'NFT' || die_early "nft on the phantun_client host"
table inet phantun_nat {
	chain postrouting { type nat hook postrouting priority srcnat; oifname "p0" masquerade; }
}
NFT
# A hardened office host for fauxtcp-client: nothing comes in unless it answers us.
c nft -f - <<'NFT' || die_early "nft on the hardened host"
table inet hardened {
	chain input {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ct state established,related accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept
	}
	chain forward { type filter hook forward priority 0; policy drop; }
}
NFT
bg "$S" "$tmp/echo.log" python3 "$here/udpecho.py" 127.0.0.1 1234
# and one that records what it gets, for the handshake packets
bg "$S" "$tmp/echo-record.err" python3 "$udp" echo --bind 127.0.0.1:1235 --log "$tmp/echo-record.log"
if ! wait_udp "$S" 1234 || ! wait_udp "$S" 1235; then die_early "the UDP echo did not start"; fi
remote_udp=127.0.0.1:1234 # where the servers relay to
snapshot() { c nft list ruleset; c ip -o link | sed 's/^[0-9]*: //'; c sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding; }
snapshot >"$tmp/hardened.before"

head -c 300 /dev/urandom >"$tmp/cli-hello.bin"
head -c 200 /dev/urandom >"$tmp/srv-hello.bin"
chmod 644 "$tmp"/*.bin

# ---- the daemons ----
nlog=0
newlog() { nlog=$((nlog + 1)); log=$tmp/$nlog-$1.log; }

fserver_start() { # ARGS...: fauxtcp-server on S port 4567; sets srv_pid, srv_log
	newlog "fauxtcp-server-$pairing"
	srv_log=$log
	bg "$S" "$srv_log" "$server" -l 4567 -r "$remote_udp" "$@"
	srv_pid=$last_pid
	wait_log "$srv_log" 'accepting fake TCP' 5 || echo "# fauxtcp-server did not start: $(tail -3 "$srv_log")"
}
pserver_start() { # ARGS...: phantun_server on S port 4567 (DNAT installed below)
	newlog "phantun_server"
	srv_log=$log
	bg "$S" "$srv_log" env RUST_LOG=info "$ph_server" --local 4567 --remote "$remote_udp" "$@"
	srv_pid=$last_pid
	wait_log "$srv_log" 'Listening on 4567' 5 || echo "# phantun_server did not start: $(tail -3 "$srv_log")"
	# its TUN carries fcc9::2 only once the address is assigned
	for _ in $(seq 40); do
		s ip -6 addr show | grep -q 'fcc9::1' && break
		sleep 0.05
	done
}
remote() { if [ "$1" = 4 ]; then echo 203.0.113.2:4567; else echo '[2001:db8:2::2]:4567'; fi; }
# Clients: instance K (1: IPv4, 2: IPv6, 3: IPv4 with a handshake packet,
# 4: IPv6 with one) listens on 127.0.0.1:111K of its host.
pclient_start() { # K FAM [ARGS...]: phantun_client on P; sets cli_pid[K]
	local k=$1 fam=$2
	shift 2
	newlog "phantun_client-$k-ipv$fam"
	bg "$P" "$log" env RUST_LOG=info "$ph_client" --local "127.0.0.1:111$k" --remote "$(remote "$fam")" \
		--tun-local "192.168.200.$((4 * k + 1))" --tun-peer "192.168.200.$((4 * k + 2))" \
		--tun-local6 "fcc8::$((4 * k + 1))" --tun-peer6 "fcc8::$((4 * k + 2))" "$@"
	cli_pid[k]=$last_pid
	wait_log "$log" 'Created TUN device' 5 && wait_udp "$P" "111$k" 5 ||
		echo "# phantun_client did not start: $(tail -3 "$log")"
}
# fauxtcp-client as an ordinary user holding CAP_NET_RAW and nothing else.
fclient_start() { # K FAM [ARGS...]: fauxtcp-client on C
	local k=$1 fam=$2
	shift 2
	newlog "fauxtcp-client-$k-ipv$fam"
	bg "$C" "$log" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_raw --ambient-caps=+net_raw --bounding-set=-all,+net_raw \
		"$client" -l "127.0.0.1:111$k" -r "$(remote "$fam")" "$@"
	cli_pid[k]=$last_pid
	wait_log "$log" 'listening on' 5 || echo "# fauxtcp-client did not start: $(tail -3 "$log")"
}
srv_start() { # ARGS...: this pairing's server
	case $pairing in
	tun) fserver_start "$@" ;;
	raw) fserver_start --mode raw --iface s0 "$@" ;;
	phantun) pserver_start "$@" ;;
	esac
}
cli_start() { # K FAM [ARGS...]: this pairing's client
	if [ "$pairing" = phantun ]; then fclient_start "$@"; else pclient_start "$@"; fi
}

# ---- restarts: a probe per family, a datagram every 10 ms ----
start_probes() {
	local fam
	for fam in 4 6; do
		rm -f "$tmp/probe$fam-$pairing.log"
		bg "$cns" "$tmp/probe$fam-$pairing.out" python3 "$probe" run --to "127.0.0.1:111$((fam == 4 ? 1 : 2))" \
			--bind "127.0.0.1:4500$fam" --interval 0.01 --size 64 --log "$tmp/probe$fam-$pairing.log"
		probe_pid[fam]=$last_pid
	done
	sleep 0.2
	for fam in 4 6; do
		python3 "$probe" recovery "$tmp/probe$fam-$pairing.log" --since "$(now)" --wait 5 >/dev/null ||
			echo "# IPv$fam probe: no echo before the restarts"
	done
}
stop_probes() { stop "${probe_pid[4]}" TERM; stop "${probe_pid[6]}" TERM; }
# After a restart: for each family, the first echo of a datagram sent after
# the restarted side was up, then the window from 0.5 s before
# the kill to 0.7 s after recovery: the datagrams lost and the outage (the
# longest time without an echo). Bounds: the first echo within 2 s of the
# restart; no more lost than were sent while the side was down (its down
# time / 10 ms) plus 100 (1 s: phantun's retry of a lost SYN); every echo
# byte for byte.
measure() { # WHAT T_KILL4 T_UP4 T_KILL6 T_UP6 (ns): when each family's side stopped, and was up again
	local what=$1 fam t_end w lost gap alt down maxlost
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
		w=$(python3 "$probe" window "$tmp/probe$fam-$pairing.log" --from $((stopped[fam] - 500000000)) --to "$t_end")
		lost=$(echo "$w" | sed -E 's/.* lost ([0-9]+) .*/\1/')
		gap=$(echo "$w" | sed -E 's/.*longest-gap-ms ([0-9]+).*/\1/')
		alt=$(echo "$w" | sed -E 's/.* altered ([0-9]+) .*/\1/')
		echo "# IPv$fam $what: down $down ms; $w"
		figures+=("$name IPv$fam $what: outage $gap ms, lost $lost (down $down ms)")
		result "$name IPv$fam: $what: outage $gap ms, lost $lost datagrams (<= $maxlost), first echo ${rec[fam]} ms after the restart (<= 2000)" \
			"$([ "${rec[fam]}" != none ] && [ "${rec[fam]}" -le 2000 ] &&
				[ "$lost" -le "$maxlost" ] && [ "$alt" = 0 ]; echo $?)"
	done
}

figures=() cli_pid=() probe_pid=()
for pairing in $pairings; do
	case $pairing in
	tun) name="[phantun_client > fauxtcp-server TUN]" cns=$P ;;
	raw) name="[phantun_client > fauxtcp-server raw]" cns=$P ;;
	phantun) name="[fauxtcp-client > phantun_server]" cns=$C ;;
	*) die_early "unknown pairing $pairing" ;;
	esac
	echo "# $name"
	t_pair=$(date +%s)
	if [ "$pairing" = phantun ]; then
		# phantun_server's host set-up, as its README asks
		s nft -f - <<-'NFT'
		table inet phantun_dnat {
			chain prerouting {
				type nat hook prerouting priority dstnat;
				iifname "s0" tcp dport 4567 dnat ip to 192.168.201.2
				iifname "s0" tcp dport 4567 dnat ip6 to fcc9::2
			}
		}
		NFT
	fi
	srv_start
	cli_start 1 4
	cli_start 2 6
	if [ "$pairing" = phantun ]; then
		st=$(grep -E '^(Uid|CapEff|CapPrm|CapBnd):' "/proc/${cli_pid[1]}/status" | tr -s '\t' ' ' | paste -sd' ')
		result "$name fauxtcp-client runs as uid 65534 with CAP_NET_RAW only ($st)" \
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
		stop "$srv_pid" "$sig"
		srv_start
		t_up=$(now)
		measure "server restart (SIG$sig)" "$t_kill" "$t_up" "$t_kill" "$t_up"
	done
	t_kill4=$(now)
	stop "${cli_pid[1]}" TERM
	t_kill6=$(now)
	stop "${cli_pid[2]}" TERM
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
	stop "$srv_pid" TERM
	bg "$S" "$tmp/tcpdump-$pairing.err" tcpdump -i s0 -nn -U --immediate-mode -w "$tmp/hs-$pairing.pcap" tcp port 4567
	dump_pid=$last_pid
	wait_log "$tmp/tcpdump-$pairing.err" 'listening on' 5 || echo "# tcpdump: $(cat "$tmp/tcpdump-$pairing.err")"
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
	stop "$dump_pid" TERM
	for fam in 4 6; do
		expect "$name IPv$fam on the wire: each handshake packet is the first data (seq 1), counted in seq and ack" \
			python3 "$udp" wire --pcap "$tmp/hs-$pairing.pcap" --family "$fam" \
			--server-hs "$tmp/srv-hello.bin" --client-hs "$tmp/cli-hello.bin" --name "ipv$fam-wire"
	done

	for k in 1 2 3 4; do stop "${cli_pid[k]}" TERM; done
	stop "$srv_pid" TERM
	if [ "$pairing" = phantun ]; then
		s nft delete table inet phantun_dnat
		snapshot >"$tmp/hardened.after"
		expect "$name the hardened host is unchanged: nftables ruleset, links, forwarding" \
			diff -u "$tmp/hardened.before" "$tmp/hardened.after"
	else
		expect "$name server left no nft table behind" \
			bash -c "! ip netns exec $S nft list tables | grep -q fauxtcp"
	fi
	echo "# $name: $(($(date +%s) - t_pair)) s"
done

echo "# restarts (a probe every 10 ms):"
printf '#   %s\n' "${figures[@]}"
if [ "$fail" -ne 0 ]; then
	echo "# logs:"
	for f in "$tmp"/*.log; do
		case $f in */probe* | */echo*) continue ;; esac
		echo "# ==> ${f##*/}"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
fi
echo "$pass passed, $fail failed ($(($(date +%s) - t_start)) s)"
[ "$fail" -eq 0 ]
