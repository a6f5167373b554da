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

/* Why a packet was not delivered. Stable: the numbers are UAPI (netlink). */
enum vhnet_drop_reason {
	VHNET_DROP_NO_RX_BUF,	/* RX: the guest posted no (or too few) buffers */
	VHNET_DROP_TOO_BIG,	/* RX: packet larger than the guest's buffers */
	VHNET_DROP_TAP_ERR,	/* TX: tap refused the packet or its queue was full */
	VHNET_DROP_BAD_CHAIN,	/* malformed descriptor chain (loop, too long, wrong direction) */
	VHNET_DROP_BAD_ADDR,	/* guest address outside the memory table, or faulted */
	VHNET_DROP_BAD_HDR,	/* virtio-net header short or invalid */
	VHNET_DROP_DETACHED,	/* RX: held for the guest when the backend went, tap full */
	VHNET_DROP_NR
};

/* Batch sizes seen by the worker: bucket i counts batches of [2^i, 2^(i+1)). */
#define VHNET_BATCH_HIST_NR	8

struct vhnet_vq_counters {
	u64 packets;
	u64 bytes;
	u64 kicks;		/* guest notifications received */
	u64 irqs;		/* guest notifications (call eventfd) sent */
	u64 irqs_suppressed;	/* ... skipped by EVENT_IDX / NO_INTERRUPT / coalescing */
	u64 batches;
	u64 busypoll_rounds;
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
