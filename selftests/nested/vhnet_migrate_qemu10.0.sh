#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Live migration of a nested guest on /dev/vhnet under QEMU 10.0
# (nested/migrate.sh; the QEMU comes from scripts/qemu-vmms.sh).
NESTED_QEMU=10.0 exec "$(dirname "$0")/migrate.sh"
