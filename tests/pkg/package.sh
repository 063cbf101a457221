#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package, end to end, as root on a Debian machine:
#
#   1. builds it from debian/ (dpkg-buildpackage -b) in a scratch copy of
#      the source tree (with third_party/download/), so the tree stays clean;
#   2. lintian: any E: or W: fails (overrides, each with its reason, are in
#      debian/fauxtcp.lintian-overrides);
#   3. the .deb's contents: hardening (PIE, BIND_NOW, RELRO, fortified
#      calls), Built-Using, Depends from dpkg-shlibdeps, DEP-5 copyright,
#      changelog.Debian.gz, /etc/fauxtcp;
#   4. installs it with apt-get; man -w finds every installed man page (and
#      fauxtcp.ini(5) when docs/fauxtcp.ini.5 exists); systemd-analyze
#      verify passes on each installed unit, silently;
#   5. apt-get purge: no path the package listed is left unless another
#      package owns it, and /etc/fauxtcp is gone.
#
# A missing tool fails the test, it does not skip it. It refuses to run if
# fauxtcp is already installed, and purges what it installed on any exit.
# Prints "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${FAUXTCP_SRC:-$(cd "$here/../.." && pwd)}
tmp=$(mktemp -d /tmp/fauxtcp-pkg.XXXXXX)
pass=0 fail=0 installed=0

cleanup() {
	if [ "$installed" = 1 ] && dpkg-query -W -f='${Status}' fauxtcp 2>/dev/null | grep -q installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q fauxtcp >/dev/null 2>&1 ||
			dpkg --purge fauxtcp >/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

result() { # NAME STATUS
	if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}
die() { # MESSAGE: counted as a failure, then stop
	echo "package.sh: $*" >&2
	fail=$((fail + 1))
	finish
}

[ "$(id -u)" = 0 ] || die "needs root (apt-get, dpkg)"
missing=""
for t in dpkg-buildpackage dh lintian dpkg-deb apt-get readelf man systemd-analyze; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
[ -z "$missing" ] || die "missing tools:$missing (./scripts/setup installs them)"
if dpkg-query -W -f='${Status}' fauxtcp 2>/dev/null | grep -q 'ok installed\|config-files'; then
	die "fauxtcp is already installed on this machine: refusing to touch it (apt-get purge fauxtcp first)"
fi
[ ! -e /etc/fauxtcp ] || die "/etc/fauxtcp already exists: refusing to run (the purge check needs it absent)"

# ---- 1. build ----
mkdir "$tmp/src"
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
	--exclude=./debian/.debhelper --exclude=./debian/fauxtcp -cf - . | tar -C "$tmp/src" -xf -
if ! (cd "$tmp/src" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log" | sed 's/^/#   /'
	die "dpkg-buildpackage failed (log above)"
fi
debs=("$tmp"/fauxtcp_*.deb)
[ -f "${debs[0]}" ] || die "dpkg-buildpackage made no fauxtcp_*.deb"
deb=${debs[0]}
result "dpkg-buildpackage -b: $(basename "$deb")" 0

# ---- 2. lintian ----
lintian -I --show-overrides "$deb" >"$tmp/lintian.log" 2>&1
lrc=$?
sed 's/^/#   /' "$tmp/lintian.log"
result "lintian runs (exit $lrc)" "$([ $lrc = 0 ] || [ $lrc = 2 ]; echo $?)"
result "lintian: no error, no warning" "$(! grep -qE '^[EW]: ' "$tmp/lintian.log"; echo $?)"

# ---- 3. contents ----
mkdir "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
for b in fauxtcp-client fauxtcp-server; do
	f=$tmp/x/usr/bin/$b
	readelf -hW "$f" >"$tmp/h" 2>&1; readelf -dW "$f" >"$tmp/d" 2>&1
	readelf -lW "$f" >"$tmp/l" 2>&1; readelf --dyn-syms -W "$f" >"$tmp/s" 2>&1
	result "$b: PIE" "$(grep -q 'Type:.*DYN' "$tmp/h"; echo $?)"
	result "$b: BIND_NOW" "$(grep -qE 'BIND_NOW|FLAGS_1.*NOW' "$tmp/d"; echo $?)"
	result "$b: RELRO" "$(grep -q GNU_RELRO "$tmp/l"; echo $?)"
	result "$b: fortified calls (__*_chk)" "$(grep -qE ' __[a-z_]+_chk' "$tmp/s"; echo $?)"
done
field() { dpkg-deb -f "$deb" "$1"; }
result "Built-Using: $(field Built-Using)" "$([ "$(field Built-Using)" = "lwip (= 2.1.3+dfsg1-2)" ]; echo $?)"
result "Depends (dpkg-shlibdeps): $(field Depends)" \
	"$(field Depends | grep -q 'libuv1 (>=' && field Depends | grep -q 'libc6 (>='; echo $?)"
cp="$tmp/x/usr/share/doc/fauxtcp/copyright"
result "copyright: DEP-5, MIT and lwIP's BSD-3-Clause" \
	"$(head -n1 "$cp" | grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' &&
		grep -q '^License: MIT$' "$cp" && grep -q '^License: BSD-3-Clause$' "$cp"; echo $?)"
result "changelog.Debian.gz" "$(zcat "$tmp/x/usr/share/doc/fauxtcp/changelog.Debian.gz" | head -n1 | grep -q '^fauxtcp '; echo $?)"
dpkg-deb -c "$deb" >"$tmp/contents"
result "/etc/fauxtcp in the package" "$(grep -qE '^d.* \./etc/fauxtcp/$' "$tmp/contents"; echo $?)"
mkdir "$tmp/ctl"
dpkg-deb -e "$deb" "$tmp/ctl"
result "maintainer scripts: $(cd "$tmp/ctl" && ls -- *inst *rm 2>/dev/null | tr '\n' ' ')(debhelper's, no direct systemctl)" \
	"$([ -f "$tmp/ctl/postinst" ] && [ -f "$tmp/ctl/prerm" ] && [ -f "$tmp/ctl/postrm" ] &&
		! cat "$tmp/ctl"/*inst "$tmp/ctl"/*rm | grep -E '^\s*systemctl\b' | grep -qv daemon-reload; echo $?)"
# FAUXTCP_PKG_OUT=DIR keeps a copy of the .deb there (to inspect or install by hand).
[ -n "${FAUXTCP_PKG_OUT:-}" ] && cp "$deb" "$FAUXTCP_PKG_OUT"/

# ---- 4. install ----
installed=1
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >"$tmp/install.log" 2>&1; then
	tail -n 20 "$tmp/install.log" | sed 's/^/#   /'
	die "apt-get install $deb failed"
fi
result "apt-get install" 0
dpkg -L fauxtcp | sort -u >"$tmp/files"
result "/etc/fauxtcp exists" "$([ -d /etc/fauxtcp ]; echo $?)"
nman=0
while read -r f; do
	case $f in /usr/share/man/man[0-9]/*) ;; *) continue ;; esac
	[ -f "$f" ] || continue
	name=$(basename "$f" .gz) sec=${f#/usr/share/man/man}; sec=${sec%%/*}
	got=$(man -w "$sec" "${name%.*}" 2>&1)
	result "man -w $sec ${name%.*}: $got" "$([ "$got" = "$f" ]; echo $?)"
	nman=$((nman + 1))
done <"$tmp/files"
result "man pages installed: $nman" "$([ "$nman" -ge 2 ]; echo $?)"
if [ -f "$top/docs/fauxtcp.ini.5" ]; then
	result "man fauxtcp.ini (docs/fauxtcp.ini.5 exists)" "$(man -w 5 fauxtcp.ini >/dev/null 2>&1; echo $?)"
fi
nunit=0
for f in $(grep -E '^/(usr/)?lib/systemd/system/.*\.service$' "$tmp/files"); do
	u=$(basename "$f")
	case $u in *@.service) u=${u%@.service}@pkgtest.service ;; esac
	out=$(systemd-analyze verify "$u" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	result "systemd-analyze verify $u (installed $f): no warning" "$([ $rc = 0 ] && [ -z "$out" ]; echo $?)"
	nunit=$((nunit + 1))
done
result "systemd units installed: $nunit" "$([ "$nunit" = 3 ]; echo $?)"

# ---- 5. purge ----
if ! DEBIAN_FRONTEND=noninteractive apt-get purge -y -q fauxtcp >"$tmp/purge.log" 2>&1; then
	tail -n 20 "$tmp/purge.log" | sed 's/^/#   /'
	die "apt-get purge fauxtcp failed"
fi
installed=0
result "purged: dpkg knows no fauxtcp" "$(! dpkg-query -W -f='${Status}' fauxtcp 2>/dev/null | grep -q 'installed\|config-files'; echo $?)"
left=""
while read -r f; do
	[ "$f" = /. ] && continue
	[ -e "$f" ] || [ -L "$f" ] || continue
	dpkg-query -S "$f" >/dev/null 2>&1 && continue # another package's directory
	left="$left $f"
done <"$tmp/files"
[ -n "$left" ] && echo "#   left after purge:$left"
result "nothing of the package left after purge ($(wc -l <"$tmp/files") paths checked)" "$([ -z "$left" ]; echo $?)"
result "/etc/fauxtcp gone" "$([ ! -e /etc/fauxtcp ]; echo $?)"
finish
