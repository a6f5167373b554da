#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh BACKEND ROUND: one round of the nested-guest benchmark (run by
# selftests/bench-in-vm.sh inside the test VM). Boots an unmodified QEMU
# guest on BACKEND's device (vhost-net: /dev/vhost-net; vhnet and
# vhnet-tuned: /dev/vhnet with the module defaults bench-in-vm.sh set), then
# measures TCP with iperf3 guest -> host and host -> guest, and the ping
# round trip. Prints "ROUND BACKEND METRIC VALUE" lines (tab-separated) for
# bench.tsv on stdout; diagnostics go to stderr.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/nested/lib.sh
. "$here/lib.sh"

backend=${1:?usage: bench.sh BACKEND ROUND}
round=${2:?usage: bench.sh BACKEND ROUND}
dev=/dev/vhnet
[ "$backend" = vhost-net ] && dev=/dev/vhost-net
SECS=${BENCH_SECS:-5}

TAP=tapbench0
scratch_begin nested-bench || exit 1

# A failed round keeps the guest's console for the post-mortem.
fail() {
	echo "bench: $* (guest console: ${VHNET_OUT:-.}/bench-guest-$round-$backend.log)" >&2
	cp "$tmp/guest/console.log" "${VHNET_OUT:-.}/bench-guest-$round-$backend.log" 2>/dev/null
	exit 1
}

emit() {
	printf '%s\t%s\t%s\t%s\n' "$round" "$backend" "$1" "$2"
}

tap_create "$TAP" || exit 1
iperf3 -s -B "$HOST_IP" -p 5201 >"$tmp/iperf3-server.log" 2>&1 &
srv=$!
guest_start "$dev" "$TAP" 1 "$tmp/guest" >&2 || fail "the guest did not boot on $backend"

# The first connection pays for ARP and a cold guest; not measured.
gcmd 60 "iperf3 -c $HOST_IP -t 1 -f m >/dev/null" || true

# iperf3 -f m: the receiver's line ends in "N Mbits/sec ... receiver".
tcp() {
	local metric=$1 flags=$2 v
	gcmd $((SECS + 60)) "iperf3 -c $HOST_IP -t $SECS -f m $flags | grep receiver" ||
		fail "iperf3 $flags failed on $backend: $G_OUT"
	v=$(echo "$G_OUT" | sed -nE 's/.* ([0-9.]+) Mbits\/sec.*receiver.*/\1/p' | head -n 1)
	[ -n "$v" ] && emit "$metric" "$v"
}
tcp nested_tcp_guest_to_host_mbps ""
tcp nested_tcp_host_to_guest_mbps "-R"

# busybox ping: "round-trip min/avg/max = 0.5/0.7/1.2 ms"; microseconds.
gcmd 60 "ping -c 20 -i 0.1 $HOST_IP | tail -n 1" ||
	fail "ping failed on $backend: $G_OUT"
v=$(echo "$G_OUT" | sed -nE 's/.*= [0-9.]+\/([0-9.]+)\/.*/\1/p')
[ -n "$v" ] && emit nested_ping_rtt_us "$(awk -v ms="$v" 'BEGIN { printf "%.0f", ms * 1000 }')"
exit 0
