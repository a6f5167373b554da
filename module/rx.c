// SPDX-License-Identifier: GPL-2.0
/*
 * RX: tap -> guest. Packets are taken off the tap's ptr_ring in batches
 * (one consumer-lock round trip per batch), sized without touching them,
 * matched to enough guest buffers, and only then handed to the tap's
 * recvmsg() with msg_control pointing at the packet (tun/tap's TUN_MSG_PTR
 * convention, as vhost-net uses), which copies it into guest memory.
 *
 * If the guest has no room, the packet stays in our batch and the queue
 * sleeps until the guest kicks: packets are only dropped when they can
 * never fit, or the tap or guest memory fails.
 */
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/netdevice.h>
#include <linux/ptr_ring.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>
#include <net/net_namespace.h>
#include <net/xdp.h>

#include "vhnet.h"

/* Length of the frame the tap will write for this ring entry. */
static size_t vhnet_rx_frame_len(void *ptr)
{
	struct sk_buff *skb;

	if (tun_is_xdp_frame(ptr))
		return tun_ptr_to_xdp(ptr)->len;
	skb = ptr;
	/* tun/tap insert an accelerated VLAN tag back into the frame. */
	return skb->len + (skb_vlan_tag_present(skb) ? VLAN_HLEN : 0);
}

/*
 * tun: remember which device (and network namespace) the tap is, from the
 * packets it hands us; tun has no exported way to ask. Safe under RCU:
 * tun_detach_all() unpublishes its queues and purges their rings before
 * the device is unregistered, and unregistering waits for RCU readers
 * (synchronize_net()) before the device can be freed. Only on a change,
 * which is rare, does this take tap_lock and a reference on the netns.
 * macvtap/ipvtap are not read this way: their rings keep packets after the
 * link is deleted (tap_del_queues()), so skb->dev may be freed; dev.c asks
 * their queue for the device instead.
 */
static void vhnet_rx_learn_tun(struct vhnet_dev *dev, const struct sk_buff *skb)
{
	struct net_device *nd = skb->dev;
	struct net *net;

	if (!nd)
		return;
	if (READ_ONCE(dev->tap_ifindex) == nd->ifindex &&
	    READ_ONCE(dev->tap_net) == dev_net(nd))
		return;
	net = maybe_get_net(dev_net(nd));
	if (!net)
		return;
	spin_lock(&dev->tap_lock);
	swap(dev->tap_net, net);
	WRITE_ONCE(dev->tap_ifindex, nd->ifindex);
	spin_unlock(&dev->tap_lock);
	if (net)
		put_net(net);
}

static void *vhnet_rx_peek(struct vhnet_queue *q, u32 batch)
{
	if (q->rxq_head == q->rxq_tail) {
		void *first;

		q->rxq_head = 0;
		rcu_read_lock();
		q->rxq_tail = ptr_ring_consume_batched(q->rx_ring, q->rxq, batch);
		first = q->rxq_tail ? q->rxq[0] : NULL;
		if (first && q->backend == VHNET_BACKEND_TUN &&
		    !tun_is_xdp_frame(first))
			vhnet_rx_learn_tun(q->dev, first);
		rcu_read_unlock();
		if (!q->rxq_tail)
			return NULL;
	}
	return q->rxq[q->rxq_head];
}

static bool vhnet_rx_tap_ready(void *arg)
{
	struct vhnet_queue *q = arg;

	return !ptr_ring_empty(q->rx_ring);
}

/*
 * Wakeup filter while waiting for guest buffers. Called by the tap's
 * producer after it queued a packet, under the socket's wait-queue lock
 * (IRQs off, so the plain lock is safe against the tap's softirq side);
 * ptr_ring_full() takes the producer lock, which is never held around a
 * wakeup.
 */
static bool vhnet_rx_tap_full(void *arg)
{
	struct vhnet_queue *q = arg;

	return ptr_ring_full(q->rx_ring);
}

/*
 * Packets vhnet_rx_unproduce() could not hand back, counted on the CPU
 * that ran ptr_ring_unconsume(): its destroy callback has no argument, and
 * it runs synchronously, under the ring's locks, on the caller's CPU.
 */
static DEFINE_PER_CPU(unsigned int, vhnet_rx_unreturned);

static void vhnet_rx_free_unreturned(void *ptr)
{
	__this_cpu_inc(vhnet_rx_unreturned);
	tun_ptr_free(ptr);
}

/*
 * Return packets we took but did not deliver to the tap's ring, so a
 * backend change or reset loses nothing it can keep. A starved guest's
 * tap has usually refilled its ring meanwhile; what no longer fits is
 * freed and counted as a drop (detached), never lost uncounted.
 * Caller holds vq.mutex.
 */
void vhnet_rx_unproduce(struct vhnet_queue *q)
{
	unsigned int held = q->rxq_tail - q->rxq_head;
	unsigned int before, lost;

	lockdep_assert_held(&q->vq.mutex);
	if (q->rx_ring && held) {
		preempt_disable();
		before = __this_cpu_read(vhnet_rx_unreturned);
		ptr_ring_unconsume(q->rx_ring, q->rxq + q->rxq_head, held,
				   vhnet_rx_free_unreturned);
		lost = __this_cpu_read(vhnet_rx_unreturned) - before;
		preempt_enable();
		if (lost)
			vhnet_vq_count(&q->vq, &q->vq.stats.c.drops[VHNET_DROP_DETACHED],
				       lost);
	}
	q->rxq_head = 0;
	q->rxq_tail = 0;
}

/*
 * Collect guest buffers for datalen bytes: up to quota chains (1 without
 * mergeable buffers). On success heads[0..*nheads) and q->iov[0..*niov)
 * describe them, the last head's len trimmed to what the packet uses.
 * -EAGAIN: not enough buffers now; -E2BIG: the packet can never fit;
 * -EIO: the ring broke, or behind a vIOMMU a translation is missing (it
 * was asked for, and the IOTLB update requeues the worker). With @log,
 * the chains' writable ranges are recorded there for the dirty log. On
 * every error every chain taken is given back, the malformed one
 * included, so GET_VRING_BASE (and the next backend) starts at the first
 * buffer the guest did not get back.
 */
static int vhnet_rx_get_bufs(struct vhnet_queue *q, struct vhnet_vq_head *heads,
			     size_t datalen, unsigned int quota,
			     unsigned int *nheads, unsigned int *niov,
			     struct vhnet_vq_log *log)
{
	struct vhnet_vq *vq = &q->vq;
	unsigned int h = 0, seg = 0, out, in;
	size_t left = datalen;
	int head, ret;

	while (left) {
		size_t len;

		if (h >= quota || h >= vq->num || seg >= UIO_MAXIOV) {
			ret = -E2BIG;
			goto discard;
		}
		head = vhnet_vq_get_desc(vq, q->iov + seg, UIO_MAXIOV - seg,
					 &out, &in, log);
		if (head < 0) {
			ret = -EIO;
			goto discard;
		}
		if (head == vq->num) {
			ret = -EAGAIN;
			goto discard;
		}
		if (out) {
			/* An RX chain the device may only write. */
			vhnet_vq_break(vq, VHNET_BROKEN_REASON_BAD_CHAIN);
			h++;	/* give it back too: the ring stops before it */
			ret = -EIO;
			goto discard;
		}
		len = iov_length(q->iov + seg, in);
		heads[h].id = head;
		heads[h].len = min(len, left);
		left -= min(len, left);
		seg += in;
		h++;
	}
	*nheads = h;
	*niov = seg;
	return 0;

discard:
	vhnet_vq_discard(vq, h);
	return ret;
}

/* Copy one packet into the buffers found by vhnet_rx_get_bufs(). */
static int vhnet_rx_one(struct vhnet_queue *q, struct socket *sock, void *ptr,
			unsigned int niov, unsigned int nheads, size_t sock_len,
			size_t hdr_len)
{
	struct virtio_net_hdr_mrg_rxbuf hdr = {
		.hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE,
	};
	struct msghdr msg = { .msg_control = ptr };
	size_t total = sock_len + q->vhost_hlen;
	__le16 nbufs = cpu_to_le16(nheads);
	struct iov_iter fixup;
	int err;

	iov_iter_init(&msg.msg_iter, ITER_DEST, q->iov, niov, total);
	fixup = msg.msg_iter;
	if (q->vhost_hlen)
		iov_iter_advance(&msg.msg_iter, q->vhost_hlen);

	/* Consumes ptr whatever the outcome. */
	err = sock->ops->recvmsg(sock, &msg, sock_len, MSG_DONTWAIT | MSG_TRUNC);
	if (err < 0)
		return err;
	if (err != sock_len)
		return -EMSGSIZE;

	if (q->vhost_hlen) {
		/* The tap gave no header; say "no offloads". */
		memcpy(&hdr.num_buffers, &nbufs, sizeof(nbufs));
		if (copy_to_iter(&hdr, q->vhost_hlen, &fixup) != q->vhost_hlen)
			return -EFAULT;
	} else if (hdr_len == sizeof(hdr)) {
		/*
		 * The tap wrote the header but skips num_buffers; the guest
		 * needs the count (1 without mergeable buffers, per the spec).
		 */
		iov_iter_advance(&fixup, offsetof(typeof(hdr), num_buffers));
		if (copy_to_iter(&nbufs, sizeof(nbufs), &fixup) != sizeof(nbufs))
			return -EFAULT;
	}
	return 0;
}

/*
 * End of a batch: the used entries of its packets go to the guest in one
 * copy, then are published. False when that write broke the ring.
 */
static bool vhnet_rx_flush(struct vhnet_queue *q, unsigned int *nused,
			   unsigned int *inbatch)
{
	bool ok = !vhnet_vq_add_used(&q->vq, q->heads, *nused);

	*nused = 0;
	vhnet_vq_flush_batch(&q->vq, inbatch, false);
	return ok;
}

/* One pass: deliver what the tap has, bounded by weights and guest room. */
void vhnet_rx_work(struct vhnet_worker *w)
{
	struct vhnet_queue *q = container_of(w, struct vhnet_queue, worker);
	struct vhnet_vq *vq = &q->vq;
	struct vhnet_vq_log log = { .ranges = q->rx_log, .max = UIO_MAXIOV };
	struct vhnet_vq_log *logp = NULL;
	unsigned int pkts = 0, inbatch = 0, nused = 0, quota;
	u64 bytes = 0, got = 0, got_bytes = 0;
	bool requeue = false, tap_empty = false, wait_guest = false;
	bool polled = false;
	struct socket *sock;
	size_t hdr_len;

	mutex_lock(&vq->mutex);
	sock = vhnet_net_pass_begin(q);
	if (!sock)
		goto out;
	quota = vhnet_vq_has(vq, VIRTIO_NET_F_MRG_RXBUF) ? UIO_MAXIOV : 1;
	hdr_len = q->vhost_hlen + q->sock_hlen;
	/* Migrating: every buffer filled is marked in the dirty log. */
	if (unlikely(vhnet_vq_logging(vq)))
		logp = &log;

	vhnet_poll_stop(&q->sock_poll);
	vhnet_vq_disable_notify(vq);
	for (;;) {
		unsigned int nheads, niov;
		size_t frame, sock_len;
		void *ptr;
		int r;

		ptr = vhnet_rx_peek(q, vq->pass.batch);
		if (!ptr && vq->pass.busypoll_us && !polled) {
			polled = true;
			if (vhnet_vq_busypoll(vq, vhnet_rx_tap_ready, q))
				continue;
		}
		if (!ptr) {
			tap_empty = true;
			break;
		}
		frame = vhnet_rx_frame_len(ptr);
		sock_len = frame + q->sock_hlen;
		/* Room for this packet's used entries after the batch's. */
		if (nused + min(quota, vq->num) > VHNET_HEADS_MAX &&
		    !vhnet_rx_flush(q, &nused, &inbatch))
			break;
		log.n = 0;
		r = vhnet_rx_get_bufs(q, q->heads + nused, sock_len + q->vhost_hlen,
				      quota, &nheads, &niov, logp);
		if (r == -EAGAIN) {
			/* Wait for the guest, keeping the packet. */
			if (vq->pass.busypoll_us && !polled) {
				polled = true;
				if (vhnet_vq_busypoll(vq, vhnet_vq_has_avail, vq))
					continue;
			}
			if (vhnet_vq_enable_notify(vq)) {
				vhnet_vq_disable_notify(vq);
				/* Bounded: the guest may keep adding too little. */
				if (vhnet_vq_exceeds_weight(vq, ++pkts, bytes)) {
					requeue = true;
					break;
				}
				continue;
			}
			/*
			 * While the tap's queue has room, packets wait there.
			 * Once it is full the tap would drop new ones where
			 * nobody counts them: drop our oldest instead, counted.
			 * The tap takes the producer lock in softirq
			 * (tun_net_xmit, tap_handle_frame): BHs off, or a
			 * softirq on this CPU spins on the lock we hold.
			 */
			if (!ptr_ring_full_bh(q->rx_ring)) {
				wait_guest = true;
				break;
			}
			q->rxq_head++;
			tun_ptr_free(ptr);
			vhnet_vq_drop(vq, VHNET_DROP_NO_RX_BUF);
			goto next;
		}
		if (r == -EIO && vq->state != VHNET_QUEUE_STATE_RUNNING)
			break;
		if (r == -EIO) {
			/*
			 * The ring runs: a translation is missing and was
			 * asked for; the IOTLB update requeues us. Meanwhile
			 * packets wait in the tap as for a guest without
			 * buffers, and once its queue is full the oldest
			 * goes, counted, rather than new ones uncounted.
			 */
			if (!ptr_ring_full_bh(q->rx_ring)) {
				wait_guest = true;
				break;
			}
			q->rxq_head++;
			tun_ptr_free(ptr);
			vhnet_vq_drop(vq, VHNET_DROP_IOTLB_MISS);
			goto next;
		}
		q->rxq_head++;
		if (r == -E2BIG) {
			tun_ptr_free(ptr);
			vhnet_vq_drop(vq, VHNET_DROP_TOO_BIG);
		} else {
			r = vhnet_rx_one(q, sock, ptr, niov, nheads, sock_len,
					 hdr_len);
			/* Written into the guest: marked before it is used. */
			if (!r && logp &&
			    vhnet_vq_log_write(vq, logp, sock_len + q->vhost_hlen)) {
				/* The queue broke, counting this packet. */
				vhnet_vq_discard(vq, nheads);
				break;
			}
			if (r) {
				vhnet_vq_discard(vq, nheads);
				vhnet_vq_drop(vq, r == -EFAULT ? VHNET_DROP_BAD_ADDR :
						  r == -EINVAL ? VHNET_DROP_BAD_HDR :
						  VHNET_DROP_TAP_ERR);
			} else {
				nused += nheads;
				got++;
				got_bytes += frame;
				inbatch++;
				if (inbatch >= vq->pass.batch &&
				    !vhnet_rx_flush(q, &nused, &inbatch))
					break;
			}
		}
next:
		bytes += frame;
		if (vhnet_vq_exceeds_weight(vq, ++pkts, bytes)) {
			requeue = true;
			break;
		}
	}
	if (vhnet_vq_add_used(vq, q->heads, nused))
		inbatch = 0;
	vhnet_vq_pass_end(vq, &inbatch, got, got_bytes);
	/*
	 * Tap drained: hook its wait queue again (this also catches a packet
	 * that arrived since we looked). Waiting for guest buffers: the
	 * guest's kick brings us back; the tap wakes us only once its queue
	 * is full, so packets arriving meanwhile cost no wakeups.
	 */
	if (tap_empty) {
		vhnet_poll_start(&q->sock_poll, sock->file);
	} else if (wait_guest) {
		vhnet_poll_start_filtered(&q->sock_poll, sock->file,
					  vhnet_rx_tap_full, q);
		/*
		 * The ring may have filled between our look and the hook,
		 * and the wakeup for that has come and gone: the tap would
		 * then refuse everything new (its own tx_dropped) instead
		 * of our dropping the oldest, until the guest kicks. Look
		 * again now that the hook is in place (BHs off, as above).
		 */
		if (ptr_ring_full_bh(q->rx_ring))
			requeue = true;
	}
out:
	mutex_unlock(&vq->mutex);
	if (requeue)
		vhnet_worker_queue(w);
}
