/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every counter of a queue, named once. Not an ordinary header: a file
 * that builds a table from the lists defines one or more of
 *
 *   VHNET_COUNTER(field, ATTR)  a scalar counter: the field of struct
 *                               vhnet_vq_counters, carried in netlink
 *                               attribute VHNET_A_QUEUE_STATS_<ATTR>
 *   VHNET_DROP_REASON(ATTR)     why a packet was not delivered: enum
 *                               VHNET_DROP_<ATTR>, VHNET_A_DROPS_<ATTR>
 *   VHNET_BATCH_BUCKET(ATTR)    a bucket of the batch-size histogram:
 *                               VHNET_A_BATCH_HIST_<ATTR>
 *
 * includes this file, and gets them undefined again (a list whose macro
 * is not defined expands to nothing). debugfs prints each counter under
 * its attribute's name in lower case. The netlink spec
 * (Documentation/netlink/specs/vhnet.yaml) stays the source of the wire
 * format; Documentation/counters.md says what every counter means. The
 * same pattern as the kernel's kvm-x86-ops.h.
 */
#ifndef VHNET_COUNTER
#define VHNET_COUNTER(...)
#endif
#ifndef VHNET_DROP_REASON
#define VHNET_DROP_REASON(...)
#endif
#ifndef VHNET_BATCH_BUCKET
#define VHNET_BATCH_BUCKET(...)
#endif

VHNET_COUNTER(packets, PACKETS)		/* delivered (rx) or sent (tx) */
VHNET_COUNTER(bytes, BYTES)		/* of those, without the vnet header */
VHNET_COUNTER(kicks, KICKS)		/* guest notifications received */
VHNET_COUNTER(irqs, IRQS)		/* guest notifications sent */
VHNET_COUNTER(irqs_suppressed, IRQS_SUPPRESSED)	/* EVENT_IDX, NO_INTERRUPT, coalescing */
VHNET_COUNTER(batches, BATCHES)		/* rounds that moved a packet */
VHNET_COUNTER(busypoll_rounds, BUSYPOLL_ROUNDS)	/* busy-poll iterations */
VHNET_COUNTER(iotlb_misses, IOTLB_MISSES)	/* vIOMMU: translations asked of the VMM */

VHNET_DROP_REASON(NO_RX_BUF)	/* RX: the guest posted no (or too few) buffers */
VHNET_DROP_REASON(TOO_BIG)	/* RX: packet larger than the guest's buffers */
VHNET_DROP_REASON(TAP_ERR)	/* TX: tap refused it or its queue was full */
VHNET_DROP_REASON(BAD_CHAIN)	/* loop, too long, wrong direction */
VHNET_DROP_REASON(BAD_ADDR)	/* outside the memory table, or faulted */
VHNET_DROP_REASON(BAD_HDR)	/* virtio-net header short or invalid */
VHNET_DROP_REASON(DETACHED)	/* RX: held when the backend went, tap full */
VHNET_DROP_REASON(IOTLB_MISS)	/* RX: waiting for a vIOMMU translation, tap full */

/* Bucket i counts rounds of [2^i, 2^(i+1)) packets, the last any more. */
VHNET_BATCH_BUCKET(SIZE_1)
VHNET_BATCH_BUCKET(SIZE_2_3)
VHNET_BATCH_BUCKET(SIZE_4_7)
VHNET_BATCH_BUCKET(SIZE_8_15)
VHNET_BATCH_BUCKET(SIZE_16_31)
VHNET_BATCH_BUCKET(SIZE_32_63)
VHNET_BATCH_BUCKET(SIZE_64_127)
VHNET_BATCH_BUCKET(SIZE_128_UP)

#undef VHNET_COUNTER
#undef VHNET_DROP_REASON
#undef VHNET_BATCH_BUCKET
