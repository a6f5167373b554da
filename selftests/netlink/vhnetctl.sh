#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The vhnet genl family through vhnetctl: every command, every tunable's
# range edges, refusals with the kernel's extack text, CAP_NET_ADMIN, and
# netns isolation. Runs as root in the test VM with vhnet.ko loaded.
#
#   init netns                         other netns (unshare -n)
#   +-------------------------------+  +------------------------+
#   | fd 7,8 -> /dev/vhnet          |  | vhnetctl show: nothing |
#   | vhnetctl (root, then uid 65534) |  | set/stats ID: ENOENT   |
#   +-------------------------------+  +------------------------+
#
# usage: vhnetctl.sh [VHNETCTL]    KTAP on stdout, exit 0 only if all pass.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib.sh
. "$top/selftests/lib.sh"
ctl=${1:-$top/tools/vhnetctl/vhnetctl}
tmp=$(mktemp -d)
monpid=

cleanup() {
	[ -n "$monpid" ] && kill "$monpid" 2>/dev/null
	exec 7<&- 8<&- 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }
# check NAME CMD...: passes if CMD exits 0
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
# run CMD... capturing stdout+stderr in $out and status in $rc; echo the command
# shellcheck disable=SC2001 # a prefix on every line of $out
run() { echo "# \$ $*"; out=$("$@" 2>&1); rc=$?; [ -n "$out" ] && echo "$out" | sed 's/^/#   /'; return 0; }
# refused NAME PATTERN CMD...: CMD must fail and say PATTERN (errno text / extack)
refused() {
	local name=$1 pat=$2; shift 2
	run "$@"
	if [ "$rc" -ne 0 ] && echo "$out" | grep -qE -- "$pat"; then ok "$name"; else fail "$name"; fi
}
# tunable ID KEY: its value as vhnetctl show prints it
tunable() { "$ctl" show "$1" | sed -n "s/.* $2 \([^ ]*\).*/\1/p" | head -1; }

ktap_print_header
ktap_set_plan 46

[ -x "$ctl" ] || { echo "# $ctl not built"; echo "Bail out!"; exit 1; }
[ -c /dev/vhnet ] || { echo "# /dev/vhnet missing: load vhnet.ko"; echo "Bail out!"; exit 1; }

# ---- monitor sees instances come and go ----
"$ctl" monitor >"$tmp/mon" 2>&1 &
monpid=$!
sleep 1
exec 7<>/dev/vhnet
exec 8<>/dev/vhnet
run "$ctl" show
ids=$(echo "$out" | sed -n 's/^instance \([0-9]*\): .*/\1/p' | sort -n | uniq)
id=$(echo "$ids" | sed -n 1p)
id2=$(echo "$ids" | sed -n 2p)
check "show lists two instances" test -n "$id" -a -n "$id2"
check "show prints both queues" bash -c "echo \"\$1\" | grep -q '^  rx: ring' && echo \"\$1\" | grep -q '^  tx: ring'" _ "$out"
run "$ctl" show "$id"
check "show ID" bash -c "[ $rc -eq 0 ] && echo \"\$1\" | grep -q '^instance $id: owner-pid' && echo \"\$1\" | grep -q 'tunables: tx-batch'" _ "$out"
run "$ctl" show default
check "show default" bash -c "[ $rc -eq 0 ] && echo \"\$1\" | grep -q 'tx-batch [0-9]'" _ "$out"
refused "show unknown id: ENOENT + extack" "No such file or directory: vhnet: no instance with this id" "$ctl" show 4000000000
refused "show bad id refused locally" "is not an instance id" "$ctl" show 0

# ---- stats ----
run "$ctl" stats "$id"
check "stats ID: every counter, one per line" bash -c "[ $rc -eq 0 ] && [ \$(echo \"\$1\" | grep -cE '^     (rx|tx)_[a-z0-9_]+: [0-9]+\$') -eq 48 ]" _ "$out"
check "stats names drop reasons" bash -c "echo \"\$1\" | grep -q 'rx_drop_no_rx_buf: ' && echo \"\$1\" | grep -q 'tx_drop_tap_err: ' && echo \"\$1\" | grep -q 'rx_batch_size_128_up: '" _ "$out"
run "$ctl" stats --json
check "stats --json parses, has both instances" bash -c "echo \"\$1\" | jq -e 'length >= 2 and (.[0] | has(\"rx_packets\") and has(\"tx_drop_bad_hdr\"))' >/dev/null" _ "$out"
run "$ctl" stats "$id" --watch 1 --count 2 --json
check "stats --watch prints rates" bash -c "[ $rc -eq 0 ] && [ \$(echo \"\$1\" | jq -s 'length') -eq 2 ] && echo \"\$1\" | jq -se '.[0][0].rx_packets == 0' >/dev/null" _ "$out"
run "$ctl" stats reset "$id"
check "stats reset ID" test "$rc" -eq 0
run "$ctl" stats reset
check "stats reset (all)" test "$rc" -eq 0
refused "stats unknown id: ENOENT" "No such file or directory" "$ctl" stats 4000000000

# ---- every tunable: both edges accepted, one past each refused ----
edges="tx-batch:1:256 rx-batch:1:256 weight-pkts:1:65536 weight-bytes:1500:67108864
busypoll-us:0:100000 coalesce-pkts:0:1024 coalesce-us:0:100000"
for e in $edges; do
	IFS=: read -r key lo hi <<<"$e"
	lov='' hiv=''
	"$ctl" set "$id" "$key" "$lo" && lov=$(tunable "$id" "$key")
	"$ctl" set "$id" "$key" "$hi" && hiv=$(tunable "$id" "$key")
	if [ "$lov" = "$lo" ] && [ "$hiv" = "$hi" ]; then ok "set $key $lo and $hi"; else fail "set $key $lo and $hi (got $lov $hiv)"; fi
	if [ "$lo" -gt 0 ]; then
		refused "set $key $((lo - 1)) refused" "Numerical result out of range: integer out of range \(attribute $key, allowed $lo\.\.$hi\)" "$ctl" set "$id" "$key" $((lo - 1))
	fi
	refused "set $key $((hi + 1)) refused" "integer out of range \(attribute $key, allowed $lo\.\.$hi\)" "$ctl" set "$id" "$key" $((hi + 1))
done
check "refusal left the value alone" test "$(tunable "$id" coalesce-us)" = 100000

run "$ctl" set "$id" worker-cpus 0
check "set worker-cpus 0" test "$rc" -eq 0 -a "$(tunable "$id" worker-cpus)" = 0
refused "set worker-cpus 99999: EINVAL + extack" "Invalid argument: vhnet: worker-cpus .*\(attribute worker-cpus\)" "$ctl" set "$id" worker-cpus 99999
run "$ctl" set "$id" worker-cpus ""
check "set worker-cpus \"\" (any)" test "$rc" -eq 0 -a "$(tunable "$id" worker-cpus)" = any
refused "set unknown id: ENOENT + extack" "no instance with this id .*\(attribute id\)" "$ctl" set 4000000000 tx-batch 8
refused "set unknown key refused" "unknown key" "$ctl" set "$id" nonsense 1
refused "set negative refused" "is not a number" "$ctl" set "$id" tx-batch -1

# ---- defaults: a new instance copies them ----
old=$(tunable default rx-batch)
run "$ctl" set default rx-batch 17
exec 9<>/dev/vhnet
new=$("$ctl" show | sed -n 's/^instance \([0-9]*\): .*/\1/p' | sort -n | tail -1)
check "set default: a new instance starts with it" test "$(tunable "$new" rx-batch)" = 17
exec 9<&-
"$ctl" set default rx-batch "$old"

# ---- CAP_NET_ADMIN ----
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all)
refused "set without CAP_NET_ADMIN: EPERM" "Operation not permitted" "${nobody[@]}" "$ctl" set "$id" tx-batch 8
refused "stats reset without CAP_NET_ADMIN: EPERM" "Operation not permitted" "${nobody[@]}" "$ctl" stats reset "$id"
run "${nobody[@]}" "$ctl" show "$id"
check "show works without CAP_NET_ADMIN" test "$rc" -eq 0

# ---- another netns sees nothing ----
run unshare -n "$ctl" show
check "other netns: show lists nothing" bash -c "[ $rc -eq 0 ] && ! echo \"\$1\" | grep -q '^instance'" _ "$out"
refused "other netns: set ID is ENOENT" "No such file or directory" unshare -n "$ctl" set "$id" tx-batch 8

# ---- monitor ----
exec 7<&- 8<&-
sleep 1
kill "$monpid"
for _ in 1 2 3 4 5; do kill -0 "$monpid" 2>/dev/null || break; sleep 1; done
if kill -0 "$monpid" 2>/dev/null; then
	kill -9 "$monpid"
	fail "monitor stops on SIGTERM"
else
	ok "monitor stops on SIGTERM"
fi
wait "$monpid" 2>/dev/null
monpid=
sed 's/^/#   /' "$tmp/mon"
check "monitor saw created and destroyed" bash -c "grep -q '^instance $id created' $tmp/mon && grep -q '^instance $id destroyed' $tmp/mon && grep -q '^instance $id2 destroyed' $tmp/mon"

ktap_finished
