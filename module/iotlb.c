// SPDX-License-Identifier: GPL-2.0
/*
 * Device IOTLB: the IOVA -> user address table the VMM fills for a guest
 * behind a vIOMMU, and the translations the data path makes through it.
 * See iotlb.h for the rules; nothing here sleeps except the allocation in
 * vhnet_iotlb_add().
 */
#include <linux/interval_tree_generic.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/vhost_types.h>

#include "iotlb.h"

/* Same name, default and meaning as vhost's parameter. */
unsigned int vhnet_max_iotlb_entries = 2048;
module_param_named(max_iotlb_entries, vhnet_max_iotlb_entries, uint, 0444);
MODULE_PARM_DESC(max_iotlb_entries,
		 "Maximum number of IOTLB entries per instance; the oldest is evicted beyond it (default 2048)");

#define VHNET_MAP_START(m)	((m)->start)
#define VHNET_MAP_LAST(m)	((m)->last)

INTERVAL_TREE_DEFINE(struct vhnet_iotlb_map, rb, u64, subtree_last,
		     VHNET_MAP_START, VHNET_MAP_LAST, static inline, vhnet_itree);

void vhnet_iotlb_init(struct vhnet_iotlb *t)
{
	t->root = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&t->maps);
	t->nmaps = 0;
}

static void vhnet_iotlb_remove(struct vhnet_iotlb *t, struct vhnet_iotlb_map *m)
{
	vhnet_itree_remove(m, &t->root);
	list_del(&m->link);
	kfree(m);
	t->nmaps--;
}

/* Forget every entry that overlaps [start, last]. */
void vhnet_iotlb_del(struct vhnet_iotlb *t, u64 start, u64 last)
{
	struct vhnet_iotlb_map *m;

	while ((m = vhnet_itree_iter_first(&t->root, start, last)))
		vhnet_iotlb_remove(t, m);
}

void vhnet_iotlb_flush(struct vhnet_iotlb *t)
{
	vhnet_iotlb_del(t, 0, U64_MAX);
}

/*
 * Map [start, last] to user memory at @uaddr with access @perm, replacing
 * whatever overlapped it. The caller checked that user space may own the
 * whole user range. When the table is full the oldest entry goes: it is a
 * cache of the VMM's answers, and a miss asks again. Like vhost, any
 * @perm is taken: an access it does not allow fails at translation.
 */
int vhnet_iotlb_add(struct vhnet_iotlb *t, u64 start, u64 last, u64 uaddr,
		    u8 perm)
{
	struct vhnet_iotlb_map *m;
	u64 ulast;

	if (start > last || check_add_overflow(uaddr, last - start, &ulast))
		return -EINVAL;
	m = kmalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	vhnet_iotlb_del(t, start, last);
	if (t->nmaps && t->nmaps >= READ_ONCE(vhnet_max_iotlb_entries))
		vhnet_iotlb_remove(t, list_first_entry(&t->maps,
						       struct vhnet_iotlb_map, link));
	m->start = start;
	m->last = last;
	m->uaddr = uaddr;
	m->perm = perm;
	vhnet_itree_insert(m, &t->root);
	list_add_tail(&m->link, &t->maps);
	t->nmaps++;
	return 0;
}

/*
 * One step of a walk: the entry holding @iova, checked for @perm, and how
 * many of the @len bytes from @iova it covers. Returns 0, -EAGAIN (no
 * entry: *miss = iova) or -EPERM (the guest did not allow this access).
 */
static int vhnet_iotlb_step(const struct vhnet_iotlb *t, u64 iova, u64 len,
			    u8 perm, u64 *uaddr, u64 *chunk, u64 *miss)
{
	struct vhnet_iotlb_map *m;

	m = vhnet_itree_iter_first((struct rb_root_cached *)&t->root, iova, iova);
	if (!m) {
		*miss = iova;
		return -EAGAIN;
	}
	if ((m->perm & perm) != perm)
		return -EPERM;
	*uaddr = m->uaddr + (iova - m->start);
	/*
	 * m->last - iova + 1 overflows only for an entry of all 2^64
	 * addresses starting at 0 (the CVE-2022-48862 class): compare
	 * inclusive ends instead, so a chunk is never 0 and every step
	 * moves on to the next entry.
	 */
	*chunk = len - 1 <= m->last - iova ? len : m->last - iova + 1;
	return 0;
}

/*
 * Translate [iova, iova + len) into at most iov_max user iovecs. Returns
 * the number used, -EFAULT if the range wraps, -EAGAIN if part of it has
 * no entry (*miss: the first such IOVA), -EPERM if an entry does not allow
 * @perm, -ENOBUFS if it needs more than iov_max segments. Entries do not
 * overlap, so the walk takes at most one step per entry.
 */
int vhnet_iotlb_translate(const struct vhnet_iotlb *t, u64 iova, u64 len,
			  u8 perm, struct iovec *iov, unsigned int iov_max,
			  u64 *miss)
{
	unsigned int n = 0;
	u64 uaddr, chunk;
	int r;

	if (len && iova + (len - 1) < iova)
		return -EFAULT;
	while (len) {
		r = vhnet_iotlb_step(t, iova, len, perm, &uaddr, &chunk, miss);
		if (r)
			return r;
		if (n >= iov_max)
			return -ENOBUFS;
		iov[n].iov_base = (void __user *)(unsigned long)uaddr;
		iov[n].iov_len = chunk;
		n++;
		iova += chunk;
		len -= chunk;
	}
	return n;
}

/*
 * Translate [iova, iova + len) (len > 0) into one contiguous user range,
 * as a ring must be: the device then reads and writes it as it would a
 * ring given by user address. Returns 0 (*uaddr set), -EAGAIN (*miss
 * set), -EPERM, or -EFAULT if the range wraps or the entries it spans do
 * not map to adjacent user memory.
 */
int vhnet_iotlb_map_contig(const struct vhnet_iotlb *t, u64 iova, u64 len,
			   u8 perm, u64 *uaddr, u64 *miss)
{
	u64 first = 0, next = 0, u, chunk;
	bool started = false;
	int r;

	if (!len || iova + (len - 1) < iova)
		return -EFAULT;
	while (len) {
		r = vhnet_iotlb_step(t, iova, len, perm, &u, &chunk, miss);
		if (r)
			return r;
		if (!started) {
			first = u;
			started = true;
		} else if (u != next) {
			return -EFAULT;
		}
		next = u + chunk;
		iova += chunk;
		len -= chunk;
	}
	*uaddr = first;
	return 0;
}
