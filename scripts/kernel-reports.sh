#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-reports.sh OUT: print the kernel reports (BUG, WARNING, Oops,
# KASAN, UBSAN, lockdep, RCU, hung task, kmemleak, ...) in the log of the
# test VM run whose results are in OUT (selftests/vm/run --out OUT).
# Exit status 1 when there is any, 0 when there is none.
# The guest's dmesg when it got to save it, its console when it died first.
set -u
out=$1
reports='BUG:|WARNING:|Oops|KASAN:|UBSAN:|possible circular locking|inconsistent lock state|suspicious RCU usage|rcu_preempt detected stalls|blocked for more than|soft lockup|unreferenced object|Kernel panic|general protection fault|list_add corruption|list_del corruption|refcount_t:'
log=$out/dmesg.log
[ -s "$log" ] || log=$out/console.log
found=$(grep -hE "$reports" "$log" "$out/files/kmemleak.txt" 2>/dev/null | sort -u)
[ -z "$found" ] && exit 0
echo "$found" | head -20
exit 1
