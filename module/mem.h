/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory table: guest-physical address -> owner's user address.
 *
 * A table is immutable once published. VHOST_SET_MEM_TABLE builds a new one
 * and replaces the pointer under RCU; readers look up under rcu_read_lock()
 * and copy the result out (into an iovec) before they leave the read-side
 * section, because the copy to or from guest memory itself may sleep.
 */
#ifndef _VHNET_MEM_H
#define _VHNET_MEM_H

#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/uio.h>

struct vhost_memory;

struct vhnet_mem_region {
	u64 gpa;
	u64 size;
	u64 uaddr;
};

struct vhnet_mem {
	struct rcu_head rcu;
	u32 nregions;
	/* Sorted by gpa, non-overlapping, none empty. */
	struct vhnet_mem_region regions[];
};

extern unsigned short vhnet_max_mem_regions;

/* mem.c */
struct vhnet_mem *vhnet_mem_from_user(struct vhost_memory __user *m);
int vhnet_mem_translate(const struct vhnet_mem *mem, u64 gpa, u64 len,
			struct iovec *iov, unsigned int iov_max);
int vhnet_mem_uaddr_to_gpa(const struct vhnet_mem *mem, u64 uaddr, u64 len,
			   u64 *gpa, u64 *chunk);
bool vhnet_mem_log_access_ok(const struct vhnet_mem *mem, u64 log_base);

#endif /* _VHNET_MEM_H */
