// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vhnet: instance lifetime, the generic vhost ioctls (the backend's half
 * of them is net.c's), the instance registry, the tunables and the
 * interface the control plane (netlink.c, debugfs.c) uses.
 *
 * Every ioctl answers invalid input with the errno the kernel's vhost-net
 * gives for it, so a VMM cannot tell the two apart except where noted
 * (overlapping memory regions, raw packet sockets, GET_VRING_BASE).
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/nsproxy.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/xdp.h>

#include "vhnet.h"

/*
 * What vhnet implements, and therefore offers; nothing else. IN_ORDER: both
 * directions use chains in the order the guest made them available (a
 * chain the tap cannot take yet is put back, not skipped), so the bit
 * costs nothing to honour; TX then gives a batch back in one used entry.
 * LOG_ALL: dirty page logging for live migration (log.h); without it
 * QEMU refuses to migrate a guest using the device. ACCESS_PLATFORM: a
 * guest behind a vIOMMU, its addresses translated through the device
 * IOTLB (iotlb.h, iotlb_msg.c).
 */
#define VHNET_FEATURES	(BIT_ULL(VIRTIO_F_NOTIFY_ON_EMPTY) |		\
			 BIT_ULL(VHOST_F_LOG_ALL) |			\
			 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |		\
			 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |		\
			 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |		\
			 BIT_ULL(VIRTIO_F_ANY_LAYOUT) |			\
			 BIT_ULL(VIRTIO_F_VERSION_1) |			\
			 BIT_ULL(VIRTIO_F_IN_ORDER) |			\
			 BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR) |		\
			 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF))

/* IOTLB messages in struct vhost_msg_v2, as vhost-net offers. */
#define VHNET_BACKEND_FEATURES	BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2)

/* Module-wide defaults that new instances copy at open. */
static struct vhnet_tunables vhnet_default_tunables = {
	.tx_batch = 64,
	.rx_batch = 64,
	.weight_pkts = 256,
	.weight_bytes = 524288,
};

/* Protects vhnet_default_tunables (netlink writes, open reads). */
static DEFINE_MUTEX(vhnet_defaults_lock);

/*
 * Every owned instance runs two kernel threads. vhost's workers are threads
 * of the owner, charged to its RLIMIT_NPROC and killed with it; vhnet's are
 * kthreads, so this module-wide cap is what keeps a member of group kvm
 * from opening instances until the host runs out of threads.
 */
unsigned int vhnet_max_owners = 8192;
module_param_named(max_owners, vhnet_max_owners, uint, 0644);
MODULE_PARM_DESC(max_owners,
		 "Most instances with an owner (two worker threads each) at once; VHOST_SET_OWNER beyond it fails with EAGAIN (default 8192)");

/* Instances with an owner now (between SET_OWNER and reset or release). */
static atomic_t vhnet_owners = ATOMIC_INIT(0);

/* id -> instance; entries hold no reference, lookups take one under RCU. */
static DEFINE_XARRAY_ALLOC1(vhnet_devs);
static u32 vhnet_next_id = 1;

/* ---- instance references ---- */

static void vhnet_dev_free_rcu(struct rcu_head *rcu)
{
	struct vhnet_dev *dev = container_of(rcu, struct vhnet_dev, rcu);

	if (dev->tap_net)
		put_net(dev->tap_net);
	put_net(dev->net);
	kfree(dev);
}

void vhnet_dev_put(struct vhnet_dev *dev)
{
	if (dev && refcount_dec_and_test(&dev->ref))
		call_rcu(&dev->rcu, vhnet_dev_free_rcu);
}

static bool vhnet_dev_in_net(struct vhnet_dev *dev, struct net *net)
{
	return net_eq(READ_ONCE(dev->net), net);
}

struct vhnet_dev *vhnet_dev_get(struct net *net, u32 id)
{
	struct vhnet_dev *dev;

	rcu_read_lock();
	dev = xa_load(&vhnet_devs, id);
	if (dev && (!vhnet_dev_in_net(dev, net) || !refcount_inc_not_zero(&dev->ref)))
		dev = NULL;
	rcu_read_unlock();
	return dev;
}

struct vhnet_dev *vhnet_dev_get_next(struct net *net, u32 *id)
{
	unsigned long index = *id;
	struct vhnet_dev *dev;

	rcu_read_lock();
	xa_for_each_start(&vhnet_devs, index, dev, index) {
		if (vhnet_dev_in_net(dev, net) && refcount_inc_not_zero(&dev->ref)) {
			*id = index;
			rcu_read_unlock();
			return dev;
		}
	}
	rcu_read_unlock();
	return NULL;
}

/* ---- teardown shared by RESET_OWNER and release ---- */

/* Back to the state right after open. Caller holds dev->mutex. */
static void vhnet_dev_cleanup(struct vhnet_dev *dev)
{
	struct vhnet_mem *mem;
	int i;

	lockdep_assert_held(&dev->mutex);

	for (i = 0; i < VHNET_NVQS; i++)
		vhnet_net_stop_queue(&dev->q[i]);
	/* No poll is hooked any more: nothing can wake the threads. */
	for (i = 0; i < VHNET_NVQS; i++)
		vhnet_worker_stop(&dev->q[i].worker);

	mem = rcu_replace_pointer(dev->mem, NULL, lockdep_is_held(&dev->mutex));
	if (mem)
		kvfree_rcu(mem, rcu);
	/* Cannot fail when turning it off. */
	vhnet_iotlb_set_enabled(dev, false);
	if (dev->log_ctx)
		eventfd_ctx_put(dev->log_ctx);
	dev->log_ctx = NULL;
	dev->log_base = 0;
	dev->features = 0;
	dev->backend_features = 0;
	vhnet_net_forget_tap(dev);
	if (dev->mm) {
		mmput(dev->mm);
		atomic_dec(&vhnet_owners);
	}
	dev->mm = NULL;
	dev->owner_pid = 0;
	cpumask_clear(&dev->owner_cpus);
}

/* ---- open / release ---- */

static int vhnet_queue_alloc(struct vhnet_dev *dev, unsigned int index)
{
	struct vhnet_queue *q = &dev->q[index];

	q->dev = dev;
	q->index = index;
	q->iov = kvmalloc_array(UIO_MAXIOV, sizeof(*q->iov), GFP_KERNEL_ACCOUNT);
	q->heads = kvmalloc_array(VHNET_HEADS_MAX, sizeof(*q->heads),
				  GFP_KERNEL_ACCOUNT);
	if (!q->iov || !q->heads)
		return -ENOMEM;
	if (index == VHNET_VQ_RX) {
		q->rxq = kmalloc_array(VHNET_RX_BATCH_MAX, sizeof(*q->rxq),
				       GFP_KERNEL_ACCOUNT);
		q->rx_log = kvmalloc_array(UIO_MAXIOV, sizeof(*q->rx_log),
					   GFP_KERNEL_ACCOUNT);
		if (!q->rxq || !q->rx_log)
			return -ENOMEM;
	} else {
		q->tx_xdp = kmalloc_array(VHNET_TX_BATCH_MAX, sizeof(*q->tx_xdp),
					  GFP_KERNEL_ACCOUNT);
		if (!q->tx_xdp)
			return -ENOMEM;
	}
	vhnet_vq_init(&q->vq, &dev->mem, &dev->chan);
	vhnet_worker_init(&q->worker, index == VHNET_VQ_RX ? vhnet_rx_work :
						       vhnet_tx_work, &dev->mutex);
	vhnet_poll_init(&q->kick_poll, &q->worker, EPOLLIN, &q->vq.kick_events);
	vhnet_poll_init(&q->sock_poll, &q->worker,
			index == VHNET_VQ_RX ? EPOLLIN : EPOLLOUT, NULL);
	return 0;
}

static void vhnet_queue_free(struct vhnet_queue *q)
{
	kvfree(q->iov);
	kvfree(q->heads);
	kfree(q->rxq);
	kvfree(q->rx_log);
	kfree(q->tx_xdp);
	vhnet_tx_page_release(&q->tx_page);
	q->iov = NULL;
	q->heads = NULL;
	q->rxq = NULL;
	q->rx_log = NULL;
	q->tx_xdp = NULL;
}

static int vhnet_open(struct inode *inode, struct file *file)
{
	struct vhnet_dev *dev;
	int ret, i;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return -ENOMEM;
	mutex_init(&dev->mutex);
	spin_lock_init(&dev->tap_lock);
	spin_lock_init(&dev->chan.lock);
	init_waitqueue_head(&dev->chan.wait);
	refcount_set(&dev->ref, 1);
	dev->net = get_net(current->nsproxy->net_ns);
	vhnet_dev_get_tunables(NULL, &dev->tun);

	for (i = 0; i < VHNET_NVQS; i++) {
		ret = vhnet_queue_alloc(dev, i);
		if (ret)
			goto err_queues;
	}

	/* Ids are not reused while the module is loaded (until u32 wraps). */
	ret = xa_alloc_cyclic(&vhnet_devs, &dev->id, dev, xa_limit_32b,
			      &vhnet_next_id, GFP_KERNEL);
	if (ret < 0)
		goto err_queues;
	vhnet_debugfs_add(dev);
	vhnet_nl_notify(dev, true);

	file->private_data = dev;
	return 0;

err_queues:
	for (i = 0; i < VHNET_NVQS; i++)
		vhnet_queue_free(&dev->q[i]);
	vhnet_dev_put(dev);
	return ret;
}

static int vhnet_release(struct inode *inode, struct file *file)
{
	struct vhnet_dev *dev = file->private_data;
	int i;

	vhnet_nl_notify(dev, false);
	xa_erase(&vhnet_devs, dev->id);
	vhnet_debugfs_remove(dev);

	mutex_lock(&dev->mutex);
	vhnet_dev_cleanup(dev);
	for (i = 0; i < VHNET_NVQS; i++)
		vhnet_queue_free(&dev->q[i]);
	mutex_unlock(&dev->mutex);

	vhnet_dev_put(dev);
	return 0;
}

/* ---- owner ---- */

static long vhnet_set_owner(struct vhnet_dev *dev)
{
	static const char * const names[VHNET_NVQS] = { "rx", "tx" };
	char comm[TASK_COMM_LEN];
	struct mm_struct *mm;
	struct net *net;
	int i, ret;

	lockdep_assert_held(&dev->mutex);

	if (dev->mm)
		return -EBUSY;
	if (atomic_inc_return(&vhnet_owners) > READ_ONCE(vhnet_max_owners)) {
		atomic_dec(&vhnet_owners);
		pr_warn_ratelimited("instance limit reached (max_owners=%u): VHOST_SET_OWNER refused\n",
				    READ_ONCE(vhnet_max_owners));
		return -EAGAIN;
	}
	mm = get_task_mm(current);
	if (!mm) {
		atomic_dec(&vhnet_owners);
		return -EINVAL;
	}
	dev->mm = mm;
	dev->owner_pid = task_tgid_nr(current);
	cpumask_copy(&dev->owner_cpus, current->cpus_ptr);

	for (i = 0; i < VHNET_NVQS; i++) {
		snprintf(comm, sizeof(comm), "vhnet-%s-%d", names[i], dev->owner_pid);
		ret = vhnet_worker_start(&dev->q[i].worker, mm, &dev->owner_cpus,
					 &dev->tun.worker_cpus, comm);
		if (ret)
			goto err_workers;
	}

	/* Last, so that a refusal above leaves the instance where it was. */
	net = current->nsproxy->net_ns;
	if (!net_eq(net, dev->net)) {
		struct net *old = dev->net;

		WRITE_ONCE(dev->net, get_net(net));
		put_net(old);
	}
	return 0;

err_workers:
	while (i--)
		vhnet_worker_stop(&dev->q[i].worker);
	mmput(mm);
	dev->mm = NULL;
	dev->owner_pid = 0;
	cpumask_clear(&dev->owner_cpus);
	atomic_dec(&vhnet_owners);
	return ret;
}

/* Like vhost, only the owner's address space may drive an owned instance. */
static long vhnet_check_owner(struct vhnet_dev *dev)
{
	return dev->mm == current->mm ? 0 : -EPERM;
}

/* ---- features ---- */

/*
 * Could every attached ring log all of @mem at its log base? vhost's
 * memory_access_ok(): a ring without a backend is checked when it gets
 * one. @log_all: as if VHOST_F_LOG_ALL were acked already. Caller holds
 * dev->mutex.
 */
static bool vhnet_dev_mem_log_ok(struct vhnet_dev *dev,
				 const struct vhnet_mem *mem, bool log_all)
{
	bool ok = true;
	int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < VHNET_NVQS && ok; i++) {
		struct vhnet_queue *q = &dev->q[i];

		vhnet_vq_lock(&q->vq);
		if (q->sock && (log_all || vhnet_vq_logging(&q->vq)))
			ok = vhnet_mem_log_access_ok(mem, q->vq.log_base);
		vhnet_vq_unlock(&q->vq);
	}
	return ok;
}

static long vhnet_set_features(struct vhnet_dev *dev, u64 features)
{
	const struct vhnet_mem *mem;
	int i, ret;

	mutex_lock(&dev->mutex);
	/*
	 * Logging everything needs a log that covers all of memory, for
	 * every attached ring (vhost: EFAULT; rings without a backend are
	 * checked when they get one).
	 */
	mem = rcu_dereference_protected(dev->mem, lockdep_is_held(&dev->mutex));
	if ((features & BIT_ULL(VHOST_F_LOG_ALL)) &&
	    !vhnet_dev_mem_log_ok(dev, mem, true)) {
		mutex_unlock(&dev->mutex);
		return -EFAULT;
	}
	/* First, so that a failure leaves everything as it was. */
	ret = vhnet_iotlb_set_enabled(dev,
				      features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM));
	if (ret) {
		mutex_unlock(&dev->mutex);
		return ret;
	}
	dev->features = features;
	for (i = 0; i < VHNET_NVQS; i++) {
		struct vhnet_queue *q = &dev->q[i];

		vhnet_vq_lock(&q->vq);
		q->vq.features = features;
		vhnet_net_set_features(q, features);
		vhnet_vq_unlock(&q->vq);
	}
	mutex_unlock(&dev->mutex);
	return 0;
}

/* ---- memory table ---- */

static long vhnet_set_mem_table(struct vhnet_dev *dev,
				struct vhost_memory __user *m)
{
	struct vhnet_mem *new, *old;
	int i;

	lockdep_assert_held(&dev->mutex);

	new = vhnet_mem_from_user(m);
	if (IS_ERR(new))
		return PTR_ERR(new);
	/* While logging, the log must cover the new memory too (vhost: EFAULT). */
	if (!vhnet_dev_mem_log_ok(dev, new, false)) {
		kvfree(new);
		return -EFAULT;
	}
	old = rcu_replace_pointer(dev->mem, new, lockdep_is_held(&dev->mutex));
	/*
	 * A pass that started before the swap may hold iovecs translated
	 * from the old table. Waiting for each queue's mutex waits for that
	 * pass to end, so once we return (and the VMM unmaps the old memory)
	 * no stale translation is used.
	 */
	for (i = 0; i < VHNET_NVQS; i++) {
		vhnet_vq_lock(&dev->q[i].vq);
		vhnet_vq_unlock(&dev->q[i].vq);
	}
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
}

/* ---- backend ---- */

/* VHOST_NET_SET_BACKEND: the owner and the index here, the rest in net.c. */
static long vhnet_set_backend(struct vhnet_dev *dev, unsigned int index, int fd)
{
	long ret;

	mutex_lock(&dev->mutex);
	ret = vhnet_check_owner(dev);
	if (ret)
		goto out;
	if (index >= VHNET_NVQS) {
		ret = -ENOBUFS;
		goto out;
	}
	index = array_index_nospec(index, VHNET_NVQS);
	ret = vhnet_net_set_backend(&dev->q[index], fd);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/* ---- per-vring ioctls ---- */

static long vhnet_vring_set_num(struct vhnet_queue *q, void __user *argp)
{
	struct vhost_vring_state s;

	/* Resizing a ring under a live backend: refused, as by vhost. */
	if (q->sock)
		return -EBUSY;
	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (!s.num || s.num > 0xffff || (s.num & (s.num - 1)))
		return -EINVAL;
	q->vq.num = s.num;
	q->vq.stopped = false;
	return 0;
}

static long vhnet_vring_set_addr(struct vhnet_queue *q, void __user *argp)
{
	struct vhnet_vq *vq = &q->vq;
	struct vhost_vring_addr a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~BIT(VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	if ((u64)(unsigned long)a.desc_user_addr != a.desc_user_addr ||
	    (u64)(unsigned long)a.avail_user_addr != a.avail_user_addr ||
	    (u64)(unsigned long)a.used_user_addr != a.used_user_addr)
		return -EFAULT;
	if ((a.avail_user_addr & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (a.used_user_addr & (VRING_USED_ALIGN_SIZE - 1)) ||
	    (a.log_guest_addr & (VRING_USED_ALIGN_SIZE - 1)))
		return -EINVAL;
	/*
	 * With a backend attached the new ring must be usable right away,
	 * and the log must cover its used ring if that is to be logged.
	 */
	if (q->sock &&
	    (!vhnet_vq_access_ok(vq, vq->num, a.desc_user_addr,
				 a.avail_user_addr, a.used_user_addr) ||
	     !vhnet_vq_log_used_ok(vq, vq->log_base,
				   a.flags & BIT(VHOST_VRING_F_LOG),
				   a.log_guest_addr)))
		return -EINVAL;

	vq->log_used = !!(a.flags & BIT(VHOST_VRING_F_LOG));
	vq->desc_addr = a.desc_user_addr;
	vq->avail_addr = a.avail_user_addr;
	vq->used_addr = a.used_user_addr;
	vq->log_addr = a.log_guest_addr;
	vq->stopped = false;
	return 0;
}

static long vhnet_vring_set_kick(struct vhnet_queue *q, void __user *argp)
{
	struct vhnet_vq *vq = &q->vq;
	struct vhost_vring_file f;
	struct file *kick;
	long ret = 0;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	kick = f.fd == VHOST_FILE_UNBIND ? NULL : eventfd_fget(f.fd);
	if (IS_ERR(kick))
		return PTR_ERR(kick);
	if (kick == vq->kick) {
		if (kick)
			fput(kick);
		return 0;
	}
	vhnet_poll_stop(&q->kick_poll);
	swap(kick, vq->kick);
	if (kick)
		fput(kick);
	if (vq->kick)
		ret = vhnet_poll_start(&q->kick_poll, vq->kick);
	return ret;
}

static long vhnet_vring_set_eventfd(struct eventfd_ctx **slot, void __user *argp)
{
	struct vhost_vring_file f;
	struct eventfd_ctx *ctx;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	ctx = f.fd == VHOST_FILE_UNBIND ? NULL : eventfd_ctx_fdget(f.fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	swap(ctx, *slot);
	if (ctx)
		eventfd_ctx_put(ctx);
	return 0;
}

/* Caller holds dev->mutex and is the owner. */
static long vhnet_vring_ioctl(struct vhnet_dev *dev, unsigned int cmd,
			      void __user *argp)
{
	struct vhost_vring_state s;
	struct vhnet_queue *q;
	struct vhnet_vq *vq;
	long ret = 0;
	u32 idx;

	lockdep_assert_held(&dev->mutex);
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		break;
	default:
		/*
		 * Not a ring ioctl (this includes SET/GET_VRING_ENDIAN, which
		 * Debian's vhost-net, built without cross-endian support,
		 * lacks too): ENOTTY, before touching the argument. vhost-net
		 * reads the ring index first and so answers EFAULT for an
		 * unknown ioctl with a bad pointer; ENOTTY is the right word.
		 */
		return -ENOIOCTLCMD;
	}

	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= VHNET_NVQS)
		return -ENOBUFS;
	idx = array_index_nospec(idx, VHNET_NVQS);
	q = &dev->q[idx];
	vq = &q->vq;

	vhnet_vq_lock(vq);
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		ret = vhnet_vring_set_num(q, argp);
		break;
	case VHOST_SET_VRING_ADDR:
		ret = vhnet_vring_set_addr(q, argp);
		break;
	case VHOST_SET_VRING_BASE:
		if (q->sock) {
			ret = -EBUSY;
			break;
		}
		if (copy_from_user(&s, argp, sizeof(s))) {
			ret = -EFAULT;
			break;
		}
		if (s.num > 0xffff) {
			ret = -EINVAL;
			break;
		}
		vq->last_avail_idx = s.num;
		vq->avail_idx = s.num;
		vq->stopped = false;
		break;
	case VHOST_GET_VRING_BASE:
		/*
		 * Holding vq->mutex means no pass is in flight and all used
		 * entries are published: the index is final. The ring stays
		 * stopped until it is configured or attached again.
		 */
		s.index = idx;
		s.num = vq->last_avail_idx;
		vq->stopped = true;
		if (copy_to_user(argp, &s, sizeof(s)))
			ret = -EFAULT;
		break;
	case VHOST_SET_VRING_KICK:
		ret = vhnet_vring_set_kick(q, argp);
		/* Only a kick that took restarts a ring GET_VRING_BASE stopped. */
		if (!ret)
			vq->stopped = false;
		break;
	case VHOST_SET_VRING_CALL:
		ret = vhnet_vring_set_eventfd(&vq->call_ctx, argp);
		break;
	case VHOST_SET_VRING_ERR:
		ret = vhnet_vring_set_eventfd(&vq->err_ctx, argp);
		break;
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
		if (copy_from_user(&s, argp, sizeof(s))) {
			ret = -EFAULT;
			break;
		}
		vq->busyloop_timeout = s.num;
		break;
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		s.index = idx;
		s.num = vq->busyloop_timeout;
		if (copy_to_user(argp, &s, sizeof(s)))
			ret = -EFAULT;
		break;
	}
	vhnet_vq_unlock(vq);
	return ret;
}

/* ---- the dirty log ---- */

/*
 * VHOST_SET_LOG_BASE: every attached ring must be able to log what it
 * may write at the new base (vhost checks the same, with EFAULT); only
 * then does any ring switch to it, so a refused base changes nothing.
 * Rings without a backend are checked when they get one.
 */
static long vhnet_set_log_base(struct vhnet_dev *dev, u64 base)
{
	int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < VHNET_NVQS; i++) {
		struct vhnet_queue *q = &dev->q[i];
		bool ok;

		vhnet_vq_lock(&q->vq);
		ok = !q->sock || vhnet_vq_log_access_ok(&q->vq, base);
		vhnet_vq_unlock(&q->vq);
		if (!ok)
			return -EFAULT;
	}
	/* Nothing else sets a log base: the checks above still hold. */
	dev->log_base = base;
	for (i = 0; i < VHNET_NVQS; i++) {
		vhnet_vq_lock(&dev->q[i].vq);
		dev->q[i].vq.log_base = base;
		vhnet_vq_unlock(&dev->q[i].vq);
	}
	return 0;
}

/*
 * VHOST_SET_LOG_FD: the rings borrow the device's reference; the old
 * eventfd is put once no ring can signal it any more.
 */
static void vhnet_set_log_ctx(struct vhnet_dev *dev, struct eventfd_ctx *ctx)
{
	int i;

	lockdep_assert_held(&dev->mutex);
	swap(ctx, dev->log_ctx);
	for (i = 0; i < VHNET_NVQS; i++) {
		vhnet_vq_lock(&dev->q[i].vq);
		dev->q[i].vq.log_ctx = dev->log_ctx;
		vhnet_vq_unlock(&dev->q[i].vq);
	}
	if (ctx)
		eventfd_ctx_put(ctx);
}

/* ---- device-wide ioctls that need the owner ---- */

static long vhnet_dev_ioctl(struct vhnet_dev *dev, unsigned int cmd,
			    void __user *argp)
{
	struct eventfd_ctx *ctx;
	u64 p;
	long ret;
	int fd;

	lockdep_assert_held(&dev->mutex);

	switch (cmd) {
	case VHOST_SET_MEM_TABLE:
		return vhnet_set_mem_table(dev, argp);
	case VHOST_SET_LOG_BASE:
		if (copy_from_user(&p, argp, sizeof(p)))
			return -EFAULT;
		if ((u64)(unsigned long)p != p)
			return -EFAULT;
		return vhnet_set_log_base(dev, p);
	case VHOST_SET_LOG_FD:
		ret = get_user(fd, (int __user *)argp);
		if (ret < 0)
			return ret;
		ctx = fd == VHOST_FILE_UNBIND ? NULL : eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		vhnet_set_log_ctx(dev, ctx);
		return 0;
	default:
		return vhnet_vring_ioctl(dev, cmd, argp);
	}
}

static long vhnet_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vhnet_dev *dev = file->private_data;
	void __user *argp = (void __user *)arg;
	u64 __user *featurep = argp;
	struct vhost_vring_file backend;
	u64 features;
	long ret;

	/* Like vhost-net, feature negotiation needs no owner. */
	switch (cmd) {
	case VHOST_GET_FEATURES:
		features = VHNET_FEATURES;
		return copy_to_user(featurep, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_FEATURES:
		if (copy_from_user(&features, featurep, sizeof(features)))
			return -EFAULT;
		if (features & ~VHNET_FEATURES)
			return -EOPNOTSUPP;
		return vhnet_set_features(dev, features);
	case VHOST_GET_BACKEND_FEATURES:
		features = VHNET_BACKEND_FEATURES;
		return copy_to_user(featurep, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&features, featurep, sizeof(features)))
			return -EFAULT;
		if (features & ~VHNET_BACKEND_FEATURES)
			return -EOPNOTSUPP;
		mutex_lock(&dev->mutex);
		dev->backend_features = features;
		mutex_unlock(&dev->mutex);
		return 0;
	case VHOST_NET_SET_BACKEND:
		if (copy_from_user(&backend, argp, sizeof(backend)))
			return -EFAULT;
		return vhnet_set_backend(dev, backend.index, backend.fd);
	}

	mutex_lock(&dev->mutex);
	if (cmd == VHOST_SET_OWNER) {
		ret = vhnet_set_owner(dev);
		goto out;
	}
	ret = vhnet_check_owner(dev);
	if (ret)
		goto out;
	if (cmd == VHOST_RESET_OWNER)
		vhnet_dev_cleanup(dev);
	else
		ret = vhnet_dev_ioctl(dev, cmd, argp);
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/* ---- control-plane interface ---- */

void vhnet_dev_fill_info(struct vhnet_dev *dev, struct vhnet_dev_info *info)
{
	int i;

	memset(info, 0, sizeof(*info));
	mutex_lock(&dev->mutex);
	info->id = dev->id;
	info->owner_pid = dev->owner_pid;
	info->features = dev->features;
	for (i = 0; i < VHNET_NVQS; i++) {
		struct vhnet_queue *q = &dev->q[i];
		struct vhnet_vq_info *vi = &info->vq[i];

		/* Racy snapshot of worker-owned fields; good enough for a report. */
		vi->ring_size = READ_ONCE(q->vq.num);
		vi->last_avail_idx = READ_ONCE(q->vq.last_avail_idx);
		vi->used_idx = READ_ONCE(q->vq.used_published);
		vi->state = READ_ONCE(q->vq.state);
		if (vi->state == VHNET_QUEUE_STATE_RUNNING && READ_ONCE(q->vq.stopped))
			vi->state = VHNET_QUEUE_STATE_STOPPED;
		vi->broken = READ_ONCE(q->vq.broken);
		vi->worker_cpu = -1;
		if (q->worker.task) {
			vi->worker_pid = task_pid_nr(q->worker.task);
			vi->worker_cpu = task_cpu(q->worker.task);
			vhnet_worker_get_cpus(&q->worker, &vi->worker_cpus);
		}
	}
	vhnet_net_fill_tap(dev, info);
	mutex_unlock(&dev->mutex);
}

/*
 * Counters since the last reset. The counters and the reset base are read
 * under the instance mutex that reset holds: a reset between the two reads
 * would otherwise make c - base wrap to about 2^64.
 */
void vhnet_dev_read_stats(struct vhnet_dev *dev, unsigned int vq,
			  struct vhnet_vq_counters *out)
{
	const struct vhnet_vq_stats *s;
	const u64 *base;
	unsigned int start;
	u64 *c;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (vq >= VHNET_NVQS)
		return;
	vq = array_index_nospec(vq, VHNET_NVQS);
	s = &dev->q[vq].vq.stats;
	mutex_lock(&dev->mutex);
	do {
		start = u64_stats_fetch_begin(&s->syncp);
		*out = s->c;
	} while (u64_stats_fetch_retry(&s->syncp, start));

	/* The struct is all u64s: subtract the reset base field by field. */
	BUILD_BUG_ON(sizeof(*out) % sizeof(u64));
	c = (u64 *)out;
	base = (const u64 *)&s->base;
	for (i = 0; i < sizeof(*out) / sizeof(u64); i++)
		c[i] -= base[i];
	mutex_unlock(&dev->mutex);
}

void vhnet_dev_reset_stats(struct vhnet_dev *dev)
{
	struct vhnet_vq_counters now;
	unsigned int start;
	int i;

	mutex_lock(&dev->mutex);
	for (i = 0; i < VHNET_NVQS; i++) {
		struct vhnet_vq_stats *s = &dev->q[i].vq.stats;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			now = s->c;
		} while (u64_stats_fetch_retry(&s->syncp, start));
		s->base = now;
	}
	mutex_unlock(&dev->mutex);
}

/* ---- tunables ---- */

/* The lock that guards @dev's tunables, or the defaults' when @dev is NULL. */
static struct mutex *vhnet_tunables_lock(struct vhnet_dev *dev)
{
	return dev ? &dev->mutex : &vhnet_defaults_lock;
}

/* @dev's tunables, or the module-wide defaults when @dev is NULL. */
void vhnet_dev_get_tunables(struct vhnet_dev *dev, struct vhnet_tunables *t)
{
	struct mutex *lock = vhnet_tunables_lock(dev);

	mutex_lock(lock);
	*t = dev ? dev->tun : vhnet_default_tunables;
	mutex_unlock(lock);
}

/*
 * Whether workers placed on @cpus could run: an empty mask means anywhere;
 * otherwise it must share a CPU with what the owner may use (an instance
 * not yet owned, or the defaults, accept any).
 */
bool vhnet_dev_cpus_usable(struct vhnet_dev *dev, const struct cpumask *cpus)
{
	if (!dev)
		return true;
	lockdep_assert_held(&dev->mutex);
	return !dev->mm || cpumask_empty(cpus) ||
	       cpumask_intersects(cpus, &dev->owner_cpus);
}

/*
 * The one way tunables change, a read-modify-write in the style of
 * ethtool's set requests: @update edits a copy of the current values
 * under the lock that guards them, and the copy is stored only if it
 * returns 0. @dev NULL: the module-wide defaults. Workers read the values
 * without the lock, once per pass (vhnet_net_pass_begin()), so each is
 * stored whole with WRITE_ONCE.
 */
int vhnet_dev_update_tunables(struct vhnet_dev *dev,
			      int (*update)(struct vhnet_dev *dev,
					    struct vhnet_tunables *t, void *arg),
			      void *arg)
{
	struct mutex *lock = vhnet_tunables_lock(dev);
	struct vhnet_tunables *t, *d;
	int err, i;

	/* Holds a struct cpumask: too big for the stack with NR_CPUS=8192. */
	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	mutex_lock(lock);
	d = dev ? &dev->tun : &vhnet_default_tunables;
	*t = *d;
	err = update(dev, t, arg);
	if (err)
		goto out_unlock;
	WRITE_ONCE(d->tx_batch, t->tx_batch);
	WRITE_ONCE(d->rx_batch, t->rx_batch);
	WRITE_ONCE(d->weight_pkts, t->weight_pkts);
	WRITE_ONCE(d->weight_bytes, t->weight_bytes);
	WRITE_ONCE(d->busypoll_us, t->busypoll_us);
	WRITE_ONCE(d->coalesce_pkts, t->coalesce_pkts);
	WRITE_ONCE(d->coalesce_us, t->coalesce_us);
	cpumask_copy(&d->worker_cpus, &t->worker_cpus);
	for (i = 0; dev && i < VHNET_NVQS; i++)
		vhnet_worker_set_cpus(&dev->q[i].worker, &dev->owner_cpus,
				      &d->worker_cpus);
out_unlock:
	mutex_unlock(lock);
	kfree(t);
	return err;
}

/* ---- registration ---- */

static const struct file_operations vhnet_fops = {
	.owner = THIS_MODULE,
	.open = vhnet_open,
	.release = vhnet_release,
	.unlocked_ioctl = vhnet_ioctl,
	.read_iter = vhnet_iotlb_read_iter,
	.write_iter = vhnet_iotlb_write_iter,
	.poll = vhnet_iotlb_poll,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vhnet_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vhnet",
	.fops = &vhnet_fops,
	.mode = 0660,
};

int vhnet_dev_register(void)
{
	return misc_register(&vhnet_misc);
}

void vhnet_dev_unregister(void)
{
	misc_deregister(&vhnet_misc);
}
