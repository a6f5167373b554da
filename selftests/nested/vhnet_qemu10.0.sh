#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A nested guest on /dev/vhnet under QEMU 10.0 (nested/test.sh; the QEMU
# comes from scripts/qemu-vmms.sh).
NESTED_QEMU=10.0 exec "$(dirname "$0")/test.sh" /dev/vhnet
