#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shipped systemd units (config/*.service), checked two ways:
#
# 1. systemd-analyze verify on each, with ExecStart= pointed at the build's
#    binaries and MANPATH at docs/*.8 (so Documentation=man:... resolves).
#    Any output at all counts as a failure: verify exits 0 on warnings
#    such as an unknown key.
# 2. The daemons run with exactly the privileges each unit grants, read
#    from the unit file: the user (DynamicUser=yes: an unprivileged uid with
#    no groups, here 65534), AmbientCapabilities=, CapabilityBoundingSet=
#    and NoNewPrivileges= through setpriv(1); ProtectKernelTunables=yes as a
#    read-only /proc/sys; PrivateDevices=yes as no /dev/net/tun, and
#    DeviceAllow=/dev/net/tun as a private /dev/net/tun with Debian's udev
#    mode 0666. The command is the unit's ExecStart=, with %i's INI made
#    from config/client.ini or config/server.ini. Then a datagram must be
#    echoed through the tunnel, in namespaces this script creates and
#    always deletes:
#
#      client host (C)                           server host (S)
#      c0 192.0.2.1/24  -----------------------  s0 192.0.2.2/24
#      fauxtcp-client, client unit's privileges  fauxtcp-server, TUN or raw
#      UDP on 127.0.0.1:4567                     unit's privileges
#                                                UDP echo 127.0.0.1:1234
#
#    Both must send READY=1 to a NOTIFY_SOCKET (tests/e2e/notifylisten.py).
#    With strace installed, every system call the daemons make after exec
#    (sd_notify's too) must be in the units' SystemCallFilter=@system-service,
#    and every socket family in their RestrictAddressFamilies=.
#
# Needs root (namespaces, setpriv). Prints "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh" # e2e_wait_log
build=${FAUXTCP_BUILD:-$top/build}
client=$(realpath "$build/fauxtcp-client")
server=$(realpath "$build/fauxtcp-server")
units="fauxtcp-client@ fauxtcp-server@ fauxtcp-server-raw@"
C=fxu-c-$$ S=fxu-s-$$
tmp=$(mktemp -d)
chmod 755 "$tmp" # the daemons run as uid 65534 and read their INI here
pass=0 fail=0 pids=()

cleanup() {
	local n p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for n in "$C" "$S"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	wait 2>/dev/null
	for n in "$C" "$S"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

result() { # NAME STATUS
	if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}

if [ "$(id -u)" != 0 ]; then
	echo "units.sh: needs root" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for b in "$client" "$server"; do
	[ -x "$b" ] || { echo "units.sh: $b: not built" >&2; echo "0 passed, 1 failed"; exit 1; }
done

# unit_get FILE KEY: the value of the last KEY= line (what systemd uses).
unit_get() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

# ---- 1. systemd-analyze verify ----
mkdir -p "$tmp/units" "$tmp/man/man8" "$tmp/etc"
cp "$top"/docs/*.8 "$tmp/man/man8/"
for u in $units; do
	src=$top/config/$u.service
	dst=$tmp/units/${u}units-test.service
	sed -e "s#^ExecStart=/usr/bin/fauxtcp-client #ExecStart=$client #" \
	    -e "s#^ExecStart=/usr/bin/fauxtcp-server #ExecStart=$server #" "$src" >"$dst"
	out=$(MANPATH=$tmp/man systemd-analyze verify "$dst" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	result "systemd-analyze verify $u.service: no warning" "$([ $rc = 0 ] && [ -z "$out" ]; echo $?)"
done
# The check itself: a misspelt key must be caught.
sed 's/^Restart=/Restartt=/' "$tmp/units/fauxtcp-client@units-test.service" >"$tmp/units/typo@units-test.service"
out=$(MANPATH=$tmp/man systemd-analyze verify "$tmp/units/typo@units-test.service" 2>&1)
result "a unit with a misspelt key is caught" "$([ -n "$out" ]; echo $?)"
rm -f "$tmp/units/typo@units-test.service"

# ---- 2. the daemons with the units' privileges ----

# setpriv arguments for a unit's user, capabilities and no_new_privs.
setpriv_args() { # UNIT
	local f=$1 c amb='' bnd='' args
	for c in $(unit_get "$f" AmbientCapabilities); do c=${c#CAP_}; amb+=",+${c,,}"; done
	for c in $(unit_get "$f" CapabilityBoundingSet); do c=${c#CAP_}; bnd+=",+${c,,}"; done
	[ "$(unit_get "$f" DynamicUser)" = yes ] || { echo "unit $f: expected DynamicUser=yes" >&2; return 1; }
	args="--reuid=65534 --regid=65534 --clear-groups --inh-caps=-all$amb --bounding-set=-all$bnd"
	[ -n "$amb" ] && args+=" --ambient-caps=${amb#,}"
	[ "$(unit_get "$f" NoNewPrivileges)" = yes ] && args+=" --no-new-privs"
	echo "$args"
}

# The unit's ExecStart= for instance INST, on the build's binaries.
exec_start() { # UNIT INST
	unit_get "$1" ExecStart | sed -e "s#^/usr/bin/fauxtcp-client#$client#" \
		-e "s#^/usr/bin/fauxtcp-server#$server#" -e "s#/etc/fauxtcp/%i\.ini#$tmp/etc/$2.ini#g"
}

# sandbox NS UNIT INST LOG [TRACE]: start INST of UNIT in namespace NS in the
# background, as the unit would, optionally under strace -f -o TRACE.
# Extra KEY=VALUE settings in $OVERRIDE act as a drop-in; $EXTRA_ARGS are
# appended to the command.
sandbox() {
	local ns=$1 unit=$2 inst=$3 log=$4 trace=${5:-} f=$tmp/units/$2units-test.service
	local tunables devs tun priv cmd
	tunables=$(unit_get "$f" ProtectKernelTunables)
	devs=$(unit_get "$f" PrivateDevices)
	tun=no
	grep -q '^DeviceAllow=/dev/net/tun rw$' "$f" && tun=yes
	for kv in ${OVERRIDE:-}; do
		case $kv in ProtectKernelTunables=*) tunables=${kv#*=} ;; esac
	done
	priv=$(setpriv_args "$f") || return 1
	cmd="$(exec_start "$f" "$inst") ${EXTRA_ARGS:-}"
	local st=''
	[ -n "$trace" ] && st="strace -f -qq -o $trace"
	# shellcheck disable=SC2086,SC2016 # split $priv and $cmd; the script's $1.. are sh's
	ip netns exec "$ns" unshare -m --propagation private sh -c '
		set -e
		if [ "$1" = yes ]; then mount --bind /proc/sys /proc/sys; mount -o remount,bind,ro /proc/sys; fi
		if [ "$2" = yes ] || [ "$3" = yes ]; then mount -t tmpfs -o mode=755 tmpfs /dev/net; fi
		if [ "$3" = yes ]; then mknod -m 666 /dev/net/tun c 10 200; fi
		shift 3
		exec "$@"' sh "$tunables" "$devs" "$tun" $st env NOTIFY_SOCKET="$tmp/notify.sock" setpriv $priv $cmd \
		>"$log" 2>&1 </dev/null &
	pids+=($!)
}


# pid_of NS COMM: the process named COMM in namespace NS.
pid_of() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && { echo "$p"; return 0; }
	done
	return 1
}

# stop NS COMM: SIGTERM the daemon, wait up to 5 s for it to go.
stop() {
	local p
	p=$(pid_of "$1" "$2") || return 0
	kill -TERM "$p"
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	sleep 0.2 # strace, when there, writes out its last lines
}

echo_once() { # PAYLOAD: through the client's UDP side, echoed back?
	ip netns exec "$C" python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
msg = sys.argv[1].encode()
for _ in range(5):
    s.sendto(msg, ("127.0.0.1", 4567))
    try:
        if s.recv(2000) == msg:
            sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
EOF
}

# @system-service, expanded to system call names.
expand_set() {
	systemd-analyze syscall-filter "$1" | sed -n '2,$p' | sed 's/#.*//' | awk 'NF { print $1 }' |
	while read -r x; do case $x in @*) expand_set "$x" ;; *) echo "$x" ;; esac; done
}

# check_trace NAME TRACE UNIT BINARY: syscalls and socket families after
# the exec of BINARY are within the unit's filters.
check_trace() {
	local name=$1 trace=$2 f=$tmp/units/$3units-test.service bin=$4 filter fams bad
	filter=$(unit_get "$f" SystemCallFilter)
	[ -s "$tmp/filter$filter" ] || expand_set "$filter" | sort -u >"$tmp/filter$filter"
	awk -v bin="$bin" '
		!seen && index($0, "execve(\"" bin "\"") && / = 0$/ { seen = 1; next }
		seen && match($0, /^[0-9]+ +[a-z0-9_]+\(/) {
			s = substr($0, RSTART, RLENGTH - 1); sub(/^[0-9]+ +/, "", s); print s
		}' "$trace" | sort -u >"$tmp/used"
	bad=$(comm -23 "$tmp/used" "$tmp/filter$filter" | tr '\n' ' ')
	result "[$name] $(wc -l <"$tmp/used") system calls, all in SystemCallFilter=$filter${bad:+; not: $bad}" \
		"$([ -s "$tmp/used" ] && [ -z "$bad" ]; echo $?)"
	fams=$(awk -v bin="$bin" '
		!seen && index($0, "execve(\"" bin "\"") && / = 0$/ { seen = 1; next }
		seen' "$trace" | grep -oE '(socket|socketpair)\(AF_[A-Z0-9]+' | sed 's/.*(//' | sort -u | tr '\n' ' ')
	fams=${fams% }
	bad=''
	for a in $fams; do
		case " $(unit_get "$f" RestrictAddressFamilies) " in *" $a "*) ;; *) bad+="$a " ;; esac
	done
	result "[$name] socket families ${fams:-none}: within RestrictAddressFamilies=$(unit_get "$f" RestrictAddressFamilies)${bad:+; not: $bad}" \
		"$([ -n "$fams" ] && [ -z "$bad" ]; echo $?)"
}

# INI files for the instances, made from the shipped examples.
sed -e 's/^remote = .*/remote = 192.0.2.2:4567/' "$top/config/client.ini" >"$tmp/etc/client.ini"
sed -e 's/^remote = .*/remote = 127.0.0.1:1234/' "$top/config/server.ini" >"$tmp/etc/tun.ini"
sed -e 's/^remote = .*/remote = 127.0.0.1:1234/' -e 's/^;iface = .*/iface = s0/' \
	"$top/config/server.ini" >"$tmp/etc/raw.ini"
sed -e 's/^set-forwarding = .*/set-forwarding = yes/' "$tmp/etc/tun.ini" >"$tmp/etc/fwd.ini"
chmod 644 "$tmp"/etc/*.ini

# ---- topology ----
for n in "$C" "$S"; do
	ip netns add "$n" || exit 1
	ip -n "$n" link set lo up
done
ip -n "$C" link add c0 type veth peer name s0 netns "$S"
ip -n "$C" addr add 192.0.2.1/24 dev c0
ip -n "$S" addr add 192.0.2.2/24 dev s0
ip -n "$C" link set c0 up
ip -n "$S" link set s0 up
ip netns exec "$S" python3 "$here/udpecho.py" 127.0.0.1 1234 &
pids+=($!)
ip netns exec "$C" sysctl -q -w net.ipv4.ip_forward=0
# systemd's notification socket (Type=notify), so that the system calls
# checked below include sd_notify's.
python3 "$here/notifylisten.py" "$tmp/notify.sock" "$tmp/notify.log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done

have_strace=0
command -v strace >/dev/null && have_strace=1
[ $have_strace = 1 ] || echo "# strace not installed: system call checks skipped"
tr_() { [ $have_strace = 1 ] && echo "$tmp/$1.trace"; }

for mode in raw tun; do
	unit=fauxtcp-server@
	[ $mode = raw ] && unit=fauxtcp-server-raw@
	echo "# server: $unit.service"
	if [ $mode = tun ]; then
		# Forwarding turned on outside the service, as the unit expects.
		ip netns exec "$S" sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	fi
	sandbox "$S" "$unit" "$mode" "$tmp/$mode-server.log" "$(tr_ "$mode-server")"
	e2e_wait_log "$tmp/$mode-server.log" "accepting fake TCP on port 4567"
	result "[$mode] server started with the unit's privileges" $?
	sandbox "$C" fauxtcp-client@ client "$tmp/$mode-client.log" "$(tr_ "$mode-client")"
	e2e_wait_log "$tmp/$mode-client.log" "listening on 127.0.0.1:4567"
	result "[$mode] client started with the unit's privileges (INI from config/client.ini)" $?

	cp=$(pid_of "$C" fauxtcp-client)
	st=$(grep -E '^(Uid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' "/proc/$cp/status" 2>/dev/null | tr -s '\t ' ' ' | tr '\n' ';')
	echo "# client: $st"
	# CAP_NET_RAW is bit 13: 0x2000.
	echo "$st" | grep -q 'Uid: 65534 65534 65534 65534;' &&
		echo "$st" | grep -q 'CapEff: 0000000000002000;' &&
		echo "$st" | grep -q 'CapPrm: 0000000000002000;' &&
		echo "$st" | grep -q 'CapBnd: 0000000000002000;' &&
		echo "$st" | grep -q 'NoNewPrivs: 1;'
	result "[$mode] client runs as uid 65534 with CAP_NET_RAW only, no_new_privs" $?
	sp=$(pid_of "$S" fauxtcp-server)
	want=0000000000002000
	[ $mode = tun ] && want=0000000000001000 # CAP_NET_ADMIN, bit 12
	grep -q "^CapEff:[[:space:]]*$want$" "/proc/$sp/status" 2>/dev/null &&
		grep -q "^Uid:[[:space:]]*65534[[:space:]]" "/proc/$sp/status"
	result "[$mode] server runs as uid 65534 with $([ $mode = tun ] && echo CAP_NET_ADMIN || echo CAP_NET_RAW) only" $?

	echo_once "fauxtcp-units-$mode"
	result "[$mode] a datagram is echoed through the tunnel" $?
	grep -qx "$cp READY=1" "$tmp/notify.log" && grep -qx "$sp READY=1" "$tmp/notify.log"
	rc=$?
	result "[$mode] client and server sent READY=1 to NOTIFY_SOCKET from the sandbox" $rc
	[ $rc = 0 ] || echo "# client $cp, server $sp; notify.log: $(grep READY "$tmp/notify.log" | tr '\n' ' ')"

	# The status command, as root, against the sandboxed daemons.
	ip netns exec "$C" "$client" status -v -c "$tmp/etc/client.ini" >"$tmp/$mode-client.status" 2>&1 &&
		grep -q '^fauxtcp-client: listening on 127.0.0.1:4567' "$tmp/$mode-client.status" &&
		grep -q '^connections: 1 of' "$tmp/$mode-client.status"
	result "[$mode] fauxtcp-client status reports the running client and its connection" $?
	ip netns exec "$S" "$server" status -v -c "$tmp/etc/$mode.ini" >"$tmp/$mode-server.status" 2>&1 &&
		grep -q "^fauxtcp-server: port 4567, $([ $mode = raw ] && echo 'raw mode on s0' || echo 'TUN mode')" "$tmp/$mode-server.status" &&
		grep -q '^connections: 1 of' "$tmp/$mode-server.status"
	result "[$mode] fauxtcp-server status reports the running server and its connection" $?

	# --check with the client unit's privileges: path, guard, handshake.
	EXTRA_ARGS=--check sandbox "$C" fauxtcp-client@ client "$tmp/$mode-check.log"
	wait "${pids[-1]}"
	rc=$?
	sed 's/^/#   /' "$tmp/$mode-check.log"
	grep -q '^capability:  CAP_NET_RAW held' "$tmp/$mode-check.log" &&
		grep -qE '^answer: +a phantun or fauxtcp server' "$tmp/$mode-check.log"
	said=$?
	result "[$mode] fauxtcp-client --check with the unit's privileges: exit $rc, handshake answered" \
		"$([ $said = 0 ] && [ $rc = 0 ]; echo $?)"

	stop "$C" fauxtcp-client
	stop "$S" fauxtcp-server
	if [ $have_strace = 1 ]; then
		check_trace "$mode client" "$tmp/$mode-client.trace" fauxtcp-client@ "$client"
		check_trace "$mode server" "$tmp/$mode-server.trace" "$unit" "$server"
	fi
	if [ $mode = tun ]; then
		tables=$(ip netns exec "$S" nft list tables)
		result "[$mode] server removed its nft table at exit" "$([ -z "$tables" ]; echo $?)"
	fi
done

# set-forwarding = yes: refused under ProtectKernelTunables=yes, with the
# documented line; fine with the documented drop-in, and restored at exit.
echo "# server: fauxtcp-server@.service with set-forwarding = yes"
ip netns exec "$S" sysctl -q -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
sandbox "$S" fauxtcp-server@ fwd "$tmp/fwd-ro.log"
wait "${pids[-1]}"
rc=$?
grep -q "cannot set net.ipv4.ip_forward=1: Read-only file system" "$tmp/fwd-ro.log"
said=$?
result "[tun] set-forwarding under ProtectKernelTunables=yes: exit $rc, 'Read-only file system'" \
	"$([ $said = 0 ] && [ $rc = 1 ]; echo $?)"
OVERRIDE="ProtectKernelTunables=no" sandbox "$S" fauxtcp-server@ fwd "$tmp/fwd-rw.log"
e2e_wait_log "$tmp/fwd-rw.log" "accepting fake TCP on port 4567"
started=$?
on=$(ip netns exec "$S" sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding | tr '\n' ' ')
stop "$S" fauxtcp-server
off=$(ip netns exec "$S" sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding | tr '\n' ' ')
result "[tun] set-forwarding with the ProtectKernelTunables=no drop-in: on while running ($on), restored at exit ($off)" \
	"$([ $started = 0 ] && [ "$on" = "1 1 " ] && [ "$off" = "0 0 " ]; echo $?)"

if [ "$fail" -ne 0 ]; then
	echo "# logs:"
	tail -n 20 "$tmp"/*.log | sed 's/^/# /'
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
