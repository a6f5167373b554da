#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading vhnet: the device node comes and goes, the kernel
# log gets the load line and nothing else, udev gives the node group kvm.
# Unloads vhnet first if it is loaded (nothing may hold it); leaves it
# loaded for the tests after it.
set -u
. "$(dirname "$0")/lib.sh"

# Lines a load may add besides our own: the kernel's taint notices for an
# out-of-tree, unsigned module (printed on the first such load only).
allowed='vhnet: loaded$|loading out-of-tree module taints kernel|module verification failed'
# Lines a slow VM prints at any moment, whatever runs (seen on the debug
# kernel under TCG): not the module's.
unrelated='hrtimer: interrupt took [0-9]+ ns'

log_mark()
{
	dmesg | wc -l
}

new_log_since()
{
	dmesg | tail -n +$(($1 + 1))
}

test_load()
{
	local mark extra
	mark=$(log_mark)
	insmod "$VHNET_KO" || return 1
	[ -c /dev/vhnet ] || { ktap_print_msg "no /dev/vhnet after insmod"; return 1; }
	new_log_since "$mark" | grep -q 'vhnet: loaded$' || { ktap_print_msg "no load line"; return 1; }
	extra=$(new_log_since "$mark" | grep -Ev "$allowed|$unrelated")
	[ -z "$extra" ] || { ktap_print_msg "unexpected log: $extra"; return 1; }
}

test_unload()
{
	local mark extra
	mark=$(log_mark)
	rmmod vhnet || return 1
	[ ! -e /dev/vhnet ] || { ktap_print_msg "/dev/vhnet still there"; return 1; }
	vhnet_loaded && { ktap_print_msg "module still loaded"; return 1; }
	extra=$(new_log_since "$mark" | grep -Ev "$unrelated")
	[ -z "$extra" ] || { ktap_print_msg "unexpected log: $extra"; return 1; }
}

test_reload_cycles()
{
	local _
	for _ in $(seq 20); do
		insmod "$VHNET_KO" && rmmod vhnet || return 1
	done
}

# udev applies packaging/60-vhnet.rules (installed by make install) to the
# node; here udevd reads it from /run/udev/rules.d, the rest of / being
# read-only.
test_udev_group()
{
	local top group mode
	top=$(cd "$(dirname "$0")/.." && pwd)
	# udevd and udevadm refuse to act in a chroot (the test VM is one).
	export SYSTEMD_IGNORE_CHROOT=1
	mkdir -p /run/udev/rules.d
	cp "$top/packaging/60-vhnet.rules" /run/udev/rules.d/
	/lib/systemd/systemd-udevd --daemon || return 1
	insmod "$VHNET_KO" || return 1
	udevadm trigger --subsystem-match=misc --sysname-match=vhnet
	udevadm settle --timeout=$((30 * ${VHNET_TIME_SCALE:-1}))
	group=$(stat -c %G /dev/vhnet)
	mode=$(stat -c %a /dev/vhnet)
	udevadm control --exit --timeout=$((60 * ${VHNET_TIME_SCALE:-1}))
	ktap_print_msg "/dev/vhnet: group $group mode $mode"
	[ "$group" = kvm ] && [ "$mode" = 660 ]
}

ktap_print_header
ktap_set_plan 4
# vhnet uses tun's and tap's exported socket helpers, as vhost-net does;
# insmod (unlike modprobe) does not load them.
modprobe -a tun tap || ktap_exit_fail_msg "cannot load tun and tap"
if vhnet_loaded && ! rmmod vhnet; then
	ktap_exit_fail_msg "vhnet is loaded and cannot be unloaded (in use?)"
fi
run_case load test_load
run_case unload test_unload
run_case reload_cycles test_reload_cycles
run_case udev_group_kvm test_udev_group
vhnet_loaded || insmod "$VHNET_KO"
ktap_finished
