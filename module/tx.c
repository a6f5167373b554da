// SPDX-License-Identifier: GPL-2.0
/*
 * TX: guest -> tap. Each available chain is one frame (optionally preceded
 * by a virtio-net header); it goes to the tap's socket with sendmsg() over
 * an iov_iter that points straight into guest memory, so the only copy is
 * the one tun/tap makes into its skb.
 */
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/virtio_ring.h>
#include <net/sock.h>

#include "vhnet.h"

enum vhnet_tx_result {
	VHNET_TX_SENT,
	VHNET_TX_DROPPED,
	VHNET_TX_RETRY,		/* tap is out of room: keep the chain, wait */
};

static enum vhnet_tx_result vhnet_tx_one(struct vhnet_queue *q,
					 struct socket *sock, unsigned int out,
					 unsigned int in, size_t *frame)
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

	err = sock->ops->sendmsg(sock, &msg, len);
	if (err == -EAGAIN || err == -ENOMEM || err == -ENOBUFS)
		return VHNET_TX_RETRY;
	if (err < 0) {
		/* tun/tap say EINVAL for a header (or frame) they refuse. */
		vhnet_vq_drop(vq, err == -EINVAL ? VHNET_DROP_BAD_HDR :
				  err == -EFAULT ? VHNET_DROP_BAD_ADDR :
				  VHNET_DROP_TAP_ERR);
		return VHNET_TX_DROPPED;
	}
	*frame = len - q->sock_hlen;
	return VHNET_TX_SENT;
}

/* One pass over the TX ring, bounded by the weights. */
void vhnet_tx_work(struct vhnet_worker *w)
{
	struct vhnet_queue *q = container_of(w, struct vhnet_queue, worker);
	struct vhnet_vq *vq = &q->vq;
	unsigned int pkts = 0, inbatch = 0;
	unsigned int out, in;
	u64 bytes = 0, sent = 0, sent_bytes = 0;
	bool requeue = false, polled = false;
	struct socket *sock;
	int head;

	mutex_lock(&vq->mutex);
	sock = vhnet_net_pass_begin(q);
	if (!sock)
		goto out;

	vhnet_poll_stop(&q->sock_poll);
	vhnet_vq_disable_notify(vq);
	for (;;) {
		struct vhnet_vq_head used;
		enum vhnet_tx_result r;
		size_t frame;

		head = vhnet_vq_get_desc(vq, q->iov, UIO_MAXIOV, &out, &in);
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

		r = vhnet_tx_one(q, sock, out, in, &frame);
		if (r == VHNET_TX_RETRY) {
			vhnet_vq_discard(vq, 1);
			vhnet_poll_start(&q->sock_poll, sock->file);
			break;
		}
		if (r == VHNET_TX_SENT) {
			sent++;
			sent_bytes += frame;
		}
		used.id = head;
		used.len = 0;
		if (vhnet_vq_add_used(vq, &used, 1))
			break;
		bytes += frame;
		inbatch++;
		if (inbatch >= vq->pass.batch)
			vhnet_vq_flush_batch(vq, &inbatch, false);
		if (vhnet_vq_exceeds_weight(vq, ++pkts, bytes)) {
			requeue = true;
			break;
		}
	}
	vhnet_vq_pass_end(vq, &inbatch, sent, sent_bytes);
out:
	mutex_unlock(&vq->mutex);
	if (requeue)
		vhnet_worker_queue(w);
}
