#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fake guest against the kernel's own /dev/vhost-net, the reference
# vhnet must behave like: vhost_net is loaded for this test and unloaded
# after it, so that no other test can pass through it by accident. The
# fakeguest binary is next to this script, or in $VHNET_BIN.
set -u
bin=${VHNET_BIN:-$(cd "$(dirname "$0")" && pwd)}
modprobe vhost_net || { echo "Bail out! cannot load vhost_net"; exit 1; }
VHNET_DEV=/dev/vhost-net "$bin/fakeguest"
status=$?
rmmod vhost_net vhost vhost_iotlb 2>/dev/null
exit $status
