#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module-wide defaults as module parameters: given at load (as
# modprobe.d would), read and written in /sys/module/vhnet/parameters,
# refused with the netlink spec's ranges, and always the same values that
# `vhnetctl show default` reports and a new instance starts with.
# Reloads vhnet (nothing may hold it) and leaves it loaded with its
# built-in defaults.
#
# usage: module_params.sh [VHNETCTL]    KTAP on stdout, exit 0 only if all pass.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/selftests/lib.sh"
ctl=${1:-${VHNETCTL:-$top/tools/vhnetctl/vhnetctl}}
params=/sys/module/vhnet/parameters

ok() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
# tunable ID|default KEY: its value as vhnetctl show prints it
tunable() { "$ctl" show "$1" | sed -n "s/.* $2 \([^ ]*\).*/\1/p" | head -1; }
# param KEY: the parameter's value in vhnetctl's spelling ("any" for no CPUs)
param() { local v; v=$(cat "$params/${1//-/_}") && echo "${v:-any}"; }
# write KEY VALUE: write the parameter; fails as the write does
write() { echo "# write ${1//-/_}=$2"; printf '%s\n' "$2" >"$params/${1//-/_}"; }

reload() {
	if vhnet_loaded; then rmmod vhnet || return 1; fi
	insmod "$VHNET_KO" "$@"
}

# Every tunable, with the edges of its range in the netlink spec.
edges="tx-batch:1:256 rx-batch:1:256 weight-pkts:1:65536 weight-bytes:1500:67108864
busypoll-us:0:100000 coalesce-pkts:0:1024 coalesce-us:0:100000"
keys="$(for e in $edges; do echo "${e%%:*}"; done) worker-cpus"

ktap_print_header
ktap_set_plan 12

[ -x "$ctl" ] || { echo "# $ctl not built"; echo "Bail out!"; exit 1; }
reload || { echo "# could not load $VHNET_KO"; echo "Bail out!"; exit 1; }

# ---- every default is a parameter, equal to what netlink reports ----
agree() {
	local k bad=0
	for k in $keys; do
		[ "$(param "$k")" = "$(tunable default "$k")" ] ||
			{ echo "# $k: parameter $(param "$k"), netlink $(tunable default "$k")"; bad=1; }
	done
	return $bad
}
check "every default tunable is a parameter, agreeing with show default" agree

# ---- sysfs writes: both edges taken, one past each refused, nothing changed ----
edges_ok() {
	local e k lo hi v bad=0
	for e in $edges; do
		IFS=: read -r k lo hi <<<"$e"
		for v in "$lo" "$hi"; do
			if ! write "$k" "$v" || [ "$(tunable default "$k")" != "$v" ]; then
				echo "# $k=$v not taken"; bad=1
			fi
		done
	done
	return $bad
}
check "each parameter takes both edges of its range, as netlink shows" edges_ok

edges_refused() {
	local e k lo hi v bad=0 mark
	for e in $edges; do
		IFS=: read -r k lo hi <<<"$e"
		for v in $((hi + 1)) $([ "$lo" -gt 0 ] && echo $((lo - 1))) -1 abc; do
			mark=$(dmesg | wc -l)
			if write "$k" "$v" 2>/dev/null; then
				echo "# $k=$v was taken"; bad=1
			fi
			[ "$(tunable default "$k")" = "$hi" ] || { echo "# $k changed after $v"; bad=1; }
			dmesg | tail -n +$((mark + 1)) | grep -q "vhnet: ${k//-/_}=$v refused" ||
				{ echo "# no log line for $k=$v"; bad=1; }
		done
	done
	return $bad
}
check "a value out of range or not a number is refused, logged, and changes nothing" edges_refused

check "the kernel log names the spec's range" \
	bash -c "dmesg | grep -q 'vhnet: tx_batch=257 refused: integer out of range'"

# Back to the built-in defaults for what follows.
reload || { echo "# could not reload"; echo "Bail out!"; exit 1; }

# ---- worker-cpus: a cpulist, empty for "wherever the owner may run" ----
cpus_list() { write worker-cpus 0 && [ "$(param worker-cpus)" = 0 ]; }
cpus_absent() { ! write worker-cpus 99999 2>/dev/null && [ "$(param worker-cpus)" = 0 ]; }
cpus_any() { write worker-cpus '' && [ "$(param worker-cpus)" = any ]; }
check "worker_cpus takes a cpulist" cpus_list
check "worker_cpus refuses a CPU this machine does not have" cpus_absent
check "worker_cpus empty means any" cpus_any

# ---- netlink writes show up in the parameters ----
"$ctl" set default rx-batch 17 coalesce-us 50
check "vhnetctl set default shows in the parameters" \
	test "$(param rx-batch)" = 17 -a "$(param coalesce-us)" = 50

# ---- without root, readable but not writable ----
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
check "anyone may read a parameter" test "$("${nobody[@]}" cat "$params/rx_batch")" = 17
root_only() { ! "${nobody[@]}" sh -c "echo 5 >$params/rx_batch" 2>/dev/null && [ "$(param rx-batch)" = 17 ]; }
check "only root may write one" root_only

# ---- given at load, as modprobe.d would ----
loaded_with() {
	local id
	reload tx_batch=32 weight-bytes=3000 worker_cpus=0 || return 1
	if [ "$(tunable default tx-batch)" != 32 ] || [ "$(tunable default weight-bytes)" != 3000 ] ||
		[ "$(tunable default worker-cpus)" != 0 ]; then
		echo "# defaults not as loaded"; return 1
	fi
	exec 9<>/dev/vhnet
	id=$("$ctl" show | sed -n 's/^instance \([0-9]*\): .*/\1/p' | sort -n | tail -1)
	[ "$(tunable "$id" tx-batch)" = 32 ] && [ "$(tunable "$id" weight-bytes)" = 3000 ]
	local rc=$?
	exec 9<&-
	return $rc
}
check "parameters given at load are the defaults a new instance starts with" loaded_with

bad_load() {
	local mark
	rmmod vhnet || return 1
	mark=$(dmesg | wc -l)
	if insmod "$VHNET_KO" tx_batch=0 2>/dev/null; then
		echo "# loaded with tx_batch=0"; return 1
	fi
	! vhnet_loaded && dmesg | tail -n +$((mark + 1)) | grep -q 'vhnet: tx_batch=0 refused: integer out of range'
}
check "a load with a value out of range fails and says why" bad_load

reload || { echo "# could not reload"; echo "Bail out!"; exit 1; }
ktap_finished
