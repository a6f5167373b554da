#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate, from the netlink spec Documentation/netlink/specs/vhnet.yaml,
# with the kernel's YNL generator (ynl-gen-c.py):
#   include/uapi/linux/vhnet.h   the UAPI header (vhnetctl, tests, module)
#   module/netlink-gen.h         the kernel's policies and op table: header
#   module/netlink-gen.c         and source
#   tools/vhnetctl/vhnet-counters.h  vhnetctl's counter names (our own
#                                generator, scripts/netlink-counters.py)
# With --check, change nothing and fail if a committed file is stale
# (make lint runs this).
#
# usage: scripts/netlink-gen.sh [--check] [KSRC]
#   KSRC: a kernel source tree holding tools/net/ynl and
#         Documentation/netlink/*.yaml (default: .cache/linux-src, extracted
#         by scripts/linux-src.sh)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
check=
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
ksrc=${1:-}
if [ -z "$ksrc" ]; then
	ksrc=$("$top/scripts/linux-src.sh")
fi
[ -n "$ksrc" ] || { echo "netlink-gen: no kernel source with tools/net/ynl" >&2; exit 1; }

# The generator looks for the schema two levels above the spec and names the
# spec by its path below the directory holding MAINTAINERS (it walks up until
# it finds one, forever if there is none), so stage a tiny tree. The kernel
# files are named as they will sit in module/, since the source includes its
# header by the output's name.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/Documentation/netlink/specs" "$tmp/out"
touch "$tmp/MAINTAINERS"
cp "$ksrc"/Documentation/netlink/*.yaml "$tmp/Documentation/netlink/"
cp "$top/Documentation/netlink/specs/vhnet.yaml" "$tmp/Documentation/netlink/specs/"

gen() {
	timeout 120 python3 "$ksrc/tools/net/ynl/ynl-gen-c.py" "$@" \
		--spec "$tmp/Documentation/netlink/specs/vhnet.yaml"
}
gen --mode uapi --header -o "$tmp/out/vhnet.h"
gen --mode kernel --header -o "$tmp/out/netlink-gen.h"
gen --mode kernel --source -o "$tmp/out/netlink-gen.c"
python3 "$top/scripts/netlink-counters.py" "$top/Documentation/netlink/specs/vhnet.yaml" \
	"$tmp/out/vhnet-counters.h"

stale=0
for pair in vhnet.h:include/uapi/linux/vhnet.h \
	    netlink-gen.h:module/netlink-gen.h \
	    netlink-gen.c:module/netlink-gen.c \
	    vhnet-counters.h:tools/vhnetctl/vhnet-counters.h; do
	new=$tmp/out/${pair%%:*}
	out=$top/${pair#*:}
	cmp -s "$new" "$out" && continue
	if [ -n "$check" ]; then
		echo "netlink-gen: ${pair#*:} is stale; run scripts/netlink-gen.sh" >&2
		diff -u "$out" "$new" >&2 || true
		stale=1
	else
		mkdir -p "$(dirname "$out")"
		cp "$new" "$out"
		echo "netlink-gen: wrote ${pair#*:}"
	fi
done
exit $stale
