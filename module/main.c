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

	ret = vhnet_dev_register();
	if (ret)
		return ret;

	pr_info("loaded\n");
	return 0;
}

static void __exit vhnet_exit(void)
{
	vhnet_dev_unregister();
}

module_init(vhnet_init);
module_exit(vhnet_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-net compatible backend with runtime tuning and drop accounting");
MODULE_AUTHOR("The vhnet developers");
MODULE_VERSION("0.1");
