#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-post-mortem.sh OUT STATUS: say what happened to a test VM run
# (selftests/vm/run --out OUT) that ended with STATUS, from what the run
# left in OUT: which VM, when it stopped, the test it was in and that
# test's last line, vhnet's counters at the last heartbeat
# (selftests/run-in-vm.sh writes one every 5 s), the tail of its console
# and of QEMU's own output. Meant for CI logs: everything needed to tell a
# VM reset from a hang from a failing test, without the files.
set -u
out=${1:?usage: vm-post-mortem.sh OUT STATUS}
status=${2:?usage: vm-post-mortem.sh OUT STATUS}

case "$status" in
124) what="timed out: killed by the harness" ;;
125) what="died: it reset, powered off or crashed before the command finished" ;;
*) what="finished with exit status $status" ;;
esac
echo "post-mortem: the test VM ($(head -n 1 "$out/qemu.log" 2>/dev/null | sed 's/^vm: //')) $what"
[ -s "$out/wall" ] && echo "post-mortem: it ran $(cat "$out/wall") s of wall time"
if [ -s "$out/files/heartbeat" ]; then
	echo "post-mortem: its last heartbeat, $(($(date +%s) - $(stat -c %Y "$out/files/heartbeat"))) s before this report:"
	sed 's/^/    /' "$out/files/heartbeat"
else
	echo "post-mortem: no heartbeat (the suite did not start, or the command was not the suite)"
fi
# A hung VM: where each vCPU was when it was killed, by kernel symbol
# (the VM's kernel runs without KASLR; module addresses stay numbers).
if [ -s "$out/registers.txt" ]; then
	kver=$(sed -n 's/.*kernel \([^,]*\).*/\1/p' "$out/qemu.log" | head -n 1)
	# Saved by selftests/vm/run on the kernel's first boot (Debian's
	# /boot/System.map is a stub).
	map=$(dirname "$0")/../.cache/vm/kallsyms-$kver-$(stat -c %Y "/boot/vmlinuz-$kver" 2>/dev/null)
	echo "post-mortem: where its vCPUs were (QEMU's info registers):"
	grep -E '^(CPU#|RIP=|RAX=|RSP|CR0=|EFER=)' "$out/registers.txt" | sed 's/^/    /'
	# shellcheck disable=SC2013 # one hex address a line
	for rip in $(sed -n 's/^RIP=\([0-9a-f]*\).*/\1/p' "$out/registers.txt"); do
		[ -r "$map" ] || break
		# Kernel text is 0xffffffff8...: compare the low 32 bits, which
		# awk's doubles hold exactly.
		awk -v rip="$rip" '
			function hex(s,  i, n) { n = 0; s = tolower(s)
				for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
				return n }
			BEGIN { hi = substr(rip, 1, 8); r = hex(substr(rip, 9)); best = -1 }
			hi == "ffffffff" && substr($1, 1, 8) == hi && NF == 3 && $2 ~ /^[tTwW]$/ {
				a = hex(substr($1, 9)); if (a <= r && a > best) { best = a; name = $3 } }
			END { if (best >= 0 && r - best < 65536) printf "    RIP %s = %s+0x%x\n", rip, name, r - best
				else printf "    RIP %s: not in the kernel image (a module, user space, or a nested guest)\n", rip }' "$map"
	done
fi
echo "post-mortem: the last 25 lines of its console:"
sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' "$out/console.log" 2>/dev/null | tr -d '\r' |
	grep -v '^$' | tail -n 25 | sed 's/^/    /'
if [ "$(wc -l <"$out/qemu.log" 2>/dev/null || echo 0)" -gt 1 ]; then
	echo "post-mortem: QEMU said:"
	tail -n +2 "$out/qemu.log" | tail -n 10 | sed 's/^/    /'
fi
