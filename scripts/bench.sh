#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: vhnet against the kernel's vhost-net, side by side in ONE VM
# boot, alternating which goes first each round, so both see the same
# emulated machine. Reports, per workload, the median of the per-round
# ratios vhnet / vhost-net with their spread (min..max). Under TCG absolute
# numbers mean little; the ratios are the result.
#
#   ROUNDS=N (default 5)   KVER=... (default: the newest 6.12)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh >/dev/null
kver=${KVER:-$(scripts/kvers.sh default)}
ko=$(scripts/build-module.sh "$kver")
bin=$top/.cache/selftests
make -s -C tools/vhnetctl >/dev/null
make -s -C selftests OUTPUT="$bin" >/dev/null
out=$top/.cache/bench
VM_QUIET=1 selftests/vm/run --kver "$kver" --out "$out" --timeout 3000 -- \
	env VHNET_KO="$ko" VHNET_BIN="$bin" ROUNDS="${ROUNDS:-5}" selftests/bench-in-vm.sh
python3 scripts/bench-report.py "$out/files/bench.tsv"
