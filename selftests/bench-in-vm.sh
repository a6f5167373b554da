#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark inside the test VM (started by scripts/bench.sh): rounds of
# the same workloads on vhost-net, vhnet with defaults and vhnet tuned, the
# order rotating every round. Upstream's vhost-net methodology: DPDK's
# testpmd is the guest (virtio-user on the backend's device), so the
# backend's worker, not an emulated guest, is what runs out of CPU.
#
#   tx64: testpmd --forward-mode=txonly, 64-byte frames
#         testpmd -> virtio ring -> backend worker -> vtap0 -> XDP_DROP
#         pps = frames the XDP program dropped, i.e. that the backend
#         actually delivered to the tap, over the window
#   rx60: the kernel's pktgen, 60-byte frames, testpmd --forward-mode=rxonly
#         pktgen -> vtap0 -> backend worker -> virtio ring -> testpmd
#         pps = frames the backend took from the tap into testpmd's ring
#         over the window (the tap's tx_packets; testpmd's own total is
#         checked against it)
#   *_worker_ns_per_pkt: on-CPU time of the backend's worker threads
#         (/proc/TID/schedstat, first field) over the window / packets
#
# Appends "round backend metric value" lines to $VHNET_OUT/bench.tsv;
# testpmd's logs land in $VHNET_OUT/logs.
#
#   ROUNDS (5)  BENCH_SECS (10, the measured window)  BENCH_WARMUP (2)
#   BENCH_EXTRA: "fakeguest" and/or "nested" add the older, secondary
#   workloads (selftests/fakeguest, the nested QEMU guest's iperf3)
#   BENCH_BACKENDS ("vhost-net vhnet vhnet-tuned"): besides those three,
#   vhnet-txbN and vhnet-rxbN are vhnet's defaults with tx-batch or
#   rx-batch N (the sweep of Documentation/tuning.md)
#   BENCH_WORKLOADS ("tx64 rx60")
#   BENCH_PROFILE=1: each window is also sampled by perf (cpu-clock, every
#   CPU; under -icount, samples fall in proportion to instructions) and
#   $VHNET_OUT/profile-ROUND-BACKEND-WORKLOAD.txt holds the report
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${VHNET_OUT:?}
rounds=${ROUNDS:-5}
secs=${BENCH_SECS:-10}
warmup=${BENCH_WARMUP:-2}
extra=${BENCH_EXTRA:-}
read -r -a backends <<<"${BENCH_BACKENDS:-vhost-net vhnet vhnet-tuned}"
read -r -a workloads <<<"${BENCH_WORKLOADS:-tx64 rx60}"
profile=${BENCH_PROFILE:-}
tsv=$out/bench.tsv
logs=$out/logs
ctl=$top/tools/vhnetctl/vhnetctl
tap=vtap0
work=/run/vhnet-bench
mkdir -p "$logs" "$work"
: >"$tsv"

emit() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$tsv"
}

modprobe -a tun tap vhost_net pktgen
insmod "${VHNET_KO:?}"

# A tap with IPv6 sends router solicitations from a softirq timer: traffic
# that is not the workload's (and a known lockdep report on debug kernels).
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

# testpmd's memory: 64 MiB of 2 MiB hugepages, so the VM needs 1 GiB only.
echo 40 >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs none /dev/hugepages
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# EAL dlopen()s every driver in Debian's plugin directory (about 130, with
# their libraries) at start: under TCG that took 55-65 s per testpmd, 10-15
# s without. testpmd runs in a mount namespace of its own where the
# directory holds only what it links to plus the virtio and mempool
# drivers; the files are copies in the VM's tmpfs (the root is 9p, read-only).
pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
mkdir -p "$work/pmds"
for f in $({
	ldd "$(command -v dpdk-testpmd)" | awk '$3 ~ /pmds-/ { print $3 }'
	echo "$pmds/librte_net_virtio.so.23" "$pmds/librte_mempool_ring.so.23"
} | xargs -n 1 readlink -f | sort -u); do
	b=$(basename "$f")
	cp "$f" "$work/pmds/$b"
	ln -sf "$b" "$work/pmds/${b%.*}"
done

# The tap exists, persistent, before any testpmd: virtio-user attaches to it
# by name (iface=). The XDP program goes on once, before any traffic, and
# stays until power-off. Attaching or detaching XDP re-patches the kernel's
# BPF dispatcher text; under QEMU 7.2's multi-threaded TCG a vCPU running
# that text while another patches it died with "Oops: int3" at
# bpf_dispatcher_xdp_func. With one attach before the first frame, no text
# changes while traffic flows, whichever QEMU runs the VM.
# xdp-filter's deny policy with no rules drops every frame and counts it in
# a map (`xdp-filter status`): no process to keep alive, exact counts.
ip tuntap add dev "$tap" mode tap vnet_hdr
ip link set "$tap" up
xdp-filter load -m native -p deny -f ethernet "$tap"

# What "tuned" means: see Documentation/tuning.md. Every vhnet variant
# starts from the defaults.
tune()
{
	[ "$1" = vhost-net ] && return 0
	"$ctl" set default tx-batch 64 rx-batch 64 busypoll-us 0 weight-pkts 256 \
		coalesce-pkts 0 coalesce-us 0 >/dev/null
	case "$1" in
	vhnet) ;;
	vhnet-tuned) "$ctl" set default tx-batch 256 rx-batch 256 \
		weight-pkts 1024 coalesce-pkts 32 coalesce-us 50 >/dev/null ;;
	vhnet-txb[0-9]*) "$ctl" set default tx-batch "${1#vhnet-txb}" >/dev/null ;;
	vhnet-rxb[0-9]*) "$ctl" set default rx-batch "${1#vhnet-rxb}" >/dev/null ;;
	*) echo "bench: unknown backend $1" >&2; return 1 ;;
	esac
}

device_of() {
	if [ "$1" = vhost-net ]; then echo /dev/vhost-net; else echo /dev/vhnet; fi
}

pg_cpu=$(($(nproc) - 1))
tp_pid=
tp_log=
# testpmd_start DEVICE LOG MODE-ARGS...: testpmd in the background, main
# lcore on CPU 0, forwarding lcore on CPU 1. The backend's worker inherits
# the owner's (main lcore's) CPU 0, so it and the busy-polling forwarder
# do not share a CPU. Returns once forwarding runs (first statistics block).
testpmd_start() {
	local dev=$1 deadline
	tp_log=$2
	shift 2
	# shellcheck disable=SC2016 # $1.. are the inner shell's
	unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' - "$work/pmds" "$pmds" \
		dpdk-testpmd -l 0-1 --no-pci -m 64 --no-telemetry --file-prefix=bench \
		--vdev="virtio_user0,path=$dev,queue_size=1024,iface=$tap" -- \
		--total-num-mbufs=8192 --stats-period=1 "$@" >"$tp_log" 2>&1 &
	tp_pid=$!
	deadline=$((SECONDS + 300))
	until grep -q 'Port statistics' "$tp_log"; do
		if ! kill -0 "$tp_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			echo "bench: testpmd on $dev did not start (see $tp_log)" >&2
			tail -n 20 "$tp_log" >&2
			return 1
		fi
		sleep 0.2
	done
}

testpmd_stop() {
	local i
	kill -INT "$tp_pid" 2>/dev/null || true
	for i in $(seq 300); do
		kill -0 "$tp_pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$tp_pid" 2>/dev/null && kill -KILL "$tp_pid"
	wait "$tp_pid" 2>/dev/null || true
	tp_pid=
}

# The backend's worker threads for testpmd's instance: vhost-net's is a
# thread of the owner's process named vhost-PID; vhnet's are kthreads named
# vhnet-tx-PID and vhnet-rx-PID. Fails if there is none: then the traffic
# is not going through the backend under test.
worker_tids() {
	local backend=$1 re tids
	if [ "$backend" = vhost-net ]; then re="^vhost-$tp_pid\$"; else re="^vhnet-(tx|rx)-$tp_pid\$"; fi
	tids=$(ps -eLo tid=,comm= | awk -v re="$re" '$2 ~ re { print $1 }')
	[ -n "$tids" ] || { echo "bench: no $backend worker for testpmd $tp_pid" >&2; return 1; }
	echo "$tids"
}

worker_ns() {
	local t sum=0 ns
	for t in $1; do
		read -r ns _ <"/proc/$t/schedstat"
		sum=$((sum + ns))
	done
	echo "$sum"
}

# shellcheck disable=SC2317 # called through measure's COUNTER
xdp_drops() {
	xdp-filter status | awk '$1 == "XDP_DROP" { print $2 }'
}

# shellcheck disable=SC2317 # called through measure's COUNTER
tap_tx() {
	cat "/sys/class/net/$tap/statistics/tx_packets"
}

# measure ROUND BACKEND WORKLOAD COUNTER TIDS: warm up, then count over the
# window, timed with the guest's own clock (under -icount, guest time).
measure() {
	local round=$1 backend=$2 w=$3 counter=$4 tids=$5 c0 c1 n0 n1 t0 t1 pkts
	sleep "$warmup"
	t0=$EPOCHREALTIME; c0=$($counter); n0=$(worker_ns "$tids")
	if [ -n "$profile" ]; then
		perf record -q -e cpu-clock -F 499 -a -g -o "$logs/$round-$backend-$w.perf" \
			-- sleep "$secs" 2>>"$logs/perf.err" || return 1
	else
		sleep "$secs"
	fi
	t1=$EPOCHREALTIME; c1=$($counter); n1=$(worker_ns "$tids")
	pkts=$((c1 - c0))
	[ "$pkts" -gt 0 ] || { echo "bench: $w on $backend moved no packets" >&2; return 1; }
	emit "$round" "$backend" "${w}_pps" "$(awk -v p="$pkts" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", p / (b - a) }')"
	emit "$round" "$backend" "${w}_worker_ns_per_pkt" "$(awk -v p="$pkts" -v n="$((n1 - n0))" 'BEGIN { printf "%.0f", n / p }')"
}

tx64() {
	local round=$1 backend=$2 tids
	testpmd_start "$(device_of "$backend")" "$logs/$round-$backend-tx64.log" \
		--forward-mode=txonly --txpkts=64 || return 1
	if ! tids=$(worker_tids "$backend") ||
		! measure "$round" "$backend" tx64 xdp_drops "$tids"; then
		testpmd_stop
		return 1
	fi
	testpmd_stop
}

pg() {
	echo "$2" >"/proc/net/pktgen/$1"
}

rx60() {
	local round=$1 backend=$2 tids pg_pid a0 a1 got
	a0=$(tap_tx)
	testpmd_start "$(device_of "$backend")" "$logs/$round-$backend-rx60.log" \
		--forward-mode=rxonly || return 1
	# pktgen runs on the last CPU: with three, a CPU of its own, so
	# that the worker (CPU 0) is what limits the rate; with two, it
	# shares CPU 1 with testpmd's poller and is the limit itself. The
	# worker keeps CPU 0 to itself as in tx64. Fresh skbs (clone_skb 0):
	# tun frees each one it queues.
	pg "kpktgend_$pg_cpu" rem_device_all
	pg "kpktgend_$pg_cpu" "add_device $tap"
	pg "$tap" "count 0"
	pg "$tap" "pkt_size 60"
	pg "$tap" "clone_skb 0"
	pg "$tap" "dst 169.254.0.2"
	pg "$tap" "src_min 169.254.0.1"
	pg "$tap" "src_max 169.254.0.1"
	pg "$tap" "dst_mac $(cat "/sys/class/net/$tap/address")"
	# "start" returns only once pktgen stops.
	echo start >/proc/net/pktgen/pgctrl &
	pg_pid=$!
	if ! tids=$(worker_tids "$backend") ||
		! measure "$round" "$backend" rx60 tap_tx "$tids"; then
		echo stop >/proc/net/pktgen/pgctrl
		wait "$pg_pid" || true
		testpmd_stop
		return 1
	fi
	echo stop >/proc/net/pktgen/pgctrl
	wait "$pg_pid" || true
	sleep 1
	testpmd_stop
	a1=$(tap_tx)
	# The tap's count is the metric only if testpmd received what the
	# backend took from the tap (the whole run; at most a ring's worth apart).
	got=$(awk '/Accumulated forward statistics/ { f = 1 } f && /RX-packets:/ { print $2; exit }' "$tp_log")
	echo "bench: rx60 $backend round $round: tap handed over $((a1 - a0)), testpmd received ${got:-?}" >&2
	if [ -z "$got" ] || [ $(((a1 - a0) - got)) -gt 2048 ] || [ $((got - (a1 - a0))) -gt 2048 ]; then
		echo "bench: rx60 on $backend: the tap's count and testpmd's disagree" >&2
		return 1
	fi
}

fakeguest_rate()
{
	local backend=$1 round=$2 dev line
	dev=$(device_of "$backend")
	# The whole output first: grep -m1 would SIGPIPE the test (pipefail).
	line=$(VHNET_DEV=$dev "${VHNET_BIN:?}/fakeguest" -f fg_rate -t pps 2>&1) ||
		{ echo "fakeguest failed on $backend: $line" >&2; return 1; }
	line=$(echo "$line" | grep -m1 'rate .*: TX') ||
		{ echo "fakeguest printed no rate on $backend" >&2; return 1; }
	echo "$line" | sed -E 's/.*TX [0-9]+ x 64B: ([0-9]+) pps, RX [0-9]+ x 64B: ([0-9]+) pps.*/\1 \2/' |
		while read -r tx rx; do
			emit "$round" "$backend" fakeguest_tx_pps "$tx"
			emit "$round" "$backend" fakeguest_rx_pps "$rx"
		done
}

# Where the worker's samples went: by thread name and symbol, flat, so the
# backends compare function by function (a worker's name is its comm).
# Debian's System.map is a stub and this perf finds no vmlinux: the core
# kernel's names come from this boot's kallsyms.
profile_reports() {
	local f
	cp /proc/kallsyms "$logs/kallsyms"
	for f in "$logs"/*.perf; do
		[ -e "$f" ] || continue
		perf report -i "$f" --kallsyms="$logs/kallsyms" --stdio --no-children \
			-g none --sort comm,sym --percent-limit 0.3 \
			>"$out/profile-$(basename "$f" .perf).txt" 2>>"$logs/perf.err" ||
			return 1
	done
}

failed=0
for round in $(seq "$rounds"); do
	# Rotate the order so no backend always runs first (or last).
	n=${#backends[@]}
	for i in $(seq 0 $((n - 1))); do
		b=${backends[$(((i + round) % n))]}
		tune "$b" || { failed=1; continue; }
		echo "# round $round: $b" >&2
		for w in "${workloads[@]}"; do
			case "$w" in
			tx64) tx64 "$round" "$b" || failed=1 ;;
			rx60) rx60 "$round" "$b" || failed=1 ;;
			*) echo "bench: unknown workload $w" >&2; failed=1 ;;
			esac
		done
		case " $extra " in *" fakeguest "*) fakeguest_rate "$b" "$round" || failed=1 ;; esac
		case " $extra " in *" nested "*)
			"$here/nested/bench.sh" "$b" "$round" >>"$tsv" || failed=1 ;;
		esac
	done
done
tune vhnet
if [ -n "$profile" ]; then
	profile_reports || failed=1
fi
exit "$failed"
