#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate include/uapi/linux/vhnet.h from the YAML spec with the kernel's
# YNL generator, or with --check fail if the committed header is stale.
#
# usage: tools/vhnetctl/gen-uapi.sh [--check] [KSRC]
#   KSRC: a kernel source tree holding tools/net/ynl and
#         Documentation/netlink/*.yaml (default: .cache/linux-src, extracted
#         by scripts/linux-src.sh)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
check=
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
ksrc=${1:-}
if [ -z "$ksrc" ]; then
	ksrc=$("$top/scripts/linux-src.sh")
fi
[ -n "$ksrc" ] || { echo "gen-uapi: no kernel source with tools/net/ynl" >&2; exit 1; }

# The generator looks for the schema two levels above the spec and names the
# spec by its path below the directory holding MAINTAINERS (it walks up until
# it finds one, forever if there is none), so stage a tiny tree.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/Documentation/netlink/specs"
touch "$tmp/MAINTAINERS"
cp "$ksrc"/Documentation/netlink/*.yaml "$tmp/Documentation/netlink/"
cp "$top/Documentation/netlink/specs/vhnet.yaml" "$tmp/Documentation/netlink/specs/"

timeout 120 python3 "$ksrc/tools/net/ynl/ynl-gen-c.py" --mode uapi --header \
	--spec "$tmp/Documentation/netlink/specs/vhnet.yaml" -o "$tmp/vhnet.h"

out="$top/include/uapi/linux/vhnet.h"
if [ -n "$check" ]; then
	if ! cmp -s "$tmp/vhnet.h" "$out"; then
		echo "gen-uapi: $out is stale; run tools/vhnetctl/gen-uapi.sh" >&2
		diff -u "$out" "$tmp/vhnet.h" >&2 || true
		exit 1
	fi
	exit 0
fi
mkdir -p "$(dirname "$out")"
cp "$tmp/vhnet.h" "$out"
