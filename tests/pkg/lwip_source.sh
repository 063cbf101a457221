#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# third_party/lwip.cmake's three lwIP origins, at configure time only
# (seconds, no compile):
#   - an unpacked tree (-DLWIP_SOURCE_DIR), here Debian's orig tarball
#     unpacked to a scratch directory: accepted, and used in place;
#   - the same tree with one compiled file changed by a byte, or missing,
#     or the wrong directory given: rejected with one line naming the file;
#   - -DLWIP_ZIP: refused, since no sha256 of lwip-2.1.3.zip is pinned;
#   - a corrupted Debian tarball: rejected.
# Prints "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${FAUXTCP_SRC:-$(cd "$here/../.." && pwd)}
tarball=${LWIP_TARBALL:-$top/third_party/download/lwip_2.1.3+dfsg1.orig.tar.xz}
tmp=$(mktemp -d /tmp/fauxtcp-lwipsrc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
result() { # NAME STATUS
	if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}
# configure NAME ARGS...: cmake's exit status; its output in $tmp/NAME.log
configure() {
	local n=$1; shift
	cmake -S "$top" -B "$tmp/b-$n" -DFAUXTCP_TESTS=OFF "$@" >"$tmp/$n.log" 2>&1
}
# error NAME: the message of the first CMake Error, on one line
error() { sed -n '/CMake Error/,/^$/p' "$tmp/$1.log" | sed '1d' | tr -s ' \n' ' '; }

if [ ! -f "$tarball" ]; then
	echo "lwip_source.sh: $tarball missing: run third_party/fetch-lwip.sh" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir "$tmp/good"
tar -C "$tmp/good" -xf "$tarball"
tree=$tmp/good/lwip-2.1.3

configure tree -DLWIP_SOURCE_DIR="$tree"
rc=$?
result "unpacked tree accepted" "$rc"
result "and used in place" "$(grep -q "^LWIP_SOURCE_DIR:PATH=$tree\$" "$tmp/b-tree/CMakeCache.txt" &&
	grep -q "lwIP: the tree at $tree" "$tmp/tree.log"; echo $?)"

cp -a "$tree" "$tmp/bad"
printf '\n' >>"$tmp/bad/src/core/ip.c"
configure bad -DLWIP_SOURCE_DIR="$tmp/bad"
rc=$?
echo "#   $(error bad)"
result "tree with a changed src/core/ip.c rejected, naming it" \
	"$([ $rc != 0 ] && error bad | grep -q 'lwIP source rejected: .*src/core/ip.c has sha256'; echo $?)"

rm "$tmp/bad/src/core/ip.c"
cp "$tree/src/core/ip.c" "$tmp/bad/src/core/ip.c"
rm "$tmp/bad/src/include/lwip/raw.h"
configure missing -DLWIP_SOURCE_DIR="$tmp/bad"
rc=$?
echo "#   $(error missing)"
result "tree missing src/include/lwip/raw.h rejected, naming it" \
	"$([ $rc != 0 ] && error missing | grep -q 'has no src/include/lwip/raw.h'; echo $?)"

configure parent -DLWIP_SOURCE_DIR="$tmp/good"
rc=$?
result "the directory above the tree rejected" "$([ $rc != 0 ] && error parent | grep -q 'not an lwIP 2.1.3 tree'; echo $?)"

: >"$tmp/lwip-2.1.3.zip"
configure zip -DLWIP_ZIP="$tmp/lwip-2.1.3.zip"
rc=$?
echo "#   $(error zip)"
result "LWIP_ZIP refused: no pinned sha256, points at LWIP_SOURCE_DIR" \
	"$([ $rc != 0 ] && error zip | grep -q 'not verifiable.*LWIP_SOURCE_DIR'; echo $?)"

head -c 100000 "$tarball" >"$tmp/short.tar.xz"
configure tarball -DLWIP_TARBALL="$tmp/short.tar.xz"
rc=$?
result "truncated Debian tarball rejected" "$([ $rc != 0 ] && error tarball | grep -q 'lwIP source rejected: .*expected'; echo $?)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
