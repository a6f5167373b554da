#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, inside the test VM: load vhnet with udev running (so the node
# gets its group), show the node, then hand over to the nested-guest demo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
ko=${VHNET_KO:?}

say()
{
	printf '\n### %s\n' "$*"
}

say "loading vhnet ($ko) with udev and the project's rule"
export SYSTEMD_IGNORE_CHROOT=1
mkdir -p /run/udev/rules.d
cp "$top/packaging/60-vhnet.rules" /run/udev/rules.d/
/lib/systemd/systemd-udevd --daemon 2>/dev/null
modprobe -a tun tap
insmod "$ko"
udevadm settle --timeout=30
dmesg | grep vhnet
say "the device node"
ls -l /dev/vhnet
udevadm control --exit

if [ -x "$here/nested/demo.sh" ]; then
	"$here/nested/demo.sh" "$ko"
fi
