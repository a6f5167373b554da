#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark inside the test VM (started by scripts/bench.sh): rounds of
# the same workloads on vhost-net, vhnet with defaults and vhnet tuned, the
# order rotating every round. Upstream's vhost-net methodology: DPDK's
# testpmd is the guest (virtio-user on the backend's device), so the
# backend's worker, not an emulated guest, is what runs out of CPU.
#
# Workloads, SIZE the frame's bytes (60..1514), qN N queue pairs (1..4):
#   txSIZE[qN]: testpmd --forward-mode=txonly
#         testpmd -> virtio ring -> backend worker -> tap -> XDP_DROP
#         pps = frames the XDP program dropped, i.e. that the backend
#         actually delivered to the tap, over the window
#   rxSIZE[qN]: the kernel's pktgen, testpmd --forward-mode=rxonly
#         pktgen -> tap -> backend worker -> virtio ring -> testpmd
#         pps = frames the backend took from the tap into testpmd's ring
#         over the window (the tap's tx_packets; testpmd's own total is
#         checked against it). With N queues pktgen varies the UDP source
#         port so that the tap spreads the flows over its queues.
#   fwdSIZE[qN]: both directions at once: pktgen -> tap -> RX -> testpmd
#         --forward-mode=macswap -> TX -> tap -> XDP_DROP; pps = frames
#         that made the round trip
#   lat: round-trip latency at a fixed offered rate: the VM's stack pings
#         testpmd --forward-mode=icmpecho through a tap of its own (no
#         XDP) 100 times a second; p50 and p99 of ping's times, in us
#   *_worker_ns_per_pkt: on-CPU time of the backend's worker threads
#         (/proc/TID/schedstat, first field) over the window / packets
#
# Backends: vhost-net, vhnet (defaults), vhnet-tuned; vhnet-txbN and
# vhnet-rxbN are vhnet's defaults with tx-batch or rx-batch N (the sweep of
# Documentation/tuning.md). A suffix +idleN (vhost-net+idle32,
# vhnet+idle32) keeps N idle instances of the same device open beside the
# busy one (selftests/bench_idle), each with rings and a tap queue.
#
# Appends "round backend metric value" lines to $VHNET_OUT/bench.tsv;
# testpmd's logs land in $VHNET_OUT/logs.
#
#   ROUNDS (5)  BENCH_SECS (10, the measured window)  BENCH_WARMUP (2)
#   BENCH_EXTRA: "fakeguest" and/or "nested" add the older, secondary
#   workloads (selftests/fakeguest, the nested QEMU guest's iperf3)
#   BENCH_BACKENDS ("vhost-net vhnet vhnet-tuned")
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
# Three taps, persistent, made before any testpmd: virtio-user attaches to
# one by name (iface=) and opens it with IFF_MULTI_QUEUE only when it has
# more than one queue pair, which must match the tap's own flag.
tap1=vtap0
tapmq=vtapmq
taplat=vtaplat
lat_ip=169.254.1.1
lat_peer=169.254.1.2
lat_mac=02:00:00:00:01:02
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

# The XDP program goes on the throughput taps once, before any traffic, and
# stays until power-off. Attaching or detaching XDP re-patches the kernel's
# BPF dispatcher text; under QEMU 7.2's multi-threaded TCG a vCPU running
# that text while another patches it died with "Oops: int3" at
# bpf_dispatcher_xdp_func. With one attach before the first frame, no text
# changes while traffic flows, whichever QEMU runs the VM.
# xdp-filter's deny policy with no rules drops every frame and counts it in
# a map (`xdp-filter status`): no process to keep alive, exact counts. Both
# taps share the program's maps, and one workload runs at a time.
ip tuntap add dev "$tap1" mode tap vnet_hdr
ip tuntap add dev "$tapmq" mode tap vnet_hdr multi_queue
ip tuntap add dev "$taplat" mode tap vnet_hdr
for t in "$tap1" "$tapmq" "$taplat"; do
	ip link set "$t" up
done
xdp-filter load -m native -p deny -f ethernet "$tap1"
xdp-filter load -m native -p deny -f ethernet "$tapmq"
# The latency tap is the VM's way to testpmd's echo: an address, and the
# neighbour entry so that no ARP is in the measurement.
ip addr add "$lat_ip/24" dev "$taplat"
ip neigh replace "$lat_peer" lladdr "$lat_mac" dev "$taplat" nud permanent

# What "tuned" means: see Documentation/tuning.md. Every vhnet variant
# starts from the defaults. A +idleN suffix does not change the tuning.
tune()
{
	local b=${1%%+*}
	[ "$b" = vhost-net ] && return 0
	"$ctl" set default tx-batch 64 rx-batch 64 busypoll-us 0 weight-pkts 256 \
		coalesce-pkts 0 coalesce-us 0 >/dev/null
	case "$b" in
	vhnet) ;;
	vhnet-tuned) "$ctl" set default tx-batch 256 rx-batch 256 \
		weight-pkts 1024 coalesce-pkts 32 coalesce-us 50 >/dev/null ;;
	vhnet-txb[0-9]*) "$ctl" set default tx-batch "${b#vhnet-txb}" >/dev/null ;;
	vhnet-rxb[0-9]*) "$ctl" set default rx-batch "${b#vhnet-rxb}" >/dev/null ;;
	*) echo "bench: unknown backend $1" >&2; return 1 ;;
	esac
}

device_of() {
	if [ "${1%%+*}" = vhost-net ]; then echo /dev/vhost-net; else echo /dev/vhnet; fi
}

pg_cpu=$(($(nproc) - 1))
tp_pid=
tp_log=
# testpmd_start DEVICE LOG TAP QUEUES MODE-ARGS...: testpmd in the
# background, main lcore on CPU 0, forwarding lcore on CPU 1. The backend's
# worker inherits the owner's (main lcore's) CPU 0, so it and the
# busy-polling forwarder do not share a CPU. Returns once forwarding runs
# (first statistics block).
testpmd_start() {
	local dev=$1 tap=$3 queues=$4 deadline mbufs=8192
	tp_log=$2
	shift 4
	# Enough to fill every RX ring (1024 each) and the TX rings twice;
	# 16384 mbufs of 2176 B fit testpmd's 64 MiB (8192 per queue did not).
	[ "$queues" = 1 ] || mbufs=16384
	# shellcheck disable=SC2016 # $1.. are the inner shell's
	unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' - "$work/pmds" "$pmds" \
		dpdk-testpmd -l 0-1 --no-pci -m 64 --no-telemetry --file-prefix=bench \
		--vdev="virtio_user0,path=$dev,queues=$queues,queue_size=1024,iface=$tap,mac=$lat_mac" -- \
		--txq="$queues" --rxq="$queues" \
		--total-num-mbufs="$mbufs" --stats-period=1 "$@" >"$tp_log" 2>&1 &
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
	[ -n "$tp_pid" ] || return 0
	kill -INT "$tp_pid" 2>/dev/null || true
	for i in $(seq 300); do
		kill -0 "$tp_pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$tp_pid" 2>/dev/null && kill -KILL "$tp_pid"
	wait "$tp_pid" 2>/dev/null || true
	tp_pid=
}

# The backend's worker threads for testpmd's instances: vhost-net's is a
# thread of the owner's process named vhost-PID; vhnet's are kthreads named
# vhnet-tx-PID and vhnet-rx-PID. Fails if there is none: then the traffic
# is not going through the backend under test.
worker_tids() {
	local backend=$1 re tids
	if [ "${backend%%+*}" = vhost-net ]; then re="^vhost-$tp_pid\$"; else re="^vhnet-(tx|rx)-$tp_pid\$"; fi
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

# tap_tx TAP: frames the tap handed to its reader (the backend).
tap_tx() {
	cat "/sys/class/net/$1/statistics/tx_packets"
}

# measure ROUND BACKEND WORKLOAD COUNTER TIDS: warm up, then count over the
# window, timed with the guest's own clock (under -icount, guest time).
# COUNTER is a command and its arguments, split on spaces.
# shellcheck disable=SC2086
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

pg() {
	echo "$2" >"/proc/net/pktgen/$1"
}

pg_pid=
# pktgen_start TAP SIZE QUEUES: pktgen on the last CPU: with three, a CPU
# of its own, so that the worker (CPU 0) is what limits the rate; with two,
# it shares CPU 1 with testpmd's poller and is the limit itself. Fresh skbs
# (clone_skb 0): tun frees each one it queues. SIZE excludes the FCS.
pktgen_start() {
	local tap=$1 size=$2 queues=$3
	pg "kpktgend_$pg_cpu" rem_device_all
	pg "kpktgend_$pg_cpu" "add_device $tap"
	pg "$tap" "count 0"
	pg "$tap" "pkt_size $size"
	pg "$tap" "clone_skb 0"
	pg "$tap" "dst 169.254.0.2"
	pg "$tap" "src_min 169.254.0.1"
	pg "$tap" "src_max 169.254.0.1"
	pg "$tap" "dst_mac $(cat "/sys/class/net/$tap/address")"
	if [ "$queues" -gt 1 ]; then
		# Flows for the tap's queue selection (a hash of the flow).
		pg "$tap" "udp_src_min 1024"
		pg "$tap" "udp_src_max 1279"
		pg "$tap" "flag UDPSRC_RND"
	fi
	# "start" returns only once pktgen stops.
	echo start >/proc/net/pktgen/pgctrl &
	pg_pid=$!
}

pktgen_stop() {
	[ -n "$pg_pid" ] || return 0
	echo stop >/proc/net/pktgen/pgctrl
	wait "$pg_pid" || true
	pg_pid=
}

# run_workload ROUND BACKEND WORKLOAD: one window of one workload.
run_workload() {
	local round=$1 backend=$2 w=$3 kind size queues=1 tap dev log tids a0 a1 got
	if [ "$w" = lat ]; then
		latency "$round" "$backend"
		return
	fi
	if [[ ! "$w" =~ ^(tx|rx|fwd)([0-9]+)(q([1-4]))?$ ]] ||
		[ "${BASH_REMATCH[2]}" -lt 60 ] || [ "${BASH_REMATCH[2]}" -gt 1514 ]; then
		echo "bench: unknown workload $w" >&2
		return 1
	fi
	kind=${BASH_REMATCH[1]} size=${BASH_REMATCH[2]}
	[ -z "${BASH_REMATCH[4]}" ] || queues=${BASH_REMATCH[4]}
	tap=$tap1
	[ "$queues" = 1 ] || tap=$tapmq
	dev=$(device_of "$backend")
	log=$logs/$round-$backend-$w.log
	a0=$(tap_tx "$tap")
	case "$kind" in
	tx) testpmd_start "$dev" "$log" "$tap" "$queues" \
		--forward-mode=txonly --txpkts="$size" || return 1 ;;
	rx) testpmd_start "$dev" "$log" "$tap" "$queues" \
		--forward-mode=rxonly || return 1 ;;
	fwd) testpmd_start "$dev" "$log" "$tap" "$queues" \
		--forward-mode=macswap || return 1 ;;
	esac
	[ "$kind" = tx ] || pktgen_start "$tap" "$size" "$queues"
	local counter=xdp_drops
	[ "$kind" = rx ] && counter="tap_tx $tap"
	if ! tids=$(worker_tids "$backend") ||
		! measure "$round" "$backend" "$w" "$counter" "$tids"; then
		pktgen_stop
		testpmd_stop
		return 1
	fi
	pktgen_stop
	[ "$kind" = tx ] || sleep 1
	testpmd_stop
	[ "$kind" = rx ] || return 0
	a1=$(tap_tx "$tap")
	# The tap's count is the metric only if testpmd received what the
	# backend took from the tap (the whole run; at most the rings' worth
	# apart).
	got=$(awk '/Accumulated forward statistics/ { f = 1 } f && /RX-packets:/ { print $2; exit }' "$tp_log")
	echo "bench: $w $backend round $round: tap handed over $((a1 - a0)), testpmd received ${got:-?}" >&2
	if [ -z "$got" ] || [ $(((a1 - a0) - got)) -gt $((2048 * queues)) ] ||
		[ $((got - (a1 - a0))) -gt $((2048 * queues)) ]; then
		echo "bench: $w on $backend: the tap's count and testpmd's disagree" >&2
		return 1
	fi
}

# latency ROUND BACKEND: ping testpmd's icmpecho 100 times a second over
# the window; every reply must come.
latency() {
	local round=$1 backend=$2 n out times
	n=$((secs * 100))
	testpmd_start "$(device_of "$backend")" "$logs/$round-$backend-lat.log" "$taplat" 1 \
		--forward-mode=icmpecho || return 1
	sleep "$warmup"
	if ! out=$(busybox ping -q -c 3 -W 5 "$lat_peer" 2>&1); then
		echo "bench: lat on $backend: testpmd does not answer: $out" >&2
		testpmd_stop
		return 1
	fi
	out=$(busybox ping -i 0.01 -c "$n" -W 2 "$lat_peer" 2>&1) || true
	testpmd_stop
	times=$(echo "$out" | sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -g)
	if [ "$(echo "$times" | grep -c .)" != "$n" ]; then
		echo "bench: lat on $backend: $(echo "$times" | grep -c .) of $n replies" >&2
		return 1
	fi
	emit "$round" "$backend" lat_p50_us "$(echo "$times" | awk -v n="$n" 'NR == int(n * 0.50 + 0.5) { printf "%.0f", $1 * 1000 }')"
	emit "$round" "$backend" lat_p99_us "$(echo "$times" | awk -v n="$n" 'NR == int(n * 0.99 + 0.5) { printf "%.0f", $1 * 1000 }')"
}

idle_pid=
# idle_start BACKEND: the +idleN suffix's idle instances, on the device
# under test; returns once they are all set up.
idle_start() {
	local n=${1##*+idle} deadline
	[ "$n" != "$1" ] || return 0
	ip tuntap add dev vidle mode tap vnet_hdr multi_queue 2>/dev/null || true
	ip link set vidle up
	"${VHNET_BIN:?}/bench_idle" "$(device_of "$1")" vidle "$n" >"$work/idle.out" 2>&1 &
	idle_pid=$!
	deadline=$((SECONDS + 120))
	until grep -q '^ready' "$work/idle.out"; do
		if ! kill -0 "$idle_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			echo "bench: idle instances did not start: $(cat "$work/idle.out")" >&2
			idle_stop
			return 1
		fi
		sleep 0.2
	done
}

idle_stop() {
	[ -n "$idle_pid" ] || return 0
	kill "$idle_pid" 2>/dev/null || true
	wait "$idle_pid" 2>/dev/null || true
	idle_pid=
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
		idle_start "$b" || { failed=1; continue; }
		echo "# round $round: $b" >&2
		for w in "${workloads[@]}"; do
			run_workload "$round" "$b" "$w" || failed=1
		done
		case " $extra " in *" fakeguest "*) fakeguest_rate "$b" "$round" || failed=1 ;; esac
		case " $extra " in *" nested "*)
			"$here/nested/bench.sh" "$b" "$round" >>"$tsv" || failed=1 ;;
		esac
		idle_stop
	done
done
tune vhnet
if [ -n "$profile" ]; then
	profile_reports || failed=1
fi
exit "$failed"
