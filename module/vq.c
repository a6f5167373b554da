// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue engine: reads descriptor chains the guest made available,
 * returns them through the used ring and decides when the guest needs an
 * interrupt. Every index and length read from the guest is checked before
 * it is used; any inconsistency breaks only this queue.
 *
 * The ring addresses are owner user addresses (as in vhost); the buffer
 * addresses inside descriptors are guest-physical and go through the
 * memory table. With a vIOMMU (VIRTIO_F_ACCESS_PLATFORM) both are IOVAs
 * and go through the device IOTLB instead (iotlb.h); a translation it
 * lacks is asked of the VMM and the queue waits for the answer. All
 * accesses run in the worker with the owner's mm and may fault and sleep,
 * so none happens under RCU or a spinlock.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/log2.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/uaccess.h>
#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "vq.h"

#define VHNET_INDIRECT_MAX	(U16_MAX + 1)

/*
 * Most descriptors one chain may have, indirect entries included: the
 * queue size (virtio 1.x 2.7.5.3.1: "A driver MUST NOT create a
 * descriptor chain longer than the Queue Size of the device"), but never
 * fewer than QEMU's own virtio accepts (VIRTQUEUE_MAX_SIZE, 1024), so a
 * small ring may still carry a driver's usual indirect tables. Without
 * this, one chain of an indirect table of 65536 empty entries is one
 * step of a pass that nothing can cut short.
 */
#define VHNET_CHAIN_MAX_FLOOR	1024

static __le16 __user *vhnet_avail_ring(const struct vhnet_vq *vq)
{
	return (__le16 __user *)(vq->avail + 1);
}

static __le16 __user *vhnet_used_event(const struct vhnet_vq *vq)
{
	return vhnet_avail_ring(vq) + vq->num;
}

static struct vhnet_used_elem __user *vhnet_used_ring(const struct vhnet_vq *vq)
{
	return (struct vhnet_used_elem __user *)(vq->used + 1);
}

static __le16 __user *vhnet_avail_event(const struct vhnet_vq *vq)
{
	return (__le16 __user *)(vhnet_used_ring(vq) + vq->num);
}

void vhnet_vq_init(struct vhnet_vq *vq, struct vhnet_mem __rcu **memp,
		   struct vhnet_iotlb_chan *chan)
{
	mutex_init(&vq->mutex);
	u64_stats_init(&vq->stats.syncp);
	vq->memp = memp;
	vq->chan = chan;
	/* Nobody else sees it yet; the lock only satisfies the rule below. */
	mutex_lock(&vq->mutex);
	vhnet_vq_reset(vq);
	mutex_unlock(&vq->mutex);
}

/*
 * Back to the state after open. Caller holds vq->mutex and has already
 * stopped polling the kick file.
 */
void vhnet_vq_reset(struct vhnet_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->call_ctx)
		eventfd_ctx_put(vq->call_ctx);
	if (vq->err_ctx)
		eventfd_ctx_put(vq->err_ctx);
	if (vq->kick)
		fput(vq->kick);
	vq->call_ctx = NULL;
	vq->err_ctx = NULL;
	vq->kick = NULL;
	vq->num = 0;
	vq->features = 0;
	vq->desc_addr = 0;
	vq->avail_addr = 0;
	vq->used_addr = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vhnet_vq_set_iotlb(vq, NULL);
	vq->log_base = 0;
	vq->log_addr = 0;
	vq->log_used = false;
	vq->log_ctx = NULL;
	vq->last_avail_idx = 0;
	vq->avail_idx = 0;
	vq->last_used_idx = 0;
	vq->used_published = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->used_flags = 0;
	vq->unsignalled = 0;
	vq->stopped = false;
	vq->state = VHNET_QUEUE_STATE_STOPPED;
	vq->broken = VHNET_BROKEN_REASON_NONE;
	vq->busyloop_timeout = 0;
	vq->walked = 0;
	atomic_set(&vq->kick_events, 0);
}

/*
 * Same checks vhost makes before it starts a ring: can user space own it?
 * Behind a vIOMMU the addresses are IOVAs, checked as each pass maps them.
 */
bool vhnet_vq_access_ok(const struct vhnet_vq *vq, unsigned int num,
			u64 desc, u64 avail, u64 used)
{
	size_t dsz = sizeof(struct vhnet_desc) * (size_t)num;
	size_t asz = sizeof(struct vhnet_avail_hdr) + sizeof(__le16) * ((size_t)num + 1);
	size_t usz = sizeof(struct vhnet_used_hdr) +
		     sizeof(struct vhnet_used_elem) * (size_t)num + sizeof(__le16);

	if (vq->iotlb)
		return true;
	return access_ok((void __user *)(unsigned long)desc, dsz) &&
	       access_ok((void __user *)(unsigned long)avail, asz) &&
	       access_ok((void __user *)(unsigned long)used, usz);
}

/* Bytes of the used ring vhost reads and writes, as vhost_get_used_size(). */
static u64 vhnet_used_size(const struct vhnet_vq *vq, unsigned int num)
{
	return sizeof(struct vhnet_used_hdr) +
	       sizeof(struct vhnet_used_elem) * (u64)num +
	       (vhnet_vq_has(vq, VIRTIO_RING_F_EVENT_IDX) ? sizeof(__le16) : 0);
}

/* Could the log at @log_base take the used ring's pages (if it is logged)? */
bool vhnet_vq_log_used_ok(const struct vhnet_vq *vq, u64 log_base,
			  bool log_used, u64 log_addr)
{
	/*
	 * Behind a vIOMMU log_addr is an IOVA: the used ring is logged
	 * where its translation lies in guest memory, which the check of
	 * all memory (VHOST_F_LOG_ALL) covers.
	 */
	return !log_used || vq->iotlb ||
	       vhnet_log_access_ok(log_base, log_addr, vhnet_used_size(vq, vq->num));
}

/*
 * Could the log at @log_base take every page this ring may write: all of
 * guest memory while VHOST_F_LOG_ALL is acked, the used ring if logged?
 * vhost's vq_log_access_ok(), checked whenever one of them changes under
 * an attached backend. Caller holds vq->mutex.
 */
bool vhnet_vq_log_access_ok(const struct vhnet_vq *vq, u64 log_base)
{
	bool ok = true;

	lockdep_assert_held(&vq->mutex);
	if (vhnet_vq_logging(vq)) {
		rcu_read_lock();
		ok = vhnet_mem_log_access_ok(rcu_dereference(*vq->memp), log_base);
		rcu_read_unlock();
	}
	return ok && vhnet_vq_log_used_ok(vq, log_base, vq->log_used, vq->log_addr);
}

/*
 * Mark the guest pages behind @len bytes of user memory at @uaddr (a
 * translation through the IOTLB) in the log, as vhost's log_write_hva():
 * the memory table says which guest-physical pages they are. The table is
 * looked up under RCU, the log written outside it (it may fault).
 */
static int vhnet_vq_log_uaddr(const struct vhnet_vq *vq, u64 uaddr, u64 len)
{
	u64 gpa, chunk;
	int r;

	while (len) {
		rcu_read_lock();
		r = vhnet_mem_uaddr_to_gpa(rcu_dereference(*vq->memp), uaddr,
					   len, &gpa, &chunk);
		rcu_read_unlock();
		if (r)
			return r;
		r = vhnet_log_write(vq->log_base, gpa, chunk);
		if (r)
			return r;
		uaddr += chunk;
		len -= chunk;
	}
	return 0;
}

/* Mark @len bytes at @offset into the used ring, just written, if logged. */
static int vhnet_vq_mark_used(const struct vhnet_vq *vq, u64 offset, u64 len)
{
	u64 gpa;

	if (likely(!vq->log_used) || !vhnet_vq_logging(vq))
		return 0;
	if (vq->iotlb)
		return vhnet_vq_log_uaddr(vq, (unsigned long)vq->used + offset, len);
	if (check_add_overflow(vq->log_addr, offset, &gpa))
		return -EFAULT;
	return vhnet_log_write(vq->log_base, gpa, len);
}

/*
 * The same from a worker pass: a log the VMM took away breaks the queue,
 * since the destination would otherwise get a ring that is not the
 * guest's.
 */
static int vhnet_vq_log_used(struct vhnet_vq *vq, u64 offset, u64 len)
{
	if (vhnet_vq_mark_used(vq, offset, len)) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_LOG);
		return -EFAULT;
	}
	return 0;
}

/*
 * Mark the first @len bytes of the buffers a packet filled (the ranges
 * vhnet_vq_get_desc() recorded in @log). On failure the queue is broken.
 */
int vhnet_vq_log_write(struct vhnet_vq *vq, const struct vhnet_vq_log *log,
		       u64 len)
{
	if (vhnet_log_ranges(vq->log_base, log->ranges, log->n, len)) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_LOG);
		return -EFAULT;
	}
	return 0;
}

/*
 * Use @iotlb (NULL: none) for this queue's addresses from now on, and
 * forget a miss asked under the previous setting. Caller holds vq->mutex.
 */
void vhnet_vq_set_iotlb(struct vhnet_vq *vq, struct vhnet_iotlb *iotlb)
{
	lockdep_assert_held(&vq->mutex);
	vq->iotlb = iotlb;
	spin_lock(&vq->chan->lock);
	vq->miss.state = VHNET_IOTLB_MISS_NONE;
	spin_unlock(&vq->chan->lock);
}

/*
 * Ask the VMM to translate @iova for @perm: the queue's one miss slot
 * takes the newest question, and a reader of the device fd gets it. The
 * answer (an IOTLB update covering it) requeues the worker.
 */
static void vhnet_vq_iotlb_miss(struct vhnet_vq *vq, u64 iova, u8 perm)
{
	spin_lock(&vq->chan->lock);
	vq->miss.state = VHNET_IOTLB_MISS_QUEUED;
	vq->miss.iova = iova;
	vq->miss.perm = perm;
	spin_unlock(&vq->chan->lock);
	vhnet_vq_count(vq, &vq->stats.c.iotlb_misses, 1);
	wake_up_interruptible_poll(&vq->chan->wait, EPOLLIN | EPOLLRDNORM);
}

/*
 * Find [iova, iova + len) of a ring in user memory through the IOTLB.
 * Returns 0, -EAGAIN after asking for a missing translation, or -EFAULT
 * if the guest did not allow @perm or mapped the ring to memory that is
 * not one contiguous user range (QEMU requires the same of every ring it
 * maps itself).
 */
static int vhnet_vq_map_ring(struct vhnet_vq *vq, u64 iova, u64 len, u8 perm,
			     u64 *uaddr)
{
	u64 miss;
	int r;

	r = vhnet_iotlb_map_contig(vq->iotlb, iova, len, perm, uaddr, &miss);
	if (r == -EAGAIN)
		vhnet_vq_iotlb_miss(vq, miss, perm);
	else if (r)
		r = -EFAULT;
	return r;
}

static u64 vhnet_avail_size(const struct vhnet_vq *vq, unsigned int num)
{
	return sizeof(struct vhnet_avail_hdr) + sizeof(__le16) * (u64)num +
	       (vhnet_vq_has(vq, VIRTIO_RING_F_EVENT_IDX) ? sizeof(__le16) : 0);
}

/*
 * Where the rings are for the pass about to begin (see struct vhnet_vq).
 * Behind a vIOMMU the three are translated now, with the access vhost
 * checks (descriptors and avail read, used written); they stay valid for
 * the whole pass because the IOTLB changes only under this mutex.
 * Returns 0, -EAGAIN (a translation was asked for: the update requeues
 * the worker) or -EFAULT after breaking the queue.
 */
int vhnet_vq_map_rings(struct vhnet_vq *vq)
{
	u64 desc, avail, used;
	int r;

	lockdep_assert_held(&vq->mutex);
	if (likely(!vq->iotlb)) {
		vq->desc = (void __user *)(unsigned long)vq->desc_addr;
		vq->avail = (void __user *)(unsigned long)vq->avail_addr;
		vq->used = (void __user *)(unsigned long)vq->used_addr;
		return 0;
	}
	r = vhnet_vq_map_ring(vq, vq->desc_addr,
			      sizeof(struct vhnet_desc) * (u64)vq->num,
			      VHOST_ACCESS_RO, &desc);
	if (!r)
		r = vhnet_vq_map_ring(vq, vq->avail_addr,
				      vhnet_avail_size(vq, vq->num),
				      VHOST_ACCESS_RO, &avail);
	if (!r)
		r = vhnet_vq_map_ring(vq, vq->used_addr,
				      vhnet_used_size(vq, vq->num),
				      VHOST_ACCESS_WO, &used);
	if (r == -EFAULT)
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_ACCESS);
	if (r)
		return r;
	vq->desc = (void __user *)(unsigned long)desc;
	vq->avail = (void __user *)(unsigned long)avail;
	vq->used = (void __user *)(unsigned long)used;
	return 0;
}

/*
 * Start serving the ring with the current addresses and base: publish our
 * used flags and pick up the used index the guest (or a previous backend)
 * left. Caller holds vq->mutex and runs in the owner's context.
 */
int vhnet_vq_start(struct vhnet_vq *vq)
{
	u64 used;
	__le16 idx;

	lockdep_assert_held(&vq->mutex);

	if (!vq->num ||
	    !vhnet_vq_access_ok(vq, vq->num, vq->desc_addr, vq->avail_addr,
				vq->used_addr))
		return -EFAULT;
	/*
	 * Only the used ring's header is touched here. Behind a vIOMMU the
	 * VMM has translated that much before it attaches a backend (QEMU
	 * asks for used_phys as vhost needs); a miss fails as on vhost.
	 */
	vq->used = (void __user *)(unsigned long)vq->used_addr;
	if (vq->iotlb) {
		if (vhnet_vq_map_ring(vq, vq->used_addr,
				      sizeof(struct vhnet_used_hdr),
				      VHOST_ACCESS_RW, &used))
			return -EFAULT;
		vq->used = (void __user *)(unsigned long)used;
	}
	if (put_user(cpu_to_le16(vq->used_flags), &vq->used->flags) ||
	    vhnet_vq_mark_used(vq, offsetof(struct vhnet_used_hdr, flags),
			       sizeof(__le16)))
		return -EFAULT;
	if (get_user(idx, &vq->used->idx))
		return -EFAULT;
	vq->last_used_idx = le16_to_cpu(idx);
	vq->used_published = vq->last_used_idx;
	vq->avail_idx = vq->last_avail_idx;
	vq->signalled_used_valid = false;
	vq->unsignalled = 0;
	vq->stopped = false;
	vq->broken = VHNET_BROKEN_REASON_NONE;
	vq->state = VHNET_QUEUE_STATE_RUNNING;
	return 0;
}

/*
 * The guest handed us something we cannot make sense of. Stop this queue
 * (it stays BROKEN until user space reconfigures it), count it, and tell
 * the VMM through the err eventfd as vhost's vq_err() does.
 */
void vhnet_vq_break(struct vhnet_vq *vq, enum vhnet_broken_reason why)
{
	bool bad_addr;

	if (vq->state == VHNET_QUEUE_STATE_BROKEN)
		return;
	vq->state = VHNET_QUEUE_STATE_BROKEN;
	vq->broken = why;
	bad_addr = why == VHNET_BROKEN_REASON_BAD_ADDR ||
		   why == VHNET_BROKEN_REASON_BAD_ACCESS ||
		   why == VHNET_BROKEN_REASON_BAD_LOG;
	vhnet_vq_drop(vq, bad_addr ? VHNET_DROP_BAD_ADDR : VHNET_DROP_BAD_CHAIN);
	pr_warn_ratelimited("queue broken (reason %d) at avail %u\n",
			    why, vq->last_avail_idx);
	if (vq->err_ctx)
		vhnet_eventfd_signal(vq->err_ctx);
}

/*
 * Translate a guest buffer [addr, addr + len) the device will access as
 * @perm into at most iov_max user iovecs: through the memory table, or
 * behind a vIOMMU through the IOTLB. Returns the number of iovecs,
 * -EAGAIN after asking the VMM for a missing translation, -ENOBUFS if it
 * needs more than iov_max, -EFAULT if the guest may not access it so.
 */
static int vhnet_vq_translate(struct vhnet_vq *vq, u64 addr, u64 len, u8 perm,
			      struct iovec *iov, unsigned int iov_max)
{
	u64 miss;
	int r;

	if (vq->iotlb) {
		r = vhnet_iotlb_translate(vq->iotlb, addr, len, perm, iov,
					  iov_max, &miss);
		if (r == -EAGAIN)
			vhnet_vq_iotlb_miss(vq, miss, perm);
		else if (r == -EPERM)
			r = -EFAULT;
		return r;
	}
	rcu_read_lock();
	r = vhnet_mem_translate(rcu_dereference(*vq->memp), addr, len, iov,
				iov_max);
	rcu_read_unlock();
	return r;
}

/*
 * Copy a small object (an indirect descriptor) from guest memory. Returns
 * 0, -EAGAIN (translation asked for) or -EFAULT.
 */
static int vhnet_vq_copy_from_guest(struct vhnet_vq *vq, void *dst, u64 addr,
				    size_t len)
{
	struct iovec iov[2];
	int n, i;

	n = vhnet_vq_translate(vq, addr, len, VHOST_ACCESS_RO, iov,
			       ARRAY_SIZE(iov));
	if (n == -EAGAIN)
		return n;
	if (n < 0)
		return -EFAULT;
	for (i = 0; i < n; i++) {
		if (copy_from_user(dst, iov[i].iov_base, iov[i].iov_len))
			return -EFAULT;
		dst += iov[i].iov_len;
	}
	return 0;
}

struct vhnet_chain {
	struct iovec *iov;
	unsigned int iov_max;
	unsigned int n;
	unsigned int *out;
	unsigned int *in;
	unsigned int descs;	/* walked so far, indirect entries included */
	unsigned int max_descs;
	struct vhnet_vq_log *log;	/* NULL: not logging */
};

/* Record a guest-physical range the device may write, for the log. */
static bool vhnet_chain_log(struct vhnet_chain *c, u64 gpa, u64 len)
{
	if (c->log->n >= c->log->max)
		return false;
	c->log->ranges[c->log->n].gpa = gpa;
	c->log->ranges[c->log->n].len = len;
	c->log->n++;
	return true;
}

/*
 * The same for a buffer translated through the IOTLB: its iovecs name
 * user memory, and the memory table says which guest pages that is.
 */
static int vhnet_chain_log_iov(struct vhnet_vq *vq, struct vhnet_chain *c,
			       const struct iovec *iov, unsigned int n)
{
	u64 uaddr, len, gpa, chunk;
	unsigned int i;
	int r = 0;

	rcu_read_lock();
	for (i = 0; i < n && !r; i++) {
		uaddr = (unsigned long)iov[i].iov_base;
		/* Each step takes at least a byte and at most one region. */
		for (len = iov[i].iov_len; len; uaddr += chunk, len -= chunk) {
			if (vhnet_mem_uaddr_to_gpa(rcu_dereference(*vq->memp),
						   uaddr, len, &gpa, &chunk)) {
				r = VHNET_BROKEN_REASON_BAD_LOG;
				break;
			}
			if (!vhnet_chain_log(c, gpa, chunk)) {
				r = VHNET_BROKEN_REASON_BAD_CHAIN;
				break;
			}
		}
	}
	rcu_read_unlock();
	return r;
}

/*
 * Append one descriptor's buffer. Returns 0, -EAGAIN (a translation was
 * asked for: the chain is taken again once it comes) or the reason the
 * queue must break.
 */
static int vhnet_chain_add(struct vhnet_vq *vq, struct vhnet_chain *c,
			   const struct vhnet_desc *d)
{
	bool write = le16_to_cpu(d->flags) & VRING_DESC_F_WRITE;
	int r;

	/* Device-readable buffers come first (virtio 1.x 2.7.4.2). */
	if (!write && *c->in)
		return VHNET_BROKEN_REASON_BAD_CHAIN;

	r = vhnet_vq_translate(vq, le64_to_cpu(d->addr), le32_to_cpu(d->len),
			       write ? VHOST_ACCESS_WO : VHOST_ACCESS_RO,
			       c->iov + c->n, c->iov_max - c->n);
	if (r == -EAGAIN)
		return r;
	if (r == -ENOBUFS)
		return VHNET_BROKEN_REASON_BAD_CHAIN;
	if (r < 0)
		return VHNET_BROKEN_REASON_BAD_ADDR;
	/*
	 * A writable buffer the dirty log must cover once written. Each one
	 * that holds data took an iovec above, so the log fills no faster
	 * than the iovec array; the check only guards that rule. Behind a
	 * vIOMMU a memory region boundary inside an iovec may take one more.
	 */
	if (write && c->log && d->len) {
		if (vq->iotlb) {
			int why = vhnet_chain_log_iov(vq, c, c->iov + c->n, r);

			if (why)
				return why;
		} else if (!vhnet_chain_log(c, le64_to_cpu(d->addr),
					    le32_to_cpu(d->len))) {
			return VHNET_BROKEN_REASON_BAD_CHAIN;
		}
	}
	c->n += r;
	if (write)
		*c->in += r;
	else
		*c->out += r;
	return VHNET_BROKEN_REASON_NONE;
}

/* Walk an indirect table: returns as vhnet_chain_add(). */
static int vhnet_chain_indirect(struct vhnet_vq *vq, struct vhnet_chain *c,
				const struct vhnet_desc *ind)
{
	u32 len = le32_to_cpu(ind->len);
	u64 base = le64_to_cpu(ind->addr);
	unsigned int count, found = 0, i = 0;
	struct vhnet_desc d;
	int why;

	if (!len || len % sizeof(d))
		return VHNET_BROKEN_REASON_BAD_CHAIN;
	count = len / sizeof(d);
	if (count > VHNET_INDIRECT_MAX)
		return VHNET_BROKEN_REASON_BAD_CHAIN;

	for (;;) {
		/* A table of count entries cannot chain through more. */
		if (++found > count || ++c->descs > c->max_descs)
			return VHNET_BROKEN_REASON_BAD_CHAIN;
		vq->walked++;
		/* Entries may move no data: let the CPU go now and then. */
		if (!(found % 256))
			cond_resched();
		why = vhnet_vq_copy_from_guest(vq, &d, base + (u64)i * sizeof(d),
					       sizeof(d));
		if (why == -EAGAIN)
			return why;
		if (why)
			return VHNET_BROKEN_REASON_BAD_ADDR;
		if (le16_to_cpu(d.flags) & VRING_DESC_F_INDIRECT)
			return VHNET_BROKEN_REASON_BAD_CHAIN;
		why = vhnet_chain_add(vq, c, &d);
		if (why)
			return why;
		if (!(le16_to_cpu(d.flags) & VRING_DESC_F_NEXT))
			return VHNET_BROKEN_REASON_NONE;
		i = le16_to_cpu(d.next);
		if (i >= count)
			return VHNET_BROKEN_REASON_BAD_CHAIN;
	}
}

/*
 * Refresh the cached avail index from the guest. Returns false (and breaks
 * the queue) if it cannot be read or claims more entries than the ring has.
 */
static bool vhnet_vq_read_avail_idx(struct vhnet_vq *vq)
{
	__le16 raw;
	u16 idx;

	if (get_user(raw, &vq->avail->idx)) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_ACCESS);
		return false;
	}
	idx = le16_to_cpu(raw);
	if ((u16)(idx - vq->last_avail_idx) > vq->num) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_INDEX);
		return false;
	}
	if (idx != vq->avail_idx)
		/*
		 * Ring entries are read only after the index that covers
		 * them, on every path that learns a new index (get_desc,
		 * enable_notify): pairs with the guest's write barrier
		 * before it publishes idx.
		 */
		smp_rmb();
	vq->avail_idx = idx;
	return true;
}

/*
 * Take the next available chain. Fills iov with the device-readable
 * segments first (*out of them), then the device-writable ones (*in).
 * Returns the head index, vq->num if the ring is empty, -EAGAIN if a
 * translation is missing (asked for; the chain stays available and the
 * IOTLB update requeues the worker), or -EIO after breaking the queue.
 */
int vhnet_vq_get_desc(struct vhnet_vq *vq, struct iovec *iov,
		      unsigned int iov_max, unsigned int *out, unsigned int *in,
		      struct vhnet_vq_log *log)
{
	struct vhnet_chain c = {
		.iov = iov, .iov_max = iov_max, .out = out, .in = in,
		.max_descs = max_t(unsigned int, vq->num, VHNET_CHAIN_MAX_FLOOR),
		.log = log,
	};
	unsigned int head, i, found = 0;
	struct vhnet_desc d;
	__le16 raw;
	u16 flags;
	int why;

	if (vq->state != VHNET_QUEUE_STATE_RUNNING)
		return -EIO;
	if (vq->avail_idx == vq->last_avail_idx) {
		if (!vhnet_vq_read_avail_idx(vq))
			return -EIO;
		if (vq->avail_idx == vq->last_avail_idx)
			return vq->num;
	}

	if (get_user(raw, vhnet_avail_ring(vq) + (vq->last_avail_idx & (vq->num - 1)))) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_ACCESS);
		return -EIO;
	}
	head = le16_to_cpu(raw);
	if (head >= vq->num) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_INDEX);
		return -EIO;
	}
	head = array_index_nospec(head, vq->num);

	*out = 0;
	*in = 0;
	i = head;
	for (;;) {
		/* A chain longer than the ring must revisit a descriptor. */
		if (++found > vq->num || ++c.descs > c.max_descs) {
			why = VHNET_BROKEN_REASON_BAD_CHAIN;
			goto broken;
		}
		vq->walked++;
		if (copy_from_user(&d, vq->desc + i, sizeof(d))) {
			why = VHNET_BROKEN_REASON_BAD_ACCESS;
			goto broken;
		}
		flags = le16_to_cpu(d.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			/*
			 * An indirect descriptor ends its chain (virtio 1.x
			 * 2.7.5.3.1: never INDIRECT with NEXT), so a chain
			 * walks at most one table.
			 */
			if (flags & VRING_DESC_F_NEXT) {
				why = VHNET_BROKEN_REASON_BAD_CHAIN;
				goto broken;
			}
			why = vhnet_chain_indirect(vq, &c, &d);
		} else {
			why = vhnet_chain_add(vq, &c, &d);
		}
		if (why == -EAGAIN)
			return why;
		if (why)
			goto broken;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = le16_to_cpu(d.next);
		if (i >= vq->num) {
			why = VHNET_BROKEN_REASON_BAD_CHAIN;
			goto broken;
		}
		i = array_index_nospec(i, vq->num);
	}
	vq->last_avail_idx++;
	return head;

broken:
	vhnet_vq_break(vq, why);
	return -EIO;
}

/* Give back the last n chains taken, unused (e.g. packet did not fit). */
void vhnet_vq_discard(struct vhnet_vq *vq, unsigned int n)
{
	vq->last_avail_idx -= n;
}

/*
 * The used ring's element, as the host keeps it: on a little-endian host
 * (vq.h insists on one) a vhnet_vq_head is the ring's own layout, so a run
 * of heads goes to the ring in one copy.
 */
static_assert(sizeof(struct vhnet_vq_head) == sizeof(struct vhnet_used_elem));
static_assert(offsetof(struct vhnet_vq_head, id) == offsetof(struct vhnet_used_elem, id));
static_assert(offsetof(struct vhnet_vq_head, len) == offsetof(struct vhnet_used_elem, len));

/*
 * Fill @n used entries, one copy per contiguous run (two when the batch
 * wraps the ring); the guest sees them at the next vhnet_vq_flush_used().
 */
int vhnet_vq_add_used(struct vhnet_vq *vq, const struct vhnet_vq_head *heads,
		      unsigned int n)
{
	struct vhnet_used_elem __user *ring = vhnet_used_ring(vq);
	unsigned int start, run;

	while (n) {
		start = vq->last_used_idx & (vq->num - 1);
		run = min(n, vq->num - start);
		if (copy_to_user(ring + start, heads, run * sizeof(*heads))) {
			vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_ACCESS);
			return -EFAULT;
		}
		if (vhnet_vq_log_used(vq, sizeof(struct vhnet_used_hdr) +
				      start * sizeof(*heads), run * sizeof(*heads)))
			return -EFAULT;
		vq->last_used_idx += run;
		heads += run;
		n -= run;
	}
	return 0;
}

/*
 * Give back @n chains the device consumed whole (TX: the guest ignores the
 * length). With VIRTIO_F_IN_ORDER the guest knows that buffers come back
 * in the order it made them available, so one entry says it all: the last
 * head of the batch, in the slot of the first, with the used index moving
 * by @n (the virtio spec's "In-order use of descriptors"; vhost-net's
 * in-order TX does the same since 6.17). The slots it skips are never
 * read by the guest. Without IN_ORDER, every chain gets its entry.
 */
int vhnet_vq_add_used_whole(struct vhnet_vq *vq,
			    const struct vhnet_vq_head *heads, unsigned int n)
{
	if (!n || !vhnet_vq_has(vq, VIRTIO_F_IN_ORDER))
		return vhnet_vq_add_used(vq, heads, n);
	if (vhnet_vq_add_used(vq, &heads[n - 1], 1))
		return -EFAULT;
	vq->last_used_idx += n - 1;
	return 0;
}

/* Publish the used entries filled so far. */
static int vhnet_vq_flush_used(struct vhnet_vq *vq)
{
	u16 n = vq->last_used_idx - vq->used_published;

	if (!n)
		return 0;
	/* The guest must see the entries before the index that covers them. */
	smp_wmb();
	if (put_user(cpu_to_le16(vq->last_used_idx), &vq->used->idx)) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_ACCESS);
		return -EFAULT;
	}
	if (vhnet_vq_log_used(vq, offsetof(struct vhnet_used_hdr, idx),
			      sizeof(__le16)))
		return -EFAULT;
	/* Everything the guest can now see is marked: tell the VMM. */
	if (vq->log_ctx && vhnet_vq_logging(vq))
		vhnet_eventfd_signal(vq->log_ctx);
	vq->used_published = vq->last_used_idx;
	vq->unsignalled += n;
	return 0;
}

void vhnet_vq_disable_notify(struct vhnet_vq *vq)
{
	/* With EVENT_IDX the guest stops kicking once it passes avail_event. */
	if (vhnet_vq_has(vq, VIRTIO_RING_F_EVENT_IDX) ||
	    (vq->used_flags & VRING_USED_F_NO_NOTIFY))
		return;
	vq->used_flags |= VRING_USED_F_NO_NOTIFY;
	if (put_user(cpu_to_le16(vq->used_flags), &vq->used->flags))
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_ACCESS);
	else
		vhnet_vq_log_used(vq, offsetof(struct vhnet_used_hdr, flags),
				  sizeof(__le16));
}

/*
 * Ask the guest to kick on its next buffer. Returns true if the guest
 * made buffers available since we last read its index, in which case the
 * caller should keep going (and disable notification again). Buffers we
 * already saw and gave back do not count, so a caller waiting for more
 * room than there is cannot spin here.
 */
bool vhnet_vq_enable_notify(struct vhnet_vq *vq)
{
	u16 seen = vq->avail_idx;
	size_t offset;
	int r;

	if (vq->state != VHNET_QUEUE_STATE_RUNNING)
		return false;
	if (vhnet_vq_has(vq, VIRTIO_RING_F_EVENT_IDX)) {
		r = put_user(cpu_to_le16(vq->avail_idx), vhnet_avail_event(vq));
		offset = (u8 __user *)vhnet_avail_event(vq) - (u8 __user *)vq->used;
	} else {
		if (!(vq->used_flags & VRING_USED_F_NO_NOTIFY))
			goto check;
		vq->used_flags &= ~VRING_USED_F_NO_NOTIFY;
		r = put_user(cpu_to_le16(vq->used_flags), &vq->used->flags);
		offset = offsetof(struct vhnet_used_hdr, flags);
	}
	if (r) {
		vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_ACCESS);
		return false;
	}
	if (vhnet_vq_log_used(vq, offset, sizeof(__le16)))
		return false;
check:
	/*
	 * The flag/event write must be visible before we look at avail idx
	 * again; pairs with the guest's barrier between publishing avail idx
	 * and reading our flag/event.
	 */
	smp_mb();
	if (!vhnet_vq_read_avail_idx(vq))
		return false;
	return vq->avail_idx != seen;
}

/* True if no chain is available (reads the guest's index if needed). */
bool vhnet_vq_avail_empty(struct vhnet_vq *vq)
{
	__le16 raw;

	if (vq->avail_idx != vq->last_avail_idx)
		return false;
	if (get_user(raw, &vq->avail->idx))
		return true;
	return le16_to_cpu(raw) == vq->last_avail_idx;
}

static bool vhnet_vq_need_notify(struct vhnet_vq *vq)
{
	u16 old, new, event;
	__le16 raw;
	bool valid;

	/*
	 * Our used idx store must be visible before we read the guest's
	 * flags/event; pairs with the guest's barrier when it re-enables
	 * interrupts.
	 */
	smp_mb();

	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	new = vq->used_published;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;

	if (vhnet_vq_has(vq, VIRTIO_F_NOTIFY_ON_EMPTY) &&
	    vq->avail_idx == vq->last_avail_idx)
		return true;

	if (!vhnet_vq_has(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (get_user(raw, &vq->avail->flags))
			return true;
		return !(le16_to_cpu(raw) & VRING_AVAIL_F_NO_INTERRUPT);
	}

	if (unlikely(!valid))
		return true;
	if (get_user(raw, vhnet_used_event(vq)))
		return true;
	event = le16_to_cpu(raw);
	return (u16)(new - event - 1) < (u16)(new - old);
}

/*
 * Interrupt the guest for the used entries published since the last call,
 * unless it asked not to be (flags / EVENT_IDX) or coalescing defers it.
 * final: end of a pass; never defer then, or an interrupt could be lost
 * while the queue sleeps.
 */
static void vhnet_vq_signal(struct vhnet_vq *vq, bool final)
{
	u32 coalesce_pkts = vq->pass.coalesce_pkts;
	u32 coalesce_us = vq->pass.coalesce_us;
	u64 now = 0;
	bool notify;

	if (!vq->unsignalled)
		return;
	if (!final && (coalesce_pkts || coalesce_us)) {
		bool due = coalesce_pkts && vq->unsignalled >= coalesce_pkts;

		now = local_clock();
		if (coalesce_us &&
		    now - vq->last_signal_ns >= (u64)coalesce_us * NSEC_PER_USEC)
			due = true;
		if (!due)
			return;
	}
	vq->unsignalled = 0;
	notify = vhnet_vq_need_notify(vq);
	if (!vq->call_ctx)
		return;
	if (!notify) {
		vhnet_vq_count(vq, &vq->stats.c.irqs_suppressed, 1);
		return;
	}
	vhnet_eventfd_signal(vq->call_ctx);
	vq->last_signal_ns = now ? now : local_clock();
	vhnet_vq_count(vq, &vq->stats.c.irqs, 1);
}

/*
 * Spin for up to the pass's busy-poll budget waiting for more(arg): trades
 * CPU for the latency of a sleep/wakeup. Stops early when the CPU is wanted elsewhere
 * or the control path wants the vq mutex we hold (vhnet_vq_lock(): an
 * ioctl, a close after the owner died, a memory-table swap). Returns true
 * if work showed up.
 */
bool vhnet_vq_busypoll(struct vhnet_vq *vq, bool (*more)(void *arg), void *arg)
{
	u64 end;

	lockdep_assert_held(&vq->mutex);
	end = local_clock() + (u64)vq->pass.busypoll_us * NSEC_PER_USEC;
	vhnet_vq_count(vq, &vq->stats.c.busypoll_rounds, 1);
	do {
		if (more(arg))
			return true;
		cpu_relax();
	} while (!need_resched() && !signal_pending(current) &&
		 !atomic_read(&vq->ctl_waiting) && local_clock() < end);
	return false;
}

static void vhnet_vq_count_batch(struct vhnet_vq *vq, unsigned int n)
{
	unsigned int b;

	if (!n)
		return;
	b = min_t(unsigned int, ilog2(n), VHNET_BATCH_HIST_NR - 1);
	u64_stats_update_begin(&vq->stats.syncp);
	vq->stats.c.batches++;
	vq->stats.c.batch_hist[b]++;
	u64_stats_update_end(&vq->stats.syncp);
}

/*
 * End of a batch: publish its used entries, count it, and interrupt the
 * guest unless coalescing says to wait. A failed publish leaves the batch
 * pending so the next flush retries it (the ring is broken by then anyway).
 */
void vhnet_vq_flush_batch(struct vhnet_vq *vq, unsigned int *inbatch, bool final)
{
	if (vhnet_vq_flush_used(vq))
		return;
	vhnet_vq_count_batch(vq, *inbatch);
	*inbatch = 0;
	vhnet_vq_signal(vq, final);
}

/*
 * End of a pass that began: flush what is left of its last batch, with no
 * deferred interrupt, and count the @packets frames of @bytes it moved.
 */
void vhnet_vq_pass_end(struct vhnet_vq *vq, unsigned int *inbatch,
		       u64 packets, u64 bytes)
{
	lockdep_assert_held(&vq->mutex);
	vhnet_vq_flush_batch(vq, inbatch, true);
	u64_stats_update_begin(&vq->stats.syncp);
	vq->stats.c.packets += packets;
	vq->stats.c.bytes += bytes;
	u64_stats_update_end(&vq->stats.syncp);
}
