/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-virtqueue counters. Each set has exactly one writer, the worker that
 * runs the queue, so updates are plain adds inside a u64_stats section:
 * no atomics and no shared cache lines on the hot path. Readers (netlink,
 * debugfs) take a consistent snapshot with vhnet_dev_read_stats().
 */
#ifndef _VHNET_STATS_H
#define _VHNET_STATS_H

#include <linux/types.h>
#include <linux/u64_stats_sync.h>

/* Why a packet was not delivered (counters.h). */
enum vhnet_drop_reason {
#define VHNET_DROP_REASON(ATTR)	VHNET_DROP_##ATTR,
#include "counters.h"
	VHNET_DROP_NR
};

/* The buckets of the batch-size histogram (counters.h). */
enum vhnet_batch_bucket {
#define VHNET_BATCH_BUCKET(ATTR)	VHNET_BATCH_##ATTR,
#include "counters.h"
	VHNET_BATCH_HIST_NR
};

/*
 * The fields are spelled out for the hot path's sake; the tables built
 * from counters.h must cover them all (BUILD_BUG_ON in netlink.c).
 */
struct vhnet_vq_counters {
	u64 packets;
	u64 bytes;
	u64 kicks;
	u64 irqs;
	u64 irqs_suppressed;
	u64 batches;
	u64 busypoll_rounds;
	u64 iotlb_misses;
	u64 batch_hist[VHNET_BATCH_HIST_NR];
	u64 drops[VHNET_DROP_NR];
};

struct vhnet_vq_stats {
	struct u64_stats_sync syncp;
	struct vhnet_vq_counters c;
	/*
	 * Values at the last reset; readers report c - base. Reset never
	 * writes c, so the worker stays the only writer of c.
	 * Protected by the instance mutex.
	 */
	struct vhnet_vq_counters base;
};

#endif /* _VHNET_STATS_H */
