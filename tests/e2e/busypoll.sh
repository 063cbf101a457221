#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --busy-poll (port/daemon/busypoll.h), end to end, in namespaces this
# script creates and always deletes (bp-*-PID): client and server (raw
# mode, then TUN mode) with busy-poll = 2000 in their files pass a
# ping-pong for 1 s, a datagram every 0.5 ms:
#   - from 0.2 s after the last datagram, each uses under 5 ms of CPU in a
#     whole second (/proc/PID/schedstat, in ns): an idle daemon does not spin;
#   - SIGHUP with busy-poll = 0 in the files: "changed busy-poll";
#   - the same ping-pong again: each daemon's CPU per round trip with
#     busy-poll 2000 is at least 3 times what it is with 0 (it spins between
#     datagrams: about 8 times on this 2-vCPU VM, loaded). Relative, in the
#     same run, so a slow or loaded machine does not make it flap.
# A missing tool fails, never skips.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || e2e_die "needs root (network namespaces)"
e2e_need_daemons
e2e_need_tools ip nft python3 setpriv ss
E2E_NAME=bp E2E_KEEP=${FAUXTCP_BUSYPOLL_LOGS:-}
e2e_init
tmp=$E2E_TMP

cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; } # PID: ns on a CPU
ms_since() { echo $((($(cpu_ns "$1") - $2) / 1000000)); }                  # PID NS0: ms since

# 1 s of ping-pong through the tunnel: a datagram, its echo, 0.5 ms, again.
pingpong() {
	nc_ python3 - <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
end, got = time.monotonic() + 1.0, 0
while time.monotonic() < end:
    s.sendto(b"busypoll", ("127.0.0.1", 4000))
    try:
        got += s.recvfrom(2048)[0] == b"busypoll"
    except socket.timeout:
        pass
    time.sleep(0.0005)
print(got)
sys.exit(0 if got > 100 else 1)
PY
}

# MODE: one pass of the checks above.
one_mode() {
	local mode=$1 slog=$tmp/$1-server.log clog=$tmp/$1-client.log sini=$tmp/$1-server.ini
	local cini=$tmp/$1-client.ini spid cpid s0 c0 n sms cms
	e2e_topology >/dev/null || e2e_die "cannot build the namespaces"
	e2e_udp_echo || e2e_die "no UDP echo"
	printf '[server]\nbusy-poll = 2000\n' >"$sini"
	printf '[client]\nbusy-poll = 2000\n' >"$cini"
	chmod 644 "$cini"
	local raw=()
	[ "$mode" = raw ] && raw=(--mode raw --iface veth0)
	e2e_bg "$NS_S" "$slog" "$E2E_SERVER" -c "$sini" -l 4567 -r 127.0.0.1:1234 "${raw[@]}"
	spid=$E2E_LAST_PID
	e2e_wait_log "$slog" 'accepting fake TCP' 10 || e2e_die "[$mode] server did not start: $(tail -3 "$slog")"
	e2e_bg "$NS_C" "$clog" "${E2E_USER[@]}" "$E2E_CLIENT" -c "$cini" -l 127.0.0.1:4000 -r 192.0.2.2:4567
	cpid=$E2E_LAST_PID
	e2e_wait_log "$clog" 'listening on' 10 || e2e_die "[$mode] client did not start: $(tail -3 "$clog")"
	pingpong >/dev/null # the handshake, outside what is measured

	s0=$(cpu_ns "$spid") c0=$(cpu_ns "$cpid")
	n=$(pingpong)
	sms=$(ms_since "$spid" "$s0") cms=$(ms_since "$cpid" "$c0")
	echo "# [$mode] busy-poll 2000: $n round trips in 1 s; CPU client $cms ms, server $sms ms"

	sleep 0.2
	s0=$(cpu_ns "$spid") c0=$(cpu_ns "$cpid")
	sleep 1
	local sidle cidle
	sidle=$(ms_since "$spid" "$s0") cidle=$(ms_since "$cpid" "$c0")
	echo "# [$mode] idle for 1 s: CPU client $cidle ms, server $sidle ms"
	[ "$sidle" -lt 5 ] && [ "$cidle" -lt 5 ]
	e2e_result "[$mode] idle: neither daemon spins (under 5 ms of CPU in 1 s)" $?

	printf '[server]\nbusy-poll = 0\n' >"$sini"
	printf '[client]\nbusy-poll = 0\n' >"$cini"
	kill -HUP "$spid" "$cpid"
	e2e_wait_log "$slog" 'changed busy-poll' 5 && e2e_wait_log "$clog" 'changed busy-poll' 5
	e2e_result "[$mode] SIGHUP: busy-poll reloaded in both daemons" $?
	local n0 sms0 cms0
	s0=$(cpu_ns "$spid") c0=$(cpu_ns "$cpid")
	n0=$(pingpong)
	sms0=$(ms_since "$spid" "$s0") cms0=$(ms_since "$cpid" "$c0")
	echo "# [$mode] busy-poll 0: $n0 round trips in 1 s; CPU client $cms0 ms, server $sms0 ms"
	# per round trip: ms/n >= 3 ms0/n0, without division
	[ $((sms * n0)) -ge $((3 * sms0 * n)) ] && [ $((cms * n0)) -ge $((3 * cms0 * n)) ]
	e2e_result "[$mode] busy-poll 2000 spins while traffic flows, 0 does not (CPU per round trip 3x or more)" $?
	e2e_teardown
}

for mode in raw tun; do one_mode "$mode"; done
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" = 0 ]
