#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: run the hostile-guest fuzzer (selftests/fuzz_guest.c) against
# /dev/vhnet in the test VM, then scan the guest's kernel log.
#
#   scripts/fuzz.sh [SECONDS [SEED]]    default 60 s, seed from the clock
#   KVER=...                            the kernel (default: the first of kvers.sh)
#
# The fuzzer prints its seed first, and for a failing state the
# FUZZ_SEED=... FUZZ_STATE=... that replays it.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
secs=${1:-60}
seed=${2:-}
kver=${KVER:-$(scripts/kvers.sh | head -n 1)}
bin=$top/.cache/selftests
out=$top/.cache/fuzz/vm-$kver

ko=$(scripts/build-module.sh "$kver") || exit 1
make -s -C tools/vhnetctl >/dev/null || exit 1
# Only the fuzzer: another test that does not build must not stop it.
make -s -C selftests OUTPUT="$bin" "$bin/fuzz_guest" >/dev/null || exit 1
mkdir -p "$out"
# shellcheck disable=SC2016 # $1 and $2 are for the inner sh
selftests/vm/run --kver "$kver" --out "$out" --timeout $((secs + 300)) -- \
	env FUZZ_SECONDS="$secs" ${seed:+FUZZ_SEED="$seed"} \
	VHNETCTL="$top/tools/vhnetctl/vhnetctl" \
	sh -c 'modprobe -a tun tap && insmod "$1" && exec "$2"' sh "$ko" "$bin/fuzz_guest"
status=$?
scripts/kernel-reports.sh "$out" || status=1
exit $status
