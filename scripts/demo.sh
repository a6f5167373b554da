#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build vhnet, boot the test VM (KVER= picks the kernel), load the
# module there and show /dev/vhnet, then run a real QEMU guest on it with
# traffic and show vhnet's counters moving.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh >/dev/null
kver=${KVER:-$(scripts/kvers.sh default)}
ko=$(scripts/build-module.sh "$kver")
make -s -C tools/vhnetctl >/dev/null
out=$top/.cache/demo
status=0
selftests/vm/run --kver "$kver" --out "$out" --timeout 900 -- \
	env VHNET_KO="$ko" selftests/demo-in-vm.sh || status=$?
if ! scripts/kernel-reports.sh "$out"; then
	echo "demo: the kernel reported a problem (above; log in $out)" >&2
	[ "$status" = 0 ] && status=1
fi
exit "$status"
