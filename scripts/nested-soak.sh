#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the nested multiqueue test again and again, one fresh test VM per
# run, and count how each run ended. For choosing and checking the test
# VM's configuration; not part of make check.
#
#   scripts/nested-soak.sh [--runs N] [--kver KVER] [--outer VMM]
#                          [--nested "VMM..."] [--no-pin] [--cases "..."]
#
#   --outer   the QEMU running the test VM (7.2, 10.0; default: the tree's)
#   --nested  the QEMUs that run the nested guest, each in turn in every VM
#             boot (default: "7.2 10.0")
#   --no-pin, --pin  boot without or with selftests/vm/pin-static-keys
#             (default: as selftests/vm/run decides)
#   --tcg-thread single|multi   the test VM's TCG threading (VM_TCG_THREAD)
#   --smp N   the test VM's vCPUs (VM_SMP); --nested-smp N the guest's (NESTED_SMP)
#   --cases   the nested test's cases (default: setup multiqueue_boot
#             multiqueue_traffic no_kernel_reports)
#
# One line per run and nested VMM, then a summary:
#   soak: kver=K outer=O nested=N pin=1 run=3 result=pass 41s
# where result is pass, fail (a case failed; the guest kept its boot),
# l2-reset (the nested guest rebooted by itself), l1-died (the test VM
# reset or died: no exit status came back), or vm-timeout.
# Logs of every run stay in .cache/soak/KVER-O/RUN/ (RUN.post-mortem for
# a VM that died or hung).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
runs=10
kver=
outer=
nested="7.2 10.0"
pin=auto
cases="setup multiqueue_boot multiqueue_traffic no_kernel_reports"

while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--outer) outer=$2; shift 2 ;;
	--nested) nested=$2; shift 2 ;;
	--no-pin) pin=0; shift ;;
	--pin) pin=1; shift ;;
	--tcg-thread) export VM_TCG_THREAD=$2; shift 2 ;;
	--smp) export VM_SMP=$2; shift 2 ;;
	--nested-smp) export NESTED_SMP=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	*) sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
[ -n "$kver" ] || kver=$(scripts/kvers.sh default)
ko=$(scripts/build-module.sh "$kver") || exit 1
selftests/nested/mkguest --kver "$(scripts/kvers.sh default)" >/dev/null || exit 1
label=${outer:-default}${VM_TCG_THREAD:+-$VM_TCG_THREAD}${VM_SMP:+-smp$VM_SMP}${NESTED_SMP:+-nsmp$NESTED_SMP}
summary=$top/.cache/soak/$kver-$label-pin$pin.summary
mkdir -p "$(dirname "$summary")"
: >"$summary"

for r in $(seq "$runs"); do
	out=$top/.cache/soak/$kver-$label-pin$pin/$r
	mkdir -p "$out"
	inner=
	for n in $nested; do
		inner+="echo '# ---- nested $n'; ${NESTED_SMP:+NESTED_SMP=$NESTED_SMP }NESTED_QEMU=$n NESTED_CASES='$cases' \
selftests/nested/test.sh /dev/vhnet >\$VHNET_OUT/nested-$n.ktap 2>&1; \
echo \$? >\$VHNET_OUT/nested-$n.rc; cat \$VHNET_OUT/nested-$n.ktap; "
	done
	t0=$SECONDS
	VM_QUIET=1 VM_PIN_KEYS=${pin#auto} selftests/vm/run --kver "$kver" --out "$out" --timeout 600 \
		${outer:+--qemu "$outer"} -- \
		sh -c "modprobe -a tun tap && insmod $ko || exit 1; $inner" >"$out.log" 2>&1
	vm=$?
	[ "$vm" = 0 ] || scripts/vm-post-mortem.sh "$out" "$vm" >"$out.post-mortem" 2>&1
	died=
	for n in $nested; do
		k=$out/files/nested-$n.ktap
		if [ -n "$died" ]; then
			res=not-run
		elif [ -s "$k" ] && [ "$(cat "$out/files/nested-$n.rc" 2>/dev/null)" = 0 ]; then
			res=pass
		elif [ -s "$k" ] && grep -q 'the guest rebooted during the traffic' "$k"; then
			res=l2-reset
		elif [ "$vm" = 124 ]; then
			res="vm-timeout"
		elif [ ! -s "$out/status" ]; then
			res=l1-died
			died=1
		else
			res=fail
		fi
		scripts/kernel-reports.sh "$out" >/dev/null || res="$res+kernel-report"
		line="soak: kver=$kver outer=$label nested=$n pin=$pin run=$r result=$res $((SECONDS - t0))s"
		echo "$line"
		echo "$line" >>"$summary"
	done
done
echo "soak: summary in $summary"
awk '{ print $3, $4, $5, $7 }' "$summary" | sort | uniq -c
