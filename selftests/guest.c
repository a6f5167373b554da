// SPDX-License-Identifier: GPL-2.0
/*
 * guest: the fake virtio-net guest and VMM the selftests and fuzzers share.
 * See guest.h for the model; everything returns 0 or -errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/in.h>
#include <linux/vhost.h>

#include "guest.h"

/* ---- small helpers ---- */

u64 guest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double guest_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

unsigned int guest_time_scale(void)
{
	const char *v = getenv("VHNET_TIME_SCALE");
	int n = v ? atoi(v) : 1;

	return n > 0 ? n : 1;
}

/* Close *fd if open and mark it closed: teardown may run twice. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static u64 align_up(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

int guest_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return r;
}

bool guest_efd_fired(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	u64 v;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(fd, &v, sizeof(v)) == sizeof(v);
}

u64 guest_rnd(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

u32 guest_below(u64 *s, u32 n)
{
	return n ? guest_rnd(s) % n : 0;
}

bool guest_chance(u64 *s, u32 one_in)
{
	return guest_below(s, one_in) == 0;
}

/* ---- guest memory ---- */

int guest_mem_map(struct guest_mem *m, const struct guest_region *regs,
		  unsigned int n, size_t hole)
{
	size_t total = 0;
	unsigned int i;
	u8 *p;

	memset(m, 0, sizeof(*m));
	if (!n || n > GUEST_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < n; i++)
		total += regs[i].size + hole;
	/*
	 * Reserve the whole span inaccessible first, then map the regions
	 * into it: the holes stay PROT_NONE and nothing else lands there.
	 */
	m->resv = mmap(NULL, total, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->resv == MAP_FAILED) {
		m->resv = NULL;
		return -errno;
	}
	m->resv_size = total;
	p = m->resv;
	for (i = 0; i < n; i++) {
		m->region[i] = regs[i];
		m->region[i].hva = mmap(p, regs[i].size, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
					-1, 0);
		if (m->region[i].hva == MAP_FAILED) {
			int e = -errno;

			guest_mem_unmap(m);
			return e;
		}
		m->nregions = i + 1;
		p += regs[i].size + hole;
	}
	return 0;
}

void guest_mem_unmap(struct guest_mem *m)
{
	if (m->resv)
		munmap(m->resv, m->resv_size);
	m->resv = NULL;
	m->nregions = 0;
}

struct guest_region *guest_mem_region(const struct guest_mem *m, u64 gpa)
{
	unsigned int i;

	for (i = 0; i < m->nregions; i++) {
		const struct guest_region *r = &m->region[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return (struct guest_region *)r;
	}
	return NULL;
}

void *guest_hva(const struct guest_mem *m, u64 gpa)
{
	struct guest_region *r = guest_mem_region(m, gpa);

	return r ? (u8 *)r->hva + (gpa - r->gpa) : NULL;
}

/*
 * Walk [gpa, gpa + len) region by region: a GPA-contiguous range may be
 * scattered in HVA, exactly what the device has to handle too.
 */
static int mem_walk(const struct guest_mem *m, u64 gpa, u8 *buf, int c,
		    size_t len, bool to_guest)
{
	while (len) {
		struct guest_region *r = guest_mem_region(m, gpa);
		u8 *h;
		size_t n;

		if (!r)
			return -EFAULT;
		h = (u8 *)r->hva + (gpa - r->gpa);
		n = r->size - (gpa - r->gpa);
		if (n > len)
			n = len;
		if (!buf)
			memset(h, c, n);
		else if (to_guest)
			memcpy(h, buf, n);
		else
			memcpy(buf, h, n);
		gpa += n;
		if (buf)
			buf += n;
		len -= n;
	}
	return 0;
}

int guest_mem_copy(const struct guest_mem *m, u64 gpa, void *buf, size_t len,
		   bool to_guest)
{
	return mem_walk(m, gpa, buf, 0, len, to_guest);
}

int guest_mem_fill(const struct guest_mem *m, u64 gpa, int c, size_t len)
{
	return mem_walk(m, gpa, NULL, c, len, true);
}

void guest_pool_init(struct guest_mem *m, u64 start, u64 end, u64 first)
{
	m->pool_start = start;
	m->pool_end = end;
	m->pool_pos = first;
}

u64 guest_pool_alloc(struct guest_mem *m, u64 len, u64 align)
{
	u64 gpa = align_up(m->pool_pos, align);

	if (gpa + len > m->pool_end)
		gpa = align_up(m->pool_start, align);
	m->pool_pos = gpa + len;
	return gpa;
}

int guest_set_mem_table_n(int vfd, const struct guest_mem *m, unsigned int n)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[GUEST_MAX_REGIONS];
	} t;
	unsigned int i;

	memset(&t, 0, sizeof(t));
	t.m.nregions = n;
	for (i = 0; i < n; i++) {
		t.r[i].guest_phys_addr = m->region[i].gpa;
		t.r[i].memory_size = m->region[i].size;
		t.r[i].userspace_addr = (uintptr_t)m->region[i].hva;
	}
	return ioctl(vfd, VHOST_SET_MEM_TABLE, &t) ? -errno : 0;
}

int guest_set_mem_table(int vfd, const struct guest_mem *m)
{
	return guest_set_mem_table_n(vfd, m, m->nregions);
}

/* ---- the virtqueue, driver side ---- */

size_t gvq_ring_bytes(unsigned int num)
{
	return vring_size(num, GUEST_RING_ALIGN);
}

int gvq_reset(struct gvq *vq, unsigned int num, u16 base, bool event_idx)
{
	unsigned int i;

	if (!num || num > vq->max_num)
		return -EINVAL;
	vq->num = num;
	vq->event_idx = event_idx;
	vring_init(&vq->vr, num, vq->vr.desc, GUEST_RING_ALIGN);
	memset(vq->vr.desc, 0, gvq_ring_bytes(vq->num));
	for (i = 0; i < vq->num; i++)
		vq->vr.desc[i].next = i + 1;
	vq->free_head = 0;
	vq->num_free = vq->num;
	vq->base = base;
	vq->avail_idx = base;
	vq->kicked_idx = base;
	vq->last_used = base;
	vq->vr.avail->idx = base;
	vq->vr.used->idx = base;
	vq->fifo_head = 0;
	vq->fifo_len = 0;
	vq->fifo_peek = 0;
	vq->batch_left = 0;
	vq->kicks = 0;
	return 0;
}

int gvq_init(struct gvq *vq, void *mem, unsigned int num, u16 base,
	     bool event_idx)
{
	memset(vq, 0, sizeof(*vq));
	vq->kick = -1;
	vq->call = -1;
	vq->err = -1;
	vq->max_num = num;
	vq->vr.desc = mem;
	vq->tok = calloc(num, sizeof(*vq->tok));
	vq->fifo = calloc(num, sizeof(*vq->fifo));
	if (!vq->tok || !vq->fifo || gvq_reset(vq, num, base, event_idx))
		goto fail;
	/* Non-blocking: a device that never reads must not hang the guest. */
	vq->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick < 0 || vq->call < 0 || vq->err < 0)
		goto fail;
	return 0;
fail:
	gvq_fini(vq);
	return -ENOMEM;
}

void gvq_fini(struct gvq *vq)
{
	close_fd(&vq->kick);
	close_fd(&vq->call);
	close_fd(&vq->err);
	free(vq->tok);
	free(vq->fifo);
	vq->tok = NULL;
	vq->fifo = NULL;
}

/* Make head the next available entry, remembered for in-order completion. */
static void gvq_make_avail(struct gvq *vq, u16 head)
{
	vq->vr.avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
}

int gvq_add(struct gvq *vq, struct guest_mem *m, const struct gvq_buf *bufs,
	    unsigned int n, bool indirect)
{
	struct vring_desc *d, one;
	const struct vring_desc *src = NULL;
	struct vring_desc *tbl = NULL;
	u32 total = 0;
	u16 head, idx, last = 0;
	unsigned int i;

	if (!n)
		return -EINVAL;
	for (i = 0; i < n; i++)
		total += bufs[i].len;
	if (indirect) {
		u64 tgpa = guest_pool_alloc(m, n * sizeof(*tbl), 16);
		int e;

		tbl = calloc(n, sizeof(*tbl));
		if (!tbl)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			tbl[i].addr = bufs[i].gpa + vq->dma_offset;
			tbl[i].len = bufs[i].len;
			tbl[i].flags = bufs[i].flags |
				(i + 1 < n ? VRING_DESC_F_NEXT : 0);
			tbl[i].next = i + 1 < n ? i + 1 : 0;
		}
		e = guest_mem_copy(m, tgpa, tbl, n * sizeof(*tbl), true);
		free(tbl);
		if (e)
			return e;
		one.addr = tgpa + vq->dma_offset;
		one.len = n * sizeof(*tbl);
		one.flags = VRING_DESC_F_INDIRECT;
		src = &one;
		n = 1;
	}
	if (vq->num_free < n)
		return -ENOSPC;
	head = vq->free_head;
	idx = head;
	for (i = 0; i < n; i++) {
		d = &vq->vr.desc[idx];
		if (src) {
			d->addr = src->addr;
			d->len = src->len;
			d->flags = src->flags;
		} else {
			d->addr = bufs[i].gpa + vq->dma_offset;
			d->len = bufs[i].len;
			d->flags = bufs[i].flags |
				   (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		}
		last = idx;
		idx = d->next;
	}
	vq->free_head = vq->vr.desc[last].next;
	vq->vr.desc[last].next = 0;
	vq->num_free -= n;
	vq->tok[head].gpa = bufs[0].gpa;
	vq->tok[head].len = total;
	gvq_make_avail(vq, head);
	vq->fifo[(vq->fifo_head + vq->fifo_len++) % vq->num] = head;
	return head;
}

int gvq_alloc_desc(struct gvq *vq)
{
	u16 idx = vq->free_head;

	if (!vq->num_free)
		return -ENOSPC;
	vq->free_head = vq->vr.desc[idx].next;
	vq->num_free--;
	return idx;
}

void gvq_push_head(struct gvq *vq, u16 head)
{
	gvq_make_avail(vq, head);
}

static void gvq_free(struct gvq *vq, u16 head)
{
	u16 idx = head;
	unsigned int n = 1;

	while (vq->vr.desc[idx].flags & VRING_DESC_F_NEXT) {
		idx = vq->vr.desc[idx].next;
		n++;
	}
	vq->vr.desc[idx].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
}

int gvq_kick(struct gvq *vq)
{
	u64 one = 1;

	if (write(vq->kick, &one, sizeof(one)) != sizeof(one))
		return -errno;
	vq->kicks++;
	return 0;
}

bool gvq_publish(struct gvq *vq)
{
	u16 old = vq->kicked_idx, new = vq->avail_idx;
	bool kick;

	guest_store16(&vq->vr.avail->idx, new);
	/* Publish, then read the device's wish: it may have just changed it. */
	guest_full_mb();
	if (vq->event_idx)
		kick = vring_need_event(guest_load16(gvq_avail_event(vq)), new,
					old);
	else
		kick = !(guest_load16(&vq->vr.used->flags) &
			 VRING_USED_F_NO_NOTIFY);
	vq->kicked_idx = new;
	return kick && !gvq_kick(vq);
}

/* The next used buffer of an IN_ORDER ring; one is published. */
static int gvq_get_used_in_order(struct gvq *vq, u32 *id, u32 *len)
{
	unsigned int k, posted = vq->fifo_len - vq->fifo_peek;
	u16 head;

	if (!vq->batch_left) {
		const struct vring_used_elem *e =
			&vq->vr.used->ring[vq->last_used % vq->num];
		unsigned int span = gvq_used_pending(vq);

		if (span > posted)
			span = posted;
		/* The batch ends at the entry's id: find how far that is. */
		for (k = 0; k < span; k++)
			if (vq->fifo[(vq->fifo_head + vq->fifo_peek + k) % vq->num] == e->id)
				break;
		if (k == span)
			return -EPROTO;
		vq->batch_left = k + 1;
		vq->batch_len = e->len;
	}
	head = vq->fifo[(vq->fifo_head + vq->fifo_peek) % vq->num];
	vq->batch_left--;
	*id = head;
	*len = vq->batch_left ? vq->tok[head].len : vq->batch_len;
	vq->fifo_peek++;
	vq->last_used++;
	return 0;
}

int gvq_get_used(struct gvq *vq, u32 *id, u32 *len, int ms)
{
	u64 end = guest_now_ms() + ms;
	struct vring_used_elem *e;

	while (guest_load16(&vq->vr.used->idx) == vq->last_used) {
		struct pollfd p = { .fd = vq->call, .events = POLLIN };

		if (guest_now_ms() >= end)
			return -ETIMEDOUT;
		/* The call may be suppressed: look again every millisecond. */
		poll(&p, 1, 1);
	}
	if (vq->in_order)
		return gvq_get_used_in_order(vq, id, len);
	e = &vq->vr.used->ring[vq->last_used % vq->num];
	*id = e->id;
	*len = e->len;
	vq->last_used++;
	return 0;
}

int gvq_check_order(const struct gvq *vq, u32 id)
{
	if (!vq->fifo_len)
		return -ENOENT;
	return vq->fifo[vq->fifo_head] == id ? 0 : -EPROTO;
}

void gvq_complete(struct gvq *vq, u32 id)
{
	if (vq->fifo_peek)
		vq->fifo_peek--;
	vq->fifo_head = (vq->fifo_head + 1) % vq->num;
	vq->fifo_len--;
	gvq_free(vq, id);
}

int gvq_reap(struct gvq *vq)
{
	int n = 0;
	u32 id, len;

	while (gvq_used_pending(vq)) {
		/* In order, gvq_get_used checks that the entry fits its batch. */
		if (!vq->in_order &&
		    gvq_check_order(vq, vq->vr.used->ring[vq->last_used % vq->num].id))
			return -EPROTO;
		if (gvq_get_used(vq, &id, &len, 0))
			return -EPROTO;
		gvq_complete(vq, id);
		n++;
	}
	return n;
}

void gvq_want_irq(struct gvq *vq, bool on)
{
	if (vq->event_idx)
		guest_store16(gvq_used_event(vq),
			      on ? vq->last_used : (u16)(vq->last_used + 0x4000));
	else
		guest_store16(&vq->vr.avail->flags,
			      on ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
	guest_full_mb();
}

/* ---- the device, VMM side ---- */

int guest_dev_open(const char *path, u64 want, u64 *have, int *vfd)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), e;

	*have = 0;
	if (fd < 0)
		return -errno;
	if (ioctl(fd, VHOST_SET_OWNER) || ioctl(fd, VHOST_GET_FEATURES, have))
		goto fail;
	if ((*have & want) != want) {
		close(fd);
		return -EOPNOTSUPP;
	}
	if (ioctl(fd, VHOST_SET_FEATURES, &want))
		goto fail;
	*vfd = fd;
	return 0;
fail:
	e = -errno;
	close(fd);
	return e;
}

int guest_set_backend(int vfd, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return ioctl(vfd, VHOST_NET_SET_BACKEND, &f) ? -errno : 0;
}

void gvq_addr(const struct gvq *vq, unsigned int index,
	      struct vhost_vring_addr *a)
{
	u64 base = vq->ring_iova ?: (uintptr_t)vq->vr.desc;

	memset(a, 0, sizeof(*a));
	a->index = index;
	a->desc_user_addr = base;
	a->avail_user_addr = base + ((u8 *)vq->vr.avail - (u8 *)vq->vr.desc);
	a->used_user_addr = base + ((u8 *)vq->vr.used - (u8 *)vq->vr.desc);
}

static int guest_iotlb_msg(int vfd, u8 type, u64 iova, u64 size, u64 uaddr,
			   u8 perm)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = { .iova = iova, .size = size, .uaddr = uaddr,
			   .perm = perm, .type = type },
	};
	ssize_t n = write(vfd, &msg, sizeof(msg));

	if (n < 0)
		return -errno;
	return n == sizeof(msg) ? 0 : -EIO;
}

int guest_iotlb_update(int vfd, u64 iova, u64 size, u64 uaddr, u8 perm)
{
	return guest_iotlb_msg(vfd, VHOST_IOTLB_UPDATE, iova, size, uaddr, perm);
}

int guest_iotlb_invalidate(int vfd, u64 iova, u64 size)
{
	return guest_iotlb_msg(vfd, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
}

int guest_iotlb_serve(int vfd, const struct guest_mem *m, u64 dma_offset,
		      u64 granule, int ms)
{
	struct pollfd pfd = { .fd = vfd, .events = POLLIN };
	struct vhost_msg_v2 msg;
	int answered = 0, e;

	while (poll(&pfd, 1, answered ? 0 : ms) > 0) {
		u64 page, gpa;
		void *hva;

		if (read(vfd, &msg, sizeof(msg)) != sizeof(msg))
			return errno == EAGAIN ? answered : -errno;
		if (msg.type != VHOST_IOTLB_MSG_V2 ||
		    msg.iotlb.type != VHOST_IOTLB_MISS)
			return -EPROTO;
		page = msg.iotlb.iova & ~(granule - 1);
		gpa = page - dma_offset;
		hva = page >= dma_offset ? guest_hva(m, gpa) : NULL;
		if (!hva || guest_mem_region(m, gpa) !=
			    guest_mem_region(m, gpa + granule - 1))
			return -EFAULT;
		e = guest_iotlb_update(vfd, page, granule, (uintptr_t)hva,
				       VHOST_ACCESS_RW);
		if (e)
			return e;
		answered++;
	}
	return answered;
}

int gvq_setup(int vfd, unsigned int index, const struct gvq *vq)
{
	struct vhost_vring_state st = { .index = index, .num = vq->num };
	struct vhost_vring_file f = { .index = index };
	struct vhost_vring_addr a;

	if (ioctl(vfd, VHOST_SET_VRING_NUM, &st))
		return -errno;
	st.num = vq->base;
	if (ioctl(vfd, VHOST_SET_VRING_BASE, &st))
		return -errno;
	gvq_addr(vq, index, &a);
	if (ioctl(vfd, VHOST_SET_VRING_ADDR, &a))
		return -errno;
	f.fd = vq->kick;
	if (ioctl(vfd, VHOST_SET_VRING_KICK, &f))
		return -errno;
	f.fd = vq->call;
	if (ioctl(vfd, VHOST_SET_VRING_CALL, &f))
		return -errno;
	f.fd = vq->err;
	if (ioctl(vfd, VHOST_SET_VRING_ERR, &f))
		return -errno;
	return 0;
}

int guest_get_vring_base(int vfd, unsigned int index, u16 *base)
{
	struct vhost_vring_state st = { .index = index };

	if (ioctl(vfd, VHOST_GET_VRING_BASE, &st))
		return -errno;
	*base = st.num;
	return 0;
}

/* ---- the tap ---- */

int guest_netns_enter(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	/* Keep IPv6 autoconf chatter out of the RX queue. */
	guest_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	guest_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	return 0;
}

int guest_ifreq(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -errno;
	memcpy(ifr->ifr_name, ifname, IFNAMSIZ);
	r = ioctl(s, req, ifr) ? -errno : 0;
	close(s);
	return r;
}

/*
 * What the device sends into the tap comes out of the tap's ingress, where
 * a packet socket with PACKET_VNET_HDR captures it together with its
 * virtio-net header. What a packet socket transmits on the tap is queued
 * for the device to read. Reading or writing the tap fd itself would race
 * with the device, which owns the queue.
 */
int guest_tap_sockets(struct guest_tap *t)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	int one = 1, big = 64 << 20;

	t->cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (t->cap < 0)
		return -errno;
	if (setsockopt(t->cap, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(t->cap, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)))
		return -errno;
	setsockopt(t->cap, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	ll.sll_protocol = htons(ETH_P_ALL);
	ll.sll_ifindex = t->ifindex;
	if (bind(t->cap, (void *)&ll, sizeof(ll)))
		return -errno;

	/* Protocol 0: this socket only sends. */
	t->inj = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (t->inj < 0)
		return -errno;
	if (setsockopt(t->inj, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		return -errno;
	setsockopt(t->inj, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	ll.sll_protocol = 0;
	if (bind(t->inj, (void *)&ll, sizeof(ll)))
		return -errno;
	return 0;
}

int guest_tap_open(struct guest_tap *t, const char *name_fmt,
		   unsigned int hdr_len, unsigned int mtu)
{
	int flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	int hl = hdr_len, e;
	struct ifreq ifr;

	memset(t, 0, sizeof(*t));
	t->cap = -1;
	t->inj = -1;
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name_fmt);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (hdr_len)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (ioctl(t->fd, TUNSETIFF, &ifr))
		return -errno;
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	if (hdr_len) {
		if (ioctl(t->fd, TUNSETVNETHDRSZ, &hl) ||
		    ioctl(t->fd, TUNSETOFFLOAD, flags))
			return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = mtu;
	e = guest_ifreq(t->ifname, SIOCSIFMTU, &ifr);
	if (e)
		return e;
	ifr.ifr_flags = IFF_UP | IFF_NOARP;
	e = guest_ifreq(t->ifname, SIOCSIFFLAGS, &ifr);
	if (e)
		return e;
	t->ifindex = if_nametoindex(t->ifname);
	if (!t->ifindex)
		return -errno;
	return guest_tap_sockets(t);
}

void guest_tap_close(struct guest_tap *t)
{
	close_fd(&t->fd);
	close_fd(&t->cap);
	close_fd(&t->inj);
}

int guest_tap_recv(struct guest_tap *t, struct virtio_net_hdr *h, u8 *buf,
		   size_t size, int ms)
{
	struct pollfd p = { .fd = t->cap, .events = POLLIN };
	struct iovec iov[2] = {
		{ h, sizeof(*h) }, { buf, size },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	n = recvmsg(t->cap, &msg, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(*h))
		return -EBADMSG;
	return n - sizeof(*h);
}

int guest_tap_inject(struct guest_tap *t, const u8 *frame, unsigned int len,
		     const struct virtio_net_hdr *h)
{
	struct iovec iov[2] = {
		{ (void *)h, sizeof(*h) }, { (void *)frame, len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n = sendmsg(t->inj, &msg, 0);

	if (n < 0)
		return -errno;
	return n == (ssize_t)(sizeof(*h) + len) ? 0 : -EMSGSIZE;
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

u32 guest_frame_seq(const u8 *f)
{
	return (u32)f[14] << 24 | f[15] << 16 | f[16] << 8 | f[17];
}

void guest_make_frame(u8 *f, unsigned int len, enum guest_pkt_kind kind,
		      u32 seq, struct virtio_net_hdr *h)
{
	unsigned int l3 = ETH_HLEN, l4 = 0, pay, i;

	memset(h, 0, sizeof(*h));
	memcpy(f, mac_dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, mac_src, ETH_ALEN);
	switch (kind) {
	case GUEST_PKT_PLAIN:
		put16(f + 12, 0x88b5);
		put32(f + 14, seq);
		for (i = 18; i < len; i++)
			f[i] = seq * 31 + i * 7 + (i >> 8);
		return;
	case GUEST_PKT_CSUM:
	case GUEST_PKT_GSO4:
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
	case GUEST_PKT_GSO6:
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
	if (kind == GUEST_PKT_GSO4 || kind == GUEST_PKT_GSO6) {
		h->gso_type = kind == GUEST_PKT_GSO4 ?
			      VIRTIO_NET_HDR_GSO_TCPV4 :
			      VIRTIO_NET_HDR_GSO_TCPV6;
		h->gso_size = GUEST_GSO_MSS;
		h->hdr_len = pay;
	}
}

const char *guest_pkt_kind_name(enum guest_pkt_kind kind)
{
	static const char * const names[] = {
		[GUEST_PKT_PLAIN] = "plain", [GUEST_PKT_CSUM] = "csum",
		[GUEST_PKT_GSO4] = "gso4", [GUEST_PKT_GSO6] = "gso6",
	};

	return names[kind];
}
