#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# UDP_SEGMENT senders through the tunnel, in namespaces this script creates
# and always deletes (gro-*-PID-SEQ; run as root, ~15 s):
#
#   client host (C)            router (R)              server host (S)
#   c0 198.51.100.2/24 ------- masquerade out ------- s0 203.0.113.2/24
#   fauxtcp-client as uid      of r1                  fauxtcp-server -l 4567
#   65534, CAP_NET_RAW only                           -r 127.0.0.1:5001
#   -l 127.0.0.1:4000                                 (TUN mode, then raw on s0)
#   -r 203.0.113.2:4567
#
# WireGuard-go and QUIC stacks send bursts of datagrams as one sendto()
# with UDP_SEGMENT; the daemons' UDP sockets have UDP_GRO on, so such a
# burst reaches them as one super-datagram (over loopback, as here, always)
# and they cut it back into the sender's datagrams (port/udp/udprx.c).
# tests/e2e/gsocheck.py sends ~300 bursts, datagrams of 16..1400 bytes, 1 to
# 64 a burst, the last one equal or shorter, some as plain datagrams, and
# the receiver checks that each datagram arrived once with exactly its
# bytes (a merged or cut datagram is "altered"). For each server mode:
#   c->s  gsocheck send on C from 127.0.0.1:4100 into fauxtcp-client;
#         gsocheck recv on S's 127.0.0.1:5001, the server's --remote
#   s->c  gsocheck recv on C's 127.0.0.1:4200 (its HELLO opens the
#         connection); gsocheck send on S's 127.0.0.1:5001 back to the
#         server's socket for that connection, which it learns from the HELLO
# Pass: every datagram intact, both directions, both modes; no datagram too
# big for the tunnel (a super-datagram passed whole would be one); both
# daemons alive. Missing tools fail, they do not skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || e2e_die "needs root (network namespaces)"
e2e_need_daemons
e2e_need_tools ip nft python3 setpriv ss timeout
# shellcheck disable=SC2034 # read by lib.sh
E2E_NAME=gro
e2e_init
tmp=$E2E_TMP t_start=$(date +%s)
# Copies: a rebuild during the run does not change what is tested.
cp "$E2E_CLIENT" "$E2E_SERVER" "$tmp/" || e2e_die "cannot copy the daemons"
E2E_CLIENT=$tmp/fauxtcp-client E2E_SERVER=$tmp/fauxtcp-server

e2e_router_topology ipv6=0 || e2e_die "cannot build the topology"

# check NAME SEED SEND_NS SEND_ARGS RECV_NS RECV_ARGS: the receiver first
# (in the background), then the sender; the receiver's verdict.
check() {
	local name=$1 seed=$2 sns=$3 sargs=$4 rns=$5 rargs=$6 rpid rc
	: >"$tmp/recv.out"
	# shellcheck disable=SC2086 # the ARGS strings: split into flags
	e2e_bg "$rns" "$tmp/recv.out" timeout 30 python3 "$here/gsocheck.py" recv --seed "$seed" $rargs
	rpid=$E2E_LAST_PID
	# the remote end must be bound before the opener's HELLO
	[[ $rargs == *--to* ]] || e2e_wait_udp "$rns" 5001 5
	# shellcheck disable=SC2086
	ip netns exec "$sns" timeout 30 python3 "$here/gsocheck.py" send --seed "$seed" $sargs \
		>"$tmp/send.out" 2>&1
	e2e_stop "$rpid" 30 CONT # (CONT: just wait for its verdict)
	rc=$E2E_LAST_RC
	e2e_result "$name: $(head -1 "$tmp/send.out"); $(head -1 "$tmp/recv.out")" "$rc"
	[ "$rc" = 0 ] || sed -n '2,$s/^/#   /p' "$tmp/recv.out" "$tmp/send.out"
}

run_mode() { # tun | raw
	local mode=$1 tag="[$1]" up=0 srv cli tb
	e2e_server "$NS_S" "$tmp/server-$mode.log" "$mode" -l 4567 -r 127.0.0.1:5001 || up=1
	srv=$E2E_LAST_PID
	e2e_client "$NS_C" "$tmp/client-$mode.log" -l 127.0.0.1:4000 -r 203.0.113.2:4567 || up=1
	cli=$E2E_LAST_PID
	e2e_result "$tag both daemons started" $up || return
	check "$tag c->s, UDP_SEGMENT bursts into fauxtcp-client" 11 \
		"$NS_C" "--bind 127.0.0.1:4100 --to 127.0.0.1:4000" "$NS_S" "--bind 127.0.0.1:5001"
	check "$tag s->c, UDP_SEGMENT bursts from the remote into fauxtcp-server" 12 \
		"$NS_S" "--bind 127.0.0.1:5001" "$NS_C" "--bind 127.0.0.1:4200 --to 127.0.0.1:4000"
	tb=$(e2e_too_big 127.0.0.1:4000 4567)
	e2e_result "$tag no datagram too big for the tunnel (client, server: $tb)" \
		"$([ "$tb" = "0 0" ]; echo $?)"
	e2e_result "$tag both daemons alive" "$(kill -0 "$srv" && kill -0 "$cli"; echo $?)"
	[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp/server-$mode.log" "$tmp/client-$mode.log"
	e2e_stop "$cli"
	e2e_stop "$srv"
}

run_mode tun
run_mode raw
echo "$E2E_PASS passed, $E2E_FAIL failed ($(($(date +%s) - t_start)) s)"
[ "$E2E_FAIL" -eq 0 ]
