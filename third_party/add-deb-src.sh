#!/bin/sh
# SPDX-License-Identifier: MIT
# Adds a deb-src stanza derived from the machine's own Debian sources, so
# `apt-get source lwip` reaches the same archive as the binary packages.
set -eu
src=/etc/apt/sources.list.d/debian.sources
dst=/etc/apt/sources.list.d/fauxtcp-deb-src.sources
[ -f "$dst" ] && exit 0
if [ ! -f "$src" ]; then
	echo "add-deb-src: $src not found: add a deb-src line for bookworm by hand" >&2
	exit 1
fi
sed -n 's/^Types:.*deb.*/Types: deb-src/; p' "$src" > "$dst"
