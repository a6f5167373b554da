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

/*
 * A genetlink family's pre_doit and post_doit are handed the op as a
 * struct genl_split_ops since 6.2, as a struct genl_ops before; vhnet's
 * read the command from the genetlink header and never look at the op.
 */
#ifdef VHNET_HAVE_GENL_SPLIT_OPS
#define vhnet_genl_op	genl_split_ops
#else
#define vhnet_genl_op	genl_ops
#endif

/*
 * On 6.1 a netlink policy points at its range through a non-const
 * pointer, while the generated policies (netlink-gen.c) keep their ranges
 * const. Nothing writes through it, so cast the const away there.
 */
#ifndef VHNET_HAVE_NLA_CONST_RANGE
#include <net/netlink.h>
#undef NLA_POLICY_FULL_RANGE
#define NLA_POLICY_FULL_RANGE(tp, _range) {				\
	.type = NLA_ENSURE_UINT_OR_BINARY_TYPE(tp),			\
	.validation_type = NLA_VALIDATE_RANGE_PTR,			\
	.range = (struct netlink_range_validation *)(_range),		\
}
#endif

#endif /* _VHNET_COMPAT_H */
