#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernels vhnet is tested on, newest installed of each series:
# Debian 12's 6.12 (backports) and 6.1 (stock). One per line.
# "kvers.sh default" prints only the first (the one `make` builds for).
set -euo pipefail

# newest PATTERN: the newest /lib/modules/PATTERN with headers and an image.
newest() {
	local k d
	for k in $(for d in /lib/modules/$1; do [ -d "$d" ] && echo "${d##*/}"; done | sort -rV); do
		if [ -e "/lib/modules/$k/build/Makefile" ] && [ -e "/boot/vmlinuz-$k" ]; then
			echo "$k"
			return
		fi
	done
}

list=$(newest '6.12.*+deb12-amd64'; newest '6.1.0-*-amd64')
if [ "${1:-}" = default ]; then
	echo "$list" | head -n 1
else
	echo "$list"
fi
