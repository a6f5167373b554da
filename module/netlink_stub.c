// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-ins for the generic netlink family (netlink.c) so the data path
 * builds and runs on its own. Kbuild links exactly one of the two.
 */
#include "vhnet.h"

int vhnet_nl_init(void)
{
	return 0;
}

void vhnet_nl_exit(void)
{
}

void vhnet_nl_notify(struct vhnet_dev *dev, bool created)
{
}
