/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device IOTLB, for guests behind a virtual IOMMU (VIRTIO_F_ACCESS_PLATFORM).
 *
 * Once the VMM acks ACCESS_PLATFORM, every address the device meets (the
 * rings given by VHOST_SET_VRING_ADDR, the buffers in descriptors) is an
 * I/O virtual address of the guest's vIOMMU, not a guest-physical one. The
 * VMM tells the device what each IOVA page maps to (an owner user address
 * and the access the guest allowed) through IOTLB messages written to the
 * device fd; the device asks for what it lacks with a MISS message the VMM
 * reads from the same fd (vhost's message channel, struct vhost_msg_v2).
 *
 * The table is a bounded cache: at most vhnet_max_iotlb_entries entries,
 * the oldest evicted first, since the VMM can always answer a miss again.
 * Entries never overlap: an update first removes every entry it touches,
 * so each IOVA has one meaning and a walk over a range visits each entry
 * at most once.
 *
 * Locking: the table is changed only with the device mutex and both vq
 * mutexes held, and read only by a queue's worker (or ioctl) holding its
 * vq mutex. A pass therefore never sees an entry change under it, and an
 * invalidation returns only after every pass that could still use the
 * old translation has ended.
 */
#ifndef _VHNET_IOTLB_H
#define _VHNET_IOTLB_H

#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>

/* One IOVA range [start, last] mapped to user memory at uaddr. */
struct vhnet_iotlb_map {
	struct rb_node rb;
	struct list_head link;		/* in vhnet_iotlb.maps, oldest first */
	u64 start;
	u64 last;			/* inclusive: [0, U64_MAX] has no size */
	u64 uaddr;
	u64 subtree_last;		/* interval tree bookkeeping */
	u8 perm;			/* VHOST_ACCESS_RO / WO / RW */
};

struct vhnet_iotlb {
	struct rb_root_cached root;
	struct list_head maps;
	unsigned int nmaps;
};

/*
 * The miss a queue waits for: at most one per queue, so a guest that
 * hands out unmapped addresses costs the VMM one message per queue at a
 * time, never a growing queue of them. Protected by the channel's lock.
 */
enum vhnet_iotlb_miss_state {
	VHNET_IOTLB_MISS_NONE,
	VHNET_IOTLB_MISS_QUEUED,	/* waiting for the VMM to read it */
	VHNET_IOTLB_MISS_SENT,		/* read; waiting for the update */
};

struct vhnet_iotlb_miss {
	enum vhnet_iotlb_miss_state state;
	u64 iova;
	u8 perm;
};

/* The device fd's side of the message channel (readers wait here). */
struct vhnet_iotlb_chan {
	spinlock_t lock;	/* each queue's miss slot; the device's iotlb pointer */
	wait_queue_head_t wait;
};

extern unsigned int vhnet_max_iotlb_entries;

void vhnet_iotlb_init(struct vhnet_iotlb *t);
int vhnet_iotlb_add(struct vhnet_iotlb *t, u64 start, u64 last, u64 uaddr,
		    u8 perm);
void vhnet_iotlb_del(struct vhnet_iotlb *t, u64 start, u64 last);
void vhnet_iotlb_flush(struct vhnet_iotlb *t);
int vhnet_iotlb_translate(const struct vhnet_iotlb *t, u64 iova, u64 len,
			  u8 perm, struct iovec *iov, unsigned int iov_max,
			  u64 *miss);
int vhnet_iotlb_map_contig(const struct vhnet_iotlb *t, u64 iova, u64 len,
			   u8 perm, u64 *uaddr, u64 *miss);

#endif /* _VHNET_IOTLB_H */
