#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a test against the kernel's own /dev/vhost-net, the reference vhnet
# must behave like: load vhost_net for the command, unload it after, so no
# other test can pass through it by accident.
set -u
modprobe vhost_net || { echo "Bail out! cannot load vhost_net"; exit 1; }
VHNET_DEV=/dev/vhost-net "$@"
status=$?
rmmod vhost_net vhost vhost_iotlb 2>/dev/null
exit $status
