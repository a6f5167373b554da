// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vhnet.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink-gen.h"

#include <uapi/linux/vhnet.h>

/* Integer value ranges */
static const struct netlink_range_validation vhnet_a_tunables_weight_pkts_range = {
	.min	= 1ULL,
	.max	= 65536ULL,
};

static const struct netlink_range_validation vhnet_a_tunables_weight_bytes_range = {
	.min	= 1500ULL,
	.max	= 67108864ULL,
};

static const struct netlink_range_validation vhnet_a_tunables_busypoll_us_range = {
	.max	= 100000ULL,
};

static const struct netlink_range_validation vhnet_a_tunables_coalesce_us_range = {
	.max	= 100000ULL,
};

/* VHNET_CMD_INSTANCE_GET - do */
const struct nla_policy vhnet_instance_get_nl_policy[VHNET_A_INSTANCE_ID + 1] = {
	[VHNET_A_INSTANCE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* VHNET_CMD_TUNABLES_GET - do */
const struct nla_policy vhnet_tunables_get_nl_policy[VHNET_A_TUNABLES_ID + 1] = {
	[VHNET_A_TUNABLES_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* VHNET_CMD_TUNABLES_SET - do */
const struct nla_policy vhnet_tunables_set_nl_policy[VHNET_A_TUNABLES_WORKER_CPUS + 1] = {
	[VHNET_A_TUNABLES_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[VHNET_A_TUNABLES_TX_BATCH] = NLA_POLICY_RANGE(NLA_U32, 1, 256),
	[VHNET_A_TUNABLES_RX_BATCH] = NLA_POLICY_RANGE(NLA_U32, 1, 256),
	[VHNET_A_TUNABLES_WEIGHT_PKTS] = NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_a_tunables_weight_pkts_range),
	[VHNET_A_TUNABLES_WEIGHT_BYTES] = NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_a_tunables_weight_bytes_range),
	[VHNET_A_TUNABLES_BUSYPOLL_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_a_tunables_busypoll_us_range),
	[VHNET_A_TUNABLES_COALESCE_PKTS] = NLA_POLICY_MAX(NLA_U32, 1024),
	[VHNET_A_TUNABLES_COALESCE_US] = NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_a_tunables_coalesce_us_range),
	[VHNET_A_TUNABLES_WORKER_CPUS] = { .type = NLA_NUL_STRING, .len = 4096, },
};

/* VHNET_CMD_STATS_GET - do */
const struct nla_policy vhnet_stats_get_nl_policy[VHNET_A_STATS_ID + 1] = {
	[VHNET_A_STATS_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* VHNET_CMD_STATS_RESET - do */
const struct nla_policy vhnet_stats_reset_nl_policy[VHNET_A_STATS_ID + 1] = {
	[VHNET_A_STATS_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* Ops table for vhnet */
const struct genl_ops vhnet_nl_ops[5] = {
	{
		.cmd		= VHNET_CMD_INSTANCE_GET,
		.doit		= vhnet_nl_instance_get_doit,
		.dumpit		= vhnet_nl_instance_get_dumpit,
		.policy		= vhnet_instance_get_nl_policy,
		.maxattr	= VHNET_A_INSTANCE_ID,
	},
	{
		.cmd		= VHNET_CMD_TUNABLES_GET,
		.doit		= vhnet_nl_tunables_get_doit,
		.dumpit		= vhnet_nl_tunables_get_dumpit,
		.policy		= vhnet_tunables_get_nl_policy,
		.maxattr	= VHNET_A_TUNABLES_ID,
	},
	{
		.cmd		= VHNET_CMD_TUNABLES_SET,
		.doit		= vhnet_nl_tunables_set_doit,
		.policy		= vhnet_tunables_set_nl_policy,
		.maxattr	= VHNET_A_TUNABLES_WORKER_CPUS,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= VHNET_CMD_STATS_GET,
		.doit		= vhnet_nl_stats_get_doit,
		.dumpit		= vhnet_nl_stats_get_dumpit,
		.policy		= vhnet_stats_get_nl_policy,
		.maxattr	= VHNET_A_STATS_ID,
	},
	{
		.cmd		= VHNET_CMD_STATS_RESET,
		.doit		= vhnet_nl_stats_reset_doit,
		.policy		= vhnet_stats_reset_nl_policy,
		.maxattr	= VHNET_A_STATS_ID,
		.flags		= GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group vhnet_nl_mcgrps[] = {
	[VHNET_NLGRP_MONITOR] = { "monitor", },
};
