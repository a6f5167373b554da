#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark inside the test VM: rounds of the same workloads on
# vhost-net, vhnet with defaults and vhnet tuned, the order rotating every
# round. Appends "round backend metric value" lines to $VHNET_OUT/bench.tsv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${VHNET_OUT:?}
rounds=${ROUNDS:-5}
tsv=$out/bench.tsv
: >"$tsv"
ctl=$top/tools/vhnetctl/vhnetctl

modprobe -a tun tap vhost_net
insmod "${VHNET_KO:?}"

# What "tuned" means: see Documentation/tuning.md.
tune()
{
	case "$1" in
	vhnet) "$ctl" set default tx-batch 64 rx-batch 64 busypoll-us 0 \
		coalesce-pkts 0 coalesce-us 0 >/dev/null ;;
	vhnet-tuned) "$ctl" set default tx-batch 256 rx-batch 256 \
		weight-pkts 1024 coalesce-pkts 32 coalesce-us 50 >/dev/null ;;
	esac
}

fakeguest_rate()
{
	local backend=$1 round=$2 dev=/dev/vhnet line
	[ "$backend" = vhost-net ] && dev=/dev/vhost-net
	# The whole output first: grep -m1 would SIGPIPE the test (pipefail).
	line=$(VHNET_DEV=$dev "${VHNET_BIN:?}/fakeguest" -f fg_rate -t pps 2>&1) ||
		{ echo "fakeguest failed on $backend: $line" >&2; return 1; }
	line=$(echo "$line" | grep -m1 'rate .*: TX') ||
		{ echo "fakeguest printed no rate on $backend" >&2; return 1; }
	echo "$line" | sed -E 's/.*TX [0-9]+ x 64B: ([0-9]+) pps, RX [0-9]+ x 64B: ([0-9]+) pps.*/\1 \2/' |
		while read -r tx rx; do
			printf '%s\t%s\tfakeguest_tx_pps\t%s\n' "$round" "$backend" "$tx" >>"$tsv"
			printf '%s\t%s\tfakeguest_rx_pps\t%s\n' "$round" "$backend" "$rx" >>"$tsv"
		done
}

backends=(vhost-net vhnet vhnet-tuned)
for round in $(seq "$rounds"); do
	# Rotate the order so no backend always runs first (or last).
	n=${#backends[@]}
	for i in $(seq 0 $((n - 1))); do
		b=${backends[$(((i + round) % n))]}
		tune "$b"
		echo "# round $round: $b"
		fakeguest_rate "$b" "$round"
		if [ -x "$here/nested/bench.sh" ]; then
			"$here/nested/bench.sh" "$b" "$round" >>"$tsv"
		fi
	done
done
tune vhnet
