#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz, inside the test VM: the fuzzers named in $FUZZERS (guest,
# vmm; default both) side by side for $FUZZ_SECONDS each, against one
# vhnet.ko. Each counts only its own instances and threads, so neither
# disturbs the other's counts. Then the module must unload, and on a
# debug kernel kmemleak must find nothing. KTAP of each goes to
# $VHNET_OUT/NAME.ktap.
#
#   VHNET_KO, VHNET_BIN, VHNETCTL, FUZZ_SECONDS, [FUZZ_SEED], [FUZZERS]
set -u
out=${VHNET_OUT:?run inside the test VM}
ko=${VHNET_KO:?}
bin=${VHNET_BIN:?}
fuzzers=${FUZZERS:-guest vmm}

modprobe -a tun tap macvtap veth bridge ||
	echo "fuzz-in-vm: some modules the fuzzers need did not load" >&2
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi
insmod "$ko" || exit 1

# Side by side, fuzz_vmm's Slab figure is the other fuzzer's too: it
# leaves leaks to rmmod and kmemleak below.
read -ra list <<<"$fuzzers"
[ "${#list[@]}" -gt 1 ] && export FUZZ_SLAB=0
pids=()
for f in "${list[@]}"; do
	case "$f" in
	guest | vmm) ;;
	*) echo "fuzz-in-vm: no fuzzer '$f' (guest, vmm)" >&2; exit 2 ;;
	esac
	"$bin/fuzz_$f" </dev/null >"$out/fuzz_$f.ktap" 2>&1 &
	pids+=($!)
	tail -n +1 -f --pid=$! "$out/fuzz_$f.ktap" | sed -u "s/^/[$f] /" &
done
status=0
for p in "${pids[@]}"; do
	wait "$p" || status=1
done
wait	# the log followers, which end a second after their fuzzer

if rmmod vhnet; then
	echo "fuzz-in-vm: vhnet unloaded"
else
	echo "fuzz-in-vm: vhnet did not unload"
	status=1
fi
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
	echo "fuzz-in-vm: kmemleak: $(grep -c 'unreferenced object' "$out/kmemleak.txt") unreferenced objects"
fi
exit $status
