#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite as make check runs it inside the test VM (as root, on a
# freshly booted kernel). Each test program's KTAP goes to the console and
# to $VHNET_OUT/NAME.ktap, its exit status to $VHNET_OUT/NAME.rc; the host
# side (scripts/check.sh) counts the results.
#
#   VHNET_KO   the vhnet.ko built for this kernel
#   VHNET_BIN  the directory of the built C tests
#   VHNET_TIME_SCALE  multiplies every test's time limit (default 1; the
#              debug kernel runs everything several times slower)
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${VHNET_OUT:?run inside the test VM}
time_scale=${VHNET_TIME_SCALE:-1}
export VHNET_KO=${VHNET_KO:?} VHNET_BIN=${VHNET_BIN:?}

# name, per-test timeout in seconds, command. make check boots the VM once
# per part of the suite ($VHNET_PART):
#   host    everything without a nested guest, on two vCPUs, so that races
#           (a second thread rewriting a ring, a reset racing a read, a busy
#           poll spinning beside an ioctl) run in parallel for real;
#   nested  the real QEMU guests, on one vCPU (two reset the VM or its
#           guests under nested traffic: Documentation/testing.md);
#   all     both, in one boot (the default, for running by hand).
# Order matters: load_unload leaves the module loaded for the rest; the
# kernel's vhost_net is loaded only for the reference runs, so nothing
# before them can pass through it.
ctlbin=$here/../tools/vhnetctl/vhnetctl
host_suite=(
	"device 300 $VHNET_BIN/device_test"
	"fakeguest_vhnet 600 env VHNET_DEV=/dev/vhnet $VHNET_BIN/fakeguest"
	"netlink_vhnetctl 300 $here/netlink/vhnetctl.sh"
	"netlink_ynl 600 python3 $here/netlink/ynl_spec.py"
	"netlink_ynl_cli 600 $here/netlink/ynl_cli.sh"
	"netlink_raw 300 python3 $here/netlink/raw.py"
	"netlink_fuzz 120 env FUZZ_SECONDS=30 python3 $here/netlink/fuzz.py"
	"accounting 600 env VHNETCTL=$ctlbin $VHNET_BIN/accounting"
	"fairness 180 $VHNET_BIN/fairness"
	"fuzz_guest 300 env FUZZ_SECONDS=60 VHNETCTL=$ctlbin $VHNET_BIN/fuzz_guest"
	"fuzz_vmm 240 env FUZZ_SECONDS=45 VHNETCTL=$ctlbin $VHNET_BIN/fuzz_vmm"
	"fakeguest_vhost_net 600 $here/with-vhost-net.sh $VHNET_BIN/fakeguest"
)
nested_suite=(
	"nested_vhnet_qemu7.2 900 env NESTED_QEMU=7.2 $here/nested/test.sh /dev/vhnet"
	"nested_vhnet_qemu10.0 900 env NESTED_QEMU=10.0 $here/nested/test.sh /dev/vhnet"
)
suite=("load_unload 120 $here/load_unload.sh")
case "${VHNET_PART:-all}" in
host) suite+=("${host_suite[@]}") ;;
nested) suite+=("${nested_suite[@]}") ;;
all)	# the vhost-net reference run stays last
	suite+=("${host_suite[@]:0:${#host_suite[@]}-1}" "${nested_suite[@]}" "${host_suite[-1]}") ;;
*) echo "run-in-vm: VHNET_PART is host, nested or all" >&2; exit 2 ;;
esac

# What the tests build their topologies from (macvtap and veth links, a
# bridge). The VM's own module autoloading runs outside this chroot and
# finds no modules, so load them here; a missing one fails its tests.
modprobe -a tun tap macvtap veth bridge ||
	echo "run-in-vm: some modules the tests need did not load" >&2

# Debug kernels: forget what boot leaked, so a report names the suite.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi
echo "vhnet-suite: start" >/dev/kmsg

# Every 5 s, what the VM is doing lands in $out/heartbeat: the time since
# the suite started, the test running, its last line of output, and, in
# the tests that run a guest, vhnet's counters (not in the others: a
# netlink request in flight would hold the module while they unload it).
# When the VM dies, the host side (scripts/vm-post-mortem.sh) reads the
# last one.
ctl=$ctlbin
heartbeat()
{
	local t0=$SECONDS name
	while :; do
		name=$(cat "$out/.current" 2>/dev/null)
		{
			echo "uptime $(cut -d' ' -f1 /proc/uptime) s, suite $((SECONDS - t0)) s, test ${name:-none}"
			[ -z "$name" ] || echo "last line: $(tail -n 1 "$out/$name.ktap" 2>/dev/null)"
			case "$name" in
			nested_* | fakeguest_vhnet | accounting | fuzz_guest) "$ctl" stats 2>/dev/null | grep -vE ' 0$' ;;
			esac
		} >"$out/.heartbeat.new" 2>&1
		mv "$out/.heartbeat.new" "$out/heartbeat"
		sleep 5
	done
}
heartbeat &
heartbeat_pid=$!

# A test that overruns its limit is killed, after the state that explains
# the hang is saved: every task's state and wait channel, the kernel stacks
# of the blocked ones, and the kernel's own blocked-task dump (sysrq w).
dump_hang()
{
	local name=$1 pid
	echo "# $name: over its time limit; state in $name.hang"
	{
		ps -eo pid,ppid,stat,wchan:32,cmd
		for pid in $(ps -eo pid=,stat= | awk '$2 ~ /^D/ { print $1 }'); do
			echo "== $pid $(cat /proc/"$pid"/comm 2>/dev/null)"
			cat /proc/"$pid"/stack 2>/dev/null
		done
	} >"$out/$name.hang" 2>&1
	echo w >/proc/sysrq-trigger
}

run_one()
{
	local name=$1 limit=$(($2 * time_scale)) pid deadline
	shift 2
	echo "# ---- $name"
	echo "$name" >"$out/.current"
	"$@" </dev/null >"$out/$name.ktap" 2>&1 &
	pid=$!
	tail -n +1 -f --pid="$pid" "$out/$name.ktap" &
	deadline=$((SECONDS + limit))
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		dump_hang "$name"
		pkill -TERM -P "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
		sleep 5
		pkill -KILL -P "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	echo $? >"$out/$name.rc"
	sleep 1
}

for entry in "${suite[@]}"; do
	# shellcheck disable=SC2086
	run_one $entry
done

kill "$heartbeat_pid" 2>/dev/null
wait "$heartbeat_pid" 2>/dev/null
echo "end of suite" >"$out/.current"

# The module must unload cleanly after everything (no leaked references).
{
	echo "TAP version 13"
	echo "1..1"
	if rmmod vhnet; then echo "ok 1 unload_after_suite"; else echo "not ok 1 unload_after_suite"; fi
} | tee "$out/final.ktap"
echo 0 >"$out/final.rc"

# kmemleak exists only on debug kernels; where it does, any report fails.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
fi
exit 0
