// SPDX-License-Identifier: GPL-2.0
/*
 * TX: guest -> tap. Each available chain is one frame (optionally preceded
 * by a virtio-net header).
 *
 * Frames that fit a page go the batched way, as vhost-net's do: copied out
 * of the guest into an XDP buffer in the queue's TX page and
 * handed to the tap up to tx-batch at a time in ONE sendmsg (TUN_MSG_PTR),
 * so tun's per-call cost (device lookup, BH and RCU sections, the indirect
 * call) is paid once per batch instead of once per frame. Everything else
 * (larger than a page, GSO, a header the tap might refuse, a tap with a
 * limited sndbuf) goes the per-frame way: sendmsg() over an iov_iter that
 * points straight into guest memory.
 *
 * The batched path cannot report a frame's failure (tun returns the whole
 * length, macvtap 0), and it skips checks the per-frame path makes (tun
 * refuses a frame for a device that is down, but delivers a batched one).
 * So a frame is batched only once this file has checked everything the tap
 * would check of the frame itself, and only after a frame of the same batch
 * went the per-frame way and the tap took it: the first frame of every
 * batch probes the tap's state. What is left to fail in the tap is counted
 * as sent (Documentation/counters.md lists it).
 */
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/ip.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/sizes.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <net/sock.h>
#include <net/xdp.h>

#include "vhnet.h"

/* Headroom tun's build_skb() wants in front of a frame (vhost-net's too). */
#define VHNET_TX_PAD	(NET_IP_ALIGN + NET_SKB_PAD)

enum vhnet_tx_result {
	VHNET_TX_SENT,
	VHNET_TX_BATCHED,	/* in q->tx_xdp: counted when the batch goes */
	VHNET_TX_DROPPED,
	VHNET_TX_RETRY,		/* tap is out of room: keep the chain, wait */
};

/* One TX pass: the socket, and what it moved so far. */
struct vhnet_tx_pass {
	struct socket *sock;
	bool can_batch;		/* tap's sndbuf unlimited (as QEMU sets it) */
	bool tap_ok;		/* the tap took a per-frame send since the last batch */
	unsigned int nheads;	/* chains done, in q->heads, not yet used */
	u64 sent;
	u64 sent_bytes;
};

/* What a send error of the tap says about the frame. */
static enum vhnet_drop_reason vhnet_tx_err_reason(int err)
{
	/* tun/tap say EINVAL for a header (or frame) they refuse. */
	if (err == -EINVAL)
		return VHNET_DROP_BAD_HDR;
	if (err == -EFAULT)
		return VHNET_DROP_BAD_ADDR;
	return VHNET_DROP_TAP_ERR;
}

/*
 * Hand the batched frames to the tap in one sendmsg. The tap consumes
 * every buffer unless the call fails as a whole (a tun queue detached from
 * its device): then the buffers are ours to free and each frame a drop.
 */
static void vhnet_tx_send_xdp(struct vhnet_queue *q, struct vhnet_tx_pass *tp)
{
	struct tun_msg_ctl ctl = {
		.type = TUN_MSG_PTR,
		.num = q->tx_nxdp,
		.ptr = q->tx_xdp,
	};
	struct msghdr msg = {
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
		.msg_flags = MSG_DONTWAIT,
	};
	unsigned int i;
	int err;

	if (!q->tx_nxdp)
		return;
	err = tp->sock->ops->sendmsg(tp->sock, &msg, 0);
	if (unlikely(err < 0)) {
		for (i = 0; i < q->tx_nxdp; i++)
			page_frag_free(q->tx_xdp[i].data_hard_start);
		vhnet_vq_count(&q->vq, &q->vq.stats.c.drops[vhnet_tx_err_reason(err)],
			       q->tx_nxdp);
	} else {
		tp->sent += q->tx_nxdp;
		tp->sent_bytes += q->tx_xdp_bytes;
	}
	q->tx_nxdp = 0;
	q->tx_xdp_bytes = 0;
}

/* End of a batch: the next one probes the tap again. */
static void vhnet_tx_send_batch(struct vhnet_queue *q, struct vhnet_tx_pass *tp)
{
	vhnet_tx_send_xdp(q, tp);
	tp->tap_ok = false;
}

/*
 * The TX page. Frames are carved from one 32 KiB page, as vhost-net's
 * are, but a page whose frames the tap has all let go of (an XDP program
 * dropped or redirected them, or the skbs built around them were freed)
 * is used again from its start instead of being replaced. A new page
 * costs more than the allocation: with init_on_alloc (Debian's default)
 * every page is cleared, and clearing 32 KiB for every 46 64-byte frames
 * was the largest single cost of batched TX into an XDP drop in vhnet's
 * profile (and in vhost-net's, which replaces its page every time).
 */
#define VHNET_TX_PAGE_SIZE	SZ_32K

void vhnet_tx_page_release(struct vhnet_tx_page *p)
{
	if (p->page)
		__page_frag_cache_drain(p->page, p->bias);
	p->page = NULL;
}

/* @len bytes (a multiple of the cache line) from the page; NULL if none. */
static void *vhnet_tx_page_alloc(struct vhnet_tx_page *p, unsigned int len)
{
	void *buf;

	if (p->page && p->size - p->offset < len) {
		/*
		 * All references ours: no frame is out, and none can come
		 * back to take one (the count only falls while frames are
		 * out). Top the bias up again and start over.
		 */
		if (page_ref_count(p->page) == p->bias) {
			page_ref_add(p->page, p->size + 1 - p->bias);
			p->bias = p->size + 1;
			p->offset = 0;
		} else {
			vhnet_tx_page_release(p);
		}
	}
	if (!p->page) {
		p->size = VHNET_TX_PAGE_SIZE;
		p->page = alloc_pages(GFP_KERNEL | __GFP_COMP | __GFP_NOWARN |
				      __GFP_NORETRY | __GFP_NOMEMALLOC,
				      get_order(VHNET_TX_PAGE_SIZE));
		if (unlikely(!p->page)) {
			p->size = PAGE_SIZE;
			p->page = alloc_page(GFP_KERNEL | __GFP_NOWARN);
			if (!p->page)
				return NULL;
		}
		/* More references than frames can ever take (one byte each). */
		page_ref_add(p->page, p->size);
		p->bias = p->size + 1;
		p->offset = 0;
	}
	buf = page_address(p->page) + p->offset;
	p->offset += len;
	p->bias--;
	return buf;
}

/*
 * Would the tap take this virtio-net header on every kernel vhnet supports?
 * The union of tun_get_user()'s, tap_get_user()'s and
 * virtio_net_hdr_to_skb()'s checks for a linear frame of @frame bytes, and
 * no GSO (those frames are larger than a page anyway). A frame that fails
 * goes the per-frame way, where the tap's verdict is counted exactly.
 */
static bool vhnet_tx_hdr_batchable(const struct virtio_net_hdr *h, size_t frame)
{
	u32 hdr_len = le16_to_cpu((__force __le16)h->hdr_len);

	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		u32 start = le16_to_cpu((__force __le16)h->csum_start);
		u32 end = start + le16_to_cpu((__force __le16)h->csum_offset) +
			  sizeof(__sum16);

		/* 6.12 wants a whole IPv4 header before the checksummed part. */
		if (start < sizeof(struct iphdr) || end > frame)
			return false;
		hdr_len = max(hdr_len, end);
	}
	return hdr_len <= frame && (!hdr_len || hdr_len >= ETH_HLEN);
}

/*
 * Copy the frame at @from (@len bytes: the tap's header, then the frame)
 * into an XDP buffer of the batch. Returns 0 when batched, -ENOSPC when the
 * frame must go the per-frame way (@from untouched then), -EFAULT when guest
 * memory could not be read.
 */
static int vhnet_tx_build_xdp(struct vhnet_queue *q, struct vhnet_tx_pass *tp,
			      const struct iov_iter *from, size_t len)
{
	size_t frame = len - q->sock_hlen;
	struct xdp_buff *xdp;
	unsigned int headroom, pad, buflen;
	struct iov_iter it = *from;
	struct tun_xdp_hdr *hdr;
	void *buf;

	if (!tp->can_batch || !tp->tap_ok || frame < ETH_HLEN)
		return -ENOSPC;
	/* An attached XDP program may grow the frame at the front. */
	headroom = sock_flag(tp->sock->sk, SOCK_XDP) ? XDP_PACKET_HEADROOM : 0;
	pad = SKB_DATA_ALIGN(VHNET_TX_PAD + headroom + q->sock_hlen);
	buflen = SKB_DATA_ALIGN(pad + frame) +
		 SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	if (buflen > PAGE_SIZE)
		return -ENOSPC;
	/*
	 * The page is full: the batch so far goes to the tap first, so that
	 * the page can be used again if the tap is done with its frames.
	 * The batch goes on (the tap was probed at its start).
	 */
	if (q->tx_page.page && q->tx_page.size - q->tx_page.offset < buflen)
		vhnet_tx_send_xdp(q, tp);
	/* Sizes are multiples of the cache line: fragments stay aligned. */
	buf = vhnet_tx_page_alloc(&q->tx_page, buflen);
	if (unlikely(!buf))
		return -ENOSPC;
	hdr = buf;
	/* The header may be the 12-byte mergeable one: it runs into the pad. */
	if (q->sock_hlen) {
		if (copy_from_iter(buf + offsetof(struct tun_xdp_hdr, gso),
				   q->sock_hlen, &it) != q->sock_hlen)
			goto fault;
		if (!vhnet_tx_hdr_batchable(&hdr->gso, frame)) {
			page_frag_free(buf);
			return -ENOSPC;
		}
	} else {
		memset(&hdr->gso, 0, sizeof(hdr->gso));
	}
	if (copy_from_iter(buf + pad, frame, &it) != frame)
		goto fault;
	hdr->buflen = buflen;
	/* Only now: a full page sent the batch so far (tx_nxdp is 0 then). */
	xdp = &q->tx_xdp[q->tx_nxdp];
	xdp_init_buff(xdp, buflen, NULL);
	xdp_prepare_buff(xdp, buf, pad, frame, true);
	q->tx_nxdp++;
	q->tx_xdp_bytes += frame;
	return 0;

fault:
	page_frag_free(buf);
	return -EFAULT;
}

static enum vhnet_tx_result vhnet_tx_one(struct vhnet_queue *q,
					 struct vhnet_tx_pass *tp,
					 unsigned int out, unsigned int in,
					 size_t *frame)
{
	struct vhnet_vq *vq = &q->vq;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	size_t len;
	int err;

	*frame = 0;
	/* A TX chain carries no device-writable buffer. */
	if (in) {
		vhnet_vq_drop(vq, VHNET_DROP_BAD_CHAIN);
		return VHNET_TX_DROPPED;
	}
	len = iov_length(q->iov, out);
	iov_iter_init(&msg.msg_iter, ITER_SOURCE, q->iov, out, len);
	if (q->vhost_hlen) {
		/* We own the header: the tap wants a bare frame. */
		if (len < q->vhost_hlen) {
			vhnet_vq_drop(vq, VHNET_DROP_BAD_HDR);
			return VHNET_TX_DROPPED;
		}
		iov_iter_advance(&msg.msg_iter, q->vhost_hlen);
		len -= q->vhost_hlen;
	}
	if (len <= q->sock_hlen) {
		vhnet_vq_drop(vq, VHNET_DROP_BAD_HDR);
		return VHNET_TX_DROPPED;
	}

	err = vhnet_tx_build_xdp(q, tp, &msg.msg_iter, len);
	if (!err) {
		*frame = len - q->sock_hlen;
		return VHNET_TX_BATCHED;
	}
	if (err == -EFAULT) {
		vhnet_vq_drop(vq, VHNET_DROP_BAD_ADDR);
		return VHNET_TX_DROPPED;
	}

	/* The per-frame way; frames reach the tap in ring order. */
	vhnet_tx_send_batch(q, tp);
	err = tp->sock->ops->sendmsg(tp->sock, &msg, len);
	if (err == -EAGAIN || err == -ENOMEM || err == -ENOBUFS)
		return VHNET_TX_RETRY;
	if (err < 0) {
		vhnet_vq_drop(vq, vhnet_tx_err_reason(err));
		return VHNET_TX_DROPPED;
	}
	*frame = len - q->sock_hlen;
	tp->sent++;
	tp->sent_bytes += *frame;
	tp->tap_ok = true;
	return VHNET_TX_SENT;
}

/*
 * End of a batch: the tap gets the batched frames, then the guest gets all
 * the batch's chains back in one used-ring write (one entry with
 * VIRTIO_F_IN_ORDER). False when that write broke the ring.
 */
static bool vhnet_tx_flush(struct vhnet_queue *q, struct vhnet_tx_pass *tp,
			   bool final)
{
	struct vhnet_vq *vq = &q->vq;
	unsigned int n = tp->nheads;
	bool ok;

	vhnet_tx_send_batch(q, tp);
	tp->nheads = 0;
	ok = !vhnet_vq_add_used_whole(vq, q->heads, n);
	if (!ok)
		n = 0;
	if (final)
		vhnet_vq_pass_end(vq, &n, tp->sent, tp->sent_bytes);
	else
		vhnet_vq_flush_batch(vq, &n, false);
	return ok;
}

/* One pass over the TX ring, bounded by the weights. */
void vhnet_tx_work(struct vhnet_worker *w)
{
	struct vhnet_queue *q = container_of(w, struct vhnet_queue, worker);
	struct vhnet_vq *vq = &q->vq;
	struct vhnet_tx_pass tp = {};
	unsigned int pkts = 0;
	unsigned int out, in;
	bool requeue = false, polled = false;
	u64 bytes = 0;
	int head;

	mutex_lock(&vq->mutex);
	tp.sock = vhnet_net_pass_begin(q);
	if (!tp.sock)
		goto out;
	tp.can_batch = READ_ONCE(tp.sock->sk->sk_sndbuf) == INT_MAX;

	vhnet_poll_stop(&q->sock_poll);
	vhnet_vq_disable_notify(vq);
	for (;;) {
		enum vhnet_tx_result r;
		size_t frame;

		head = vhnet_vq_get_desc(vq, q->iov, UIO_MAXIOV, &out, &in, NULL);
		if (head < 0)
			break;
		if (head == vq->num) {
			if (vq->pass.busypoll_us && !polled) {
				polled = true;
				if (vhnet_vq_busypoll(vq, vhnet_vq_has_avail, vq))
					continue;
			}
			if (vhnet_vq_enable_notify(vq)) {
				vhnet_vq_disable_notify(vq);
				continue;
			}
			break;
		}

		r = vhnet_tx_one(q, &tp, out, in, &frame);
		if (r == VHNET_TX_RETRY) {
			vhnet_vq_discard(vq, 1);
			vhnet_poll_start(&q->sock_poll, tp.sock->file);
			break;
		}
		q->heads[tp.nheads].id = head;
		q->heads[tp.nheads].len = 0;
		tp.nheads++;
		bytes += frame;
		if (tp.nheads >= vq->pass.batch && !vhnet_tx_flush(q, &tp, false))
			break;
		if (vhnet_vq_exceeds_weight(vq, ++pkts, bytes)) {
			requeue = true;
			break;
		}
	}
	vhnet_tx_flush(q, &tp, true);
out:
	mutex_unlock(&vq->mutex);
	if (requeue)
		vhnet_worker_queue(w);
}
