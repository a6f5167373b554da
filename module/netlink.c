// SPDX-License-Identifier: GPL-2.0
/*
 * The "vhnet" generic netlink family: instances, tunables and per-queue
 * statistics. The wire format is Documentation/netlink/specs/vhnet.yaml;
 * scripts/netlink-gen.sh generates from it include/uapi/linux/vhnet.h and
 * the policies, the op table and the multicast groups (netlink-gen.[ch]).
 * This file owns the family, the handlers the op table names, and the
 * messages they build.
 *
 * Everything here reaches instances through the dev.c control-plane
 * interface in vhnet.h; lookups are scoped to the caller's netns.
 */
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <uapi/linux/vhnet.h>

#include "vhnet.h"

/*
 * For a genetlink-legacy family the generator leaves the family struct to
 * the family's code and keeps the multicast group table static to its
 * unit, so the generated source is compiled as part of this one.
 */
#include "netlink-gen.c"

static struct genl_family vhnet_nl_family;

/* ---- message builders ---- */

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
	    nla_put_u32(skb, VHNET_A_QUEUE_STATE, vi->state) ||
	    nla_put_u32(skb, VHNET_A_QUEUE_BROKEN_REASON, vi->broken) ||
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

/* The counters (counters.h) by their attributes. */
static const struct {
	u16 attr;
	u16 offset;
} vhnet_nl_counters[] = {
#define VHNET_COUNTER(field, ATTR) \
	{ VHNET_A_QUEUE_STATS_##ATTR, offsetof(struct vhnet_vq_counters, field) },
#include "counters.h"
};

static const u16 vhnet_nl_drop_attr[VHNET_DROP_NR] = {
#define VHNET_DROP_REASON(ATTR)	VHNET_A_DROPS_##ATTR,
#include "counters.h"
};

static const u16 vhnet_nl_hist_attr[VHNET_BATCH_HIST_NR] = {
#define VHNET_BATCH_BUCKET(ATTR)	VHNET_A_BATCH_HIST_##ATTR,
#include "counters.h"
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
	struct vhnet_vq_counters c;
	struct nlattr *nest;
	unsigned int i;

	/*
	 * A new counter needs its attribute in the spec (the build fails
	 * without one) and every field of the struct needs its line in
	 * counters.h: the spec has an attribute for each, and the struct
	 * holds nothing else. The scalar counters are the attributes from
	 * packets to busypoll-rounds and every one after drops (later
	 * counters go last, so that attribute numbers never move).
	 */
	BUILD_BUG_ON(VHNET_A_DROPS_MAX - VHNET_A_DROPS_PAD != VHNET_DROP_NR);
	BUILD_BUG_ON(VHNET_A_BATCH_HIST_MAX - VHNET_A_BATCH_HIST_PAD !=
		     VHNET_BATCH_HIST_NR);
	BUILD_BUG_ON(ARRAY_SIZE(vhnet_nl_counters) !=
		     VHNET_A_QUEUE_STATS_BUSYPOLL_ROUNDS - VHNET_A_QUEUE_STATS_PACKETS + 1 +
		     VHNET_A_QUEUE_STATS_MAX - VHNET_A_QUEUE_STATS_DROPS);
	BUILD_BUG_ON(sizeof(c) != sizeof(u64) * (ARRAY_SIZE(vhnet_nl_counters) +
						 VHNET_BATCH_HIST_NR + VHNET_DROP_NR));

	vhnet_dev_read_stats(dev, index, &c);

	nest = nla_nest_start(skb, VHNET_A_STATS_QUEUE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VHNET_A_QUEUE_STATS_INDEX, index))
		goto err_cancel;
	for (i = 0; i < ARRAY_SIZE(vhnet_nl_counters); i++)
		if (nla_put_u64_64bit(skb, vhnet_nl_counters[i].attr,
				      *(u64 *)((u8 *)&c + vhnet_nl_counters[i].offset),
				      VHNET_A_QUEUE_STATS_PAD))
			goto err_cancel;
	if (vhnet_nl_put_u64_nest(skb, VHNET_A_QUEUE_STATS_BATCH_HIST,
				  c.batch_hist, vhnet_nl_hist_attr,
				  VHNET_BATCH_HIST_NR, VHNET_A_BATCH_HIST_PAD) ||
	    vhnet_nl_put_u64_nest(skb, VHNET_A_QUEUE_STATS_DROPS, c.drops,
				  vhnet_nl_drop_attr, VHNET_DROP_NR,
				  VHNET_A_DROPS_PAD))
		goto err_cancel;
	nla_nest_end(skb, nest);
	return 0;

err_cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
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

/* The attribute by which command @cmd names its instance. */
static int vhnet_nl_id_attr(u8 cmd)
{
	switch (cmd) {
	case VHNET_CMD_INSTANCE_GET:
		return VHNET_A_INSTANCE_ID;
	case VHNET_CMD_TUNABLES_GET:
	case VHNET_CMD_TUNABLES_SET:
		return VHNET_A_TUNABLES_ID;
	case VHNET_CMD_STATS_GET:
	case VHNET_CMD_STATS_RESET:
		return VHNET_A_STATS_ID;
	}
	return 0;
}

/* Whether a tunables-set request names any tunable at all. */
static bool vhnet_nl_any_tunable(struct genl_info *info)
{
	int i;

	for (i = VHNET_A_TUNABLES_ID + 1; i <= VHNET_A_TUNABLES_MAX; i++)
		if (info->attrs[i])
			return true;
	return false;
}

/*
 * Every doit that names an instance gets it here, looked up once in the
 * caller's netns and referenced, in info->user_ptr[0]; NULL when the
 * request has no id (the defaults, or every instance). post_doit drops the
 * reference.
 */
static int vhnet_nl_pre_doit(const struct vhnet_genl_op *ops,
			     struct sk_buff *skb, struct genl_info *info)
{
	int type = vhnet_nl_id_attr(info->genlhdr->cmd);
	struct nlattr *attr = type ? info->attrs[type] : NULL;
	struct vhnet_dev *dev;

	info->user_ptr[0] = NULL;
	/* Before the lookup, as the request is wrong whatever it names. */
	if (info->genlhdr->cmd == VHNET_CMD_TUNABLES_SET &&
	    !vhnet_nl_any_tunable(info)) {
		NL_SET_ERR_MSG_MOD(info->extack, "no tunable given to set");
		return -EINVAL;
	}
	if (!attr)
		return 0;
	dev = vhnet_dev_get(genl_info_net(info), nla_get_u32(attr));
	if (!dev) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "no instance with this id in this network namespace");
		NL_SET_BAD_ATTR(info->extack, attr);
		return -ENOENT;
	}
	info->user_ptr[0] = dev;
	return 0;
}

static void vhnet_nl_post_doit(const struct vhnet_genl_op *ops,
			       struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_dev *dev = info->user_ptr[0];

	if (dev)
		vhnet_dev_put(dev);
}

/* The instance of a command that must name one: the id is required. */
static struct vhnet_dev *vhnet_nl_required_dev(struct genl_info *info, int type)
{
	if (GENL_REQ_ATTR_CHECK(info, type)) {
		NL_SET_ERR_MSG_MOD(info->extack, "instance id attribute missing");
		return NULL;
	}
	return info->user_ptr[0];
}

/*
 * What a get command says of one instance, whether a do or a dump asked:
 * one message, built into @skb for instance @dev with id @id.
 */
typedef int (*vhnet_nl_fill_t)(struct sk_buff *skb, struct vhnet_dev *dev,
			       u32 id, u32 portid, u32 seq, int flags);

/* A do request's reply about the instance its attribute @type names. */
static int vhnet_nl_reply(struct genl_info *info, int type, vhnet_nl_fill_t fill)
{
	struct vhnet_dev *dev = vhnet_nl_required_dev(info, type);
	struct sk_buff *msg;
	int err;

	if (!dev)
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = fill(msg, dev, nla_get_u32(info->attrs[type]), info->snd_portid,
		   info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/*
 * Dumps walk the instances of the caller's netns in id order.
 * cb->args[0] holds the next id to visit, 0 before the first call and
 * past U32_MAX once the walk is complete.
 */
static int vhnet_nl_dump(struct sk_buff *skb, struct netlink_callback *cb,
			 vhnet_nl_fill_t fill)
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
		err = fill(skb, dev, id, NETLINK_CB(cb->skb).portid,
			   cb->nlh->nlmsg_seq, NLM_F_MULTI);
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

static int vhnet_nl_instance_fill(struct sk_buff *skb, struct vhnet_dev *dev,
				  u32 id, u32 portid, u32 seq, int flags)
{
	return vhnet_nl_fill_instance(skb, dev, portid, seq, flags,
				      VHNET_CMD_INSTANCE_GET);
}

int vhnet_nl_instance_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vhnet_nl_reply(info, VHNET_A_INSTANCE_ID, vhnet_nl_instance_fill);
}

int vhnet_nl_instance_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return vhnet_nl_dump(skb, cb, vhnet_nl_instance_fill);
}

/* ---- tunables-get / tunables-set ---- */

static struct sk_buff *vhnet_nl_tunables_msg(const struct vhnet_tunables *t)
{
	return genlmsg_new(NLMSG_DEFAULT_SIZE +
			   nla_total_size(vhnet_nl_cpulist_len(&t->worker_cpus) + 1),
			   GFP_KERNEL);
}

int vhnet_nl_tunables_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_dev *dev = info->user_ptr[0];
	struct vhnet_tunables *t;
	struct sk_buff *msg;
	u32 id = 0;
	int err;

	/* Holds a struct cpumask: too big for the stack with NR_CPUS=8192. */
	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;

	/* No id: the module-wide defaults. */
	if (dev)
		id = nla_get_u32(info->attrs[VHNET_A_TUNABLES_ID]);
	vhnet_dev_get_tunables(dev, t);

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

static int vhnet_nl_tunables_fill_dev(struct sk_buff *skb, struct vhnet_dev *dev,
				      u32 id, u32 portid, u32 seq, int flags)
{
	struct vhnet_tunables *t;
	int err;

	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	vhnet_dev_get_tunables(dev, t);
	err = vhnet_nl_fill_tunables(skb, t, id, portid, seq, flags);
	kfree(t);
	return err;
}

int vhnet_nl_tunables_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return vhnet_nl_dump(skb, cb, vhnet_nl_tunables_fill_dev);
}

static int vhnet_nl_parse_cpus(const struct nlattr *attr,
			       struct netlink_ext_ack *extack,
			       struct cpumask *mask)
{
	const char *s = nla_data(attr);

	/* NLA_NUL_STRING: the policy guaranteed the NUL within the length. */
	if (!*s) {
		cpumask_clear(mask);
		return 0;
	}
	if (cpulist_parse(s, mask)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "worker-cpus is not a cpulist like \"0-3,5\" of existing CPUs");
		NL_SET_BAD_ATTR(extack, attr);
		return -EINVAL;
	}
	if (!cpumask_subset(mask, cpu_possible_mask)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "worker-cpus names a CPU this machine does not have");
		NL_SET_BAD_ATTR(extack, attr);
		return -EINVAL;
	}
	if (!cpumask_intersects(mask, cpu_online_mask)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "worker-cpus names no online CPU");
		NL_SET_BAD_ATTR(extack, attr);
		return -EINVAL;
	}
	return 0;
}

/* Sets *@dst from @attr when the request has it (ethnl_update_u32()). */
static void vhnet_nl_update_u32(u32 *dst, const struct nlattr *attr)
{
	if (attr)
		*dst = nla_get_u32(attr);
}

/* A tunables-set request as vhnet_nl_update_tunables() reads it. */
struct vhnet_nl_tunables_req {
	struct nlattr **tb;		/* parsed against the set policy */
	struct netlink_ext_ack *extack;
};

/*
 * The edit tunables-set makes, run by vhnet_dev_update_tunables() on a
 * copy of the current values under their lock: the tunables present in
 * the request (ranges are policy-checked), then the resulting worker-cpus
 * against the CPUs the instance's owner may use (also when the request
 * leaves worker-cpus as it was: the owner may have changed since).
 */
static int vhnet_nl_update_tunables(struct vhnet_dev *dev,
				    struct vhnet_tunables *t, void *arg)
{
	const struct vhnet_nl_tunables_req *req = arg;
	struct nlattr **tb = req->tb;
	struct nlattr *cpus = tb[VHNET_A_TUNABLES_WORKER_CPUS];
	int err;

	vhnet_nl_update_u32(&t->tx_batch, tb[VHNET_A_TUNABLES_TX_BATCH]);
	vhnet_nl_update_u32(&t->rx_batch, tb[VHNET_A_TUNABLES_RX_BATCH]);
	vhnet_nl_update_u32(&t->weight_pkts, tb[VHNET_A_TUNABLES_WEIGHT_PKTS]);
	vhnet_nl_update_u32(&t->weight_bytes, tb[VHNET_A_TUNABLES_WEIGHT_BYTES]);
	vhnet_nl_update_u32(&t->busypoll_us, tb[VHNET_A_TUNABLES_BUSYPOLL_US]);
	vhnet_nl_update_u32(&t->coalesce_pkts, tb[VHNET_A_TUNABLES_COALESCE_PKTS]);
	vhnet_nl_update_u32(&t->coalesce_us, tb[VHNET_A_TUNABLES_COALESCE_US]);
	if (cpus) {
		err = vhnet_nl_parse_cpus(cpus, req->extack, &t->worker_cpus);
		if (err)
			return err;
	}
	if (!vhnet_dev_cpus_usable(dev, &t->worker_cpus)) {
		NL_SET_ERR_MSG_MOD(req->extack,
				   "worker-cpus has none of the CPUs the instance's owner may run on");
		NL_SET_BAD_ATTR(req->extack, cpus);
		return -EINVAL;
	}
	return 0;
}

int vhnet_nl_tunables_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_nl_tunables_req req = {
		.tb = info->attrs,
		.extack = info->extack,
	};

	/*
	 * No id: the module-wide defaults, which GENL_ADMIN_PERM leaves to
	 * the init netns's admin. (pre_doit refused a request with no
	 * tunable.)
	 */
	return vhnet_dev_update_tunables(info->user_ptr[0],
					 vhnet_nl_update_tunables, &req);
}

/*
 * Sets one module-wide default from one tunables attribute, the way a
 * tunables-set request without id carrying just @attr would: the same
 * policy (the spec's ranges), the same edit. For the module parameters
 * (params.c), so that both ways accept and refuse the same values.
 */
int vhnet_nl_set_default(const struct nlattr *attr,
			 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[VHNET_A_TUNABLES_WORKER_CPUS + 1];
	struct vhnet_nl_tunables_req req = { .tb = tb, .extack = extack };
	int err;

	err = nla_parse(tb, VHNET_A_TUNABLES_WORKER_CPUS, attr,
			nla_total_size(nla_len(attr)),
			vhnet_tunables_set_nl_policy, extack);
	if (err)
		return err;
	if (tb[VHNET_A_TUNABLES_ID])
		return -EINVAL;
	return vhnet_dev_update_tunables(NULL, vhnet_nl_update_tunables, &req);
}

/* ---- stats-get / stats-reset ---- */

int vhnet_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return vhnet_nl_reply(info, VHNET_A_STATS_ID, vhnet_nl_fill_stats);
}

int vhnet_nl_stats_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return vhnet_nl_dump(skb, cb, vhnet_nl_fill_stats);
}

int vhnet_nl_stats_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vhnet_dev *dev = info->user_ptr[0];
	u32 id = 0;

	if (dev) {
		vhnet_dev_reset_stats(dev);
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

/*
 * The op table (netlink-gen.c) gives tunables-set and stats-reset
 * GENL_ADMIN_PERM, init-ns CAP_NET_ADMIN rather than GENL_UNS_ADMIN_PERM:
 * the knobs spend host CPU (busy-polling, worker placement) and the
 * defaults are module-wide, so a netns's own admin must not own them.
 * Reading stays open to the owner's netns.
 */
static struct genl_family vhnet_nl_family __ro_after_init = {
	.name = VHNET_FAMILY_NAME,
	.version = VHNET_FAMILY_VERSION,
	.netnsok = true,
	/* Handlers lock what they touch: dev.c's instance and defaults locks. */
	.parallel_ops = true,
	.module = THIS_MODULE,
	.pre_doit = vhnet_nl_pre_doit,
	.post_doit = vhnet_nl_post_doit,
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

	if (!genl_has_listeners(&vhnet_nl_family, net, VHNET_NLGRP_MONITOR))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (vhnet_nl_fill_instance(msg, dev, 0, 0, 0, cmd)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_multicast_netns(&vhnet_nl_family, net, msg, 0,
				VHNET_NLGRP_MONITOR, GFP_KERNEL);
}

int vhnet_nl_init(void)
{
	return genl_register_family(&vhnet_nl_family);
}

void vhnet_nl_exit(void)
{
	genl_unregister_family(&vhnet_nl_family);
}
