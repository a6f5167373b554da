#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: vhnet against the kernel's vhost-net with upstream's vhost-net
# methodology (DPDK testpmd over virtio-user as the guest; TX into a tap
# whose XDP program drops, RX from pktgen), side by side in ONE VM boot,
# rotating which backend goes first each round, so all see the same
# emulated machine. Reports per workload and metric the median and range of
# each backend and the per-round ratios to vhost-net. Under TCG absolute
# numbers mean little; the ratios are the result. See Documentation/
# tuning.md, "Side by side with vhost-net".
#
#   ROUNDS=N (5)         BENCH_SECS=S (10: measured window per workload)
#   BENCH_WARMUP=S (2)   BENCH_ICOUNT=1: deterministic mode (below)
#   BENCH_EXTRA="fakeguest nested": also the older, secondary workloads
#   BENCH_BACKENDS, BENCH_WORKLOADS, BENCH_PROFILE=1: which backends (e.g.
#   the tx-batch sweep "vhost-net vhnet-txb1 vhnet-txb16 vhnet-txb256"),
#   which workloads, and a perf profile of each window
#   (selftests/bench-in-vm.sh)
#   KVER=... (default: the newest 6.12)   VM_QEMU (10.0)  VM_SMP (2)
#
# Normal mode: QEMU 10.0, multi-threaded TCG, 2 vCPUs; guest time is host
# time, so host load moves the numbers (ratios less so: same VM, same round).
# BENCH_ICOUNT=1: QEMU -icount shift=$BENCH_ICOUNT_SHIFT (3: 8 ns of guest
# time per instruction),sleep=off, one host thread for both vCPUs. Guest
# time counts instructions, so pps per guest second is a cost per packet in
# instructions and does not move with host load; ratios become repeatable.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh >/dev/null
kver=${KVER:-$(scripts/kvers.sh default)}
ko=$(scripts/build-module.sh "$kver")
bin=$top/.cache/selftests
make -s -C tools/vhnetctl >/dev/null
# bench_idle (the +idleN backends) and the fake guest come from here.
make -s -C selftests OUTPUT="$bin" >/dev/null
out=$top/.cache/bench
rounds=${ROUNDS:-5}

# Two vCPUs: testpmd's forwarding lcore on one, the backend's worker on the
# other. QEMU 10.0 (run's default): QEMU 7.2's multi-threaded TCG has the
# text-patching race (bench-in-vm.sh also avoids patching under traffic).
# A third vCPU gives pktgen a CPU of its own (bench-in-vm.sh), but under
# icount it made rx60 slower for every backend (about 2500 pps instead of
# 5900, workers still idle three quarters of the window): with three vCPUs
# taking turns on one host thread, each wakeup waits for its target's turn.
mode=normal
if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
	export VM_ICOUNT="shift=${BENCH_ICOUNT_SHIFT:-3},sleep=off"
	mode="icount ($VM_ICOUNT, single-threaded TCG)"
fi
export VM_SMP=${VM_SMP:-2}

# Per backend and round: a testpmd start (10-15 s) plus warm-up and window
# per workload; generous, icount mode is slower.
nw=$(echo "${BENCH_WORKLOADS:-tx64 rx60}" | wc -w)
per=$(( nw * (40 + ${BENCH_WARMUP:-2} + ${BENCH_SECS:-10}) ))
nb=$(echo "${BENCH_BACKENDS:-vhost-net vhnet vhnet-tuned}" | wc -w)
timeout=$((600 + nb * rounds * per * 3))

start=$SECONDS
rc=0
VM_QUIET=1 selftests/vm/run --kver "$kver" --out "$out" --mem 1024 --timeout "$timeout" -- \
	env VHNET_KO="$ko" VHNET_BIN="$bin" ROUNDS="$rounds" \
	BENCH_SECS="${BENCH_SECS:-10}" BENCH_WARMUP="${BENCH_WARMUP:-2}" \
	BENCH_EXTRA="${BENCH_EXTRA:-}" BENCH_BACKENDS="${BENCH_BACKENDS:-}" \
	BENCH_WORKLOADS="${BENCH_WORKLOADS:-}" BENCH_PROFILE="${BENCH_PROFILE:-}" \
	selftests/bench-in-vm.sh || rc=$?
wall=$((SECONDS - start))

# The raw TSV, kept with what produced it: "# key: value" lines first.
mkdir -p "$out/results"
raw=$out/results/bench-$(date -u +%Y%m%d-%H%M%S)-${mode%% *}.tsv
{
	echo "# mode: $mode"
	echo "# vm: $(head -n 1 "$out/qemu.log" 2>/dev/null | sed 's/^vm: //')"
	# What ran is the module's source: say whether it differs from HEAD
	# (edits elsewhere, e.g. documentation, do not matter here).
	src=modified
	git diff --quiet HEAD -- module include Kbuild 2>/dev/null && src=clean
	echo "# module: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), sources $src"
	echo "# rounds: $rounds, window ${BENCH_SECS:-10} s after ${BENCH_WARMUP:-2} s warm-up, wall ${wall} s"
	cat "$out/files/bench.tsv" 2>/dev/null || true
} >"$raw"
# Debian's python (deps.sh installs its matplotlib) draws the plots.
rm -rf "$out/plots"
/usr/bin/python3 scripts/bench-report.py "$raw" --plot "$out/plots"
echo "raw: $raw (testpmd logs: $out/files/logs)"
if [ -n "${BENCH_PROFILE:-}" ]; then
	for f in "$out"/files/profile-*.txt; do
		[ -e "$f" ] && cp "$f" "${raw%.tsv}-${f##*/}"
	done
	echo "profiles: ${raw%.tsv}-profile-*.txt"
fi
if [ "$rc" != 0 ]; then
	echo "bench: the VM run failed ($rc); see $out/console.log" >&2
	exit "$rc"
fi
