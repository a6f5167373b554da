// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/vhnet/<id>/{stats,info}: the counters and state of
 * each instance in `name value` lines, for tests and for humans until (and
 * alongside) the netlink family. Names are stable: tests parse them.
 */
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/slab.h>
#include <linux/seq_file.h>
#include <linux/stddef.h>

#include "vhnet.h"

static struct dentry *vhnet_debugfs_root;

static const char * const vhnet_q_names[VHNET_NVQS] = { "rx", "tx" };

/* The scalar counters (counters.h): attribute name and field. */
static const struct {
	const char *attr;
	size_t offset;
} vhnet_counter_fields[] = {
#define VHNET_COUNTER(field, ATTR) \
	{ #ATTR, offsetof(struct vhnet_vq_counters, field) },
#include "counters.h"
};

static const char * const vhnet_drop_names[VHNET_DROP_NR] = {
#define VHNET_DROP_REASON(ATTR) \
	[VHNET_DROP_##ATTR] = #ATTR,
#include "counters.h"
};

/* "rx_" + "NO_RX_BUF" as "rx_no_rx_buf": the name printed for a counter. */
static void vhnet_seq_counter(struct seq_file *m, const char *q,
			      const char *prefix, const char *attr, u64 val)
{
	seq_printf(m, "%s_%s", q, prefix);
	while (*attr)
		seq_putc(m, tolower(*attr++));
	seq_printf(m, " %llu\n", val);
}

static int vhnet_stats_show(struct seq_file *m, void *v)
{
	struct vhnet_dev *dev = m->private;
	struct vhnet_vq_counters c;
	unsigned int i, j;

	for (i = 0; i < VHNET_NVQS; i++) {
		const char *q = vhnet_q_names[i];

		vhnet_dev_read_stats(dev, i, &c);
		for (j = 0; j < ARRAY_SIZE(vhnet_counter_fields); j++)
			vhnet_seq_counter(m, q, "", vhnet_counter_fields[j].attr,
					  *(u64 *)((u8 *)&c + vhnet_counter_fields[j].offset));
		for (j = 0; j < VHNET_DROP_NR; j++)
			vhnet_seq_counter(m, q, "drop_", vhnet_drop_names[j],
					  c.drops[j]);
		for (j = 0; j < VHNET_BATCH_HIST_NR; j++)
			seq_printf(m, "%s_batch_hist_%u %llu\n", q, 1U << j,
				   c.batch_hist[j]);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhnet_stats);

static int vhnet_info_show(struct seq_file *m, void *v)
{
	static const char * const states[] = { "stopped", "running", "broken" };
	struct vhnet_dev *dev = m->private;
	struct vhnet_dev_info *info;
	unsigned int i;

	/* Two cpumasks: too large for the stack with NR_CPUS=8192. */
	info = kmalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	vhnet_dev_fill_info(dev, info);
	seq_printf(m, "id %u\n", info->id);
	seq_printf(m, "owner_pid %d\n", info->owner_pid);
	seq_printf(m, "tap_ifindex %d\n", info->tap_ifindex);
	seq_printf(m, "tap_name %s\n", info->tap_name[0] ? info->tap_name : "-");
	seq_printf(m, "features 0x%llx\n", info->features);
	for (i = 0; i < VHNET_NVQS; i++) {
		const struct vhnet_vq_info *vi = &info->vq[i];
		const char *q = vhnet_q_names[i];

		seq_printf(m, "%s_ring_size %u\n", q, vi->ring_size);
		seq_printf(m, "%s_last_avail_idx %u\n", q, vi->last_avail_idx);
		seq_printf(m, "%s_used_idx %u\n", q, vi->used_idx);
		seq_printf(m, "%s_worker_pid %d\n", q, vi->worker_pid);
		seq_printf(m, "%s_worker_cpu %d\n", q, vi->worker_cpu);
		seq_printf(m, "%s_state %s\n", q,
			   vi->state < ARRAY_SIZE(states) ? states[vi->state] : "?");
		seq_printf(m, "%s_broken_reason %d\n", q, vi->broken);
		seq_printf(m, "%s_worker_cpus %*pbl\n", q,
			   cpumask_pr_args(&vi->worker_cpus));
	}
	kfree(info);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhnet_info);

void vhnet_debugfs_init(void)
{
	vhnet_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

void vhnet_debugfs_exit(void)
{
	debugfs_remove_recursive(vhnet_debugfs_root);
	vhnet_debugfs_root = NULL;
}

void vhnet_debugfs_add(struct vhnet_dev *dev)
{
	char name[16];

	if (IS_ERR_OR_NULL(vhnet_debugfs_root))
		return;
	snprintf(name, sizeof(name), "%u", dev->id);
	dev->debugfs = debugfs_create_dir(name, vhnet_debugfs_root);
	debugfs_create_file("stats", 0400, dev->debugfs, dev, &vhnet_stats_fops);
	debugfs_create_file("info", 0400, dev->debugfs, dev, &vhnet_info_fops);
}

/* Waits for readers in progress; dev stays valid until this returns. */
void vhnet_debugfs_remove(struct vhnet_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
	dev->debugfs = NULL;
}
