#!/usr/bin/env bash
# fauxtcp-server's start-up errors: each is one line that names what is
# wrong and what to do, with a non-zero exit, and leaves nothing behind.
# Runs as root in a network namespace of its own.
set -u
server=${FAUXTCP_SERVER:-$(dirname "$0")/../../build/fauxtcp-server}
server=$(realpath "$server")
ns=fx-err-$$
tmp=$(mktemp -d)
pass=0 fail=0

cleanup() {
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
sysctl -q -w -n net.ipv4.ip_forward=0 >/dev/null 2>&1 || true
n() { ip netns exec "$ns" "$@"; }
n sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# expect NAME PATTERN CMD...: CMD fails, prints exactly one line on stderr,
# and that line matches PATTERN.
expect() {
	local name=$1 pattern=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$? lines
	lines=$(wc -l <"$tmp/err")
	if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pattern" "$tmp/err"; then
		echo "ok   $name: $(cat "$tmp/err")"
		pass=$((pass + 1))
	else
		echo "FAIL $name (exit $rc, $lines lines):"
		sed 's/^/     /' "$tmp/err"
		fail=$((fail + 1))
	fi
}

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
ip netns exec "$ns" socat -u TCP-LISTEN:4567,reuseaddr,fork /dev/null >/dev/null 2>&1 &
listener=$!
sleep 0.3
expect "port in use" "port 4567 is already in use" n "$server" -l 4567 -r 127.0.0.1:1234
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null

after_nft=$(n nft list ruleset)
after_link=$(n ip -o link | sed 's/^[0-9]*: //')
if [ "$before_nft" = "$after_nft" ] && [ "$before_link" = "$after_link" ]; then
	echo "ok   nothing left behind (nft ruleset and links as before)"
	pass=$((pass + 1))
else
	echo "FAIL something left behind"
	diff <(echo "$before_nft"; echo "$before_link") <(echo "$after_nft"; echo "$after_link")
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
