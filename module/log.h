/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dirty page log for live migration (VHOST_F_LOG_ALL), in the format every
 * vhost backend shares with its VMM: a bitmap in the owner's memory at the
 * address VHOST_SET_LOG_BASE gave, one bit per 4 KiB guest-physical page
 * (bit n of byte n / 8 for page n), set by the device after it wrote the
 * page and read and cleared by the VMM (QEMU swaps each word with an atomic
 * exchange) while it copies memory to the destination. A page written but
 * not marked is a page the destination never gets: silent guest memory
 * corruption after migration. Marking more than was written only costs a
 * page copy.
 */
#ifndef _VHNET_LOG_H
#define _VHNET_LOG_H

#include <linux/types.h>

/* Guest bytes one bit of the log stands for (VHOST_PAGE_SIZE). */
#define VHNET_LOG_PAGE		0x1000ULL

/* A guest-physical range a chain lets the device write. */
struct vhnet_log_range {
	u64 gpa;
	u64 len;
};

bool vhnet_log_access_ok(u64 log_base, u64 gpa, u64 len);
int vhnet_log_write(u64 log_base, u64 gpa, u64 len);
int vhnet_log_ranges(u64 log_base, const struct vhnet_log_range *ranges,
		     unsigned int n, u64 len);

#endif /* _VHNET_LOG_H */
