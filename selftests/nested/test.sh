#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The real thing: unmodified QEMU inside the test VM runs a KVM guest whose
# virtio-net is backed by a vhost device, and real traffic crosses it.
#
#   selftests/nested/test.sh DEVICE        (as root, inside selftests/vm/run)
#
#   DEVICE  /dev/vhnet (insmod vhnet.ko first; vhost_net must not be loaded)
#           or /dev/vhost-net (the kernel's own backend, for comparison)
#
#  outer test VM                                     nested KVM guest
#  +------------------------------------------+     +---------------------+
#  | iperf3 -s, ping                          |     | iperf3 -c, ping     |
#  | tap0 169.254.77.1/16                     |     | eth0 169.254.77.2/16|
#  |   |                                      |     |   (virtio-net-pci)  |
#  |   +-- tap fd --+                         |     |        |            |
#  |                QEMU --- vhostfd --- DEVICE <--- virtqueues           |
#  |   ctl FIFOs ---+ (virtio-serial "vhnet.ctl": commands into the guest) |
#  +------------------------------------------+     +---------------------+
#
# Single queue: QEMU opens tap0 and gets DEVICE as fd 3 (vhost=on,vhostfd=3).
# Multiqueue: tapfds.py opens a multi_queue tap0 and DEVICE once per queue
# (fds=..,vhostfds=..,mq=on), the guest runs `ethtool -L eth0 combined 2`.
# QEMU is the machine's, or $NESTED_QEMU (7.2, 10.0: scripts/qemu-vmms.sh);
# make check runs this once under each.
# Proof that DEVICE moved the packets: QEMU never reported a vhost failure or
# fallback, and for vhnet its debugfs counters moved (vhost_net not loaded);
# for vhost-net its worker threads vhost-<qemu pid> did the work.
# Output is KTAP; measured numbers are "# " lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# KTAP output: the kernel's helpers, as every shell test uses them.
# shellcheck source=../lib.sh
. "$here/../lib.sh"

dev=${1:-}
case "$dev" in
/dev/vhnet | /dev/vhost-net) ;;
*) echo "usage: $0 /dev/vhnet|/dev/vhost-net" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "$0: must run as root" >&2; exit 2; }

TAP=tap0
MQ_MIN_EVENTS=100
tmp=$(mktemp -d "$(pick_tmpdir)/nested-test.XXXXXX")
export TMPDIR=$tmp
viommu=${NESTED_VIOMMU:-0}
logs=${VHNET_OUT:+$VHNET_OUT/nested-${dev##*/}${NESTED_QEMU:+-qemu$NESTED_QEMU}}
[ "$viommu" = 0 ] || logs=${logs:+$logs-viommu}
srv_pids=()
t_start=$SECONDS

cleanup() {
	guest_stop >/dev/null 2>&1 || true
	shutdown_trace_stop
	local p
	for p in "${srv_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	ip link del "$TAP" 2>/dev/null || true
	if [ -n "$logs" ]; then
		{ mkdir -p "$logs" && cp -r "$tmp"/. "$logs"/; } 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# iperf3 servers on the tap's address, one per port given.
servers_start() {
	local p
	for p in "${srv_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	srv_pids=()
	for p in "$@"; do
		iperf3 -s -B "$HOST_IP" -p "$p" --forceflush >"$tmp/iperf3-server-$p.log" 2>&1 &
		srv_pids+=($!)
	done
	for p in "$@"; do
		for _ in $(seq 50); do
			ss -Hltn "sport = :$p" | grep -q . && break
			sleep 0.1
		done
		ss -Hltn "sport = :$p" | grep -q . || { diag "iperf3 server on port $p did not start"; return 1; }
	done
}

guest_alive() {
	if [ -z "${G_RG:-}" ] || ! kill -0 "$G_RG" 2>/dev/null; then
		diag "no guest running"
		return 1
	fi
}

# ping_check WHAT OUTPUT STATUS: no loss, report loss and rtt.
ping_check() {
	diag "$1: $(echo "$2" | grep -E 'packet loss|round-trip' | tr '\n' ' ')"
	[ "$3" -eq 0 ] && echo "$2" | grep -q ' 0% packet loss'
}

# iperf_rate OUTPUT: the receiver's Mbit/s (summed over streams).
iperf_rate() {
	echo "$1" | awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") r = $(i - 1) } END { print r + 0 }'
}

# tcp_run ARGS...: one iperf3 client in the guest against the outer side.
tcp_run() {
	local out rc=0 what=$1
	shift
	gcmd 30 "iperf3 -c $HOST_IP -t 3 -f m --connect-timeout 3000 $*" || rc=$?
	out=$G_OUT
	echo "$out" >>"$tmp/iperf3-client.log"
	local r
	r=$(iperf_rate "$out")
	diag "$what: $r Mbit/s (iperf3 -t 3 $*)"
	if [ "$rc" -ne 0 ] || ! awk -v r="$r" 'BEGIN { exit !(r > 0) }'; then
		diag "iperf3 failed (status $rc):" "$(echo "$out" | tail -n 5)"
		return 1
	fi
}

# queue_counters TEXT: "QUEUE:COUNTER VALUE" from the guest's `ethtool -S
# eth0` and /proc/interrupts, QUEUE being rx0, tx1, ...: per-queue packets
# (rx_queue_0_packets on 6.1; 6.12 moved them to netlink qstats), kicks
# (rx0_kicks, tx1_kicks) and each queue's MSI-X interrupts (virtioN-input.0).
queue_counters() {
	echo "$1" | awk '
		$1 ~ /^(rx|tx)(_queue_)?[0-9]+_(packets|kicks):$/ {
			q = $1; sub(/_queue_/, "", q); c = q
			sub(/_(packets|kicks):$/, "", q); sub(/^.*_/, "", c); sub(/:$/, "", c)
			print q ":" c, $2
		}
		$NF ~ /^virtio[0-9]+-(input|output)\.[0-9]+$/ {
			n = 0
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
			q = $NF; sub(/^.*-input\./, "rx", q); sub(/^.*-output\./, "tx", q)
			print q ":irqs", n
		}'
}

# --- the cases -------------------------------------------------------------

case_setup() {
	if ! modprobe tun || ! modprobe kvm_amd; then
		diag "modprobe tun kvm_amd failed"
		return 1
	fi
	[ -c /dev/kvm ] || { diag "/dev/kvm missing after modprobe kvm_amd"; return 1; }
	case "$dev" in
	/dev/vhnet)
		[ -c /dev/vhnet ] || { diag "/dev/vhnet missing: insmod vhnet.ko first"; return 1; }
		if lsmod | grep -q '^vhost_net '; then
			diag "vhost_net is loaded: the test could not tell vhnet from it"
			return 1
		fi
		diag "vhost_net not loaded; $(ls -l /dev/vhnet)"
		mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
		;;
	/dev/vhost-net)
		modprobe vhost_net || { diag "modprobe vhost_net failed"; return 1; }
		;;
	esac
	local k
	k=$("$here/mkguest") || { diag "mkguest failed"; return 1; }
	k=${k%%$'\n'*}
	diag "kernel $(uname -r), nested guest kernel ${k##*/vmlinuz-}, device $dev"
	diag "nested VMM: $(guest_qemu_version)"
	shutdown_trace_start
	tap_create "$TAP" && servers_start 5201
}

case_guest_boot() {
	guest_start "$dev" "$TAP" 1 "$tmp/guest1" || return 1
	diag "nested guest booted in $G_BOOT_SECS s (QEMU pid $G_QEMU, boot $G_BOOT)"
	qemu_took_vhost || return 1
	gcmd 10 "ethtool -i eth0 | head -n 1; ethtool -l eth0 | tail -n 4 | tr -s '\t' ' '" || return 1
	diag "guest: $(echo "$G_OUT" | tr '\n' ' ')"
	[ "$dev" = /dev/vhost-net ] || return 0
	local w
	w=$(vhost_workers "$G_QEMU")
	diag "vhost-net workers of QEMU $G_QEMU: $(echo "$w" | wc -l)"
	[ -n "$w" ]
}

# Behind the vIOMMU for real: the guest's IOMMU driver runs, its NIC sits
# in an IOMMU group and negotiated VIRTIO_F_ACCESS_PLATFORM (bit 33).
case_viommu_active() {
	guest_alive || return 1
	gcmd 10 "ls /sys/class/iommu; readlink /sys/class/net/eth0/device/../iommu_group; cut -c34 /sys/class/net/eth0/device/features" || return 1
	diag "guest: $(echo "$G_OUT" | tr '\n' ' ')"
	echo "$G_OUT" | grep -q '^dmar' &&
		echo "$G_OUT" | grep -q 'iommu_groups/' &&
		echo "$G_OUT" | tr -d ' \r' | grep -qx 1
}

# vhnet translated through its IOTLB: it asked QEMU for translations.
case_iotlb_misses() {
	guest_alive || return 1
	local m
	m=$(cat /sys/kernel/debug/vhnet/*/stats 2>/dev/null | awk '$1 ~ /iotlb_misses$/ { n += $NF } END { print n + 0 }')
	diag "IOTLB misses asked of QEMU: $m"
	[ "$m" -gt 0 ]
}

case_ping_guest_to_host() {
	guest_alive || return 1
	local rc=0
	gcmd 30 "ping -c 20 -i 0.2 -W 2 $HOST_IP" || rc=$?
	ping_check "guest -> tap0" "$G_OUT" "$rc"
}

case_ping_host_to_guest() {
	guest_alive || return 1
	local out rc=0
	out=$(timeout 30 busybox ping -c 20 -i 0.2 -W 2 "$GUEST_IP" 2>&1) || rc=$?
	ping_check "tap0 -> guest" "$out" "$rc"
}

case_offloads_on() {
	guest_alive || return 1
	gcmd 10 "ethtool -k eth0 | grep -E '^(tx-checksumming|tcp-segmentation-offload|rx-checksumming|generic-receive-offload):'" || return 1
	local g t
	g=$(echo "$G_OUT" | tr -s ' \t' ' ' | tr '\n' ' ')
	t=$(ethtool -k "$TAP" | grep -E '^(tx-checksumming|tcp-segmentation-offload):' | tr -s ' \t' ' ' | tr '\n' ' ')
	diag "guest eth0: $g" "outer $TAP: $t"
	echo "$G_OUT" | grep -q '^tx-checksumming: on' &&
		echo "$G_OUT" | grep -q '^tcp-segmentation-offload: on' &&
		ethtool -k "$TAP" | grep -q '^tcp-segmentation-offload: on'
}

case_tcp_guest_to_host() {
	guest_alive || return 1
	BEFORE1=$(backend_snapshot "$dev")
	tcp_run "TCP guest -> tap0" -p 5201
}

case_tcp_host_to_guest() {
	guest_alive || return 1
	tcp_run "TCP tap0 -> guest" -p 5201 -R
}

case_backend_moved() {
	guest_alive || return 1
	qemu_took_vhost && backend_moved "$dev" "$BEFORE1" "$(backend_snapshot "$dev")" 1
}

case_guest_reboot() {
	guest_alive || return 1
	local t0=$SECONDS qpid=$G_QEMU old=$G_BOOT
	printf '%s %s\n' r "reboot -f" >&"$G_IN"
	guest_wait_ready $((180 * ${VHNET_TIME_SCALE:-1})) "$old" || return 1
	diag "guest rebooted in $((SECONDS - t0)) s, same QEMU pid $G_QEMU, boot $old -> $G_BOOT"
	[ "$G_QEMU" = "$qpid" ] && kill -0 "$qpid" && qemu_took_vhost
}

case_traffic_after_reboot() {
	guest_alive || return 1
	local before rc=0
	before=$(backend_snapshot "$dev")
	gcmd 30 "ping -c 20 -i 0.2 -W 2 $HOST_IP" || rc=$?
	ping_check "after reboot, guest -> tap0" "$G_OUT" "$rc" || return 1
	tcp_run "after reboot, TCP guest -> tap0" -p 5201 || return 1
	tcp_run "after reboot, TCP tap0 -> guest" -p 5201 -R || return 1
	qemu_took_vhost && backend_moved "$dev" "$before" "$(backend_snapshot "$dev")" 1
}

case_multiqueue_boot() {
	guest_stop
	# A server per direction: the -R run must not find the first one
	# still tearing down its 16 streams.
	tap_create "$TAP" multi_queue && servers_start 5201 5202 || return 1
	guest_start "$dev" "$TAP" 2 "$tmp/guest-mq" || return 1
	diag "multiqueue guest booted in $G_BOOT_SECS s (QEMU pid $G_QEMU)"
	qemu_took_vhost || return 1
	gcmd 10 "ethtool -L eth0 combined 2 && ethtool -l eth0" || { diag "$G_OUT"; return 1; }
	local cur
	cur=$(echo "$G_OUT" | awk '/Current hardware settings/ { c = 1 } c && /^Combined:/ { print $2 }')
	diag "guest eth0 combined channels: $cur"
	[ "$cur" = 2 ]
}

# After traffic stopped: which side stopped it? The backend's view of every
# queue (rings, states, workers, counters), twice a second apart, and
# whether the guest still answers and what its queues say.
stall_evidence() {
	local ctl i
	diag "stall at $(date +%T), outer uptime $(cut -d' ' -f1 /proc/uptime) s, nested VMM $(guest_qemu_version)"
	ctl=$(cd "$NESTED_DIR/../.." && pwd)/tools/vhnetctl/vhnetctl
	for i in 1 2; do
		case "$dev" in
		*/vhnet) diag "backend, look $i:" "$("$ctl" show 2>&1)" "$("$ctl" stats 2>&1 | grep -vE ' 0$')" ;;
		*) diag "vhost workers, look $i: $(vhost_workers "$G_QEMU" | tr '\n' ' ')" ;;
		esac
		sleep 1
	done
	diag "tap: $(ip -s link show dev "$TAP" | tr '\n' ' ')"
	if gcmd 10 "cat /proc/sys/kernel/random/boot_id; ethtool -S eth0 | grep -E 'queue|kick|drop'; grep virtio /proc/interrupts; ps"; then
		# A new boot id: the guest reset itself meanwhile (seen under TCG,
		# on vhost-net too); its rings restarted, hence the small indices.
		[ "$(echo "$G_OUT" | head -n 1)" = "$G_BOOT" ] ||
			diag "the guest rebooted during the traffic (boot $G_BOOT -> $(echo "$G_OUT" | head -n 1))"
		diag "guest answers:" "$G_OUT"
	else
		diag "the guest does not answer either"
	fi
	diag "the guest's console, last 20 lines:" "$(tr -d '\r' <"$G_DIR/console.log" | tail -n 20)"
	[ ! -s "$G_DIR/qemu.err" ] || diag "its QEMU said:" "$(tail -n 10 "$G_DIR/qemu.err")"
	shutdown_trace_show
}

case_multiqueue_traffic() {
	guest_alive || return 1
	local before q rc=0
	before=$(backend_snapshot "$dev")
	# Spread flows over the TX queues by hash, whatever the guest's CPU
	# count: virtio-net maps CPUs to TX queues (XPS), which with one vCPU
	# would pin every flow to its own choice. Tun sends a flow's replies
	# to the queue the flow last came in on, so RX queues follow. 16
	# streams each way leave all on one of 2 queues with odds 2^-15.
	gcmd 10 "for x in /sys/class/net/eth0/queues/tx-*/xps_cpus; do echo 0 >\$x || exit 1; done;
		cat /sys/class/net/eth0/queues/tx-*/xps_cpus | tr '\n' ' '; ethtool -S eth0; cat /proc/interrupts" ||
		{ diag "clearing XPS failed:" "$G_OUT"; return 1; }
	q0=$(queue_counters "$G_OUT")
	gcmd 40 "iperf3 -c $HOST_IP -p 5201 -t 3 -P 16 -f m --connect-timeout 3000 || exit 1;
		iperf3 -c $HOST_IP -p 5202 -t 3 -P 16 -f m --connect-timeout 3000 -R" || rc=$?
	echo "$G_OUT" >>"$tmp/iperf3-client.log"
	diag "iperf3 -P 16 (Mbit/s, out then -R): $(echo "$G_OUT" | awk '/SUM.*receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") printf "%s ", $(i - 1) }')"
	[ "$rc" -eq 0 ] || {
		diag "iperf3 failed:" "$(echo "$G_OUT" | tail -n 8)" \
			"the servers said:" "$(tail -n 5 "$tmp"/iperf3-server-520[12].log)"
		stall_evidence
		return 1
	}
	gcmd 10 "ethtool -S eth0; cat /proc/interrupts" || { stall_evidence; return 1; }
	# Deltas per queue and counter; every queue needs one that moved.
	q=$(printf '%s\n' "$q0" @@ "$(queue_counters "$G_OUT")" | awk '$1 == "@@" { a = 1; next }
		!a { b[$1] = $2; next } { printf "%s=%d ", $1, $2 - b[$1] }')
	diag "guest per-queue counter deltas: $q"
	# Every queue must have carried bulk traffic, not just a few stray
	# packets (ARP, iperf3's control connection): some counter of it
	# moved by at least MQ_MIN_EVENTS. A queue with data flows shows
	# hundreds to thousands here.
	local need
	for need in rx0 rx1 tx0 tx1; do
		echo "$q" | tr ' ' '\n' | awk -F'[:=]' -v q="$need" -v min="$MQ_MIN_EVENTS" \
			'$1 == q && $3 >= min { ok = 1 } END { exit !ok }' ||
			{ diag "queue $need carried no bulk traffic (no counter moved by $MQ_MIN_EVENTS)"; return 1; }
	done
	qemu_took_vhost && backend_moved "$dev" "$before" "$(backend_snapshot "$dev")" 2
}

case_no_kernel_reports() {
	guest_stop
	local r
	r=$(dmesg | "$NESTED_DIR/../../scripts/kernel-reports.sh" -) || { diag "kernel reports:" "$r"; return 1; }
}

cases=(setup guest_boot ping_guest_to_host ping_host_to_guest offloads_on
	tcp_guest_to_host tcp_host_to_guest backend_moved guest_reboot
	traffic_after_reboot multiqueue_boot multiqueue_traffic no_kernel_reports)
# Behind a vIOMMU: the single-queue traffic, and proof the IOTLB was used.
[ "$viommu" = 0 ] || cases=(setup guest_boot viommu_active ping_guest_to_host
	ping_host_to_guest tcp_guest_to_host tcp_host_to_guest backend_moved
	iotlb_misses no_kernel_reports)
# NESTED_CASES="setup multiqueue_boot ..." runs a subset (soak runs).
# shellcheck disable=SC2206
[ -z "${NESTED_CASES:-}" ] || cases=($NESTED_CASES)

BEFORE1=
run_cases "${cases[@]}"
diag "total $((SECONDS - t_start)) s, $KTAP_CNT_FAIL failed"
ktap_finished
