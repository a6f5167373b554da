// SPDX-License-Identifier: GPL-2.0
/*
 * The net layer over the virtqueue engine, as vhost's net.c is over
 * vhost.c: what a queue's backend is (a tun or a macvtap/ipvtap socket,
 * and for RX the tap's ptr_ring), attaching and detaching it, the
 * virtio-net header each side adds, which tap an instance serves, and the
 * prologue every TX and RX pass starts with. dev.c keeps the generic
 * vhost ioctls and calls in here for the backend's half of them; tx.c and
 * rx.c are this layer's data path.
 */
#include <linux/file.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/lockdep.h>
#include <linux/netdevice.h>
#include <linux/poll.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <net/net_namespace.h>

#include "vhnet.h"

/* ---- backend lookup ---- */

static struct socket *vhnet_net_get_socket(int fd, enum vhnet_backend *kind)
{
	struct socket *sock;
	struct file *file;

	*kind = VHNET_BACKEND_NONE;
	if (fd == -1)
		return NULL;
	file = fget(fd);
	if (!file)
		return ERR_PTR(-ENOTSOCK);
	sock = tun_get_socket(file);
	if (!IS_ERR(sock)) {
		*kind = VHNET_BACKEND_TUN;
		return sock;
	}
	sock = tap_get_socket(file);
	if (!IS_ERR(sock)) {
		*kind = VHNET_BACKEND_TAP;
		return sock;
	}
	fput(file);
	/* vhost-net also takes AF_PACKET raw sockets; vhnet does not. */
	return ERR_PTR(-ENOTSOCK);
}

static struct ptr_ring *vhnet_net_get_ptr_ring(struct file *file)
{
	struct ptr_ring *ring;

	ring = tun_get_tx_ring(file);
	if (!IS_ERR(ring))
		return ring;
	ring = tap_get_ptr_ring(file);
	if (!IS_ERR(ring))
		return ring;
	return NULL;
}

/*
 * Forget the tun device the RX worker learned: its backend changed or went.
 * Caller holds the RX vq mutex (or the worker is stopped), so the worker,
 * the only other writer, cannot race.
 */
void vhnet_net_forget_tap(struct vhnet_dev *dev)
{
	struct net *net;

	lockdep_assert(lockdep_is_held(&dev->q[VHNET_VQ_RX].vq.mutex) ||
		       !dev->q[VHNET_VQ_RX].worker.task);
	spin_lock(&dev->tap_lock);
	WRITE_ONCE(dev->tap_ifindex, 0);
	net = dev->tap_net;
	dev->tap_net = NULL;
	spin_unlock(&dev->tap_lock);
	if (net)
		put_net(net);
}

/* ---- attach and detach ---- */

/*
 * VHOST_NET_SET_BACKEND's work on queue @q once dev.c checked the caller:
 * attach the tap socket named by @fd, or detach with fd -1. Caller holds
 * the device mutex; the queue's own mutex is taken here.
 */
long vhnet_net_set_backend(struct vhnet_queue *q, int fd)
{
	struct vhnet_vq *vq = &q->vq;
	struct socket *sock, *old;
	enum vhnet_backend kind;
	long ret;

	lockdep_assert_held(&q->dev->mutex);
	vhnet_vq_lock(vq);
	/* vhost's vhost_vq_access_ok(): the ring, and the log if logging. */
	if (!vhnet_vq_access_ok(vq, vq->num, vq->desc_addr, vq->avail_addr,
				vq->used_addr) ||
	    !vhnet_vq_log_access_ok(vq, vq->log_base)) {
		ret = -EFAULT;
		goto out_vq;
	}
	sock = vhnet_net_get_socket(fd, &kind);
	if (IS_ERR(sock)) {
		ret = PTR_ERR(sock);
		goto out_vq;
	}
	old = q->sock;
	if (sock == old && (!sock || vhnet_vq_running(vq))) {
		/* Nothing changes (fd names the backend we already serve). */
		ret = 0;
		goto out_put;
	}

	if (sock) {
		/*
		 * Refuse a dead tap (a detached queue, a deleted device)
		 * before anything changes: a refused backend must leave a
		 * broken ring broken and its state as it was.
		 */
		if (vfs_poll(sock->file, NULL) & EPOLLERR) {
			ret = -EINVAL;
			goto out_put;
		}
		ret = vhnet_vq_start(vq);
		if (ret)
			goto out_put;
	}
	vhnet_poll_stop(&q->sock_poll);
	vhnet_rx_unproduce(q);
	q->sock = sock;
	q->backend = kind;
	q->rx_ring = NULL;
	if (q->index == VHNET_VQ_RX)
		vhnet_net_forget_tap(q->dev);
	if (!sock) {
		vq->state = VHNET_QUEUE_STATE_STOPPED;
		vq->broken = VHNET_BROKEN_REASON_NONE;
	} else if (q->index == VHNET_VQ_RX) {
		q->rx_ring = vhnet_net_get_ptr_ring(sock->file);
		vhnet_poll_start(&q->sock_poll, sock->file);
	}
	/* Chains may already be waiting: look at the ring now. */
	vhnet_worker_queue(&q->worker);
	vhnet_vq_unlock(vq);
	/* If fd named the same backend, this drops the duplicate reference. */
	if (old)
		sockfd_put(old);
	return 0;

out_put:
	if (sock)
		sockfd_put(sock);
out_vq:
	vhnet_vq_unlock(vq);
	return ret;
}

/*
 * Detach @q for good (reset and release, as vhost_net_stop_vq()): unhook
 * its wakeups, give the RX batch back to the tap, drop the socket and
 * reset the ring. Waits for a pass in flight (the vq mutex).
 */
void vhnet_net_stop_queue(struct vhnet_queue *q)
{
	struct socket *sock;

	lockdep_assert_held(&q->dev->mutex);
	vhnet_vq_lock(&q->vq);
	vhnet_poll_stop(&q->kick_poll);
	vhnet_poll_stop(&q->sock_poll);
	vhnet_rx_unproduce(q);
	sock = q->sock;
	q->sock = NULL;
	q->backend = VHNET_BACKEND_NONE;
	q->rx_ring = NULL;
	q->vhost_hlen = 0;
	q->sock_hlen = 0;
	vhnet_vq_reset(&q->vq);
	vhnet_vq_unlock(&q->vq);
	if (sock)
		sockfd_put(sock);
}

/*
 * The virtio-net header of acked @features, and which side owns it: the
 * tap (IFF_VNET_HDR), or vhnet, adding and stripping it itself when the
 * VMM acked VHOST_NET_F_VIRTIO_NET_HDR. Caller holds the vq mutex.
 */
void vhnet_net_set_features(struct vhnet_queue *q, u64 features)
{
	size_t hdr_len;

	lockdep_assert_held(&q->vq.mutex);
	hdr_len = features & (BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
			      BIT_ULL(VIRTIO_F_VERSION_1)) ?
		  sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		  sizeof(struct virtio_net_hdr);
	if (features & BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR)) {
		q->vhost_hlen = hdr_len;
		q->sock_hlen = 0;
	} else {
		q->vhost_hlen = 0;
		q->sock_hlen = hdr_len;
	}
}

/* ---- which tap, for reports ---- */

/*
 * The tap device of a macvtap/ipvtap backend, asked of its queue. Caller
 * holds rcu_read_lock(); NULL once the link was deleted (tap_del_queues()
 * unpublishes the queue's tap under RCU before the device is freed).
 */
static struct net_device *vhnet_tap_queue_dev(struct socket *sock)
{
	struct tap_queue *tq = container_of(sock, struct tap_queue, sock);
	struct tap_dev *tap = rcu_dereference(tq->tap);

	return tap ? tap->dev : NULL;
}

/*
 * Which tap the instance serves, for reports. Caller holds dev->mutex (so
 * no queue's backend changes). macvtap/ipvtap: asked of the queue now;
 * tun: what the RX worker learned from the tap's packets, looked up in
 * the tap's own netns, which need not be the owner's.
 */
void vhnet_net_fill_tap(struct vhnet_dev *dev, struct vhnet_dev_info *info)
{
	struct net_device *nd = NULL;
	struct net *net;
	int i;

	lockdep_assert_held(&dev->mutex);
	rcu_read_lock();
	for (i = 0; i < VHNET_NVQS && !nd; i++)
		if (dev->q[i].backend == VHNET_BACKEND_TAP)
			nd = vhnet_tap_queue_dev(dev->q[i].sock);
	if (nd) {
		info->tap_ifindex = nd->ifindex;
		strscpy(info->tap_name, nd->name, sizeof(info->tap_name));
	}
	rcu_read_unlock();
	if (nd)
		return;

	spin_lock(&dev->tap_lock);
	info->tap_ifindex = dev->tap_ifindex;
	net = dev->tap_net ? maybe_get_net(dev->tap_net) : NULL;
	spin_unlock(&dev->tap_lock);
	if (!net)
		return;
	rcu_read_lock();
	nd = dev_get_by_index_rcu(net, info->tap_ifindex);
	if (nd)
		strscpy(info->tap_name, nd->name, sizeof(info->tap_name));
	rcu_read_unlock();
	put_net(net);
}

/* ---- the data path's prologue ---- */

/*
 * The prologue of every worker pass, TX and RX alike (vq mutex held): fold
 * in the kicks the wakeup saw, then, if the queue has a backend and runs,
 * begin the pass with the tunables as they are now. Returns the backend's
 * socket, or NULL when there is nothing to do.
 */
struct socket *vhnet_net_pass_begin(struct vhnet_queue *q)
{
	const struct vhnet_tunables *t = &q->dev->tun;
	struct vhnet_vq *vq = &q->vq;
	struct vhnet_vq_pass pass;
	unsigned int kicks;

	lockdep_assert_held(&vq->mutex);
	kicks = atomic_xchg(&vq->kick_events, 0);
	if (kicks)
		vhnet_vq_count(vq, &vq->stats.c.kicks, kicks);
	if (!q->sock || !vhnet_vq_running(vq))
		return NULL;

	/* A batch goes into q->rxq or q->tx_xdp: never more than they hold. */
	if (q->index == VHNET_VQ_RX)
		pass.batch = clamp_t(u32, READ_ONCE(t->rx_batch), 1, VHNET_RX_BATCH_MAX);
	else
		pass.batch = clamp_t(u32, READ_ONCE(t->tx_batch), 1, VHNET_TX_BATCH_MAX);
	pass.weight_pkts = READ_ONCE(t->weight_pkts);
	pass.weight_bytes = READ_ONCE(t->weight_bytes);
	pass.coalesce_pkts = READ_ONCE(t->coalesce_pkts);
	pass.coalesce_us = READ_ONCE(t->coalesce_us);
	pass.busypoll_us = READ_ONCE(t->busypoll_us);
	if (!vhnet_vq_pass_begin(vq, &pass))
		return NULL;
	return q->sock;
}
