/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueue engine. Knows rings, descriptors, guest memory and
 * notifications; knows nothing of tap, sockets or netlink.
 */
#ifndef _VHNET_VQ_H
#define _VHNET_VQ_H

#include <linux/atomic.h>
#include <linux/eventfd.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uio.h>

#include <uapi/linux/vhnet.h>
#include <linux/vhost_types.h>

#include "iotlb.h"
#include "log.h"
#include "mem.h"
#include "stats.h"

#ifdef __BIG_ENDIAN
/* Rings are read as little endian (VERSION_1, and legacy on x86/arm64 LE). */
#error "vhnet supports little-endian hosts only"
#endif

/*
 * What one worker pass runs with, fixed as it begins: the instance's
 * tunables as they are at that moment (netlink may change them at any
 * time), so that every flush and weight check of the pass agrees.
 */
struct vhnet_vq_pass {
	u32 batch;		/* used entries per flush */
	u32 weight_pkts;	/* yield after this many chains ... */
	u32 weight_bytes;	/* ... or bytes */
	u32 coalesce_pkts;	/* interrupt once per this many entries ... */
	u32 coalesce_us;	/* ... or microseconds; 0 and 0: every flush */
	u32 busypoll_us;	/* poll this long for work before sleeping */
};

/* Split-ring layout (virtio 1.x 2.7), little endian. */
struct vhnet_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
};

struct vhnet_used_elem {
	__le32 id;
	__le32 len;
};

struct vhnet_avail_hdr {
	__le16 flags;
	__le16 idx;
	/* __le16 ring[num]; __le16 used_event; */
};

struct vhnet_used_hdr {
	__le16 flags;
	__le16 idx;
	/* struct vhnet_used_elem ring[num]; __le16 avail_event; */
};

/*
 * Descriptors (ring and indirect entries) one pass may walk before it
 * yields. The packet and byte weights count chains; a chain may hold up
 * to max(ring size, 1024) descriptors that move no data (zero length, an
 * indirect table of empty entries), so without this bound a guest could
 * make one pass walk millions of descriptors with the vq mutex held (the
 * CVE-2019-3900 class) and stall every ioctl and close on the queue.
 * Real traffic walks one to a few descriptors a packet, far below it.
 */
#define VHNET_VQ_DESC_WEIGHT	16384

/*
 * Longest busy-poll spin, whatever VHOST_SET_VRING_BUSYLOOP_TIMEOUT or the
 * busypoll-us tunable asked for: the worker spins with the vq mutex held.
 */
#define VHNET_VQ_BUSYPOLL_MAX_US	100000

/*
 * Where vhnet_vq_get_desc() records the guest ranges a chain lets the
 * device write, for the dirty log: ranges[n..max) are free, and n moves
 * past what the chain added (several chains may fill one packet).
 */
struct vhnet_vq_log {
	struct vhnet_log_range *ranges;
	unsigned int max;
	unsigned int n;
};

/* One element of a multi-buffer (mergeable) used update. */
struct vhnet_vq_head {
	u32 id;
	u32 len;
};

struct vhnet_vq {
	/*
	 * Held by the worker for a whole pass and by every ioctl that changes
	 * the ring, its eventfds, its backend or the features; taking it is
	 * therefore also how the control path waits for an in-flight pass.
	 * Lock order: device mutex, then this.
	 * Protects every field below except stats.c (worker-only writes,
	 * lock-free readers) and kick_events (atomic).
	 */
	struct mutex mutex;

	unsigned int num;		/* ring size, power of two */
	u64 features;			/* acked virtio features */
	/*
	 * The rings as VHOST_SET_VRING_ADDR gave them: owner user addresses,
	 * or IOVAs while the IOTLB is in use.
	 */
	u64 desc_addr;
	u64 avail_addr;
	u64 used_addr;
	/*
	 * Where the rings are for the current pass (vhnet_vq_map_rings()):
	 * the addresses above, or their translation through the IOTLB,
	 * which cannot change while the pass holds the mutex.
	 */
	struct vhnet_desc __user *desc;
	struct vhnet_avail_hdr __user *avail;
	struct vhnet_used_hdr __user *used;
	/*
	 * The device's IOTLB while VIRTIO_F_ACCESS_PLATFORM is acked (NULL
	 * otherwise: addresses are guest-physical), the channel its misses
	 * go out on, and this queue's outstanding miss (under chan->lock).
	 */
	struct vhnet_iotlb *iotlb;
	struct vhnet_iotlb_chan *chan;
	struct vhnet_iotlb_miss miss;
	/*
	 * Dirty logging (log.h), in effect while VHOST_F_LOG_ALL is acked:
	 * the log (the device's, copied here by VHOST_SET_LOG_BASE), the
	 * used ring's guest-physical address in it, whether the VMM asked
	 * for the used ring to be logged (VHOST_VRING_F_LOG), and the
	 * eventfd signalled after marking (the device holds the reference).
	 */
	u64 log_base;
	u64 log_addr;
	bool log_used;
	struct eventfd_ctx *log_ctx;

	u16 last_avail_idx;		/* next avail entry to consume */
	u16 avail_idx;			/* last avail->idx read from the guest */
	u16 last_used_idx;		/* next used entry to fill */
	u16 used_published;		/* value last stored in used->idx */
	u16 signalled_used;		/* used idx at the last interrupt */
	bool signalled_used_valid;
	u16 used_flags;
	u32 unsignalled;		/* used entries since the last interrupt */
	u64 last_signal_ns;

	/* GET_VRING_BASE stopped it; cleared by any ring (re)configuration. */
	bool stopped;
	enum vhnet_queue_state state;
	enum vhnet_broken_reason broken;

	struct eventfd_ctx *call_ctx;
	struct eventfd_ctx *err_ctx;
	struct file *kick;
	u32 busyloop_timeout;

	/* The device's table pointer; the engine only reads through it. */
	struct vhnet_mem __rcu **memp;

	/* Guest notifications seen by the kick wakeup, folded in by the worker. */
	atomic_t kick_events;

	/* The current pass: its tunables, and the descriptors it walked. */
	struct vhnet_vq_pass pass;
	u32 walked;			/* see VHNET_VQ_DESC_WEIGHT */

	/*
	 * Control-path callers waiting for (or holding) the mutex; a busy-
	 * polling worker lets go as soon as this is non-zero. See
	 * vhnet_vq_lock().
	 */
	atomic_t ctl_waiting;

	struct vhnet_vq_stats stats;
};

/*
 * Take the vq mutex from the control path (ioctls, release, netlink). A
 * worker that busy-polls holds the mutex while it spins; announcing the
 * wait first makes it stop at once instead of at its deadline.
 */
static inline void vhnet_vq_lock(struct vhnet_vq *vq)
{
	atomic_inc(&vq->ctl_waiting);
	mutex_lock(&vq->mutex);
	atomic_dec(&vq->ctl_waiting);
}

/* The same, for a caller taking several queues' mutexes (in index order). */
static inline void vhnet_vq_lock_nested(struct vhnet_vq *vq, unsigned int subclass)
{
	atomic_inc(&vq->ctl_waiting);
	mutex_lock_nested(&vq->mutex, subclass);
	atomic_dec(&vq->ctl_waiting);
}

static inline void vhnet_vq_unlock(struct vhnet_vq *vq)
{
	mutex_unlock(&vq->mutex);
}

int vhnet_vq_map_rings(struct vhnet_vq *vq);

/*
 * Start of a worker pass, with the tunables it runs with: its descriptor
 * budget starts afresh, and the busy-poll budget is the larger of the
 * tunable and the ring's own (any u32 from VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
 * as vhost-net accepts), capped at VHNET_VQ_BUSYPOLL_MAX_US. Returns
 * false if the rings cannot be reached yet (a translation is missing and
 * was asked for, or the queue broke): there is no pass then.
 */
static inline bool vhnet_vq_pass_begin(struct vhnet_vq *vq,
				       const struct vhnet_vq_pass *pass)
{
	lockdep_assert_held(&vq->mutex);
	if (vhnet_vq_map_rings(vq))
		return false;
	vq->pass = *pass;
	vq->pass.busypoll_us = min_t(u32, max(pass->busypoll_us, vq->busyloop_timeout),
				     VHNET_VQ_BUSYPOLL_MAX_US);
	vq->walked = 0;
	return true;
}

/*
 * The one starvation check of a pass: true once it moved @pkts chains or
 * @bytes bytes (the pass's weights) or walked VHNET_VQ_DESC_WEIGHT
 * descriptors; the worker then requeues itself and yields, so one queue
 * cannot starve the other queue, other instances or the host.
 */
static inline bool vhnet_vq_exceeds_weight(const struct vhnet_vq *vq,
					   unsigned int pkts, u64 bytes)
{
	return pkts >= vq->pass.weight_pkts || bytes >= vq->pass.weight_bytes ||
	       vq->walked >= VHNET_VQ_DESC_WEIGHT;
}

static inline bool vhnet_vq_has(const struct vhnet_vq *vq, unsigned int bit)
{
	return vq->features & BIT_ULL(bit);
}

/* Does every guest page the device writes go into the dirty log? */
static inline bool vhnet_vq_logging(const struct vhnet_vq *vq)
{
	return vhnet_vq_has(vq, VHOST_F_LOG_ALL);
}

/* Counter updates: only the queue's worker calls these. */
static inline void vhnet_vq_count(struct vhnet_vq *vq, u64 *ctr, u64 n)
{
	u64_stats_update_begin(&vq->stats.syncp);
	*ctr += n;
	u64_stats_update_end(&vq->stats.syncp);
}

static inline void vhnet_vq_drop(struct vhnet_vq *vq, enum vhnet_drop_reason r)
{
	vhnet_vq_count(vq, &vq->stats.c.drops[r], 1);
}

/* vq.c */
void vhnet_vq_init(struct vhnet_vq *vq, struct vhnet_mem __rcu **memp,
		   struct vhnet_iotlb_chan *chan);
void vhnet_vq_reset(struct vhnet_vq *vq);
bool vhnet_vq_access_ok(const struct vhnet_vq *vq, unsigned int num,
			u64 desc, u64 avail, u64 used);
void vhnet_vq_set_iotlb(struct vhnet_vq *vq, struct vhnet_iotlb *iotlb);
int vhnet_vq_start(struct vhnet_vq *vq);
void vhnet_vq_break(struct vhnet_vq *vq, enum vhnet_broken_reason why);
static inline bool vhnet_vq_running(const struct vhnet_vq *vq)
{
	return vq->state == VHNET_QUEUE_STATE_RUNNING && !vq->stopped;
}

bool vhnet_vq_log_used_ok(const struct vhnet_vq *vq, u64 log_base,
			  bool log_used, u64 log_addr);
bool vhnet_vq_log_access_ok(const struct vhnet_vq *vq, u64 log_base);
int vhnet_vq_log_write(struct vhnet_vq *vq, const struct vhnet_vq_log *log,
		       u64 len);
int vhnet_vq_get_desc(struct vhnet_vq *vq, struct iovec *iov,
		      unsigned int iov_max, unsigned int *out, unsigned int *in,
		      struct vhnet_vq_log *log);
void vhnet_vq_discard(struct vhnet_vq *vq, unsigned int n);
int vhnet_vq_add_used(struct vhnet_vq *vq, const struct vhnet_vq_head *heads,
		      unsigned int n);
int vhnet_vq_add_used_whole(struct vhnet_vq *vq,
			    const struct vhnet_vq_head *heads, unsigned int n);
void vhnet_vq_disable_notify(struct vhnet_vq *vq);
bool vhnet_vq_enable_notify(struct vhnet_vq *vq);
bool vhnet_vq_avail_empty(struct vhnet_vq *vq);
void vhnet_vq_flush_batch(struct vhnet_vq *vq, unsigned int *inbatch, bool final);
void vhnet_vq_pass_end(struct vhnet_vq *vq, unsigned int *inbatch,
		       u64 packets, u64 bytes);
bool vhnet_vq_busypoll(struct vhnet_vq *vq, bool (*more)(void *arg), void *arg);

static inline bool vhnet_vq_has_avail(void *vq)
{
	return !vhnet_vq_avail_empty(vq);
}

#endif /* _VHNET_VQ_H */
