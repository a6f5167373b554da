// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory table: validation on VHOST_SET_MEM_TABLE and translation of
 * guest-physical ranges into user-address iovecs on the hot path.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>

#include "log.h"
#include "mem.h"

/* Same name, type and default as vhost's parameter, so tuning carries over. */
unsigned short vhnet_max_mem_regions = 64;
module_param_named(max_mem_regions, vhnet_max_mem_regions, ushort, 0444);
MODULE_PARM_DESC(max_mem_regions,
		 "Maximum number of memory regions in the memory table (default 64)");

static int vhnet_region_cmp(const void *a, const void *b)
{
	const struct vhnet_mem_region *ra = a, *rb = b;

	if (ra->gpa < rb->gpa)
		return -1;
	return ra->gpa > rb->gpa;
}

/*
 * Copy and validate a struct vhost_memory from user space. Errnos follow
 * vhost: padding -> EOPNOTSUPP, too many regions -> E2BIG, a region that is
 * empty, wraps, or names addresses user space cannot own -> EFAULT.
 * vhost accepts overlapping regions and then resolves an address to
 * whichever region its interval tree finds first; vhnet refuses them with
 * EINVAL so that every guest address has exactly one meaning.
 */
struct vhnet_mem *vhnet_mem_from_user(struct vhost_memory __user *m)
{
	struct vhost_memory_region ur;
	struct vhost_memory hdr;
	struct vhnet_mem *mem;
	long err;
	u32 i;

	if (copy_from_user(&hdr, m, sizeof(hdr)))
		return ERR_PTR(-EFAULT);
	if (hdr.padding)
		return ERR_PTR(-EOPNOTSUPP);
	if (hdr.nregions > vhnet_max_mem_regions)
		return ERR_PTR(-E2BIG);
	mem = kvzalloc(struct_size(mem, regions, hdr.nregions), GFP_KERNEL_ACCOUNT);
	if (!mem)
		return ERR_PTR(-ENOMEM);
	mem->nregions = hdr.nregions;

	for (i = 0; i < hdr.nregions; i++) {
		struct vhnet_mem_region *r = &mem->regions[i];
		u64 gend, uend;

		err = -EFAULT;
		if (copy_from_user(&ur, &m->regions[i], sizeof(ur)))
			goto err_free;
		if (!ur.memory_size ||
		    check_add_overflow(ur.guest_phys_addr, ur.memory_size - 1, &gend) ||
		    check_add_overflow(ur.userspace_addr, ur.memory_size - 1, &uend) ||
		    (u64)(unsigned long)uend != uend ||
		    !access_ok((void __user *)(unsigned long)ur.userspace_addr,
			       ur.memory_size))
			goto err_free;
		r->gpa = ur.guest_phys_addr;
		r->size = ur.memory_size;
		r->uaddr = ur.userspace_addr;
	}

	sort(mem->regions, mem->nregions, sizeof(mem->regions[0]),
	     vhnet_region_cmp, NULL);
	err = -EINVAL;
	for (i = 1; i < mem->nregions; i++) {
		const struct vhnet_mem_region *p = &mem->regions[i - 1];

		/* p->gpa + p->size - 1 cannot wrap: checked above. */
		if (mem->regions[i].gpa <= p->gpa + p->size - 1)
			goto err_free;
	}
	return mem;

err_free:
	kvfree(mem);
	return ERR_PTR(err);
}

static const struct vhnet_mem_region *
vhnet_mem_find(const struct vhnet_mem *mem, u64 gpa)
{
	u32 lo = 0, hi = mem->nregions;

	/* Binary search for the last region starting at or below gpa. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (mem->regions[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (gpa - mem->regions[lo - 1].gpa >= mem->regions[lo - 1].size)
		return NULL;
	return &mem->regions[lo - 1];
}

/*
 * Translate [gpa, gpa + len) into at most iov_max user iovecs.
 * Returns the number of iovecs used, -EFAULT if part of the range is not
 * guest memory, -ENOBUFS if it needs more than iov_max segments.
 * Caller holds rcu_read_lock() (or otherwise keeps mem alive); nothing here
 * sleeps.
 */
int vhnet_mem_translate(const struct vhnet_mem *mem, u64 gpa, u64 len,
			struct iovec *iov, unsigned int iov_max)
{
	unsigned int n = 0;
	u64 end;

	if (!mem)
		return -EFAULT;
	if (len && check_add_overflow(gpa, len - 1, &end))
		return -EFAULT;

	while (len) {
		const struct vhnet_mem_region *r = vhnet_mem_find(mem, gpa);
		u64 off, chunk;

		if (!r)
			return -EFAULT;
		if (n >= iov_max)
			return -ENOBUFS;
		off = gpa - r->gpa;
		chunk = min(len, r->size - off);
		iov[n].iov_base = (void __user *)(unsigned long)(r->uaddr + off);
		iov[n].iov_len = chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	return n;
}

/*
 * The reverse of vhnet_mem_translate() for the dirty log behind a vIOMMU:
 * which guest-physical address user address @uaddr is, and how many of
 * the @len bytes from there (len > 0) the same region holds (*chunk > 0).
 * Returns -EFAULT if no region holds @uaddr. A linear search: regions are
 * sorted by guest address, not user address, and this runs only while
 * migrating. Caller keeps mem alive; nothing here sleeps.
 */
int vhnet_mem_uaddr_to_gpa(const struct vhnet_mem *mem, u64 uaddr, u64 len,
			   u64 *gpa, u64 *chunk)
{
	u32 i;

	if (!mem)
		return -EFAULT;
	for (i = 0; i < mem->nregions; i++) {
		const struct vhnet_mem_region *r = &mem->regions[i];
		u64 off = uaddr - r->uaddr;

		if (uaddr < r->uaddr || off >= r->size)
			continue;
		*gpa = r->gpa + off;
		*chunk = min(len, r->size - off);
		return 0;
	}
	return -EFAULT;
}

/*
 * Could the dirty log at @log_base take a bit for every page of @mem? As
 * vhost, a missing table cannot be logged. Caller keeps mem alive (RCU or
 * the device mutex); nothing here sleeps.
 */
bool vhnet_mem_log_access_ok(const struct vhnet_mem *mem, u64 log_base)
{
	u32 i;

	if (!mem)
		return false;
	for (i = 0; i < mem->nregions; i++)
		if (!vhnet_log_access_ok(log_base, mem->regions[i].gpa,
					 mem->regions[i].size))
			return false;
	return true;
}
