#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetches lwIP's orig tarball from Debian's `lwip` source package into
# third_party/download/, where CMake looks for it (and checks its sha256).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/download"
[ -f "$here/download/lwip_2.1.3+dfsg1.orig.tar.xz" ] && exit 0
if ! apt-get source --print-uris lwip >/dev/null 2>&1 || [ -z "$(apt-get source --print-uris lwip 2>/dev/null | grep orig.tar)" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "fetch-lwip: no deb-src for lwip; as root run $here/add-deb-src.sh && apt-get update" >&2
		exit 1
	fi
	"$here/add-deb-src.sh"
	apt-get update -q >/dev/null
fi
cd "$here/download"
apt-get source --download-only lwip >/dev/null
ls lwip_2.1.3+dfsg1.orig.tar.xz >/dev/null
