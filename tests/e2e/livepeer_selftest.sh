#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Tests of the live peer itself (tests/livepeer/livepeer.py), no server
# under test needed:
#
#   1. offline: livepeer.py --self-test on every server-role capture must
#      pass, and with a deliberately altered, dropped, duplicated or
#      delayed answer, or another ISN, must fail with the right line;
#   2. live (root): the same captures played through the real e2e topology
#      (lib.sh) against tests/livepeer/fakeserver.py, which answers with the
#      capture's own server frames: checks the sniffer, sendp, timing,
#      the client host's RST rule, the seq adaptation (fake ISN 1000) and
#      that a wrong live answer is caught.
#
# Usage: tests/e2e/livepeer_selftest.sh [--offline]
# Ends with "N passed, M failed"; exit status 0 only if M == 0.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

FIXTURES=${FAUXTCP_FIXTURES:-$top/../shared/fixtures/phantun}
LIVEPEER=$top/tests/livepeer/livepeer.py
FAKESERVER=$top/tests/livepeer/fakeserver.py
PYTHON=/usr/bin/python3

declare -A PCAP IDLE
PCAP[a]=a-ipv4-echo-idle.pcap;	IDLE[a]="--idle-timeout 5"
PCAP[b]=b-ipv6-echo.pcap
PCAP[d1]=d1-server-bad-syn.pcap
PCAP[d2]=d2-server-synack-retries.pcap
PCAP[e1]=e1-server-stray-segments.pcap
PCAP[e2]=e2-server-stray-direct-to-tun.pcap
PCAP[f]=f-handshake-packet.pcap
PCAP[g]=g-two-udp-peers.pcap
ALL=(a b d1 d2 e1 e2 f g)

passed=0
failed=0
result() {	# result OK|FAIL DESCRIPTION [LOG]
	if [ "$1" = OK ]; then
		passed=$((passed + 1))
		echo "ok: $2"
	else
		failed=$((failed + 1))
		echo "FAIL: $2"
		[ -n "${3:-}" ] && sed 's/^/    /' "$3"
	fi
}

e2e_init
out=$E2E_TMP/out

# expect NAME RC PATTERN -- livepeer arguments: run livepeer, want exit
# status RC and (if PATTERN is not empty) a line matching PATTERN.
expect() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	"$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" != "$want" ]; then
		result FAIL "$name: exit status $rc, wanted $want" "$out"
	elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$out"; then
		result FAIL "$name: no line matching /$pat/" "$out"
	else
		result OK "$name: $(tail -n 1 "$out")"
	fi
}

# ---- 1. offline -----------------------------------------------------------
lp() { "$PYTHON" "$LIVEPEER" "$@"; }
for n in "${ALL[@]}"; do
	# shellcheck disable=SC2086
	expect "self-test $n" 0 '^[0-9]+ passed, 0 failed$' -- \
		lp --self-test --pcap "$FIXTURES/${PCAP[$n]}" ${IDLE[$n]:-}
done
expect "altered ack is caught" 1 \
	'^frame 5: tcp\.ack: expected 2, got 3; tcp\.checksum: expected 0x2d76, got 0x2d75$' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[a]}" --idle-timeout 5 --mutate 5:tcp.ack+=1
expect "altered hop limit is caught" 1 '^frame 7: ip6\.hlim: expected 63, got 64$' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[b]}" --mutate 7:ip6.hlim=64
expect "altered window on a kernel RST is caught" 1 \
	'^frame 8: tcp\.window: expected 0, got 65535$' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[e1]}" --mutate 8:tcp.window=65535
expect "altered DF bit is caught" 1 \
	'^frame 4: ip\.flags_frag: expected 0x4000, got 0x0; ip\.checksum' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[e2]}" --mutate 4:ip.flags_frag=0
expect "altered payload is caught" 1 '^frame 4: tcp\.checksum: .*; tcp\.payload: .*first difference at byte 28\)$' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[f]}" \
	--mutate 4:tcp.payload=5345525645522d48454c4c4f2d6162636465666768696a6b6c6d6e6f71
expect "an ack ending an earlier client segment passes, with a note" 0 \
	'^note: frame 7 acks 21, the end of an earlier client segment, where the capture acks 121' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[f]}" --mutate 7:tcp.ack=21
expect "an ack ending no client segment is caught" 1 '^frame 7: tcp\.ack: expected 121, got 50; ' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[f]}" --mutate 7:tcp.ack=50
expect "dropped answer is missing" 1 '^frame 2: missing: ' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[d1]}" --mutate 2:drop
expect "duplicate answer is caught" 1 '^extra: unexpected frame' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[d2]}" --mutate 5:dup
expect "dropped retry is missing, the next is not" 1 '^3 passed, 1 failed$' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[d2]}" --mutate 3:drop
grep -q '^frame 3: missing' "$out" || result FAIL "dropped retry: frame 3 reported" "$out"
expect "late answer is caught" 1 '^frame 3: time: expected \+1\.002 s, got \+1\.402 s' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[d2]}" --mutate 3:delay=400
expect "late idle RST is caught" 1 '^frame 14: missing' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[a]}" --idle-timeout 5 --mutate 14:delay=1000
expect "gap shortening" 0 '^frame 14 ok \(\+7\.004 s, expected \+7\.004 s\)$' -- \
	lp --self-test -v --pcap "$FIXTURES/${PCAP[a]}" --idle-timeout 5
expect "other ISN: only the SYN|ACKs fail, acks adapted" 1 \
	'^self-test: 8 client frames sent with ack \+ 1000$' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[g]}" --seq-offset 1000
if [ "$(grep -c '^frame [0-9]*: tcp\.seq: expected 0, got 1000; tcp\.checksum' "$out")" = 2 ] &&
   grep -q '^6 passed, 2 failed$' "$out"; then
	result OK "other ISN: exactly frames 2 and 7 fail"
else
	result FAIL "other ISN: exactly frames 2 and 7 fail" "$out"
fi
expect "--skip" 0 '^6 passed, 0 failed$' -- \
	lp --self-test --pcap "$FIXTURES/${PCAP[a]}" --skip 14,15

if [ "${1:-}" = --offline ] || [ "$(id -u)" != 0 ]; then
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
fi

# ---- 2. live, against fakeserver.py ----------------------------------------
# live NAME RC PATTERN CAPTURE "FAKE ARGS" -- [LIVEPEER ARGS]
live() {
	local name=$1 want=$2 pat=$3 n=$4 fargs=$5 rc frc
	shift 6
	local -a fa
	read -r -a fa <<<"$fargs ${IDLE[$n]:-}"
	e2e_topology || { result FAIL "$name: topology"; return; }
	# the fake server's host must not answer anything itself
	ns_ sysctl -q -w net.ipv4.ip_forward=0
	ns_ nft -f - <<-'EOF'
	table inet fakeserver {
		chain output {
			type filter hook output priority 0; policy drop;
		}
	}
	EOF
	e2e_bg "$NS_S" "$E2E_TMP/fake.log" "$PYTHON" "$FAKESERVER" \
		--pcap "$FIXTURES/${PCAP[$n]}" --iface veth0 --timeout 60 "${fa[@]}"
	local fpid=$E2E_LAST_PID
	for _ in $(seq 100); do
		grep -q ready "$E2E_TMP/fake.log" && break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	nc_ "$PYTHON" "$LIVEPEER" --pcap "$FIXTURES/${PCAP[$n]}" --iface veth0 \
		${IDLE[$n]:-} "$@" >"$out" 2>&1
	rc=$?
	e2e_stop "$fpid" 5
	frc=$E2E_LAST_RC
	cat "$E2E_TMP/fake.log" >>"$out"
	e2e_teardown
	if [ "$rc" != "$want" ]; then
		result FAIL "$name: livepeer exit status $rc, wanted $want" "$out"
	elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$out"; then
		result FAIL "$name: no line matching /$pat/" "$out"
	elif [ "$frc" != 0 ] && [ "$want" = 0 ]; then
		result FAIL "$name: fakeserver exit status $frc" "$out"
	else
		result OK "$name: $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out")"
	fi
}

for n in "${ALL[@]}"; do
	live "live $n" 0 '^[0-9]+ passed, 0 failed$' "$n" "" --
done
live "live g, server ISN 1000" 1 '^2 passed|^6 passed, 2 failed$' g "--seq-offset 1000" --
if grep -q '^1[0-9]* received ok, 0 differ$' "$out" &&
   [ "$(grep -c ': tcp\.seq: expected 0, got 1000; tcp\.checksum' "$out")" = 2 ]; then
	result OK "live g, server ISN 1000: acks adapted, only the SYN|ACKs fail"
else
	result FAIL "live g, server ISN 1000: acks adapted, only the SYN|ACKs fail" "$out"
fi
live "live a, wrong ack caught" 1 '^frame 7: tcp\.ack: expected 102, got 103; ' \
	a "--mutate 7:tcp.ack+=1" --
live "live d2, late retry caught" 1 '^frame 4: time: expected \+2\.00[0-9] s, got \+2\.4' \
	d2 "--mutate 4:delay=400" --

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
