/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels vhnet supports lives here, and
 * nothing else does. The rest of the module tests the capability macros
 * below (set by probes in Kbuild), never LINUX_VERSION_CODE.
 * Force-included by Kbuild.
 */
#ifndef _VHNET_COMPAT_H
#define _VHNET_COMPAT_H

#include <linux/version.h>

/*
 * eventfd_signal() lost its count argument in 6.8. The worker threads are
 * plain kthreads (kthread_use_mm + cgroup_attach_task_all) on every
 * kernel, so vhost_task (6.4+) needs no compat.
 */
#ifdef VHNET_HAVE_EVENTFD_SIGNAL_NOCOUNT
#define vhnet_eventfd_signal(ctx)	eventfd_signal(ctx)
#else
#define vhnet_eventfd_signal(ctx)	eventfd_signal((ctx), 1)
#endif

#endif /* _VHNET_COMPAT_H */
