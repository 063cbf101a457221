#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guard socket against real segments (docs/security.md, "The guard":
# the host's own TCP kept from answering the server's segments with RST,
# without any firewall rule).
#
# Two network namespaces joined by a veth: the holder (192.0.2.1,
# 2001:db8::1) runs test_guard as uid 65534 with no capabilities at all;
# the prober (192.0.2.2, 2001:db8::2) sends SYN|ACK, ACK with data and SYN
# with scapy and listens for answers. A guarded port must draw nothing, a
# plain port RSTs, a guard whose key covers another prefix is answered as
# any listener, and a drop-all-filter guard (held by root: it needs
# CAP_NET_ADMIN) draws nothing either. Runs as root; needs python3-scapy.
#   TEST_GUARD=path/to/test_guard tests/port/guard.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${TEST_GUARD:-$here/../../build/tests/test_guard}")
py=/usr/bin/python3
ha=fx-guard-a-$$ nb=fx-guard-b-$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
pass=0 fail=0
holders=()

cleanup() {
	local p
	exec 3>&- 4>&- 2>/dev/null
	for p in "${holders[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$ha" 2>/dev/null
	ip netns del "$nb" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() {
	echo "ok   $*"
	pass=$((pass + 1))
}
bad() {
	echo "FAIL $*"
	fail=$((fail + 1))
}

if [ ! -x "$bin" ]; then
	echo "test_guard not built: $bin (set TEST_GUARD)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if ! "$py" -c 'import scapy' 2>/dev/null; then
	echo "python3-scapy missing: apt-get install python3-scapy" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

ip netns add "$ha"
ip netns add "$nb"
ip -n "$ha" link set lo up
ip -n "$nb" link set lo up
ip link add va netns "$ha" address 02:00:00:00:00:01 type veth \
	peer name vb netns "$nb" address 02:00:00:00:00:02
ip -n "$ha" addr add 192.0.2.1/24 dev va
ip -n "$nb" addr add 192.0.2.2/24 dev vb
ip -n "$ha" addr add 2001:db8::1/64 dev va nodad
ip -n "$nb" addr add 2001:db8::2/64 dev vb nodad
ip -n "$ha" link set va up
ip -n "$nb" link set vb up
A() { ip netns exec "$ha" "$@"; }
B() { ip netns exec "$nb" "$@"; }
unpriv=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
	--bounding-set=-all)

# selftest WHO CMD...: the checks that need no peer; each line counts.
selftest() {
	local who=$1 line done=0
	shift
	while read -r line; do
		case $line in
		ok*) ok "$who: ${line#ok }" ;;
		FAIL*) bad "$who: ${line#FAIL }" ;;
		"0 failed") done=1 ;;
		*" failed") done=1 ;;
		*) echo "     $who: $line" ;;
		esac
	done < <("$@" 2>&1)
	[ $done = 1 ] || bad "$who: selftest did not finish"
}
selftest unpriv A "${unpriv[@]}" "$bin" selftest unpriv
selftest root A "$bin" selftest root

# start_holder FD OUT PRIV SPEC...: holds guards until FD is closed.
start_holder() {
	local fd=$1 out=$2 priv=$3 fifo i
	shift 3
	fifo=$tmp/fifo$fd
	mkfifo "$fifo"
	eval "exec $fd<>\"$fifo\""
	# ip netns exec, not A: $! must be the holder itself, not a
	# subshell running a function.
	if [ "$priv" = unpriv ]; then
		ip netns exec "$ha" "${unpriv[@]}" "$bin" hold "$@" \
			<"$fifo" >"$out" 2>&1 3>&- 4>&- &
	else
		ip netns exec "$ha" "$bin" hold "$@" \
			<"$fifo" >"$out" 2>&1 3>&- 4>&- &
	fi
	holders+=($!)
	for i in $(seq 50); do
		grep -q '^ready' "$out" && return 0
		sleep 0.1
	done
	return 1
}

# The unprivileged holder: prefix 0, the prober's own /32 (/128), a prefix
# that is not the prober's, and a port the kernel picks.
start_holder 3 "$tmp/unpriv.out" unpriv \
	auto,192.0.2.1,4567 auto,192.0.2.1,4568,192.0.2.2/32 \
	auto,192.0.2.1,4569,198.51.100.0/24 auto,192.0.2.1,0 \
	auto,2001:db8::1,4567 auto,2001:db8::1,4568,2001:db8::2/128 \
	auto,2001:db8::1,4569,2001:db8:ffff::/48 auto,2001:db8::1,0 ||
	bad "unprivileged holder did not start: $(cat "$tmp/unpriv.out")"
start_holder 4 "$tmp/root.out" root bpf,192.0.2.1,4571 bpf,2001:db8::1,4571 ||
	bad "root holder did not start: $(cat "$tmp/root.out")"
sed 's/^/     holder: /' "$tmp/unpriv.out" "$tmp/root.out"

for i in 0 1 2 3 4 5 6 7; do
	if grep -q "^guard $i port .* method md5" "$tmp/unpriv.out"; then
		ok "unprivileged guard $i uses TCP-MD5"
	else
		bad "unprivileged guard $i: $(grep "^guard $i " "$tmp/unpriv.out")"
	fi
done
for i in 0 1; do
	if grep -q "^guard $i port 4571 method bpf" "$tmp/root.out"; then
		ok "root filter guard $i"
	else
		bad "root filter guard $i: $(grep "^guard $i " "$tmp/root.out")"
	fi
done
auto4=$(awk '$1 == "guard" && $2 == 3 { print $4 }' "$tmp/unpriv.out")
auto6=$(awk '$1 == "guard" && $2 == 7 { print $4 }' "$tmp/unpriv.out")

# Probes: NAME DST PORT KIND EXPECT, KIND one of synack, data, syn;
# EXPECT none (no answer at all), rst (an RST), synack.
probes=()
for fam in 4 6; do
	if [ $fam = 4 ]; then dst=192.0.2.1 auto=$auto4; else dst=2001:db8::1 auto=$auto6; fi
	for kind in synack data syn; do
		probes+=("v$fam-guarded-every-peer-$kind $dst 4567 $kind none")
		probes+=("v$fam-guarded-this-peer-$kind $dst 4568 $kind none")
		probes+=("v$fam-guarded-kernel-port-$kind $dst ${auto:-1} $kind none")
		probes+=("v$fam-guarded-by-filter-$kind $dst 4571 $kind none")
		probes+=("v$fam-plain-port-$kind $dst 4570 $kind rst")
		if [ $kind = syn ]; then
			probes+=("v$fam-other-prefix-guard-$kind $dst 4569 $kind synack")
		else
			probes+=("v$fam-other-prefix-guard-$kind $dst 4569 $kind rst")
		fi
	done
done

# The packet tap (tcpdump: AF_PACKET, like fauxtcp) in the holder's
# namespace must still see every segment the guards keep from the stack.
ip netns exec "$ha" tcpdump -i va -nn -U -w "$tmp/tap.pcap" \
	"tcp and src host 192.0.2.2 or src host 2001:db8::2" 2>"$tmp/tcpdump.err" &
tap=$!
holders+=("$tap")
for i in $(seq 50); do
	grep -q listening "$tmp/tcpdump.err" && break
	sleep 0.1
done

cat >"$tmp/probe.py" <<'EOF'
# Sends each probe from its own source port, then matches the answers.
import sys, time
from scapy.all import AsyncSniffer, Ether, IP, IPv6, TCP, Raw, sendp

A_MAC, B_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
probes = [line.split() for line in sys.stdin if line.strip()]
sniffer = AsyncSniffer(iface="vb", filter="tcp and ether src " + A_MAC)
sniffer.start()
time.sleep(0.5)
flags = {"synack": "SA", "data": "A", "syn": "S"}
for i, (name, dst, port, kind, expect) in enumerate(probes):
    sport = 20000 + i
    ip = IP(src="192.0.2.2", dst=dst) if ":" not in dst else \
        IPv6(src="2001:db8::2", dst=dst)
    seg = TCP(sport=sport, dport=int(port), flags=flags[kind],
              seq=1000 + i, ack=5000 if kind != "syn" else 0, window=65535)
    pkt = Ether(src=B_MAC, dst=A_MAC) / ip / seg
    if kind == "data":
        pkt = pkt / Raw(b"x" * 100)
    sendp(pkt, iface="vb", verbose=False)
time.sleep(1.5)
answers = {}
for p in sniffer.stop():
    if TCP in p:
        answers.setdefault(p[TCP].dport, []).append(str(p[TCP].flags))
for i, (name, dst, port, kind, expect) in enumerate(probes):
    got = answers.get(20000 + i, [])
    if expect == "none":
        good = not got
    elif expect == "rst":
        good = bool(got) and all("R" in f for f in got)
    else:
        good = got == ["SA"]
    print("%s %s: want %s, got %s" % ("ok  " if good else "FAIL", name,
          expect, ",".join(got) or "nothing"))
EOF
while read -r line; do
	case $line in
	ok*) ok "${line#ok }" ;;
	FAIL*) bad "${line#FAIL }" ;;
	*) echo "$line" ;;
	esac
done < <(printf '%s\n' "${probes[@]}" | B "$py" "$tmp/probe.py" 2>&1)

# TERM: background jobs of a script ignore SIGINT.
kill -TERM "$tap"
wait "$tap"
tapped=$(tcpdump -nn -r "$tmp/tap.pcap" 2>/dev/null | grep -c .)
if [ "$tapped" -ge ${#probes[@]} ]; then
	ok "the tap saw all ${#probes[@]} probes ($tapped segments)"
else
	bad "the tap saw $tapped segments, want >= ${#probes[@]}"
fi

# Release the holders; the unprivileged one reports the kernel's count of
# segments dropped for want of an MD5 option (everything it guarded).
exec 3>&- 4>&-
for p in "${holders[@]}"; do
	[ "$p" = "$tap" ] || wait "$p"
done
holders=()
n=$(awk '$1 == "md5_not_found" { print $2 }' "$tmp/unpriv.out")
if [ "${n:-0}" -ge 18 ]; then
	ok "TcpExtTCPMD5NotFound grew by $n (>= 18 guarded MD5 probes)"
else
	bad "TcpExtTCPMD5NotFound grew by ${n:-?}, want >= 18"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
