/* SPDX-License-Identifier: GPL-2.0 */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vhnet.yaml */
/* by scripts/netlink-counters.py */

#ifndef _VHNET_COUNTERS_GEN_H
#define _VHNET_COUNTERS_GEN_H

#include <linux/vhnet.h>

/* One per-queue counter: where it travels and what vhnetctl calls it. */
struct vhnet_counter_desc {
	int nest;		/* its nest in queue-stats, 0 for queue-stats itself */
	int attr;
	const char *name;
};

static const struct vhnet_counter_desc vhnet_counters[] = {
	{ 0, VHNET_A_QUEUE_STATS_PACKETS, "packets" },
	{ 0, VHNET_A_QUEUE_STATS_BYTES, "bytes" },
	{ 0, VHNET_A_QUEUE_STATS_KICKS, "kicks" },
	{ 0, VHNET_A_QUEUE_STATS_IRQS, "irqs" },
	{ 0, VHNET_A_QUEUE_STATS_IRQS_SUPPRESSED, "irqs_suppressed" },
	{ 0, VHNET_A_QUEUE_STATS_BATCHES, "batches" },
	{ 0, VHNET_A_QUEUE_STATS_BUSYPOLL_ROUNDS, "busypoll_rounds" },
	{ 0, VHNET_A_QUEUE_STATS_IOTLB_MISSES, "iotlb_misses" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_1, "batch_size_1" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_2_3, "batch_size_2_3" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_4_7, "batch_size_4_7" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_8_15, "batch_size_8_15" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_16_31, "batch_size_16_31" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_32_63, "batch_size_32_63" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_64_127, "batch_size_64_127" },
	{ VHNET_A_QUEUE_STATS_BATCH_HIST, VHNET_A_BATCH_HIST_SIZE_128_UP, "batch_size_128_up" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_NO_RX_BUF, "drop_no_rx_buf" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_TOO_BIG, "drop_too_big" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_TAP_ERR, "drop_tap_err" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_BAD_CHAIN, "drop_bad_chain" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_BAD_ADDR, "drop_bad_addr" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_BAD_HDR, "drop_bad_hdr" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_DETACHED, "drop_detached" },
	{ VHNET_A_QUEUE_STATS_DROPS, VHNET_A_DROPS_IOTLB_MISS, "drop_iotlb_miss" },
};

#endif
