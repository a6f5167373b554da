// SPDX-License-Identifier: GPL-2.0
/*
 * fakeguest: this program plays both the guest and the VMM in front of a
 * vhost-net compatible device ($VHNET_DEV, default /dev/vhnet; the kernel's
 * /dev/vhost-net must pass the same cases). Run as root, in a VM.
 *
 *   guest memory (2 regions, GPA-contiguous,        own net namespace
 *   HVA-discontiguous) with rings and buffers
 *   +------------------+   TX vq 1   +--------+  ingress  +-----------+
 *   | TX ring  buffers | ----------> |        | --------> | cap:      |
 *   |                  |             | device | tap0      | AF_PACKET |
 *   | RX ring  buffers | <---------- |        | <-------- | inj:      |
 *   +------------------+   RX vq 0   +--------+  egress   | AF_PACKET |
 *                                                         +-----------+
 *
 * The guest model (memory, rings, tap and packet sockets) is guest.c's;
 * this file holds the test policy: how buffers are cut into descriptors,
 * what is expected, and the harness around it.
 *
 * Every byte and every virtio-net header field is checked end to end, and
 * so are used ring entries, call eventfds (and their suppression) and the
 * err eventfd. Ring indices start near 65535 in most variants so that the
 * u16 wrap happens in every test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

/*
 * Every TEST_F wrapper of the 6.12 harness keeps "child" in a local
 * across setjmp(); gcc -O2 -Wextra flags some wrappers, depending on
 * what it inlines. Seen working here: a failed ASSERT in the test body
 * still reports "not ok" and runs the teardown once.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "guest.h"

#define DEFAULT_DEV	"/dev/vhnet"
#define DEBUGFS_DIR	"/sys/kernel/debug/vhnet"

/* Guest memory: two regions, contiguous in GPA, not in HVA. */
#define GPA_BASE	0x40000000ULL
#define REGION_SIZE	(32ULL << 20)
#define MEM_SIZE	(2 * REGION_SIZE)
/* Rings live below POOL_START, buffers and indirect tables above. */
#define RING_AREA	(4ULL << 20)
#define POOL_START	(GPA_BASE + 2 * RING_AREA)
#define POOL_END	(GPA_BASE + MEM_SIZE)
/* The first buffer of every test straddles the region boundary. */
#define POOL_FIRST	(GPA_BASE + REGION_SIZE - 1111)

/* Short names: every test says which queue it means. */
#define RX_VQ		GUEST_RX_VQ
#define TX_VQ		GUEST_TX_VQ

/*
 * Behind a vIOMMU the guest's IOMMU maps guest-physical g at IOVA g +
 * DMA_OFFSET: far outside guest memory, so a device that took an IOVA for
 * a guest-physical (or user) address faults instead of working by luck.
 */
#define DMA_OFFSET	0x10000000000ULL	/* 2^40 */

#define TAP_MTU		9000
#define MAX_FRAME	65536
#define BIG_BUF		(MAX_FRAME + 64)
#define MAX_PIECES	4
#define MAX_POSTED	64
#define POISON		0xa5
#define TAIL_CHECK	64

#define WAIT_MS		5000	/* anything expected to happen, under TCG */
#define QUIET_MS	200	/* something expected NOT to happen */

#define GSO_FRAME	65014	/* eth + IPv4 tot_len 65000 */
#define BURST		20000
#define BURST_WINDOW	256

enum layout {
	LAYOUT_SINGLE,		/* one descriptor per buffer */
	LAYOUT_SPLIT,		/* vnet header and payload in separate descriptors */
	LAYOUT_INDIRECT,	/* the split chain in an indirect table */
};

struct pkt_case {
	unsigned int len;
	enum guest_pkt_kind kind;
};

static const struct pkt_case pkt_cases[] = {
	{ 60, GUEST_PKT_PLAIN },
	{ 64, GUEST_PKT_PLAIN },
	{ 333, GUEST_PKT_PLAIN },
	{ 1514, GUEST_PKT_PLAIN },
	{ 1514, GUEST_PKT_CSUM },
	{ TAP_MTU + ETH_HLEN, GUEST_PKT_PLAIN },
	{ GSO_FRAME, GUEST_PKT_GSO4 },
	{ 32074, GUEST_PKT_GSO6 },
	{ 60, GUEST_PKT_PLAIN },
};

struct fg_cfg {
	unsigned int num;	/* ring size, both queues */
	bool version_1;
	bool event_idx;
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool mrg;		/* VIRTIO_NET_F_MRG_RXBUF negotiated */
	/*
	 * VIRTIO_F_IN_ORDER asked for. vhost-net before 6.17 does not offer
	 * it; there (only) the variant runs without it.
	 */
	bool in_order;
	enum layout layout;
	unsigned int rx_buf;	/* RX buffer size, vnet header included */
	u16 base;		/* initial avail/used index of both rings */
	/*
	 * VHOST_NET_F_VIRTIO_NET_HDR: the device adds and strips the vnet
	 * header, the tap has none, so no offloads: plain frames only.
	 */
	bool dev_hdr;
	/*
	 * Non-zero: a guest behind a vIOMMU (VIRTIO_F_ACCESS_PLATFORM),
	 * whose VMM answers each of the device's IOTLB misses with one
	 * IOMMU page of this many bytes, as QEMU does.
	 */
	u64 iommu_page;
};

struct fg {
	const struct fg_cfg *cfg;
	const char *path;
	int vfd;
	bool in_order;		/* VIRTIO_F_IN_ORDER negotiated */
	struct guest_mem mem;
	struct guest_tap tap;
	unsigned int hdr_len;	/* vnet header size on the ring and the tap */
	struct gvq vq[GUEST_NR_VQS];
	u64 features;		/* negotiated */
	u64 tx_sent, rx_got;
	u8 *scratch, *frame;
	/* dirty_log: one byte per guest page, set where RX data landed */
	u8 *rx_wrote;
	/* iommu_page: the VMM's thread answering IOTLB misses */
	pthread_t iommu_thread;
	bool iommu_running;
	bool iommu_stop;	/* __atomic */
	int iommu_err;		/* its first failure, -errno */
	unsigned int iommu_misses;
};

/* ---- checks ---- */

static void check_hdr(struct __test_metadata *_metadata,
		      const struct virtio_net_hdr *got,
		      const struct virtio_net_hdr *want, const char *what)
{
	EXPECT_EQ(want->flags, got->flags) TH_LOG("%s: flags", what);
	EXPECT_EQ(want->gso_type, got->gso_type) TH_LOG("%s: gso_type", what);
	EXPECT_EQ(want->hdr_len, got->hdr_len) TH_LOG("%s: hdr_len", what);
	EXPECT_EQ(want->gso_size, got->gso_size) TH_LOG("%s: gso_size", what);
	EXPECT_EQ(want->csum_start, got->csum_start)
		TH_LOG("%s: csum_start", what);
	EXPECT_EQ(want->csum_offset, got->csum_offset)
		TH_LOG("%s: csum_offset", what);
	ASSERT_TRUE(__test_passed(_metadata));
}

static void check_bytes(struct __test_metadata *_metadata, const u8 *got,
			const u8 *want, unsigned int len, const char *what)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (got[i] != want[i])
			break;
	ASSERT_EQ(len, i) {
		TH_LOG("%s: byte %u of %u is 0x%02x, want 0x%02x",
		       what, i, len, got[i], want[i]);
	}
}

/* ---- the virtqueue: how this test lays buffers out ---- */

/* How a buffer of len bytes is cut into descriptors. */
static unsigned int split_buf(const struct fg *fg, u32 len,
			      u32 *piece)
{
	u32 rest;
	unsigned int n = 0;

	if (fg->cfg->layout == LAYOUT_SINGLE || len <= fg->hdr_len + 3) {
		piece[0] = len;
		return 1;
	}
	piece[n++] = fg->hdr_len;
	rest = len - fg->hdr_len;
	piece[n++] = rest / 3 + 1;
	piece[n++] = rest / 3;
	piece[n++] = rest - piece[1] - piece[2];
	return n;
}

static unsigned int descs_per_buf(const struct fg *fg)
{
	return fg->cfg->layout == LAYOUT_SPLIT ? MAX_PIECES : 1;
}

/* Make [gpa, gpa + len) available; returns its head. */
static int vq_add(struct fg *fg, struct gvq *vq, u64 gpa, u32 len,
		  bool write)
{
	struct gvq_buf bufs[MAX_PIECES];
	u32 piece[MAX_PIECES];
	unsigned int n = split_buf(fg, len, piece), i;
	int head;

	for (i = 0; i < n; i++) {
		bufs[i].gpa = gpa;
		bufs[i].len = piece[i];
		bufs[i].flags = write ? VRING_DESC_F_WRITE : 0;
		gpa += piece[i];
	}
	head = gvq_add(vq, &fg->mem, bufs, n,
		       fg->cfg->layout == LAYOUT_INDIRECT);
	return head < 0 ? -1 : head;
}

/* Check that a used entry is the oldest outstanding head, then free it. */
static void vq_complete(struct __test_metadata *_metadata, struct gvq *vq,
			u32 id)
{
	int e = gvq_check_order(vq, id);

	ASSERT_NE(-ENOENT, e) TH_LOG("used entry %u with nothing posted", id);
	ASSERT_EQ(0, e) TH_LOG("used id out of order");
	gvq_complete(vq, id);
}

/* ---- setup ---- */

static u64 cfg_features(const struct fg_cfg *c)
{
	u64 f = 0;

	if (c->version_1)
		f |= 1ULL << VIRTIO_F_VERSION_1;
	if (c->event_idx)
		f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (c->indirect)
		f |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (c->mrg)
		f |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (c->dev_hdr)
		f |= 1ULL << VHOST_NET_F_VIRTIO_NET_HDR;
	if (c->in_order)
		f |= 1ULL << VIRTIO_F_IN_ORDER;
	if (c->iommu_page)
		f |= 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	return f;
}

/* The ioctl's convention, -1 and errno: the ABI tests check errno. */
static int set_backend(struct fg *fg, unsigned int index, int fd)
{
	return guest_set_backend(fg->vfd, index, fd) ? -1 : 0;
}

static void setup_vq(struct __test_metadata *_metadata, struct fg *fg,
		     unsigned int index)
{
	struct gvq *vq = &fg->vq[index];
	void *ring = guest_hva(&fg->mem, GPA_BASE + index * RING_AREA);

	ASSERT_EQ(0, gvq_init(vq, ring, fg->cfg->num, fg->cfg->base,
			      fg->cfg->event_idx));
	vq->in_order = fg->in_order;
	if (fg->cfg->iommu_page) {
		vq->dma_offset = DMA_OFFSET;
		vq->ring_iova = GPA_BASE + index * RING_AREA + DMA_OFFSET;
	}
	ASSERT_EQ(0, gvq_setup(fg->vfd, index, vq)) TH_LOG("vq %u: %m", index);
}

/* The GPA of a host address inside guest memory. */
static u64 gpa_of(const struct guest_mem *m, const void *hva)
{
	unsigned int i;

	for (i = 0; i < m->nregions; i++) {
		const struct guest_region *r = &m->region[i];

		if ((const u8 *)hva >= (const u8 *)r->hva &&
		    (const u8 *)hva < (const u8 *)r->hva + r->size)
			return r->gpa + ((const u8 *)hva - (const u8 *)r->hva);
	}
	return ~0ULL;
}

/*
 * The VMM's side of the vIOMMU: answer the device's misses until told to
 * stop; the first failure is kept for check_no_err().
 */
static void *iommu_vmm(void *arg)
{
	struct fg *fg = arg;
	int r;

	while (!__atomic_load_n(&fg->iommu_stop, __ATOMIC_ACQUIRE)) {
		r = guest_iotlb_serve(fg->vfd, &fg->mem, DMA_OFFSET,
				      fg->cfg->iommu_page, 50);
		if (r < 0) {
			fg->iommu_err = r;
			break;
		}
		__atomic_fetch_add(&fg->iommu_misses, r, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Behind a vIOMMU, before any backend: IOTLB messages in the v2 format,
 * the used rings' first pages translated up front (QEMU does the same:
 * vhost needs the used ring's header to attach a backend), and the VMM's
 * thread that answers every other miss.
 */
static void iommu_start(struct __test_metadata *_metadata, struct fg *fg)
{
	u64 bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2, page = fg->cfg->iommu_page;
	unsigned int i;

	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_BACKEND_FEATURES, &bf))
		TH_LOG("SET_BACKEND_FEATURES: %m");
	for (i = 0; i < GUEST_NR_VQS; i++) {
		u64 gpa = gpa_of(&fg->mem, fg->vq[i].vr.used) & ~(page - 1);

		ASSERT_EQ(0, guest_iotlb_update(fg->vfd, gpa + DMA_OFFSET, page,
						(uintptr_t)guest_hva(&fg->mem, gpa),
						VHOST_ACCESS_RW));
	}
	ASSERT_EQ(0, pthread_create(&fg->iommu_thread, NULL, iommu_vmm, fg));
	fg->iommu_running = true;
}

static void iommu_stop(struct fg *fg)
{
	if (!fg->iommu_running)
		return;
	__atomic_store_n(&fg->iommu_stop, true, __ATOMIC_RELEASE);
	pthread_join(fg->iommu_thread, NULL);
	fg->iommu_running = false;
}

/* Everything up to, not including, VHOST_NET_SET_BACKEND. */
static void guest_init(struct __test_metadata *_metadata, struct fg *fg,
		       const struct fg_cfg *cfg)
{
	const struct guest_region regs[] = {
		{ .gpa = GPA_BASE, .size = REGION_SIZE },
		{ .gpa = GPA_BASE + REGION_SIZE, .size = REGION_SIZE },
	};
	u64 want = cfg_features(cfg), have;
	unsigned int i;
	int e;

	memset(fg, 0, sizeof(*fg));
	fg->cfg = cfg;
	fg->vfd = -1;
	fg->tap.fd = -1;
	fg->tap.cap = -1;
	fg->tap.inj = -1;
	for (i = 0; i < GUEST_NR_VQS; i++) {
		fg->vq[i].kick = -1;
		fg->vq[i].call = -1;
		fg->vq[i].err = -1;
	}
	fg->path = getenv("VHNET_DEV") ?: DEFAULT_DEV;
	fg->hdr_len = (cfg->version_1 || cfg->mrg) ?
		      sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		      sizeof(struct virtio_net_hdr);
	fg->scratch = malloc(2 * MAX_FRAME);
	fg->frame = malloc(MAX_FRAME);
	ASSERT_NE(NULL, fg->scratch);
	ASSERT_NE(NULL, fg->frame);

	/* A region-sized hole between the two regions in HVA. */
	ASSERT_EQ(0, guest_mem_map(&fg->mem, regs, 2, REGION_SIZE));
	guest_pool_init(&fg->mem, POOL_START, POOL_END, POOL_FIRST);

	ASSERT_EQ(0, guest_netns_enter()) TH_LOG("unshare: %m");
	e = guest_tap_open(&fg->tap, "fgtap%d", cfg->dev_hdr ? 0 : fg->hdr_len,
			   TAP_MTU);
	ASSERT_EQ(0, e) TH_LOG("tap: %s", strerror(-e));

	e = guest_dev_open(fg->path, want, &have, &fg->vfd);
	if (e == -EOPNOTSUPP && cfg->in_order && !strstr(fg->path, "vhnet") &&
	    !(have & 1ULL << VIRTIO_F_IN_ORDER)) {
		TH_LOG("%s does not offer IN_ORDER: running without it", fg->path);
		want &= ~(1ULL << VIRTIO_F_IN_ORDER);
		e = guest_dev_open(fg->path, want, &have, &fg->vfd);
	}
	ASSERT_NE(-EOPNOTSUPP, e) TH_LOG("features offered %#llx",
					 (unsigned long long)have);
	fg->in_order = want & 1ULL << VIRTIO_F_IN_ORDER;
	fg->features = want;
	ASSERT_EQ(0, e) TH_LOG("%s: %s", fg->path, strerror(-e));
	ASSERT_EQ(0, guest_set_mem_table(fg->vfd, &fg->mem))
		TH_LOG("SET_MEM_TABLE: %m");
	setup_vq(_metadata, fg, RX_VQ);
	setup_vq(_metadata, fg, TX_VQ);
	if (cfg->iommu_page)
		iommu_start(_metadata, fg);
}

static void guest_attach(struct __test_metadata *_metadata, struct fg *fg)
{
	ASSERT_EQ(0, set_backend(fg, RX_VQ, fg->tap.fd)) TH_LOG("RX: %m");
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap.fd)) TH_LOG("TX: %m");
}

static void guest_fini(struct fg *fg)
{
	unsigned int i;

	iommu_stop(fg);
	if (fg->vfd >= 0)
		close(fg->vfd);
	for (i = 0; i < GUEST_NR_VQS; i++)
		gvq_fini(&fg->vq[i]);
	guest_tap_close(&fg->tap);
	guest_mem_unmap(&fg->mem);
	free(fg->scratch);
	free(fg->frame);
}

/* No ring error may be signalled during a test. */
static void check_no_err(struct __test_metadata *_metadata, struct fg *fg)
{
	EXPECT_FALSE(guest_efd_fired(fg->vq[RX_VQ].err, 0)) TH_LOG("RX err fd fired");
	EXPECT_FALSE(guest_efd_fired(fg->vq[TX_VQ].err, 0)) TH_LOG("TX err fd fired");
	EXPECT_EQ(0, fg->iommu_err) TH_LOG("the VMM's IOTLB thread: %s",
					   strerror(-fg->iommu_err));
}

/* The call eventfd fired after a completion, or stayed quiet if suppressed. */
static void check_call(struct __test_metadata *_metadata, struct gvq *vq,
		       bool want, const char *what)
{
	if (want) {
		ASSERT_TRUE(guest_efd_fired(vq->call, WAIT_MS))
			TH_LOG("%s: no call", what);
	} else {
		ASSERT_FALSE(guest_efd_fired(vq->call, QUIET_MS))
			TH_LOG("%s: call not suppressed", what);
	}
}

/* ---- TX: guest -> device -> tap ingress -> packet socket ---- */

/* Returns the head, or -1 if the ring is full. */
static int tx_post(struct fg *fg, const u8 *frame, unsigned int len,
		   const struct virtio_net_hdr *h)
{
	u8 hdr[sizeof(struct virtio_net_hdr_mrg_rxbuf)] = { 0 };
	u64 gpa = guest_pool_alloc(&fg->mem, fg->hdr_len + len, 8);

	memcpy(hdr, h, sizeof(*h));
	/* The device must drop the guest's header, whatever it holds. */
	if (fg->cfg->dev_hdr)
		memset(hdr, 0xee, sizeof(hdr));
	guest_mem_copy(&fg->mem, gpa, hdr, fg->hdr_len, true);
	guest_mem_copy(&fg->mem, gpa + fg->hdr_len, (void *)frame, len, true);
	return vq_add(fg, &fg->vq[TX_VQ], gpa, fg->hdr_len + len, false);
}

/* Receive one frame from tap ingress; returns its length or -1. */
static int cap_recv(struct fg *fg, struct virtio_net_hdr *h, u8 *buf,
		    int ms)
{
	int n = guest_tap_recv(&fg->tap, h, buf, MAX_FRAME, ms);

	return n < 0 ? -1 : n;
}

/* Expected header of a frame seen on the other side of the tap. */
static void expect_hdr(const struct virtio_net_hdr *sent,
		       struct virtio_net_hdr *want)
{
	*want = *sent;
	want->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
}

static void tx_one(struct __test_metadata *_metadata, struct fg *fg,
		   const struct pkt_case *pc, u32 seq, bool want_call)
{
	struct gvq *vq = &fg->vq[TX_VQ];
	struct virtio_net_hdr h, got, want;
	char what[64];
	u32 id, ulen;
	int head, n;

	snprintf(what, sizeof(what), "TX %s %u seq %u", guest_pkt_kind_name(pc->kind),
		 pc->len, seq);
	gvq_want_irq(vq, want_call);
	guest_make_frame(fg->frame, pc->len, pc->kind, seq, &h);
	head = tx_post(fg, fg->frame, pc->len, &h);
	ASSERT_LE(0, head) TH_LOG("%s: ring full", what);
	gvq_publish(vq);

	n = cap_recv(fg, &got, fg->scratch, WAIT_MS);
	ASSERT_EQ((int)pc->len, n) TH_LOG("%s: captured %d bytes", what, n);
	check_bytes(_metadata, fg->scratch, fg->frame, pc->len, what);
	expect_hdr(&h, &want);
	check_hdr(_metadata, &got, &want, what);

	ASSERT_EQ(0, gvq_get_used(vq, &id, &ulen, WAIT_MS))
		TH_LOG("%s: no used entry", what);
	ASSERT_EQ((u32)head, id) TH_LOG("%s: used id", what);
	/* vhost-net reports TX buffers as used with length 0. */
	ASSERT_EQ(0, ulen) TH_LOG("%s: used len", what);
	vq_complete(_metadata, vq, id);
	check_call(_metadata, vq, want_call, what);
	fg->tx_sent++;
}

/* ---- RX: packet socket -> tap egress -> device -> guest ---- */

static void rx_post(struct __test_metadata *_metadata, struct fg *fg,
		    unsigned int count)
{
	struct gvq *vq = &fg->vq[RX_VQ];
	unsigned int i;

	for (i = 0; i < count; i++) {
		u64 gpa = guest_pool_alloc(&fg->mem, fg->cfg->rx_buf, 8);

		guest_mem_fill(&fg->mem, gpa, POISON, fg->cfg->rx_buf);
		ASSERT_LE(0, vq_add(fg, vq, gpa, fg->cfg->rx_buf, true));
	}
	gvq_publish(vq);
}

/* Keep up to MAX_POSTED buffers posted (fewer if the ring is small). */
static void rx_refill(struct __test_metadata *_metadata, struct fg *fg)
{
	struct gvq *vq = &fg->vq[RX_VQ];
	unsigned int want = vq->num_free / descs_per_buf(fg);

	if (vq->fifo_len >= MAX_POSTED)
		want = 0;
	else if (want > MAX_POSTED - vq->fifo_len)
		want = MAX_POSTED - vq->fifo_len;
	if (want)
		rx_post(_metadata, fg, want);
}

static void inject(struct __test_metadata *_metadata, struct fg *fg,
		   const u8 *frame, unsigned int len,
		   const struct virtio_net_hdr *h)
{
	int e = guest_tap_inject(&fg->tap, frame, len, h);

	ASSERT_EQ(0, e) TH_LOG("%s: %s", __func__, strerror(-e));
}

/* ---- the dirty log (VHOST_F_LOG_ALL): one bit per 4 KiB guest page ---- */

#define LOG_PAGE	4096ULL
/* Guest pages from GPA 0 to the end of guest memory. */
#define LOG_PAGES	((GPA_BASE + MEM_SIZE) / LOG_PAGE)

/* Mark pages [gpa, gpa + len) in a byte-per-page map. */
static void note_written(u8 *pages, u64 gpa, u64 len)
{
	u64 pfn;

	if (!len)
		return;
	for (pfn = gpa / LOG_PAGE; pfn <= (gpa + len - 1) / LOG_PAGE; pfn++)
		pages[pfn] = 1;
}

/*
 * Take one packet off the RX used ring: the header into h, the frame into
 * buf; returns the frame length, or -1 if nothing came within ms.
 */
static int rx_take(struct __test_metadata *_metadata, struct fg *fg,
		   struct virtio_net_hdr_mrg_rxbuf *h, u8 *buf, int ms)
{
	struct gvq *vq = &fg->vq[RX_VQ];
	unsigned int nbufs = 1, i, total = 0;
	u8 tail[TAIL_CHECK], poison[TAIL_CHECK];
	u32 id, len;

	memset(poison, POISON, sizeof(poison));
	for (i = 0; i < nbufs; i++) {
		u64 data;
		unsigned int skip = i ? 0 : fg->hdr_len, t;

		if (gvq_get_used(vq, &id, &len, i ? WAIT_MS : ms))
			return i ? -2 : -1;
		ASSERT_LT(id, vq->num);
		ASSERT_LE(len, fg->cfg->rx_buf) TH_LOG("used len %u", len);
		ASSERT_LE(skip, len) TH_LOG("used len %u < header", len);
		data = vq->tok[id].gpa;
		if (!i) {
			memset(h, 0, sizeof(*h));
			guest_mem_copy(&fg->mem, data, h, fg->hdr_len, false);
			if (fg->cfg->mrg) {
				nbufs = h->num_buffers;
				ASSERT_LE(1, nbufs);
				ASSERT_GE(vq->fifo_len, nbufs)
					TH_LOG("num_buffers %u", nbufs);
			}
		}
		/* Not the last buffer of a packet: filled to the brim. */
		if (i + 1 < nbufs)
			ASSERT_EQ(fg->cfg->rx_buf, len)
				TH_LOG("buffer %u of %u: used len", i, nbufs);
		ASSERT_GE(MAX_FRAME, total + len - skip);
		guest_mem_copy(&fg->mem, data + skip, buf + total, len - skip, false);
		total += len - skip;
		/* Nothing written past the used length. */
		t = fg->cfg->rx_buf - len;
		if (t > TAIL_CHECK)
			t = TAIL_CHECK;
		guest_mem_copy(&fg->mem, data + len, tail, t, false);
		check_bytes(_metadata, tail, poison, t, "RX tail");
		if (fg->rx_wrote)
			note_written(fg->rx_wrote, data, len);
		vq_complete(_metadata, vq, id);
	}
	return total;
}

static void rx_one(struct __test_metadata *_metadata, struct fg *fg,
		   const struct pkt_case *pc, u32 seq, bool want_call)
{
	struct gvq *vq = &fg->vq[RX_VQ];
	struct virtio_net_hdr_mrg_rxbuf got;
	struct virtio_net_hdr h, want;
	char what[64];
	int n;

	snprintf(what, sizeof(what), "RX %s %u seq %u", guest_pkt_kind_name(pc->kind),
		 pc->len, seq);
	gvq_want_irq(vq, want_call);
	rx_refill(_metadata, fg);
	guest_make_frame(fg->frame, pc->len, pc->kind, seq, &h);
	inject(_metadata, fg, fg->frame, pc->len, &h);
	n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
	ASSERT_EQ((int)pc->len, n) TH_LOG("%s: received %d", what, n);
	check_bytes(_metadata, fg->scratch, fg->frame, pc->len, what);
	expect_hdr(&h, &want);
	check_hdr(_metadata, &got.hdr, &want, what);
	check_call(_metadata, vq, want_call, what);
	fg->rx_got++;
}

/* ---- debugfs counters of /dev/vhnet ---- */

/* Read counter name from a "name value" file; -1 if absent. */
static long long stat_read(const char *file, const char *name)
{
	char line[128], key[64];
	long long v, r = -1;
	FILE *f = fopen(file, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld", key, &v) == 2 && !strcmp(key, name))
			r = v;
	fclose(f);
	return r;
}

/* The debugfs directory of the instance this process owns, or NULL. */
static char *vhnet_instance_dir(void)
{
	char *dir = NULL;
	glob_t g;
	size_t i;

	if (glob(DEBUGFS_DIR "/*/info", 0, NULL, &g))
		return NULL;
	for (i = 0; i < g.gl_pathc && !dir; i++)
		if (stat_read(g.gl_pathv[i], "owner_pid") == getpid()) {
			dir = strdup(g.gl_pathv[i]);
			if (dir)
				*strrchr(dir, '/') = 0;
		}
	globfree(&g);
	return dir;
}

/*
 * On /dev/vhnet the instance's own counters must have moved by exactly
 * what went through it, and nothing may have been dropped. The worker
 * may bump a counter just after the used ring update we saw: allow it a
 * moment to catch up.
 */
static void check_vhnet_stats(struct __test_metadata *_metadata, struct fg *fg)
{
	char path[PATH_MAX], line[128], key[64];
	long long v, tx = -1, rx = -1;
	u64 end;
	char *dir;
	FILE *f;

	if (strcmp(fg->path, DEFAULT_DEV))
		return;
	if (access(DEBUGFS_DIR, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	dir = vhnet_instance_dir();
	ASSERT_NE(NULL, dir) TH_LOG("no %s/*/info with owner_pid %d",
				    DEBUGFS_DIR, getpid());
	snprintf(path, sizeof(path), "%s/stats", dir);
	free(dir);
	for (end = guest_now_ms() + WAIT_MS; guest_now_ms() < end; usleep(10000)) {
		tx = stat_read(path, "tx_packets");
		rx = stat_read(path, "rx_packets");
		if (tx == (long long)fg->tx_sent && rx == (long long)fg->rx_got)
			break;
	}
	EXPECT_EQ((long long)fg->tx_sent, tx);
	EXPECT_EQ((long long)fg->rx_got, rx);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld", key, &v) == 2 &&
		    strstr(key, "_drop_"))
			EXPECT_EQ(0, v) TH_LOG("%s", key);
	fclose(f);
}

/* ---- the data path fixture ---- */

FIXTURE(fg) {
	struct fg fg;
};

FIXTURE_VARIANT(fg) {
	struct fg_cfg cfg;
};

#define SMALL_RX	2048

/* 256 entries, plain features: the baseline. Indices start at 0. */
FIXTURE_VARIANT_ADD(fg, r256_single) {
	.cfg = { .num = 256, .version_1 = true, .layout = LAYOUT_SINGLE,
		 .rx_buf = BIG_BUF, .base = 0 },
};

FIXTURE_VARIANT_ADD(fg, r256_split) {
	.cfg = { .num = 256, .version_1 = true, .layout = LAYOUT_SPLIT,
		 .rx_buf = BIG_BUF, .base = 65500 },
};

FIXTURE_VARIANT_ADD(fg, r256_indirect) {
	.cfg = { .num = 256, .version_1 = true, .indirect = true,
		 .layout = LAYOUT_INDIRECT, .rx_buf = BIG_BUF, .base = 65533 },
};

FIXTURE_VARIANT_ADD(fg, r256_evidx) {
	.cfg = { .num = 256, .version_1 = true, .event_idx = true,
		 .layout = LAYOUT_SINGLE, .rx_buf = BIG_BUF, .base = 65520 },
};

FIXTURE_VARIANT_ADD(fg, r256_mrg) {
	.cfg = { .num = 256, .version_1 = true, .mrg = true,
		 .layout = LAYOUT_SPLIT, .rx_buf = SMALL_RX, .base = 65500 },
};

FIXTURE_VARIANT_ADD(fg, r64_all) {
	.cfg = { .num = 64, .version_1 = true, .event_idx = true,
		 .indirect = true, .mrg = true, .layout = LAYOUT_INDIRECT,
		 .rx_buf = SMALL_RX, .base = 65530 },
};

FIXTURE_VARIANT_ADD(fg, r1024_evidx_mrg) {
	.cfg = { .num = 1024, .version_1 = true, .event_idx = true,
		 .mrg = true, .layout = LAYOUT_SPLIT, .rx_buf = SMALL_RX,
		 .base = 64000 },
};

FIXTURE_VARIANT_ADD(fg, r32768_all) {
	.cfg = { .num = 32768, .version_1 = true, .event_idx = true,
		 .indirect = true, .mrg = true, .layout = LAYOUT_SINGLE,
		 .rx_buf = SMALL_RX, .base = 65535 },
};

/* Legacy (no VERSION_1): 10-byte header on the ring and the tap. */
FIXTURE_VARIANT_ADD(fg, r128_legacy) {
	.cfg = { .num = 128, .layout = LAYOUT_SPLIT, .rx_buf = BIG_BUF,
		 .base = 65500 },
};

FIXTURE_VARIANT_ADD(fg, r128_legacy_mrg) {
	.cfg = { .num = 128, .mrg = true, .layout = LAYOUT_SINGLE,
		 .rx_buf = SMALL_RX, .base = 100 },
};

/* The device handles the vnet header; the tap has none. */
FIXTURE_VARIANT_ADD(fg, r256_devhdr) {
	.cfg = { .num = 256, .version_1 = true, .event_idx = true,
		 .layout = LAYOUT_SPLIT, .rx_buf = BIG_BUF, .base = 65500,
		 .dev_hdr = true },
};

FIXTURE_VARIANT_ADD(fg, r128_devhdr_mrg) {
	.cfg = { .num = 128, .version_1 = true, .indirect = true, .mrg = true,
		 .layout = LAYOUT_INDIRECT, .rx_buf = SMALL_RX, .base = 65530,
		 .dev_hdr = true },
};

/* In order: TX batches come back as one used entry each (on vhnet). */
FIXTURE_VARIANT_ADD(fg, r256_inorder) {
	.cfg = { .num = 256, .version_1 = true, .in_order = true,
		 .layout = LAYOUT_SINGLE, .rx_buf = BIG_BUF, .base = 65500 },
};

FIXTURE_VARIANT_ADD(fg, r512_all_inorder) {
	.cfg = { .num = 512, .version_1 = true, .event_idx = true,
		 .indirect = true, .mrg = true, .in_order = true,
		 .layout = LAYOUT_INDIRECT, .rx_buf = SMALL_RX, .base = 65400 },
};

/*
 * Behind a vIOMMU: every ring and buffer address an IOVA the device
 * translates through its IOTLB, filled on its misses; 4 KiB IOMMU pages
 * (a buffer spans several entries, the table evicts) and 2 MiB ones.
 */
FIXTURE_VARIANT_ADD(fg, r256_iommu4k_mrg) {
	.cfg = { .num = 256, .version_1 = true, .event_idx = true,
		 .indirect = true, .mrg = true, .layout = LAYOUT_INDIRECT,
		 .rx_buf = SMALL_RX, .base = 65500, .iommu_page = 4096 },
};

FIXTURE_VARIANT_ADD(fg, r1024_iommu2m) {
	.cfg = { .num = 1024, .version_1 = true, .event_idx = true,
		 .layout = LAYOUT_SPLIT, .rx_buf = BIG_BUF, .base = 64000,
		 .iommu_page = 2ULL << 20 },
};

FIXTURE_SETUP(fg)
{
	guest_init(_metadata, &self->fg, &variant->cfg);
	guest_attach(_metadata, &self->fg);
}

FIXTURE_TEARDOWN(fg)
{
	guest_fini(&self->fg);
}

/* Every size and offload kind, guest to tap, byte and header exact. */
TEST_F(fg, tx)
{
	struct fg *fg = &self->fg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pkt_cases); i++)
		if (!fg->cfg->dev_hdr || pkt_cases[i].kind == GUEST_PKT_PLAIN)
			tx_one(_metadata, fg, &pkt_cases[i], i, true);
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/* Every size and offload kind, tap to guest, byte and header exact. */
TEST_F(fg, rx)
{
	struct fg *fg = &self->fg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pkt_cases); i++)
		if (!fg->cfg->dev_hdr || pkt_cases[i].kind == GUEST_PKT_PLAIN)
			rx_one(_metadata, fg, &pkt_cases[i], i, true);
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/* A packet that finds no RX buffer waits in the tap queue for one. */
TEST_F(fg, rx_waits_for_buffers)
{
	static const struct pkt_case gso = { GSO_FRAME, GUEST_PKT_GSO4 };
	static const struct pkt_case jumbo = { TAP_MTU + ETH_HLEN, GUEST_PKT_PLAIN };
	struct fg *fg = &self->fg;
	const struct pkt_case big = fg->cfg->dev_hdr ? jumbo : gso;
	struct gvq *vq = &fg->vq[RX_VQ];
	struct virtio_net_hdr_mrg_rxbuf got;
	struct virtio_net_hdr h;
	unsigned int seq;
	int n;

	gvq_want_irq(vq, true);
	for (seq = 0; seq < 3; seq++) {
		guest_make_frame(fg->frame, 1000, GUEST_PKT_PLAIN, seq, &h);
		inject(_metadata, fg, fg->frame, 1000, &h);
	}
	ASSERT_FALSE(guest_efd_fired(vq->call, QUIET_MS));
	ASSERT_EQ(vq->last_used, guest_load16(&vq->vr.used->idx));

	/* Too few buffers for the big packet at first, on mrg rings. */
	if (fg->cfg->mrg) {
		rx_post(_metadata, fg, 1);
		n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
		ASSERT_EQ(1000, n);
		guest_make_frame(fg->frame, 1000, GUEST_PKT_PLAIN, 0, &h);
		check_bytes(_metadata, fg->scratch, fg->frame, 1000, "first");
		fg->rx_got++;
		guest_make_frame(fg->frame, big.len, big.kind, 3, &h);
		inject(_metadata, fg, fg->frame, big.len, &h);
		guest_efd_fired(vq->call, 0);
		rx_post(_metadata, fg, 3);
		/* Two small packets fit; the big one must wait, not drop. */
		for (seq = 1; seq < 3; seq++) {
			n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
			ASSERT_EQ(1000, n);
			fg->rx_got++;
		}
		ASSERT_EQ(-1, rx_take(_metadata, fg, &got, fg->scratch,
				      QUIET_MS));
		guest_efd_fired(vq->call, 0);
		gvq_want_irq(vq, true);
		rx_refill(_metadata, fg);
		n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
		ASSERT_EQ((int)big.len, n);
		check_bytes(_metadata, fg->scratch, fg->frame, big.len, "big");
		ASSERT_EQ(h.gso_size, got.hdr.gso_size);
		ASSERT_EQ(h.gso_type, got.hdr.gso_type);
		fg->rx_got++;
	} else {
		guest_efd_fired(vq->call, 0);
		gvq_want_irq(vq, true);
		rx_refill(_metadata, fg);
		for (seq = 0; seq < 3; seq++) {
			n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
			ASSERT_EQ(1000, n) TH_LOG("seq %u", seq);
			guest_make_frame(fg->frame, 1000, GUEST_PKT_PLAIN, seq, &h);
			check_bytes(_metadata, fg->scratch, fg->frame, 1000,
				    "waited");
			fg->rx_got++;
		}
	}
	ASSERT_TRUE(guest_efd_fired(vq->call, WAIT_MS));
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/*
 * Calls suppressed by NO_INTERRUPT or used_event, and re-enabled. The
 * first completion asks for a call: vhost-net always signals the first
 * one after a ring starts, whatever the guest asked.
 */
TEST_F(fg, notify)
{
	static const struct pkt_case pc = { 64, GUEST_PKT_PLAIN };
	struct fg *fg = &self->fg;
	unsigned int i;

	for (i = 0; i < 6; i++) {
		bool on = i % 3 == 0;

		tx_one(_metadata, fg, &pc, i, on);
		rx_one(_metadata, fg, &pc, i, on);
	}
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/*
 * Move enough 64-byte packets both ways for the ring position to wrap
 * (num + 100), keeping up to BURST_WINDOW in flight; with the variant's
 * start index the u16 indices wrap past 65535 too. Every packet is
 * checked in order. Returns packets per second.
 */
static double burst_tx(struct __test_metadata *_metadata, struct fg *fg,
		       unsigned int count)
{
	struct gvq *vq = &fg->vq[TX_VQ];
	struct virtio_net_hdr h, got;
	unsigned int sent = 0, seen = 0, done = 0;
	u8 frame[64];
	u64 idle = guest_now_ms() + WAIT_MS;
	double t0 = guest_now_s();
	u32 id, len;

	while (seen < count || done < count) {
		bool progress = false;
		int n;

		while (sent < count && sent - done < BURST_WINDOW &&
		       vq->num_free >= descs_per_buf(fg)) {
			guest_make_frame(frame, sizeof(frame), GUEST_PKT_PLAIN, sent, &h);
			ASSERT_LE(0, tx_post(fg, frame, sizeof(frame), &h));
			sent++;
		}
		gvq_publish(vq);
		while (vq->last_used != guest_load16(&vq->vr.used->idx)) {
			ASSERT_EQ(0, gvq_get_used(vq, &id, &len, 0));
			vq_complete(_metadata, vq, id);
			done++;
			progress = true;
		}
		while ((n = cap_recv(fg, &got, fg->scratch, 0)) >= 0) {
			guest_make_frame(frame, sizeof(frame), GUEST_PKT_PLAIN, seen, &h);
			ASSERT_EQ(64, n);
			check_bytes(_metadata, fg->scratch, frame, 64, "TX burst");
			seen++;
			progress = true;
		}
		if (progress) {
			idle = guest_now_ms() + WAIT_MS;
		} else {
			struct pollfd p[2] = {
				{ .fd = fg->tap.cap, .events = POLLIN },
				{ .fd = vq->call, .events = POLLIN },
			};

			ASSERT_GT(idle, guest_now_ms())
				TH_LOG("TX burst stalled: sent %u used %u seen %u",
				       sent, done, seen);
			poll(p, 2, 1);
			guest_efd_fired(vq->call, 0);
		}
	}
	fg->tx_sent += count;
	return count / (guest_now_s() - t0);
}

static double burst_rx(struct __test_metadata *_metadata, struct fg *fg,
		       unsigned int count)
{
	struct gvq *vq = &fg->vq[RX_VQ];
	struct virtio_net_hdr_mrg_rxbuf got;
	struct virtio_net_hdr h;
	unsigned int sent = 0, seen = 0;
	u8 frame[64];
	double t0 = guest_now_s();
	int n;

	rx_refill(_metadata, fg);
	while (seen < count) {
		/* Stay below the tap's queue length (500): no drops. */
		while (sent < count && sent - seen < BURST_WINDOW) {
			guest_make_frame(frame, sizeof(frame), GUEST_PKT_PLAIN, sent, &h);
			inject(_metadata, fg, frame, sizeof(frame), &h);
			sent++;
		}
		n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
		ASSERT_EQ(64, n) TH_LOG("RX burst: %u sent, %u seen", sent, seen);
		guest_make_frame(frame, sizeof(frame), GUEST_PKT_PLAIN, seen, &h);
		check_bytes(_metadata, fg->scratch, frame, 64, "RX burst");
		seen++;
		if (vq->fifo_len < MAX_POSTED / 2)
			rx_refill(_metadata, fg);
	}
	guest_efd_fired(vq->call, 0);
	fg->rx_got += count;
	return count / (guest_now_s() - t0);
}

/*
 * A burst the device sees at once comes back as negotiated: one used entry
 * per chain in ring order, or with VIRTIO_F_IN_ORDER (on vhnet) exactly one
 * entry for the batch, in the batch's first slot, naming its last head.
 */
#define TX_USED_BURST	32
TEST_F(fg, tx_used_entries)
{
	struct fg *fg = &self->fg;
	struct gvq *vq = &fg->vq[TX_VQ];
	struct vring_used_elem *ring = vq->vr.used->ring;
	const u32 unwritten = 0xffffffff;
	unsigned int i, n = TX_USED_BURST, written = 0;
	u16 first = vq->last_used;
	struct virtio_net_hdr h, got;
	int heads[TX_USED_BURST];
	u64 end;
	u8 frame[64];

	if (n > vq->num_free / descs_per_buf(fg))
		n = vq->num_free / descs_per_buf(fg);
	for (i = 0; i < vq->num; i++)
		ring[i].id = unwritten;
	for (i = 0; i < n; i++) {
		guest_make_frame(frame, sizeof(frame), GUEST_PKT_PLAIN, i, &h);
		heads[i] = tx_post(fg, frame, sizeof(frame), &h);
		ASSERT_LE(0, heads[i]);
	}
	/* One store of avail->idx: the device finds all n in one pass. */
	gvq_publish(vq);
	end = guest_now_ms() + WAIT_MS;
	while (gvq_used_pending(vq) < n) {
		ASSERT_GT(end, guest_now_ms())
			TH_LOG("%u of %u used", gvq_used_pending(vq), n);
		usleep(1000);
	}
	ASSERT_EQ(n, gvq_used_pending(vq));
	for (i = 0; i < n; i++)
		written += ring[(u16)(first + i) % vq->num].id != unwritten;
	if (fg->in_order && strstr(fg->path, "vhnet")) {
		EXPECT_EQ(1, written);
		EXPECT_EQ((u32)heads[n - 1], ring[first % vq->num].id);
	} else if (!fg->in_order) {
		EXPECT_EQ(n, written);
		for (i = 0; i < n; i++)
			EXPECT_EQ((u32)heads[i], ring[(u16)(first + i) % vq->num].id)
				TH_LOG("used entry %u", i);
	}
	ASSERT_EQ((int)n, gvq_reap(vq));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(64, cap_recv(fg, &got, fg->scratch, WAIT_MS))
			TH_LOG("frame %u", i);
		guest_make_frame(frame, sizeof(frame), GUEST_PKT_PLAIN, i, &h);
		check_bytes(_metadata, fg->scratch, frame, 64, "TX in order");
	}
	fg->tx_sent += n;
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

TEST_F_TIMEOUT(fg, wrap, 120)
{
	struct fg *fg = &self->fg;
	unsigned int count = fg->cfg->num + 100;

	gvq_want_irq(&fg->vq[TX_VQ], true);
	gvq_want_irq(&fg->vq[RX_VQ], true);
	burst_tx(_metadata, fg, count);
	burst_rx(_metadata, fg, count);
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/*
 * Detach both backends (fd -1) with traffic queued, check GET_VRING_BASE,
 * reattach: everything arrives exactly once, in order, without a kick.
 */
TEST_F(fg, detach_reattach)
{
	static const struct pkt_case pc = { 200, GUEST_PKT_PLAIN };
	struct fg *fg = &self->fg;
	struct gvq *tx = &fg->vq[TX_VQ], *rx = &fg->vq[RX_VQ];
	struct vhost_vring_state st = { .index = TX_VQ };
	struct virtio_net_hdr h, got;
	struct virtio_net_hdr_mrg_rxbuf rgot;
	unsigned int i, n = 32, seen = 0;
	u32 id, len;
	int r;

	gvq_want_irq(tx, true);
	gvq_want_irq(rx, true);
	rx_refill(_metadata, fg);
	for (i = 0; i < n; i++) {
		guest_make_frame(fg->frame, pc.len, pc.kind, i, &h);
		ASSERT_LE(0, tx_post(fg, fg->frame, pc.len, &h));
		inject(_metadata, fg, fg->frame, pc.len, &h);
		if (i == n / 2)
			gvq_publish(tx);
	}
	/* Half of TX is published and may be in flight: pull the tap away. */
	ASSERT_EQ(0, set_backend(fg, TX_VQ, -1));
	ASSERT_EQ(0, set_backend(fg, RX_VQ, -1));
	/* Stopped: everything consumed is used, and the base says so. */
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	ASSERT_EQ(guest_load16(&tx->vr.used->idx), st.num);
	ASSERT_LE((u16)(st.num - fg->cfg->base), n / 2 + 1);
	gvq_publish(tx);
	usleep(QUIET_MS * 1000);
	ASSERT_EQ(st.num, guest_load16(&tx->vr.used->idx)) TH_LOG("TX ran detached");

	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap.fd));
	ASSERT_EQ(0, set_backend(fg, RX_VQ, fg->tap.fd));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, gvq_get_used(tx, &id, &len, WAIT_MS))
			TH_LOG("TX %u not used after reattach", i);
		vq_complete(_metadata, tx, id);
	}
	while ((r = cap_recv(fg, &got, fg->scratch, QUIET_MS)) >= 0) {
		ASSERT_GT(n, seen) TH_LOG("TX duplicate");
		ASSERT_EQ((int)pc.len, r);
		guest_make_frame(fg->frame, pc.len, pc.kind, seen, &h);
		check_bytes(_metadata, fg->scratch, fg->frame, pc.len, "TX");
		seen++;
	}
	ASSERT_EQ(n, seen);
	for (i = 0; i < n; i++) {
		r = rx_take(_metadata, fg, &rgot, fg->scratch, WAIT_MS);
		ASSERT_EQ((int)pc.len, r) TH_LOG("RX %u after reattach", i);
		guest_make_frame(fg->frame, pc.len, pc.kind, i, &h);
		check_bytes(_metadata, fg->scratch, fg->frame, pc.len, "RX");
		rx_refill(_metadata, fg);
	}
	ASSERT_EQ(-1, rx_take(_metadata, fg, &rgot, fg->scratch, QUIET_MS));
	st.index = TX_VQ;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	ASSERT_EQ((u16)(fg->cfg->base + n), st.num);
	fg->tx_sent += n;
	fg->rx_got += n;
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/* ---- rate: a first look at packets per second, not an assertion ---- */

/*
 * Start or stop logging as QEMU does when a migration starts and when it
 * ends or is cancelled: VHOST_F_LOG_ALL on or off, then each ring's
 * address again with or without VHOST_VRING_F_LOG and its used ring's GPA.
 */
static void log_enable(struct __test_metadata *_metadata, struct fg *fg,
		       bool on)
{
	u64 f = fg->features | (on ? 1ULL << VHOST_F_LOG_ALL : 0);
	struct vhost_vring_addr a;
	unsigned int i;

	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &f)) TH_LOG("SET_FEATURES: %m");
	for (i = 0; i < GUEST_NR_VQS; i++) {
		gvq_addr(&fg->vq[i], i, &a);
		if (on) {
			/* QEMU gives the used ring's IOVA behind a vIOMMU. */
			a.flags = 1 << VHOST_VRING_F_LOG;
			a.log_guest_addr = fg->cfg->iommu_page ? a.used_user_addr :
					   gpa_of(&fg->mem, fg->vq[i].vr.used);
		}
		ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_ADDR, &a))
			TH_LOG("SET_VRING_ADDR %u: %m", i);
	}
}

static bool log_bit(const u8 *log, u64 pfn)
{
	return log[pfn / 8] & (1 << (pfn % 8));
}

/*
 * Compare the log with what the device must have written (RX data, the
 * used rings' index and, without IN_ORDER, every used entry published
 * since @used0) and what it may have written (all of each used ring). A
 * page written and not marked would reach a migration's destination
 * stale: that fails, and so does a page marked that the device never
 * had reason to touch (a TX buffer, a descriptor table, an avail ring).
 * Rings of up to 511 entries fit one page, so there the two bounds
 * agree and the log is exact: vhost-net and vhnet must mark the same.
 */
static void check_log(struct __test_metadata *_metadata, struct fg *fg,
		      const u8 *log, const u16 *used0)
{
	u8 *must = calloc(LOG_PAGES, 1), *may = calloc(LOG_PAGES, 1);
	unsigned int i, missing = 0, extra = 0, marked = 0;
	u64 pfn;

	ASSERT_NE(NULL, must);
	ASSERT_NE(NULL, may);
	memcpy(must, fg->rx_wrote, LOG_PAGES);
	memcpy(may, fg->rx_wrote, LOG_PAGES);
	for (i = 0; i < GUEST_NR_VQS; i++) {
		struct gvq *vq = &fg->vq[i];
		u64 used = gpa_of(&fg->mem, vq->vr.used);
		u16 now = guest_load16(&vq->vr.used->idx), k;

		note_written(may, used, vring_size(vq->num, GUEST_RING_ALIGN) -
			     ((u8 *)vq->vr.used - (u8 *)vq->vr.desc));
		note_written(must, used + offsetof(struct vring_used, idx), 2);
		for (k = used0[i]; !fg->in_order && k != now; k++)
			note_written(must, gpa_of(&fg->mem, &vq->vr.used->ring[k % vq->num]),
				     sizeof(struct vring_used_elem));
	}
	for (pfn = 0; pfn < LOG_PAGES; pfn++) {
		unsigned long long gpa = pfn * LOG_PAGE;
		bool bit = log_bit(log, pfn);

		marked += bit;
		if (must[pfn] && !bit && missing++ < 5)
			TH_LOG("page %#llx written, not marked", gpa);
		if (bit && !may[pfn] && extra++ < 5)
			TH_LOG("page %#llx marked, never written", gpa);
	}
	free(must);
	free(may);
	TH_LOG("%s: %u pages marked", fg->path, marked);
	EXPECT_EQ(0, missing) TH_LOG("pages written and not marked");
	/*
	 * Behind a vIOMMU vhost-net marks every page of every buffer it
	 * filled, written or not (vhost_log_write() logs whole iovecs): a
	 * superset, which costs only page copies. vhnet stays exact.
	 */
	if (fg->cfg->iommu_page && strcmp(fg->path, DEFAULT_DEV))
		TH_LOG("%s behind a vIOMMU: %u pages marked beyond those written",
		       fg->path, extra);
	else
		EXPECT_EQ(0, extra) TH_LOG("pages marked that were not written");
}

/*
 * Live migration's dirty log: with logging on, every guest page the
 * device writes is marked (see check_log); once logging is off again,
 * traffic marks nothing.
 */
TEST_F(fg, dirty_log)
{
	struct fg *fg = &self->fg;
	size_t log_size = LOG_PAGES / 8;
	u8 *log = calloc(log_size, 1);
	u64 base = (uintptr_t)log;
	u16 used0[GUEST_NR_VQS];
	unsigned int i;

	ASSERT_NE(NULL, log);
	fg->rx_wrote = calloc(LOG_PAGES, 1);
	ASSERT_NE(NULL, fg->rx_wrote);
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_LOG_BASE, &base)) TH_LOG("SET_LOG_BASE: %m");
	log_enable(_metadata, fg, true);
	for (i = 0; i < GUEST_NR_VQS; i++)
		used0[i] = guest_load16(&fg->vq[i].vr.used->idx);

	for (i = 0; i < ARRAY_SIZE(pkt_cases); i++) {
		if (fg->cfg->dev_hdr && pkt_cases[i].kind != GUEST_PKT_PLAIN)
			continue;
		tx_one(_metadata, fg, &pkt_cases[i], i, true);
		rx_one(_metadata, fg, &pkt_cases[i], i, true);
	}
	check_log(_metadata, fg, log, used0);

	log_enable(_metadata, fg, false);
	memset(log, 0, log_size);
	tx_one(_metadata, fg, &pkt_cases[0], 100, true);
	rx_one(_metadata, fg, &pkt_cases[0], 101, true);
	for (i = 0; i < log_size; i++)
		if (log[i])
			break;
	EXPECT_EQ(log_size, i) TH_LOG("logging off, yet byte %u of the log is %#x",
				      i, log[i]);
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
	free(fg->rx_wrote);
	fg->rx_wrote = NULL;
	free(log);
}

FIXTURE(fg_rate) {
	struct fg fg;
};

static const struct fg_cfg rate_cfg = {
	.num = 256, .version_1 = true, .event_idx = true, .mrg = true,
	.layout = LAYOUT_SINGLE, .rx_buf = SMALL_RX, .base = 65535 - 9999,
};

FIXTURE_SETUP(fg_rate)
{
	guest_init(_metadata, &self->fg, &rate_cfg);
	guest_attach(_metadata, &self->fg);
}

FIXTURE_TEARDOWN(fg_rate)
{
	guest_fini(&self->fg);
}

TEST_F_TIMEOUT(fg_rate, pps, 120)
{
	struct fg *fg = &self->fg;
	double tx, rx;

	gvq_want_irq(&fg->vq[TX_VQ], true);
	gvq_want_irq(&fg->vq[RX_VQ], true);
	tx = burst_tx(_metadata, fg, BURST);
	rx = burst_rx(_metadata, fg, BURST);
	ksft_print_msg("rate %s: TX %u x 64B: %.0f pps, RX %u x 64B: %.0f pps\n",
		       fg->path, BURST, tx, BURST, rx);
	ksft_print_msg("rate %s: %u TX kicks, %u RX kicks\n", fg->path,
		       fg->vq[TX_VQ].kicks, fg->vq[RX_VQ].kicks);
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/* ---- ABI edge cases: both devices must answer alike ---- */

FIXTURE(abi) {
	struct fg fg;
};

static const struct fg_cfg abi_cfg = {
	.num = 256, .version_1 = true, .layout = LAYOUT_SINGLE,
	.rx_buf = BIG_BUF, .base = 0,
};

FIXTURE_SETUP(abi)
{
	guest_init(_metadata, &self->fg, &abi_cfg);
}

FIXTURE_TEARDOWN(abi)
{
	guest_fini(&self->fg);
}

static int vring_num(struct fg *fg, unsigned int index, unsigned int num)
{
	struct vhost_vring_state st = { .index = index, .num = num };

	return ioctl(fg->vfd, VHOST_SET_VRING_NUM, &st) ? -errno : 0;
}

TEST_F(abi, set_vring_num)
{
	struct fg *fg = &self->fg;

	EXPECT_EQ(-EINVAL, vring_num(fg, TX_VQ, 0));
	EXPECT_EQ(-EINVAL, vring_num(fg, TX_VQ, 3));
	EXPECT_EQ(-EINVAL, vring_num(fg, TX_VQ, 1000));
	EXPECT_EQ(-EINVAL, vring_num(fg, TX_VQ, 65535));
	EXPECT_EQ(-EINVAL, vring_num(fg, TX_VQ, 65536));
	EXPECT_EQ(-EINVAL, vring_num(fg, TX_VQ, 1U << 31));
	EXPECT_EQ(0, vring_num(fg, TX_VQ, 32768));
	EXPECT_EQ(0, vring_num(fg, TX_VQ, 1));
	EXPECT_EQ(0, vring_num(fg, TX_VQ, 256));
	/* Not while a backend is attached. */
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap.fd));
	EXPECT_EQ(-EBUSY, vring_num(fg, TX_VQ, 128));
	ASSERT_EQ(0, set_backend(fg, TX_VQ, -1));
	EXPECT_EQ(0, vring_num(fg, TX_VQ, 128));
}

/* Set a table of n regions, the first nr (at most) taken from r. */
static int mem_table(struct fg *fg, const struct vhost_memory_region *r,
		     unsigned int nr, unsigned int n, u32 padding)
{
	size_t sz = sizeof(struct vhost_memory) + n * sizeof(*r);
	struct vhost_memory *m = calloc(1, sz);
	int e;

	if (!m)
		return -ENOMEM;
	m->nregions = n;
	m->padding = padding;
	memcpy(m->regions, r, (n < nr ? n : nr) * sizeof(*r));
	e = ioctl(fg->vfd, VHOST_SET_MEM_TABLE, m) ? -errno : 0;
	free(m);
	return e;
}

TEST_F(abi, set_mem_table)
{
	struct vhost_memory_region r[65];
	struct fg *fg = &self->fg;
	unsigned int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < ARRAY_SIZE(r); i++) {
		r[i].guest_phys_addr = GPA_BASE + i * 0x100000ULL;
		r[i].memory_size = 0x100000;
		r[i].userspace_addr = (uintptr_t)fg->mem.region[0].hva + i * 0x100000ULL;
	}
	EXPECT_EQ(0, mem_table(fg, r, ARRAY_SIZE(r), 64, 0));
	EXPECT_EQ(-E2BIG, mem_table(fg, r, ARRAY_SIZE(r), 65, 0));
	EXPECT_EQ(-E2BIG, mem_table(fg, r, ARRAY_SIZE(r), 100000, 0));
	EXPECT_EQ(-EOPNOTSUPP, mem_table(fg, r, ARRAY_SIZE(r), 2, 1));
	EXPECT_EQ(0, mem_table(fg, r, ARRAY_SIZE(r), 0, 0));

	/* Zero size. */
	r[1].memory_size = 0;
	EXPECT_EQ(-EFAULT, mem_table(fg, r, ARRAY_SIZE(r), 2, 0));
	/* GPA range wraps around 2^64. */
	r[1].guest_phys_addr = ~0ULL - 0xfff;
	r[1].memory_size = 0x2000;
	EXPECT_EQ(-EFAULT, mem_table(fg, r, ARRAY_SIZE(r), 2, 0));
	/*
	 * User range wraps or is not user memory. vhost-net checks user
	 * ranges only for running rings (an attached backend).
	 */
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap.fd));
	r[1].guest_phys_addr = GPA_BASE + 0x100000;
	r[1].memory_size = 0x100000;
	r[1].userspace_addr = ~0ULL - 0xfff;
	EXPECT_EQ(-EFAULT, mem_table(fg, r, ARRAY_SIZE(r), 2, 0));
	ASSERT_EQ(0, set_backend(fg, TX_VQ, -1));
	/*
	 * Overlapping GPA ranges: vhost-net accepts them (its interval tree
	 * keeps both; lookups take the first match). vhnet refuses them: a
	 * guest address with two translations is a VMM bug, not a table.
	 */
	r[1].userspace_addr = (uintptr_t)fg->mem.region[1].hva;
	r[1].guest_phys_addr = GPA_BASE + 0x80000;
	EXPECT_EQ(strstr(fg->path, "vhnet") ? -EINVAL : 0,
		  mem_table(fg, r, ARRAY_SIZE(r), 2, 0));
	/* The real table again: the fixture's rings must still work. */
	EXPECT_EQ(0, guest_set_mem_table(fg->vfd, &fg->mem));
}

TEST_F(abi, features)
{
	static const u64 need = 1ULL << VIRTIO_F_VERSION_1 |
		1ULL << VIRTIO_RING_F_EVENT_IDX |
		1ULL << VIRTIO_RING_F_INDIRECT_DESC |
		1ULL << VIRTIO_NET_F_MRG_RXBUF |
		1ULL << VHOST_NET_F_VIRTIO_NET_HDR;
	struct fg *fg = &self->fg;
	u64 have, f;
	int bit;

	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_FEATURES, &have));
	EXPECT_EQ(need, have & need);
	for (bit = 63; bit >= 0; bit--) {
		if (have & (1ULL << bit))
			continue;
		f = have | 1ULL << bit;
		EXPECT_EQ(-1, ioctl(fg->vfd, VHOST_SET_FEATURES, &f))
			TH_LOG("bit %d accepted", bit);
		EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("bit %d", bit);
	}
	EXPECT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &have));
	f = 0;
	EXPECT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &f));
}

static int vring_addr_err(struct fg *fg, struct vhost_vring_addr *a)
{
	return ioctl(fg->vfd, VHOST_SET_VRING_ADDR, a) ? -errno : 0;
}

TEST_F(abi, set_vring_addr)
{
	struct fg *fg = &self->fg;
	struct vhost_vring_addr a;

	gvq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.avail_user_addr += 1;
	EXPECT_EQ(-EINVAL, vring_addr_err(fg, &a));
	gvq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.used_user_addr += 2;
	EXPECT_EQ(-EINVAL, vring_addr_err(fg, &a));
	gvq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.flags = 1U << 5;
	EXPECT_EQ(-EOPNOTSUPP, vring_addr_err(fg, &a));
	gvq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.index = 2;
	EXPECT_EQ(-ENOBUFS, vring_addr_err(fg, &a));
	gvq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	EXPECT_EQ(0, vring_addr_err(fg, &a));
}

/*
 * The dirty log's configuration, checked as vhost-net checks it: a log
 * that cannot hold a bit for every page the device may write is refused
 * once logging is on (EFAULT; EINVAL for a ring address).
 */
TEST_F(abi, dirty_log_setup)
{
	/* The log bytes of guest memory would lie past user space's end. */
	const u64 bad = 0x7ffffffff000ULL;
	struct fg *fg = &self->fg;
	u64 f = fg->features | 1ULL << VHOST_F_LOG_ALL, base;
	struct vhost_vring_addr a;
	u8 *log = calloc(LOG_PAGES / 8, 1);
	int fd;

	ASSERT_NE(NULL, log);
	guest_attach(_metadata, fg);
	/* Not logging: any base is taken (it is checked when logging starts). */
	EXPECT_EQ(0, ioctl(fg->vfd, VHOST_SET_LOG_BASE, &bad));
	EXPECT_EQ(-1, ioctl(fg->vfd, VHOST_SET_FEATURES, &f));
	EXPECT_EQ(EFAULT, errno);
	base = (uintptr_t)log;
	EXPECT_EQ(0, ioctl(fg->vfd, VHOST_SET_LOG_BASE, &base));
	EXPECT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &f)) TH_LOG("%m");
	/* Logging: a base that cannot cover guest memory is refused. */
	EXPECT_EQ(-1, ioctl(fg->vfd, VHOST_SET_LOG_BASE, &bad));
	EXPECT_EQ(EFAULT, errno);
	/* A used ring whose log bits would lie past user space's end. */
	gvq_addr(&fg->vq[RX_VQ], RX_VQ, &a);
	a.flags = 1 << VHOST_VRING_F_LOG;
	a.log_guest_addr = 1ULL << 62;
	EXPECT_EQ(-EINVAL, vring_addr_err(fg, &a));
	a.log_guest_addr = gpa_of(&fg->mem, fg->vq[RX_VQ].vr.used);
	EXPECT_EQ(0, vring_addr_err(fg, &a));
	EXPECT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &fg->features));
	free(log);

	/*
	 * LOG_ALL before any memory table: taken while no ring is attached
	 * (QEMU negotiates features first); checked when one is.
	 */
	fd = open(fg->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_FEATURES, &f)) TH_LOG("%m");
	close(fd);
}

static int iotlb_write(struct fg *fg, const void *msg, size_t len)
{
	ssize_t n = write(fg->vfd, msg, len);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/*
 * The IOTLB message channel of a guest behind a vIOMMU: malformed
 * messages, reads with nothing to read, and the miss a backend attached
 * before its used ring is translated asks for, answered alike by both.
 */
TEST_F(abi, iotlb_msgs)
{
	struct fg *fg = &self->fg;
	u64 f = fg->features | 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	u64 bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2, have = 0;
	u64 page = (uintptr_t)guest_hva(&fg->mem, POOL_START);
	struct gvq *rx = &fg->vq[RX_VQ];
	struct pollfd pfd = { .fd = fg->vfd, .events = POLLIN };
	struct vhost_msg_v2 m2 = { .type = VHOST_IOTLB_MSG_V2 };
	struct vhost_msg m1 = { .type = VHOST_IOTLB_MSG };
	struct vhost_vring_addr a;
	u32 type = VHOST_IOTLB_MSG_V2;
	u64 used_iova;
	int fl;

	/* No ACCESS_PLATFORM, no IOTLB: updates fail, a read would wait forever. */
	EXPECT_EQ(-EFAULT, guest_iotlb_update(fg->vfd, 0x1000, 4096, page,
					      VHOST_ACCESS_RW));
	EXPECT_EQ(-1, read(fg->vfd, &m2, sizeof(m2)));
	EXPECT_EQ(EBADFD, errno);

	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_BACKEND_FEATURES, &have));
	EXPECT_TRUE(have & bf);
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_BACKEND_FEATURES, &bf));
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &f)) TH_LOG("%m");

	EXPECT_EQ(0, guest_iotlb_update(fg->vfd, 0x1000, 4096, page, VHOST_ACCESS_RW));
	EXPECT_EQ(0, guest_iotlb_invalidate(fg->vfd, 0x1000, 4096));
	EXPECT_EQ(0, guest_iotlb_invalidate(fg->vfd, 0x1000, 0));
	EXPECT_EQ(0, guest_iotlb_invalidate(fg->vfd, ~0ULL - 10, 4096));
	/* Any access mode is taken; what it does not allow fails later. */
	EXPECT_EQ(0, guest_iotlb_update(fg->vfd, 0x1000, 4096, page, 0));
	EXPECT_EQ(0, guest_iotlb_update(fg->vfd, 0x1000, 4096, page, 0xff));
	/* The v1 format is taken too. */
	m1.iotlb = (struct vhost_iotlb_msg){ .iova = 0x2000, .size = 4096,
		.uaddr = page, .perm = VHOST_ACCESS_RO, .type = VHOST_IOTLB_UPDATE };
	EXPECT_EQ(0, iotlb_write(fg, &m1, sizeof(m1)));

	/* Short, of an unknown format, of a type the VMM may not send. */
	EXPECT_EQ(-EINVAL, iotlb_write(fg, &type, sizeof(type)));
	EXPECT_EQ(-EINVAL, iotlb_write(fg, &m2, offsetof(struct vhost_msg_v2, iotlb) +
					  sizeof(m2.iotlb) - 1));
	m2.type = 42;
	EXPECT_EQ(-EINVAL, iotlb_write(fg, &m2, sizeof(m2)));
	m2.type = VHOST_IOTLB_MSG_V2;
	m2.iotlb = (struct vhost_iotlb_msg){ .iova = 0x1000, .size = 4096,
		.uaddr = page, .type = VHOST_IOTLB_MISS };
	EXPECT_EQ(-EFAULT, iotlb_write(fg, &m2, sizeof(m2)));
	/* An empty update, one that wraps, one of memory user space cannot own. */
	EXPECT_EQ(-EINVAL, guest_iotlb_update(fg->vfd, 0x1000, 0, page, VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, guest_iotlb_update(fg->vfd, ~0ULL - 10, 4096, page,
					      VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, guest_iotlb_update(fg->vfd, 0x1000, 4096,
					      0xffff888000000000ULL, VHOST_ACCESS_RW));
	EXPECT_EQ(-EFAULT, guest_iotlb_update(fg->vfd, 0x1000, 4096, ~0ULL - 10,
					      VHOST_ACCESS_RW));

	/* Nothing to read: EAGAIN without waiting, 0 into a short buffer. */
	fl = fcntl(fg->vfd, F_GETFL);
	ASSERT_EQ(0, fcntl(fg->vfd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, read(fg->vfd, &m2, sizeof(m2)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/*
	 * Rings named by IOVA, nothing translated: attaching fails as the
	 * used ring cannot be reached, and asks for it.
	 */
	rx->ring_iova = GPA_BASE + RX_VQ * RING_AREA + DMA_OFFSET;
	gvq_addr(rx, RX_VQ, &a);
	used_iova = a.used_user_addr;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_ADDR, &a)) TH_LOG("%m");
	EXPECT_EQ(-1, set_backend(fg, RX_VQ, fg->tap.fd));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, poll(&pfd, 1, WAIT_MS));
	EXPECT_EQ(0, read(fg->vfd, &m2, sizeof(m2) - 1));
	memset(&m2, 0, sizeof(m2));
	EXPECT_EQ((ssize_t)sizeof(m2), read(fg->vfd, &m2, sizeof(m2)));
	EXPECT_EQ(VHOST_IOTLB_MSG_V2, m2.type);
	EXPECT_EQ(VHOST_IOTLB_MISS, m2.iotlb.type);
	EXPECT_EQ(used_iova, m2.iotlb.iova);
	/* Answered: the backend attaches. */
	EXPECT_EQ(0, guest_iotlb_update(fg->vfd, used_iova & ~4095ULL, 4096,
					(uintptr_t)rx->vr.used & ~4095ULL,
					VHOST_ACCESS_RW));
	EXPECT_EQ(0, set_backend(fg, RX_VQ, fg->tap.fd)) TH_LOG("%m");
	ASSERT_EQ(0, fcntl(fg->vfd, F_SETFL, fl));

	EXPECT_EQ(0, set_backend(fg, RX_VQ, -1));
	EXPECT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &fg->features));
}

/*
 * Answer the device's misses one at a time, each with the 4 KiB page it
 * asked for, until a frame reaches the tap; the frame's length, or -1.
 * *asked: the IOVA of the first miss (0: none came).
 */
static int iotlb_answer_until_frame(struct fg *fg, u64 *asked)
{
	struct pollfd pfd = { .fd = fg->vfd, .events = POLLIN };
	struct virtio_net_hdr h;
	struct vhost_msg_v2 m;
	unsigned int i;
	int n;

	*asked = 0;
	for (i = 0; i < 64; i++) {
		n = cap_recv(fg, &h, fg->scratch, 0);
		if (n >= 0)
			return n;
		if (poll(&pfd, 1, WAIT_MS / 10) != 1)
			continue;
		if (read(fg->vfd, &m, sizeof(m)) != sizeof(m) ||
		    m.iotlb.type != VHOST_IOTLB_MISS)
			return -1;
		if (!*asked)
			*asked = m.iotlb.iova;
		m.iotlb.iova &= ~4095ULL;
		if (guest_iotlb_update(fg->vfd, m.iotlb.iova, 4096,
				       (uintptr_t)guest_hva(&fg->mem, m.iotlb.iova - DMA_OFFSET),
				       VHOST_ACCESS_RW))
			return -1;
	}
	return cap_recv(fg, &h, fg->scratch, WAIT_MS);
}

/*
 * Behind a vIOMMU, step by step as a VMM sees it, on both devices: a TX
 * buffer whose page has no translation makes the device ask for exactly
 * that IOVA and hold the frame until the answer; after an invalidation
 * of the buffers' pages, the next frame asks again. The rings stay
 * translated throughout.
 */
TEST_F(abi, iotlb_invalidate)
{
	struct fg *fg = &self->fg;
	u64 f = fg->features | 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	u64 bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2, asked, gpa;
	struct gvq *tx = &fg->vq[TX_VQ];
	struct vhost_vring_addr a;
	struct virtio_net_hdr h;
	unsigned int q, seq;
	u32 id, len;
	int head;

	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_BACKEND_FEATURES, &bf));
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &f)) TH_LOG("%m");
	for (q = 0; q < GUEST_NR_VQS; q++) {
		u64 ring = GPA_BASE + q * RING_AREA;

		fg->vq[q].dma_offset = DMA_OFFSET;
		fg->vq[q].ring_iova = ring + DMA_OFFSET;
		gvq_addr(&fg->vq[q], q, &a);
		ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_ADDR, &a)) TH_LOG("%m");
		ASSERT_EQ(0, guest_iotlb_update(fg->vfd, ring + DMA_OFFSET, RING_AREA,
						(uintptr_t)guest_hva(&fg->mem, ring),
						VHOST_ACCESS_RW));
	}
	guest_attach(_metadata, fg);

	for (seq = 0; seq < 2; seq++) {
		guest_make_frame(fg->frame, 200, GUEST_PKT_PLAIN, seq, &h);
		head = tx_post(fg, fg->frame, 200, &h);
		ASSERT_LE(0, head);
		gpa = tx->tok[head].gpa;
		gvq_publish(tx);
		/* Nothing translated the buffer: no frame until we answer. */
		EXPECT_EQ(-1, cap_recv(fg, &h, fg->scratch, QUIET_MS)) TH_LOG("frame %u", seq);
		EXPECT_EQ(200, iotlb_answer_until_frame(fg, &asked));
		EXPECT_EQ(gpa + DMA_OFFSET, asked) TH_LOG("frame %u: the first miss", seq);
		ASSERT_EQ(0, gvq_get_used(tx, &id, &len, WAIT_MS));
		vq_complete(_metadata, tx, id);
		/* Forget every buffer page: the next frame must ask again. */
		EXPECT_EQ(0, guest_iotlb_invalidate(fg->vfd, POOL_START + DMA_OFFSET,
						    POOL_END - POOL_START));
	}
	check_no_err(_metadata, fg);
}

TEST_F(abi, set_backend)
{
	struct fg *fg = &self->fg;
	int efd = fg->vq[TX_VQ].call, udp;

	EXPECT_EQ(-1, set_backend(fg, TX_VQ, efd));
	EXPECT_EQ(ENOTSOCK, errno);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, udp);
	EXPECT_EQ(-1, set_backend(fg, TX_VQ, udp));
	EXPECT_EQ(ENOTSOCK, errno);
	close(udp);
	EXPECT_EQ(-1, set_backend(fg, TX_VQ, 12345));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, set_backend(fg, 2, fg->tap.fd));
	EXPECT_EQ(ENOBUFS, errno);
	/* Detaching what is not attached is fine; so is attaching twice. */
	EXPECT_EQ(0, set_backend(fg, TX_VQ, -1));
	EXPECT_EQ(0, set_backend(fg, TX_VQ, fg->tap.fd));
	EXPECT_EQ(0, set_backend(fg, TX_VQ, fg->tap.fd));
	EXPECT_EQ(0, set_backend(fg, TX_VQ, -1));
}

/* GET_VRING_BASE returns the last avail index the device consumed. */
TEST_F(abi, get_vring_base)
{
	static const struct pkt_case pc = { 100, GUEST_PKT_PLAIN };
	struct vhost_vring_state st = { .index = TX_VQ };
	struct fg *fg = &self->fg;
	unsigned int i;

	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ(0, st.num);
	st.num = 1234;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_BASE, &st));
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ(1234, st.num);
	st.num = 0;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_BASE, &st));

	guest_attach(_metadata, fg);
	gvq_want_irq(&fg->vq[TX_VQ], true);
	for (i = 0; i < 5; i++)
		tx_one(_metadata, fg, &pc, i, true);
	ASSERT_EQ(0, set_backend(fg, TX_VQ, -1));
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ(5, st.num);
	/* Resume from there, as QEMU does after migration. */
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_BASE, &st));
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap.fd));
	for (i = 5; i < 8; i++)
		tx_one(_metadata, fg, &pc, i, true);
	ASSERT_EQ(0, set_backend(fg, TX_VQ, -1));
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ(8, st.num);
	st.index = 2;
	EXPECT_EQ(-1, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ(ENOBUFS, errno);
	check_no_err(_metadata, fg);
}

TEST_HARNESS_MAIN
