#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fauxtcp-server's start-up errors: each is one line that names what is
# wrong and what to do, with a non-zero exit, and leaves nothing behind.
# Runs as root in a network namespace of its own.
set -u
server=${FAUXTCP_SERVER:-$(dirname "$0")/../../build/fauxtcp-server}
server=$(realpath "$server")
. "$(dirname "$0")/lib.sh"
E2E_NAME=fx-err
e2e_init
tmp=$E2E_TMP
e2e_netns ns e || e2e_die "cannot create the namespace"
sysctl -q -w -n net.ipv4.ip_forward=0 >/dev/null 2>&1 || true
n() { ip netns exec "$ns" "$@"; }
n sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
expect() { e2e_expect_error "$@"; } # NAME PATTERN CMD...: fails with one stderr line matching

before_nft=$(n nft list ruleset)
before_link=$(n ip -o link | sed 's/^[0-9]*: //')

printf '[server]\nlocal = 4567\nremot = 127.0.0.1:1\n' >"$tmp/bad.ini"
expect "bad INI key" "bad.ini:3: .*remot" n "$server" -c "$tmp/bad.ini"
expect "missing file" "nope.ini.*No such file" n "$server" -c "$tmp/nope.ini"
printf '[server]\nlocal = 4567\nnot a key and a value\n' >"$tmp/syntax.ini"
expect "malformed INI line" "syntax.ini:3: syntax error: expected 'key = value' or '\[section\]'" \
	n "$server" -c "$tmp/syntax.ini"
expect "missing --remote" "remote" n "$server" -l 4567
expect "bad port" "-l: expected a port 1-65535, got .70000." n "$server" -l 70000 -r 127.0.0.1:1234
expect "bad address" "-r: expected HOST:PORT, got '127.0.0.1'" n "$server" -l 4567 -r 127.0.0.1
expect "unresolvable remote" "cannot resolve --remote no-such-host.invalid" \
	n "$server" -l 4567 -r no-such-host.invalid:1234
head -c 2000 /dev/zero >"$tmp/big.bin"
expect "handshake packet too big" "handshake-packet .* 2000 bytes, more than one segment" \
	n "$server" -l 4567 -r 127.0.0.1:1234 --handshake-packet "$tmp/big.bin"
expect "handshake packet missing" "cannot read --handshake-packet" \
	n "$server" -l 4567 -r 127.0.0.1:1234 --handshake-packet "$tmp/none.bin"
expect "no CAP_NET_ADMIN" "TUN .*CAP_NET_ADMIN" \
	n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$server" -l 4567 -r 127.0.0.1:1234
expect "raw mode: interface missing" "--iface nosuch0: No such device; check the interface name" \
	n "$server" -l 4567 -r 127.0.0.1:1234 --mode raw --iface nosuch0
expect "raw mode: no CAP_NET_RAW" "packet socket on lo: Operation not permitted; raw mode needs CAP_NET_RAW" \
	n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$server" -l 4567 -r 127.0.0.1:1234 --mode raw --iface lo
n sysctl -q -w net.ipv4.ip_forward=0
expect "forwarding off" "net.ipv4.ip_forward is 0.*--set-forwarding" \
	n "$server" -l 4567 -r 127.0.0.1:1234
n sysctl -q -w net.ipv4.ip_forward=1
e2e_bg "$ns" "$tmp/listener.log" socat -u TCP-LISTEN:4567,reuseaddr,fork /dev/null
listener=$E2E_LAST_PID
sleep 0.3
expect "port in use" "port 4567 is already in use" n "$server" -l 4567 -r 127.0.0.1:1234
e2e_stop "$listener"

after_nft=$(n nft list ruleset)
after_link=$(n ip -o link | sed 's/^[0-9]*: //')
[ "$before_nft" = "$after_nft" ] && [ "$before_link" = "$after_link" ]
e2e_result "nothing left behind (nft ruleset and links as before)" $? ||
	diff <(echo "$before_nft"; echo "$before_link") <(echo "$after_nft"; echo "$after_link")
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
