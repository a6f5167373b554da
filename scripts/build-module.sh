#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build vhnet.ko for one kernel with W=1 in its own directory
# (.cache/build/KVER), so builds for several kernels do not overwrite each
# other. Prints the compiler's warnings; fails on a build error or, with
# --strict, on any warning. The module lands in .cache/build/KVER/module/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
strict=0
[ "${1:-}" = --strict ] && { strict=1; shift; }
kver=${1:?usage: build-module.sh [--strict] KVER}
kdir=/lib/modules/$kver/build
[ -e "$kdir/Makefile" ] || { echo "build: no headers for $kver at $kdir (run make deps)" >&2; exit 1; }

dir=$top/.cache/build/$kver
mkdir -p "$dir"
# Mirror the sources; rsync-like without rsync: only copy what changed, so
# kbuild's incremental build keeps working.
(cd "$top" && git ls-files -co --exclude-standard -- Kbuild module include) |
	while read -r f; do
		[ -f "$top/$f" ] || continue
		if ! cmp -s "$top/$f" "$dir/$f"; then
			mkdir -p "$(dirname "$dir/$f")"
			cp "$top/$f" "$dir/$f"
		fi
	done

log=$dir/build.log
if ! make -C "$kdir" M="$dir" W=1 modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build: $kver failed" >&2
	exit 1
fi
if grep -E 'warning:|error:' "$log" >&2; then
	[ "$strict" = 1 ] && { echo "build: $kver has warnings" >&2; exit 1; }
fi
echo "$dir/module/vhnet.ko"
