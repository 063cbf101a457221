#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `status` for people and scripts (docs/status.md), in namespaces this
# script creates and always deletes:
#
#   client host (C)                 router (R)       server host (S)
#   fauxtcp-client 127.0.0.1:1234 -> 203.0.113.2:4567 fauxtcp-server TUN, port 4567
#   fauxtcp-client 127.0.0.1:1235 -> 203.0.113.2:4568 fauxtcp-server raw, port 4568
#                                                     UDP echo 127.0.0.1:1234
#
# Datagrams of known sizes pass through both; then `status` alone lists
# every instance of a namespace, the short view shows only what is not
# zero, --json is valid and its counters match the traffic, --prometheus
# passes promtool and a strict reading of the format, and the exit codes
# say answered (0), refused (1) and not running (3). Nothing is skipped:
# a missing tool fails the test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
check=(python3 "$here/udpcheck.py")
verify=(python3 "$here/status_check.py")
e2e_need_daemons
e2e_need_tools python3 promtool setpriv
e2e_init
tmp=$E2E_TMP

e2e_router_topology
e2e_bg "$NS_S" "$tmp/echo.log" python3 "$here/udpecho.py" 127.0.0.1 1234
e2e_wait_udp "$NS_S" 1234 || e2e_die "the UDP echo did not start"
e2e_server "$NS_S" "$tmp/server-tun.log" tun -l 4567 -r 127.0.0.1:1234 || e2e_die "TUN server"
e2e_server "$NS_S" "$tmp/server-raw.log" raw -l 4568 -r 127.0.0.1:1234 || e2e_die "raw server"
e2e_client "$NS_C" "$tmp/client-tun.log" -l 127.0.0.1:1234 -r 203.0.113.2:4567 || e2e_die "client 1234"
e2e_client "$NS_C" "$tmp/client-raw.log" -l 127.0.0.1:1235 -r 203.0.113.2:4568 || e2e_die "client 1235"

# 100 datagrams of 1..100 bytes (5050 bytes) each way through each pair,
# from a fixed peer; one too big for the path (dropped, counted).
sizes=$(seq -s, 1 100)
e2e_expect "TUN pair: 100 datagrams echoed" \
	nc_ "${check[@]}" --to 127.0.0.1:1234 --sizes "$sizes" --bind 127.0.0.1:40001 --timeout 2 --name tun
e2e_expect "raw pair: 100 datagrams echoed" \
	nc_ "${check[@]}" --to 127.0.0.1:1235 --sizes "$sizes" --bind 127.0.0.1:40002 --timeout 2 --name raw
e2e_expect "a datagram too big for the path is dropped" \
	nc_ "${check[@]}" --to 127.0.0.1:1234 --sizes 1461 --bind 127.0.0.1:40001 --max-loss 1 --timeout 0.3 --name big

cuser=(setpriv --reuid=65534 --regid=65534 --clear-groups) # the clients' user
other=(setpriv --reuid=65533 --regid=65533 --clear-groups)

# ---- the short view, of every instance of a namespace
nc_ "${cuser[@]}" "$E2E_CLIENT" status >"$tmp/c.txt" 2>&1
rc=$?
sed 's/^/# /' "$tmp/c.txt"
e2e_result "client host: status alone lists both clients (exit 0)" \
	"$([ $rc = 0 ] && grep -qx 'client: 127.0.0.1:1234' "$tmp/c.txt" &&
	  grep -qx 'client: 127.0.0.1:1235' "$tmp/c.txt"; echo $?)"
e2e_result "short view: peer, tuple, state, last heard, transfer; only non-zero drops" \
	"$(grep -qx '  peer: 127.0.0.1:40001' "$tmp/c.txt" && grep -q '^    tuple: 203.0.113.2:4567 > ' "$tmp/c.txt" &&
	  grep -qx '    state: established' "$tmp/c.txt" && grep -q '^    last heard: [0-9]*s ago$' "$tmp/c.txt" &&
	  grep -qx '    transfer: 4.93 KiB received, 4.93 KiB sent' "$tmp/c.txt" &&
	  grep -qx '  drops: too big 1' "$tmp/c.txt" && ! grep -q 'bad checksum\|: 0$\| 0,' "$tmp/c.txt"; echo $?)"
ns_ "$E2E_SERVER" status >"$tmp/s.txt" 2>&1
rc=$?
sed 's/^/# /' "$tmp/s.txt"
e2e_result "server host: status alone lists the TUN and the raw server (exit 0)" \
	"$([ $rc = 0 ] && grep -qx 'server: port 4567' "$tmp/s.txt" && grep -qx '  mode: tun on tun0' "$tmp/s.txt" &&
	  grep -qx 'server: port 4568' "$tmp/s.txt" && grep -qx '  mode: raw on s0' "$tmp/s.txt"; echo $?)"
nc_ "$E2E_CLIENT" status -v -l 127.0.0.1:1234 >"$tmp/c-full.txt"
e2e_result "-v: the full report as before" \
	"$(grep -q '^fauxtcp-client: listening on 127.0.0.1:1234' "$tmp/c-full.txt" &&
	  grep -q '^peer 127.0.0.1:40001: .* established, .*datagrams out 100 in 100' "$tmp/c-full.txt" &&
	  grep -q '^drops: too big 1,' "$tmp/c-full.txt"; echo $?)"

# ---- JSON: valid, and the counters are the traffic's
nc_ "${cuser[@]}" "$E2E_CLIENT" status --json >"$tmp/c.json"
e2e_expect "client --json | python3 -m json.tool" python3 -m json.tool "$tmp/c.json" /dev/null
c1='instances[local=127.0.0.1:1234]'
e2e_expect "client --json: counters match the traffic" "${verify[@]}" json "$tmp/c.json" \
	"schema=1" "$c1.role=client" "$c1.remote=203.0.113.2:4567" "$c1.mode=raw" "$c1.open_connections=1" \
	"$c1.counters.udp_datagrams_in=101" "$c1.counters.udp_datagrams_out=100" "$c1.counters.too_big=1" \
	"$c1.connections[peer=127.0.0.1:40001].state=established" \
	"$c1.connections[peer=127.0.0.1:40001].counters.datagrams_out=100" \
	"$c1.connections[peer=127.0.0.1:40001].counters.bytes_out=5050" \
	"$c1.connections[peer=127.0.0.1:40001].counters.datagrams_in=100" \
	"$c1.connections[peer=127.0.0.1:40001].counters.bytes_in=5050" \
	"instances[local=127.0.0.1:1235].connections[peer=127.0.0.1:40002].counters.bytes_in=5050"
ns_ "$E2E_SERVER" status --json >"$tmp/s.json"
e2e_expect "server --json: both modes, counters match the traffic" "${verify[@]}" json "$tmp/s.json" \
	"instances[local=4567].mode=tun" "instances[local=4567].interface=tun0" \
	"instances[local=4568].mode=raw" "instances[local=4568].interface=s0" \
	"instances[local=4567].connections[state=established].counters.datagrams_in=100" \
	"instances[local=4567].connections[state=established].counters.bytes_out=5050" \
	"instances[local=4568].connections[state=established].counters.bytes_in=5050"
ns_ "$E2E_SERVER" status --json -l 4568 >"$tmp/s1.json"
e2e_expect "-l with --json: one instance" "${verify[@]}" json "$tmp/s1.json" \
	"instances[local=4568].role=server"

# ---- Prometheus: promtool and a strict reading, values of the traffic
nc_ "${cuser[@]}" "$E2E_CLIENT" status --prometheus >"$tmp/c.prom"
ns_ "$E2E_SERVER" status --prometheus >"$tmp/s.prom"
sed -n '1,12p' "$tmp/c.prom" | sed 's/^/# /'
e2e_expect "client --prometheus: promtool check metrics" promtool check metrics <"$tmp/c.prom"
e2e_expect "server --prometheus: promtool check metrics" promtool check metrics <"$tmp/s.prom"
e2e_expect "client --prometheus: one family per metric, the traffic's values" "${verify[@]}" prom "$tmp/c.prom" \
	'fauxtcp_udp_datagrams_out_total{role="client",local="127.0.0.1:1234"}=100' \
	'fauxtcp_udp_datagrams_out_total{role="client",local="127.0.0.1:1235"}=100' \
	'fauxtcp_too_big_total{role="client",local="127.0.0.1:1234"}=1' \
	'fauxtcp_open_connections{role="client",local="127.0.0.1:1234"}=1'
e2e_expect "server --prometheus: one family per metric" "${verify[@]}" prom "$tmp/s.prom" \
	'fauxtcp_open_connections{role="server",local="4567"}=1' \
	'fauxtcp_open_connections{role="server",local="4568"}=1'

# ---- strings escaped: a fake server answers with quotes, backslashes
cat >"$tmp/fake.py" <<'PY'
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b'\0fauxtcp-server 4999')
s.listen(8)
while True:
    c, _ = s.accept()
    c.recv(64)
    c.sendall(b'fauxtcp-status 1\ns\tinfo\trole\tserver\t\ns\tinfo\tlocal\t4999\t\n'
              b's\tinfo\tremote\ta"b\\c\t\nc\tdrop\ttoo_big\t7\tSays "big" \\ here.\n')
    c.close()
PY
e2e_bg "$NS_R" "$tmp/fake.log" python3 "$tmp/fake.py"
e2e_until 5 nr_ grep -q '@fauxtcp-server 4999$' /proc/net/unix || e2e_die "the fake server did not start"
nr_ "$E2E_SERVER" status --json -l 4999 >"$tmp/fake.json"
e2e_expect "--json escapes quotes and backslashes" "${verify[@]}" json "$tmp/fake.json" \
	'instances[local=4999].remote=a"b\c' "instances[local=4999].counters.too_big=7"
nr_ "$E2E_SERVER" status --prometheus -l 4999 >"$tmp/fake.prom"
e2e_expect "--prometheus escapes label values and help" promtool check metrics <"$tmp/fake.prom"
e2e_expect "--prometheus: the escaped sample" "${verify[@]}" prom "$tmp/fake.prom" \
	'fauxtcp_info{role="server",local="4999",remote="a\"b\\c"}=1'

# ---- squatters: a silent one, one answering escapes and bad names,
# one named with an escape; `status` stays bounded and clean
cat >"$tmp/squat.py" <<'PY'
import socket, sys, time
kind = sys.argv[1]
name = {'silent': b'fauxtcp-server 4998', 'bad': b'fauxtcp-server 4997',
        'esc': b'fauxtcp-server 4\x1b[31m96'}[kind]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b'\0' + name)
s.listen(8)
held = []
while True:
    c, _ = s.accept()
    if kind == 'silent':
        held.append(c)  # accepts, never answers, never closes
        continue
    c.recv(64)
    c.sendall(b'fauxtcp-status 1\ns\tinfo\trole\tserver\t\ns\tinfo\tlocal\t\x1b[31m4997\t\n'
              b'g\tinfo\topen_connections{role="server",local="4567"} 0 #\t1\tspoof\n'
              b'c\tdrop\ttoo_big\t7\tHelp \x1b]0;title\x07 here.\n')
    c.close()
PY
for k in silent bad esc; do e2e_bg "$NS_R" "$tmp/squat-$k.log" python3 "$tmp/squat.py" "$k"; done
e2e_until 5 nr_ grep -q '@fauxtcp-server 4997$' /proc/net/unix || e2e_die "the squatters did not start"
e2e_until 5 nr_ grep -q '@fauxtcp-server 4998$' /proc/net/unix || e2e_die "the squatters did not start"
start=$(date +%s%N)
nr_ timeout 10 "$E2E_SERVER" status -l 4998 >"$tmp/silent.out" 2>"$tmp/silent.err"
rc=$? ms=$((($(date +%s%N) - start) / 1000000))
sed 's/^/# /' "$tmp/silent.err"
e2e_result "a silent squatter: status -l returns in ${ms} ms (exit 1, one line)" \
	"$([ $rc = 1 ] && [ $ms -lt 3500 ] && [ "$(wc -l <"$tmp/silent.err")" = 1 ] &&
	  grep -q 'no whole answer within 2 s' "$tmp/silent.err"; echo $?)"
for v in "" -v --json --prometheus; do
	for l in "-l 4997" ""; do
		start=$(date +%s%N)
		# shellcheck disable=SC2086
		nr_ timeout 20 "$E2E_SERVER" status $v $l >"$tmp/sq.out" 2>"$tmp/sq.err"
		rc=$? ms=$((($(date +%s%N) - start) / 1000000))
		sed 's/^/# /' "$tmp/sq.err" | tr -d '\033'
		e2e_result "squatters, status $v ${l:-(all)}: no ESC byte, exit $rc, ${ms} ms" \
			"$( { [ $rc = 1 ] || [ "$v$l" = "-v-l 4997" ]; } && [ $ms -lt 3500 ] && ! grep -q $'\033' "$tmp/sq.out" "$tmp/sq.err"; echo $?)"
		if [ "$v" = --prometheus ] && [ -z "$l" ]; then
			e2e_expect "squatters, --prometheus: promtool passes, the bad answer skipped" \
				promtool check metrics <"$tmp/sq.out"
			e2e_result "squatters, --prometheus: no spoofed series" \
				"$(! grep -q '4567\|spoof' "$tmp/sq.out"; echo $?)"
		fi
	done
done

# ---- a squatter holding a client's name with a full backlog: the
# client still starts (its startup probe does not block) and relays
cat >"$tmp/full.py" <<'PY'
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b'\0fauxtcp-client 127.0.0.1:1236')
s.listen(0)
fill = []
while True:  # fill the backlog, never accept
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(b'\0fauxtcp-client 127.0.0.1:1236')
    except BlockingIOError:
        break
    fill.append(c)
print('full', len(fill), flush=True)
time.sleep(3600)
PY
e2e_bg "$NS_C" "$tmp/full.log" python3 "$tmp/full.py"
e2e_until 5 grep -q '^full' "$tmp/full.log" || e2e_die "the backlog squatter did not start"
e2e_expect "a client whose name is held with a full backlog still starts" \
	e2e_client "$NS_C" "$tmp/client-squat.log" -l 127.0.0.1:1236 -r 203.0.113.2:4567
e2e_expect "... and warns that it has no status socket" grep -q 'no status socket' "$tmp/client-squat.log"
e2e_expect "... and relays" \
	nc_ "${check[@]}" --to 127.0.0.1:1236 --sizes 1,2,3 --bind 127.0.0.1:40003 --timeout 2 --name squat

# ---- exit codes
expect_rc() { # NAME RC PATTERN CMD...: CMD exits RC with PATTERN on stderr
	local name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	sed 's/^/# /' "$tmp/err"
	e2e_result "$name (exit $want)" "$([ $rc = "$want" ] && grep -qE "$pattern" "$tmp/err"; echo $?)"
}
expect_rc "a client not running: named, and what to do" 3 \
	'no fauxtcp-client runs with --local 127.0.0.1:1299 in this network namespace; start it' \
	nc_ "$E2E_CLIENT" status -l 127.0.0.1:1299
expect_rc "a server not running: named" 3 'no fauxtcp-server runs on port 4000 in this network namespace' \
	ns_ "$E2E_SERVER" status --json -l 4000
e2e_netns NS_E empty
expect_rc "nothing running in the namespace" 3 'no fauxtcp-client or fauxtcp-server runs in this network namespace' \
	ip netns exec "$NS_E" "$E2E_SERVER" status
expect_rc "another user is refused" 1 "^status: refused: run it as the daemon's user or root$" \
	nc_ "${other[@]}" "$E2E_CLIENT" status -l 127.0.0.1:1234
expect_rc "another user is refused, listing" 1 "^status: refused" \
	nc_ "${other[@]}" "$E2E_CLIENT" status --prometheus
expect_rc "two views at once" 2 'choose one of' nc_ "$E2E_CLIENT" status --json --prometheus

[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp"/*.log
echo "$E2E_PASS passed, $E2E_FAIL failed"
[ "$E2E_FAIL" -eq 0 ]
