#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: the hostile-guest fuzzer (selftests/fuzz_guest.c) and the
# careless-VMM fuzzer (selftests/fuzz_vmm.c) side by side against
# /dev/vhnet in the test VM (two vCPUs), then the module must unload,
# kmemleak (on a debug kernel) must be empty and the guest's kernel log
# must hold no report.
#
#   scripts/fuzz.sh [SECONDS [SEED]]    default 60 s each, seed from the clock
#   KVER=...                            the kernel (default: the first of kvers.sh)
#   FUZZERS="guest vmm"                 which of them (default both)
#
# Each fuzzer prints its seed first; fuzz_guest prints, for a failing
# state, the FUZZ_SEED=... FUZZ_STATE=... that replays it, fuzz_vmm the
# FUZZ_SEED=... FUZZ_ROUND=... of a failed round. Logs: .cache/fuzz/vm-KVER.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
secs=${1:-60}
seed=${2:-}
kver=${KVER:-$(scripts/kvers.sh | head -n 1)}
bin=${FUZZ_BIN:-$top/.cache/selftests}
out=$top/.cache/fuzz/vm-$kver

ko=$(scripts/build-module.sh "$kver") || exit 1
make -s -C tools/vhnetctl >/dev/null || exit 1
# Only the fuzzers: another test that does not build must not stop them.
make -s -C selftests OUTPUT="$bin" "$bin/fuzz_guest" "$bin/fuzz_vmm" >/dev/null || exit 1
mkdir -p "$out"
VM_SMP=${VM_SMP:-2} selftests/vm/run --kver "$kver" --out "$out" \
	--timeout $((secs * 2 + 600)) -- \
	env FUZZ_SECONDS="$secs" ${seed:+FUZZ_SEED="$seed"} FUZZERS="${FUZZERS:-guest vmm}" \
	VHNETCTL="$top/tools/vhnetctl/vhnetctl" VHNET_KO="$ko" VHNET_BIN="$bin" \
	selftests/fuzz-in-vm.sh
status=$?
for f in "$out"/files/fuzz_*.ktap; do
	[ -e "$f" ] || continue
	echo "$(basename "$f" .ktap): $(grep -cE '^ok ' "$f") ok, $(grep -cE '^not ok ' "$f") not ok"
	grep -qE '^not ok ' "$f" && status=1
done
scripts/kernel-reports.sh "$out" || status=1
exit $status
