# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# shellcheck disable=SC2034 # globals are read by test.sh and demo.sh
#
# Helpers shared by test.sh and demo.sh (sourced, not run): the outer side of
# a nested guest started by run-guest, a command channel into it, and the
# backend's evidence that it moved the packets.
#
# State (globals): G_DIR (run-guest's dir), G_RG (run-guest's pid), G_QEMU
# (QEMU's pid), G_BOOT (the guest's boot id), G_OUT (last command's output),
# G_IN/G_RD (fds of the control FIFOs).

HOST_IP=169.254.77.1
GUEST_IP=169.254.77.2
NESTED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Diagnostic lines for KTAP: everything the test prints goes through here.
diag() {
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}

# run_cases CASE...: the KTAP plan and one result per case_CASE function,
# each followed by its time.
run_cases() {
	local c t0
	ktap_print_header
	ktap_set_plan "$#"
	for c in "$@"; do
		t0=$SECONDS
		if "case_$c"; then
			ktap_test_pass "$c"
		else
			ktap_test_fail "$c"
		fi
		diag "$c took $((SECONDS - t0)) s"
	done
}

# A tmpfs for iperf3's temp files (it fails on 9p) and our logs.
pick_tmpdir() {
	local d
	for d in "${TMPDIR:-}" /tmp /dev/shm; do
		[ -n "$d" ] && [ -d "$d" ] && [ "$(stat -f -c %T "$d")" = tmpfs ] && { echo "$d"; return; }
	done
	return 1
}

# scratch_begin NAME: a scratch dir in a tmpfs ($tmp, also TMPDIR) and an
# EXIT trap that stops the guest and the iperf3 server ($srv), deletes the
# tap ($TAP) and the dir. For scripts that run one guest at a time.
scratch_begin() {
	tmp=$(mktemp -d "$(pick_tmpdir)/$1.XXXXXX") || return 1
	export TMPDIR=$tmp
	srv=
	trap scratch_end EXIT
}

scratch_end() {
	guest_stop >/dev/null 2>&1 || true
	if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; fi
	ip link del "$TAP" 2>/dev/null || true
	rm -rf "$tmp"
}

# tap_create NAME [multi_queue]: a persistent tap with vnet headers, up,
# holding HOST_IP. QEMU or tapfds.py attaches to it by name.
tap_create() {
	ip link del "$1" 2>/dev/null || true
	ip tuntap add dev "$1" mode tap vnet_hdr ${2:+multi_queue} || return 1
	ip addr add "$HOST_IP/16" dev "$1" || return 1
	ip link set "$1" up
}

# A nested guest that resets with nothing on its console triple-faulted:
# the outer kernel's KVM sees a SHUTDOWN exit (SVM exit 0x7f, VMX exit
# reason 2). shutdown_trace_start has KVM's tracepoints record those, and
# every exception KVM injects (rare with nested paging); shutdown_trace_show
# prints what was recorded: the vCPU, its RIP and the exit information.
TRACEFS=
shutdown_trace_start() {
	local t
	for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		[ -d "$t/events/kvm" ] || mount -t tracefs tracefs "$t" 2>/dev/null
		[ -w "$t/events/kvm/kvm_exit/filter" ] && TRACEFS=$t && break
	done
	[ -n "$TRACEFS" ] || { diag "no KVM tracepoints: triple faults of the guest will not be traced"; return 0; }
	echo '(isa == 2 && exit_reason == 127) || (isa == 1 && exit_reason == 2)' \
		>"$TRACEFS/events/kvm/kvm_exit/filter" &&
		echo 1 >"$TRACEFS/events/kvm/kvm_exit/enable" &&
		echo 1 >"$TRACEFS/events/kvm/kvm_inj_exception/enable" &&
		echo >"$TRACEFS/trace"
}

shutdown_trace_stop() {
	[ -n "$TRACEFS" ] || return 0
	echo 0 >"$TRACEFS/events/kvm/kvm_exit/enable"
	echo 0 >"$TRACEFS/events/kvm/kvm_inj_exception/enable"
	echo 0 >"$TRACEFS/events/kvm/kvm_exit/filter"
}

shutdown_trace_show() {
	[ -n "$TRACEFS" ] || return 0
	local t
	t=$(grep -v '^#' "$TRACEFS/trace" | tail -n 20)
	if [ -n "$t" ]; then
		diag "KVM saw (triple faults are SHUTDOWN exits):" "$t"
	else
		diag "KVM saw no triple fault and injected no exception"
	fi
}

# guest_qemu_version: the first line of --version of the QEMU run-guest
# starts ($NESTED_QEMU).
guest_qemu_version() {
	local q
	q=$("$NESTED_DIR/../../scripts/qemu-vmms.sh" path "${NESTED_QEMU:-qemu-system-x86_64}") ||
		{ echo "none for $NESTED_QEMU"; return 1; }
	"$q" --version | head -n 1
}

# guest_start DEV TAP QUEUES LOGDIR: boot a guest in the background and wait
# for its control channel to say READY.
guest_start() {
	local dev=$1 tap=$2 queues=$3 dir=$4 t0=$SECONDS
	G_DIR=$dir
	mkdir -p "$dir"
	"$NESTED_DIR/run-guest" --dev "$dev" --tap "$tap" --queues "$queues" \
		--dir "$dir" --addr "$GUEST_IP" --peer "$HOST_IP" --timeout $((900 * ${VHNET_TIME_SCALE:-1})) \
		>"$dir/run-guest.log" 2>&1 &
	G_RG=$!
	G_QEMU=
	local i
	for i in $(seq 300); do
		[ -p "$dir/ctl.out" ] && [ -s "$dir/qemu.pid" ] && break
		kill -0 "$G_RG" 2>/dev/null || break
		sleep 0.1
	done
	G_QEMU=$(cat "$dir/qemu.pid" 2>/dev/null) ||
		{ diag "run-guest did not start QEMU:" "$(tail -n 5 "$dir/run-guest.log")"; return 1; }
	exec {G_IN}<>"$dir/ctl.in" {G_RD}<>"$dir/ctl.out"
	CTL_PART=
	guest_wait_ready $((180 * ${VHNET_TIME_SCALE:-1})) "" || return 1
	G_BOOT_SECS=$((SECONDS - t0))
}

# ctl_read: one whole line from the guest into CTL_LINE, waiting up to a
# second; status 1 if none came. bash's `read -t` that times out in the
# middle of a line (it reads a pipe byte by byte, and under TCG a line can
# straddle the deadline) returns the part it read: kept here for the next
# call, so no line is ever cut in two and lost.
CTL_PART=
ctl_read() {
	local part
	if read -r -t 1 -u "$G_RD" part; then
		CTL_LINE=$CTL_PART$part
		CTL_PART=
		return 0
	fi
	CTL_PART+=$part
	return 1
}

# guest_wait_ready SECS OLD_BOOT_ID: wait for a READY from a boot other than
# OLD_BOOT_ID. Fails early if run-guest exited (QEMU died or refused vhost).
guest_wait_ready() {
	local deadline=$((SECONDS + $1)) old=$2 line
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ctl_read; then
			line=$CTL_LINE
			case "$line" in
			"@@READY "*)
				[ "${line#@@READY }" != "$old" ] || continue
				G_BOOT=${line#@@READY }
				return 0
				;;
			esac
		elif ! kill -0 "$G_RG" 2>/dev/null; then
			diag "the guest's QEMU exited:" "$(tail -n 5 "$G_DIR/run-guest.log")"
			return 1
		fi
	done
	diag "no READY from the guest within $1 s; console:" "$(tail -n 15 "$G_DIR/console.log")"
	shutdown_trace_show
	return 1
}

# gcmd SECS COMMAND: run COMMAND in the guest (busybox sh), output in G_OUT,
# return its status; 124 if it did not finish in time.
G_SEQ=0
gcmd() {
	# The debug kernel runs everything several times slower.
	local deadline=$((SECONDS + $1 * ${VHNET_TIME_SCALE:-1})) line mine=0
	G_SEQ=$((G_SEQ + 1))
	G_OUT=
	# One line per command: the guest reads "ID COMMAND" lines.
	printf '%s %s\n' "$G_SEQ" "${2//$'\n'/ }" >&"$G_IN"
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ctl_read; then
			line=$CTL_LINE
			# Only this command's output: a command that timed out
			# before answers late, between its own BEGIN and DONE.
			case "$line" in
			"@@DONE $G_SEQ "*) return "${line##* }" ;;
			"@@BEGIN $G_SEQ") mine=1 ;;
			"@@BEGIN "* | "@@DONE "*) mine=0 ;;
			"@@READY "*) ;;
			*) [ "$mine" = 0 ] || G_OUT+="$line"$'\n' ;;
			esac
		elif ! kill -0 "$G_RG" 2>/dev/null; then
			diag "the guest's QEMU exited at $(date +%T) during: $2" \
				"run-guest said:" "$(tail -n 5 "$G_DIR/run-guest.log")" \
				"the guest's console, last 20 lines:" "$(tr -d '\r' <"$G_DIR/console.log" | tail -n 20)"
			return 125
		fi
	done
	diag "guest command timed out after $1 s: $2"
	return 124
}

# guest_stop: end the guest (run-guest's exit trap kills QEMU; a clean
# power-off would only cost time under TCG).
guest_stop() {
	[ -n "${G_RG:-}" ] || return 0
	kill "$G_RG" 2>/dev/null || true
	if [ -n "${G_QEMU:-}" ]; then kill -9 "$G_QEMU" 2>/dev/null || true; fi
	local i
	# QEMU is run-guest's child: gone once the init process reaped it.
	for i in $(seq 50); do
		if [ -z "${G_QEMU:-}" ] || ! kill -0 "$G_QEMU" 2>/dev/null; then
			break
		fi
		sleep 0.2
	done
	# run-guest is ours: reap it (its TERM trap runs within 0.2 s).
	kill -9 "$G_RG" 2>/dev/null || true
	wait "$G_RG" 2>/dev/null || true
	[ -n "${G_IN:-}" ] && exec {G_IN}>&- {G_RD}<&-
	G_IN=
	G_RD=
	G_RG=
	G_QEMU=
}

# QEMU must never have said anything about vhost (see run-guest).
qemu_took_vhost() {
	if grep -qiE 'vhost|falling back' "$G_DIR/qemu.err"; then
		diag "QEMU did not take the vhost device:" "$(cat "$G_DIR/qemu.err")"
		return 1
	fi
}

# vhost_workers QPID: "TID CPU_TICKS" for each vhost-net worker of QPID.
# 6.4+ runs them as threads of QEMU (vhost_task), older kernels as kthreads;
# both are named vhost-QPID.
vhost_workers() {
	local f t
	# One grep over all comm files: a fork per process is slow under TCG.
	grep -lx "vhost-$1" /proc/"$1"/task/*/comm /proc/[0-9]*/comm 2>/dev/null |
	while read -r f; do
		t=${f%/comm}
		echo "${t##*/} $(cat "$t/stat" 2>/dev/null)"
	done | awk '{ t = $1; sub(/^.*\) /, ""); print t, $12 + $13 }' | sort -u -k1,1
}

# vhnet_stats: "FILE TX_PACKETS RX_PACKETS" per debugfs stats file (one per
# instance; summed over its queues).
vhnet_stats() {
	local f
	for f in /sys/kernel/debug/vhnet/*/stats /sys/kernel/debug/vhnet/*/*/stats; do
		[ -r "$f" ] || continue
		awk -v f="$f" '
			$1 ~ /tx_packets$/ { tx += $NF }
			$1 ~ /rx_packets$/ { rx += $NF }
			END { print f, tx + 0, rx + 0 }' "$f"
	done
}

# backend_snapshot DEV: one line per backend context with a packet/work count.
backend_snapshot() {
	case "$1" in
	*/vhnet) vhnet_stats ;;
	*) vhost_workers "$G_QEMU" ;;
	esac
}

# backend_moved DEV BEFORE AFTER MIN_CONTEXTS: require that at least
# MIN_CONTEXTS backend contexts (vhnet instances, vhost-net workers) did work
# between the two snapshots; vhnet instances must have moved TX and RX.
backend_moved() {
	local dev=$1 before=$2 after=$3 min=$4 moved
	case "$dev" in
	*/vhnet)
		diag "vhnet counters (file tx_packets rx_packets) before:" "$before" "after:" "$after"
		moved=$(printf '%s\n' "$before" @@ "$after" | awk '$1 == "@@" { a = 1; next }
			!a { tx[$1] = $2; rx[$1] = $3; next }
			$2 > tx[$1] && $3 > rx[$1] { n++ } END { print n + 0 }')
		;;
	*)
		diag "vhost-net workers of QEMU $G_QEMU (tid cpu_ticks) before:" "$before" "after:" "$after"
		moved=$(printf '%s\n' "$before" @@ "$after" | awk '$1 == "@@" { a = 1; next }
			!a { t[$1] = $2; next } $2 > t[$1] { n++ } END { print n + 0 }')
		;;
	esac
	diag "backend contexts that moved packets: $moved (need $min)"
	[ "$moved" -ge "$min" ]
}
