/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vhnet.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_VHNET_GEN_H
#define _LINUX_VHNET_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/vhnet.h>

extern const struct nla_policy vhnet_instance_get_nl_policy[VHNET_A_INSTANCE_ID + 1];

extern const struct nla_policy vhnet_tunables_get_nl_policy[VHNET_A_TUNABLES_ID + 1];

extern const struct nla_policy vhnet_tunables_set_nl_policy[VHNET_A_TUNABLES_WORKER_CPUS + 1];

extern const struct nla_policy vhnet_stats_get_nl_policy[VHNET_A_STATS_ID + 1];

extern const struct nla_policy vhnet_stats_reset_nl_policy[VHNET_A_STATS_ID + 1];

/* Ops table for vhnet */
extern const struct genl_ops vhnet_nl_ops[5];

int vhnet_nl_instance_get_doit(struct sk_buff *skb, struct genl_info *info);
int vhnet_nl_instance_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb);
int vhnet_nl_tunables_get_doit(struct sk_buff *skb, struct genl_info *info);
int vhnet_nl_tunables_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb);
int vhnet_nl_tunables_set_doit(struct sk_buff *skb, struct genl_info *info);
int vhnet_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info);
int vhnet_nl_stats_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vhnet_nl_stats_reset_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	VHNET_NLGRP_MONITOR,
};

#endif /* _LINUX_VHNET_GEN_H */
