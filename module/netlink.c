// SPDX-License-Identifier: GPL-2.0
/*
 * The "vhnet" generic netlink family: instances, tunables and per-queue
 * statistics. The wire format is Documentation/netlink/specs/vhnet.yaml;
 * include/uapi/linux/vhnet.h is generated from it.
 *
 * The policies and the op table are written by hand rather than generated
 * by ynl-gen-c.py: the generator emits split ops (struct genl_split_ops),
 * which 6.1 lacks. They follow the generator's output one to one, and
 * selftests/netlink/spec_policy.py compares the policy the running kernel
 * reports (CTRL_CMD_GETPOLICY) with the spec, so the two cannot drift.
 *
 * Everything here reaches instances through the dev.c control-plane
 * interface in vhnet.h; lookups are scoped to the caller's netns.
 */
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <uapi/linux/vhnet.h>

#include "vhnet.h"

/* Longest worker-cpus cpulist accepted, without the NUL (spec: max-len). */
#define VHNET_NL_CPULIST_MAX	4096

/*
 * Ranges too wide for the policy's inline 16-bit bounds. Not const: 6.1's
 * struct nla_policy points at them through a non-const pointer.
 */
static struct netlink_range_validation vhnet_nl_weight_pkts_range __ro_after_init = {
	.min = 1,
	.max = 65536,
};

static struct netlink_range_validation vhnet_nl_weight_bytes_range __ro_after_init = {
	.min = 1500,
	.max = 67108864,
};

static struct netlink_range_validation vhnet_nl_busypoll_us_range __ro_after_init = {
	.max = 100000,
};

static struct netlink_range_validation vhnet_nl_coalesce_us_range __ro_after_init = {
	.max = 100000,
};

static const struct nla_policy vhnet_nl_instance_get_policy[VHNET_A_INSTANCE_ID + 1] = {
	[VHNET_A_INSTANCE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy vhnet_nl_tunables_get_policy[VHNET_A_TUNABLES_ID + 1] = {
	[VHNET_A_TUNABLES_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy vhnet_nl_tunables_set_policy[VHNET_A_TUNABLES_MAX + 1] = {
	[VHNET_A_TUNABLES_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[VHNET_A_TUNABLES_TX_BATCH] = NLA_POLICY_RANGE(NLA_U32, 1, 256),
	[VHNET_A_TUNABLES_RX_BATCH] = NLA_POLICY_RANGE(NLA_U32, 1, 256),
	[VHNET_A_TUNABLES_WEIGHT_PKTS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_nl_weight_pkts_range),
	[VHNET_A_TUNABLES_WEIGHT_BYTES] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_nl_weight_bytes_range),
	[VHNET_A_TUNABLES_BUSYPOLL_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_nl_busypoll_us_range),
	[VHNET_A_TUNABLES_COALESCE_PKTS] = NLA_POLICY_MAX(NLA_U32, 1024),
	[VHNET_A_TUNABLES_COALESCE_US] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vhnet_nl_coalesce_us_range),
	[VHNET_A_TUNABLES_WORKER_CPUS] = {
		.type = NLA_NUL_STRING,
		.len = VHNET_NL_CPULIST_MAX,
	},
};

static const struct nla_policy vhnet_nl_stats_policy[VHNET_A_STATS_ID + 1] = {
	[VHNET_A_STATS_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/*
 * tunables-set reads an instance's tunables, changes the given ones and
 * writes them back; this keeps two concurrent sets from losing one
 * another's changes. Taken before the instance mutex (inside dev.c).
 */
static DEFINE_MUTEX(vhnet_nl_set_lock);

static struct genl_family vhnet_nl_family;

enum vhnet_nl_mcgrp {
	VHNET_NL_MCGRP_MONITOR,
};

/* ---- message builders ---- */

static u32 vhnet_nl_queue_state(enum vhnet_vq_state state)
{
	switch (state) {
	case VHNET_VQ_RUNNING:
		return VHNET_QUEUE_STATE_RUNNING;
	case VHNET_VQ_BROKEN:
		return VHNET_QUEUE_STATE_BROKEN;
	case VHNET_VQ_STOPPED:
	default:
		return VHNET_QUEUE_STATE_STOPPED;
	}
}

static u32 vhnet_nl_broken_reason(enum vhnet_vq_broken_reason why)
{
	switch (why) {
	case VHNET_BROKEN_BAD_INDEX:
		return VHNET_BROKEN_REASON_BAD_INDEX;
	case VHNET_BROKEN_BAD_CHAIN:
		return VHNET_BROKEN_REASON_BAD_CHAIN;
	case VHNET_BROKEN_BAD_ADDR:
		return VHNET_BROKEN_REASON_BAD_ADDR;
	case VHNET_BROKEN_BAD_ACCESS:
		return VHNET_BROKEN_REASON_BAD_ACCESS;
	case VHNET_BROKEN_NONE:
	default:
		return VHNET_BROKEN_REASON_NONE;
	}
}

/* Length of the cpulist text of @mask, without the NUL. */
static int vhnet_nl_cpulist_len(const struct cpumask *mask)
{
	return snprintf(NULL, 0, "%*pbl", cpumask_pr_args(mask));
}

/* A cpulist attribute, printed straight into the message. */
static int vhnet_nl_put_cpulist(struct sk_buff *skb, int type,
				const struct cpumask *mask)
{
	int len = vhnet_nl_cpulist_len(mask);
	struct nlattr *attr;

	attr = nla_reserve(skb, type, len + 1);
	if (!attr)
		return -EMSGSIZE;
	snprintf(nla_data(attr), len + 1, "%*pbl", cpumask_pr_args(mask));
	return 0;
}

static int vhnet_nl_put_queue_info(struct sk_buff *skb, unsigned int index,
				   const struct vhnet_vq_info *vi)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, VHNET_A_INSTANCE_QUEUE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VHNET_A_QUEUE_INDEX, index) ||
	    nla_put_u32(skb, VHNET_A_QUEUE_RING_SIZE, vi->ring_size) ||
	    nla_put_u32(skb, VHNET_A_QUEUE_LAST_AVAIL_IDX, vi->last_avail_idx) ||
	    nla_put_u32(skb, VHNET_A_QUEUE_USED_IDX, vi->used_idx) ||
	    nla_put_u32(skb, VHNET_A_QUEUE_WORKER_PID, vi->worker_pid) ||
	    nla_put_s32(skb, VHNET_A_QUEUE_WORKER_CPU, vi->worker_cpu) ||
	    nla_put_u32(skb, VHNET_A_QUEUE_STATE, vhnet_nl_queue_state(vi->state)) ||
	    nla_put_u32(skb, VHNET_A_QUEUE_BROKEN_REASON,
			vhnet_nl_broken_reason(vi->broken)) ||
	    vhnet_nl_put_cpulist(skb, VHNET_A_QUEUE_WORKER_CPUS, &vi->worker_cpus)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int vhnet_nl_fill_instance(struct sk_buff *skb, struct vhnet_dev *dev,
				  u32 portid, u32 seq, int flags, u8 cmd)
{
	struct vhnet_dev_info *info;
	unsigned int i;
	void *hdr;
	int err = -EMSGSIZE;

	/* Two cpumasks: too large for the stack with NR_CPUS=8192. */
	info = kmalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	vhnet_dev_fill_info(dev, info);

	hdr = genlmsg_put(skb, portid, seq, &vhnet_nl_family, flags, cmd);
	if (!hdr)
		goto out_free;
	if (nla_put_u32(skb, VHNET_A_INSTANCE_ID, info->id) ||
	    nla_put_u32(skb, VHNET_A_INSTANCE_OWNER_PID, info->owner_pid) ||
	    nla_put_u32(skb, VHNET_A_INSTANCE_TAP_IFINDEX, info->tap_ifindex) ||
	    nla_put_string(skb, VHNET_A_INSTANCE_TAP_NAME, info->tap_name) ||
	    nla_put_u64_64bit(skb, VHNET_A_INSTANCE_FEATURES, info->features,
			      VHNET_A_INSTANCE_PAD))
		goto err_cancel;
	for (i = 0; i < VHNET_NVQS; i++)
		if (vhnet_nl_put_queue_info(skb, i, &info->vq[i]))
			goto err_cancel;
	genlmsg_end(skb, hdr);
	err = 0;
	goto out_free;

err_cancel:
	genlmsg_cancel(skb, hdr);
out_free:
	kfree(info);
	return err;
}

/* Drop reasons (stats.h, numbered from 0) to their attributes in "drops". */
static const u16 vhnet_nl_drop_attr[VHNET_DROP_NR] = {
	[VHNET_DROP_NO_RX_BUF] = VHNET_A_DROPS_NO_RX_BUF,
	[VHNET_DROP_TOO_BIG] = VHNET_A_DROPS_TOO_BIG,
	[VHNET_DROP_TAP_ERR] = VHNET_A_DROPS_TAP_ERR,
	[VHNET_DROP_BAD_CHAIN] = VHNET_A_DROPS_BAD_CHAIN,
	[VHNET_DROP_BAD_ADDR] = VHNET_A_DROPS_BAD_ADDR,
	[VHNET_DROP_BAD_HDR] = VHNET_A_DROPS_BAD_HDR,
	[VHNET_DROP_DETACHED] = VHNET_A_DROPS_DETACHED,
};

static int vhnet_nl_put_u64_nest(struct sk_buff *skb, int type,
				 const u64 *val, const u16 *attr,
				 unsigned int n, int pad)
{
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, type);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		if (nla_put_u64_64bit(skb, attr[i], val[i], pad)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int vhnet_nl_put_queue_stats(struct sk_buff *skb, struct vhnet_dev *dev,
				    unsigned int index)
{
	static const u16 hist_attr[VHNET_BATCH_HIST_NR] = {
		VHNET_A_BATCH_HIST_SIZE_1,
		VHNET_A_BATCH_HIST_SIZE_2_3,
		VHNET_A_BATCH_HIST_SIZE_4_7,
		VHNET_A_BATCH_HIST_SIZE_8_15,
		VHNET_A_BATCH_HIST_SIZE_16_31,
		VHNET_A_BATCH_HIST_SIZE_32_63,
		VHNET_A_BATCH_HIST_SIZE_64_127,
		VHNET_A_BATCH_HIST_SIZE_128_UP,
	};
	struct vhnet_vq_counters c;
	struct nlattr *nest;

	/* A new reason or bucket needs its attribute in the spec first. */
	BUILD_BUG_ON(VHNET_A_DROPS_MAX - VHNET_A_DROPS_PAD != VHNET_DROP_NR);
	BUILD_BUG_ON(VHNET_A_BATCH_HIST_MAX - VHNET_A_BATCH_HIST_PAD !=
		     VHNET_BATCH_HIST_NR);

	vhnet_dev_read_stats(dev, index, &c);

	nest = nla_nest_start(skb, VHNET_A_STATS_QUEUE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VHNET_A_QUEUE_STATS_INDEX, index) ||
	    nla_put_u64_64bit(skb, VHNET_A_QUEUE_STATS_PACKETS, c.packets,
			      VHNET_A_QUEUE_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHNET_A_QUEUE_STATS_BYTES, c.bytes,
			      VHNET_A_QUEUE_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHNET_A_QUEUE_STATS_KICKS, c.kicks,
			      VHNET_A_QUEUE_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHNET_A_QUEUE_STATS_IRQS, c.irqs,
			      VHNET_A_QUEUE_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHNET_A_QUEUE_STATS_IRQS_SUPPRESSED,
			      c.irqs_suppressed, VHNET_A_QUEUE_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHNET_A_QUEUE_STATS_BATCHES, c.batches,
			      VHNET_A_QUEUE_STATS_PAD) ||
	    nla_put_u64_64bit(skb, VHNET_A_QUEUE_STATS_BUSYPOLL_ROUNDS,
			      c.busypoll_rounds, VHNET_A_QUEUE_STATS_PAD) ||
	    vhnet_nl_put_u64_nest(skb, VHNET_A_QUEUE_STATS_BATCH_HIST,
				  c.batch_hist, hist_attr, VHNET_BATCH_HIST_NR,
				  VHNET_A_BATCH_HIST_PAD) ||
	    vhnet_nl_put_u64_nest(skb, VHNET_A_QUEUE_STATS_DROPS, c.drops,
				  vhnet_nl_drop_attr, VHNET_DROP_NR,
				  VHNET_A_DROPS_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int vhnet_nl_fill_stats(struct sk_buff *skb, struct vhnet_dev *dev,
			       u32 id, u32 portid, u32 seq, int flags)
{
	unsigned int i;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &vhnet_nl_family, flags,
			  VHNET_CMD_STATS_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VHNET_A_STATS_ID, id))
		goto err_cancel;
	for (i = 0; i < VHNET_NVQS; i++)
		if (vhnet_nl_put_queue_stats(skb, dev, i))
			goto err_cancel;
	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* @id 0: the module-wide defaults (no id attribute). */
static int vhnet_nl_fill_tunables(struct sk_buff *skb,
				  const struct vhnet_tunables *t, u32 id,
				  u32 portid, u32 seq, int flags)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &vhnet_nl_family, flags,
			  VHNET_CMD_TUNABLES_GET);
	if (!hdr)
		return -EMSGSIZE;
	if ((id && nla_put_u32(skb, VHNET_A_TUNABLES_ID, id)) ||
	    nla_put_u32(skb, VHNET_A_TUNABLES_TX_BATCH, t->tx_batch) ||
	    nla_put_u32(skb, VHNET_A_TUNABLES_RX_BATCH, t->rx_batch) ||
	    nla_put_u32(skb, VHNET_A_TUNABLES_WEIGHT_PKTS, t->weight_pkts) ||
	    nla_put_u32(skb, VHNET_A_TUNABLES_WEIGHT_BYTES, t->weight_bytes) ||
	    nla_put_u32(skb, VHNET_A_TUNABLES_BUSYPOLL_US, t->busypoll_us) ||
	    nla_put_u32(skb, VHNET_A_TUNABLES_COALESCE_PKTS, t->coalesce_pkts) ||
	    nla_put_u32(skb, VHNET_A_TUNABLES_COALESCE_US, t->coalesce_us))
		goto err_cancel;

	if (vhnet_nl_put_cpulist(skb, VHNET_A_TUNABLES_WORKER_CPUS,
				 &t->worker_cpus))
		goto err_cancel;

	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* ---- request helpers ---- */

/*
 * Looks up the instance named by attribute @type in the caller's netns.
 * Returns a referenced instance, or NULL with the refusal explained.
 */
static struct vhnet_dev *vhnet_nl_dev_get(struct genl_info *info, int type)
{
	struct nlattr *attr = info->attrs[type];
	struct vhnet_dev *dev;

	dev = vhnet_dev_get(genl_info_net(info), nla_get_u32(attr));
	if (!dev) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "no instance with this id in this network namespace");
		NL_SET_BAD_ATTR(info->extack, attr);
	}
	return dev;
}

static int vhnet_nl_require_id(struct genl_info *info, int type)
{
	if (GENL_REQ_ATTR_CHECK(info, type)) {
		NL_SET_ERR_MSG_MOD(info->extack, "instance id attribute missing");
		return -EINVAL;
	}
	return 0;
}

/*
 * Dumps walk the instances of the caller's netns in id order.
 * cb->args[0] holds the next id to visit, 0 before the first call and
 * past U32_MAX once the walk is complete.
 */
typedef int (*vhnet_nl_dump_fill_t)(struct sk_buff *skb, struct vhnet_dev *dev,
				    u32 id, struct netlink_callback *cb);

static int vhnet_nl_dump(struct sk_buff *skb, struct netlink_callback *cb,
			 vhnet_nl_dump_fill_t fill)
{
	struct net *net = sock_net(skb->sk);
	unsigned long next = cb->args[0];
	struct vhnet_dev *dev;
	int err = 0;
	u32 id;

	if (next > U32_MAX)
		return 0;
	id = next;
	while ((dev = vhnet_dev_get_next(net, &id))) {
		err = fill(skb, dev, id, cb);
		vhnet_dev_put(dev);
		if (err)
			break;
		next = (unsigned long)id + 1;
		if (next > U32_MAX)
			break;
		id = next;
	}
	cb->args[0] = next;
	/* A full skb ends this round; the next one resumes at @next. */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* ---- instance-get ---- */

static int vhnet_nl_instance_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_dev *dev;
	struct sk_buff *msg;
	int err;

	err = vhnet_nl_require_id(info, VHNET_A_INSTANCE_ID);
	if (err)
		return err;
	dev = vhnet_nl_dev_get(info, VHNET_A_INSTANCE_ID);
	if (!dev)
		return -ENOENT;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out_put;
	}
	err = vhnet_nl_fill_instance(msg, dev, info->snd_portid, info->snd_seq,
				     0, VHNET_CMD_INSTANCE_GET);
	if (err) {
		nlmsg_free(msg);
		goto out_put;
	}
	err = genlmsg_reply(msg, info);
out_put:
	vhnet_dev_put(dev);
	return err;
}

static int vhnet_nl_instance_dump_one(struct sk_buff *skb, struct vhnet_dev *dev,
				      u32 id, struct netlink_callback *cb)
{
	return vhnet_nl_fill_instance(skb, dev, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      VHNET_CMD_INSTANCE_GET);
}

static int vhnet_nl_instance_get_dumpit(struct sk_buff *skb,
					struct netlink_callback *cb)
{
	return vhnet_nl_dump(skb, cb, vhnet_nl_instance_dump_one);
}

/* ---- tunables-get / tunables-set ---- */

static struct sk_buff *vhnet_nl_tunables_msg(const struct vhnet_tunables *t)
{
	return genlmsg_new(NLMSG_DEFAULT_SIZE +
			   nla_total_size(vhnet_nl_cpulist_len(&t->worker_cpus) + 1),
			   GFP_KERNEL);
}

static int vhnet_nl_tunables_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_tunables *t;
	struct vhnet_dev *dev;
	struct sk_buff *msg;
	u32 id = 0;
	int err;

	/* Holds a struct cpumask: too big for the stack with NR_CPUS=8192. */
	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;

	if (info->attrs[VHNET_A_TUNABLES_ID]) {
		dev = vhnet_nl_dev_get(info, VHNET_A_TUNABLES_ID);
		if (!dev) {
			err = -ENOENT;
			goto out_free;
		}
		id = nla_get_u32(info->attrs[VHNET_A_TUNABLES_ID]);
		vhnet_dev_get_tunables(dev, t);
		vhnet_dev_put(dev);
	} else {
		mutex_lock(&vhnet_defaults_lock);
		*t = vhnet_default_tunables;
		mutex_unlock(&vhnet_defaults_lock);
	}

	msg = vhnet_nl_tunables_msg(t);
	if (!msg) {
		err = -ENOMEM;
		goto out_free;
	}
	err = vhnet_nl_fill_tunables(msg, t, id, info->snd_portid,
				     info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		goto out_free;
	}
	err = genlmsg_reply(msg, info);
out_free:
	kfree(t);
	return err;
}

static int vhnet_nl_tunables_dump_one(struct sk_buff *skb, struct vhnet_dev *dev,
				      u32 id, struct netlink_callback *cb)
{
	struct vhnet_tunables *t;
	int err;

	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	vhnet_dev_get_tunables(dev, t);
	err = vhnet_nl_fill_tunables(skb, t, id, NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI);
	kfree(t);
	return err;
}

static int vhnet_nl_tunables_get_dumpit(struct sk_buff *skb,
					struct netlink_callback *cb)
{
	return vhnet_nl_dump(skb, cb, vhnet_nl_tunables_dump_one);
}

static int vhnet_nl_parse_cpus(struct genl_info *info, struct cpumask *mask)
{
	struct nlattr *attr = info->attrs[VHNET_A_TUNABLES_WORKER_CPUS];
	const char *s = nla_data(attr);

	/* NLA_NUL_STRING: the policy guaranteed the NUL within the length. */
	if (!*s) {
		cpumask_clear(mask);
		return 0;
	}
	if (cpulist_parse(s, mask)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "worker-cpus is not a cpulist like \"0-3,5\" of existing CPUs");
		NL_SET_BAD_ATTR(info->extack, attr);
		return -EINVAL;
	}
	if (!cpumask_subset(mask, cpu_possible_mask)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "worker-cpus names a CPU this machine does not have");
		NL_SET_BAD_ATTR(info->extack, attr);
		return -EINVAL;
	}
	if (!cpumask_intersects(mask, cpu_online_mask)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "worker-cpus names no online CPU");
		NL_SET_BAD_ATTR(info->extack, attr);
		return -EINVAL;
	}
	return 0;
}

/* Applies the tunables present in the request to @t; ranges are policy-checked. */
static int vhnet_nl_parse_tunables(struct genl_info *info, struct vhnet_tunables *t)
{
	struct nlattr **tb = info->attrs;

	if (tb[VHNET_A_TUNABLES_TX_BATCH])
		t->tx_batch = nla_get_u32(tb[VHNET_A_TUNABLES_TX_BATCH]);
	if (tb[VHNET_A_TUNABLES_RX_BATCH])
		t->rx_batch = nla_get_u32(tb[VHNET_A_TUNABLES_RX_BATCH]);
	if (tb[VHNET_A_TUNABLES_WEIGHT_PKTS])
		t->weight_pkts = nla_get_u32(tb[VHNET_A_TUNABLES_WEIGHT_PKTS]);
	if (tb[VHNET_A_TUNABLES_WEIGHT_BYTES])
		t->weight_bytes = nla_get_u32(tb[VHNET_A_TUNABLES_WEIGHT_BYTES]);
	if (tb[VHNET_A_TUNABLES_BUSYPOLL_US])
		t->busypoll_us = nla_get_u32(tb[VHNET_A_TUNABLES_BUSYPOLL_US]);
	if (tb[VHNET_A_TUNABLES_COALESCE_PKTS])
		t->coalesce_pkts = nla_get_u32(tb[VHNET_A_TUNABLES_COALESCE_PKTS]);
	if (tb[VHNET_A_TUNABLES_COALESCE_US])
		t->coalesce_us = nla_get_u32(tb[VHNET_A_TUNABLES_COALESCE_US]);
	if (tb[VHNET_A_TUNABLES_WORKER_CPUS])
		return vhnet_nl_parse_cpus(info, &t->worker_cpus);
	return 0;
}

static int vhnet_nl_tunables_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_tunables *t;
	struct vhnet_dev *dev;
	bool any = false;
	int i, err;

	for (i = VHNET_A_TUNABLES_ID + 1; i <= VHNET_A_TUNABLES_MAX; i++)
		any |= !!info->attrs[i];
	if (!any) {
		NL_SET_ERR_MSG_MOD(info->extack, "no tunable given to set");
		return -EINVAL;
	}

	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;

	if (!info->attrs[VHNET_A_TUNABLES_ID]) {
		/* Defaults are module-wide; GENL_ADMIN_PERM made this init-ns admin. */
		mutex_lock(&vhnet_defaults_lock);
		*t = vhnet_default_tunables;
		err = vhnet_nl_parse_tunables(info, t);
		if (!err)
			vhnet_default_tunables = *t;
		mutex_unlock(&vhnet_defaults_lock);
		goto out_free;
	}

	dev = vhnet_nl_dev_get(info, VHNET_A_TUNABLES_ID);
	if (!dev) {
		err = -ENOENT;
		goto out_free;
	}
	mutex_lock(&vhnet_nl_set_lock);
	vhnet_dev_get_tunables(dev, t);
	err = vhnet_nl_parse_tunables(info, t);
	if (!err) {
		err = vhnet_dev_set_tunables(dev, t);
		if (err) {
			NL_SET_ERR_MSG_MOD(info->extack,
					   "worker-cpus has none of the CPUs the instance's owner may run on");
			NL_SET_BAD_ATTR(info->extack,
					info->attrs[VHNET_A_TUNABLES_WORKER_CPUS]);
		}
	}
	mutex_unlock(&vhnet_nl_set_lock);
	vhnet_dev_put(dev);
out_free:
	kfree(t);
	return err;
}

/* ---- stats-get / stats-reset ---- */

static int vhnet_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_dev *dev;
	struct sk_buff *msg;
	int err;

	err = vhnet_nl_require_id(info, VHNET_A_STATS_ID);
	if (err)
		return err;
	dev = vhnet_nl_dev_get(info, VHNET_A_STATS_ID);
	if (!dev)
		return -ENOENT;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out_put;
	}
	err = vhnet_nl_fill_stats(msg, dev,
				  nla_get_u32(info->attrs[VHNET_A_STATS_ID]),
				  info->snd_portid, info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		goto out_put;
	}
	err = genlmsg_reply(msg, info);
out_put:
	vhnet_dev_put(dev);
	return err;
}

static int vhnet_nl_stats_dump_one(struct sk_buff *skb, struct vhnet_dev *dev,
				   u32 id, struct netlink_callback *cb)
{
	return vhnet_nl_fill_stats(skb, dev, id, NETLINK_CB(cb->skb).portid,
				   cb->nlh->nlmsg_seq, NLM_F_MULTI);
}

static int vhnet_nl_stats_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	return vhnet_nl_dump(skb, cb, vhnet_nl_stats_dump_one);
}

static int vhnet_nl_stats_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_dev *dev;
	u32 id = 0;

	if (info->attrs[VHNET_A_STATS_ID]) {
		dev = vhnet_nl_dev_get(info, VHNET_A_STATS_ID);
		if (!dev)
			return -ENOENT;
		vhnet_dev_reset_stats(dev);
		vhnet_dev_put(dev);
		return 0;
	}

	/* Every instance of the caller's netns; id wraps only past U32_MAX. */
	while ((dev = vhnet_dev_get_next(genl_info_net(info), &id))) {
		vhnet_dev_reset_stats(dev);
		vhnet_dev_put(dev);
		if (id == U32_MAX)
			break;
		id++;
	}
	return 0;
}

/* ---- family ---- */

static const struct genl_ops vhnet_nl_ops[] = {
	{
		.cmd = VHNET_CMD_INSTANCE_GET,
		.doit = vhnet_nl_instance_get_doit,
		.dumpit = vhnet_nl_instance_get_dumpit,
		.policy = vhnet_nl_instance_get_policy,
		.maxattr = VHNET_A_INSTANCE_ID,
	},
	{
		.cmd = VHNET_CMD_TUNABLES_GET,
		.doit = vhnet_nl_tunables_get_doit,
		.dumpit = vhnet_nl_tunables_get_dumpit,
		.policy = vhnet_nl_tunables_get_policy,
		.maxattr = VHNET_A_TUNABLES_ID,
	},
	{
		/*
		 * Init-ns CAP_NET_ADMIN (not GENL_UNS_ADMIN_PERM): the knobs
		 * spend host CPU (busy-polling, worker placement) and the
		 * defaults are module-wide, so a netns's own admin must not
		 * own them. Reading stays open to the owner's netns.
		 */
		.cmd = VHNET_CMD_TUNABLES_SET,
		.doit = vhnet_nl_tunables_set_doit,
		.policy = vhnet_nl_tunables_set_policy,
		.maxattr = VHNET_A_TUNABLES_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = VHNET_CMD_STATS_GET,
		.doit = vhnet_nl_stats_get_doit,
		.dumpit = vhnet_nl_stats_get_dumpit,
		.policy = vhnet_nl_stats_policy,
		.maxattr = VHNET_A_STATS_ID,
	},
	{
		.cmd = VHNET_CMD_STATS_RESET,
		.doit = vhnet_nl_stats_reset_doit,
		.policy = vhnet_nl_stats_policy,
		.maxattr = VHNET_A_STATS_ID,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group vhnet_nl_mcgrps[] = {
	[VHNET_NL_MCGRP_MONITOR] = { .name = VHNET_MCGRP_MONITOR, },
};

static struct genl_family vhnet_nl_family __ro_after_init = {
	.name = VHNET_FAMILY_NAME,
	.version = VHNET_FAMILY_VERSION,
	.netnsok = true,
	/* Handlers lock what they touch: vhnet_nl_set_lock, defaults, dev. */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = vhnet_nl_ops,
	.n_ops = ARRAY_SIZE(vhnet_nl_ops),
	/*
	 * resv_start_op left 0: every command is "new", so the core refuses
	 * a non-zero reserved header field and ambiguous nlmsg_flags, and
	 * attributes are strictly validated. (Setting it past the last
	 * command would have exempted them all.)
	 */
	.mcgrps = vhnet_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vhnet_nl_mcgrps),
};

/*
 * Announces an instance to the monitor group of its netns. Called by dev.c
 * in process context after registration and before unregistration, while
 * the instance's netns cannot change (no ioctl runs then).
 */
void vhnet_nl_notify(struct vhnet_dev *dev, bool created)
{
	struct net *net = READ_ONCE(dev->net);
	struct sk_buff *msg;
	u8 cmd = created ? VHNET_CMD_INSTANCE_ADD_NTF : VHNET_CMD_INSTANCE_DEL_NTF;

	if (!genl_has_listeners(&vhnet_nl_family, net, VHNET_NL_MCGRP_MONITOR))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (vhnet_nl_fill_instance(msg, dev, 0, 0, 0, cmd)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_multicast_netns(&vhnet_nl_family, net, msg, 0,
				VHNET_NL_MCGRP_MONITOR, GFP_KERNEL);
}

int vhnet_nl_init(void)
{
	return genl_register_family(&vhnet_nl_family);
}

void vhnet_nl_exit(void)
{
	genl_unregister_family(&vhnet_nl_family);
}
