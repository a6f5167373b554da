/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhnet: one instance per open of /dev/vhnet, serving one virtio-net queue
 * pair (virtqueue 0 receives into the guest, virtqueue 1 transmits from it).
 */
#ifndef _VHNET_H
#define _VHNET_H

#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/list.h>

struct mm_struct;

struct vhnet_dev {
	/*
	 * Serialises every ioctl on this instance and its teardown.
	 * Protects: mm, owner_pid.
	 */
	struct mutex mutex;
	/* The owner's address space; NULL until VHOST_SET_OWNER. */
	struct mm_struct *mm;
	pid_t owner_pid;
};

/* dev.c */
int vhnet_dev_register(void);
void vhnet_dev_unregister(void);

#endif /* _VHNET_H */
