// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_guest: a hostile guest in front of a vhost-net compatible device
 * ($VHNET_DEV, default /dev/vhnet). Run as root in the test VM.
 *
 * Each state is one ring configuration built from a seeded random stream:
 * valid buffers, then one attack (bad heads, indices, chains, addresses,
 * lengths, flags, indirect tables), then more valid buffers; sometimes a
 * thread rewrites the ring while the device works, sometimes the ring's
 * memory disappears under it, sometimes the VMM pulls the backend at once.
 * After every state:
 *
 *  - every frame that came out (TX: on the tap; RX: in guest buffers) is
 *    one this state sent, byte exact, at most once;
 *  - an attack the device must refuse broke the queue: the err eventfd
 *    fired and vhnetctl shows it broken for an expected reason; a queue
 *    that was not broken delivered every valid buffer, and one that was
 *    delivered every valid buffer before the attack;
 *  - VHOST_NET_SET_BACKEND -1, VHOST_GET_VRING_BASE and close returned
 *    within BOUND_MS;
 *  - a well-behaved instance on its own tap, in another process, moved
 *    frames meanwhile.
 *
 * Guest memory is three regions: R0 and R1 contiguous in GPA (a buffer may
 * straddle them legally), R2 after a GPA gap (a buffer running into the gap
 * is a bad address).
 *
 *   FUZZ_SECONDS  time budget (default 60)
 *   FUZZ_SEED     seed (default from the clock); printed first
 *   FUZZ_STATE    run only this state, on a fresh instance (reproduce)
 *   FUZZ_VERBOSE  print every state
 *   VHNETCTL      the vhnetctl binary (queue states, on /dev/vhnet only)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/vhnet.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "kselftest.h"
#include "guest.h"

#define DEFAULT_DEV	"/dev/vhnet"

#define R0_GPA		0x40000000ULL
#define R0_SIZE		(8ULL << 20)
#define R1_GPA		(R0_GPA + R0_SIZE)	/* contiguous with R0 */
#define R1_SIZE		(8ULL << 20)
#define R2_GPA		0x100000000ULL		/* after a GPA gap */
#define R2_SIZE		(4ULL << 20)
#define GAP_GPA		(R1_GPA + R1_SIZE)
#define HVA_HOLE	0x100000ULL

/*
 * R0: two rings, then a 1 MiB indirect table. Buffers come from R1 (the
 * pool, round robin) and R2 (slot k of frame k); the first 64 KiB of R1
 * is kept for the buffer that straddles R0 and R1.
 */
#define RING_AREA	0x100000ULL
#define BIG_TABLE_GPA	(R0_GPA + 2 * RING_AREA)
#define BIG_TABLE_N	65536
#define POOL_START	(R1_GPA + 0x10000)
#define POOL_END	(R1_GPA + R1_SIZE)
#define R2_SLOT		2048

#define MAX_RING	256
#define MAX_FRAME_LEN	1100	/* frame_len() stays below */
#define RX_BUF_LEN	(12 + MAX_FRAME_LEN)
#define POISON		0xa5

#define BOUND_MS	2000	/* recovery ioctls, under TCG */
#define WAIT_MS		5000	/* anything expected to happen, under TCG */
#define MAX_FAILS	5

/* Broken reasons as the netlink spec numbers them; bit n = reason n. */
enum { BAD_INDEX = 1, BAD_CHAIN, BAD_ADDR, BAD_ACCESS };
#define RB(r)		(1U << (r))
#define ANY_REASON	(RB(BAD_INDEX) | RB(BAD_CHAIN) | RB(BAD_ADDR) | \
			 RB(BAD_ACCESS))
static const char *const reason_names[] = {
	"none", "bad-index", "bad-chain", "bad-addr", "bad-access", "bad-log",
};

enum attack {
	A_HEAD_OOR, A_AVAIL_JUMP, A_AVAIL_BACK, A_NEXT_OOR, A_LOOP,
	A_ADDR_GAP, A_ADDR_WILD, A_STRADDLE_GAP, A_STRADDLE_OK, A_LEN_ZERO,
	A_LEN_HUGE, A_WRONG_DIR, A_WRITE_THEN_READ, A_IND_BADLEN, A_IND_ZERO,
	A_IND_NESTED, A_IND_NEXT, A_IND_MISALIGNED, A_IND_65536, A_IND_OUT,
	A_IND_LOOP, A_IND_NEXT_OOR, NR_ATTACKS
};

static const char *const attack_names[] = {
	"head-out-of-range", "avail-jump", "avail-backwards", "next-out-of-range",
	"loop", "addr-in-gap", "addr-wild", "straddle-gap", "straddle-regions",
	"len-zero", "len-huge", "wrong-direction", "write-then-read",
	"indirect-bad-len", "indirect-len-zero", "indirect-nested",
	"indirect-next", "indirect-misaligned", "indirect-65536-empty",
	"indirect-out", "indirect-loop", "indirect-next-out-of-range",
};

/*
 * What the other process, the well-behaved instance, reports through
 * shared memory; counters are read and written with __atomic builtins.
 */
struct bystander {
	u64 delivered;
	u64 errors;
	int ready;
	char msg[256];
};

static u64 by_get(u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void by_inc(u64 *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_RELEASE);
}

struct fz {
	u64 seed;
	const char *path;
	const char *ctl;
	bool is_vhnet, verbose;
	struct guest_mem mem;
	struct guest_tap tun, mvtap;
	bool have_mvtap;
	struct guest_tap *tap;	/* backend of the current state */
	int vfd;
	unsigned int id;	/* vhnet instance id, 0 if unknown */
	struct gvq vq[GUEST_NR_VQS];
	bool configured;
	u64 features;
	unsigned int hdr_len;
	struct bystander *by;
	pid_t by_pid;
	u8 frame[MAX_FRAME_LEN], buf[65536];
	/* results */
	unsigned int fails, mvtap_states, max_recovery_ms;
	unsigned int late_frames;	/* the previous state's, arriving late */
	const char *slowest;	/* the recovery step that took longest */
	bool bystander_ok, recovery_ok;
};

/* One state: what was posted and what is expected. */
struct state {
	u32 n;
	u64 rng;
	unsigned int q, num;
	enum attack attack;
	bool fresh, racer, early_recover, use_mvtap;
	int unmap;		/* 0, 1: mprotect PROT_NONE, 2: munmap */
	u32 must;		/* reasons one of which must break the queue */
	/*
	 * An RX buffer that can hold no packet, first in line: without
	 * MRG_RXBUF the device drops packets (too big) and waits there for
	 * the guest to fix its ring, as vhost-net does; buffers after it
	 * stay unused.
	 */
	bool may_stall;
	unsigned int nframes;	/* frame seqs used: 0..nframes-1 */
	/* Frames that must arrive: before the attack, after it. */
	u32 required_before, required_after;	/* bitmaps of frame numbers */
	u32 delivered;		/* bitmap of frame numbers seen */
	bool head_valid[MAX_RING];	/* posted as a proper buffer */
	u8 head_frame[MAX_RING];	/* TX: the frame it carries */
	char fail[512];
};

/* ---- frames: self-identifying, so stray or damaged ones show ---- */

static u32 frame_seq(const struct state *st, unsigned int k)
{
	return st->n << 8 | k;
}

static unsigned int frame_len(u32 seq)
{
	return 60 + (seq * 37) % (MAX_FRAME_LEN - 100);
}

static void fail(struct state *st, const char *fmt, ...)
{
	size_t used = strlen(st->fail);
	va_list ap;

	if (used >= sizeof(st->fail) - 2)
		return;
	if (used) {
		st->fail[used++] = ';';
		st->fail[used++] = ' ';
	}
	va_start(ap, fmt);
	vsnprintf(st->fail + used, sizeof(st->fail) - used, fmt, ap);
	va_end(ap);
}

/*
 * A frame of len bytes that came out: which of this state's frames it is,
 * or -1 with the state failed (unless stray frames are expected).
 */
static int frame_check(struct fz *z, struct state *st, const u8 *f,
		       unsigned int len, bool quiet)
{
	struct virtio_net_hdr h;
	u32 seq;
	unsigned int k;

	if (len < 18)
		goto bad;
	seq = guest_frame_seq(f);
	k = seq & 0xff;
	/*
	 * The previous state's frame, intact for as long as it is (an attack
	 * may have changed its length): it was still on its way through the
	 * tap or the softirq backlog when that state drained the backend,
	 * which happens under load. Counted, not a failure.
	 */
	if (st->n && seq >> 8 == st->n - 1 && len <= MAX_FRAME_LEN) {
		guest_make_frame(z->frame, len, GUEST_PKT_PLAIN, seq, &h);
		if (!memcmp(f, z->frame, len)) {
			z->late_frames++;
			return -1;
		}
	}
	if (seq >> 8 != st->n || k >= st->nframes || len != frame_len(seq))
		goto bad;
	guest_make_frame(z->frame, len, GUEST_PKT_PLAIN, seq, &h);
	if (memcmp(f, z->frame, len))
		goto bad;
	if (st->delivered & (1U << k)) {
		if (!quiet)
			fail(st, "frame %u delivered twice", k);
		return -1;
	}
	st->delivered |= 1U << k;
	return k;
bad:
	if (!quiet) {
		char hex[3 * 24 + 1] = "";
		unsigned int i;

		for (i = 0; i < len && i < 24; i++)
			snprintf(hex + 3 * i, 4, " %02x", f[i]);
		fail(st, "stray or damaged frame of %u bytes (seq 0x%x, state %u has %u frames):%s",
		     len, len >= 18 ? guest_frame_seq(f) : 0, st->n, st->nframes, hex);
	}
	return -1;
}

/* ---- the queue's state as netlink reports it ---- */

/*
 * Raw generic netlink, no library: a query per state must cost a syscall,
 * not an exec of vhnetctl (hundreds of ms under TCG). vhnetctl is run only
 * to show a failing state's instance.
 */
struct nl_req {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[64];
};

static int nl_sock = -1;
static u16 nl_family;

static int nl_send(u16 type, u8 cmd, u16 flags, const void *attr,
		   size_t alen)
{
	struct nl_req req = { 0 };

	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(alen);
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req.gh.cmd = cmd;
	req.gh.version = 1;
	memcpy(req.attrs, attr, alen);
	return send(nl_sock, &req, req.nh.nlmsg_len, 0) < 0 ? -errno : 0;
}

/* Is there a whole attribute at a, with rem bytes left? */
static bool nla_valid(const struct nlattr *a, int rem)
{
	return rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= rem;
}

/* The attribute after a; rem shrinks by what a took. */
static struct nlattr *nla_step(struct nlattr *a, int *rem)
{
	*rem -= NLA_ALIGN(a->nla_len);
	return (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
}

/* The attributes of a generic netlink message, and their length. */
static struct nlattr *genl_attrs(struct nlmsghdr *nh, int *rem)
{
	*rem = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	return (struct nlattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);
}

static struct nlattr *nla_nested(struct nlattr *a, int *rem)
{
	*rem = a->nla_len - NLA_HDRLEN;
	return (struct nlattr *)((char *)a + NLA_HDRLEN);
}

static u32 nla_u32(const struct nlattr *a)
{
	u32 v;

	memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

static int nl_open(void)
{
	struct {
		struct nlattr a;
		char name[8];
	} fam = {
		.a = { .nla_len = NLA_HDRLEN + sizeof(VHNET_FAMILY_NAME),
		       .nla_type = CTRL_ATTR_FAMILY_NAME },
		.name = VHNET_FAMILY_NAME,
	};
	static char buf[8192];
	struct nlmsghdr *nh;
	struct nlattr *a;
	ssize_t n;
	int rem;

	nl_sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl_sock < 0)
		return -errno;
	if (nl_send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, &fam,
		    NLA_HDRLEN + sizeof(VHNET_FAMILY_NAME)))
		return -errno;
	n = recv(nl_sock, buf, sizeof(buf), 0);
	nh = (struct nlmsghdr *)buf;
	if (n < 0 || !NLMSG_OK(nh, n) || nh->nlmsg_type == NLMSG_ERROR)
		return -ENOENT;
	for (a = genl_attrs(nh, &rem); nla_valid(a, rem); a = nla_step(a, &rem))
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&nl_family, (char *)a + NLA_HDRLEN, 2);
	return nl_family ? 0 : -ENOENT;
}

/*
 * Queue q of the newest instance this process owns: 0 running or
 * stopped, the broken reason (1..4), or -1 if unknown. Sets *id.
 */
static int queue_broken(unsigned int q, unsigned int *id)
{
	static char buf[65536];
	int reason = -1;
	bool done = false;

	*id = 0;
	if (nl_send(nl_family, VHNET_CMD_INSTANCE_GET, NLM_F_DUMP, NULL, 0))
		return -1;
	while (!done) {
		ssize_t n = recv(nl_sock, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n <= 0)
			return -1;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			unsigned int iid = 0, pid = 0, state = 0, why = 0;
			struct nlattr *a, *b;
			int rem, brem;

			if (nh->nlmsg_type == NLMSG_DONE ||
			    nh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			for (a = genl_attrs(nh, &rem); nla_valid(a, rem);
			     a = nla_step(a, &rem)) {
				bool ours = false;

				if (a->nla_type == VHNET_A_INSTANCE_ID)
					iid = nla_u32(a);
				if (a->nla_type == VHNET_A_INSTANCE_OWNER_PID)
					pid = nla_u32(a);
				if ((a->nla_type & NLA_TYPE_MASK) !=
				    VHNET_A_INSTANCE_QUEUE)
					continue;
				for (b = nla_nested(a, &brem); nla_valid(b, brem);
				     b = nla_step(b, &brem))
					if (b->nla_type == VHNET_A_QUEUE_INDEX)
						ours = nla_u32(b) == q;
				if (!ours)
					continue;
				for (b = nla_nested(a, &brem); nla_valid(b, brem);
				     b = nla_step(b, &brem)) {
					if (b->nla_type == VHNET_A_QUEUE_STATE)
						state = nla_u32(b);
					if (b->nla_type ==
					    VHNET_A_QUEUE_BROKEN_REASON)
						why = nla_u32(b);
				}
			}
			if (pid != (unsigned int)getpid() || iid < *id)
				continue;
			*id = iid;
			reason = state == VHNET_QUEUE_STATE_BROKEN ? (int)why : 0;
			if (state == VHNET_QUEUE_STATE_BROKEN && !why)
				reason = -1;
		}
	}
	return reason;
}

/* vhnetctl's view of an instance, for the log of a failing state. */
static void ctl_show(struct fz *z, unsigned int id)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s show %u | sed 's/^/#   /'", z->ctl, id);
	fflush(stdout);
	if (system(cmd))
		ksft_print_msg("%s failed\n", cmd);
}

/* ---- the well-behaved instance, in a process of its own ---- */

#define BY_WINDOW	32

static void bystander_run(struct fz *z)
{
	const struct guest_region reg = { .gpa = R0_GPA, .size = 4ULL << 20 };
	u64 want = 1ULL << VIRTIO_F_VERSION_1, have;
	struct bystander *by = z->by;
	struct guest_mem mem;
	struct guest_tap tap;
	struct virtio_net_hdr h, got;
	struct gvq vq[GUEST_NR_VQS];
	u8 hdr[12] = { 0 }, frame[256], buf[2048];
	u32 sent = 0, seen = 0, id, len;
	unsigned int q;
	int vfd, e;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	e = guest_mem_map(&mem, &reg, 1, 0);
	if (!e)
		e = guest_tap_open(&tap, "fzgood%d", 12, 1500);
	if (!e)
		e = guest_dev_open(z->path, want, &have, &vfd);
	if (!e)
		e = guest_set_mem_table(vfd, &mem);
	guest_pool_init(&mem, R0_GPA + 2 * RING_AREA, R0_GPA + reg.size,
			R0_GPA + 2 * RING_AREA);
	for (q = 0; !e && q < GUEST_NR_VQS; q++) {
		e = gvq_init(&vq[q], guest_hva(&mem, R0_GPA + q * RING_AREA),
			     256, 0, false);
		if (!e)
			e = gvq_setup(vfd, q, &vq[q]);
		if (!e)
			e = guest_set_backend(vfd, q, tap.fd);
	}
	if (e) {
		snprintf(by->msg, sizeof(by->msg), "setup: %s", strerror(-e));
		by_inc(&by->errors);
		__atomic_store_n(&by->ready, 1, __ATOMIC_RELEASE);
		pause();
	}
	__atomic_store_n(&by->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		struct gvq *tx = &vq[GUEST_TX_VQ];
		struct pollfd p = { .fd = tap.cap, .events = POLLIN };
		int n;

		while (sent - seen < BY_WINDOW && tx->num_free) {
			struct gvq_buf b;

			len = 60 + sent % 190;
			guest_make_frame(frame, len, GUEST_PKT_PLAIN, sent, &h);
			b.gpa = guest_pool_alloc(&mem, sizeof(hdr) + len, 8);
			b.len = sizeof(hdr) + len;
			b.flags = 0;
			guest_mem_copy(&mem, b.gpa, hdr, sizeof(hdr), true);
			guest_mem_copy(&mem, b.gpa + sizeof(hdr), frame, len,
				       true);
			if (gvq_add(tx, &mem, &b, 1, false) < 0)
				break;
			sent++;
		}
		gvq_publish(tx);
		while (gvq_used_pending(tx) && !gvq_get_used(tx, &id, &len, 0))
			gvq_complete(tx, id);
		while ((n = guest_tap_recv(&tap, &got, buf, sizeof(buf), 0)) >= 0) {
			len = 60 + seen % 190;
			guest_make_frame(frame, len, GUEST_PKT_PLAIN, seen, &h);
			if ((unsigned int)n != len || memcmp(buf, frame, len)) {
				snprintf(by->msg, sizeof(by->msg),
					 "frame %u: %d bytes, damaged", seen, n);
				by_inc(&by->errors);
			}
			seen++;
			by_inc(&by->delivered);
		}
		poll(&p, 1, 10);
	}
}

static int bystander_start(struct fz *z)
{
	u64 end = guest_now_ms() + 10 * WAIT_MS;

	z->by = mmap(NULL, sizeof(*z->by), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (z->by == MAP_FAILED)
		return -errno;
	z->by_pid = fork();
	if (z->by_pid < 0)
		return -errno;
	if (!z->by_pid) {
		bystander_run(z);
		_exit(0);
	}
	while (!__atomic_load_n(&z->by->ready, __ATOMIC_ACQUIRE) &&
	       guest_now_ms() < end)
		usleep(10000);
	return z->by->ready && !by_get(&z->by->errors) ? 0 : -EIO;
}

/* ---- the hostile instance ---- */

static u64 feature_bits(u64 *rng)
{
	u64 f = 0;

	if (!guest_chance(rng, 3))
		f |= 1ULL << VIRTIO_F_VERSION_1;
	if (guest_chance(rng, 2))
		f |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (guest_chance(rng, 2))
		f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (!guest_chance(rng, 4))
		f |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	/*
	 * The device may then give a TX batch back in one used entry; this
	 * guest reads the used ring raw (its heads are not all tracked), so
	 * the slots a batch skips read as stale ids, which are in range.
	 */
	if (guest_chance(rng, 3))
		f |= 1ULL << VIRTIO_F_IN_ORDER;
	return f;
}

static int ms_since(u64 t0)
{
	return guest_now_ms() - t0;
}

/* Time one recovery step; a slow one fails the state. */
static void bounded(struct fz *z, struct state *st, const char *what,
		    u64 t0)
{
	unsigned int ms = ms_since(t0);

	if (ms > z->max_recovery_ms) {
		z->max_recovery_ms = ms;
		z->slowest = what;
	}
	if (ms > BOUND_MS) {
		z->recovery_ok = false;
		fail(st, "%s took %u ms", what, ms);
	}
}

/*
 * What a VMM does to take a guest's queues back, each step timed. First
 * the rings stop (GET_VRING_BASE waits for a pass in flight and stops
 * the ring on vhnet), so the queue's state is final; detaching would
 * clear a broken state, so the caller reads it in between.
 */
static void stop_rings(struct fz *z, struct state *st)
{
	unsigned int q;
	u16 base;
	u64 t0;

	for (q = 0; q < GUEST_NR_VQS; q++) {
		t0 = guest_now_ms();
		guest_get_vring_base(z->vfd, q, &base);
		bounded(z, st, "GET_VRING_BASE", t0);
	}
}

static void detach(struct fz *z, struct state *st)
{
	unsigned int q;
	u64 t0;

	for (q = 0; q < GUEST_NR_VQS; q++) {
		t0 = guest_now_ms();
		guest_set_backend(z->vfd, q, -1);
		bounded(z, st, "SET_BACKEND -1", t0);
	}
}

static void close_instance(struct fz *z, struct state *st)
{
	u64 t0 = guest_now_ms();

	if (z->vfd < 0)
		return;
	close(z->vfd);
	bounded(z, st, "close", t0);
	z->vfd = -1;
}

/* Read what the detached backend still holds: no state sees another's. */
static void drain_backend(struct fz *z)
{
	struct virtio_net_hdr h;
	int i;

	for (i = 0; i < 4096; i++)
		if (read(z->tap->fd, z->buf, sizeof(z->buf)) < 0)
			break;
	while (guest_tap_recv(z->tap, &h, z->buf, sizeof(z->buf), 0) >= 0)
		;
}

static int configure(struct fz *z, struct state *st)
{
	u64 have;
	unsigned int q;
	int hl, e;

	if (st->fresh || z->vfd < 0) {
		close_instance(z, st);
		e = guest_dev_open(z->path, z->features, &have, &z->vfd);
		if (e)
			return e;
		e = guest_set_mem_table(z->vfd, &z->mem);
		if (e)
			return e;
	} else {
		e = ioctl(z->vfd, VHOST_SET_FEATURES, &z->features) ? -errno : 0;
		if (e)
			return e;
	}
	hl = z->hdr_len;
	if (ioctl(z->tap->fd, TUNSETVNETHDRSZ, &hl))
		return -errno;
	for (q = 0; q < GUEST_NR_VQS; q++) {
		struct gvq *vq = &z->vq[q];

		e = gvq_reset(vq, st->num, guest_rnd(&st->rng),
			      z->features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
		if (e)
			return e;
		guest_efd_fired(vq->err, 0);
		guest_efd_fired(vq->call, 0);
		e = gvq_setup(z->vfd, q, vq);
		if (e)
			return e;
	}
	for (q = 0; q < GUEST_NR_VQS; q++) {
		e = guest_set_backend(z->vfd, q, z->tap->fd);
		if (e)
			return e;
	}
	return 0;
}

/* ---- building the ring ---- */

static bool indirect_ok(const struct fz *z)
{
	return z->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
}

/* A buffer for frame k (TX: header and frame written) at gpa. */
static u32 fill_buf(struct fz *z, struct state *st, unsigned int k, u64 gpa)
{
	struct virtio_net_hdr h;
	u8 hdr[12] = { 0 };
	u32 len;

	if (st->q == GUEST_RX_VQ) {
		guest_mem_fill(&z->mem, gpa, POISON, RX_BUF_LEN);
		return RX_BUF_LEN;
	}
	len = frame_len(frame_seq(st, k));
	guest_make_frame(z->frame, len, GUEST_PKT_PLAIN, frame_seq(st, k), &h);
	guest_mem_copy(&z->mem, gpa, hdr, z->hdr_len, true);
	guest_mem_copy(&z->mem, gpa + z->hdr_len, z->frame, len, true);
	return z->hdr_len + len;
}

/*
 * A proper buffer: direct, split in up to three pieces, or indirect.
 * Returns its head, or -1 if the ring is full.
 */
static int post_valid(struct fz *z, struct state *st, u64 gpa)
{
	struct gvq *vq = &z->vq[st->q];
	u16 wflag = st->q == GUEST_RX_VQ ? VRING_DESC_F_WRITE : 0;
	unsigned int k = st->nframes, n = 1 + guest_below(&st->rng, 3), i;
	struct gvq_buf b[3];
	u32 len, rest;
	int head;

	if (!gpa && guest_chance(&st->rng, 4))
		gpa = R2_GPA + k * R2_SLOT;
	if (!gpa)
		gpa = guest_pool_alloc(&z->mem, RX_BUF_LEN, 1 + guest_below(&st->rng, 8));
	len = fill_buf(z, st, k, gpa);
	for (i = 0, rest = len; i < n; i++) {
		b[i].gpa = gpa + (len - rest);
		b[i].len = i + 1 < n ? rest / 2 : rest;
		b[i].flags = wflag;
		rest -= b[i].len;
	}
	head = gvq_add(vq, &z->mem, b, n, indirect_ok(z) && guest_chance(&st->rng, 3));
	if (head < 0)
		return -1;
	st->head_valid[head] = true;
	st->head_frame[head] = k;
	st->nframes++;
	return head;
}

static void desc_set(struct gvq *vq, int i, u64 addr, u32 len, u16 flags,
		     u16 next)
{
	struct vring_desc *d = &vq->vr.desc[i];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* An indirect table of n entries at gpa: each a piece of a valid buffer. */
static void table_write(struct fz *z, struct state *st, u64 gpa,
			unsigned int n, u16 wflag)
{
	struct vring_desc d[4];
	u64 buf = guest_pool_alloc(&z->mem, RX_BUF_LEN, 8);
	u32 len = fill_buf(z, st, st->nframes, buf);
	unsigned int i;

	/* 16-byte pieces, the last one the rest: the whole buffer. */
	for (i = 0; i < n && i < ARRAY_SIZE(d); i++) {
		d[i].addr = buf + i * 16;
		d[i].len = i + 1 < n ? 16 : len - 16 * i;
		d[i].flags = wflag | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		d[i].next = i + 1;
	}
	guest_mem_copy(&z->mem, gpa, d, i * sizeof(d[0]), true);
}

/*
 * Put the attack in the ring; returns false if it did not fit. Sets what
 * the device must do about it.
 */
static bool attack(struct fz *z, struct state *st)
{
	struct gvq *vq = &z->vq[st->q];
	bool rx = st->q == GUEST_RX_VQ;
	bool mrg = z->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	u16 wflag = rx ? VRING_DESC_F_WRITE : 0;
	u64 buf = guest_pool_alloc(&z->mem, RX_BUF_LEN, 8), tbl;
	int a, b, head = -1, i, n;

	fill_buf(z, st, st->nframes, buf);
	switch (st->attack) {
	case A_HEAD_OOR:
		gvq_push_head(vq, st->num + guest_below(&st->rng, 65536 - st->num));
		st->must = RB(BAD_INDEX) | RB(BAD_CHAIN);
		return true;
	case A_AVAIL_JUMP:
		vq->avail_idx += st->num + 1 + guest_below(&st->rng, 65535 - st->num);
		st->must = RB(BAD_INDEX);
		return true;
	case A_AVAIL_BACK:
		/* Behind what the device has consumed (nothing was posted). */
		vq->avail_idx -= 1 + guest_below(&st->rng, 65535 - st->num);
		st->must = RB(BAD_INDEX);
		return true;
	case A_STRADDLE_OK:
		/* Legal: GPA-contiguous across two regions. */
		head = post_valid(z, st, R1_GPA - 1 - guest_below(&st->rng, 200));
		return head >= 0;
	default:
		break;
	}
	/* Only chains of two need a second descriptor: tiny rings fit more. */
	a = gvq_alloc_desc(vq);
	b = st->attack == A_LOOP || st->attack == A_WRITE_THEN_READ ||
	    st->attack == A_IND_NESTED || st->attack == A_IND_NEXT ?
	    gvq_alloc_desc(vq) : a;
	if (a < 0 || b < 0)
		return false;
	head = a;
	switch (st->attack) {
	case A_NEXT_OOR:
		desc_set(vq, a, buf, 32, wflag | VRING_DESC_F_NEXT,
			 st->num + guest_below(&st->rng, 65536 - st->num));
		st->must = RB(BAD_CHAIN) | RB(BAD_INDEX);
		break;
	case A_LOOP:
		/*
		 * a -> b -> a, b -> b, or a longer cycle; with every free
		 * descriptor in it, the chain is longer than the ring.
		 */
		desc_set(vq, a, buf, 16, wflag | VRING_DESC_F_NEXT, b);
		desc_set(vq, b, buf + 16, 16, wflag | VRING_DESC_F_NEXT,
			 guest_chance(&st->rng, 2) ? a : b);
		n = guest_chance(&st->rng, 3) ? st->num : guest_below(&st->rng, 4);
		while (n-- > 0 && (i = gvq_alloc_desc(vq)) >= 0) {
			desc_set(vq, i, buf, 8, wflag | VRING_DESC_F_NEXT, a);
			vq->vr.desc[b].next = i;
			b = i;
		}
		st->must = RB(BAD_CHAIN);
		break;
	case A_ADDR_GAP:
		desc_set(vq, a, GAP_GPA + guest_below(&st->rng, R2_GPA - GAP_GPA - 64),
			 64, wflag, 0);
		st->must = RB(BAD_ADDR);
		break;
	case A_ADDR_WILD:
		desc_set(vq, a, guest_chance(&st->rng, 2) ? guest_rnd(&st->rng) | 1ULL << 63 :
			 guest_below(&st->rng, R0_GPA), 64, wflag, 0);
		st->must = RB(BAD_ADDR);
		break;
	case A_STRADDLE_GAP:
		desc_set(vq, a, guest_chance(&st->rng, 2) ? GAP_GPA - 30 :
			 R2_GPA + R2_SIZE - 30, 100, wflag, 0);
		st->must = RB(BAD_ADDR);
		break;
	case A_LEN_ZERO:
		desc_set(vq, a, buf, 0, wflag, 0);
		st->may_stall = rx && !mrg;
		break;
	case A_LEN_HUGE:
		desc_set(vq, a, buf, guest_chance(&st->rng, 2) ? 0xffffffff :
			 0x10000000 + (u32)guest_rnd(&st->rng) % 0xe0000000, wflag, 0);
		st->must = RB(BAD_ADDR) | RB(BAD_CHAIN);
		break;
	case A_WRONG_DIR:
		/* Writable on TX (a drop), read-only on RX. */
		desc_set(vq, a, buf, RX_BUF_LEN, wflag ^ VRING_DESC_F_WRITE, 0);
		st->may_stall = rx;
		break;
	case A_WRITE_THEN_READ:
		desc_set(vq, a, buf, 32, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, b);
		desc_set(vq, b, buf + 32, 64, 0, 0);
		if (rx)
			st->must = RB(BAD_CHAIN);
		break;
	default:
		/* Indirect tables. */
		tbl = guest_pool_alloc(&z->mem, 4 * 16 + 16, 16);
		n = 1 + guest_below(&st->rng, 4);
		table_write(z, st, tbl, n, wflag);
		desc_set(vq, a, tbl, n * 16, VRING_DESC_F_INDIRECT, 0);
		st->must = indirect_ok(z) ? RB(BAD_CHAIN) : 0;
		switch (st->attack) {
		case A_IND_BADLEN:
			vq->vr.desc[a].len += 1 + guest_below(&st->rng, 15);
			break;
		case A_IND_ZERO:
			vq->vr.desc[a].len = 0;
			break;
		case A_IND_NESTED:
			desc_set(vq, b, tbl, 16, VRING_DESC_F_INDIRECT, 0);
			guest_mem_copy(&z->mem, tbl + (n - 1) * 16,
				       &vq->vr.desc[b], 16, true);
			break;
		case A_IND_NEXT:
			desc_set(vq, b, buf, 64, wflag, 0);
			vq->vr.desc[a].flags |= VRING_DESC_F_NEXT;
			vq->vr.desc[a].next = b;
			break;
		case A_IND_MISALIGNED:
			tbl += 8;
			table_write(z, st, tbl, n, wflag);
			vq->vr.desc[a].addr = tbl;
			st->must = 0;
			break;
		case A_IND_65536:
			/* 64 Ki entries of nothing: bounded work, no hang. */
			for (i = 0; i < BIG_TABLE_N; i++) {
				struct vring_desc *d = guest_hva(&z->mem,
						BIG_TABLE_GPA + i * 16ULL);

				d->addr = buf;
				d->len = 0;
				d->flags = wflag | (i + 1 < BIG_TABLE_N ?
						    VRING_DESC_F_NEXT : 0);
				d->next = i + 1;
			}
			desc_set(vq, a, BIG_TABLE_GPA, BIG_TABLE_N * 16,
				 VRING_DESC_F_INDIRECT, 0);
			st->must = 0;
			st->may_stall = rx && !mrg;
			break;
		case A_IND_OUT:
			vq->vr.desc[a].addr = GAP_GPA + 4096;
			st->must = indirect_ok(z) ? RB(BAD_ADDR) : 0;
			break;
		case A_IND_LOOP: {
			struct vring_desc d = {
				.addr = buf, .len = 16,
				.flags = wflag | VRING_DESC_F_NEXT, .next = 0,
			};

			guest_mem_copy(&z->mem, tbl + (n - 1) * 16, &d, 16, true);
			break;
		}
		case A_IND_NEXT_OOR: {
			struct vring_desc d = {
				.addr = buf, .len = 16,
				.flags = wflag | VRING_DESC_F_NEXT,
				.next = n + guest_below(&st->rng, 1000),
			};

			guest_mem_copy(&z->mem, tbl + (n - 1) * 16, &d, 16, true);
			break;
		}
		default:
			break;
		}
	}
	gvq_push_head(vq, head);
	return true;
}

/* ---- a second thread that rewrites the ring under the device ---- */

struct racer {
	pthread_t thread;
	struct gvq *vq;
	u64 rng;
	bool stop;		/* __atomic: set by the main thread */
};

static void *racer_run(void *arg)
{
	struct racer *r = arg;
	struct gvq *vq = r->vq;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned int i = guest_below(&r->rng, vq->num);
		struct vring_desc *d = &vq->vr.desc[i];

		switch (guest_below(&r->rng, 5)) {
		case 0:
			d->addr = POOL_START + guest_below(&r->rng, 1 << 20);
			break;
		case 1:
			d->len = guest_below(&r->rng, 2) ? guest_below(&r->rng, 4096) :
						     (u32)guest_rnd(&r->rng);
			break;
		case 2:
			d->flags = guest_below(&r->rng, 16);
			d->next = guest_below(&r->rng, vq->num + 2);
			break;
		case 3:
			vq->vr.avail->ring[i] = guest_below(&r->rng, vq->num + 2);
			break;
		default:
			guest_store16(&vq->vr.avail->idx,
				      vq->avail_idx + guest_below(&r->rng, 3) - 1);
			break;
		}
		if (guest_below(&r->rng, 16) == 0)
			sched_yield();
	}
	return NULL;
}

/* ---- guest memory that goes away ---- */

/* The page of the ring the device writes (used) or reads (avail). */
static void *ring_page(struct gvq *vq, int which)
{
	uintptr_t p = which ? (uintptr_t)vq->vr.used : (uintptr_t)vq->vr.avail;

	return (void *)(p & ~(uintptr_t)4095);
}

static void unmap_ring(struct gvq *vq, int how, int which)
{
	void *p = ring_page(vq, which);

	if (how == 1)
		mprotect(p, 4096, PROT_NONE);
	else
		munmap(p, 4096);
}

static void remap_ring(struct gvq *vq, int how, int which)
{
	void *p = ring_page(vq, which);

	if (how == 1)
		mprotect(p, 4096, PROT_READ | PROT_WRITE);
	else
		mmap(p, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* ---- one state ---- */

/* Collect what came out so far: TX from the tap, RX from the used ring. */
static void collect(struct fz *z, struct state *st, bool quiet)
{
	struct gvq *vq = &z->vq[st->q];
	struct virtio_net_hdr h;
	u32 id, len;
	int n;

	if (st->q == GUEST_TX_VQ) {
		while ((n = guest_tap_recv(z->tap, &h, z->buf, sizeof(z->buf),
					   0)) >= 0)
			frame_check(z, st, z->buf, n, quiet);
		while (gvq_used_pending(vq)) {
			gvq_get_used(vq, &id, &len, 0);
			if (id >= st->num && !quiet)
				fail(st, "used id %u of a %u ring", id, st->num);
		}
		return;
	}
	while (gvq_used_pending(vq)) {
		struct virtio_net_hdr_mrg_rxbuf rh = { 0 };

		gvq_get_used(vq, &id, &len, 0);
		if (id >= st->num) {
			if (!quiet)
				fail(st, "used id %u of a %u ring", id, st->num);
			continue;
		}
		if (!st->head_valid[id])
			continue;
		if (len < z->hdr_len || len > RX_BUF_LEN) {
			if (!quiet)
				fail(st, "RX used len %u", len);
			continue;
		}
		guest_mem_copy(&z->mem, vq->tok[id].gpa, &rh, z->hdr_len, false);
		/*
		 * Every buffer holds a whole frame, so one buffer per packet,
		 * except that an empty buffer the attack posted may come first
		 * (an empty iovec segment takes no header byte).
		 */
		if (z->hdr_len == sizeof(rh) &&
		    (z->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF)) &&
		    rh.num_buffers != 1 && !quiet &&
		    !(rh.num_buffers == 2 && (st->attack == A_LEN_ZERO ||
					      st->attack == A_IND_65536)))
			fail(st, "num_buffers %u", rh.num_buffers);
		guest_mem_copy(&z->mem, vq->tok[id].gpa + z->hdr_len, z->buf,
			       len - z->hdr_len, false);
		frame_check(z, st, z->buf, len - z->hdr_len, quiet);
	}
}

static bool all_delivered(const struct state *st, u32 want)
{
	return (st->delivered & want) == want;
}

/*
 * Every buffer that had to be filled was. TX frames are known by number;
 * RX frames go to buffers in arrival order, and an attack's buffer may
 * eat one (one more was injected for that): count them.
 */
static bool delivered_after(const struct state *st)
{
	u32 want = st->required_before | st->required_after;

	if (st->q == GUEST_TX_VQ)
		return all_delivered(st, want);
	return __builtin_popcount(st->delivered) >= __builtin_popcount(want);
}

static void log_state(struct fz *z, struct state *st, unsigned int pre,
		      unsigned int post, int ms, const char *outcome)
{
	static const char *const unmaps[] = { "", " mprotect", " munmap" };

	ksft_print_msg("state %u: %s %s ring %u features 0x%llx%s%s%s%s%s",
		       st->n, st->q == GUEST_TX_VQ ? "TX" : "RX",
		       attack_names[st->attack], st->num,
		       (unsigned long long)z->features,
		       st->fresh ? " fresh" : " reset",
		       st->use_mvtap ? " macvtap" : "",
		       st->racer ? " racer" : "", unmaps[st->unmap],
		       st->early_recover ? " early-recover" : "");
	printf(" pre %u post %u, %d ms: %s%s\n", pre, post, ms, outcome,
	       st->fail[0] ? "" : ", ok");
}

static void run_state(struct fz *z, struct state *st)
{
	struct gvq *vq;
	struct racer racer = { 0 };
	unsigned int pre, post, i, k, injected = 0;
	u64 by0 = by_get(&z->by->delivered), t0 = guest_now_ms(), end;
	int reason = -1, which = 0, e;
	bool fired = false, quiet;

	e = configure(z, st);
	if (e) {
		fail(st, "setting the instance up: %s", strerror(-e));
		return;
	}
	vq = &z->vq[st->q];
	/* Index attacks move avail->idx itself: nothing around them. */
	pre = guest_below(&st->rng, 1 + st->num / 2);
	post = guest_below(&st->rng, 1 + st->num / 4);
	if (st->attack == A_AVAIL_BACK || st->attack == A_AVAIL_JUMP) {
		pre = 0;
		post = 0;
	}
	if (pre > 12)
		pre = 12;
	if (post > 12)
		post = 12;
	for (i = 0; i < pre && post_valid(z, st, 0) >= 0; i++)
		st->required_before |= 1U << (st->nframes - 1);
	k = st->nframes;
	if (!attack(z, st))
		st->must = 0;
	/* A legal "attack" is one more buffer to deliver. */
	if (st->nframes > k)
		st->required_after |= 1U << k;
	/* The attack's buffer holds frame k: it may go out, intact. */
	if (st->nframes == k && st->q == GUEST_TX_VQ)
		st->nframes++;
	for (i = 0; i < post && post_valid(z, st, 0) >= 0; i++)
		st->required_after |= 1U << (st->nframes - 1);

	guest_store16(&vq->vr.avail->idx, vq->avail_idx);
	guest_full_mb();
	if (st->racer) {
		racer.vq = vq;
		racer.rng = guest_rnd(&st->rng);
		if (pthread_create(&racer.thread, NULL, racer_run, &racer))
			st->racer = false;
	}
	gvq_kick(vq);
	if (st->q == GUEST_RX_VQ) {
		struct virtio_net_hdr h;

		/* One more than buffers: a dropped one must not starve the rest. */
		for (i = 0; i <= st->nframes && i < 32; i++) {
			u32 seq = frame_seq(st, i);

			guest_make_frame(z->frame, frame_len(seq), GUEST_PKT_PLAIN,
					 seq, &h);
			if (!guest_tap_inject(z->tap, z->frame, frame_len(seq), &h))
				injected++;
		}
		st->nframes = injected;
	}
	if (st->unmap) {
		which = guest_below(&st->rng, 2);
		usleep(guest_below(&st->rng, 20000));
		unmap_ring(vq, st->unmap, which);
	}
	if (st->early_recover) {
		usleep(guest_below(&st->rng, 5000));
		stop_rings(z, st);
		detach(z, st);
	} else {
		/* Wait for the verdict: broken, or everything delivered. */
		end = guest_now_ms() + (st->racer || st->unmap ? 300 : WAIT_MS);
		while (guest_now_ms() < end) {
			fired = fired || guest_efd_fired(vq->err, 0);
			if (!st->unmap)
				collect(z, st, st->racer);
			if (fired || (!st->must && !st->racer && !st->unmap &&
				      (st->may_stall ? all_delivered(st,
						st->required_before) :
				       delivered_after(st))))
				break;
			usleep(2000);
		}
	}
	if (st->racer) {
		__atomic_store_n(&racer.stop, true, __ATOMIC_RELEASE);
		pthread_join(racer.thread, NULL);
	}
	if (!st->early_recover) {
		stop_rings(z, st);
		fired = fired || guest_efd_fired(vq->err, 0);
		if (z->is_vhnet)
			reason = queue_broken(st->q, &z->id);
		detach(z, st);
	}
	if (st->unmap)
		remap_ring(vq, st->unmap, which);
	/* A munmapped ring came back zeroed: nothing left to read there. */
	quiet = st->racer;
	if (!st->unmap)
		collect(z, st, quiet);

	if (!st->early_recover) {
		bool broken = fired || reason > 0;

		/* A ring that went away may fault before the attack is seen. */
		if (st->unmap && st->must)
			st->must |= RB(BAD_ACCESS);

		if (st->must && !st->racer) {
			if (!fired)
				fail(st, "%s: err eventfd did not fire",
				     attack_names[st->attack]);
			if (z->is_vhnet && !(reason > 0 && (st->must & RB(reason))))
				fail(st, "%s: queue %s, want broken with one of 0x%x",
				     attack_names[st->attack],
				     reason > 0 ? reason_names[reason] :
				     reason ? "state unknown" : "not broken",
				     st->must);
		}
		if (z->is_vhnet && fired && reason == 0)
			fail(st, "err eventfd fired, netlink says instance %u not broken",
			     z->id);
		if (z->is_vhnet && reason > 0 && !fired)
			fail(st, "broken (%s) without err eventfd",
			     reason_names[reason]);
		if (reason == BAD_ACCESS && !st->unmap && !st->racer)
			fail(st, "bad-access with the ring mapped");
		if (!st->racer && !st->unmap &&
		    !all_delivered(st, st->required_before))
			fail(st, "frames before the attack missing: want 0x%x got 0x%x",
			     st->required_before, st->delivered);
		if (!broken && !st->racer && !st->unmap && !st->may_stall &&
		    !delivered_after(st))
			fail(st, "not broken, frames after the attack missing: want 0x%x got 0x%x",
			     st->required_after, st->delivered);
	}
	/* The other instance must have moved during this state. */
	end = guest_now_ms() + WAIT_MS;
	while (by_get(&z->by->delivered) == by0 && guest_now_ms() < end)
		usleep(5000);
	if (by_get(&z->by->delivered) == by0) {
		z->bystander_ok = false;
		fail(st, "the well-behaved instance moved nothing");
	}
	if (by_get(&z->by->errors)) {
		z->bystander_ok = false;
		fail(st, "well-behaved instance: %s", z->by->msg);
	}
	if (st->fail[0] && z->id)
		ctl_show(z, z->id);
	drain_backend(z);
	if (z->verbose || st->fail[0])
		log_state(z, st, pre, post, ms_since(t0),
			  reason > 0 ? reason_names[reason] :
			  fired ? "err" : "running");
}

static void plan_state(struct fz *z, struct state *st, u32 n,
		       bool force_fresh)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8, 16, 64, 128, 256 };

	memset(st, 0, sizeof(*st));
	st->n = n;
	st->rng = z->seed ^ (n * 0xd1342543de82ef95ULL);
	guest_rnd(&st->rng);
	st->q = guest_below(&st->rng, 2);
	st->num = sizes[guest_below(&st->rng, ARRAY_SIZE(sizes))];
	st->attack = guest_below(&st->rng, NR_ATTACKS);
	/* Draw first: a replayed state must see the same random stream. */
	st->fresh = guest_chance(&st->rng, 3) || force_fresh;
	st->racer = guest_chance(&st->rng, 8);
	/* Not both: the racer would fault on the unmapped ring itself. */
	if (!st->racer && guest_chance(&st->rng, 10))
		st->unmap = 1 + guest_below(&st->rng, 2);
	st->early_recover = guest_chance(&st->rng, 6);
	st->use_mvtap = z->have_mvtap && guest_chance(&st->rng, 6);
	z->features = feature_bits(&st->rng);
	z->hdr_len = z->features & (1ULL << VIRTIO_F_VERSION_1 |
				    1ULL << VIRTIO_NET_F_MRG_RXBUF) ? 12 : 10;
	/* A new backend needs a new attach: a fresh instance does that. */
	if ((st->use_mvtap ? &z->mvtap : &z->tun) != z->tap)
		st->fresh = true;
	z->tap = st->use_mvtap ? &z->mvtap : &z->tun;
}

/* ---- macvtap on a veth pair in our netns ---- */

/*
 * A macvtap in passthru mode on veth fzv0; its peer fzv1 carries the
 * capture and injection sockets. Returns a reason on failure.
 */
static const char *macvtap_open(struct guest_tap *t)
{
	static const char *const cmds[] = {
		"modprobe -a veth macvtap",
		"ip link add fzv0 type veth peer name fzv1",
		"ip link add link fzv0 name fzmvt type macvtap mode passthru",
		"ip link set fzv0 up",
		"ip link set fzv1 up",
		"ip link set fzmvt up",
	};
	char path[64];
	unsigned int i;
	int idx;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->cap = -1;
	t->inj = -1;
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "%s >&2", cmds[i]);
		if (system(cmd))
			return cmds[i];
	}
	idx = if_nametoindex("fzmvt");
	if (!idx)
		return "no fzmvt interface";
	snprintf(path, sizeof(path), "/dev/tap%d", idx);
	t->fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0)
		return "open /dev/tapN";
	snprintf(t->ifname, sizeof(t->ifname), "fzv1");
	t->ifindex = if_nametoindex("fzv1");
	if (guest_tap_sockets(t))
		return "packet sockets on fzv1";
	return NULL;
}

/* ---- main ---- */

static u64 env_u64(const char *name, u64 def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static int setup(struct fz *z)
{
	const struct guest_region regs[] = {
		{ .gpa = R0_GPA, .size = R0_SIZE },
		{ .gpa = R1_GPA, .size = R1_SIZE },
		{ .gpa = R2_GPA, .size = R2_SIZE },
	};
	unsigned int q;
	int e;

	e = guest_mem_map(&z->mem, regs, ARRAY_SIZE(regs), HVA_HOLE);
	if (e)
		return e;
	guest_pool_init(&z->mem, POOL_START, POOL_END, POOL_START);
	for (q = 0; q < GUEST_NR_VQS; q++) {
		e = gvq_init(&z->vq[q], guest_hva(&z->mem, R0_GPA + q * RING_AREA),
			     MAX_RING, 0, false);
		if (e)
			return e;
	}
	e = guest_netns_enter();
	if (e)
		return e;
	e = guest_tap_open(&z->tun, "fzbad%d", 12, 1500);
	if (e)
		return e;
	fcntl(z->tun.fd, F_SETFL, O_NONBLOCK);
	return bystander_start(z);
}

int main(void)
{
	static struct fz fz = { .vfd = -1 };
	struct fz *z = &fz;
	u64 seconds = env_u64("FUZZ_SECONDS", 60), t0, t1;
	const char *mvt_err, *only = getenv("FUZZ_STATE");
	struct state st;
	u32 n = 0;
	int e;

	z->seed = env_u64("FUZZ_SEED", (u64)time(NULL) * 0x9e3779b97f4a7c15ULL ^
			  getpid());
	printf("# seed 0x%016llx\n", (unsigned long long)z->seed);
	z->path = getenv("VHNET_DEV") ?: DEFAULT_DEV;
	z->ctl = getenv("VHNETCTL") ?: "vhnetctl";
	z->is_vhnet = strstr(z->path, "vhnet");
	z->verbose = getenv("FUZZ_VERBOSE");
	z->bystander_ok = true;
	z->recovery_ok = true;
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(4);

	e = setup(z);
	if (!e && z->is_vhnet)
		e = nl_open();
	if (e)
		ksft_exit_fail_msg("setup: %s%s\n", strerror(-e),
				   z->by && z->by != MAP_FAILED ? z->by->msg : "");
	mvt_err = macvtap_open(&z->mvtap);
	z->have_mvtap = !mvt_err;
	if (mvt_err)
		ksft_print_msg("macvtap backend unavailable: %s\n", mvt_err);
	else
		fcntl(z->mvtap.fd, F_SETFL, O_NONBLOCK);
	z->tap = &z->tun;

	t0 = guest_now_ms();
	if (only)
		n = strtoul(only, NULL, 0);
	do {
		plan_state(z, &st, n, only);
		run_state(z, &st);
		if (st.use_mvtap && !st.fail[0])
			z->mvtap_states++;
		if (st.fail[0]) {
			z->fails++;
			ksft_print_msg("FAIL state %u: %s\n", n, st.fail);
			ksft_print_msg("reproduce: FUZZ_SEED=0x%016llx FUZZ_STATE=%u\n",
				       (unsigned long long)z->seed, n);
			/* Whatever it left behind, start the next one clean. */
			close_instance(z, &st);
		}
		n++;
	} while (!only && z->fails < MAX_FAILS &&
		 guest_now_ms() - t0 < seconds * 1000);
	t1 = guest_now_ms();
	close_instance(z, &st);
	kill(z->by_pid, SIGKILL);
	waitpid(z->by_pid, NULL, 0);

	ksft_test_result(!z->fails, "hostile_states (%u failed)\n", z->fails);
	ksft_test_result(z->bystander_ok, "bystander_kept_moving (%llu frames)\n",
			 (unsigned long long)by_get(&z->by->delivered));
	ksft_test_result(z->recovery_ok, "recovery_ioctls_within_%u_ms (max %u ms, %s)\n",
			 BOUND_MS, z->max_recovery_ms, z->slowest ?: "none");
	if (!z->have_mvtap)
		ksft_test_result_fail("macvtap_backend: %s\n", mvt_err);
	else
		ksft_test_result(z->mvtap_states > 0 || only,
				 "macvtap_backend (%u states)\n", z->mvtap_states);
	ksft_print_msg("frames of a previous state arriving late: %u\n",
		       z->late_frames);
	ksft_print_msg("seed 0x%016llx\n", (unsigned long long)z->seed);
	ksft_print_msg("states %u, %.1f/s\n", only ? 1 : n,
		       (only ? 1 : n) * 1000.0 / (t1 - t0 ? t1 - t0 : 1));
	ksft_finished();
}
