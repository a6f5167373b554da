#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch --strict over the module, the tools and the C tests, then a
# W=1 build of the module on every supported kernel (KVER= picks one).
# Each check prints "PASS name" or "FAIL name"; with RESULTS=FILE the same
# lines are appended there. Exits non-zero if any check failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
src=$(scripts/linux-src.sh) || exit 1
failed=0

record() {
	echo "$1 $2"
	[ -n "${RESULTS:-}" ] && echo "$1 $2" >>"$RESULTS"
	[ "$1" = PASS ] || failed=1
}

# Generated files carry the generator's style, not ours.
files=$(git ls-files -co --exclude-standard -- 'module/*.[ch]' 'tools/*.[ch]' 'selftests/*.[ch]' |
	while read -r f; do
		[ -f "$f" ] || continue
		grep -q 'Do not edit directly, auto-generated from' "$f" || echo "$f"
	done)
# Userspace files follow kernel style too, but may use what the kernel
# forbids in kernel code: typedef'd library types, printf, and so on.
out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,NEW_TYPEDEFS \
	--ignore PREFER_KERNEL_TYPES,SPLIT_STRING,MACRO_ARG_UNUSED \
	-f $files 2>&1 | grep -E ': (ERROR|WARNING|CHECK):')
if [ -z "$out" ]; then
	record PASS "lint: checkpatch --strict"
else
	echo "$out" | head -50
	record FAIL "lint: checkpatch --strict"
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

for k in ${KVER:-$(scripts/kvers.sh)}; do
	if scripts/build-module.sh --strict "$k" >/dev/null; then
		record PASS "lint: W=1 build ($k)"
	else
		record FAIL "lint: W=1 build ($k)"
	fi
done
exit $failed
