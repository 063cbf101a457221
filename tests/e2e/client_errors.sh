#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fauxtcp-client's start-up errors: each is one line that names what is
# wrong and what to do, with a non-zero exit. Runs as root in a network
# namespace of its own.
set -u
client=${FAUXTCP_CLIENT:-$(dirname "$0")/../../build/fauxtcp-client}
client=$(realpath "$client")
# Runs a program as on a kernel without TCP-MD5 and CAP_NET_ADMIN (nomd5.c).
nomd5=${NOMD5:-$(dirname "$0")/../../build/tests/nomd5}
. "$(dirname "$0")/lib.sh"
E2E_NAME=fx-cerr
e2e_init
tmp=$E2E_TMP
e2e_netns ns e || e2e_die "cannot create the namespace"
e2e_veth "$ns" v0 192.0.2.1/24 "$ns" v1 - || e2e_die "cannot add v0"
n() { timeout 5 ip netns exec "$ns" "$@"; }
expect() { e2e_expect_error "$@"; } # NAME PATTERN CMD...

nobody() { n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"; }

expect "no CAP_NET_RAW" "needs CAP_NET_RAW: run 'setcap cap_net_raw\+ep" \
	nobody "$client" -l 127.0.0.1:4000 -r 192.0.2.2:4567
expect "interface missing" "--iface nosuch0: .*check the interface name" \
	n "$client" -l 127.0.0.1:4000 -r 192.0.2.2:4567 --iface nosuch0
expect "no route" "no route to 203.0.113.9: .*check the network" \
	n "$client" -l 127.0.0.1:4000 -r 203.0.113.9:4567
expect "unresolvable remote" "cannot resolve --remote no-such-host.invalid" \
	n "$client" -l 127.0.0.1:4000 -r no-such-host.invalid:4567
expect "bad address" "-l: expected a numeric IP:PORT" n "$client" -l 999.1.1.1:4000 -r 192.0.2.2:4567
printf '[client]\nlocal = 127.0.0.1:4000\nremote = 192.0.2.2:4567\nbogus = 1\n' >"$tmp/c.ini"
expect "unknown INI key" "c.ini:4: unknown key 'bogus' in \[client\]" n "$client" -c "$tmp/c.ini"
expect "missing INI file" "nope.ini: cannot open: No such file or directory" n "$client" -c "$tmp/nope.ini"
printf '[client]\nlocal = 127.0.0.1:4000\nnot a key and a value\n' >"$tmp/m.ini"
expect "malformed INI line" "m.ini:3: syntax error: expected 'key = value' or '\[section\]'" \
	n "$client" -c "$tmp/m.ini"
expect "handshake packet missing" "cannot read --handshake-packet .*/none.bin: No such file or directory" \
	n "$client" -l 127.0.0.1:4000 -r 192.0.2.2:4567 --handshake-packet "$tmp/none.bin"
head -c 1500 /dev/zero >"$tmp/big.bin"
expect "handshake packet larger than a segment" "1500 bytes, more than one segment \(1460\)" \
	n "$client" -l 127.0.0.1:4000 -r 192.0.2.2:4567 --handshake-packet "$tmp/big.bin"
e2e_bg "$ns" "$tmp/holder.log" python3 -c 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",4000)); time.sleep(3)'
holder=$E2E_LAST_PID
e2e_wait_udp "$ns" 4000
expect "local port in use" "cannot listen on --local 127.0.0.1:4000: address already in use" \
	n "$client" -l 127.0.0.1:4000 -r 192.0.2.2:4567
e2e_stop "$holder"
ip -n "$ns" link set v0 down
expect "interface down" "no route to 192.0.2.2|interface v0 is down" \
	n "$client" -l 127.0.0.1:4001 -r 192.0.2.2:4567

ip -n "$ns" link set v0 up
# No port can be guarded (no TCP-MD5, and the drop filter needs
# CAP_NET_ADMIN): refused at start-up, not at the first connection. As
# root, and as the systemd unit runs it: a user with CAP_NET_RAW only.
guard_pattern="cannot guard local ports: the kernel lacks TCP-MD5 \(CONFIG_TCP_MD5SIG, or FIPS mode\).*use a kernel with CONFIG_TCP_MD5SIG=y"
if [ -x "$nomd5" ]; then
	# A copy beside the client's: nobody (uid 65534) must reach it, and a
	# build tree under a private directory (mktemp -d) is out of its reach.
	cp "$(realpath "$nomd5")" "$tmp/nomd5"
	cp "$client" "$tmp/fauxtcp-client"
	nomd5=$tmp/nomd5
	expect "guard impossible (root)" "$guard_pattern" \
		n "$nomd5" "$client" -l 127.0.0.1:4004 -r 192.0.2.2:4567
	expect "guard impossible (CAP_NET_RAW only)" "$guard_pattern" \
		n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_raw \
		--ambient-caps=+net_raw --bounding-set=-all,+net_raw "$nomd5" "$tmp/fauxtcp-client" -l 127.0.0.1:4004 -r 192.0.2.2:4567
else
	e2e_result "guard impossible: no nomd5 at $nomd5 (set NOMD5)" 1
fi
expect "--check with no server answering" "--check: the server 192.0.2.2 port 4567 did not complete a handshake" \
	n "$client" -l 127.0.0.1:4003 -r 192.0.2.2:4567 --check

# phantun's TUN flags are accepted with one line, and the client runs.
ip -n "$ns" link set v0 up
timeout 2 ip netns exec "$ns" "$client" -l 127.0.0.1:4002 -r 192.0.2.2:4567 --tun tun0 --tun-local 192.168.200.1 \
	2>"$tmp/tun.err"
grep -q "ignoring --tun, --tun-local: fauxtcp needs no TUN on the client" "$tmp/tun.err"
e2e_result "phantun's --tun flags accepted and ignored in one line" $? || sed 's/^/     /' "$tmp/tun.err"
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
