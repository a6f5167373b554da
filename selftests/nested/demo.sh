#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: vhnet doing its main job, inside the test VM (as root).
#
#   selftests/nested/demo.sh PATH/TO/vhnet.ko    the real demo on /dev/vhnet
#   selftests/nested/demo.sh --vhost-net         the same on the kernel's
#                                                /dev/vhost-net (no counters)
#
#  outer test VM                                   nested KVM guest
#  +----------------------------------------+     +---------------------+
#  | tap0 169.254.77.1/16 (ping, iperf3 -s) |     | eth0 169.254.77.2/16|
#  |   |                                    |     |   (virtio-net-pci)  |
#  |   +-- QEMU -- vhostfd -- /dev/vhnet <------- virtqueues           |
#  +----------------------------------------+     +---------------------+
#
# Loads the module, shows the device, boots an unmodified QEMU guest whose
# virtio-net is backed by it, pings and runs a short iperf3 each way, and
# prints vhnet's counters before and after the traffic.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

case "${1:-}" in
--vhost-net) dev=/dev/vhost-net ko= ;;
*.ko) dev=/dev/vhnet ko=$1 ;;
*) echo "usage: $0 PATH/TO/vhnet.ko | --vhost-net" >&2; exit 2 ;;
esac

TAP=tap0
scratch_begin nested-demo || exit 1

step() {
	printf '\n=== %s\n' "$*"
}

# Show a command, then run it.
run() {
	printf '$ %s\n' "$*"
	"$@"
}

# In the guest: show, run, print the output.
guest() {
	printf 'guest$ %s\n' "$2"
	local rc=0
	gcmd "$1" "$2" || rc=$?
	printf '%s' "$G_OUT"
	return "$rc"
}

counters() {
	[ "$dev" = /dev/vhnet ] || { echo "(the kernel's vhost-net keeps no counters)"; return 0; }
	local ctl
	ctl=$(cd "$here/../.." && pwd)/tools/vhnetctl/vhnetctl
	run "$ctl" show
	run "$ctl" stats --json
}

step "Load the module and the tools the guest needs"
run modprobe tun
run modprobe kvm_amd
if [ -n "$ko" ]; then
	# vhnet uses tun's and tap's (macvtap) socket helpers.
	run modprobe tap
	lsmod | grep -q '^vhnet ' || run insmod "$ko"
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
else
	run modprobe vhost_net
fi
run ls -l "$dev"

step "A tap in this VM for the guest's NIC"
tap_create "$TAP"
run ip -br addr show dev "$TAP"
iperf3 -s -B "$HOST_IP" -p 5201 >"$tmp/iperf3-server.log" 2>&1 &
srv=$!

step "Boot an unmodified QEMU guest with its virtio-net on $dev"
cat <<EOF
$ qemu-system-x86_64 -enable-kvm -cpu host -m 256 -smp 1 -nodefaults ... \\
    -netdev tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=on,vhostfd=3 \\
    -device virtio-net-pci,netdev=n0 3<>$dev
EOF
guest_start "$dev" "$TAP" 1 "$tmp/guest" || { cat "$tmp/guest/run-guest.log"; exit 1; }
echo "guest up after $G_BOOT_SECS s (QEMU pid $G_QEMU)"
qemu_took_vhost
guest 10 "ip addr show dev eth0 | grep inet; ethtool -i eth0 | head -n 1"

step "Counters before"
counters

step "Traffic"
guest 30 "ping -c 5 -i 0.2 $HOST_IP"
guest 30 "iperf3 -c $HOST_IP -t 2 -f m | tail -n 4"
guest 30 "iperf3 -c $HOST_IP -t 2 -f m -R | tail -n 4"
qemu_took_vhost
if [ "$dev" = /dev/vhost-net ]; then
	echo "vhost-net worker threads of QEMU (tid cpu_ticks): $(vhost_workers "$G_QEMU" | tr '\n' ' ')"
fi

step "Counters after"
counters
echo
echo "demo: done"
