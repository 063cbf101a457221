# shellcheck shell=bash
# shellcheck disable=SC2034  # E2E_LAST_PID, E2E_LAST_RC: for the caller
#
# Helpers for fauxtcp's end-to-end tests, in the style of wireguard's
# tools/testing/selftests/wireguard/netns.sh. Source this file, then:
#
#   e2e_init                      unique names, temp dir, cleanup trap
#   e2e_topology                  the two hosts of the captures (below)
#   e2e_udp_echo                  UDP echo on 127.0.0.1:1234 (server ns)
#   e2e_bg NS LOG CMD...          start CMD in namespace NS in the
#                                 background (killed at cleanup); its pid
#                                 is left in E2E_LAST_PID
#   e2e_stop PID [SECS]           SIGTERM, wait up to SECS (default 5),
#                                 then SIGKILL; returns 0 if it exited in
#                                 time; its exit status is in E2E_LAST_RC
#   e2e_teardown                  kill what was started, delete namespaces
#   nc_ / ns_ CMD...              run CMD in the client / server namespace
#   e2e_wait_log FILE REGEX [SECS] wait for a line matching REGEX in FILE
#   e2e_cpu_ticks PID             utime + stime of PID, in clock ticks
#   e2e_rss_kb PID                VmRSS of PID, in KiB
#
# The topology is the one phantun's reference captures were taken on
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
# delays the first frame. Traffic never leaves the two namespaces.

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_NETNS=()
E2E_PIDS=()
E2E_TMP=
E2E_SEQ=0
E2E_VERBOSE=${E2E_VERBOSE:-0}
E2E_LAST_PID=''		# set by e2e_bg for the caller
E2E_LAST_RC=''		# set by e2e_stop for the caller

pretty() {
	[ "$E2E_VERBOSE" = 1 ] && printf '[+] %s\n' "$*" >&2
	return 0
}
pp() { pretty "$*"; "$@"; }

e2e_cleanup() {
	set +e
	e2e_teardown
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	E2E_TMP=
}

e2e_init() {
	E2E_TMP=$(mktemp -d "/tmp/fauxtcp-e2e.$$.XXXXXX")
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

nc_() { ip netns exec "$NS_C" "$@"; }
ns_() { ip netns exec "$NS_S" "$@"; }

e2e_topology() {
	E2E_SEQ=$((E2E_SEQ + 1))
	NS_C="fauxtcp-c-$$-$E2E_SEQ"
	NS_S="fauxtcp-s-$$-$E2E_SEQ"
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

# Start "$@" in namespace $1 with output to $2, in the background.
e2e_bg() {
	local ns=$1 log=$2
	shift 2
	pretty "$ns: $* &"
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	E2E_LAST_PID=$!
	E2E_PIDS+=("$E2E_LAST_PID")
}

e2e_udp_echo() {
	# Datagram for datagram, in order, to any number of peers (the server
	# uses one UDP socket per connection, pcap g). socat's
	# "UDP4-LISTEN:1234,fork PIPE" is not used: its pipe is a byte stream
	# and merges datagrams that arrive together (pcap f).
	e2e_bg "$NS_S" "$E2E_TMP/udp-echo.log" \
		/usr/bin/python3 "$E2E_LIB_DIR/udpecho.py" 127.0.0.1 1234
	for _ in $(seq 50); do
		ns_ ss -Hnlu 'sport = :1234' | grep -q . && return 0
		sleep 0.1
	done
	echo "UDP echo server did not start" >&2
	return 1
}

# e2e_stop PID [SECS]: SIGTERM, then SIGKILL after SECS.
e2e_stop() {
	local pid=$1 secs=${2:-5}
	E2E_LAST_RC=''
	if ! kill -TERM "$pid" 2>/dev/null; then
		wait "$pid"
		E2E_LAST_RC=$?
		return 0
	fi
	for _ in $(seq $((secs * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			E2E_LAST_RC=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	E2E_LAST_RC=$?
	return 1
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
	E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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
