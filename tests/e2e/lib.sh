# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# shellcheck disable=SC2034  # E2E_LAST_PID, E2E_LAST_RC, NS_*: for the caller
#
# Helpers for fauxtcp's end-to-end tests, in the style of wireguard's
# tools/testing/selftests/wireguard/netns.sh. Source this file, then:
#
#   e2e_init                      unique names, temp dir (mode 755: the
#                                 client runs as uid 65534), cleanup trap;
#                                 E2E_NAME (default fauxtcp) prefixes the
#                                 namespaces, E2E_KEEP=DIR keeps the temp
#                                 dir's files there at exit
#   e2e_die MSG                   "FAIL MSG", "0 passed, 1 failed", exit 1
#   e2e_need_tools TOOL...        e2e_die unless every TOOL is on PATH
#   e2e_need_daemons              E2E_CLIENT and E2E_SERVER from
#                                 $FAUXTCP_BUILD (default ../../build)
#   e2e_result NAME STATUS        "ok   NAME" if STATUS is 0, else
#                                 "FAIL NAME"; counted in E2E_PASS/E2E_FAIL;
#                                 returns 0 for ok
#   e2e_expect NAME CMD...        e2e_result NAME with CMD's exit status
#   e2e_expect_error NAME PATTERN CMD...
#                                 CMD fails (not by timing out: under
#                                 timeout 5 unless it is a shell function)
#                                 with exactly one line on stderr, which
#                                 matches PATTERN; its outputs are left in
#                                 $E2E_TMP/out and $E2E_TMP/err
#   e2e_tail_logs FILE...         the last 25 lines of each, as comments
#
#   e2e_topology                  the two hosts of the captures (below)
#   e2e_router_topology [mtu=N] [ipv6=0] [nat=ip|inet|none]
#                                 client, router, server hosts (below);
#                                 the namespaces in NS_C, NS_R, NS_S
#   e2e_router_link NS IF [default]
#                                 one more link to the router: IF in NS
#                                 192.0.2.2/24 2001:db8:3::2/64, r2 .1 and
#                                 ::1; with "default", NS's default routes
#   e2e_netns VAR TAG             a new namespace, deleted at cleanup,
#                                 its name (E2E_NAME-TAG-PID-SEQ) in $VAR
#   e2e_veth NS1 IF1 ADDRS1 NS2 IF2 ADDRS2 [MTU]
#                                 a veth pair, up; ADDRS: comma-separated
#                                 CIDRs (IPv6 without DAD), or "-"
#   e2e_addrs NS IF ADDRS         those addresses on IF
#   e2e_has_addr NS ADDR          ADDR is configured in NS (a TUN's too)
#   e2e_hardened NS               a hardened office host: forwarding off,
#                                 input and forward policy drop
#   e2e_snapshot NS               its ruleset, links and forwarding sysctls,
#                                 to show that a daemon changed none of them
#   nc_ / nr_ / ns_ CMD...        run CMD in the client / router / server
#                                 namespace
#
#   e2e_bg NS LOG CMD...          start CMD in namespace NS in the
#                                 background, output appended to LOG
#                                 (killed at cleanup); its pid is left in
#                                 E2E_LAST_PID
#   e2e_stop PID [SECS [SIGNAL]]  SIGNAL (default TERM), wait up to SECS
#                                 (default 5), then SIGKILL; PID is no
#                                 longer killed at cleanup; returns 0 if it
#                                 exited in time; its status in E2E_LAST_RC
#   e2e_forget PID                PID is no longer killed at cleanup
#   e2e_teardown                  kill what was started, delete namespaces
#   e2e_wait_log FILE REGEX [SECS] wait for a line matching REGEX in FILE
#   e2e_wait_udp NS PORT [SECS]   wait for a UDP socket bound to PORT in NS
#   e2e_until SECS CMD...         wait until CMD succeeds
#   e2e_udp_echo                  UDP echo on 127.0.0.1:1234 (server ns)
#   e2e_server NS LOG tun|raw ARGS...
#                                 fauxtcp-server (raw: on s0), waits for it
#   e2e_client NS LOG ARGS...     fauxtcp-client as deployed: uid 65534
#                                 with CAP_NET_RAW and nothing else
#                                 (E2E_USER: that setpriv prefix), waits;
#                                 both daemons get E2E_ENV (VAR=VALUE...)
#   e2e_window PROBELOG FROM TO   udpprobe.py's window: E2E_WINDOW, and
#                                 E2E_LOST, E2E_ALTERED, E2E_GAP
#   e2e_cpu_ticks PID             utime + stime of PID, in clock ticks
#   e2e_rss_kb PID                VmRSS of PID, in KiB
#
# The real phantun 0.8.1, from ../shared/phantun beside the repository
# (never copied into it; missing binaries fail, they do not skip):
#
#   e2e_need_phantun              PH_CLIENT, PH_SERVER; e2e_die unless
#                                 both are there and are 0.8.1
#   e2e_phantun_server_host NS    its README's set-up: forwarding, DNAT of
#                                 s0's TCP port 4567 to 192.168.201.2 and
#                                 fcc9::2 (table inet phantun_dnat)
#   e2e_phantun_client_host NS IF its README's set-up: forwarding, a
#                                 masquerade out of IF (table inet
#                                 phantun_nat)
#   e2e_phantun_server NS LOG ARGS...  phantun_server (RUST_LOG=info),
#                                 waits for it and for its TUN addresses
#   e2e_phantun_client NS LOG ARGS...  phantun_client, waits for its TUN
#                                 and its --local socket
#
# e2e_topology: the hosts phantun's reference captures were taken on
# (shared/fixtures/phantun/README.md), so live frames can equal the
# capture's byte for byte:
#
#   $NS_C  "client host"                      $NS_S  "server host"
#   veth0 02:00:00:00:00:01 <-------------> veth0 02:00:00:00:00:02
#         192.0.2.1/24                            192.0.2.2/24
#         2001:db8::1/64                          2001:db8::2/64
#   route 192.168.201.0/24 via 192.0.2.2      IPv4 and IPv6 forwarding on
#   nft: locally generated TCP RSTs dropped   UDP echo on 127.0.0.1:1234
#   (the live peer's crafted frames leave     server under test: TUN
#    at layer 2 and are not affected)         192.168.201.0/24, fcc9::/64
#
# Neighbour entries are permanent on both sides, so no ARP or ND exchange
# delays the first frame.
#
# e2e_router_topology: a client behind a NAT router, as deployed:
#
#   $NS_C client host        $NS_R router                      $NS_S server host
#   c0 198.51.100.2/24 ----- r0 198.51.100.1   r1 203.0.113.1 ----- s0 203.0.113.2/24
#      2001:db8:1::2/64         2001:db8:1::1     2001:db8:2::1        2001:db8:2::2/64
#   default routes via r0    forwarding; masquerade out of r1  default routes via r1
#                            (table ip nat: IPv4 only; nat=    IPv4 and IPv6 forwarding
#                            inet: IPv6 too; nat=none: no NAT, (TUN mode and phantun's
#                            no conntrack)                      DNAT need both)
#                            r2 192.0.2.1 ------------------ e2e_router_link NS IF:
#                               2001:db8:3::1                IF 192.0.2.2/24, 2001:db8:3::2/64
#
# mtu=N sets every veth's MTU (default 1500); ipv6=0 leaves out the IPv6
# addresses and routes. DAD is off in every namespace (fresh links'
# link-local addresses would stay tentative and leave the first neighbour
# solicitations unanswered). Scripts add their own rules (loss, counters,
# a hardened client host) on top. Traffic never leaves the namespaces.

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_NAME=${E2E_NAME:-fauxtcp}
E2E_KEEP=${E2E_KEEP:-}
E2E_NETNS=()
E2E_PIDS=()
E2E_TMP=
E2E_SEQ=0
E2E_PASS=0
E2E_FAIL=0
E2E_VERBOSE=${E2E_VERBOSE:-0}
NS_C='' NS_R='' NS_S='' # the hosts' namespaces, once made
E2E_LAST_PID=''		# set by e2e_bg for the caller
E2E_LAST_RC=''		# set by e2e_stop for the caller
E2E_ENV=()		# VAR=VALUE...: environment of e2e_server and e2e_client
# fauxtcp-client as the README and the unit run it
# shellcheck disable=SC2054 # setpriv's capability lists have commas
E2E_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups
	--inh-caps=-all,+net_raw --ambient-caps=+net_raw --bounding-set=-all,+net_raw)
E2E_PHANTUN_DIR=$(realpath -m "$E2E_LIB_DIR/../../../shared/phantun")
PH_CLIENT=$E2E_PHANTUN_DIR/phantun_client
PH_SERVER=$E2E_PHANTUN_DIR/phantun_server

pretty() {
	[ "$E2E_VERBOSE" = 1 ] && printf '[+] %s\n' "$*" >&2
	return 0
}
pp() { pretty "$*"; "$@"; }

e2e_cleanup() {
	set +e
	trap - EXIT
	e2e_teardown 2>/dev/null
	if [ -n "$E2E_KEEP" ] && [ -n "$E2E_TMP" ]; then
		mkdir -p "$E2E_KEEP" && cp -r "$E2E_TMP"/. "$E2E_KEEP"/ && echo "# logs kept in $E2E_KEEP"
	fi
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	E2E_TMP=
}

e2e_init() {
	E2E_TMP=$(mktemp -d "/tmp/$E2E_NAME-e2e.$$.XXXXXX")
	chmod 755 "$E2E_TMP"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

e2e_die() {
	echo "FAIL $*"
	echo "0 passed, 1 failed"
	exit 1
}

e2e_need_tools() {
	local t
	for t; do
		command -v "$t" >/dev/null || e2e_die "$t is missing (scripts/setup installs it)"
	done
}

e2e_need_daemons() {
	local build=${FAUXTCP_BUILD:-$E2E_LIB_DIR/../../build}
	E2E_CLIENT=$(realpath "$build/fauxtcp-client" 2>/dev/null)
	E2E_SERVER=$(realpath "$build/fauxtcp-server" 2>/dev/null)
	if [ ! -x "$E2E_CLIENT" ] || [ ! -x "$E2E_SERVER" ]; then
		e2e_die "no fauxtcp-client/fauxtcp-server in $build (FAUXTCP_BUILD=DIR)"
	fi
}

e2e_result() {
	if [ "$2" = 0 ]; then
		echo "ok   $1"
		E2E_PASS=$((E2E_PASS + 1))
	else
		echo "FAIL $1"
		E2E_FAIL=$((E2E_FAIL + 1))
	fi
	[ "$2" = 0 ]
}

e2e_expect() {
	local name=$1
	shift
	"$@"
	e2e_result "$name" $?
}

e2e_expect_error() {
	local name=$1 pattern=$2 rc lines
	shift 2
	if declare -F "$1" >/dev/null; then "$@"; else timeout 5 "$@"; fi >"$E2E_TMP/out" 2>"$E2E_TMP/err"
	rc=$?
	lines=$(wc -l <"$E2E_TMP/err")
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pattern" "$E2E_TMP/err"; then
		e2e_result "$name: $(cat "$E2E_TMP/err")" 0
	else
		e2e_result "$name (exit $rc, $lines lines):" 1
		sed 's/^/     /' "$E2E_TMP/err"
	fi
}

e2e_tail_logs() {
	local log
	echo "# logs:"
	for log; do
		[ -e "$log" ] || continue
		echo "# ==> ${log##*/}"
		tail -n 25 "$log" | cut -c1-300 | sed 's/^/#   /'
	done
}

nc_() { ip netns exec "$NS_C" "$@"; }
nr_() { ip netns exec "$NS_R" "$@"; }
ns_() { ip netns exec "$NS_S" "$@"; }

e2e_topology() {
	E2E_SEQ=$((E2E_SEQ + 1))
	NS_C="$E2E_NAME-c-$$-$E2E_SEQ"
	NS_S="$E2E_NAME-s-$$-$E2E_SEQ"
	pp ip netns add "$NS_C" || return 1
	E2E_NETNS+=("$NS_C")
	pp ip netns add "$NS_S" || return 1
	E2E_NETNS+=("$NS_S")

	pp ip -n "$NS_C" link set lo up
	pp ip -n "$NS_S" link set lo up
	pp ip -n "$NS_C" link add veth0 type veth peer name veth0 netns "$NS_S"
	pp ip -n "$NS_C" link set veth0 address 02:00:00:00:00:01
	pp ip -n "$NS_S" link set veth0 address 02:00:00:00:00:02
	pp ip -n "$NS_C" addr add 192.0.2.1/24 dev veth0
	pp ip -n "$NS_S" addr add 192.0.2.2/24 dev veth0
	pp ip -n "$NS_C" addr add 2001:db8::1/64 dev veth0 nodad
	pp ip -n "$NS_S" addr add 2001:db8::2/64 dev veth0 nodad
	pp ip -n "$NS_C" link set veth0 up
	pp ip -n "$NS_S" link set veth0 up
	pp ip -n "$NS_C" neigh replace 192.0.2.2 lladdr 02:00:00:00:00:02 \
		nud permanent dev veth0
	pp ip -n "$NS_C" neigh replace 2001:db8::2 lladdr 02:00:00:00:00:02 \
		nud permanent dev veth0
	pp ip -n "$NS_S" neigh replace 192.0.2.1 lladdr 02:00:00:00:00:01 \
		nud permanent dev veth0
	pp ip -n "$NS_S" neigh replace 2001:db8::1 lladdr 02:00:00:00:00:01 \
		nud permanent dev veth0
	for _ in $(seq 50); do
		ip -n "$NS_C" -o link show veth0 | grep -q 'state UP' &&
			ip -n "$NS_S" -o link show veth0 | grep -q 'state UP' &&
			break
		sleep 0.1
	done
	# e2: segments sent straight to the server's TUN address
	pp ip -n "$NS_C" route add 192.168.201.0/24 via 192.0.2.2

	# The client host has no socket for the server's answers: its kernel
	# would reset them. The live peer sends at layer 2, past this rule.
	nc_ nft -f - <<-'EOF' || return 1
	table inet livepeer {
		chain output {
			type filter hook output priority 0; policy accept;
			tcp flags & rst == rst drop
		}
	}
	EOF

	# The server host routes between veth0 and the TUN (phantun's README).
	pp ns_ sysctl -q -w net.ipv4.ip_forward=1
	pp ns_ sysctl -q -w net.ipv6.conf.all.forwarding=1
}

# e2e_netns VAR TAG: a namespace named E2E_NAME-TAG-PID-SEQ, lo up, no DAD.
e2e_netns() {
	local name="$E2E_NAME-$2-$$-$E2E_SEQ"
	pp ip netns add "$name" || return 1
	E2E_NETNS+=("$name")
	printf -v "$1" '%s' "$name"
	pp ip -n "$name" link set lo up
	pp ip netns exec "$name" sysctl -q -w net.ipv6.conf.default.accept_dad=0
}

# e2e_veth NS1 IF1 ADDRS1 NS2 IF2 ADDRS2 [MTU]
e2e_veth() {
	local mtu=${7:-1500}
	pp ip -n "$1" link add "$2" mtu "$mtu" type veth peer name "$5" mtu "$mtu" netns "$4" || return 1
	e2e_addrs "$1" "$2" "$3"
	e2e_addrs "$4" "$5" "$6"
	pp ip -n "$1" link set "$2" up
	pp ip -n "$4" link set "$5" up
}

# e2e_addrs NS IF ADDRS: ADDRS comma-separated, "-" none.
e2e_addrs() {
	local addr
	for addr in ${3//,/ }; do
		case $addr in
		-) ;;
		*:*) pp ip -n "$1" addr add "$addr" dev "$2" nodad ;;
		*) pp ip -n "$1" addr add "$addr" dev "$2" ;;
		esac
	done
}

# e2e_router_topology [mtu=N] [ipv6=0] [nat=ip|inet|none]: see the top.
e2e_router_topology() {
	local mtu=1500 ipv6=1 nat=ip kv c4 c6 s4 s6
	for kv; do
		case $kv in
		mtu=[0-9]*) mtu=${kv#mtu=} ;;
		ipv6=[01]) ipv6=${kv#ipv6=} ;;
		nat=ip | nat=inet | nat=none) nat=${kv#nat=} ;;
		*) echo "e2e_router_topology: unknown option $kv" >&2; return 1 ;;
		esac
	done
	E2E_SEQ=$((E2E_SEQ + 1))
	E2E_MTU=$mtu E2E_IPV6=$ipv6
	e2e_netns NS_C c && e2e_netns NS_R r && e2e_netns NS_S s || return 1
	c4=198.51.100.2/24 s4=203.0.113.2/24 c6=- s6=-
	[ "$ipv6" = 1 ] && c6=2001:db8:1::2/64 s6=2001:db8:2::2/64
	e2e_veth "$NS_C" c0 "$c4,$c6" "$NS_R" r0 "198.51.100.1/24,${c6/::2/::1}" "$mtu" || return 1
	e2e_veth "$NS_S" s0 "$s4,$s6" "$NS_R" r1 "203.0.113.1/24,${s6/::2/::1}" "$mtu" || return 1
	pp nc_ ip route add default via 198.51.100.1
	pp ns_ ip route add default via 203.0.113.1
	if [ "$ipv6" = 1 ]; then
		pp nc_ ip -6 route add default via 2001:db8:1::1
		pp ns_ ip -6 route add default via 2001:db8:2::1
	fi
	pp nr_ sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding="$ipv6"
	pp ns_ sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	[ "$nat" = none ] && return 0
	nr_ nft -f - <<-EOF || return 1
	table $nat nat {
		chain postrouting { type nat hook postrouting priority srcnat; oifname "r1" masquerade; }
	}
	EOF
}

# e2e_router_link NS IF [default]: IF in NS to the router's r2.
e2e_router_link() {
	local six=- rsix=-
	[ "$E2E_IPV6" = 1 ] && six=2001:db8:3::2/64 rsix=2001:db8:3::1/64
	e2e_veth "$1" "$2" "192.0.2.2/24,$six" "$NS_R" r2 "192.0.2.1/24,$rsix" "$E2E_MTU" || return 1
	[ "${3:-}" = default ] || return 0
	pp ip -n "$1" route add default via 192.0.2.1
	[ "$E2E_IPV6" = 1 ] && pp ip -n "$1" -6 route add default via 2001:db8:3::1
	return 0
}

# e2e_hardened NS: nothing comes in unless it answers what NS sent.
e2e_hardened() {
	pp ip netns exec "$1" sysctl -q -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	ip netns exec "$1" nft -f - <<-'EOF'
	table inet hardened {
		chain input {
			type filter hook input priority 0; policy drop;
			iif lo accept
			ct state established,related accept
			icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept
		}
		chain forward { type filter hook forward priority 0; policy drop; }
	}
	EOF
}

e2e_snapshot() {
	ip netns exec "$1" nft list ruleset
	ip -n "$1" -o link | sed 's/^[0-9]*: //'
	ip netns exec "$1" sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
}

# Start "$@" in namespace $1 with output appended to $2, in the background.
e2e_bg() {
	local ns=$1 log=$2
	shift 2
	pretty "$ns: $* &"
	ip netns exec "$ns" "$@" >>"$log" 2>&1 </dev/null &
	E2E_LAST_PID=$!
	E2E_PIDS+=("$E2E_LAST_PID")
}

e2e_wait_udp() {
	local i
	for ((i = 0; i < ${3:-5} * 20; i++)); do
		ip netns exec "$1" ss -Hnlu "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

e2e_udp_echo() {
	# Datagram for datagram, in order, to any number of peers (the server
	# uses one UDP socket per connection, pcap g). socat's
	# "UDP4-LISTEN:1234,fork PIPE" is not used: its pipe is a byte stream
	# and merges datagrams that arrive together (pcap f).
	e2e_bg "$NS_S" "$E2E_TMP/udp-echo.log" \
		/usr/bin/python3 "$E2E_LIB_DIR/udpecho.py" 127.0.0.1 1234
	e2e_wait_udp "$NS_S" 1234 5 && return 0
	echo "UDP echo server did not start" >&2
	return 1
}

# e2e_server NS LOG tun|raw [ARGS...]: fauxtcp-server on port 4567.
e2e_server() {
	local ns=$1 log=$2 mode=$3
	shift 3
	[ "$mode" = raw ] && set -- --mode raw --iface s0 "$@"
	e2e_bg "$ns" "$log" env "${E2E_ENV[@]}" "$E2E_SERVER" "$@"
	e2e_wait_log "$log" 'accepting fake TCP' 5 && return 0
	echo "# fauxtcp-server did not start: $(tail -3 "$log")"
	return 1
}

# e2e_client NS LOG ARGS...: fauxtcp-client as an ordinary user holding
# CAP_NET_RAW and nothing else.
e2e_client() {
	local ns=$1 log=$2
	shift 2
	e2e_bg "$ns" "$log" env "${E2E_ENV[@]}" "${E2E_USER[@]}" "$E2E_CLIENT" "$@"
	e2e_wait_log "$log" 'listening on' 5 && return 0
	echo "# fauxtcp-client did not start: $(tail -3 "$log")"
	return 1
}

e2e_need_phantun() {
	local v
	if [ ! -x "$PH_CLIENT" ] || [ ! -x "$PH_SERVER" ]; then
		e2e_die "phantun 0.8.1 binaries missing: need $PH_CLIENT and $PH_SERVER (check out shared/ beside the repository)"
	fi
	v=$("$PH_CLIENT" --version 2>&1)
	[ "$v" = "Phantun Client 0.8.1" ] || e2e_die "$PH_CLIENT is not phantun_client 0.8.1: '$v'"
	v=$("$PH_SERVER" --version 2>&1)
	[ "$v" = "Phantun Server 0.8.1" ] || e2e_die "$PH_SERVER is not phantun_server 0.8.1: '$v'"
}

# phantun_server's host, as its README asks: forwarding, and its port
# DNATed to the TUN's peer address (phantun_server's defaults).
e2e_phantun_server_host() {
	pp ip netns exec "$1" sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip netns exec "$1" nft -f - <<-'EOF'
	table inet phantun_dnat {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			iifname "s0" tcp dport 4567 dnat ip to 192.168.201.2
			iifname "s0" tcp dport 4567 dnat ip6 to fcc9::2
		}
	}
	EOF
}

# phantun_client's host, as its README asks: forwarding and a masquerade.
e2e_phantun_client_host() {
	pp ip netns exec "$1" sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip netns exec "$1" nft -f - <<-EOF
	table inet phantun_nat {
		chain postrouting { type nat hook postrouting priority srcnat; oifname "$2" masquerade; }
	}
	EOF
}

# e2e_phantun_server NS LOG ARGS...: up once it listens and its TUN has
# both addresses.
e2e_phantun_server() {
	local ns=$1 log=$2
	shift 2
	e2e_bg "$ns" "$log" env RUST_LOG=info "$PH_SERVER" "$@"
	if ! e2e_wait_log "$log" 'Listening on' 5; then
		echo "# phantun_server did not start: $(tail -3 "$log")"
		return 1
	fi
	e2e_until 2 e2e_has_addr "$ns" 192.168.201.1 && e2e_until 2 e2e_has_addr "$ns" fcc9::1 && return 0
	echo "# phantun_server's TUN has no address"
	return 1
}

# e2e_phantun_client NS LOG ARGS...: up once its TUN has its address
# (--tun-local, default 192.168.200.1) and its --local socket is bound.
e2e_phantun_client() {
	local ns=$1 log=$2 port='' tun=192.168.200.1 i j
	shift 2
	for ((i = 1; i < $#; i++)); do
		case ${!i} in
		--local) j=$((i + 1)) port=${!j##*:} ;;
		--tun-local) j=$((i + 1)) tun=${!j} ;;
		esac
	done
	e2e_bg "$ns" "$log" env RUST_LOG=info "$PH_CLIENT" "$@"
	if e2e_wait_log "$log" 'Created TUN device' 5 && e2e_wait_udp "$ns" "$port" 5 &&
		e2e_until 3 e2e_has_addr "$ns" "$tun"; then
		return 0
	fi
	echo "# phantun_client did not start: $(tail -3 "$log")"
	return 1
}

# e2e_has_addr NS ADDR: ADDR is configured in NS (a TUN's shows as
# "inet ADDR peer PEER/32").
e2e_has_addr() {
	ip -n "$1" -o addr show | grep -qE "inet6? ${2//./\\.}[/ ]"
}

# e2e_stop PID [SECS [SIGNAL]]: SIGNAL, then SIGKILL after SECS.
e2e_stop() {
	local pid=$1 secs=${2:-5} sig=${3:-TERM} i
	E2E_LAST_RC=''
	e2e_forget "$pid"
	if ! kill "-$sig" "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		E2E_LAST_RC=$?
		return 0
	fi
	for ((i = 0; i < secs * 50; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			E2E_LAST_RC=$?
			return 0
		fi
		sleep 0.02
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	E2E_LAST_RC=$?
	return 1
}

# e2e_forget PID: no longer killed at cleanup (the caller reaps it).
e2e_forget() {
	local keep=() p
	for p in "${E2E_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	E2E_PIDS=("${keep[@]}")
}

e2e_teardown() {
	local pid ns
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	E2E_PIDS=()
	for ns in "${E2E_NETNS[@]}"; do
		# anything else still running in a namespace this run made
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		pp ip netns del "$ns" 2>/dev/null
	done
	E2E_NETNS=()
}

# e2e_wait_log FILE REGEX [SECS]: wait until a line of FILE matches REGEX
# (grep -E); returns 1 after SECS (default 5) without one.
e2e_wait_log() {
	local file=$1 re=$2 secs=${3:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# e2e_until SECS CMD...: wait until CMD succeeds; returns 1 after SECS.
e2e_until() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		"${@:2}" && return 0
		sleep 0.05
	done
	return 1
}

# e2e_window PROBELOG FROM TO: udpprobe.py's account of the datagrams sent
# from FROM to TO (ns) in E2E_WINDOW ("sent N echoed N lost N altered N
# longest-gap-ms N"), and its figures in E2E_LOST, E2E_ALTERED, E2E_GAP.
e2e_window() {
	E2E_WINDOW=$(python3 "$E2E_LIB_DIR/udpprobe.py" window "$1" --from "$2" --to "$3")
	E2E_LOST=$(sed -E 's/.* lost ([0-9]+) .*/\1/' <<<"$E2E_WINDOW")
	E2E_ALTERED=$(sed -E 's/.* altered ([0-9]+) .*/\1/' <<<"$E2E_WINDOW")
	E2E_GAP=$(sed -E 's/.*longest-gap-ms ([0-9]+).*/\1/' <<<"$E2E_WINDOW")
}

# e2e_cpu_ticks PID: user plus system CPU time PID has used, in clock
# ticks (getconf CLK_TCK a second).
e2e_cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # fields after the command name, which may hold spaces
	# shellcheck disable=SC2086
	set -- $stat
	echo $((${12} + ${13}))
}

# e2e_rss_kb PID: resident set size (VmRSS) of PID, in KiB.
e2e_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# e2e_too_big CLIENT_LOCAL SERVER_PORT: "C S", the datagrams each daemon
# dropped as too big for the tunnel (status -v of the client listening on
# CLIENT_LOCAL in NS_C, as E2E_USER, and of the server on SERVER_PORT in
# NS_S); ? where a daemon did not answer.
e2e_too_big() {
	local c s
	c=$(nc_ "${E2E_USER[@]}" "$E2E_CLIENT" status -v -l "$1" 2>/dev/null |
		grep -o 'drops: too big [0-9]*' | grep -o '[0-9]*$')
	s=$(ns_ "$E2E_SERVER" status -v -l "$2" 2>/dev/null | grep -o 'drops: too big [0-9]*' | grep -o '[0-9]*$')
	echo "${c:-?} ${s:-?}"
}
