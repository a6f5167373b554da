#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The spec and the module agree, seen from outside: the kernel's own YNL
# command-line client (tools/net/ynl/cli.py of linux-source-6.12) reads
# Documentation/netlink/specs/vhnet.yaml and drives the family with it, for
# a dump, a get and a set. Root, vhnet.ko loaded. KTAP on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/selftests/lib.sh"

ynl=$top/.cache/linux-src/tools/net/ynl/cli.py
spec=$top/Documentation/netlink/specs/vhnet.yaml

cli()
{
	# --no-schema: the schema was checked on the host (scripts/netlink-gen.sh); skip
	# importing jsonschema in the slow test VM.
	python3 "$ynl" --spec "$spec" --no-schema "$@"
}

ktap_print_header
ktap_set_plan 3
[ -r "$ynl" ] || ktap_exit_fail_msg "no $ynl (scripts/linux-src.sh)"
exec 7<>/dev/vhnet || ktap_exit_fail_msg "cannot open /dev/vhnet"

out=$(cli --dump instance-get 2>&1)
ktap_print_msg "$out" | head -n 5
id=$(echo "$out" | sed -n "s/.*'id': \([0-9]*\).*/\1/p" | tail -n 1)
if [ -n "$id" ]; then ktap_test_pass "cli.py --dump instance-get"; else ktap_test_fail "cli.py --dump instance-get"; fi

out=$(cli --do instance-get --json "{\"id\": ${id:-0}}" 2>&1)
ktap_print_msg "$out" | head -n 3
if echo "$out" | grep -q "'id': ${id:-x}"; then ktap_test_pass "cli.py --do instance-get"; else ktap_test_fail "cli.py --do instance-get"; fi

cli --do tunables-set --json "{\"id\": ${id:-0}, \"tx-batch\": 17}" >/dev/null 2>&1
out=$(cli --do tunables-get --json "{\"id\": ${id:-0}}" 2>&1)
ktap_print_msg "$out" | head -n 3
if echo "$out" | grep -q "'tx-batch': 17"; then ktap_test_pass "cli.py --do tunables-set"; else ktap_test_fail "cli.py --do tunables-set"; fi

exec 7<&-
ktap_finished
