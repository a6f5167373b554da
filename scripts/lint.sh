#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch --strict over the module, the tools and the C tests; every
# shell script through shellcheck; then a W=1 build and a sparse pass
# (C=2) of the module on every supported kernel (KVER= picks one).
# Each check prints "PASS name" or "FAIL name"; with RESULTS=FILE the same
# lines are appended there. Exits non-zero if any check failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
src=$(scripts/linux-src.sh) || exit 1
failed=0

record() {
	echo "$1 $2"
	[ -n "${RESULTS:-}" ] && echo "$1 $2" >>"$RESULTS"
	[ "$1" = PASS ] || failed=1
}

# Generated files carry the generator's style, not ours.
sources() {
	git ls-files -co --exclude-standard -- "$@" | while read -r f; do
		[ -f "$f" ] || continue
		grep -q 'Do not edit directly, auto-generated from' "$f" || echo "$f"
	done
}

checkpatch() {
	perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
		--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES "$@" 2>&1 |
		grep -E ': (ERROR|WARNING|CHECK):'
}

# Userspace follows kernel style too, less what only makes sense in the
# kernel: libc's PRIu64 names, typedef'd library types, volatile
# sig_atomic_t flags, harness macros that reuse their arguments.
mapfile -t kernel_c < <(sources 'module/*.[ch]')
mapfile -t user_c < <(sources 'tools/*.[ch]' 'selftests/*.[ch]')
out=$(checkpatch -f "${kernel_c[@]}";
      checkpatch --ignore NEW_TYPEDEFS,PREFER_KERNEL_TYPES,CAMELCASE,VOLATILE \
		--ignore MACRO_ARG_REUSE,MACRO_ARG_UNUSED,SPLIT_STRING,EMBEDDED_FUNCTION_NAME \
		-f "${user_c[@]}")
if [ -z "$out" ]; then
	record PASS "lint: checkpatch --strict"
else
	echo "$out" | head -50
	record FAIL "lint: checkpatch --strict"
fi

# Every shell script (by name or by its #! line), sourced files followed.
mapfile -t shell < <(git ls-files -co --exclude-standard | while read -r f; do
	[ -f "$f" ] || continue
	case "$f" in
	*.sh) echo "$f" ;;
	*) head -n 1 "$f" | grep -qE '^#!.*/(ba|busybox |)sh' && echo "$f" ;;
	esac
done)
if ! command -v shellcheck >/dev/null; then
	record FAIL "lint: shellcheck: not installed (make deps)"
elif out=$(shellcheck -x -P SCRIPTDIR -f gcc "${shell[@]}" 2>&1); [ -z "$out" ]; then
	record PASS "lint: shellcheck (${#shell[@]} scripts)"
else
	echo "$out" | head -50
	record FAIL "lint: shellcheck"
fi

# Every source file carries an SPDX tag.
missing=$(git ls-files -co --exclude-standard -- '*.c' '*.h' '*.sh' 'Kbuild' 'Makefile' '*/Makefile' |
	while read -r f; do
		[ -f "$f" ] && ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier' && echo "$f"
	done)
if [ -z "$missing" ]; then
	record PASS "lint: SPDX tags"
else
	echo "no SPDX tag: $missing"
	record FAIL "lint: SPDX tags"
fi

# The UAPI header and the kernel policies and op table are generated from
# the netlink spec: never edited apart.
if scripts/netlink-gen.sh --check >/dev/null 2>&1; then
	record PASS "lint: generated netlink code matches the spec"
else
	record FAIL "lint: generated netlink code matches the spec"
fi

# sparse checks what the compiler does not: the __user, __rcu and
# __le/__be annotations, context (lock) balance. C=2 checks every file
# whether or not it is rebuilt; in a tree of its own, so the normal build
# stays incremental.
sparse_check() {
	local k=$1 dir=$top/.cache/sparse/$1 kdir=/lib/modules/$1/build
	rm -rf "$dir"
	mkdir -p "$dir"
	git ls-files -co --exclude-standard -- Kbuild module include |
		while read -r f; do
			[ -f "$f" ] || continue
			mkdir -p "$dir/$(dirname "$f")"
			cp "$f" "$dir/$f"
		done
	if ! out=$(make -s -C "$kdir" M="$dir" C=2 CHECK=sparse W=1 modules 2>&1); then
		echo "$out" | tail -n 20
		echo "sparse: the build failed"
		return
	fi
	echo "$out" | grep -E '(warning|error):'
}

for k in ${KVER:-$(scripts/kvers.sh)}; do
	if scripts/build-module.sh --strict "$k" >/dev/null; then
		record PASS "lint: W=1 build ($k)"
	else
		record FAIL "lint: W=1 build ($k)"
	fi
	if ! command -v sparse >/dev/null; then
		record FAIL "lint: sparse ($k): not installed (make deps)"
	elif out=$(sparse_check "$k"); [ -n "$out" ]; then
		echo "$out" | head -50
		record FAIL "lint: sparse ($k)"
	else
		record PASS "lint: sparse ($k)"
	fi
done
exit $failed
