/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest: a fake virtio-net guest and its VMM, for driving a vhost-net
 * compatible device (/dev/vhnet, /dev/vhost-net) from user space.
 *
 * It is the one model the selftests and the fuzzers build on: guest memory
 * in regions, split virtqueues of any size with the driver's bookkeeping,
 * the vhost ioctls a VMM issues, and a tap in a network namespace of our
 * own with packet sockets on it. Nothing here knows a test harness:
 * functions return 0 or a negative errno and the caller decides whether
 * that is a failure, so a fuzzer can provoke errors on purpose.
 */
#ifndef VHNET_SELFTESTS_GUEST_H
#define VHNET_SELFTESTS_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <net/if.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define GUEST_RX_VQ		0
#define GUEST_TX_VQ		1
#define GUEST_NR_VQS		2
#define GUEST_MAX_REGIONS	8
/* Ring layout alignment: the legacy virtio-pci one, what QEMU uses. */
#define GUEST_RING_ALIGN	4096

/* ---- small helpers ---- */

u64 guest_now_ms(void);
double guest_now_s(void);
/*
 * VHNET_TIME_SCALE (make check-debug sets it): how many times slower this
 * kernel runs the tests; at least 1.
 */
unsigned int guest_time_scale(void);
/* Write s to a (proc or sys) file; 0 or -errno. */
int guest_write_file(const char *path, const char *s);
/* Has the eventfd fired within ms? Consumes the count. */
bool guest_efd_fired(int fd, int ms);
/*
 * A seeded random stream (splitmix64): the next value, one below n (0 if
 * n is 0), true one time in one_in. For fuzzers that replay from a seed.
 */
u64 guest_rnd(u64 *s);
u32 guest_below(u64 *s, u32 n);
bool guest_chance(u64 *s, u32 one_in);

/*
 * The device reads and writes ring indices concurrently with us: every
 * access to a shared index is one atomic 16-bit access with the ordering
 * a virtio driver needs (publish after the entries, read before them).
 */
static inline u16 guest_load16(const u16 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void guest_store16(u16 *p, u16 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void guest_full_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- guest memory ---- */

struct guest_region {
	u64 gpa;
	u64 size;
	void *hva;
};

/*
 * Up to GUEST_MAX_REGIONS regions, in one reservation of address space
 * with an inaccessible hole after each region: adjacent regions are then
 * never adjacent in HVA, so a device that adds a GPA offset to the wrong
 * region's HVA faults instead of silently hitting the neighbour.
 * A pool of buffer space [pool_start, pool_end) hands out GPAs round robin.
 */
struct guest_mem {
	unsigned int nregions;
	struct guest_region region[GUEST_MAX_REGIONS];
	void *resv;
	size_t resv_size;
	u64 pool_start, pool_end, pool_pos;
};

/*
 * Map regions (gpa and size taken from regs[], hva filled in), each
 * followed in HVA by hole bytes of PROT_NONE. Regions must be sorted by
 * GPA and not overlap; page-aligned sizes.
 */
int guest_mem_map(struct guest_mem *m, const struct guest_region *regs,
		  unsigned int n, size_t hole);
void guest_mem_unmap(struct guest_mem *m);
/* The region holding gpa, or NULL. */
struct guest_region *guest_mem_region(const struct guest_mem *m, u64 gpa);
/* HVA of gpa, or NULL if gpa is in no region. */
void *guest_hva(const struct guest_mem *m, u64 gpa);
/* Copy to or from a GPA range, across regions; -EFAULT if not all mapped. */
int guest_mem_copy(const struct guest_mem *m, u64 gpa, void *buf, size_t len,
		   bool to_guest);
int guest_mem_fill(const struct guest_mem *m, u64 gpa, int c, size_t len);
/* Buffer space: allocations start at first, wrap back to start. */
void guest_pool_init(struct guest_mem *m, u64 start, u64 end, u64 first);
u64 guest_pool_alloc(struct guest_mem *m, u64 len, u64 align);
/* VHOST_SET_MEM_TABLE with m's regions (or the first n of them). */
int guest_set_mem_table(int vfd, const struct guest_mem *m);
int guest_set_mem_table_n(int vfd, const struct guest_mem *m, unsigned int n);

/* ---- the virtqueue, driver side ---- */

/* One buffer of a chain: device-readable, or writable with VRING_DESC_F_WRITE. */
struct gvq_buf {
	u64 gpa;
	u32 len;
	u16 flags;
};

/* What a posted head stands for: its first buffer and the chain's size. */
struct gvq_tok {
	u64 gpa;
	u32 len;
};

struct gvq {
	unsigned int num;
	unsigned int max_num;	/* what the ring's memory and tok/fifo hold */
	struct vring vr;
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX negotiated */
	/*
	 * VIRTIO_F_IN_ORDER negotiated: one used entry may stand for a batch
	 * (its id the batch's last head, in the slot of the first; the used
	 * index moves by the batch's size). batch_left heads of the last
	 * entry read are still to be handed out, the last with batch_len.
	 */
	bool in_order;
	u16 batch_left;
	u32 batch_len;
	/* Heads gvq_get_used handed out that gvq_complete has not retired. */
	unsigned int fifo_peek;
	u16 avail_idx;		/* shadow of avail->idx */
	u16 kicked_idx;		/* avail->idx at the last kick decision */
	u16 last_used;		/* next used entry to consume */
	u16 base;		/* index the ring started at */
	u16 free_head;
	unsigned int num_free;
	struct gvq_tok *tok;
	/* Heads in the order they were made available: completions come in order. */
	u16 *fifo;
	unsigned int fifo_head, fifo_len;
	int kick, call, err;
	unsigned int kicks;
	/*
	 * Behind a vIOMMU (VIRTIO_F_ACCESS_PLATFORM): descriptors carry each
	 * guest-physical address plus dma_offset (the IOVA the guest's IOMMU
	 * maps it at), and VHOST_SET_VRING_ADDR names the rings by the IOVA
	 * of the descriptor table, ring_iova, not by host address. Both 0
	 * without one; set them after gvq_init.
	 */
	u64 dma_offset;
	u64 ring_iova;
};

/* Bytes of a ring of num entries as gvq_init lays it out. */
size_t gvq_ring_bytes(unsigned int num);
/*
 * Lay a ring of num entries out at mem (zeroed), with avail and used
 * indices at base, all descriptors on the free list; open its kick, call
 * and err eventfds. 0 or -errno; gvq_fini undoes it.
 */
int gvq_init(struct gvq *vq, void *mem, unsigned int num, u16 base,
	     bool event_idx);
void gvq_fini(struct gvq *vq);
/*
 * Start again on the same memory, as a guest does after a device reset:
 * a ring of num entries (at most the num it was created with), zeroed,
 * indices at base, all descriptors free. 0 or -EINVAL.
 */
int gvq_reset(struct gvq *vq, unsigned int num, u16 base, bool event_idx);

static inline u16 *gvq_used_event(struct gvq *vq)
{
	return &vring_used_event(&vq->vr);
}

static inline u16 *gvq_avail_event(struct gvq *vq)
{
	return &vring_avail_event(&vq->vr);
}

/*
 * Post a chain of n buffers as a driver does: from the free list, or (if
 * indirect) as one descriptor pointing at a table allocated from m's pool.
 * Returns the head, -ENOSPC if the ring has no room, -EFAULT if the table
 * could not be written.
 */
int gvq_add(struct gvq *vq, struct guest_mem *m, const struct gvq_buf *bufs,
	    unsigned int n, bool indirect);
/*
 * Take one descriptor off the free list for a chain built by hand (raw
 * flags, next, addresses). Its index, or -ENOSPC.
 */
int gvq_alloc_desc(struct gvq *vq);
/*
 * Put head in the next avail slot with no questions: for guests that
 * build descriptors themselves (or lie). Not tracked for completion.
 */
void gvq_push_head(struct gvq *vq, u16 head);
/* Publish avail->idx; kick if the device asked for it. True if kicked. */
bool gvq_publish(struct gvq *vq);
/* Kick, whatever the device asked for. 0 or -errno. */
int gvq_kick(struct gvq *vq);
/*
 * Wait up to ms for the next used buffer; 0 and id/len filled, or
 * -ETIMEDOUT. With in_order, a buffer a batch entry skipped comes back with
 * the length it was posted with (as Linux's driver reports it), and an
 * entry whose id is not among the heads its batch can cover is -EPROTO.
 */
int gvq_get_used(struct gvq *vq, u32 *id, u32 *len, int ms);
/* Is id the oldest posted head? 0, -ENOENT (none posted) or -EPROTO. */
int gvq_check_order(const struct gvq *vq, u32 id);
/*
 * Retire the oldest posted head (id, as gvq_check_order approved) and
 * return its descriptors to the free list.
 */
void gvq_complete(struct gvq *vq, u32 id);
/*
 * Retire every used entry the device has published, checking each is the
 * oldest posted head. How many, or -EPROTO at the first out of order (it
 * and what follows stay unconsumed).
 */
int gvq_reap(struct gvq *vq);
/*
 * Ask for (or against) an interrupt for the next used entry: used_event
 * with EVENT_IDX, the NO_INTERRUPT flag without.
 */
void gvq_want_irq(struct gvq *vq, bool on);
/* Used entries the device published that we have not consumed. */
static inline u16 gvq_used_pending(struct gvq *vq)
{
	return guest_load16(&vq->vr.used->idx) - vq->last_used;
}

/* ---- the device, VMM side ---- */

/*
 * Open path, become its owner and negotiate want. 0 and *vfd, or -errno;
 * -EOPNOTSUPP if want is not all offered (*have tells what was).
 */
int guest_dev_open(const char *path, u64 want, u64 *have, int *vfd);
/* VHOST_NET_SET_BACKEND; fd -1 detaches. 0 or -errno (errno kept). */
int guest_set_backend(int vfd, unsigned int index, int fd);
/* The addresses of vq as VHOST_SET_VRING_ADDR takes them. */
void gvq_addr(const struct gvq *vq, unsigned int index,
	      struct vhost_vring_addr *a);
/* NUM, BASE, ADDR, KICK, CALL, ERR of queue index from vq. 0 or -errno. */
int gvq_setup(int vfd, unsigned int index, const struct gvq *vq);
/* VHOST_GET_VRING_BASE (also stops the ring on vhnet). 0 or -errno. */
int guest_get_vring_base(int vfd, unsigned int index, u16 *base);

/* ---- the vIOMMU, VMM side ---- */

/* VHOST_IOTLB_UPDATE / INVALIDATE in a struct vhost_msg_v2. 0 or -errno. */
int guest_iotlb_update(int vfd, u64 iova, u64 size, u64 uaddr, u8 perm);
int guest_iotlb_invalidate(int vfd, u64 iova, u64 size);
/*
 * Answer the misses the device asks on vfd (struct vhost_msg_v2, so the
 * device must have VHOST_BACKEND_F_IOTLB_MSG_V2 acked) as QEMU does, one
 * aligned IOMMU page of granule bytes (a power of two, 4 KiB or more)
 * each, from guest memory m mapped at IOVA gpa + dma_offset.
 * Waits up to ms for the first; returns how many it answered, or -errno
 * (-EFAULT for a miss outside guest memory).
 */
int guest_iotlb_serve(int vfd, const struct guest_mem *m, u64 dma_offset,
		      u64 granule, int ms);

/* ---- the tap, in a network namespace of our own ---- */

/* Enter a new network namespace with IPv6 off (no autoconf chatter). */
int guest_netns_enter(void);
/* An interface ioctl (SIOCSIFFLAGS, SIOCSIFTXQLEN, ...) on ifname. 0 or -errno. */
int guest_ifreq(const char *ifname, unsigned long req, struct ifreq *ifr);

struct guest_tap {
	int fd;			/* the tap: the device's backend */
	int ifindex;
	char ifname[IFNAMSIZ];
	int cap;		/* AF_PACKET: what the device transmitted */
	int inj;		/* AF_PACKET: what the device must receive */
};

/*
 * A tap named from name_fmt ("fgtap%d"), up, with mtu; with a vnet header
 * of hdr_len bytes and checksum/TSO offloads, or none if hdr_len is 0.
 * Plus the capture and injection sockets (PACKET_VNET_HDR on both).
 */
int guest_tap_open(struct guest_tap *t, const char *name_fmt,
		   unsigned int hdr_len, unsigned int mtu);
/* Packet sockets for an existing interface t->ifindex (e.g. a macvtap). */
int guest_tap_sockets(struct guest_tap *t);
void guest_tap_close(struct guest_tap *t);
/* One frame from the tap's ingress: header into h, length, or -errno. */
int guest_tap_recv(struct guest_tap *t, struct virtio_net_hdr *h, u8 *buf,
		   size_t size, int ms);
/* Send a frame (with h) out of the tap, to the device. 0 or -errno. */
int guest_tap_inject(struct guest_tap *t, const u8 *frame, unsigned int len,
		     const struct virtio_net_hdr *h);

/* ---- frames ---- */

enum guest_pkt_kind {
	GUEST_PKT_PLAIN,	/* no offload: ethertype 0x88b5, pattern payload */
	GUEST_PKT_CSUM,		/* TCPv4, checksum left to the receiver */
	GUEST_PKT_GSO4,		/* TCPv4 GSO */
	GUEST_PKT_GSO6,		/* TCPv6 GSO */
};

#define GUEST_GSO_MSS	1448

/*
 * Build frame number seq of the given kind and length into f, and the
 * virtio-net header that goes with it into h. Payload bytes depend on seq
 * and position, so a misplaced, stale or duplicated byte shows.
 */
void guest_make_frame(u8 *f, unsigned int len, enum guest_pkt_kind kind,
		      u32 seq, struct virtio_net_hdr *h);
const char *guest_pkt_kind_name(enum guest_pkt_kind kind);
/* The sequence number guest_make_frame put in a PLAIN frame. */
u32 guest_frame_seq(const u8 *f);

#endif /* VHNET_SELFTESTS_GUEST_H */
