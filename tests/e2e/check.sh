#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fauxtcp-client --check against each kind of answer: its whole checklist
# (server, interface, source, next hop, guard, capability, handshake) is
# printed every time, and the handshake line says what answered:
#
#   (a) fauxtcp-server (raw)      a phantun or fauxtcp server, exit 0
#   (b) a plain TCP listener      another TCP stack, exit 1
#   (c) phantun_server 0.8.1      a phantun or fauxtcp server, exit 0
#   (d) no CAP_NET_RAW            checklist printed, handshake not tried, exit 1
#   (e) no route to the server    checklist printed, handshake not tried, exit 1
#
#   $NS_C  c0 198.51.100.2/24 ----------- s0 198.51.100.1/24  $NS_S
# Runs as root in namespaces of its own.
set -u
. "$(dirname "$0")/lib.sh"
E2E_NAME=fx-check
e2e_init
e2e_need_daemons
e2e_need_phantun
e2e_need_tools python3 setpriv
tmp=$E2E_TMP
e2e_netns NS_C c || e2e_die "cannot create the namespaces"
e2e_netns NS_S s || e2e_die "cannot create the namespaces"
e2e_veth "$NS_C" c0 198.51.100.2/24 "$NS_S" s0 198.51.100.1/24 || e2e_die "cannot add the veth pair"

# check NAME RC PATTERN... -- ARGS...: --check exits RC, and its stdout
# holds every line of the checklist and each PATTERN.
check() {
	local name=$1 want=$2 rc ok=0 p line
	local pats=()
	shift 2
	while [ "$1" != -- ]; do pats+=("$1"); shift; done
	shift
	timeout 10 ip netns exec "$NS_C" "$@" --check >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = "$want" ] || ok=1
	for line in server interface source "next hop" guard capability handshake; do
		grep -q "^$line: " "$tmp/out" || ok=1
	done
	for p in "${pats[@]}"; do grep -qE -- "$p" "$tmp/out" || ok=1; done
	e2e_result "$name (exit $rc)" $ok || { sed 's/^/     out: /' "$tmp/out"; sed 's/^/     err: /' "$tmp/err"; }
	sed 's/^/     /' "$tmp/out"
}
client=("$E2E_CLIENT" -l 127.0.0.1:4000)

e2e_server "$NS_S" "$tmp/server.log" raw -l 4567 -r 127.0.0.1:1234 || e2e_die "fauxtcp-server did not start"
check "(a) fauxtcp-server" 0 "SYN\|ACK seq 0, window 65535, options NOP, wscale 14" \
	"answer: +a phantun or fauxtcp server" -- "${client[@]}" -r 198.51.100.1:4567
e2e_stop "$E2E_LAST_PID"

e2e_bg "$NS_S" "$tmp/listener.log" python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 4568)); s.listen(); time.sleep(30)'
listening() { ip netns exec "$NS_S" ss -Hlnt "sport = :4568" | grep -q .; }
e2e_until 3 listening || e2e_die "the TCP listener did not start"
check "(b) a plain TCP listener" 1 "options MSS [0-9]+" "answer: +not phantun or fauxtcp" \
	-- "${client[@]}" -r 198.51.100.1:4568
e2e_stop "$E2E_LAST_PID"

e2e_phantun_server_host "$NS_S"
e2e_phantun_server "$NS_S" "$tmp/phantun.log" --local 4567 --remote 127.0.0.1:1234 ||
	e2e_die "phantun_server did not start"
check "(c) phantun_server 0.8.1" 0 "SYN\|ACK seq 0, window 65535, options NOP, wscale 14" \
	"answer: +a phantun or fauxtcp server" -- "${client[@]}" -r 198.51.100.1:4567

check "(d) no CAP_NET_RAW" 1 "capability: +CAP_NET_RAW missing" "handshake: +not tried: no packet socket without CAP_NET_RAW" \
	-- setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"${client[@]}" -r 198.51.100.1:4567
check "(e) no route" 1 "interface: +not checked: no route to 203.0.113.9" "handshake: +not tried: no path" \
	-- "${client[@]}" -r 203.0.113.9:4567
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
