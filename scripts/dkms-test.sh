#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the module through DKMS, as `make dkms-install` would, against every
# supported kernel's headers, in a private DKMS tree so this machine's own
# DKMS state is untouched. Prints PASS/FAIL lines (and appends them to
# $RESULTS when set).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

record() {
	echo "$1 $2"
	[ -n "${RESULTS:-}" ] && echo "$1 $2" >>"$RESULTS"
	[ "$1" = PASS ] || failed=1
}

src=$work/src/vhnet-$version
mkdir -p "$src" "$work/tree"
# Exactly what make dkms-install ships.
files=$(make -s -f Makefile -pn 2>/dev/null | sed -n 's/^MODULE_SOURCES := //p')
# shellcheck disable=SC2086
cp -a --parents $files "$src/" 2>/dev/null || cp -a --parents Kbuild Makefile dkms.conf module "$src/"

dkms_args=(--dkmstree "$work/tree" --sourcetree "$work/src")
if ! dkms add "${dkms_args[@]}" -m vhnet -v "$version" >"$work/add.log" 2>&1; then
	cat "$work/add.log"
	record FAIL "dkms: add"
	exit 1
fi
for k in ${KVER:-$(scripts/kvers.sh)}; do
	if dkms build "${dkms_args[@]}" -m vhnet -v "$version" -k "$k" >"$work/build-$k.log" 2>&1 &&
		ls "$work/tree/vhnet/$version/$k"/*/module/vhnet.ko* >/dev/null 2>&1; then
		record PASS "dkms: build ($k)"
	else
		tail -20 "$work/build-$k.log"
		tail -20 "$work/tree/vhnet/$version/build/make.log" 2>/dev/null
		record FAIL "dkms: build ($k)"
	fi
done
exit $failed
