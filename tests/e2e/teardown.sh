#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemons' teardown: client and server (TUN mode, then raw mode) pass
# a datagram, then each gets SIGTERM and must close every handle, socket
# and rule and exit 0, with no sanitizer report (in an ASan build, a leak
# or a libuv handle left open fails here), and the server's nft table must
# be gone. A missing tool or binary fails the test, never skips it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${FAUXTCP_BUILD:-$here/../../build}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
pass=0 fail=0

result() { # NAME OK?
	if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}

for need in ip nft python3; do
	command -v "$need" >/dev/null || { echo "FAIL $need is missing"; exit 1; }
done
for bin in fauxtcp-client fauxtcp-server; do
	[ -x "$build/$bin" ] || { echo "FAIL $build/$bin is missing"; exit 1; }
done
client=$(realpath "$build/fauxtcp-client")
server=$(realpath "$build/fauxtcp-server")

# One datagram from the client host's UDP side, echoed back: 0 if it came.
roundtrip() {
	nc_ python3 - <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for _ in range(10):
    s.sendto(b"teardown", ("127.0.0.1", 4000))
    try:
        if s.recvfrom(2048)[0] == b"teardown":
            sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
PY
}

# NAME LOG: exited 0 (E2E_LAST_RC) and printed no sanitizer report.
clean_exit() {
	local name=$1 log=$2 rc=$E2E_LAST_RC
	if grep -Eq 'Sanitizer|runtime error|event loop not closed' "$log"; then
		grep -E 'Sanitizer|runtime error|SUMMARY|event loop' "$log" | head -5 | sed 's/^/#   /'
		rc=report
	fi
	[ "$rc" = 0 ] || echo "#   $name: exit status $rc, see above"
	result "$name exits 0 after SIGTERM, nothing left open or leaked" "$([ "$rc" = 0 ]; echo $?)"
}

e2e_init
for mode in tun raw; do
	e2e_topology || { echo "FAIL cannot build the namespaces"; exit 1; }
	e2e_udp_echo || { echo "FAIL no UDP echo"; exit 1; }
	slog=$E2E_TMP/$mode-server.log clog=$E2E_TMP/$mode-client.log
	if [ $mode = raw ]; then
		e2e_bg "$NS_S" "$slog" "$server" -l 4567 -r 127.0.0.1:1234 --mode raw --iface veth0
	else
		e2e_bg "$NS_S" "$slog" "$server" -l 4567 -r 127.0.0.1:1234
	fi
	spid=$E2E_LAST_PID
	e2e_wait_log "$slog" 'accepting fake TCP' 10 || { cat "$slog"; echo "FAIL [$mode] server did not start"; exit 1; }
	e2e_bg "$NS_C" "$clog" "$client" -l 127.0.0.1:4000 -r 192.0.2.2:4567
	cpid=$E2E_LAST_PID
	e2e_wait_log "$clog" 'listening on' 10 || { cat "$clog"; echo "FAIL [$mode] client did not start"; exit 1; }
	roundtrip
	result "[$mode] a datagram is echoed through the tunnel" $?
	e2e_stop "$cpid" 10
	clean_exit "[$mode] client" "$clog"
	e2e_stop "$spid" 10
	clean_exit "[$mode] server" "$slog"
	left=0
	ns_ nft list table inet fauxtcp_4567 >/dev/null 2>&1 && left=1
	result "[$mode] no nft table left behind" $left
	e2e_teardown
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
