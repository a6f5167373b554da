// SPDX-License-Identifier: GPL-2.0
/*
 * The device fd's IOTLB message channel, as vhost's (drivers/vhost/vhost.c,
 * vhost_chr_read_iter / write_iter / poll), for guests behind a vIOMMU:
 *
 *   write()  the VMM sends VHOST_IOTLB_UPDATE (an IOVA range, the user
 *            memory behind it, the access the guest allowed) and
 *            VHOST_IOTLB_INVALIDATE, as struct vhost_msg or, once
 *            VHOST_BACKEND_F_IOTLB_MSG_V2 is acked, struct vhost_msg_v2;
 *   read()   the VMM gets VHOST_IOTLB_MISS for an IOVA a queue could not
 *            translate, in the format the backend features chose;
 *   poll()   EPOLLIN while a miss waits to be read.
 *
 * Errnos are vhost's: a short or unknown message EINVAL, an UPDATE of size
 * 0 EINVAL, anything the table refuses (no ACCESS_PLATFORM acked, user
 * memory the VMM cannot own, a range that wraps, a bad access mode) EFAULT;
 * read() with no miss: EAGAIN (O_NONBLOCK), EBADFD once no IOTLB is in
 * use, else it waits.
 */
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vhost.h>

#include "vhnet.h"

/* Take both vq mutexes, in index order (lockdep subclass = index). */
static void vhnet_iotlb_lock_vqs(struct vhnet_dev *dev)
{
	int i;

	for (i = 0; i < VHNET_NVQS; i++)
		vhnet_vq_lock_nested(&dev->q[i].vq, i);
}

static void vhnet_iotlb_unlock_vqs(struct vhnet_dev *dev)
{
	int i;

	for (i = VHNET_NVQS - 1; i >= 0; i--)
		vhnet_vq_unlock(&dev->q[i].vq);
}

/*
 * VIRTIO_F_ACCESS_PLATFORM acked (@on) or not: give the queues the
 * device's IOTLB or take it away. Entries survive a change of other
 * features (QEMU toggles VHOST_F_LOG_ALL around a migration): they are
 * the VMM's answers and still true. Caller holds dev->mutex.
 */
int vhnet_iotlb_set_enabled(struct vhnet_dev *dev, bool on)
{
	struct vhnet_iotlb *iotlb = dev->iotlb;
	int i;

	lockdep_assert_held(&dev->mutex);
	if (on == !!iotlb)
		return 0;
	if (on) {
		iotlb = kzalloc(sizeof(*iotlb), GFP_KERNEL_ACCOUNT);
		if (!iotlb)
			return -ENOMEM;
		vhnet_iotlb_init(iotlb);
	}
	vhnet_iotlb_lock_vqs(dev);
	for (i = 0; i < VHNET_NVQS; i++)
		vhnet_vq_set_iotlb(&dev->q[i].vq, on ? iotlb : NULL);
	vhnet_iotlb_unlock_vqs(dev);
	spin_lock(&dev->chan.lock);
	dev->iotlb = on ? iotlb : NULL;
	spin_unlock(&dev->chan.lock);
	if (!on) {
		vhnet_iotlb_flush(iotlb);
		kfree(iotlb);
	}
	/* Readers waiting for a miss learn that none will come (EBADFD). */
	wake_up_interruptible_poll(&dev->chan.wait, EPOLLIN | EPOLLRDNORM);
	return 0;
}

/*
 * An update answered the misses it covers: forget them and let their
 * queues try again.
 */
static void vhnet_iotlb_answered(struct vhnet_dev *dev, u64 start, u64 last)
{
	bool again[VHNET_NVQS] = {};
	int i;

	spin_lock(&dev->chan.lock);
	for (i = 0; i < VHNET_NVQS; i++) {
		struct vhnet_iotlb_miss *m = &dev->q[i].vq.miss;

		if (m->state != VHNET_IOTLB_MISS_NONE &&
		    m->iova >= start && m->iova <= last) {
			m->state = VHNET_IOTLB_MISS_NONE;
			again[i] = true;
		}
	}
	spin_unlock(&dev->chan.lock);
	for (i = 0; i < VHNET_NVQS; i++)
		if (again[i])
			vhnet_worker_queue(&dev->q[i].worker);
}

/* One UPDATE or INVALIDATE; returns 0 or the reason it was refused. */
static int vhnet_iotlb_process(struct vhnet_dev *dev,
			       const struct vhost_iotlb_msg *msg)
{
	u64 last;
	int ret = 0;

	mutex_lock(&dev->mutex);
	if (!dev->iotlb) {
		ret = -EFAULT;
		goto out;
	}
	switch (msg->type) {
	case VHOST_IOTLB_UPDATE:
		/* size > 0: checked by the caller. */
		if (check_add_overflow(msg->iova, msg->size - 1, &last) ||
		    (u64)(unsigned long)msg->uaddr != msg->uaddr ||
		    !access_ok((void __user *)(unsigned long)msg->uaddr,
			       msg->size)) {
			ret = -EFAULT;
			break;
		}
		/* Waits for passes in flight: none can mix old and new. */
		vhnet_iotlb_lock_vqs(dev);
		ret = vhnet_iotlb_add(dev->iotlb, msg->iova, last, msg->uaddr,
				      msg->perm);
		vhnet_iotlb_unlock_vqs(dev);
		if (!ret)
			vhnet_iotlb_answered(dev, msg->iova, last);
		break;
	case VHOST_IOTLB_INVALIDATE:
		/* As vhost: size 0 names nothing; a range past 2^64 ends there. */
		if (!msg->size)
			break;
		if (check_add_overflow(msg->iova, msg->size - 1, &last))
			last = U64_MAX;
		/*
		 * Once this returns, the VMM may let the guest reuse the
		 * memory: holding both vq mutexes waits for any pass that
		 * translated through the old entries.
		 */
		vhnet_iotlb_lock_vqs(dev);
		vhnet_iotlb_del(dev->iotlb, msg->iova, last);
		vhnet_iotlb_unlock_vqs(dev);
		break;
	default:
		ret = -EINVAL;
		break;
	}
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

ssize_t vhnet_iotlb_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vhnet_dev *dev = iocb->ki_filp->private_data;
	struct vhost_iotlb_msg msg;
	size_t skip, size;
	u32 type;

	if (copy_from_iter(&type, sizeof(type), from) != sizeof(type))
		return -EINVAL;
	switch (type) {
	case VHOST_IOTLB_MSG:
		/* The hole between type and the 8-byte aligned union. */
		skip = offsetof(struct vhost_msg, iotlb) - sizeof(type);
		size = sizeof(struct vhost_msg);
		break;
	case VHOST_IOTLB_MSG_V2:
		/* asid: no VHOST_BACKEND_F_IOTLB_ASID, so ignored as by vhost. */
		skip = offsetof(struct vhost_msg_v2, iotlb) - sizeof(type);
		size = sizeof(struct vhost_msg_v2);
		break;
	default:
		return -EINVAL;
	}
	iov_iter_advance(from, skip);
	if (copy_from_iter(&msg, sizeof(msg), from) != sizeof(msg))
		return -EINVAL;
	if (msg.type == VHOST_IOTLB_UPDATE && !msg.size)
		return -EINVAL;
	if (vhnet_iotlb_process(dev, &msg))
		return -EFAULT;
	return size;
}

/*
 * Take the first miss waiting to be read (marking it sent) into @msg.
 * Returns false if there is none. Caller holds chan.lock.
 */
static bool vhnet_iotlb_take_miss(struct vhnet_dev *dev,
				  struct vhost_iotlb_msg *msg)
{
	int i;

	lockdep_assert_held(&dev->chan.lock);
	for (i = 0; i < VHNET_NVQS; i++) {
		struct vhnet_iotlb_miss *m = &dev->q[i].vq.miss;

		if (m->state != VHNET_IOTLB_MISS_QUEUED)
			continue;
		m->state = VHNET_IOTLB_MISS_SENT;
		msg->type = VHOST_IOTLB_MISS;
		msg->iova = m->iova;
		msg->perm = m->perm;
		return true;
	}
	return false;
}

/* Is there a miss to read, or will none ever come? (wait condition) */
static bool vhnet_iotlb_readable(struct vhnet_dev *dev)
{
	bool ready;
	int i;

	spin_lock(&dev->chan.lock);
	ready = !dev->iotlb;
	for (i = 0; i < VHNET_NVQS; i++)
		ready |= dev->q[i].vq.miss.state == VHNET_IOTLB_MISS_QUEUED;
	spin_unlock(&dev->chan.lock);
	return ready;
}

ssize_t vhnet_iotlb_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct vhnet_dev *dev = file->private_data;
	union {
		struct vhost_msg v1;
		struct vhost_msg_v2 v2;
	} out;
	struct vhost_iotlb_msg *msg;
	bool found, enabled;
	size_t size;

	/* vhost's rule: a buffer too small for a message reads nothing. */
	if (iov_iter_count(to) < sizeof(struct vhost_msg))
		return 0;

	memset(&out, 0, sizeof(out));
	if (READ_ONCE(dev->backend_features) & BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2)) {
		out.v2.type = VHOST_IOTLB_MSG_V2;
		msg = &out.v2.iotlb;
		size = sizeof(out.v2);
	} else {
		out.v1.type = VHOST_IOTLB_MSG;
		msg = &out.v1.iotlb;
		size = sizeof(out.v1);
	}
	for (;;) {
		spin_lock(&dev->chan.lock);
		found = vhnet_iotlb_take_miss(dev, msg);
		enabled = !!dev->iotlb;
		spin_unlock(&dev->chan.lock);
		if (found)
			break;
		if ((file->f_flags & O_NONBLOCK) || (iocb->ki_flags & IOCB_NOWAIT))
			return -EAGAIN;
		if (!enabled)
			return -EBADFD;
		if (wait_event_interruptible(dev->chan.wait,
					     vhnet_iotlb_readable(dev)))
			return -ERESTARTSYS;
	}
	if (copy_to_iter(&out, size, to) != size)
		return -EFAULT;
	return size;
}

__poll_t vhnet_iotlb_poll(struct file *file, poll_table *wait)
{
	struct vhnet_dev *dev = file->private_data;
	__poll_t mask = 0;
	int i;

	poll_wait(file, &dev->chan.wait, wait);
	spin_lock(&dev->chan.lock);
	for (i = 0; i < VHNET_NVQS; i++)
		if (dev->q[i].vq.miss.state == VHNET_IOTLB_MISS_QUEUED)
			mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&dev->chan.lock);
	return mask;
}
