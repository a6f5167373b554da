#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract the pieces of linux-source-6.12 that vhnet's build and tests use
# (kselftest harness, checkpatch, the YNL generator and client, netlink
# specs) into .cache/linux-src. Keyed by the tarball's package version, so a
# new linux-source-6.12 re-extracts. Prints the directory.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=/usr/src/linux-source-6.12.tar.xz
[ -r "$tarball" ] || { echo "linux-src: $tarball missing (run make deps)" >&2; exit 1; }

ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %Y "$tarball")
dest=$top/.cache/linux-src
if [ "$(cat "$dest/.version" 2>/dev/null)" != "$ver" ]; then
	rm -rf "$dest"
	mkdir -p "$dest"
	tar -xJf "$tarball" -C "$dest" --strip-components=1 \
		linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.12/tools/testing/selftests/kselftest.h \
		linux-source-6.12/tools/testing/selftests/lib.mk \
		linux-source-6.12/tools/testing/selftests/kselftest \
		linux-source-6.12/tools/net/ynl \
		linux-source-6.12/Documentation/netlink \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
	echo "$ver" >"$dest/.version"
fi
echo "$dest"
