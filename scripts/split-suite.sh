#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Split the output of kselftest's runner (selftests/run-in-vm.sh's
# suite.log) into one NAME.ktap (the test's own KTAP, its "# " prefix
# removed) and NAME.rc (its exit status, from the runner's result line)
# per test, in DIR, for scripts/check.sh to count. Every test named in
# DIR/suite.list gets both files: one the runner started but never
# reported on (the VM died, or the runner did) or never started fails.
#
#   scripts/split-suite.sh DIR
set -u
dir=${1:?usage: split-suite.sh DIR}
[ -r "$dir/suite.log" ] || : >"$dir/suite.log"

awk -v out="$dir" '
	# A result line may follow output that did not end in a newline.
	function result(line,    n, rc) {
		n = line; sub(/ #.*/, "", n); sub(/.* /, "", n)
		rc = 0
		if (line ~ /^not ok/) rc = 1
		if (line ~ /# SKIP/) rc = 4
		else if (line ~ /# TIMEOUT/) rc = 124
		else if (match(line, /# exit=[0-9]+/)) rc = substr(line, RSTART + 7, RLENGTH - 7)
		print rc >(out "/" n ".rc")
		close(out "/" n ".rc")
	}
	/^# selftests: .*: [^ ]*$/ {
		name = $NF; file = out "/" name ".ktap"; printf "" >file; next
	}
	match($0, /(not )?ok [0-9]+ selftests: /) {
		if (RSTART > 1 && name != "") {
			part = substr($0, 1, RSTART - 1); sub(/^# ?/, "", part)
			print part >file
		}
		result(substr($0, RSTART))
		name = ""
		next
	}
	name != "" { line = $0; sub(/^# ?/, "", line); print line >file }
' "$dir/suite.log"

# A test without a result: it was cut short, or never ran. Its output so
# far stays; the line added says which. (No list: the suite never started,
# which the VM's own status reports.)
[ -r "$dir/suite.list" ] || exit 0
while read -r path; do
	[ -n "$path" ] || continue
	name=$(basename "$path")
	[ -e "$dir/$name.rc" ] && continue
	if [ -e "$dir/$name.ktap" ]; then
		printf 'not ok 999 %s: started, never finished (the VM or the runner died)\n' "$name" \
			>>"$dir/$name.ktap"
	else
		printf 'TAP version 13\n1..1\nnot ok 1 %s: never started\n' "$name" >"$dir/$name.ktap"
	fi
	echo 1 >"$dir/$name.rc"
done <"${dir}/suite.list"
