#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemons under a service manager's NOTIFY_SOCKET (the units are
# Type=notify), without systemd: tests/e2e/notifylisten.py stands in for
# it and records each field with the sender's pid. For the server in TUN
# and in raw mode, and the client (uid 65534 with CAP_NET_RAW only, as the
# unit runs it), in e2e_router_topology's namespaces:
#
#   - READY=1 comes from the main pid once the daemon carries traffic: the
#     one datagram notifylisten.py sends the moment the client's READY=1
#     arrives (the server's came before the client started) is echoed;
#   - STATUS= lines arrive and then count the connection and its bytes
#     (the one 5-byte datagram each way);
#   - SIGHUP gives RELOADING=1 (with MONOTONIC_USEC=) and then READY=1;
#   - SIGTERM gives STOPPING=1, and the exit status is 0.
#
# And systemd-analyze verify passes on the three units, which say
# Type=notify. A missing tool or binary fails the test, never skips it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
E2E_NAME=fx-notify
e2e_need_tools ip nft python3 setpriv systemd-analyze
e2e_need_daemons
e2e_init
tmp=$E2E_TMP

# ---- the units ----
mkdir -p "$tmp/units" "$tmp/man/man8"
cp "$top"/docs/*.8 "$tmp/man/man8/"
for u in fauxtcp-client@ fauxtcp-server@ fauxtcp-server-raw@; do
	# ExecStart= on the build's binaries, so that verify finds them.
	sed "s#^ExecStart=/usr/bin/#ExecStart=$(dirname "$E2E_CLIENT")/#" "$top/config/$u.service" \
		>"$tmp/units/${u}notify.service"
	out=$(MANPATH=$tmp/man systemd-analyze verify "$tmp/units/${u}notify.service" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	typ=$(sed -n 's/^Type=//p' "$top/config/$u.service")
	e2e_result "$u.service: Type=$typ, systemd-analyze verify silent" \
		"$([ "$typ" = notify ] && [ $rc = 0 ] && [ -z "$out" ]; echo $?)"
done

# ---- the daemons ----
printf '[client]\nlocal = 127.0.0.1:4000\nremote = 203.0.113.2:4567\n' >"$tmp/client.ini"
printf '[server]\nlocal = 4567\nremote = 127.0.0.1:1234\n' >"$tmp/server.ini"
chmod 644 "$tmp"/*.ini

# listen NAME NS [PORT]: a notification socket $tmp/NAME.sock, its fields
# in $tmp/NAME.notify, the first READY=1 answered by a datagram to PORT in
# NS; its path in NOTIFY.
listen() {
	NOTIFY=$tmp/$1.sock
	local args=("$NOTIFY" "$tmp/$1.notify")
	[ $# -gt 2 ] && args+=("$3")
	e2e_bg "$2" "$tmp/$1.listen.log" python3 "$here/notifylisten.py" "${args[@]}"
	e2e_until 5 test -S "$NOTIFY"
}

# fields FILE PID: the fields PID sent, one a line, in order.
fields() { sed -n "s/^$2 //p" "$1" 2>/dev/null; }

# sent FILE PID REGEX [SECS]: PID sent a field matching REGEX.
sent() {
	local i
	for ((i = 0; i < ${4:-5} * 20; i++)); do
		fields "$1" "$2" | grep -Eq -- "$3" && return 0
		sleep 0.05
	done
	return 1
}

# after FILE PID FIRST THEN: a field matching THEN follows the last one
# matching FIRST.
after() {
	fields "$1" "$2" | awk -v a="$3" -v b="$4" '$0 ~ a { at = NR; seen = 0 } at && NR > at && $0 ~ b { seen = 1 }
		END { exit !seen }'
}

# check_reload_stop WHO FILE PID: SIGHUP, then SIGTERM.
check_reload_stop() {
	local who=$1 f=$2 pid=$3
	kill -HUP "$pid"
	e2e_until 5 after "$f" "$pid" '^RELOADING=1$' '^READY=1$'
	e2e_result "$who: SIGHUP gives RELOADING=1, then READY=1" $?
	fields "$f" "$pid" | grep -Eq '^MONOTONIC_USEC=[0-9]+$'
	e2e_result "$who: RELOADING=1 carries MONOTONIC_USEC=" $?
	e2e_stop "$pid" 10
	sent "$f" "$pid" '^STOPPING=1$' 1
	local stopped=$?
	e2e_result "$who: SIGTERM gives STOPPING=1, exit status $E2E_LAST_RC" \
		"$([ $stopped = 0 ] && [ "$E2E_LAST_RC" = 0 ]; echo $?)"
}

for mode in tun raw; do
	e2e_router_topology || e2e_die "cannot build the namespaces"
	e2e_udp_echo || e2e_die "no UDP echo"
	sn=$mode-server cn=$mode-client
	listen "$sn" "$NS_S" || e2e_die "notifylisten.py did not start"
	E2E_ENV=("NOTIFY_SOCKET=$NOTIFY")
	e2e_server "$NS_S" "$tmp/$sn.log" "$mode" -c "$tmp/server.ini" || e2e_die "[$mode] server did not start"
	spid=$E2E_LAST_PID
	sent "$tmp/$sn.notify" "$spid" '^READY=1$'
	e2e_result "[$mode] server: READY=1 from its main pid $spid" $?
	listen "$cn" "$NS_C" 4000 || e2e_die "notifylisten.py did not start"
	E2E_ENV=("NOTIFY_SOCKET=$NOTIFY")
	e2e_client "$NS_C" "$tmp/$cn.log" -c "$tmp/client.ini" || e2e_die "[$mode] client did not start"
	cpid=$E2E_LAST_PID
	sent "$tmp/$cn.notify" "$cpid" '^READY=1$'
	ready=$?
	e2e_wait_log "$tmp/$cn.notify" '^- probe ' 3
	e2e_result "[$mode] client: READY=1 from its main pid $cpid (uid 65534), the datagram sent at once is echoed" \
		"$([ $ready = 0 ] && grep -qx -- '- probe echoed' "$tmp/$cn.notify"; echo $?)"

	sent "$tmp/$cn.notify" "$cpid" '^STATUS=1 connection, 5 B in, 5 B out; path c0 via 198\.51\.100\.1$' 8
	e2e_result "[$mode] client: STATUS= counts the connection and names the path" $?
	want='TUN mode'
	[ $mode = raw ] && want='raw mode on s0'
	sent "$tmp/$sn.notify" "$spid" "^STATUS=1 connection, 5 B in, 5 B out; port 4567, $want\$" 8
	e2e_result "[$mode] server: STATUS= counts the connection and names the mode" $?

	check_reload_stop "[$mode] client" "$tmp/$cn.notify" "$cpid"
	check_reload_stop "[$mode] server" "$tmp/$sn.notify" "$spid"
	echo "# [$mode] client's notifications:"
	sed 's/^/#   /' "$tmp/$cn.notify"
	echo "# [$mode] server's notifications:"
	sed 's/^/#   /' "$tmp/$sn.notify"
	[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp/$sn.log" "$tmp/$cn.log"
	e2e_teardown
done
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
