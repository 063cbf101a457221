#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the port/ tests as root inside network namespaces made here and
# always deleted again: the tests create TUN and veth devices, addresses,
# neighbours, nft tables and turn forwarding on, none of which may touch
# the host. Each test program gets a fresh pair, so one program's
# leftovers cannot mask or cause another's failure.
# Usage: run.sh DIR_WITH_TEST_BINARIES
# Exit: 0 all passed, 1 a failure, 77 cannot run here (skip).
set -u

bindir=${1:-.}
if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: needs root (network namespaces)" >&2
	exit 77
fi
for tool in ip nft; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "run.sh: $tool not found" >&2
		exit 77
	fi
done

# The pid keeps parallel runs from colliding.
ns=fxport$$
peer=fxpeer$$
cleanup() {
	ip netns del "$ns" 2>/dev/null
	ip netns del "$peer" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

run_one() {
	ip netns add "$ns" && ip netns add "$peer" &&
	ip -n "$ns" link set lo up && ip -n "$peer" link set lo up || return 1
	FAUXTCP_TEST_NETNS=$ns FAUXTCP_TEST_PEER_NETNS=$peer \
		ip netns exec "$ns" "$1"
	ret=$?
	cleanup
	return $ret
}

rc=0
for t in test_tunif_rtnl test_nftrules; do
	if [ ! -x "$bindir/$t" ]; then
		echo "run.sh: $bindir/$t missing" >&2
		rc=1
		continue
	fi
	run_one "$bindir/$t" || rc=1
done
exit $rc
