#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# End-to-end test of a fake-TCP server (fauxtcp-server, or phantun_server:
# same wire) against phantun 0.8.1's own captures. For each server-role
# capture, in two fresh network namespaces built like the capture's hosts
# (lib.sh):
#
#   1. snapshot the server host's `nft list ruleset` and `ip -o link`;
#   2. start the server under test in the server namespace exactly as
#      phantun_server was started for the capture:
#        SERVER -l 4567 -r 127.0.0.1:1234 [--idle-timeout 5 (a)]
#               [--handshake-packet FILE (f)]
#      (TUN, plus the DNAT rule the server installs itself), next to a UDP
#      echo server on 127.0.0.1:1234;
#   3. play the capture's client side at it from the client namespace with
#      tests/livepeer/livepeer.py, which checks every answer field by field;
#   4. stop the server with SIGTERM and check the server host's ruleset
#      and links are what they were before it started.
#
# Usage: tests/e2e/server_livepeer.sh [CAPTURE...]
#        CAPTURE: a b d1 d2 e1 e2 f g (default: all of them)
# Environment:
#   FAUXTCP_SERVER    the server binary (default: build/fauxtcp-server)
#   FAUXTCP_FIXTURES  the captures (default: ../shared/fixtures/phantun)
#   LIVEPEER_DNAT=1   install the phantun README's DNAT rules ourselves,
#                     for a server that does not (phantun_server)
#   LIVEPEER_ARGS     extra livepeer.py arguments (e.g. "-v")
#   E2E_VERBOSE=1     show every setup command
# Needs root. Prints one result per capture and ends with
# "N passed, M failed"; exit status 0 only if M == 0.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

SERVER=${FAUXTCP_SERVER:-$top/build/fauxtcp-server}
FIXTURES=${FAUXTCP_FIXTURES:-$top/../shared/fixtures/phantun}
LIVEPEER=$top/tests/livepeer/livepeer.py
PYTHON=/usr/bin/python3
LIVEPEER_DNAT=${LIVEPEER_DNAT:-0}
read -r -a LP_EXTRA <<<"${LIVEPEER_ARGS:-}"

if [ "$(id -u)" != 0 ]; then
	echo "server_livepeer.sh: needs root (network namespaces)" >&2
	exit 2
fi
if [ ! -x "$SERVER" ]; then
	echo "server_livepeer.sh: no server binary at $SERVER (set FAUXTCP_SERVER)" >&2
	exit 2
fi

e2e_init
printf '%s' 'SERVER-HELLO-abcdefghijklmnop' >"$E2E_TMP/server-hello"

# capture  file  server arguments  livepeer arguments
declare -A PCAP SARGS LARGS
PCAP[a]=a-ipv4-echo-idle.pcap;		SARGS[a]="--idle-timeout 5"
					LARGS[a]="--idle-timeout 5"
PCAP[b]=b-ipv6-echo.pcap
PCAP[d1]=d1-server-bad-syn.pcap
PCAP[d2]=d2-server-synack-retries.pcap
PCAP[e1]=e1-server-stray-segments.pcap
# Frames 8 and 12 are the host kernel's RSTs to the FIN|ACK and SYN|ACK of
# 7 and 11 (conntrack INVALID, not DNATed). The server's own table keeps
# conntrack out and the host's stack silent (docs/design.md, TUN mode):
# those segments reach the relay, which answers as phantun does on its TUN
# (e2's frames 4 and 6).
					LARGS[e1]="--skip 7,8,11,12"
PCAP[e2]=e2-server-stray-direct-to-tun.pcap
# Routed straight to the TUN peer address, as phantun's capture rig did:
# the server's stateless table would give the answers the host's address
# (192.168.201.2 is the first host address's TUN-side address), so the
# server runs as phantun_server did, without a table.
					SARGS[e2]="--no-manage-rules"
PCAP[f]=f-handshake-packet.pcap;	SARGS[f]="--handshake-packet $E2E_TMP/server-hello"
PCAP[g]=g-two-udp-peers.pcap

snapshot() {
	{
		echo "== nft list ruleset"
		ns_ nft list ruleset
		echo "== ip -o link"
		ip -n "$NS_S" -o link
	} >"$1" 2>&1
}

add_dnat() {
	ns_ nft -f - <<-'EOF'
	table inet livepeer_nat {
		chain prerouting {
			type nat hook prerouting priority dstnat; policy accept;
			iif "veth0" tcp dport 4567 meta nfproto ipv4 dnat ip to 192.168.201.2
			iif "veth0" tcp dport 4567 meta nfproto ipv6 dnat ip6 to fcc9::2
		}
	}
	EOF
}

# Wait until the server has its TUN (192.168.201.1, and fcc9::1 if it comes)
# and, unless we install it or it runs without (no-rules), its table.
wait_ready() {
	local pid=$1 ready=0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		if ip -n "$NS_S" -o addr | grep -q ' 192\.168\.201\.1[ /]' &&
		   { [ "$LIVEPEER_DNAT" = 1 ] || [ "${2:-}" = no-rules ] ||
		     ns_ nft list ruleset | grep -q 4567; }; then
			ready=1
			break
		fi
		sleep 0.1
	done
	[ "$ready" = 1 ] || return 1
	for _ in $(seq 20); do
		ip -n "$NS_S" -o addr | grep -q ' fcc9::1/' &&
			! ip -n "$NS_S" -o addr | grep -q tentative && break
		sleep 0.1
	done
	sleep 0.3
	kill -0 "$pid" 2>/dev/null
}

passed=0
failed=0

run_case() {
	local name=$1 pcap=$FIXTURES/${PCAP[$1]} log why=() rc
	local -a sargs largs
	read -r -a sargs <<<"${SARGS[$name]:-}"
	read -r -a largs <<<"${LARGS[$name]:-}"
	log=$E2E_TMP/$name
	mkdir -p "$log"

	if ! e2e_topology || ! e2e_udp_echo; then
		echo "$name (${PCAP[$name]}): FAIL: could not build the topology"
		e2e_teardown
		return 1
	fi
	[ "$LIVEPEER_DNAT" = 1 ] && add_dnat
	# The server leaves TCP checksums to the device (CHECKSUM_PARTIAL); a
	# veth hands them to the peer unfinished. Without tx checksumming the
	# kernel finishes them, as a NIC does on the wire the peer compares.
	ip netns exec "$NS_S" ethtool -K veth0 tx off >/dev/null
	snapshot "$log/before"

	# --no-conntrack-ack: the captures are phantun's exact wire; the one
	# deliberate extra ACK of our default is checked by the replays.
	e2e_bg "$NS_S" "$log/server.log" "$SERVER" -l 4567 -r 127.0.0.1:1234 --no-conntrack-ack "${sargs[@]}"
	local spid=$E2E_LAST_PID
	if ! wait_ready "$spid" "$([[ " ${sargs[*]} " == *" --no-manage-rules "* ]] && echo no-rules)"; then
		why+=("server not ready (no TUN 192.168.201.1 or DNAT rule, or it exited)")
	else
		{ ip -n "$NS_S" -o addr; ip -n "$NS_S" route; ip -n "$NS_S" -6 route; } \
			>"$log/routes" 2>&1
		nc_ "$PYTHON" "$LIVEPEER" --pcap "$pcap" --iface veth0 \
			"${largs[@]}" "${LP_EXTRA[@]}" >"$log/livepeer.log" 2>&1
		rc=$?
		[ "$rc" = 0 ] || why+=("livepeer: $(tail -n 1 "$log/livepeer.log")")
	fi
	if kill -0 "$spid" 2>/dev/null; then
		e2e_stop "$spid" 5 || why+=("server still running 5 s after SIGTERM")
	else
		wait "$spid"
		why+=("server exited on its own (status $?)")
	fi
	sleep 0.2
	snapshot "$log/after"
	if ! diff -u "$log/before" "$log/after" >"$log/state.diff"; then
		why+=("server host state changed (ruleset or links)")
	fi
	e2e_teardown

	if [ ${#why[@]} = 0 ]; then
		echo "$name (${PCAP[$name]}): PASS ($(tail -n 1 "$log/livepeer.log"))"
		[ "$E2E_VERBOSE" = 1 ] && sed 's/^/    /' "$log/livepeer.log"
		return 0
	fi
	echo "$name (${PCAP[$name]}): FAIL: $(IFS=';'; echo "${why[*]}")"
	[ -s "$log/livepeer.log" ] && sed 's/^/    /' "$log/livepeer.log"
	[ -s "$log/state.diff" ] && sed 's/^/    state: /' "$log/state.diff"
	if [ -s "$log/routes" ]; then
		echo "    server host addresses and routes while it ran:"
		sed 's/^/    | /' "$log/routes"
	fi
	echo "    server log (last 20 lines):"
	tail -n 20 "$log/server.log" | sed 's/^/    | /'
	return 1
}

names=("$@")
[ ${#names[@]} = 0 ] && names=(a b d1 d2 e1 e2 f g)
for n in "${names[@]}"; do
	if [ -z "${PCAP[$n]:-}" ]; then
		echo "unknown capture '$n' (a b d1 d2 e1 e2 f g)" >&2
		exit 2
	fi
done
for n in "${names[@]}"; do
	if run_case "$n"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
