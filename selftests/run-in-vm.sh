#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite as make check runs it inside the test VM (as root, on a
# freshly booted kernel). The suite's KTAP goes to the console and, as it
# comes, to $VHNET_OUT/suite.log, the tests it runs to suite.list; the host
# side (scripts/check.sh) splits the log per test and counts, so a VM that
# dies still leaves the results of the tests it finished.
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
# shellcheck source=lib.sh
. "$here/lib.sh"

# The suite is selftests/Makefile's kselftest lists (make print-tests), in
# their order, and each test runs under kselftest's own runner
# (kselftest/runner.sh: time limit, KTAP framing, exit codes) with the
# limit of selftests/settings. make check boots the VM once per part
# ($VHNET_PART):
#   host    everything without a nested guest, on two vCPUs, so that races
#           (a second thread rewriting a ring, a reset racing a read, a busy
#           poll spinning beside an ioctl) run in parallel for real;
#   nested  the real QEMU guests (nested/), on one vCPU (two reset the VM or
#           its guests under nested traffic: Documentation/testing.md);
#   all     both, in one boot (the default, for running by hand).
ctlbin=$here/../tools/vhnetctl/vhnetctl
export VHNETCTL=$ctlbin
# (No process substitution: the VM has no /dev/fd.)
list=$(make -s --no-print-directory -C "$here" print-tests OUTPUT="$VHNET_BIN")
[ -n "$list" ] || { echo "run-in-vm: make print-tests listed no tests" >&2; exit 2; }
mapfile -t all <<<"$list"
suite=()
for t in "${all[@]}"; do
	case "${VHNET_PART:-all}:$t" in
	host:*/nested/*) ;;
	nested:*/nested/*) suite+=("$t") ;;
	nested:*) ;;
	host:* | all:*) suite+=("$t") ;;
	*) echo "run-in-vm: VHNET_PART is host, nested or all" >&2; exit 2 ;;
	esac
done
limit=$(($(sed -n 's/^timeout=//p' "$here/settings") * time_scale))

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

# The test a line of the suite's output starts, from kselftest's runner's
# "# selftests: DIR: NAME" header; its result line ends it.
test_of_header()
{
	sed -n 's/^# selftests: .*: \([^ ]*\)$/\1/p'
}

# Every 5 s, what the VM is doing lands in $out/heartbeat: the time since
# the suite started, the test running, its last line of output, and, in
# the tests that run a guest, vhnet's counters (not in the others: a
# netlink request in flight would hold the module while they unload it).
# When the VM dies, the host side (scripts/vm-post-mortem.sh) reads the
# last one. A test still running 30 s before its limit gets the state that
# explains a hang saved first (dump_hang), before the runner kills it.
ctl=$ctlbin
heartbeat()
{
	local t0=$SECONDS name prev='' since=$SECONDS dumped=''
	while :; do
		name=$(test_of_header <"$out/suite.log" 2>/dev/null | tail -n 1)
		if [ "$name" != "$prev" ]; then
			prev=$name since=$SECONDS dumped=''
		elif [ -n "$name" ] && [ -z "$dumped" ] &&
		     [ $((SECONDS - since)) -ge $((limit - 30)) ]; then
			dump_hang "$name"
			dumped=1
		fi
		{
			echo "uptime $(cut -d' ' -f1 /proc/uptime) s, suite $((SECONDS - t0)) s, test ${name:-none}"
			echo "last line: $(tail -n 1 "$out/suite.log" 2>/dev/null)"
			case "$name" in
			vhnet_qemu* | fakeguest | accounting | fuzz_guest) "$ctl" stats 2>/dev/null | grep -vE ' 0$' ;;
			esac
		} >"$out/.heartbeat.new" 2>&1
		mv "$out/.heartbeat.new" "$out/heartbeat"
		sleep 5
	done
}

# The state that explains a hang: every task's state and wait channel,
# the kernel stacks of the blocked ones, and the kernel's own
# blocked-task dump (sysrq w).
dump_hang()
{
	local name=$1 pid
	echo "# $name: near its time limit; state in $name.hang" >/dev/console
	{
		ps -eo pid,ppid,stat,wchan:32,cmd
		for pid in $(ps -eo pid=,stat= | awk '$2 ~ /^D/ { print $1 }'); do
			echo "== $pid $(cat /proc/"$pid"/comm 2>/dev/null)"
			cat /proc/"$pid"/stack 2>/dev/null
		done
	} >"$out/$name.hang" 2>&1
	echo w >/proc/sysrq-trigger
}

# What the host side expects results of (scripts/check.sh splits
# suite.log per test; a test with none fails).
printf '%s\n' "${suite[@]}" >"$out/suite.list"
: >"$out/suite.log"
heartbeat &
heartbeat_pid=$!

# Every test finds vhnet loaded.
insmod "$VHNET_KO" || echo "run-in-vm: insmod $VHNET_KO failed" >&2

# kselftest's runner, as lib.mk's run_tests uses it; its output (the
# tests' own, "# "-prefixed, and a result line each) is the console's and
# suite.log's.
(
	# The runner reads unset variables by design.
	set +u
	export BASE_DIR=$ksft_dir
	# shellcheck source=/dev/null
	. "$ksft_dir/kselftest/runner.sh"
	export kselftest_override_timeout=$limit
	# As the runner's own, and a test that ignores SIGTERM gets SIGKILL
	# 10 s later (the VM's own limit must not be what stops it).
	# shellcheck disable=SC2317 # the runner calls it
	tap_timeout()
	{
		# $1 is the runner's command line, split here as it does;
		# kselftest_timeout is the runner's.
		# shellcheck disable=SC2086,SC2154
		/usr/bin/timeout --foreground "$kselftest_timeout" \
			/usr/bin/timeout -k 10 "$kselftest_timeout" $1
	}
	cd "$here" && run_many "${suite[@]}"
) </dev/null 2>&1 | tee -a "$out/suite.log"

kill "$heartbeat_pid" 2>/dev/null
wait "$heartbeat_pid" 2>/dev/null

# The module must unload cleanly after everything (no leaked references).
(
	ktap_print_header
	ktap_set_plan 1
	run_case unload_after_suite rmmod vhnet
	ktap_print_totals
) | tee "$out/final.ktap"
echo 0 >"$out/final.rc"

# kmemleak exists only on debug kernels; where it does, any report fails.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 5
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
fi
exit 0
