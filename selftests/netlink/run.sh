#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Netlink control-plane tests, run as root inside the test VM:
#   selftests/vm/run [--kver KVER] -- selftests/netlink/run.sh MODULE.ko
# Loads the module, runs vhnetctl.sh, ynl_spec.py and raw.py (KTAP each), unloads it
# and fails on any kernel report in the log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ko=${1:?usage: run.sh path/to/vhnet.ko}
rc=0

modprobe tun && modprobe tap || { echo "Bail out! tun/tap modules"; exit 1; }
insmod "$ko" || { echo "Bail out! insmod $ko"; exit 1; }
dmesg -c >/dev/null

"$here/vhnetctl.sh" || rc=1
python3 "$here/ynl_spec.py" || rc=1
python3 "$here/raw.py" || rc=1

rmmod vhnet || rc=1
if ! dmesg | "$here/../../scripts/kernel-reports.sh" -; then
	echo "# kernel reported a problem"
	rc=1
fi
[ $rc -eq 0 ] && echo "# netlink tests: PASS" || echo "# netlink tests: FAIL"
exit $rc
