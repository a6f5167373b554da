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
 * What the device sends into the tap comes out of tap0's ingress, where a
 * packet socket with PACKET_VNET_HDR captures it together with its
 * virtio-net header. What a packet socket transmits on tap0 is queued on
 * the tap for the device to read. Reading or writing the tap fd itself
 * would race with the device, which owns the queue.
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
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
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

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

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

#define RX_VQ		0
#define TX_VQ		1

#define TAP_MTU		9000
#define MAX_FRAME	65536
#define BIG_BUF		(MAX_FRAME + 64)
#define MAX_PIECES	4
#define MAX_POSTED	64
#define POISON		0xa5
#define TAIL_CHECK	64

#define WAIT_MS		5000	/* anything expected to happen, under TCG */
#define QUIET_MS	200	/* something expected NOT to happen */

#define GSO_MSS		1448
#define GSO_FRAME	65014	/* eth + IPv4 tot_len 65000 */
#define BURST		20000
#define BURST_WINDOW	256

enum layout {
	LAYOUT_SINGLE,		/* one descriptor per buffer */
	LAYOUT_SPLIT,		/* vnet header and payload in separate descriptors */
	LAYOUT_INDIRECT,	/* the split chain in an indirect table */
};

enum pkt_kind {
	PKT_PLAIN,		/* no offload: ethertype 0x88b5, pattern payload */
	PKT_CSUM,		/* TCPv4, checksum left to the receiver */
	PKT_GSO4,		/* TCPv4 GSO */
	PKT_GSO6,		/* TCPv6 GSO */
};

struct pkt_case {
	unsigned int len;
	enum pkt_kind kind;
};

static const struct pkt_case pkt_cases[] = {
	{ 60, PKT_PLAIN },
	{ 64, PKT_PLAIN },
	{ 333, PKT_PLAIN },
	{ 1514, PKT_PLAIN },
	{ 1514, PKT_CSUM },
	{ TAP_MTU + ETH_HLEN, PKT_PLAIN },
	{ GSO_FRAME, PKT_GSO4 },
	{ 32074, PKT_GSO6 },
	{ 60, PKT_PLAIN },
};

struct fg_cfg {
	unsigned int num;	/* ring size, both queues */
	bool version_1;
	bool event_idx;
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool mrg;		/* VIRTIO_NET_F_MRG_RXBUF negotiated */
	enum layout layout;
	unsigned int rx_buf;	/* RX buffer size, vnet header included */
	u16 base;		/* initial avail/used index of both rings */
	/*
	 * VHOST_NET_F_VIRTIO_NET_HDR: the device adds and strips the vnet
	 * header, the tap has none, so no offloads: plain frames only.
	 */
	bool dev_hdr;
};

/* One posted buffer, by head descriptor. */
struct fg_tok {
	u64 gpa;
	u32 len;
};

struct fg_vq {
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 avail_idx;	/* shadow of avail->idx */
	u16 kicked_idx;	/* avail->idx at the last kick decision */
	u16 last_used;	/* next used entry to consume */
	u16 free_head;
	unsigned int num_free;
	struct fg_tok *tok;
	/* Heads in the order they were made available: completions come in order. */
	u16 *fifo;
	unsigned int fifo_head, fifo_len;
	int kick, call, err;
	unsigned int kicks;
};

struct fg {
	const struct fg_cfg *cfg;
	const char *path;
	int vfd;
	int tap;
	int ifindex;
	char ifname[IFNAMSIZ];
	int cap;		/* captures what the device transmitted */
	int inj;		/* injects what the device must receive */
	void *hva[2];
	void *resv;
	u64 pool_pos;
	unsigned int hdr_len;	/* vnet header size on the ring and the tap */
	struct fg_vq vq[2];
	u64 tx_sent, rx_got;
	u8 *scratch, *frame;
};

/* ---- small helpers ---- */

static u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static u64 align_up(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

static void *gpa_hva(struct fg *fg, u64 gpa)
{
	u64 off = gpa - GPA_BASE;

	if (gpa < GPA_BASE || off >= MEM_SIZE)
		return NULL;
	return (u8 *)fg->hva[off / REGION_SIZE] + off % REGION_SIZE;
}

/* Copy to or from a GPA range that may cross the region boundary. */
static void mem_copy(struct fg *fg, u64 gpa, void *buf, size_t len,
		     bool to_guest)
{
	u8 *p = buf;

	while (len) {
		u64 off = gpa - GPA_BASE;
		size_t n = REGION_SIZE - off % REGION_SIZE;

		if (n > len)
			n = len;
		if (to_guest)
			memcpy(gpa_hva(fg, gpa), p, n);
		else
			memcpy(p, gpa_hva(fg, gpa), n);
		gpa += n;
		p += n;
		len -= n;
	}
}

static void mem_fill(struct fg *fg, u64 gpa, int c, size_t len)
{
	while (len) {
		u64 off = gpa - GPA_BASE;
		size_t n = REGION_SIZE - off % REGION_SIZE;

		if (n > len)
			n = len;
		memset(gpa_hva(fg, gpa), c, n);
		gpa += n;
		len -= n;
	}
}

static u64 pool_alloc(struct fg *fg, u64 len, u64 align)
{
	u64 gpa = align_up(fg->pool_pos, align);

	if (gpa + len > POOL_END)
		gpa = align_up(POOL_START, align);
	fg->pool_pos = gpa + len;
	return gpa;
}

/* Has the eventfd fired within ms? Consumes the count. */
static bool efd_fired(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	u64 v;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(fd, &v, sizeof(v)) == sizeof(v);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return r;
}

static u16 load16(const u16 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store16(u16 *p, u16 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void full_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- frames ---- */

static const u8 mac_dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
static const u8 mac_src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };

static u16 ip_csum(const u8 *p, unsigned int len)
{
	u32 sum = 0;
	unsigned int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/*
 * Build frame number seq of the given kind and length into f and the
 * virtio-net header that goes with it into h. Payload bytes depend on seq
 * and position, so a misplaced, stale or duplicated byte shows.
 */
static void make_frame(u8 *f, unsigned int len, enum pkt_kind kind,
		       u32 seq, struct virtio_net_hdr *h)
{
	unsigned int l3 = ETH_HLEN, l4 = 0, pay, i;

	memset(h, 0, sizeof(*h));
	memcpy(f, mac_dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, mac_src, ETH_ALEN);
	switch (kind) {
	case PKT_PLAIN:
		put16(f + 12, 0x88b5);
		put32(f + 14, seq);
		for (i = 18; i < len; i++)
			f[i] = seq * 31 + i * 7 + (i >> 8);
		return;
	case PKT_CSUM:
	case PKT_GSO4:
		put16(f + 12, ETH_P_IP);
		memset(f + l3, 0, 20);
		f[l3] = 0x45;
		put16(f + l3 + 2, len - l3);
		put16(f + l3 + 4, seq);
		put16(f + l3 + 6, 0x4000);
		f[l3 + 8] = 64;
		f[l3 + 9] = IPPROTO_TCP;
		put32(f + l3 + 12, 0xa9fe0101);
		put32(f + l3 + 16, 0xa9fe0102);
		put16(f + l3 + 10, ip_csum(f + l3, 20));
		l4 = l3 + 20;
		break;
	case PKT_GSO6:
		put16(f + 12, ETH_P_IPV6);
		memset(f + l3, 0, 40);
		f[l3] = 0x60;
		put16(f + l3 + 4, len - l3 - 40);
		f[l3 + 6] = IPPROTO_TCP;
		f[l3 + 7] = 64;
		f[l3 + 8] = 0xfe;
		f[l3 + 9] = 0x80;
		f[l3 + 23] = 1;
		f[l3 + 24] = 0xfe;
		f[l3 + 25] = 0x80;
		f[l3 + 39] = 2;
		l4 = l3 + 40;
		break;
	}
	/* TCP: ports, seq, ack, doff 5, ACK|PSH; checksum seeded with seq. */
	memset(f + l4, 0, 20);
	put16(f + l4, 40000);
	put16(f + l4 + 2, 5001);
	put32(f + l4 + 4, seq * 100000);
	put32(f + l4 + 8, 1);
	f[l4 + 12] = 0x50;
	f[l4 + 13] = 0x18;
	put16(f + l4 + 14, 65535);
	put16(f + l4 + 16, seq);
	pay = l4 + 20;
	for (i = pay; i < len; i++)
		f[i] = seq * 13 + i * 3 + (i >> 9);

	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = l4;
	h->csum_offset = 16;
	if (kind == PKT_GSO4 || kind == PKT_GSO6) {
		h->gso_type = kind == PKT_GSO4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
						 VIRTIO_NET_HDR_GSO_TCPV6;
		h->gso_size = GSO_MSS;
		h->hdr_len = pay;
	}
}

static const char *kind_name(enum pkt_kind k)
{
	static const char * const names[] = {
		[PKT_PLAIN] = "plain", [PKT_CSUM] = "csum",
		[PKT_GSO4] = "gso4", [PKT_GSO6] = "gso6",
	};

	return names[k];
}

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

/* ---- the virtqueue, driver side ---- */

static size_t ring_bytes(unsigned int num)
{
	size_t s = align_up(16 * num + 6 + 2 * num, 4096);

	return s + align_up(6 + 8 * num, 4096);
}

static void vq_init(struct fg_vq *vq, void *mem, unsigned int num,
		    u16 base)
{
	unsigned int i;

	vq->num = num;
	vq->desc = mem;
	vq->avail = (void *)((u8 *)mem + 16 * num);
	vq->used = (void *)((u8 *)mem +
			    align_up(16 * num + 6 + 2 * num, 4096));
	memset(mem, 0, ring_bytes(num));
	for (i = 0; i < num; i++)
		vq->desc[i].next = i + 1;
	vq->free_head = 0;
	vq->num_free = num;
	vq->avail_idx = base;
	vq->kicked_idx = base;
	vq->last_used = base;
	vq->avail->idx = base;
	vq->used->idx = base;
	vq->tok = calloc(num, sizeof(*vq->tok));
	vq->fifo = calloc(num, sizeof(*vq->fifo));
	vq->fifo_head = 0;
	vq->fifo_len = 0;
}

static u16 *used_event(struct fg_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static u16 *avail_event(struct fg_vq *vq)
{
	return (u16 *)&vq->used->ring[vq->num];
}

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
static int vq_add(struct fg *fg, struct fg_vq *vq, u64 gpa, u32 len,
		  bool write)
{
	u16 wflag = write ? VRING_DESC_F_WRITE : 0;
	u32 piece[MAX_PIECES];
	unsigned int n = split_buf(fg, len, piece), i;
	struct vring_desc *d;
	u16 head, idx, last = 0;

	if (fg->cfg->layout == LAYOUT_INDIRECT) {
		u64 tgpa = pool_alloc(fg, n * sizeof(*d), 16);
		struct vring_desc tbl[MAX_PIECES];
		u64 a = gpa;

		for (i = 0; i < n; i++) {
			tbl[i].addr = a;
			tbl[i].len = piece[i];
			tbl[i].flags = wflag |
				(i + 1 < n ? VRING_DESC_F_NEXT : 0);
			tbl[i].next = i + 1 < n ? i + 1 : 0;
			a += piece[i];
		}
		mem_copy(fg, tgpa, tbl, n * sizeof(*d), true);
		gpa = tgpa;
		piece[0] = n * sizeof(*d);
		n = 1;
		wflag = VRING_DESC_F_INDIRECT;
	}
	if (vq->num_free < n)
		return -1;
	head = vq->free_head;
	idx = head;
	for (i = 0; i < n; i++) {
		d = &vq->desc[idx];
		d->addr = gpa;
		d->len = piece[i];
		d->flags = wflag | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		gpa += piece[i];
		last = idx;
		idx = d->next;
	}
	vq->free_head = vq->desc[last].next;
	vq->desc[last].next = 0;
	vq->num_free -= n;
	vq->tok[head].gpa = gpa - len;
	if (fg->cfg->layout == LAYOUT_INDIRECT)
		vq->tok[head].gpa = vq->desc[head].addr;
	vq->tok[head].len = len;
	vq->avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
	vq->fifo[(vq->fifo_head + vq->fifo_len++) % vq->num] = head;
	return head;
}

/* For indirect heads the token keeps the table; find the data. */
static u64 tok_data(struct fg *fg, struct fg_vq *vq, u16 head)
{
	struct vring_desc first;

	if (fg->cfg->layout != LAYOUT_INDIRECT)
		return vq->tok[head].gpa;
	mem_copy(fg, vq->tok[head].gpa, &first, sizeof(first), false);
	return first.addr;
}

static void vq_free(struct fg_vq *vq, u16 head)
{
	u16 idx = head;
	unsigned int n = 1;

	while (vq->desc[idx].flags & VRING_DESC_F_NEXT) {
		idx = vq->desc[idx].next;
		n++;
	}
	vq->desc[idx].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
}

/* Publish avail->idx and kick if the device asked for it, as a driver does. */
static void vq_publish(struct fg *fg, struct fg_vq *vq)
{
	u16 old = vq->kicked_idx, new = vq->avail_idx;
	bool kick;
	u64 one = 1;

	store16(&vq->avail->idx, new);
	full_mb();
	if (fg->cfg->event_idx)
		kick = vring_need_event(load16(avail_event(vq)), new, old);
	else
		kick = !(load16(&vq->used->flags) & VRING_USED_F_NO_NOTIFY);
	vq->kicked_idx = new;
	if (kick) {
		if (write(vq->kick, &one, sizeof(one)) == sizeof(one))
			vq->kicks++;
	}
}

/* Wait up to ms for a used entry; return 0 and fill id/len, or -1. */
static int vq_get_used(struct fg_vq *vq, u32 *id, u32 *len, int ms)
{
	u64 end = now_ms() + ms;
	struct vring_used_elem *e;

	while (load16(&vq->used->idx) == vq->last_used) {
		struct pollfd p = { .fd = vq->call, .events = POLLIN };

		if (now_ms() >= end)
			return -1;
		/* The call may be suppressed: look again every millisecond. */
		poll(&p, 1, 1);
	}
	e = &vq->used->ring[vq->last_used % vq->num];
	*id = e->id;
	*len = e->len;
	vq->last_used++;
	return 0;
}

/* Check that a used entry is the oldest outstanding head, then free it. */
static void vq_complete(struct __test_metadata *_metadata, struct fg_vq *vq,
			u32 id)
{
	ASSERT_NE(0, vq->fifo_len) TH_LOG("used entry %u with nothing posted", id);
	ASSERT_EQ(vq->fifo[vq->fifo_head], id) TH_LOG("used id out of order");
	vq->fifo_head = (vq->fifo_head + 1) % vq->num;
	vq->fifo_len--;
	vq_free(vq, id);
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
	return f;
}

static int set_mem_table(int vfd, struct fg *fg)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[2];
	} t = {
		.m.nregions = 2,
		.r[0] = {
			.guest_phys_addr = GPA_BASE,
			.memory_size = REGION_SIZE,
			.userspace_addr = (uintptr_t)fg->hva[0],
		},
		.r[1] = {
			.guest_phys_addr = GPA_BASE + REGION_SIZE,
			.memory_size = REGION_SIZE,
			.userspace_addr = (uintptr_t)fg->hva[1],
		},
	};

	return ioctl(vfd, VHOST_SET_MEM_TABLE, &t);
}

static int vq_addr(struct fg_vq *vq, unsigned int index,
		   struct vhost_vring_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->index = index;
	a->desc_user_addr = (uintptr_t)vq->desc;
	a->avail_user_addr = (uintptr_t)vq->avail;
	a->used_user_addr = (uintptr_t)vq->used;
	return 0;
}

static int set_backend(struct fg *fg, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return ioctl(fg->vfd, VHOST_NET_SET_BACKEND, &f);
}

static void setup_tap(struct __test_metadata *_metadata, struct fg *fg)
{
	int one = 1, flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
			     TUN_F_TSO_ECN;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	struct ifreq ifr;
	int s, hl = fg->hdr_len, big = 64 << 20;

	ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("unshare: %m");
	/* Keep IPv6 autoconf chatter out of the RX queue. */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");

	fg->tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fg->tap) TH_LOG("/dev/net/tun: %m");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "fgtap%%d");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (!fg->cfg->dev_hdr)
		ifr.ifr_flags |= IFF_VNET_HDR;
	ASSERT_EQ(0, ioctl(fg->tap, TUNSETIFF, &ifr)) TH_LOG("TUNSETIFF: %m");
	memcpy(fg->ifname, ifr.ifr_name, IFNAMSIZ);
	if (!fg->cfg->dev_hdr) {
		ASSERT_EQ(0, ioctl(fg->tap, TUNSETVNETHDRSZ, &hl));
		ASSERT_EQ(0, ioctl(fg->tap, TUNSETOFFLOAD, flags));
	}

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, s);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, fg->ifname, IFNAMSIZ);
	ifr.ifr_mtu = TAP_MTU;
	ASSERT_EQ(0, ioctl(s, SIOCSIFMTU, &ifr)) TH_LOG("SIOCSIFMTU: %m");
	ifr.ifr_flags = IFF_UP | IFF_NOARP;
	ASSERT_EQ(0, ioctl(s, SIOCSIFFLAGS, &ifr)) TH_LOG("SIOCSIFFLAGS: %m");
	close(s);
	fg->ifindex = if_nametoindex(fg->ifname);
	ASSERT_NE(0, fg->ifindex);

	fg->cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, fg->cap);
	ASSERT_EQ(0, setsockopt(fg->cap, SOL_PACKET, PACKET_VNET_HDR, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(fg->cap, SOL_PACKET, PACKET_IGNORE_OUTGOING,
				&one, sizeof(one)));
	setsockopt(fg->cap, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	ll.sll_protocol = htons(ETH_P_ALL);
	ll.sll_ifindex = fg->ifindex;
	ASSERT_EQ(0, bind(fg->cap, (void *)&ll, sizeof(ll)));

	/* Protocol 0: this socket only sends. */
	fg->inj = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fg->inj);
	ASSERT_EQ(0, setsockopt(fg->inj, SOL_PACKET, PACKET_VNET_HDR, &one,
				sizeof(one)));
	setsockopt(fg->inj, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	ll.sll_protocol = 0;
	ASSERT_EQ(0, bind(fg->inj, (void *)&ll, sizeof(ll)));
}

static void setup_vq(struct __test_metadata *_metadata, struct fg *fg,
		     unsigned int index)
{
	struct fg_vq *vq = &fg->vq[index];
	struct vhost_vring_state st = { .index = index };
	struct vhost_vring_file f = { .index = index };
	struct vhost_vring_addr a;

	vq_init(vq, gpa_hva(fg, GPA_BASE + index * RING_AREA), fg->cfg->num,
		fg->cfg->base);
	ASSERT_NE(NULL, vq->tok);
	ASSERT_NE(NULL, vq->fifo);
	vq->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, vq->kick);
	ASSERT_LE(0, vq->call);
	ASSERT_LE(0, vq->err);

	st.num = fg->cfg->num;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_NUM, &st));
	st.num = fg->cfg->base;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_BASE, &st));
	vq_addr(vq, index, &a);
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_ADDR, &a));
	f.fd = vq->kick;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_KICK, &f));
	f.fd = vq->call;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_CALL, &f));
	f.fd = vq->err;
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_ERR, &f));
}

/* Everything up to, not including, VHOST_NET_SET_BACKEND. */
static void guest_init(struct __test_metadata *_metadata, struct fg *fg,
		       const struct fg_cfg *cfg)
{
	u64 want = cfg_features(cfg), have;
	u8 *r;

	memset(fg, 0, sizeof(*fg));
	fg->cfg = cfg;
	fg->vfd = -1;
	fg->tap = -1;
	fg->cap = -1;
	fg->inj = -1;
	fg->path = getenv("VHNET_DEV") ?: DEFAULT_DEV;
	fg->hdr_len = (cfg->version_1 || cfg->mrg) ?
		      sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		      sizeof(struct virtio_net_hdr);
	fg->scratch = malloc(2 * MAX_FRAME);
	fg->frame = malloc(MAX_FRAME);
	ASSERT_NE(NULL, fg->scratch);
	ASSERT_NE(NULL, fg->frame);

	/* Reserve three regions' worth, keep the outer two: a hole between. */
	fg->resv = mmap(NULL, 3 * REGION_SIZE, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, fg->resv);
	r = fg->resv;
	fg->hva[0] = mmap(r, REGION_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	fg->hva[1] = mmap(r + 2 * REGION_SIZE, REGION_SIZE,
			  PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_NE(MAP_FAILED, fg->hva[0]);
	ASSERT_NE(MAP_FAILED, fg->hva[1]);
	fg->pool_pos = POOL_FIRST;

	setup_tap(_metadata, fg);

	fg->vfd = open(fg->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fg->vfd) TH_LOG("%s: %m", fg->path);
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_OWNER)) TH_LOG("SET_OWNER: %m");
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_FEATURES, &have));
	ASSERT_EQ(want, have & want) TH_LOG("features offered %#llx",
					    (unsigned long long)have);
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_FEATURES, &want));
	ASSERT_EQ(0, set_mem_table(fg->vfd, fg)) TH_LOG("SET_MEM_TABLE: %m");
	setup_vq(_metadata, fg, RX_VQ);
	setup_vq(_metadata, fg, TX_VQ);
}

static void guest_attach(struct __test_metadata *_metadata, struct fg *fg)
{
	ASSERT_EQ(0, set_backend(fg, RX_VQ, fg->tap)) TH_LOG("RX: %m");
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap)) TH_LOG("TX: %m");
}

static void guest_fini(struct fg *fg)
{
	unsigned int i;

	if (fg->vfd >= 0)
		close(fg->vfd);
	for (i = 0; i < 2; i++) {
		close(fg->vq[i].kick);
		close(fg->vq[i].call);
		close(fg->vq[i].err);
		free(fg->vq[i].tok);
		free(fg->vq[i].fifo);
	}
	if (fg->tap >= 0)
		close(fg->tap);
	if (fg->cap >= 0)
		close(fg->cap);
	if (fg->inj >= 0)
		close(fg->inj);
	if (fg->resv && fg->resv != MAP_FAILED)
		munmap(fg->resv, 3 * REGION_SIZE);
	free(fg->scratch);
	free(fg->frame);
}

/* No ring error may be signalled during a test. */
static void check_no_err(struct __test_metadata *_metadata, struct fg *fg)
{
	EXPECT_FALSE(efd_fired(fg->vq[RX_VQ].err, 0)) TH_LOG("RX err fd fired");
	EXPECT_FALSE(efd_fired(fg->vq[TX_VQ].err, 0)) TH_LOG("TX err fd fired");
}

/*
 * Ask for (or against) an interrupt for the next used entry: used_event
 * with EVENT_IDX, the NO_INTERRUPT flag without.
 */
static void want_irq(struct fg *fg, struct fg_vq *vq, bool on)
{
	if (fg->cfg->event_idx)
		store16(used_event(vq), on ? vq->last_used :
					     (u16)(vq->last_used + 0x4000));
	else
		store16(&vq->avail->flags, on ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
	full_mb();
}

/* The call eventfd fired after a completion, or stayed quiet if suppressed. */
static void check_call(struct __test_metadata *_metadata, struct fg_vq *vq,
		       bool want, const char *what)
{
	if (want) {
		ASSERT_TRUE(efd_fired(vq->call, WAIT_MS))
			TH_LOG("%s: no call", what);
	} else {
		ASSERT_FALSE(efd_fired(vq->call, QUIET_MS))
			TH_LOG("%s: call not suppressed", what);
	}
}

/* ---- TX: guest -> device -> tap ingress -> packet socket ---- */

/* Returns the head, or -1 if the ring is full. */
static int tx_post(struct fg *fg, const u8 *frame, unsigned int len,
		   const struct virtio_net_hdr *h)
{
	u8 hdr[sizeof(struct virtio_net_hdr_mrg_rxbuf)] = { 0 };
	u64 gpa = pool_alloc(fg, fg->hdr_len + len, 8);

	memcpy(hdr, h, sizeof(*h));
	/* The device must drop the guest's header, whatever it holds. */
	if (fg->cfg->dev_hdr)
		memset(hdr, 0xee, sizeof(hdr));
	mem_copy(fg, gpa, hdr, fg->hdr_len, true);
	mem_copy(fg, gpa + fg->hdr_len, (void *)frame, len, true);
	return vq_add(fg, &fg->vq[TX_VQ], gpa, fg->hdr_len + len, false);
}

/* Receive one frame from tap ingress; returns its length or -1. */
static int cap_recv(struct fg *fg, struct virtio_net_hdr *h, u8 *buf,
		    int ms)
{
	struct pollfd p = { .fd = fg->cap, .events = POLLIN };
	struct iovec iov[2] = {
		{ h, sizeof(*h) }, { buf, MAX_FRAME },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = recvmsg(fg->cap, &m, MSG_DONTWAIT);
	if (n < (ssize_t)sizeof(*h))
		return -1;
	return n - sizeof(*h);
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
	struct fg_vq *vq = &fg->vq[TX_VQ];
	struct virtio_net_hdr h, got, want;
	char what[64];
	u32 id, ulen;
	int head, n;

	snprintf(what, sizeof(what), "TX %s %u seq %u", kind_name(pc->kind),
		 pc->len, seq);
	want_irq(fg, vq, want_call);
	make_frame(fg->frame, pc->len, pc->kind, seq, &h);
	head = tx_post(fg, fg->frame, pc->len, &h);
	ASSERT_LE(0, head) TH_LOG("%s: ring full", what);
	vq_publish(fg, vq);

	n = cap_recv(fg, &got, fg->scratch, WAIT_MS);
	ASSERT_EQ((int)pc->len, n) TH_LOG("%s: captured %d bytes", what, n);
	check_bytes(_metadata, fg->scratch, fg->frame, pc->len, what);
	expect_hdr(&h, &want);
	check_hdr(_metadata, &got, &want, what);

	ASSERT_EQ(0, vq_get_used(vq, &id, &ulen, WAIT_MS))
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
	struct fg_vq *vq = &fg->vq[RX_VQ];
	unsigned int i;

	for (i = 0; i < count; i++) {
		u64 gpa = pool_alloc(fg, fg->cfg->rx_buf, 8);

		mem_fill(fg, gpa, POISON, fg->cfg->rx_buf);
		ASSERT_LE(0, vq_add(fg, vq, gpa, fg->cfg->rx_buf, true));
	}
	vq_publish(fg, vq);
}

/* Keep up to MAX_POSTED buffers posted (fewer if the ring is small). */
static void rx_refill(struct __test_metadata *_metadata, struct fg *fg)
{
	struct fg_vq *vq = &fg->vq[RX_VQ];
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
	struct iovec iov[2] = {
		{ (void *)h, sizeof(*h) }, { (void *)frame, len },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n = sendmsg(fg->inj, &m, 0);

	ASSERT_EQ((ssize_t)(sizeof(*h) + len), n) TH_LOG("%s: %m", __func__);
}

/*
 * Take one packet off the RX used ring: the header into h, the frame into
 * buf; returns the frame length, or -1 if nothing came within ms.
 */
static int rx_take(struct __test_metadata *_metadata, struct fg *fg,
		   struct virtio_net_hdr_mrg_rxbuf *h, u8 *buf, int ms)
{
	struct fg_vq *vq = &fg->vq[RX_VQ];
	unsigned int nbufs = 1, i, total = 0;
	u8 tail[TAIL_CHECK], poison[TAIL_CHECK];
	u32 id, len;

	memset(poison, POISON, sizeof(poison));
	for (i = 0; i < nbufs; i++) {
		u64 data;
		unsigned int skip = i ? 0 : fg->hdr_len, t;

		if (vq_get_used(vq, &id, &len, i ? WAIT_MS : ms))
			return i ? -2 : -1;
		ASSERT_LT(id, vq->num);
		ASSERT_LE(len, fg->cfg->rx_buf) TH_LOG("used len %u", len);
		ASSERT_LE(skip, len) TH_LOG("used len %u < header", len);
		data = tok_data(fg, vq, id);
		if (!i) {
			memset(h, 0, sizeof(*h));
			mem_copy(fg, data, h, fg->hdr_len, false);
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
		mem_copy(fg, data + skip, buf + total, len - skip, false);
		total += len - skip;
		/* Nothing written past the used length. */
		t = fg->cfg->rx_buf - len;
		if (t > TAIL_CHECK)
			t = TAIL_CHECK;
		mem_copy(fg, data + len, tail, t, false);
		check_bytes(_metadata, tail, poison, t, "RX tail");
		vq_complete(_metadata, vq, id);
	}
	return total;
}

static void rx_one(struct __test_metadata *_metadata, struct fg *fg,
		   const struct pkt_case *pc, u32 seq, bool want_call)
{
	struct fg_vq *vq = &fg->vq[RX_VQ];
	struct virtio_net_hdr_mrg_rxbuf got;
	struct virtio_net_hdr h, want;
	char what[64];
	int n;

	snprintf(what, sizeof(what), "RX %s %u seq %u", kind_name(pc->kind),
		 pc->len, seq);
	want_irq(fg, vq, want_call);
	rx_refill(_metadata, fg);
	make_frame(fg->frame, pc->len, pc->kind, seq, &h);
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
	for (end = now_ms() + WAIT_MS; now_ms() < end; usleep(10000)) {
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
		if (!fg->cfg->dev_hdr || pkt_cases[i].kind == PKT_PLAIN)
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
		if (!fg->cfg->dev_hdr || pkt_cases[i].kind == PKT_PLAIN)
			rx_one(_metadata, fg, &pkt_cases[i], i, true);
	check_no_err(_metadata, fg);
	check_vhnet_stats(_metadata, fg);
}

/* A packet that finds no RX buffer waits in the tap queue for one. */
TEST_F(fg, rx_waits_for_buffers)
{
	static const struct pkt_case gso = { GSO_FRAME, PKT_GSO4 };
	static const struct pkt_case jumbo = { TAP_MTU + ETH_HLEN, PKT_PLAIN };
	struct fg *fg = &self->fg;
	const struct pkt_case big = fg->cfg->dev_hdr ? jumbo : gso;
	struct fg_vq *vq = &fg->vq[RX_VQ];
	struct virtio_net_hdr_mrg_rxbuf got;
	struct virtio_net_hdr h;
	unsigned int seq;
	int n;

	want_irq(fg, vq, true);
	for (seq = 0; seq < 3; seq++) {
		make_frame(fg->frame, 1000, PKT_PLAIN, seq, &h);
		inject(_metadata, fg, fg->frame, 1000, &h);
	}
	ASSERT_FALSE(efd_fired(vq->call, QUIET_MS));
	ASSERT_EQ(vq->last_used, load16(&vq->used->idx));

	/* Too few buffers for the big packet at first, on mrg rings. */
	if (fg->cfg->mrg) {
		rx_post(_metadata, fg, 1);
		n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
		ASSERT_EQ(1000, n);
		make_frame(fg->frame, 1000, PKT_PLAIN, 0, &h);
		check_bytes(_metadata, fg->scratch, fg->frame, 1000, "first");
		fg->rx_got++;
		make_frame(fg->frame, big.len, big.kind, 3, &h);
		inject(_metadata, fg, fg->frame, big.len, &h);
		efd_fired(vq->call, 0);
		rx_post(_metadata, fg, 3);
		/* Two small packets fit; the big one must wait, not drop. */
		for (seq = 1; seq < 3; seq++) {
			n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
			ASSERT_EQ(1000, n);
			fg->rx_got++;
		}
		ASSERT_EQ(-1, rx_take(_metadata, fg, &got, fg->scratch,
				      QUIET_MS));
		efd_fired(vq->call, 0);
		want_irq(fg, vq, true);
		rx_refill(_metadata, fg);
		n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
		ASSERT_EQ((int)big.len, n);
		check_bytes(_metadata, fg->scratch, fg->frame, big.len, "big");
		ASSERT_EQ(h.gso_size, got.hdr.gso_size);
		ASSERT_EQ(h.gso_type, got.hdr.gso_type);
		fg->rx_got++;
	} else {
		efd_fired(vq->call, 0);
		want_irq(fg, vq, true);
		rx_refill(_metadata, fg);
		for (seq = 0; seq < 3; seq++) {
			n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
			ASSERT_EQ(1000, n) TH_LOG("seq %u", seq);
			make_frame(fg->frame, 1000, PKT_PLAIN, seq, &h);
			check_bytes(_metadata, fg->scratch, fg->frame, 1000,
				    "waited");
			fg->rx_got++;
		}
	}
	ASSERT_TRUE(efd_fired(vq->call, WAIT_MS));
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
	static const struct pkt_case pc = { 64, PKT_PLAIN };
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
	struct fg_vq *vq = &fg->vq[TX_VQ];
	struct virtio_net_hdr h, got;
	unsigned int sent = 0, seen = 0, done = 0;
	u8 frame[64];
	u64 idle = now_ms() + WAIT_MS;
	double t0 = now_s();
	u32 id, len;

	while (seen < count || done < count) {
		bool progress = false;
		int n;

		while (sent < count && sent - done < BURST_WINDOW &&
		       vq->num_free >= descs_per_buf(fg)) {
			make_frame(frame, sizeof(frame), PKT_PLAIN, sent, &h);
			ASSERT_LE(0, tx_post(fg, frame, sizeof(frame), &h));
			sent++;
		}
		vq_publish(fg, vq);
		while (vq->last_used != load16(&vq->used->idx)) {
			ASSERT_EQ(0, vq_get_used(vq, &id, &len, 0));
			vq_complete(_metadata, vq, id);
			done++;
			progress = true;
		}
		while ((n = cap_recv(fg, &got, fg->scratch, 0)) >= 0) {
			make_frame(frame, sizeof(frame), PKT_PLAIN, seen, &h);
			ASSERT_EQ(64, n);
			check_bytes(_metadata, fg->scratch, frame, 64, "TX burst");
			seen++;
			progress = true;
		}
		if (progress) {
			idle = now_ms() + WAIT_MS;
		} else {
			struct pollfd p[2] = {
				{ .fd = fg->cap, .events = POLLIN },
				{ .fd = vq->call, .events = POLLIN },
			};

			ASSERT_GT(idle, now_ms())
				TH_LOG("TX burst stalled: sent %u used %u seen %u",
				       sent, done, seen);
			poll(p, 2, 1);
			efd_fired(vq->call, 0);
		}
	}
	fg->tx_sent += count;
	return count / (now_s() - t0);
}

static double burst_rx(struct __test_metadata *_metadata, struct fg *fg,
		       unsigned int count)
{
	struct fg_vq *vq = &fg->vq[RX_VQ];
	struct virtio_net_hdr_mrg_rxbuf got;
	struct virtio_net_hdr h;
	unsigned int sent = 0, seen = 0;
	u8 frame[64];
	double t0 = now_s();
	int n;

	rx_refill(_metadata, fg);
	while (seen < count) {
		/* Stay below the tap's queue length (500): no drops. */
		while (sent < count && sent - seen < BURST_WINDOW) {
			make_frame(frame, sizeof(frame), PKT_PLAIN, sent, &h);
			inject(_metadata, fg, frame, sizeof(frame), &h);
			sent++;
		}
		n = rx_take(_metadata, fg, &got, fg->scratch, WAIT_MS);
		ASSERT_EQ(64, n) TH_LOG("RX burst: %u sent, %u seen", sent, seen);
		make_frame(frame, sizeof(frame), PKT_PLAIN, seen, &h);
		check_bytes(_metadata, fg->scratch, frame, 64, "RX burst");
		seen++;
		if (vq->fifo_len < MAX_POSTED / 2)
			rx_refill(_metadata, fg);
	}
	efd_fired(vq->call, 0);
	fg->rx_got += count;
	return count / (now_s() - t0);
}

TEST_F_TIMEOUT(fg, wrap, 120)
{
	struct fg *fg = &self->fg;
	unsigned int count = fg->cfg->num + 100;

	want_irq(fg, &fg->vq[TX_VQ], true);
	want_irq(fg, &fg->vq[RX_VQ], true);
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
	static const struct pkt_case pc = { 200, PKT_PLAIN };
	struct fg *fg = &self->fg;
	struct fg_vq *tx = &fg->vq[TX_VQ], *rx = &fg->vq[RX_VQ];
	struct vhost_vring_state st = { .index = TX_VQ };
	struct virtio_net_hdr h, got;
	struct virtio_net_hdr_mrg_rxbuf rgot;
	unsigned int i, n = 32, seen = 0;
	u32 id, len;
	int r;

	want_irq(fg, tx, true);
	want_irq(fg, rx, true);
	rx_refill(_metadata, fg);
	for (i = 0; i < n; i++) {
		make_frame(fg->frame, pc.len, pc.kind, i, &h);
		ASSERT_LE(0, tx_post(fg, fg->frame, pc.len, &h));
		inject(_metadata, fg, fg->frame, pc.len, &h);
		if (i == n / 2)
			vq_publish(fg, tx);
	}
	/* Half of TX is published and may be in flight: pull the tap away. */
	ASSERT_EQ(0, set_backend(fg, TX_VQ, -1));
	ASSERT_EQ(0, set_backend(fg, RX_VQ, -1));
	/* Stopped: everything consumed is used, and the base says so. */
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	ASSERT_EQ(load16(&tx->used->idx), st.num);
	ASSERT_LE((u16)(st.num - fg->cfg->base), n / 2 + 1);
	vq_publish(fg, tx);
	usleep(QUIET_MS * 1000);
	ASSERT_EQ(st.num, load16(&tx->used->idx)) TH_LOG("TX ran detached");

	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap));
	ASSERT_EQ(0, set_backend(fg, RX_VQ, fg->tap));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, vq_get_used(tx, &id, &len, WAIT_MS))
			TH_LOG("TX %u not used after reattach", i);
		vq_complete(_metadata, tx, id);
	}
	while ((r = cap_recv(fg, &got, fg->scratch, QUIET_MS)) >= 0) {
		ASSERT_GT(n, seen) TH_LOG("TX duplicate");
		ASSERT_EQ((int)pc.len, r);
		make_frame(fg->frame, pc.len, pc.kind, seen, &h);
		check_bytes(_metadata, fg->scratch, fg->frame, pc.len, "TX");
		seen++;
	}
	ASSERT_EQ(n, seen);
	for (i = 0; i < n; i++) {
		r = rx_take(_metadata, fg, &rgot, fg->scratch, WAIT_MS);
		ASSERT_EQ((int)pc.len, r) TH_LOG("RX %u after reattach", i);
		make_frame(fg->frame, pc.len, pc.kind, i, &h);
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

	want_irq(fg, &fg->vq[TX_VQ], true);
	want_irq(fg, &fg->vq[RX_VQ], true);
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
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap));
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
		r[i].userspace_addr = (uintptr_t)fg->hva[0] + i * 0x100000ULL;
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
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap));
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
	r[1].userspace_addr = (uintptr_t)fg->hva[1];
	r[1].guest_phys_addr = GPA_BASE + 0x80000;
	EXPECT_EQ(strstr(fg->path, "vhnet") ? -EINVAL : 0,
		  mem_table(fg, r, ARRAY_SIZE(r), 2, 0));
	/* The real table again: the fixture's rings must still work. */
	EXPECT_EQ(0, set_mem_table(fg->vfd, fg));
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

	vq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.avail_user_addr += 1;
	EXPECT_EQ(-EINVAL, vring_addr_err(fg, &a));
	vq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.used_user_addr += 2;
	EXPECT_EQ(-EINVAL, vring_addr_err(fg, &a));
	vq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.flags = 1U << 5;
	EXPECT_EQ(-EOPNOTSUPP, vring_addr_err(fg, &a));
	vq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	a.index = 2;
	EXPECT_EQ(-ENOBUFS, vring_addr_err(fg, &a));
	vq_addr(&fg->vq[TX_VQ], TX_VQ, &a);
	EXPECT_EQ(0, vring_addr_err(fg, &a));
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
	EXPECT_EQ(-1, set_backend(fg, 2, fg->tap));
	EXPECT_EQ(ENOBUFS, errno);
	/* Detaching what is not attached is fine; so is attaching twice. */
	EXPECT_EQ(0, set_backend(fg, TX_VQ, -1));
	EXPECT_EQ(0, set_backend(fg, TX_VQ, fg->tap));
	EXPECT_EQ(0, set_backend(fg, TX_VQ, fg->tap));
	EXPECT_EQ(0, set_backend(fg, TX_VQ, -1));
}

/* GET_VRING_BASE returns the last avail index the device consumed. */
TEST_F(abi, get_vring_base)
{
	static const struct pkt_case pc = { 100, PKT_PLAIN };
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
	want_irq(fg, &fg->vq[TX_VQ], true);
	for (i = 0; i < 5; i++)
		tx_one(_metadata, fg, &pc, i, true);
	ASSERT_EQ(0, set_backend(fg, TX_VQ, -1));
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ(5, st.num);
	/* Resume from there, as QEMU does after migration. */
	ASSERT_EQ(0, ioctl(fg->vfd, VHOST_SET_VRING_BASE, &st));
	ASSERT_EQ(0, set_backend(fg, TX_VQ, fg->tap));
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
