#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A nested guest behind a virtual IOMMU (intel-iommu, iommu_platform=on)
# on /dev/vhnet under QEMU 10.0: ping and TCP both ways with every address
# translated through vhnet's IOTLB (nested/test.sh, NESTED_VIOMMU).
NESTED_QEMU=10.0 NESTED_VIOMMU=1 exec "$(dirname "$0")/test.sh" /dev/vhnet
