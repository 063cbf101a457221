#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# WireGuard office -> home through fauxtcp, the way it is deployed, in
# namespaces this script creates and always deletes (fxw-*-PID):
#
#   office host (C)            router (R)                 home host (S)
#   c0 198.51.100.2/24 ------- NAT out of r1, the -------- s0 203.0.113.2/24
#   hardened: input+forward    kernel's default           fauxtcp-server -l 4567
#   policy drop, ip_forward 0  conntrack                  -r 127.0.0.1:51820, TUN
#   fauxtcp-client as uid                                 mode, then raw mode on s0
#   65534 with only CAP_NET_RAW                           wireguard-go wgs<PID>,
#   -l 127.0.0.1:4000                                     listen-port 51820,
#   -r 203.0.113.2:4567                                   2001:db8:14::2/64
#   wireguard-go wgc<PID>,
#   endpoint 127.0.0.1:4000,
#   2001:db8:14::1/64
#
# wireguard-go is the userspace WireGuard (this kernel has no module): it
# creates the TUN device in the namespace it starts in and serves wg on
# /var/run/wireguard/IFNAME.sock, a path every namespace shares, hence the
# PID in the interface names. The inner addresses are 2001:db8:14::/64, a
# documentation prefix the topology does not use (its IPv4 documentation
# ranges are all on the outer links).
#
# WireGuard MTU, computed: a WireGuard data packet is the inner packet plus
# 32 bytes (16 of header: type, receiver index, counter; 16 of Poly1305
# tag) and travels as one UDP datagram into fauxtcp-client, which sends it
# as the payload of one fake-TCP segment: 20 bytes of IPv4 and 20 of TCP
# (fauxtcp sends no TCP options after the handshake) on a 1500-byte link.
# So 1500 - 20 - 20 - 32 = 1428 (1408 with an IPv6 outer path). The check
# pings with exactly 1428-byte packets, don't-fragment, and reads
# fauxtcp's too-big counters.
#
# Checks, with the server in TUN mode and then in raw mode: a handshake
# (wg show latest-handshakes), pings over the inner addresses (one of them
# MTU-sized), 20 MB by TCP each way (the office host opens both
# connections: it accepts nothing), sha256 equal on both ends, no datagram
# too big for the tunnel. Missing tools fail, they do not skip. ~30 s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

wg_mtu=$((1500 - 20 - 20 - 32)) # 1428: see above
mb=20
[ "$(id -u)" = 0 ] || e2e_die "needs root (network namespaces)"
e2e_need_daemons
e2e_need_tools ip nft wireguard-go wg socat sha256sum ping setpriv ss timeout
# shellcheck disable=SC2034 # read by lib.sh
E2E_NAME=fxw
e2e_init
tmp=$E2E_TMP t_start=$(date +%s)
wgc=wgc$$ wgs=wgs$$ # <= 15 characters: pids stay below 2^22
wgc=${wgc:0:15} wgs=${wgs:0:15}
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 # wireguard-go on Linux

e2e_router_topology ipv6=0 || e2e_die "cannot build the topology"
e2e_hardened "$NS_C" || e2e_die "nft on the office host"
head -c "$((mb << 20))" /dev/urandom >"$tmp/up.bin"
head -c "$((mb << 20))" /dev/urandom >"$tmp/down.bin"

umask 077 # private keys
for k in c s; do
	if ! wg genkey >"$tmp/$k.key" || ! wg pubkey <"$tmp/$k.key" >"$tmp/$k.pub"; then e2e_die "wg genkey/pubkey"; fi
done
umask 022

# wg_up NS IF ADDR: wireguard-go IF in NS (foreground, killed at cleanup,
# its pid added to wg_pids), its address and MTU, up.
wg_pids=()
wg_up() {
	local ns=$1 ifn=$2 addr=$3
	rm -f "/var/run/wireguard/$ifn.sock"
	e2e_bg "$ns" "$tmp/$ifn.log" wireguard-go -f "$ifn"
	wg_pids+=("$E2E_LAST_PID")
	e2e_until 5 test -S "/var/run/wireguard/$ifn.sock" || return 1
	ip -n "$ns" addr add "$addr" dev "$ifn" nodad &&
		ip -n "$ns" link set "$ifn" mtu "$wg_mtu" up
}

# wg_pair: both ends up and configured; the office peer keeps the path warm.
wg_pair() {
	wg_up "$NS_S" "$wgs" 2001:db8:14::2/64 || return 1
	wg_up "$NS_C" "$wgc" 2001:db8:14::1/64 || return 1
	ns_ wg set "$wgs" listen-port 51820 private-key "$tmp/s.key" \
		peer "$(cat "$tmp/c.pub")" allowed-ips 2001:db8:14::1/128 || return 1
	nc_ wg set "$wgc" private-key "$tmp/c.key" \
		peer "$(cat "$tmp/s.pub")" allowed-ips 2001:db8:14::2/128 \
		endpoint 127.0.0.1:4000 persistent-keepalive 25
}

wg_down() {
	local pid
	for pid in "${wg_pids[@]}"; do e2e_stop "$pid"; done
	wg_pids=()
	rm -f "/var/run/wireguard/$wgc.sock" "/var/run/wireguard/$wgs.sock"
}

quiet() { "$@" >"$tmp/quiet.out" 2>&1 || { sed 's/^/#   /' "$tmp/quiet.out"; return 1; }; }

handshake() { # the office end's latest handshake is recent
	local ts
	ts=$(nc_ wg show "$wgc" latest-handshakes | awk '{print $2}')
	[ -n "$ts" ] && [ "$ts" -gt 0 ]
}

gone() { ! kill -0 "$1" 2>/dev/null; }
listening() { ns_ ss -Hnlt "sport = :$1" | grep -q .; }

# transfer NAME FILE DIR: FILE across the tunnel by TCP, up (office ->
# home) or down (home -> office), both connections opened by the office
# host; the sha256 of what arrived must equal the file's.
transfer() {
	local name=$1 file=$2 dir=$3 port=5201 got=$tmp/got.bin t0 t1 want have pid
	rm -f "$got"
	if [ "$dir" = up ]; then
		e2e_bg "$NS_S" "$tmp/socat.log" socat -u "TCP6-LISTEN:$port,bind=[2001:db8:14::2],reuseaddr" "CREATE:$got"
	else
		e2e_bg "$NS_S" "$tmp/socat.log" socat -u "OPEN:$file" "TCP6-LISTEN:$port,bind=[2001:db8:14::2],reuseaddr"
	fi
	pid=$E2E_LAST_PID
	e2e_until 5 listening "$port" || { e2e_result "$name (no listener)" 1; return; }
	t0=$(date +%s%N)
	if [ "$dir" = up ]; then
		nc_ timeout 20 socat -u "OPEN:$file" "TCP6:[2001:db8:14::2]:$port"
	else
		nc_ timeout 20 socat -u "TCP6:[2001:db8:14::2]:$port" "CREATE:$got"
	fi
	e2e_until 10 gone "$pid" # the listener writes the rest and exits
	t1=$(date +%s%N)
	e2e_stop "$pid" 1
	want=$(sha256sum <"$file" | cut -d' ' -f1)
	have=$(sha256sum <"$got" 2>/dev/null | cut -d' ' -f1)
	e2e_result "$name: $mb MB, sha256 ${have:0:16}... ($(((mb * 8 * 1000000000) / (t1 - t0 + 1))) Mbit/s)" \
		"$([ "$want" = "$have" ]; echo $?)"
}

server_gso() { # the server's link line: GSO super-packets sent, segments that joined one
	ns_ "$E2E_SERVER" status -v -l 4567 2>/dev/null |
		sed -n 's/.*GSO super-packets sent \([0-9]*\) carrying \([0-9]*\) more.*/\1 \2/p'
}

run_mode() { # tun | raw
	local mode=$1 tag="[$1]" up=0 srv cli tb supers merged
	e2e_server "$NS_S" "$tmp/server-$mode.log" "$mode" -l 4567 -r 127.0.0.1:51820 || up=1
	srv=$E2E_LAST_PID
	e2e_client "$NS_C" "$tmp/client-$mode.log" -l 127.0.0.1:4000 -r 203.0.113.2:4567 || up=1
	cli=$E2E_LAST_PID
	e2e_result "$tag both daemons started" $up || return
	e2e_expect "$tag wireguard-go up on both hosts" wg_pair || return
	nc_ ping -6 -c 1 -W 1 2001:db8:14::2 >/dev/null 2>&1 # starts the handshake
	e2e_expect "$tag handshake (wg show latest-handshakes)" e2e_until 10 handshake
	e2e_expect "$tag ping 2001:db8:14::2 over WireGuard" quiet nc_ ping -6 -c 5 -i 0.2 -W 2 2001:db8:14::2
	# inner packet = WireGuard MTU: 40 bytes of IPv6 + 8 of ICMPv6 + data
	e2e_expect "$tag ping with $wg_mtu-byte packets, don't-fragment" \
		quiet nc_ ping -6 -c 3 -i 0.2 -W 2 -M "do" -s $((wg_mtu - 48)) 2001:db8:14::2
	transfer "$tag TCP office -> home" "$tmp/up.bin" up
	transfer "$tag TCP home -> office" "$tmp/down.bin" down
	tb=$(e2e_too_big 127.0.0.1:4000 4567)
	e2e_result "$tag no datagram too big for the tunnel (client, server: $tb)" \
		"$([ "$tb" = "0 0" ]; echo $?)"
	# home -> office left the server as TSO frames (TUN: written to the
	# device behind a virtio-net header), and the sha256 above held.
	read -r supers merged < <(server_gso)
	e2e_result "$tag server sent GSO super-packets: ${supers:-?} carrying ${merged:-?} more segments" \
		"$([ "${supers:-0}" -gt 0 ] && [ "${merged:-0}" -gt 0 ]; echo $?)"
	e2e_result "$tag both daemons alive" "$(kill -0 "$srv" && kill -0 "$cli"; echo $?)"
	[ "$E2E_FAIL" -eq 0 ] || e2e_tail_logs "$tmp/server-$mode.log" "$tmp/client-$mode.log" \
		"$tmp/$wgc.log" "$tmp/$wgs.log" "$tmp/socat.log"
	wg_down
	e2e_stop "$cli"
	e2e_stop "$srv"
}

run_mode tun
run_mode raw
echo "$E2E_PASS passed, $E2E_FAIL failed ($(($(date +%s) - t_start)) s)"
[ "$E2E_FAIL" -eq 0 ]
