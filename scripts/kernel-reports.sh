#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-reports.sh OUT | -: print the kernel reports (BUG, WARNING, Oops,
# KASAN, UBSAN, lockdep, RCU, hung task, soft lockup, kmemleak, ...) in a
# kernel log. Exit status 1 when there is any, 0 when there is none.
#   OUT  the results of a test VM run (selftests/vm/run --out OUT): the
#        guest's dmesg when it got to save it, its console when it died
#        first, and kmemleak's report;
#   -    a log on standard input (inside the VM: dmesg | kernel-reports.sh -).
# The one list of report headers; every check in the tree uses it.
set -u
reports='BUG:|WARNING:|Oops|KASAN:|UBSAN:|possible circular locking|inconsistent lock state|suspicious RCU usage|rcu_preempt detected stalls|blocked for more than|soft lockup|unreferenced object|Kernel panic|general protection fault|list_add corruption|list_del corruption|refcount_t:'
if [ "${1:?usage: kernel-reports.sh OUT | -}" = - ]; then
	found=$(grep -E "$reports" | sort -u)
else
	log=$1/dmesg.log
	[ -s "$log" ] || log=$1/console.log
	found=$(grep -hE "$reports" "$log" "$1/files/kmemleak.txt" 2>/dev/null | sort -u)
fi
[ -z "$found" ] && exit 0
echo "$found" | head -20
exit 1
