// SPDX-License-Identifier: GPL-2.0
/*
 * vhnet: an out-of-tree vhost-net compatible backend with runtime tuning
 * and per-queue drop accounting.
 */
#include <linux/module.h>
#include <linux/init.h>

#include "vhnet.h"

static int __init vhnet_init(void)
{
	int ret;

	vhnet_debugfs_init();
	ret = vhnet_nl_init();
	if (ret)
		goto err_debugfs;
	/* Last: once the device node exists, instances can appear. */
	ret = vhnet_dev_register();
	if (ret)
		goto err_nl;

	pr_info("loaded\n");
	return 0;

err_nl:
	vhnet_nl_exit();
err_debugfs:
	vhnet_debugfs_exit();
	return ret;
}

static void __exit vhnet_exit(void)
{
	vhnet_dev_unregister();
	vhnet_nl_exit();
	vhnet_debugfs_exit();
	/* Instances freed with call_rcu()/kvfree_rcu() must be gone first. */
	rcu_barrier();
}

module_init(vhnet_init);
module_exit(vhnet_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-net compatible backend with runtime tuning and drop accounting");
MODULE_AUTHOR("The vhnet developers");
MODULE_VERSION("0.1");
