#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, lint, build, then boot each kernel in
# the test VM and run the whole suite there. Ends with the line
# "N passed, N failed" summing every check on every kernel.
#
#   KVER=...            test one kernel instead of all supported ones
#   scripts/check.sh --debug   the same suite on the KASAN/lockdep kernel
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
start=$SECONDS
debug=0
[ "${1:-}" = --debug ] && debug=1

results=$top/.cache/check/results
mkdir -p "$(dirname "$results")"
: >"$results"
why=$top/.cache/check/why
: >"$why"
# What a dead or hung test VM left behind (scripts/vm-post-mortem.sh),
# printed again at the very end: CI shows the end of its log.
dead=$top/.cache/check/post-mortems
: >"$dead"
export RESULTS=$results

record() {
	echo "$1 $2" >>"$results"
	[ "$1" = PASS ] || echo ">>> $1 $2"
}

step() {
	printf '\n==== %s (%ds)\n' "$*" $((SECONDS - start))
}

step deps
if ! scripts/deps.sh; then
	record FAIL "deps: install"
fi

# The VMMs: the test VM's, and the two every nested test runs under.
for v in 7.2 10.0; do
	if q=$(scripts/qemu-vmms.sh path "$v"); then
		echo "QEMU $v: $q ($("$q" --version | head -n 1))"
	else
		record FAIL "deps: QEMU $v"
	fi
done

if [ "$debug" = 1 ]; then
	step "debug kernel"
	kvers=$(scripts/debug-kernel.sh | tail -n 1) || kvers=
	[ -n "$kvers" ] || record FAIL "debug kernel: build"
else
	kvers=${KVER:-$(scripts/kvers.sh)}
fi
[ -n "$kvers" ] || record FAIL "kernels: none installed"

step lint
KVER="$kvers" scripts/lint.sh

step "build tools and tests"
scripts/linux-src.sh >/dev/null || record FAIL "build: linux-source pieces"
bin=$top/.cache/selftests
# The nested guest's kernel and initramfs are built here: the VM sees the
# tree read-only.
if make -s -C tools/vhnetctl >/dev/null && make -s -C selftests OUTPUT="$bin" >/dev/null &&
	selftests/nested/mkguest >/dev/null; then
	record PASS "build: vhnetctl, selftests, nested guest"
else
	record FAIL "build: vhnetctl, selftests, nested guest"
fi

# Count one test program's KTAP: top-level "ok"/"not ok" lines; a SKIP of a
# test make check needs is a failure; a plan not met or a bad exit status
# with no failed case is a failure of its own.
# A failed case's own lines (those since the previous result, at most
# 25) go to $why, which the summary prints: CI shows the end of its log.
count_ktap() {
	local kver=$1 name=$2 file=$3 rc=$4 plan seen=0 bad=0 line res desc
	local block=() from
	if [ ! -s "$file" ]; then
		record FAIL "$kver $name: no output"
		return
	fi
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			res=PASS
			[ "${line#not ok}" != "$line" ] && res=FAIL
			desc=$(echo "$line" | sed -E 's/^(not )?ok [0-9]+ //; s/[[:space:]]+$//')
			if echo "$desc" | grep -q '# *SKIP'; then
				res=FAIL
			fi
			[ "$res" = PASS ] || bad=1
			record "$res" "$kver $name: $desc"
			if [ "$res" = FAIL ]; then
				from=$((${#block[@]} > 25 ? ${#block[@]} - 25 : 0))
				{
					echo "--- $kver $name: $desc"
					printf '%s\n' "${block[@]:from}" "$line"
				} >>"$why"
			fi
			seen=$((seen + 1))
			block=()
			;;
		*) block+=("$line") ;;
		esac
	done <"$file"
	plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$file" | head -n 1)
	if [ -z "$plan" ] || [ "$seen" -lt "$plan" ]; then
		record FAIL "$kver $name: ran $seen of ${plan:-?} planned"
	elif [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		record FAIL "$kver $name: exit status $rc"
	fi
}

# One boot per kernel and part of the suite (selftests/run-in-vm.sh): the
# host part on two vCPUs, the nested guests on one.
parts=("host 2" "nested 1")
times=()
for kver in $kvers; do
	step "kernel $kver"
	kt0=$SECONDS
	if ! ko=$(scripts/build-module.sh "$kver"); then
		record FAIL "$kver build"
		continue
	fi
	for p in "${parts[@]}"; do
		read -r part smp <<<"$p"
		step "kernel $kver, $part part ($smp vCPU)"
		out=$top/.cache/check/vm-$kver-$part
		# A debug kernel runs everything several times slower; a nested
		# guest under its instrumented KVM about 10x (Documentation/
		# testing.md), so the nested part's limits stretch further.
		scale=1 limit=1500
		if [ "$debug" = 1 ] && [ "$part" = nested ]; then
			scale=12 limit=10800
		elif [ "$debug" = 1 ]; then
			scale=4 limit=5400
		fi
		limit=${VM_TIMEOUT:-$limit}
		VM_SMP=$smp selftests/vm/run --kver "$kver" --out "$out" \
			--timeout "$limit" -- \
			env VHNET_KO="$ko" VHNET_BIN="$bin" VHNET_PART="$part" \
			VHNET_TIME_SCALE=$scale selftests/run-in-vm.sh
		vm_status=$?
		if [ "$vm_status" = 0 ]; then
			record PASS "$kver $part vm: suite ran to the end"
		else
			record FAIL "$kver $part vm: exit status $vm_status"
			{
				echo "--- $kver $part part:"
				scripts/vm-post-mortem.sh "$out" "$vm_status"
			} | tee -a "$dead"
		fi
		scripts/split-suite.sh "$out/files"
		for f in "$out"/files/*.ktap; do
			[ -e "$f" ] || continue
			name=$(basename "$f" .ktap)
			nfail=$(grep -c '^FAIL' "$results")
			count_ktap "$kver $part" "$name" "$f" "$(cat "$out/files/$name.rc" 2>/dev/null || echo '?')"
			# A failing test's last words, so CI output alone can explain it.
			if [ "$(grep -c '^FAIL' "$results")" != "$nfail" ]; then
				echo ">>> the last 40 lines of $kver $part $name:"
				tail -n 40 "$f" | sed 's/^/    /'
			fi
		done
		if scripts/kernel-reports.sh "$out"; then
			record PASS "$kver $part kernel log: no reports"
		else
			record FAIL "$kver $part kernel log: no reports"
		fi
	done
	times+=("$kver $((SECONDS - kt0))s")
done

if [ "$debug" = 0 ] && [ -z "${KVER:-}" ]; then
	step dkms
	scripts/dkms-test.sh
fi

step summary
grep -v '^PASS' "$results" || true
if [ -s "$why" ]; then
	echo "what the failed cases printed:"
	sed 's/^/    /' "$why"
fi
if [ -s "$dead" ]; then
	echo "what the test VMs that died or hung left behind:"
	sed 's/^/    /' "$dead"
fi
passed=$(grep -c '^PASS' "$results")
failed=$(grep -vc '^PASS' "$results")
for t in "${times[@]}"; do
	echo "time for kernel $t (build, VM boot, suite)"
done
echo "make check took $((SECONDS - start))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
