// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vhnet: instance lifetime and the vhost ioctl surface.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/vhost.h>

#include "vhnet.h"

static int vhnet_open(struct inode *inode, struct file *file)
{
	struct vhnet_dev *dev;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return -ENOMEM;
	mutex_init(&dev->mutex);
	file->private_data = dev;
	return 0;
}

static int vhnet_release(struct inode *inode, struct file *file)
{
	struct vhnet_dev *dev = file->private_data;

	if (dev->mm)
		mmdrop(dev->mm);
	mutex_destroy(&dev->mutex);
	kfree(dev);
	return 0;
}

/* Caller must hold dev->mutex. */
static long vhnet_set_owner(struct vhnet_dev *dev)
{
	lockdep_assert_held(&dev->mutex);

	if (dev->mm)
		return -EBUSY;
	mmgrab(current->mm);
	dev->mm = current->mm;
	dev->owner_pid = task_tgid_nr(current);
	return 0;
}

/*
 * Like vhost, only the owner's address space may drive an owned instance:
 * the rings and buffers it names are addresses in that address space.
 */
static long vhnet_check_owner(struct vhnet_dev *dev)
{
	return dev->mm == current->mm ? 0 : -EPERM;
}

static long vhnet_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vhnet_dev *dev = file->private_data;
	long ret;

	mutex_lock(&dev->mutex);
	if (cmd == VHOST_SET_OWNER) {
		ret = vhnet_set_owner(dev);
		goto out;
	}
	ret = vhnet_check_owner(dev);
	if (ret)
		goto out;
	switch (cmd) {
	default:
		ret = -ENOTTY;
		break;
	}
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

static const struct file_operations vhnet_fops = {
	.owner = THIS_MODULE,
	.open = vhnet_open,
	.release = vhnet_release,
	.unlocked_ioctl = vhnet_ioctl,
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
