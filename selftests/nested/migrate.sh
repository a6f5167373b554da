#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Live migration on /dev/vhnet: the nested guest moves between two QEMU
# processes in the test VM, each with its own vhnet instance and tap, while
# the outer side pings it; vhnet logs the pages it writes (VHOST_F_LOG_ALL)
# so that the destination's memory and rings are the guest's.
#
#   selftests/nested/migrate.sh            (as root, vhnet loaded)
#
#  outer test VM: br0 169.254.77.1/16 --+-- tap0 -- QEMU A (source)  -- vhnet
#                                       +-- tap1 -- QEMU B (-incoming) -- vhnet
#
# Cases: the source starts with -only-migratable (no migration blocker);
# a migration cancelled half way leaves the source running, logging off,
# traffic flowing; a full migration A -> B under a ping flood and a TCP
# stream into the guest completes (QEMU's total time and downtime
# reported), the stream survives, the guest answers from B, and B's TX
# ring carries on from the index A stopped at; then back from B to a
# fresh QEMU on tap0, the stream coming from the guest.
# QEMU is $NESTED_QEMU (7.2, 10.0: scripts/qemu-vmms.sh). Output is KTAP.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=../lib.sh
. "$here/../lib.sh"

[ "$(id -u)" = 0 ] || { echo "$0: must run as root" >&2; exit 2; }
ctl=$here/../../tools/vhnetctl/vhnetctl
scale=${VHNET_TIME_SCALE:-1}
tmp=$(mktemp -d "$(pick_tmpdir)/migrate.XXXXXX")
declare -A qpid
kernel=''
initrd=''
qbin=''

cleanup() {
	local p
	for p in "${qpid[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	ip link del tap0 2>/dev/null || true
	ip link del tap1 2>/dev/null || true
	ip link del br0 2>/dev/null || true
	if [ -n "${VHNET_OUT:-}" ] && mkdir -p "$VHNET_OUT/migrate-qemu${NESTED_QEMU:-}"; then
		cp -r "$tmp"/. "$VHNET_OUT/migrate-qemu${NESTED_QEMU:-}"/ 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# hmp NAME COMMAND: one human monitor command to QEMU NAME; its answer.
hmp() {
	/usr/bin/python3 - "$tmp/$1.mon" "$2" <<'PY'
import re, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
def answer():
    buf = b""
    try:
        while not buf.endswith(b"(qemu) "):
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except socket.timeout:
        pass
    return buf.decode(errors="replace")
answer()
s.sendall(sys.argv[2].encode() + b"\n")
out = answer()
# The monitor echoes the command with terminal escapes: drop them.
out = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out).replace("\r", "")
print("\n".join(l for l in out.split("\n")[1:] if l != "(qemu) "))
PY
}

# qemu_start NAME TAP [QEMU options...]: the nested guest on TAP and a new
# vhnet instance, its monitor at $tmp/NAME.mon.
qemu_start() {
	local name=$1 tap=$2
	shift 2
	mkfifo "$tmp/$name.ctl.in" "$tmp/$name.ctl.out"
	# shellcheck disable=SC2054 # commas belong to QEMU options
	"$qbin" -enable-kvm -cpu host -m 256 -smp 1 -nodefaults -nographic -no-user-config \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init vhnet.addr=$GUEST_IP vhnet.peer=$HOST_IP vhnet.scenario=control" \
		-monitor "unix:$tmp/$name.mon,server=on,wait=off" \
		-serial "file:$tmp/$name.console" \
		-device virtio-serial-pci,id=vs -chardev "pipe,id=ctl,path=$tmp/$name.ctl" \
		-device virtserialport,bus=vs.0,chardev=ctl,name=vhnet.ctl \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on,vhostfd=3" \
		-device virtio-net-pci,netdev=n0,romfile= \
		"$@" 3<>/dev/vhnet </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
	qpid[$name]=$!
	for _ in $(seq 50); do
		[ -S "$tmp/$name.mon" ] && break
		sleep 0.2
	done
	[ -S "$tmp/$name.mon" ] || { diag "QEMU $name did not start:" "$(cat "$tmp/$name.err")"; return 1; }
}

# The vhnet instance QEMU NAME owns: "ID RX_USED TX_USED RX_PKTS TX_PKTS FEATURES".
instance_of() {
	local pid=${qpid[$1]}
	"$ctl" show | awk -v pid="$pid" '
		/^instance / { inst = ($4 == pid) ? $2 : ""; sub(":", "", inst); if (inst != "") { id = inst; f = $NF } }
		inst != "" && $1 == "rx:" { for (i = 1; i < NF; i++) if ($i == "used-idx") rx = $(i + 1) }
		inst != "" && $1 == "tx:" { for (i = 1; i < NF; i++) if ($i == "used-idx") tx = $(i + 1) }
		END { if (id != "") print id, rx, tx, f }'
}

# migrate_wait FROM: wait for the end of FROM's migration; its final
# "info migrate" is in $MIG.
migrate_wait() {
	local from=$1
	MIG=
	for _ in $(seq $((120 * scale))); do
		MIG=$(hmp "$from" "info migrate")
		if echo "$MIG" | grep -qE 'Migration status: (completed|failed|cancelled)'; then
			return 0
		fi
		sleep 1
	done
	diag "migration from $from did not end in $((120 * scale)) s:" "$MIG"
	return 1
}

# guest_cmd NAME COMMAND: run COMMAND in the guest QEMU NAME runs (its
# "control" scenario, over the virtio-serial port); the command's status.
guest_cmd() {
	local name=$1 line fd rc=124
	exec {fd}<>"$tmp/$name.ctl.out"
	printf '9 %s\n' "$2" >"$tmp/$name.ctl.in"
	while read -r -t $((30 * scale)) -u "$fd" line; do
		case "$line" in
		"@@DONE 9 "*) rc=${line##* }; break ;;
		esac
	done
	exec {fd}>&-
	return "$rc"
}

ping_ok() {
	local out
	out=$(busybox ping -c 5 -i 0.2 -W 2 "$GUEST_IP" 2>&1) || true
	diag "$1: $(echo "$out" | grep 'packet loss')"
	echo "$out" | grep -q ' 0% packet loss'
}

case_setup() {
	modprobe -a tun kvm_amd bridge || return 1
	[ -c /dev/vhnet ] || { diag "/dev/vhnet missing: insmod vhnet.ko first"; return 1; }
	if lsmod | grep -q '^vhost_net '; then
		diag "vhost_net is loaded: the test could not tell vhnet from it"
		return 1
	fi
	local g
	g=$("$here/mkguest") || { diag "mkguest failed"; return 1; }
	kernel=${g%%$'\n'*}
	initrd=${g#*$'\n'}
	qbin=$("$here/../../scripts/qemu-vmms.sh" path "${NESTED_QEMU:-qemu-system-x86_64}") || return 1
	diag "nested VMM: $("$qbin" --version | head -n 1)"
	ip link add br0 type bridge && ip addr add "$HOST_IP/16" dev br0 && ip link set br0 up || return 1
	for t in tap0 tap1; do
		ip tuntap add dev "$t" mode tap vnet_hdr && ip link set "$t" master br0 up || return 1
	done
}

case_source_only_migratable() {
	local t0=$SECONDS
	qemu_start a tap0 -only-migratable || return 1
	for _ in $(seq $((120 * scale))); do
		grep -q "eth0 .* up" "$tmp/a.console" 2>/dev/null && break
		kill -0 "${qpid[a]}" 2>/dev/null || break
		sleep 1
	done
	grep -q "eth0 .* up" "$tmp/a.console" || {
		diag "the guest did not come up:" "$(tail -n 5 "$tmp/a.err")"
		return 1
	}
	diag "source booted in $((SECONDS - t0)) s with -only-migratable"
	ping_ok "br0 -> guest on A" || return 1
	# The TCP stream the migrations carry: the guest serves, we send.
	guest_cmd a "iperf3 -s -D -B $GUEST_IP" || { diag "iperf3 -s in the guest failed"; return 1; }
}

case_cancel() {
	local before after
	qemu_start b tap1 -incoming "unix:$tmp/mig-b.sock" || return 1
	# Slow enough to be caught half way: 256 MiB at 2 MiB/s.
	hmp a "migrate_set_parameter max-bandwidth 2M" >/dev/null
	hmp a "migrate -d unix:$tmp/mig-b.sock" >/dev/null
	sleep 2
	before=$(instance_of a)
	hmp a "migrate_cancel" >/dev/null
	migrate_wait a || return 1
	after=$(instance_of a)
	diag "$(echo "$MIG" | grep 'Migration status')" \
		"source instance (id rx-used tx-used features) while migrating: $before" \
		"after the cancel: $after"
	kill -9 "${qpid[b]}" 2>/dev/null || true
	wait "${qpid[b]}" 2>/dev/null || true
	unset 'qpid[b]'
	rm -f "$tmp"/b.*
	echo "$MIG" | grep -q 'Migration status: cancelled' || return 1
	# Logging was on during the migration and is off after it.
	[ $((${before##* } & (1 << 26))) -ne 0 ] || { diag "LOG_ALL was never acked"; return 1; }
	[ $((${after##* } & (1 << 26))) -eq 0 ] || { diag "LOG_ALL still acked"; return 1; }
	[ "$(hmp a 'info status' | grep -c running)" -ge 1 ] || return 1
	ping_ok "br0 -> guest on A after the cancel"
}

# migrate_checked FROM TO TAP [-R]: FROM -> a new QEMU TO on TAP, under a
# ping flood and a TCP stream to the guest (from it with -R) that must
# survive.
migrate_checked() {
	local from=$1 to=$2 tap=$3 dir=${4:-} src dst pp ip rx0 tx0 rx1 tx1 rc=0
	qemu_start "$to" "$tap" -incoming "unix:$tmp/mig-$to.sock" || return 1
	hmp "$from" "migrate_set_parameter max-bandwidth 1G" >/dev/null
	busybox ping -i 0.05 -c $((100 * scale)) -W 2 "$GUEST_IP" >"$tmp/ping-$to.out" 2>&1 &
	pp=$!
	# Long enough to outlast a migration (5 to 15 s here, 24 s on an
	# overloaded machine): the switch-over must fall inside the stream.
	TMPDIR=$tmp iperf3 -c "$GUEST_IP" -t $((20 * scale)) -f m --connect-timeout 3000 ${dir:+"$dir"} \
		>"$tmp/iperf3-$to.out" 2>&1 &
	ip=$!
	sleep 1
	hmp "$from" "migrate -d unix:$tmp/mig-$to.sock" >/dev/null
	migrate_wait "$from" || { kill "$pp" "$ip"; return 1; }
	# QEMU's own clock: polling the monitor notices the end late.
	[ "$(echo "$MIG" | awk '/^total time:/ { print $3 }')" -lt $(((20 * scale - 2) * 1000)) ] ||
		diag "the TCP stream may have ended before the switch-over: it proves little"
	wait "$pp" || true
	wait "$ip" || rc=$?
	diag "$from -> $to: $(echo "$MIG" | grep -E 'Migration status|total time|downtime|transferred ram|dirty sync count' | tr '\n' ' ')" \
		"ping during it: $(grep 'packet loss' "$tmp/ping-$to.out")" \
		"TCP ${dir:+(-R) }across it: $(awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1), "Mbit/s" }' "$tmp/iperf3-$to.out") (iperf3 status $rc)"
	echo "$MIG" | grep -q 'Migration status: completed' || return 1
	[ "$rc" = 0 ] || { diag "the TCP stream broke:" "$(tail -n 5 "$tmp/iperf3-$to.out")"; return 1; }
	[ "$(hmp "$to" 'info status' | grep -c running)" -ge 1 ] || { diag "$to is not running"; return 1; }
	ping_ok "br0 -> guest on $to" || return 1
	# The destination's rings carry on where the source's stopped: its
	# TX used index is the source's plus the packets it sent (a TX packet
	# is one chain). RX is only reported: a large packet fills several
	# mergeable buffers, and a TCP stream moves the 16-bit index by more
	# than half its range, so no bound on it can be checked.
	# The destination's guest is paused while its index and counters are
	# read: a packet it sends between the two reads would skew them.
	hmp "$to" stop >/dev/null
	sleep 1
	src=$(instance_of "$from")
	dst=$(instance_of "$to")
	read -r _ rx0 tx0 _ <<<"$src"
	read -r _ rx1 tx1 _ <<<"$dst"
	local drx dtx
	drx=$("$ctl" stats "${dst%% *}" | awk '$1 == "rx_packets:" { print $2 }')
	dtx=$("$ctl" stats "${dst%% *}" | awk '$1 == "tx_packets:" { print $2 }')
	hmp "$to" cont >/dev/null
	diag "used indices, source (rx tx): $rx0 $tx0; destination: $rx1 $tx1; its packets: $drx $dtx"
	# Once, before the pause above, the destination came out one entry
	# short: a packet sent between reading its index and its counters.
	if [ "$tx1" != $(((tx0 + dtx) & 0xffff)) ]; then
		diag "the destination's TX used index is $tx1, not $tx0 + $dtx: its ring did not continue the source's"
		return 1
	fi
}

# migrate FROM TO TAP [-R]: migrate_checked, then the source goes, pass or
# fail: its tap is the next destination's.
migrate() {
	local from=$1 rc=0
	migrate_checked "$@" || rc=1
	kill -9 "${qpid[$from]}" 2>/dev/null || true
	wait "${qpid[$from]}" 2>/dev/null || true
	unset "qpid[$from]"
	return "$rc"
}

case_migrate() {
	migrate a b tap1
}

case_migrate_back() {
	migrate b c tap0 -R
}

case_no_kernel_reports() {
	local p r
	for p in "${qpid[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	r=$(dmesg | "$here/../../scripts/kernel-reports.sh" -) || { diag "kernel reports:" "$r"; return 1; }
}

run_cases setup source_only_migratable cancel migrate migrate_back no_kernel_reports
ktap_finished
