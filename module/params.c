// SPDX-License-Identifier: GPL-2.0
/*
 * The module-wide defaults as module parameters, so that tuning survives a
 * reload or a reboot ("options vhnet tx_batch=128" in modprobe.d) and can
 * be read and written in /sys/module/vhnet/parameters.
 *
 * Each parameter is the tunables-set request without id in another form:
 * a value is turned into that request's attribute and goes through its
 * policy (the netlink spec's ranges) and its edit (netlink.c), so both
 * ways accept and refuse the same values and store them in the same
 * place, which vhnetctl show default reads. A refused value changes
 * nothing: the write fails with EINVAL (at load, the load fails) and the
 * kernel log says why.
 */
#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/netlink.h>
#include <uapi/linux/vhnet.h>

#include "vhnet.h"

struct vhnet_default_param {
	int attr;		/* VHNET_A_TUNABLES_* */
	size_t offset;		/* of the value in struct vhnet_tunables */
};

/* An attribute of type @type holding @len bytes of @data, or NULL. */
static struct nlattr *vhnet_param_attr(int type, const void *data, int len)
{
	struct nlattr *attr;

	attr = kzalloc(nla_total_size(len), GFP_KERNEL);
	if (!attr)
		return NULL;
	attr->nla_type = type;
	attr->nla_len = nla_attr_size(len);
	memcpy(nla_data(attr), data, len);
	return attr;
}

static int vhnet_default_param_set(const char *val,
				   const struct kernel_param *kp)
{
	const struct vhnet_default_param *p = kp->arg;
	/* The value as written, without the newline sysfs writes add. */
	int n = strcspn(val, "\n");
	struct netlink_ext_ack extack = {};
	struct nlattr *attr;
	char *cpus = NULL;
	u32 v;
	int err;

	if (p->attr == VHNET_A_TUNABLES_WORKER_CPUS) {
		/* A cpulist ("0-3,8"); empty: wherever the owner may run. */
		cpus = kstrndup(val, n, GFP_KERNEL);
		if (!cpus)
			return -ENOMEM;
		attr = vhnet_param_attr(p->attr, cpus, n + 1);
		kfree(cpus);
	} else {
		if (kstrtou32(val, 0, &v)) {
			pr_warn("%s=%.*s refused: not an unsigned 32-bit number\n",
				kp->name, n, val);
			return -EINVAL;
		}
		attr = vhnet_param_attr(p->attr, &v, sizeof(v));
	}
	if (!attr)
		return -ENOMEM;
	err = vhnet_nl_set_default(attr, &extack);
	kfree(attr);
	if (err) {
		const char *why = extack._msg ?: "invalid value";

		/* Our own messages start with the prefix this line has. */
		why += str_has_prefix(why, KBUILD_MODNAME ": ");
		pr_warn("%s=%.*s refused: %s\n", kp->name, n, val, why);
	}
	return err;
}

static int vhnet_default_param_get(char *buf, const struct kernel_param *kp)
{
	const struct vhnet_default_param *p = kp->arg;
	struct vhnet_tunables *t;
	int len;

	/* Holds a struct cpumask: too big for the stack with NR_CPUS=8192. */
	t = kmalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	vhnet_dev_get_tunables(NULL, t);
	if (p->attr == VHNET_A_TUNABLES_WORKER_CPUS)
		len = scnprintf(buf, PAGE_SIZE, "%*pbl\n",
				cpumask_pr_args(&t->worker_cpus));
	else
		len = scnprintf(buf, PAGE_SIZE, "%u\n",
				*(u32 *)((char *)t + p->offset));
	kfree(t);
	return len;
}

static const struct kernel_param_ops vhnet_default_param_ops = {
	.set = vhnet_default_param_set,
	.get = vhnet_default_param_get,
};

/*
 * Each default tunable by its netlink attribute and its place in struct
 * vhnet_tunables. The ranges are the netlink spec's
 * (Documentation/netlink/specs/vhnet.yaml).
 */
static struct vhnet_default_param vhnet_default_params[] = {
	{ VHNET_A_TUNABLES_TX_BATCH, offsetof(struct vhnet_tunables, tx_batch) },
	{ VHNET_A_TUNABLES_RX_BATCH, offsetof(struct vhnet_tunables, rx_batch) },
	{ VHNET_A_TUNABLES_WEIGHT_PKTS, offsetof(struct vhnet_tunables, weight_pkts) },
	{ VHNET_A_TUNABLES_WEIGHT_BYTES, offsetof(struct vhnet_tunables, weight_bytes) },
	{ VHNET_A_TUNABLES_BUSYPOLL_US, offsetof(struct vhnet_tunables, busypoll_us) },
	{ VHNET_A_TUNABLES_COALESCE_PKTS, offsetof(struct vhnet_tunables, coalesce_pkts) },
	{ VHNET_A_TUNABLES_COALESCE_US, offsetof(struct vhnet_tunables, coalesce_us) },
	{ VHNET_A_TUNABLES_WORKER_CPUS, offsetof(struct vhnet_tunables, worker_cpus) },
};

module_param_cb(tx_batch, &vhnet_default_param_ops, &vhnet_default_params[0], 0644);
MODULE_PARM_DESC(tx_batch, "Default for new instances: TX frames per send to the tap (vhnetctl set default tx-batch)");
module_param_cb(rx_batch, &vhnet_default_param_ops, &vhnet_default_params[1], 0644);
MODULE_PARM_DESC(rx_batch, "Default for new instances: packets taken from the tap per round (rx-batch)");
module_param_cb(weight_pkts, &vhnet_default_param_ops, &vhnet_default_params[2], 0644);
MODULE_PARM_DESC(weight_pkts, "Default for new instances: packets a queue moves per pass before it yields (weight-pkts)");
module_param_cb(weight_bytes, &vhnet_default_param_ops, &vhnet_default_params[3], 0644);
MODULE_PARM_DESC(weight_bytes, "Default for new instances: bytes a queue moves per pass before it yields (weight-bytes)");
module_param_cb(busypoll_us, &vhnet_default_param_ops, &vhnet_default_params[4], 0644);
MODULE_PARM_DESC(busypoll_us, "Default for new instances: microseconds a worker polls before it sleeps (busypoll-us)");
module_param_cb(coalesce_pkts, &vhnet_default_param_ops, &vhnet_default_params[5], 0644);
MODULE_PARM_DESC(coalesce_pkts, "Default for new instances: used buffers per guest interrupt, 0 for each (coalesce-pkts)");
module_param_cb(coalesce_us, &vhnet_default_param_ops, &vhnet_default_params[6], 0644);
MODULE_PARM_DESC(coalesce_us, "Default for new instances: microseconds an interrupt may be held back (coalesce-us)");
module_param_cb(worker_cpus, &vhnet_default_param_ops, &vhnet_default_params[7], 0644);
MODULE_PARM_DESC(worker_cpus, "Default for new instances: cpulist the workers run on, empty for wherever the owner may (worker-cpus)");
