// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_vmm: a careless or hostile VMM in front of /dev/vhnet ($VHNET_DEV).
 * Run as root in the test VM, with vhnet (and tun) loaded.
 *
 * Each round is one scenario drawn from a seeded random stream:
 *
 *  storm    random ioctls (every one vhnet serves, and unknown numbers)
 *           with random and edge arguments (NULL, unmapped, read-only and
 *           kernel pointers, huge sizes, out-of-range indices, fds of every
 *           wrong kind), and IOTLB messages written and read on the fd
 *           (both formats, every type, empty, huge, wrapping and
 *           overlapping ranges, access modes, short and bad buffers),
 *           from several threads on several fds, closes and re-opens in
 *           between;
 *  traffic  a well-behaved guest moves TX and RX frames while the VMM
 *           swaps memory tables and backends, offers every wrong kind of
 *           fd as backend, shares the tap with a second instance, closes
 *           or deletes the tap, stops a ring and refuses ioctls on it,
 *           turns a migration's dirty logging on and off, moves the log,
 *           offers logs that cannot cover memory and unmaps the log under
 *           the rings, puts the guest behind a vIOMMU and back, answering
 *           its IOTLB misses and invalidating at random; then the
 *           instance is set up again and must move frames, byte exact;
 *  fork     a child inherits an owned fd: owner-only ioctls get EPERM and
 *           change nothing (the parent's frames still flow, unconfigured);
 *  kill     the owner is a child, killed at a random point with kicks
 *           pending; sometimes the parent holds the fd on.
 *
 * After every ioctl and close: 0 or an errno, within BOUND_MS (a stuck one
 * is reported by a watchdog). After every round, with everything closed:
 * as many vhnet instances in the fuzzer's netns (vhnetctl show) and
 * vhnet-* kernel threads of its owners as at the start. At the end: /proc/meminfo Slab against the
 * first round's, the steps, and every errno each ioctl returned.
 *
 *   FUZZ_SECONDS  time budget (default 45)
 *   FUZZ_SEED     seed (default from the clock); printed first
 *   FUZZ_ROUND    run only this round (reproduce)
 *   FUZZ_VERBOSE  print every round
 *   FUZZ_SLAB     0: do not judge Slab (another test shares the machine)
 *   VHNETCTL      the vhnetctl binary (it counts the instances)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "kselftest.h"
#include "guest.h"

#define DEFAULT_DEV	"/dev/vhnet"

#define R0_GPA		0x40000000ULL		/* rings */
#define R0_SIZE		0x100000ULL
#define R1_GPA		(R0_GPA + R0_SIZE)	/* buffers, contiguous */
#define R1_SIZE		(4ULL << 20)
#define RING_AREA	0x10000ULL
#define RING_NUM	256
#define SCRATCH_SIZE	(256 << 10)
/* The dirty log: a bit per 4 KiB page of guest-physical 0..R1_GPA + R1_SIZE. */
#define LOG_BYTES	((R1_GPA + R1_SIZE) / 4096 / 8)

#define BOUND_MS	2000	/* any ioctl or close, under TCG */
#define WAIT_MS		5000	/* anything expected to happen */
#define HANG_MS		20000	/* the watchdog gives up */
#define SLAB_TOL_KB	4096
#define MAX_FAILS	5
#define MAX_THREADS	3
#define MAX_VFDS	3
#define NERR		134	/* errno values counted; last one: "other" */
#define TX_WINDOW	32
#define RX_BUF_LEN	2048
#define HDR_LEN		12	/* VERSION_1: virtio_net_hdr_mrg_rxbuf */
#define VERIFY_N	8

enum op {
	OP_SET_OWNER, OP_RESET_OWNER, OP_GET_FEATURES, OP_SET_FEATURES,
	OP_GET_BACKEND_FEATURES, OP_SET_BACKEND_FEATURES, OP_SET_MEM_TABLE,
	OP_SET_LOG_BASE, OP_SET_LOG_FD, OP_SET_VRING_NUM, OP_SET_VRING_ADDR,
	OP_SET_VRING_BASE, OP_GET_VRING_BASE, OP_SET_VRING_KICK,
	OP_SET_VRING_CALL, OP_SET_VRING_ERR, OP_SET_BUSYLOOP, OP_GET_BUSYLOOP,
	OP_SET_BACKEND, OP_IOTLB_WRITE, OP_IOTLB_READ, OP_UNKNOWN, OP_CLOSE,
	OP_KILL, NR_OPS
};

static const struct {
	const char *name;
	unsigned long req;
	const int *expect;	/* errnos that are no surprise, 0-terminated */
} ops[NR_OPS] = {
#define E(...)	((const int[]){ __VA_ARGS__, 0 })
	[OP_SET_OWNER] = { "SET_OWNER", VHOST_SET_OWNER, E(EBUSY, EAGAIN) },
	[OP_RESET_OWNER] = { "RESET_OWNER", VHOST_RESET_OWNER, E(EPERM) },
	[OP_GET_FEATURES] = { "GET_FEATURES", VHOST_GET_FEATURES, E(EFAULT) },
	[OP_SET_FEATURES] = { "SET_FEATURES", VHOST_SET_FEATURES,
			      E(EFAULT, EOPNOTSUPP) },
	[OP_GET_BACKEND_FEATURES] = { "GET_BACKEND_FEATURES",
				      VHOST_GET_BACKEND_FEATURES, E(EFAULT) },
	[OP_SET_BACKEND_FEATURES] = { "SET_BACKEND_FEATURES",
				      VHOST_SET_BACKEND_FEATURES,
				      E(EFAULT, EOPNOTSUPP) },
	[OP_SET_MEM_TABLE] = { "SET_MEM_TABLE", VHOST_SET_MEM_TABLE,
			       E(EPERM, EFAULT, EINVAL, E2BIG, EOPNOTSUPP) },
	[OP_SET_LOG_BASE] = { "SET_LOG_BASE", VHOST_SET_LOG_BASE,
			      E(EPERM, EFAULT) },
	[OP_SET_LOG_FD] = { "SET_LOG_FD", VHOST_SET_LOG_FD,
			    E(EPERM, EFAULT, EBADF, EINVAL) },
	[OP_SET_VRING_NUM] = { "SET_VRING_NUM", VHOST_SET_VRING_NUM,
			       E(EPERM, EFAULT, ENOBUFS, EBUSY, EINVAL) },
	[OP_SET_VRING_ADDR] = { "SET_VRING_ADDR", VHOST_SET_VRING_ADDR,
				E(EPERM, EFAULT, ENOBUFS, EINVAL, EOPNOTSUPP) },
	[OP_SET_VRING_BASE] = { "SET_VRING_BASE", VHOST_SET_VRING_BASE,
				E(EPERM, EFAULT, ENOBUFS, EBUSY, EINVAL) },
	[OP_GET_VRING_BASE] = { "GET_VRING_BASE", VHOST_GET_VRING_BASE,
				E(EPERM, EFAULT, ENOBUFS) },
	[OP_SET_VRING_KICK] = { "SET_VRING_KICK", VHOST_SET_VRING_KICK,
				E(EPERM, EFAULT, ENOBUFS, EBADF, EINVAL) },
	[OP_SET_VRING_CALL] = { "SET_VRING_CALL", VHOST_SET_VRING_CALL,
				E(EPERM, EFAULT, ENOBUFS, EBADF, EINVAL) },
	[OP_SET_VRING_ERR] = { "SET_VRING_ERR", VHOST_SET_VRING_ERR,
			       E(EPERM, EFAULT, ENOBUFS, EBADF, EINVAL) },
	[OP_SET_BUSYLOOP] = { "SET_VRING_BUSYLOOP_TIMEOUT",
			      VHOST_SET_VRING_BUSYLOOP_TIMEOUT, E(EPERM, EFAULT, ENOBUFS) },
	[OP_GET_BUSYLOOP] = { "GET_VRING_BUSYLOOP_TIMEOUT",
			      VHOST_GET_VRING_BUSYLOOP_TIMEOUT, E(EPERM, EFAULT, ENOBUFS) },
	[OP_SET_BACKEND] = { "NET_SET_BACKEND", VHOST_NET_SET_BACKEND,
			     E(EPERM, EFAULT, ENOBUFS, ENOTSOCK, EINVAL, EBADF) },
	/* write() and read() of IOTLB messages on the device fd (vIOMMU). */
	[OP_IOTLB_WRITE] = { "IOTLB write", 0, E(EINVAL, EFAULT) },
	[OP_IOTLB_READ] = { "IOTLB read", 0, E(EAGAIN, EBADFD, EFAULT) },
	[OP_UNKNOWN] = { "unknown", 0, E(ENOTTY, EPERM) },
	[OP_CLOSE] = { "close", 0, E(0) },
	[OP_KILL] = { "SIGKILL owner (to reaped)", 0, E(0) },
#undef E
};

/* Owner-only ioctls: a child that inherited an owned fd gets EPERM. */
static const enum op owner_only[] = {
	OP_RESET_OWNER, OP_SET_MEM_TABLE, OP_SET_LOG_BASE, OP_SET_LOG_FD,
	OP_SET_VRING_NUM, OP_SET_VRING_ADDR, OP_SET_VRING_BASE,
	OP_GET_VRING_BASE, OP_SET_VRING_KICK, OP_SET_VRING_CALL,
	OP_SET_VRING_ERR, OP_SET_BUSYLOOP, OP_GET_BUSYLOOP, OP_SET_BACKEND,
	OP_UNKNOWN,
};

/* ---- what every process of the run shares (MAP_SHARED) ---- */

#define MAX_MSGS	16

struct shared {
	u64 count[NR_OPS][NERR];
	u64 steps;
	u64 max_ms;
	int max_op;
	unsigned int nmsgs;	/* failures reported this round */
	char msg[MAX_MSGS][320];
	u64 progress;		/* kill round: the owner's loop count */
	int child_bad;		/* fork round: the op that was not refused */
	u64 child_ready;
};

static struct shared *sh;

static u64 at_load(u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static u64 at_inc(u64 *p, u64 v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL);
}

/* ---- failures: any thread or process, no lock ---- */

static u32 cur_round;

/* Where a call ran: round, thread, the thread's op number. */
struct ctx {
	u64 rng;
	int thread;		/* -1: main, 100+: a child process */
	unsigned int nop;
	int slot;		/* watchdog slot, -1 in children */
};

static void fail(const struct ctx *c, const char *fmt, ...)
{
	unsigned int i = __atomic_fetch_add(&sh->nmsgs, 1, __ATOMIC_ACQ_REL);
	int n = 0;
	va_list ap;

	if (i >= MAX_MSGS)
		return;
	if (c)
		n = snprintf(sh->msg[i], sizeof(sh->msg[i]),
			     "step %llu (thread %d op %u): ",
			     (unsigned long long)at_load(&sh->steps),
			     c->thread, c->nop);
	va_start(ap, fmt);
	vsnprintf(sh->msg[i] + n, sizeof(sh->msg[i]) - n, fmt, ap);
	va_end(ap);
}

/* ---- the watchdog: an ioctl that never returns is a failure too ---- */

struct slot {
	u64 since;		/* ms, 0 when idle */
	int op;
	u64 step;
};

static struct slot slots[MAX_THREADS + 1];
static u64 seed;

static void *watchdog(void *arg)
{
	static const char stacks[] =
		"for t in /proc/self/task/*; do cat $t/stack; done | sed 's/^/#   /'";
	unsigned int i;

	for (;;) {
		usleep(500000);
		for (i = 0; i < ARRAY_SIZE(slots); i++) {
			u64 t = at_load(&slots[i].since);

			if (!t || guest_now_ms() - t < HANG_MS)
				continue;
			printf("# HANG: %s in thread %u for %llu ms, round %u step %llu\n",
			       ops[slots[i].op].name, i,
			       (unsigned long long)(guest_now_ms() - t),
			       cur_round, (unsigned long long)slots[i].step);
			printf("# reproduce: FUZZ_SEED=0x%016llx FUZZ_ROUND=%u\n",
			       (unsigned long long)seed, cur_round);
			fflush(stdout);
			if (system(stacks))
				printf("# no kernel stacks\n");
			ksft_exit_fail_msg("an ioctl or close hung\n");
		}
	}
	return NULL;
}

/* ---- every ioctl and close goes through here: timed and counted ---- */

static void account(struct ctx *c, int op, long r, int e, u64 t0)
{
	u64 ms = guest_now_ms() - t0, max;

	if (c->slot >= 0)
		__atomic_store_n(&slots[c->slot].since, 0, __ATOMIC_RELEASE);
	at_inc(&sh->count[op][e < NERR ? e : NERR - 1], 1);
	c->nop++;
	max = at_load(&sh->max_ms);
	while (ms > max) {
		if (__atomic_compare_exchange_n(&sh->max_ms, &max, ms, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			sh->max_op = op;
			break;
		}
	}
	if (r != 0 && r != -1)
		fail(c, "%s returned %ld", ops[op].name, r);
	if (ms > BOUND_MS)
		fail(c, "%s took %llu ms", ops[op].name, (unsigned long long)ms);
}

static u64 begin(struct ctx *c, int op)
{
	u64 t0 = guest_now_ms();

	if (c->slot >= 0) {
		slots[c->slot].op = op;
		slots[c->slot].step = at_load(&sh->steps);
		__atomic_store_n(&slots[c->slot].since, t0, __ATOMIC_RELEASE);
	}
	at_inc(&sh->steps, 1);
	return t0;
}

/* 0 or -errno. */
static int xioctl(struct ctx *c, int op, int fd, unsigned long req, void *arg)
{
	u64 t0 = begin(c, op);
	long r = ioctl(fd, req ? req : ops[op].req, arg);
	int e = r < 0 ? errno : 0;

	account(c, op, r, e, t0);
	return r < 0 ? -e : 0;
}

/*
 * An IOTLB message: write (@len bytes of @buf) or read (into @len bytes)
 * on the device fd. A whole message or (a read into a short buffer) 0 is
 * success. 0 or -errno.
 */
static int xmsg(struct ctx *c, int op, int fd, void *buf, size_t len)
{
	u64 t0 = begin(c, op);
	ssize_t r = op == OP_IOTLB_WRITE ? write(fd, buf, len) : read(fd, buf, len);
	int e = r < 0 ? errno : 0;

	if (r > 0 && r != sizeof(struct vhost_msg_v2))
		fail(c, "%s of %zu bytes returned %zd", ops[op].name, len, r);
	account(c, op, r < 0 ? -1 : 0, e, t0);
	return r < 0 ? -e : 0;
}

static void xclose(struct ctx *c, int *fd)
{
	u64 t0;
	int r, e;

	if (*fd < 0)
		return;
	t0 = begin(c, OP_CLOSE);
	r = close(*fd);
	e = r < 0 ? errno : 0;
	account(c, OP_CLOSE, r, e, t0);
	*fd = -1;
}

/* ---- fds of every kind, for arguments that want an fd ---- */

enum zoo_kind {
	Z_UNBIND, Z_CLOSED, Z_HUGE, Z_NEG, Z_EVENTFD, Z_PIPE_R, Z_PIPE_W,
	Z_DEVNULL, Z_FILE, Z_PACKET, Z_UDP, Z_UNIX, Z_EPOLL, Z_MEMFD,
	Z_TUN_DETACHED, Z_VHNET, Z_TAP2, Z_TAP_OTHER_NS, NR_ZOO
};

static const char *const zoo_names[NR_ZOO] = {
	"-1", "closed fd", "fd 1<<20", "fd -2", "eventfd", "pipe (read end)",
	"pipe (write end)", "/dev/null", "regular file", "AF_PACKET socket",
	"UDP socket", "unix socket", "epoll", "memfd", "tun fd not attached",
	"another /dev/vhnet", "tap", "tap of another netns",
};

/* Kinds a backend must refuse; the taps may work, -1 detaches. */
static bool zoo_wrong_backend(int k)
{
	return k != Z_UNBIND && k != Z_TAP2 && k != Z_TAP_OTHER_NS;
}

/* ---- the run ---- */

struct fz {
	const char *path;
	const char *ctl;
	bool verbose;
	int zoo[NR_ZOO];
	int nsb;		/* the other netns, kept alive */
	struct guest_tap tap, tap2, tapb;
	bool tap_alive;		/* tap.fd still names a live device */
	struct guest_mem mem;
	struct gvq vq[GUEST_NR_VQS], vq2[GUEST_NR_VQS];
	u8 *scratch;		/* storm rounds point the device here */
	u8 *log[2];		/* dirty logs a migration chaos step points at */
	u8 *ro;			/* a read-only page */
	u8 *arg[MAX_THREADS + 1];	/* a page of arguments, then a hole */
	int base_inst, base_thr;
	pid_t kids[4];		/* this round's children: owners too */
	unsigned int nkids;
	bool check_slab;	/* alone in the VM: Slab tells leaks */
	/* results */
	unsigned int rounds, failed_rounds, nkind[4], eperm_checks;
	unsigned int refused_backends, refusal_checks, verified, restarted;
	unsigned int other_ns_ok, other_ns_refused;
	unsigned int iommu_rounds, iommu_answered;	/* chaos_iommu */
	bool eperm_ok, backends_ok, refusal_ok, traffic_ok, leak_ok;
	u32 seqbase;
	u8 frame[RX_BUF_LEN], buf[65536];
};

static struct fz fz;

/* ---- leak checks ---- */

/*
 * Only this fuzzer's own instances and threads count, so that a test or a
 * guest running beside it cannot make a leak appear or hide one. Its
 * instances are the ones in its network namespace (the netlink dump shows
 * no other, and every process of the run, forks and killed owners
 * included, opens /dev/vhnet in it).
 */
static int count_instances(struct fz *z)
{
	char cmd[512], line[256];
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s show 2>/dev/null", z->ctl);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "instance ", 9);
	return pclose(f) ? -1 : n;
}

/* A child of this round: its workers, if it owns an instance, are ours. */
static void remember_kid(struct fz *z, pid_t pid)
{
	if (pid > 0 && z->nkids < ARRAY_SIZE(z->kids))
		z->kids[z->nkids++] = pid;
}

/* Is comm the name of a worker of owner pid (as the kernel cuts it)? */
static bool worker_of(const char *comm, pid_t pid)
{
	static const char * const dirs[] = { "rx", "tx" };
	char name[16];		/* TASK_COMM_LEN: the kernel's cut */
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "vhnet-%s-%d", dirs[i], pid);
		if (!strcmp(comm, name))
			return true;
	}
	return false;
}

/* Its threads: the workers of this process and of this round's children. */
static int count_threads(struct fz *z)
{
	char path[300], comm[32];
	struct dirent *d;
	int n = 0, fd;
	unsigned int i;
	ssize_t len;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len <= 0)
			continue;
		comm[len - (comm[len - 1] == '\n')] = 0;
		if (worker_of(comm, getpid())) {
			n++;
			continue;
		}
		for (i = 0; i < z->nkids; i++)
			if (worker_of(comm, z->kids[i])) {
				n++;
				break;
			}
	}
	closedir(dir);
	return n;
}

static long meminfo_kb(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Slab after freeing what can be freed: RCU callbacks, caches. */
static long slab_kb(void)
{
	usleep(200000);
	guest_write_file("/proc/sys/vm/drop_caches", "2");
	return meminfo_kb("Slab");
}

/* Back to the start? Threads may take a moment to be reaped. */
static void leak_check(struct fz *z, struct ctx *c)
{
	u64 end = guest_now_ms() + BOUND_MS;
	int inst, thr;

	do {
		inst = count_instances(z);
		thr = count_threads(z);
		if (inst == z->base_inst && thr == z->base_thr)
			return;
		usleep(20000);
	} while (guest_now_ms() < end);
	z->leak_ok = false;
	fail(c,
	     "after closing everything: %d instances (%d at start), %d vhnet-* threads (%d at start)",
	     inst, z->base_inst, thr, z->base_thr);
}

/* ---- memory tables ---- */

enum mt {
	MT_SAME, MT_SPLIT, MT_RINGS_ONLY, MT_EMPTY, MT_OVERLAP, MT_ZERO_SIZE,
	MT_KERNEL_HVA, MT_WRAP, MT_UNMAPPED_HVA, MT_HUGE_N, MT_OVERREAD,
	MT_PADDING, MT_NULL, MT_UNMAPPED_PTR, NR_MT
};

/* The valid kinds: what a VMM does on hotplug (or a table that shrank). */
#define MT_VALID	MT_EMPTY

/*
 * A table of kind k in the argument page (flush against the hole after
 * it, so that the device reading past its end faults). hva is the memory
 * the regions describe: guest memory, or scratch.
 */
static void *mem_table(struct fz *z, u8 *page, int k, u64 *rng, bool guest)
{
	struct vhost_memory *m;
	struct vhost_memory_region r[4];
	u64 h0 = guest ? (uintptr_t)z->mem.region[0].hva : (uintptr_t)z->scratch;
	u64 h1 = guest ? (uintptr_t)z->mem.region[1].hva :
		 (uintptr_t)z->scratch + SCRATCH_SIZE / 2;
	u64 s1 = guest ? R1_SIZE : SCRATCH_SIZE / 2;
	u64 s0 = guest ? R0_SIZE : SCRATCH_SIZE / 2;
	unsigned int n = 2, i;

	if (k == MT_NULL)
		return NULL;
	if (k == MT_UNMAPPED_PTR)
		return page + 4096;
	memset(r, 0, sizeof(r));
	r[0].guest_phys_addr = R0_GPA;
	r[0].memory_size = s0;
	r[0].userspace_addr = h0;
	r[1].guest_phys_addr = R0_GPA + s0;
	r[1].memory_size = s1;
	r[1].userspace_addr = h1;
	switch (k) {
	case MT_SPLIT:
		r[1].memory_size = s1 / 2;
		r[2] = r[1];
		r[2].guest_phys_addr += s1 / 2;
		r[2].userspace_addr += s1 / 2;
		n = 3;
		break;
	case MT_RINGS_ONLY:
		n = 1;
		break;
	case MT_EMPTY:
		n = 0;
		break;
	case MT_OVERLAP:
		r[1].guest_phys_addr -= 4096 * (1 + guest_below(rng, 4));
		break;
	case MT_ZERO_SIZE:
		r[guest_below(rng, 2)].memory_size = 0;
		break;
	case MT_KERNEL_HVA:
		r[guest_below(rng, 2)].userspace_addr = 0xffff888000000000ULL +
						  (guest_below(rng, 1024) << 12);
		break;
	case MT_WRAP:
		r[1].guest_phys_addr = -(u64)4096 * (1 + guest_below(rng, 4));
		r[1].memory_size = 1ULL << (13 + guest_below(rng, 40));
		if (guest_chance(rng, 2)) {
			r[1].guest_phys_addr = R0_GPA + s0;
			r[1].userspace_addr = -(u64)4096;
		}
		break;
	case MT_UNMAPPED_HVA:
		/* Accepted: a VMM may describe memory it maps later. */
		r[1].userspace_addr = (uintptr_t)page + 4096;
		r[1].memory_size = 4096;
		break;
	case MT_HUGE_N:
	case MT_OVERREAD:
	case MT_PADDING:
		break;
	}
	m = (void *)(page + 4096 - sizeof(*m) - n * sizeof(r[0]));
	memset(m, 0, sizeof(*m));
	m->nregions = n;
	if (k == MT_HUGE_N)
		m->nregions = guest_chance(rng, 2) ? 0xffffffff : 65 + guest_below(rng, 1 << 20);
	if (k == MT_OVERREAD)
		m->nregions = n + 1 + guest_below(rng, 62);
	if (k == MT_PADDING)
		m->padding = 1 + guest_below(rng, 0xffff);
	for (i = 0; i < n; i++)
		m->regions[i] = r[i];
	return m;
}

/* ---- random arguments for the storm ---- */

/* A pointer to len bytes that the kernel cannot use as asked, or NULL. */
static void *bad_ptr(struct fz *z, u8 *page, u64 *rng, size_t len)
{
	switch (guest_below(rng, 6)) {
	case 0:
		return NULL;
	case 1:
		return page + 4096;			/* the hole */
	case 2:
		return page + 4096 - len / 2;		/* runs into it */
	case 3:
		return (void *)0xffff888000000000ULL;	/* kernel */
	case 4:
		return (void *)(uintptr_t)(guest_rnd(rng) | 1ULL << 47);
	default:
		return z->ro;				/* read only */
	}
}

static u32 rand_index(u64 *rng)
{
	static const u32 edge[] = { 0, 1, 0, 1, 2, 3, 0x7fffffff, 0xffffffff };

	if (guest_chance(rng, 4))
		return guest_rnd(rng);
	return edge[guest_below(rng, ARRAY_SIZE(edge))];
}

static u32 rand_num(u64 *rng)
{
	static const u32 edge[] = { 0, 1, 2, 255, 256, 257, 1024, 32768,
				    65535, 65536, 0x10000000, 0xffffffff };

	if (guest_chance(rng, 3))
		return guest_rnd(rng);
	return edge[guest_below(rng, ARRAY_SIZE(edge))];
}

static int rand_fd(struct fz *z, u64 *rng, int vfd)
{
	int k = guest_below(rng, NR_ZOO + 1);

	return k == NR_ZOO ? vfd : z->zoo[k];
}

static u64 rand_features(u64 *rng)
{
	static const u64 edge[] = {
		1ULL << VIRTIO_F_VERSION_1,
		1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MRG_RXBUF,
		1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_RING_F_INDIRECT_DESC,
		1ULL << VHOST_NET_F_VIRTIO_NET_HDR,
		1ULL << VHOST_F_LOG_ALL, 1ULL << VIRTIO_F_ACCESS_PLATFORM,
		1ULL << VIRTIO_F_RING_PACKED, ~0ULL, 0,
	};

	return guest_chance(rng, 4) ? guest_rnd(rng) : edge[guest_below(rng, ARRAY_SIZE(edge))];
}

/* A user address in scratch (where the device may write), or not. */
static u64 rand_addr(struct fz *z, u64 *rng)
{
	switch (guest_below(rng, 5)) {
	case 0:
		return guest_rnd(rng) >> guest_below(rng, 64);
	case 1:
		return 0xffff888000000000ULL;
	case 2:
		return (uintptr_t)z->scratch + guest_below(rng, SCRATCH_SIZE);
	default:
		return (uintptr_t)z->scratch +
		       (guest_below(rng, SCRATCH_SIZE / 4096 - 4) << 12);
	}
}

/* An ioctl number vhnet does not serve (nor the VFS: no FIFREEZE here). */
static unsigned long unknown_req(u64 *rng)
{
	static const u8 dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
				   _IOC_READ | _IOC_WRITE };
	unsigned long req;
	unsigned int i;

	for (;;) {
		req = _IOC(dirs[guest_below(rng, 4)], VHOST_VIRTIO, guest_below(rng, 256),
			   guest_below(rng, 2) ? guest_below(rng, 64) : guest_below(rng, 16384));
		for (i = 0; i < OP_UNKNOWN; i++)
			if (ops[i].req == req)
				break;
		if (i == OP_UNKNOWN)
			return req;
	}
}

/*
 * A random IOTLB message written to vfd (or, on a non-blocking fd, a read
 * of one): either format or an unknown one, every message type, ranges
 * over a few IOVA pages (so that updates overlap and invalidations hit)
 * or anywhere (empty, huge, wrapping), user addresses of every kind, any
 * access mode, short lengths and bad buffers.
 */
static void random_iotlb(struct fz *z, struct ctx *c, int op, int vfd,
			 u8 *page, bool bad)
{
	static const u64 sizes[] = { 0, 1, 4096, 2 << 20, 1ULL << 40, ~0ULL };
	struct vhost_msg_v2 *m = (void *)(page + 2048);
	struct vhost_iotlb_msg *im = &m->iotlb;
	u64 *rng = &c->rng;
	size_t len = sizeof(*m);
	void *buf = m;

	/* A blocking read could wait for a miss that never comes. */
	if (op == OP_IOTLB_READ && !(fcntl(vfd, F_GETFL) & O_NONBLOCK))
		op = OP_IOTLB_WRITE;
	memset(m, 0, sizeof(*m));
	if (op == OP_IOTLB_WRITE) {
		if (guest_chance(rng, 2)) {
			m->type = VHOST_IOTLB_MSG_V2;
		} else {
			struct vhost_msg *m1 = (void *)m;

			m1->type = VHOST_IOTLB_MSG;
			im = &m1->iotlb;
		}
		if (guest_chance(rng, 16))
			m->type = guest_rnd(rng);
		im->type = guest_chance(rng, 8) ? guest_below(rng, 8) :
			   guest_chance(rng, 2) ? VHOST_IOTLB_UPDATE :
			   VHOST_IOTLB_INVALIDATE;
		im->iova = guest_chance(rng, 4) ? guest_rnd(rng) :
			   (u64)guest_below(rng, 64) << 12;
		im->size = guest_chance(rng, 4) ? sizes[guest_below(rng, ARRAY_SIZE(sizes))] :
			   (u64)(1 + guest_below(rng, 8)) << 12;
		im->uaddr = guest_chance(rng, 2) ? rand_addr(z, rng) : guest_rnd(rng);
		im->perm = guest_chance(rng, 8) ? guest_rnd(rng) :
			   VHOST_ACCESS_RO + guest_below(rng, 3);
	}
	if (guest_chance(rng, 8))
		len = guest_below(rng, sizeof(*m));
	if (bad)
		buf = bad_ptr(z, page, rng, len);
	xmsg(c, op, vfd, buf, len);
}

/* One random ioctl on vfd, from the thread owning argument page t. */
static void random_ioctl(struct fz *z, struct ctx *c, int vfd, u8 *page,
			 bool keep_owner)
{
	u64 *rng = &c->rng;
	int op = guest_below(rng, OP_UNKNOWN + 1);
	bool bad = guest_chance(rng, 6);
	union {
		u64 u;
		struct vhost_vring_state s;
		struct vhost_vring_file f;
		struct vhost_vring_addr a;
	} *v = (void *)(page + 2048);
	void *arg = v;
	unsigned long req = 0;

	if (op == OP_IOTLB_WRITE || op == OP_IOTLB_READ) {
		random_iotlb(z, c, op, vfd, page, bad);
		return;
	}

	memset(v, 0, sizeof(*v));
	switch (op) {
	case OP_SET_OWNER:
	case OP_RESET_OWNER:
		arg = (void *)(uintptr_t)guest_rnd(rng);
		break;
	case OP_SET_FEATURES:
	case OP_SET_BACKEND_FEATURES:
		v->u = rand_features(rng);
		break;
	case OP_SET_MEM_TABLE:
		arg = mem_table(z, page, guest_below(rng, NR_MT), rng, false);
		break;
	case OP_SET_LOG_BASE:
		v->u = guest_chance(rng, 2) ? rand_addr(z, rng) : guest_rnd(rng);
		break;
	case OP_SET_LOG_FD:
		v->f.fd = rand_fd(z, rng, vfd);
		break;
	case OP_SET_VRING_NUM:
	case OP_SET_VRING_BASE:
	case OP_SET_BUSYLOOP:
		v->s.index = rand_index(rng);
		v->s.num = op == OP_SET_BUSYLOOP && !guest_chance(rng, 8) ?
			   guest_below(rng, 200) : rand_num(rng);
		break;
	case OP_SET_VRING_ADDR:
		v->a.index = rand_index(rng);
		v->a.flags = guest_chance(rng, 4) ? (u32)guest_rnd(rng) : guest_below(rng, 2);
		v->a.desc_user_addr = rand_addr(z, rng);
		v->a.avail_user_addr = rand_addr(z, rng);
		v->a.used_user_addr = rand_addr(z, rng);
		v->a.log_guest_addr = guest_chance(rng, 2) ? 0 : guest_rnd(rng);
		break;
	case OP_SET_VRING_KICK:
	case OP_SET_VRING_CALL:
	case OP_SET_VRING_ERR:
	case OP_SET_BACKEND:
		v->f.index = rand_index(rng);
		v->f.fd = rand_fd(z, rng, vfd);
		break;
	case OP_GET_VRING_BASE:
	case OP_GET_BUSYLOOP:
		v->s.index = rand_index(rng);
		break;
	case OP_UNKNOWN:
		req = unknown_req(rng);
		if (guest_chance(rng, 2))
			arg = (void *)(uintptr_t)guest_rnd(rng);
		break;
	}
	if (bad && op != OP_SET_MEM_TABLE)
		arg = bad_ptr(z, page, rng, sizeof(*v));
	if (keep_owner && op == OP_RESET_OWNER)
		op = OP_GET_FEATURES;
	xioctl(c, op, vfd, req, arg);
}

/* ---- storm: threads of random ioctls on a few fds ---- */

struct storm {
	struct fz *z;
	int vfd[MAX_VFDS];	/* read by the threads, changed between phases */
	unsigned int nvfd, nops;
	struct ctx c;
	pthread_t th;
};

static void *storm_thread(void *arg)
{
	struct storm *s = arg;
	unsigned int i;

	for (i = 0; i < s->nops; i++) {
		int fd = s->vfd[guest_below(&s->c.rng, s->nvfd)];

		random_ioctl(s->z, &s->c, fd, s->z->arg[s->c.thread], false);
		if (guest_chance(&s->c.rng, 32))
			sched_yield();
	}
	return NULL;
}

static void open_vfd(struct fz *z, struct ctx *c, int *fd)
{
	/* Non-blocking: the storm reads IOTLB messages too. */
	*fd = open(z->path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0) {
		fail(c, "open %s: %s", z->path, strerror(errno));
		return;
	}
	if (!guest_chance(&c->rng, 4))
		xioctl(c, OP_SET_OWNER, *fd, 0, NULL);
}

static void round_storm(struct fz *z, struct ctx *c)
{
	struct storm s[MAX_THREADS];
	int vfd[MAX_VFDS] = { -1, -1, -1 };
	unsigned int nvfd = 1 + guest_below(&c->rng, MAX_VFDS);
	unsigned int nth = 1 + guest_below(&c->rng, MAX_THREADS);
	unsigned int phases = 1 + guest_below(&c->rng, 3), p, i;

	for (i = 0; i < nvfd; i++)
		open_vfd(z, c, &vfd[i]);
	for (p = 0; p < phases; p++) {
		for (i = 0; i < nth; i++) {
			s[i].z = z;
			memcpy(s[i].vfd, vfd, sizeof(vfd));
			s[i].nvfd = nvfd;
			s[i].nops = 20 + guest_below(&c->rng, 100);
			s[i].c = (struct ctx){ .rng = guest_rnd(&c->rng), .thread = i,
					       .slot = i };
			if (pthread_create(&s[i].th, NULL, storm_thread, &s[i]))
				s[i].nops = 0;
		}
		for (i = 0; i < nth; i++)
			if (s[i].nops)
				pthread_join(s[i].th, NULL);
		/* Between phases: close some, open new ones. */
		for (i = 0; i < nvfd; i++) {
			if (!guest_chance(&c->rng, 2))
				continue;
			xclose(c, &vfd[i]);
			open_vfd(z, c, &vfd[i]);
		}
	}
	for (i = 0; i < nvfd; i++)
		xclose(c, &vfd[i]);
}

/* ---- a well-behaved guest on an instance ---- */

struct tguest {
	struct fz *z;
	int vfd;
	bool owned;
	pthread_mutex_t lock;	/* the main thread reconfigures under it */
	pthread_t th;
	bool stop;		/* __atomic */
	bool desync[GUEST_NR_VQS];	/* the device's answers made no sense */
	u32 tx_next, rx_inj;
	u64 tx_seen, rx_seen;	/* __atomic */
	u64 damaged;
};

static void tx_post(struct fz *z, struct gvq *vq, u32 seq)
{
	struct virtio_net_hdr h;
	u8 hdr[HDR_LEN] = { 0 };
	unsigned int len = 60 + seq % 500;
	struct gvq_buf b;

	guest_make_frame(z->frame, len, GUEST_PKT_PLAIN, seq, &h);
	b.gpa = guest_pool_alloc(&z->mem, HDR_LEN + len, 8);
	b.len = HDR_LEN + len;
	b.flags = 0;
	guest_mem_copy(&z->mem, b.gpa, hdr, HDR_LEN, true);
	guest_mem_copy(&z->mem, b.gpa + HDR_LEN, z->frame, len, true);
	gvq_add(vq, &z->mem, &b, 1, false);
}

static void rx_post(struct fz *z, struct gvq *vq)
{
	struct gvq_buf b = { .len = RX_BUF_LEN, .flags = VRING_DESC_F_WRITE };

	b.gpa = guest_pool_alloc(&z->mem, RX_BUF_LEN, 8);
	gvq_add(vq, &z->mem, &b, 1, false);
}

/* Is f (len bytes) frame seq as guest_make_frame builds it? */
static bool frame_ok(struct fz *z, const u8 *f, unsigned int len, u32 *seq)
{
	struct virtio_net_hdr h;

	if (len < 60 || len > 60 + 500)
		return false;
	*seq = guest_frame_seq(f);
	if (len != 60 + *seq % 500)
		return false;
	guest_make_frame(z->frame, len, GUEST_PKT_PLAIN, *seq, &h);
	return !memcmp(f, z->frame, len);
}

/* Take a used entry; false if none, or if it is not what we posted. */
static bool take_used(struct tguest *g, unsigned int q, u32 *id, u32 *len)
{
	struct gvq *vq = &g->z->vq[q];

	if (g->desync[q] || !gvq_used_pending(vq) ||
	    gvq_get_used(vq, id, len, 0))
		return false;
	if (gvq_check_order(vq, *id)) {
		g->desync[q] = true;
		return false;
	}
	gvq_complete(vq, *id);
	return true;
}

/* One turn of the guest: post, publish, reap, inject. Under g->lock. */
static void guest_turn(struct tguest *g, u32 *rx_want, u32 *tx_want, u32 base)
{
	struct fz *z = g->z;
	struct gvq *tx = &z->vq[GUEST_TX_VQ], *rx = &z->vq[GUEST_RX_VQ];
	struct virtio_net_hdr h;
	u32 id, len, seq;
	int n;

	while (!g->desync[GUEST_TX_VQ] && tx->num_free &&
	       tx->fifo_len < TX_WINDOW && (!tx_want || *tx_want)) {
		tx_post(z, tx, base + g->tx_next++);
		if (tx_want)
			--*tx_want;
	}
	gvq_publish(tx);
	while (take_used(g, GUEST_TX_VQ, &id, &len))
		;
	while (!g->desync[GUEST_RX_VQ] && rx->num_free)
		rx_post(z, rx);
	gvq_publish(rx);
	while (take_used(g, GUEST_RX_VQ, &id, &len)) {
		guest_mem_copy(&z->mem, rx->tok[id].gpa, z->buf,
			       len < RX_BUF_LEN ? len : RX_BUF_LEN, false);
		if (len > HDR_LEN && frame_ok(z, z->buf + HDR_LEN,
					      len - HDR_LEN, &seq)) {
			at_inc(&g->rx_seen, 1);
			if (rx_want && seq - base - 0x8000 < VERIFY_N)
				*rx_want &= ~(1U << (seq - base - 0x8000));
		} else {
			g->damaged++;
		}
	}
	while ((n = guest_tap_recv(&z->tap, &h, z->buf, sizeof(z->buf),
				   0)) >= 0) {
		if (frame_ok(z, z->buf, n, &seq)) {
			at_inc(&g->tx_seen, 1);
			if (tx_want && seq - base < VERIFY_N)
				tx_want[1] &= ~(1U << (seq - base));
		} else {
			g->damaged++;
		}
	}
}

static void *guest_thread(void *arg)
{
	struct tguest *g = arg;
	struct fz *z = g->z;
	struct virtio_net_hdr h;

	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = z->tap.cap, .events = POLLIN };

		pthread_mutex_lock(&g->lock);
		guest_turn(g, NULL, NULL, z->seqbase);
		/* Keep a few frames queued for the RX side. */
		if (g->rx_inj - at_load(&g->rx_seen) < 16) {
			u32 seq = z->seqbase + 0x4000 + (g->rx_inj++ & 0x3fff);

			guest_make_frame(z->frame, 60 + seq % 500,
					 GUEST_PKT_PLAIN, seq, &h);
			guest_tap_inject(&z->tap, z->frame, 60 + seq % 500, &h);
		}
		pthread_mutex_unlock(&g->lock);
		poll(&p, 1, 5);
	}
	return NULL;
}

static int set_backend(struct ctx *c, int vfd, unsigned int q, int fd)
{
	struct vhost_vring_file f = { .index = q, .fd = fd };

	return xioctl(c, OP_SET_BACKEND, vfd, 0, &f);
}

/* Empty the tap's queue and the capture socket: no stale frames. */
static void drain_tap(struct guest_tap *t)
{
	struct virtio_net_hdr h;
	u8 buf[2048];
	int i;

	for (i = 0; i < 4096 && t->fd >= 0; i++)
		if (read(t->fd, buf, sizeof(buf)) < 0)
			break;
	while (t->cap >= 0 && guest_tap_recv(t, &h, buf, sizeof(buf), 0) >= 0)
		;
}

/*
 * Set instance g->vfd up from scratch as QEMU does after a guest reset:
 * stop the rings, detach, features, table, rings, attach the tap. Caller
 * holds g->lock (or the thread is not running).
 */
static int reconfigure(struct tguest *g, struct ctx *c)
{
	struct fz *z = g->z;
	u64 f = 1ULL << VIRTIO_F_VERSION_1;
	int hl = HDR_LEN, q, e;
	struct vhost_vring_state st;
	void *m;

	for (q = 0; q < GUEST_NR_VQS; q++) {
		st = (struct vhost_vring_state){ .index = q };
		xioctl(c, OP_GET_VRING_BASE, g->vfd, 0, &st);
		set_backend(c, g->vfd, q, -1);
	}
	if (!g->owned) {
		e = xioctl(c, OP_SET_OWNER, g->vfd, 0, NULL);
		if (e)
			return e;
		g->owned = true;
	}
	e = xioctl(c, OP_SET_FEATURES, g->vfd, 0, &f);
	if (e)
		return e;
	m = mem_table(z, z->arg[MAX_THREADS], MT_SAME, &c->rng, true);
	e = xioctl(c, OP_SET_MEM_TABLE, g->vfd, 0, m);
	if (e)
		return e;
	if (ioctl(z->tap.fd, TUNSETVNETHDRSZ, &hl))
		return -errno;
	drain_tap(&z->tap);
	for (q = 0; q < GUEST_NR_VQS; q++) {
		gvq_reset(&z->vq[q], RING_NUM, guest_below(&c->rng, 65536), false);
		g->desync[q] = false;
		guest_efd_fired(z->vq[q].call, 0);
		guest_efd_fired(z->vq[q].err, 0);
		st = (struct vhost_vring_state){ .index = q };
		xioctl(c, OP_SET_BUSYLOOP, g->vfd, 0, &st);
		e = gvq_setup(g->vfd, q, &z->vq[q]);
		if (!e)
			e = set_backend(c, g->vfd, q, z->tap.fd);
		if (e)
			return e;
	}
	return 0;
}

/*
 * VERIFY_N frames each way, byte exact: TX from the ring to the tap, RX
 * from the tap into the ring. 0, or the bitmaps of what is missing.
 */
static u64 verify_traffic(struct tguest *g)
{
	struct fz *z = g->z;
	u32 base = z->seqbase + 0x10000 * 2;
	u32 tx_want[2] = { VERIFY_N, (1U << VERIFY_N) - 1 };
	u32 rx_want = (1U << VERIFY_N) - 1;
	struct virtio_net_hdr h;
	u64 end = guest_now_ms() + WAIT_MS;
	u32 k, next;

	next = g->tx_next;
	g->tx_next = 0;
	for (k = 0; k < VERIFY_N; k++) {
		u32 seq = base + 0x8000 + k;

		guest_make_frame(z->frame, 60 + seq % 500, GUEST_PKT_PLAIN, seq,
				 &h);
		guest_tap_inject(&z->tap, z->frame, 60 + seq % 500, &h);
	}
	while ((tx_want[1] || rx_want) && guest_now_ms() < end) {
		struct pollfd p = { .fd = z->tap.cap, .events = POLLIN };

		guest_turn(g, &rx_want, tx_want, base);
		poll(&p, 1, 5);
	}
	g->tx_next = next;
	return (u64)tx_want[1] << 32 | rx_want;
}

/* ---- traffic: chaos on a busy instance ---- */

enum chaos {
	C_MT_VALID, C_MT_BAD, C_DETACH_ATTACH, C_SWAP_TAP2, C_WRONG_BACKEND,
	C_OTHER_NS, C_SHARE_TAP, C_CLOSE_SHARE, C_BUSYLOOP, C_FEATURES,
	C_STOPPED_REFUSE, C_EBUSY, C_RESET_OWNER, C_TAP_CLOSE, C_TAP_DEL,
	C_LOG, C_IOMMU, NR_CHAOS
};

static const char *const chaos_names[NR_CHAOS] = {
	"mem-table", "bad-mem-table", "detach-attach", "swap-tap", "wrong-backend",
	"other-netns-tap", "share-tap", "close-second", "busyloop", "features",
	"stopped-refuse", "ebusy", "reset-owner", "tap-close", "tap-del",
	"dirty-log", "viommu",
};

/*
 * Where IOVA @page is for chaos_iommu()'s guest: its buffers' IOVAs are
 * their guest-physical addresses, its rings' their host addresses (what
 * the rings were set up with). NULL for anything else.
 */
static void *iommu_page(struct fz *z, u64 page)
{
	unsigned int i;

	for (i = 0; i < z->mem.nregions; i++) {
		const struct guest_region *r = &z->mem.region[i];

		if (page - (uintptr_t)r->hva < r->size)
			return (void *)(uintptr_t)page;
	}
	return guest_hva(&z->mem, page);
}

/*
 * The guest goes behind a vIOMMU under traffic, and back: from the ack
 * of VIRTIO_F_ACCESS_PLATFORM every ring and buffer address is an IOVA
 * the device translates through its IOTLB, filled by this VMM from the
 * misses it reads (4 KiB each), while it invalidates ranges at random,
 * now and then all of them. Frames keep flowing, undamaged.
 */
static void chaos_iommu(struct tguest *g, struct ctx *c)
{
	u64 f = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	u64 bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	struct pollfd p = { .fd = g->vfd, .events = POLLIN };
	unsigned int k, n = 5 + guest_below(&c->rng, 20);
	struct fz *z = g->z;
	u64 *rng = &c->rng;
	struct vhost_msg_v2 m;

	if (xioctl(c, OP_SET_BACKEND_FEATURES, g->vfd, 0, &bf) ||
	    xioctl(c, OP_SET_FEATURES, g->vfd, 0, &f))
		return;
	z->iommu_rounds++;
	for (k = 0; k < n; k++) {
		while (poll(&p, 1, guest_below(rng, 10)) > 0 &&
		       !xmsg(c, OP_IOTLB_READ, g->vfd, &m, sizeof(m))) {
			u64 page = m.iotlb.iova & ~4095ULL;
			void *hva = iommu_page(z, page);

			if (m.type != VHOST_IOTLB_MSG_V2 ||
			    m.iotlb.type != VHOST_IOTLB_MISS || !hva) {
				fail(c, "IOTLB: type %u/%u, a miss at 0x%llx",
				     m.type, m.iotlb.type,
				     (unsigned long long)m.iotlb.iova);
				break;
			}
			m.iotlb = (struct vhost_iotlb_msg){ .iova = page,
				.size = 4096, .uaddr = (uintptr_t)hva,
				.perm = VHOST_ACCESS_RW, .type = VHOST_IOTLB_UPDATE };
			if (xmsg(c, OP_IOTLB_WRITE, g->vfd, &m, sizeof(m)))
				fail(c, "IOTLB: an update of 0x%llx refused",
				     (unsigned long long)page);
			z->iommu_answered++;
		}
		if (guest_chance(rng, 3)) {
			bool all = guest_chance(rng, 4);

			m = (struct vhost_msg_v2){ .type = VHOST_IOTLB_MSG_V2 };
			m.iotlb = (struct vhost_iotlb_msg){
				.iova = all ? 0 : R0_GPA + ((u64)guest_below(rng, 1024) << 12),
				.size = all ? ~0ULL : (u64)(1 + guest_below(rng, 64)) << 12,
				.type = VHOST_IOTLB_INVALIDATE };
			xmsg(c, OP_IOTLB_WRITE, g->vfd, &m, sizeof(m));
		}
	}
	f &= ~(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	xioctl(c, OP_SET_FEATURES, g->vfd, 0, &f);
}

/* A second instance with its own rings in the same memory, on fd. */
static int second_instance(struct fz *z, struct ctx *c, int fd)
{
	void *m = mem_table(z, z->arg[MAX_THREADS], MT_SAME, &c->rng, true);
	int vfd = open(z->path, O_RDWR | O_CLOEXEC), q;

	if (vfd < 0)
		return -1;
	xioctl(c, OP_SET_OWNER, vfd, 0, NULL);
	xioctl(c, OP_SET_MEM_TABLE, vfd, 0, m);
	for (q = 0; q < GUEST_NR_VQS; q++) {
		gvq_reset(&z->vq2[q], RING_NUM, 0, false);
		rx_post(z, &z->vq2[GUEST_RX_VQ]);
		gvq_publish(&z->vq2[GUEST_RX_VQ]);
		gvq_setup(vfd, q, &z->vq2[q]);
		set_backend(c, vfd, q, fd);
	}
	return vfd;
}

/*
 * A refused ioctl changes nothing: a ring GET_VRING_BASE stopped stays
 * stopped (nothing it holds is consumed after a kick) through a refusal.
 * Runs with the guest thread held off.
 */
static void stopped_refuse(struct tguest *g, struct ctx *c)
{
	struct fz *z = g->z;
	struct gvq *tx = &z->vq[GUEST_TX_VQ];
	u8 *page = z->arg[MAX_THREADS];
	struct vhost_vring_state st = { .index = GUEST_TX_VQ };
	struct vhost_vring_file f = { .index = GUEST_TX_VQ };
	struct vhost_vring_addr a;
	int which = guest_below(&c->rng, 6), e;
	static const char *const what[] = {
		"SET_VRING_KICK (fd 1<<20)", "SET_VRING_KICK (a pipe)",
		"SET_VRING_KICK (bad pointer)", "SET_VRING_ADDR (misaligned)",
		"NET_SET_BACKEND (UDP socket)", "SET_VRING_CALL (a pipe)",
	};
	u16 used0, base0 = 0;

	if (g->desync[GUEST_TX_VQ] || xioctl(c, OP_GET_VRING_BASE, g->vfd, 0, &st))
		return;
	base0 = st.num;
	used0 = guest_load16(&tx->vr.used->idx);
	switch (which) {
	case 0:
	case 1:
	case 2:
		f.fd = which ? z->zoo[Z_PIPE_R] : z->zoo[Z_HUGE];
		e = xioctl(c, OP_SET_VRING_KICK, g->vfd, 0,
			   which == 2 ? (void *)(page + 4096) : (void *)&f);
		break;
	case 3:
		gvq_addr(tx, GUEST_TX_VQ, &a);
		a.used_user_addr |= 2;
		e = xioctl(c, OP_SET_VRING_ADDR, g->vfd, 0, &a);
		break;
	case 4:
		e = set_backend(c, g->vfd, GUEST_TX_VQ, z->zoo[Z_UDP]);
		break;
	default:
		f.fd = z->zoo[Z_PIPE_R];
		e = xioctl(c, OP_SET_VRING_CALL, g->vfd, 0, &f);
		break;
	}
	if (!e) {
		fail(c, "%s on a stopped ring: accepted", what[which]);
		z->refusal_ok = false;
		return;
	}
	z->refusal_checks++;
	/* Something to send, and a kick: a stopped ring ignores both. */
	if (tx->num_free)
		tx_post(z, tx, z->seqbase + g->tx_next++);
	gvq_publish(tx);
	gvq_kick(tx);
	usleep(300000);
	st.num = 0;
	xioctl(c, OP_GET_VRING_BASE, g->vfd, 0, &st);
	if (guest_load16(&tx->vr.used->idx) != used0 || st.num != base0) {
		/* Reported once: repeats must not stop the run exploring. */
		if (z->restarted++)
			goto restart;
		fail(c,
		     "refused %s (%s) restarted the TX ring GET_VRING_BASE stopped: used %u->%u, base %u->%u",
		     what[which], strerror(-e), used0,
		     guest_load16(&tx->vr.used->idx), base0, st.num);
		z->refusal_ok = false;
	}
restart:
	/* Configure it again (same kick fd): that restarts it. */
	f.fd = tx->kick;
	xioctl(c, OP_SET_VRING_KICK, g->vfd, 0, &f);
}

/* Offer every wrong kind of fd as backend: each must be refused. */
static void wrong_backends(struct tguest *g, struct ctx *c)
{
	struct fz *z = g->z;
	int q = guest_below(&c->rng, 2), k, e;

	for (k = 0; k < NR_ZOO; k++) {
		if (!zoo_wrong_backend(k))
			continue;
		e = set_backend(c, g->vfd, q, z->zoo[k]);
		if (!e && g->owned) {
			fail(c, "%s accepted as backend of queue %d",
			     zoo_names[k], q);
			z->backends_ok = false;
			set_backend(c, g->vfd, q, -1);
		} else if (e) {
			z->refused_backends++;
		}
	}
}

/*
 * A migration's dirty logging under traffic, as a careless VMM might run
 * it: logging on (LOG_ALL, each ring's address with VHOST_VRING_F_LOG),
 * the log moved, a log base that cannot cover memory (refused while
 * logging), a used-ring log address past the log's reach (refused), the
 * log unmapped and mapped again while rings write to it (a ring that
 * writes meanwhile breaks, bad-log), or logging off again.
 */
static void chaos_log(struct tguest *g, struct ctx *c)
{
	struct fz *z = g->z;
	u64 *rng = &c->rng;
	u64 f = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VHOST_F_LOG_ALL, base;
	struct vhost_vring_addr a;
	unsigned int q;
	u8 *log;

	base = (uintptr_t)z->log[guest_below(rng, 2)];
	switch (guest_below(rng, 6)) {
	case 0:	/* start, or move the log */
		xioctl(c, OP_SET_LOG_BASE, g->vfd, 0, &base);
		xioctl(c, OP_SET_FEATURES, g->vfd, 0, &f);
		for (q = 0; q < GUEST_NR_VQS; q++) {
			gvq_addr(&z->vq[q], q, &a);
			a.flags = 1 << VHOST_VRING_F_LOG;
			a.log_guest_addr = R0_GPA + q * RING_AREA +
					   ((u8 *)z->vq[q].vr.used - (u8 *)z->vq[q].vr.desc);
			xioctl(c, OP_SET_VRING_ADDR, g->vfd, 0, &a);
		}
		break;
	case 1:	/* a base whose bits for guest memory lie past user space */
		base = 0x7ffffffff000ULL - guest_below(rng, 4) * 4096;
		xioctl(c, OP_SET_LOG_BASE, g->vfd, 0, &base);
		break;
	case 2:	/* a used ring logged far beyond the log */
		q = guest_below(rng, 2);
		gvq_addr(&z->vq[q], q, &a);
		a.flags = 1 << VHOST_VRING_F_LOG;
		a.log_guest_addr = (1ULL << (40 + guest_below(rng, 24))) & ~7ULL;
		xioctl(c, OP_SET_VRING_ADDR, g->vfd, 0, &a);
		break;
	case 3:	/* the log taken away under the rings, then given back */
		log = z->log[guest_below(rng, 2)];
		munmap(log, LOG_BYTES);
		usleep(guest_below(rng, 20000));
		if (mmap(log, LOG_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != log)
			fail(c, "mapping the dirty log again: %s", strerror(errno));
		break;
	case 4:	/* a log eventfd, or none */
		{
			struct vhost_vring_file lf = {
				.fd = guest_chance(rng, 2) ? z->zoo[Z_EVENTFD] : -1,
			};

			xioctl(c, OP_SET_LOG_FD, g->vfd, 0, &lf.fd);
		}
		break;
	default: /* stop */
		f &= ~(1ULL << VHOST_F_LOG_ALL);
		xioctl(c, OP_SET_FEATURES, g->vfd, 0, &f);
		for (q = 0; q < GUEST_NR_VQS; q++) {
			gvq_addr(&z->vq[q], q, &a);
			xioctl(c, OP_SET_VRING_ADDR, g->vfd, 0, &a);
		}
		break;
	}
}

static void chaos_step(struct tguest *g, struct ctx *c, int what, int *vfd2)
{
	struct fz *z = g->z;
	u64 *rng = &c->rng;
	struct vhost_vring_state st = { .index = guest_below(rng, 2) };
	unsigned int q;
	u64 f;
	void *m;

	switch (what) {
	case C_MT_VALID:
		m = mem_table(z, z->arg[MAX_THREADS],
			      guest_chance(rng, 6) ? MT_RINGS_ONLY : guest_below(rng, 2),
			      rng, true);
		xioctl(c, OP_SET_MEM_TABLE, g->vfd, 0, m);
		break;
	case C_MT_BAD:
		m = mem_table(z, z->arg[MAX_THREADS],
			      MT_VALID + 1 + guest_below(rng, NR_MT - MT_VALID - 1),
			      rng, true);
		xioctl(c, OP_SET_MEM_TABLE, g->vfd, 0, m);
		break;
	case C_DETACH_ATTACH:
		q = guest_below(rng, 3);
		if (q < 2) {
			set_backend(c, g->vfd, q, -1);
			usleep(guest_below(rng, 20000));
			set_backend(c, g->vfd, q, z->tap.fd);
		} else {
			set_backend(c, g->vfd, 0, z->tap.fd);
			set_backend(c, g->vfd, 1, z->tap.fd);
		}
		break;
	case C_SWAP_TAP2:
		q = guest_below(rng, 2);
		set_backend(c, g->vfd, q, z->tap2.fd);
		usleep(guest_below(rng, 20000));
		set_backend(c, g->vfd, q, z->tap.fd);
		break;
	case C_WRONG_BACKEND:
		wrong_backends(g, c);
		break;
	case C_OTHER_NS:
		q = guest_below(rng, 2);
		if (!set_backend(c, g->vfd, q, z->tapb.fd)) {
			usleep(guest_below(rng, 20000));
			set_backend(c, g->vfd, q, z->tap.fd);
		}
		break;
	case C_SHARE_TAP:
		if (*vfd2 < 0)
			*vfd2 = second_instance(z, c, z->tap.fd);
		break;
	case C_CLOSE_SHARE:
		xclose(c, vfd2);
		break;
	case C_BUSYLOOP:
		st.num = guest_chance(rng, 3) ? 0 : guest_chance(rng, 2) ? guest_below(rng, 200) :
			 rand_num(rng);
		xioctl(c, OP_SET_BUSYLOOP, g->vfd, 0, &st);
		break;
	case C_FEATURES:
		f = 1ULL << VIRTIO_F_VERSION_1;
		if (guest_chance(rng, 2))
			f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
		if (guest_chance(rng, 4))
			f = rand_features(rng);
		xioctl(c, OP_SET_FEATURES, g->vfd, 0, &f);
		break;
	case C_STOPPED_REFUSE:
		stopped_refuse(g, c);
		break;
	case C_LOG:
		chaos_log(g, c);
		break;
	case C_IOMMU:
		chaos_iommu(g, c);
		break;
	case C_EBUSY:
		st.num = guest_chance(rng, 2) ? RING_NUM : 0;
		xioctl(c, guest_chance(rng, 2) ? OP_SET_VRING_NUM : OP_SET_VRING_BASE,
		       g->vfd, 0, &st);
		break;
	case C_RESET_OWNER:
		if (!xioctl(c, OP_RESET_OWNER, g->vfd, 0, NULL))
			g->owned = false;
		break;
	case C_TAP_CLOSE:
		/* The instance keeps its reference: the tap lives on. */
		xclose(c, &z->tap.fd);
		z->tap_alive = false;
		break;
	case C_TAP_DEL: {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "ip link del %s", z->tap.ifname);
		if (system(cmd))
			fail(c, "%s failed", cmd);
		z->tap_alive = false;
		break;
	}
	}
}

static int new_tap(struct fz *z, struct ctx *c)
{
	int e;

	guest_tap_close(&z->tap);
	e = guest_tap_open(&z->tap, "fvtap%d", HDR_LEN, 1500);
	if (e) {
		fail(c, "tap: %s", strerror(-e));
		return e;
	}
	fcntl(z->tap.fd, F_SETFL, O_NONBLOCK);
	z->tap_alive = true;
	return 0;
}

static void round_traffic(struct fz *z, struct ctx *c)
{
	struct tguest g = { .z = z, .vfd = -1 };
	unsigned int n = 5 + guest_below(&c->rng, 25), i;
	u64 tx0, rx0, miss;
	bool other_ns = guest_chance(&c->rng, 4);
	int vfd2 = -1, e;

	pthread_mutex_init(&g.lock, NULL);
	if (!z->tap_alive && new_tap(z, c))
		return;
	g.vfd = open(z->path, O_RDWR | O_CLOEXEC);
	if (g.vfd < 0) {
		fail(c, "open: %s", strerror(errno));
		return;
	}
	e = reconfigure(&g, c);
	if (e) {
		fail(c, "setting a clean instance up: %s", strerror(-e));
		goto out;
	}
	if (pthread_create(&g.th, NULL, guest_thread, &g)) {
		fail(c, "pthread_create");
		goto out;
	}
	usleep(20000);
	for (i = 0; i < n; i++) {
		int what = guest_below(&c->rng, NR_CHAOS);

		/* Deleting or closing the tap: rare, and late. */
		if ((what == C_TAP_DEL || what == C_TAP_CLOSE) &&
		    (i + 3 < n || guest_chance(&c->rng, 2)))
			what = C_MT_VALID;
		if (!z->tap_alive && (what == C_DETACH_ATTACH ||
				      what == C_SWAP_TAP2 || what == C_OTHER_NS ||
				      what == C_SHARE_TAP || what == C_TAP_CLOSE ||
				      what == C_TAP_DEL))
			what = C_MT_BAD;
		bool hold = what == C_STOPPED_REFUSE ||
			    what == C_RESET_OWNER || what == C_SHARE_TAP;

		if (hold)
			pthread_mutex_lock(&g.lock);
		if (z->verbose)
			ksft_print_msg("  round %u: %s\n", cur_round,
				       chaos_names[what]);
		chaos_step(&g, c, what, &vfd2);
		if (hold)
			pthread_mutex_unlock(&g.lock);
		usleep(guest_below(&c->rng, 30000));
	}
	__atomic_store_n(&g.stop, true, __ATOMIC_RELEASE);
	pthread_join(g.th, NULL);
	xclose(c, &vfd2);

	/* Set up again, on a fresh tap if ours went, or the other netns's. */
	if (!z->tap_alive && new_tap(z, c))
		goto out;
	if (other_ns) {
		struct guest_tap keep = z->tap;

		z->tap = z->tapb;
		e = reconfigure(&g, c);
		miss = e ? 0 : verify_traffic(&g);
		z->tap = keep;
		if (e) {
			z->other_ns_refused++;
		} else if (miss) {
			fail(c,
			     "tap of another netns accepted, but frames missing: TX 0x%llx RX 0x%llx",
			     (unsigned long long)(miss >> 32),
			     (unsigned long long)(u32)miss);
			z->traffic_ok = false;
		} else {
			z->other_ns_ok++;
		}
	}
	tx0 = at_load(&g.tx_seen);
	rx0 = at_load(&g.rx_seen);
	e = reconfigure(&g, c);
	if (e) {
		fail(c, "setting the instance up again: %s", strerror(-e));
		z->traffic_ok = false;
		goto out;
	}
	miss = verify_traffic(&g);
	if (miss) {
		fail(c, "after set-up again, frames missing: TX 0x%llx RX 0x%llx",
		     (unsigned long long)(miss >> 32), (unsigned long long)(u32)miss);
		z->traffic_ok = false;
	} else {
		z->verified++;
	}
	if (z->verbose)
		ksft_print_msg("  round %u: %llu TX %llu RX frames under chaos, %llu damaged\n",
			       cur_round, (unsigned long long)tx0,
			       (unsigned long long)rx0,
			       (unsigned long long)g.damaged);
out:
	xclose(c, &g.vfd);
	drain_tap(&z->tap);
	pthread_mutex_destroy(&g.lock);
}

/* ---- fork: a child with the owner's fd ---- */

static void child_eperm(struct fz *z, struct tguest *g, u64 rng, int *bad)
{
	struct ctx c = { .rng = rng, .thread = 100, .slot = -1 };
	union {
		u64 u;
		struct vhost_vring_state s;
		struct vhost_vring_file f;
		struct vhost_vring_addr a;
	} v;
	unsigned int i, k;
	void *arg;
	int e;

	e = xioctl(&c, OP_SET_OWNER, g->vfd, 0, NULL);
	if (e != -EBUSY)
		*bad = OP_SET_OWNER;
	for (i = 0; i < 2 * ARRAY_SIZE(owner_only); i++) {
		k = owner_only[guest_below(&c.rng, ARRAY_SIZE(owner_only))];
		memset(&v, 0, sizeof(v));
		arg = &v;
		v.s.index = guest_below(&c.rng, 2);
		switch (k) {
		case OP_SET_MEM_TABLE:
			arg = mem_table(z, z->arg[MAX_THREADS], MT_SAME, &c.rng,
					true);
			break;
		case OP_SET_LOG_FD:
			v.f.fd = z->zoo[Z_EVENTFD];
			break;
		case OP_SET_VRING_NUM:
			v.s.num = RING_NUM;
			break;
		case OP_SET_VRING_ADDR:
			gvq_addr(&z->vq[v.s.index], v.s.index, &v.a);
			break;
		case OP_SET_VRING_KICK:
		case OP_SET_VRING_CALL:
		case OP_SET_VRING_ERR:
			v.f.fd = z->zoo[Z_EVENTFD];
			break;
		case OP_SET_BACKEND:
			v.f.fd = guest_chance(&c.rng, 2) ? -1 : z->tap.fd;
			break;
		}
		e = xioctl(&c, k, g->vfd, k == OP_UNKNOWN ? unknown_req(&c.rng) : 0,
			   arg);
		if (e != -EPERM)
			*bad = k;
	}
	if (xioctl(&c, OP_GET_FEATURES, g->vfd, 0, &v))
		*bad = OP_GET_FEATURES;
}

static void round_fork(struct fz *z, struct ctx *c)
{
	struct tguest g = { .z = z, .vfd = -1 };
	int *bad = &sh->child_bad, status, e;
	bool parent_closes = guest_chance(&c->rng, 3);
	u64 t0, rng = guest_rnd(&c->rng), miss;
	pid_t pid;

	if (!z->tap_alive && new_tap(z, c))
		return;
	g.vfd = open(z->path, O_RDWR | O_CLOEXEC);
	if (g.vfd < 0)
		return;
	e = reconfigure(&g, c);
	if (e) {
		fail(c, "setting an instance up: %s", strerror(-e));
		goto out;
	}
	*bad = -1;
	pid = fork();
	remember_kid(z, pid);
	if (pid < 0)
		goto out;
	if (!pid) {
		usleep(guest_below(&rng, 20000));
		child_eperm(z, &g, rng, bad);
		if (guest_chance(&rng, 2))
			close(g.vfd);
		_exit(0);
	}
	if (parent_closes)
		xclose(c, &g.vfd);
	t0 = guest_now_ms();
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (guest_now_ms() - t0 > HANG_MS) {
			fail(c, "child with an inherited fd: stuck");
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(5000);
	}
	z->eperm_checks++;
	if (*bad >= 0) {
		fail(c, "child with the owner's fd: %s did not answer %s",
		     ops[*bad].name, *bad == OP_SET_OWNER ? "EBUSY" : "EPERM");
		z->eperm_ok = false;
	}
	if (g.vfd >= 0) {
		/* The refusals changed nothing: frames flow, as configured. */
		miss = verify_traffic(&g);
		if (miss) {
			fail(c,
			     "after a child's refused ioctls, frames missing: TX 0x%llx RX 0x%llx",
			     (unsigned long long)(miss >> 32),
			     (unsigned long long)(u32)miss);
			z->refusal_ok = false;
		}
	}
out:
	xclose(c, &g.vfd);
	drain_tap(&z->tap);
}

/* ---- kill: the owner dies with kicks pending ---- */

static void owner_child(struct fz *z, int vfd, u64 rng)
{
	struct ctx c = { .rng = rng, .thread = 101, .slot = -1 };
	struct tguest g = { .z = z, .vfd = vfd };

	if (vfd < 0)
		g.vfd = open(z->path, O_RDWR | O_CLOEXEC);
	if (g.vfd < 0 || reconfigure(&g, &c))
		_exit(1);
	__atomic_store_n(&sh->child_ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		guest_turn(&g, NULL, NULL, z->seqbase);
		gvq_kick(&z->vq[GUEST_TX_VQ]);
		gvq_kick(&z->vq[GUEST_RX_VQ]);
		at_inc(&sh->progress, 1);
		if (guest_chance(&c.rng, 4))
			random_ioctl(z, &c, g.vfd, z->arg[MAX_THREADS], true);
	}
}

static void round_kill(struct fz *z, struct ctx *c)
{
	bool parent_holds = guest_chance(&c->rng, 2);
	u32 at = guest_below(&c->rng, 200), k;
	u64 rng = guest_rnd(&c->rng), t0;
	struct virtio_net_hdr h;
	struct vhost_vring_state st = { 0 };
	int vfd = -1, status, e;
	pid_t pid;

	if (!z->tap_alive && new_tap(z, c))
		return;
	if (parent_holds)
		vfd = open(z->path, O_RDWR | O_CLOEXEC);
	sh->progress = 0;
	sh->child_ready = 0;
	pid = fork();
	remember_kid(z, pid);
	if (pid < 0)
		goto out;
	if (!pid)
		owner_child(z, vfd, rng);
	/* Frames for the RX side, until the owner dies. */
	t0 = guest_now_ms();
	for (k = 0; at_load(&sh->progress) < at && guest_now_ms() - t0 < 3000; k++) {
		u32 seq = z->seqbase + 0x4000 + k;

		guest_make_frame(z->frame, 60 + seq % 500, GUEST_PKT_PLAIN, seq, &h);
		guest_tap_inject(&z->tap, z->frame, 60 + seq % 500, &h);
		usleep(1000);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fail(c, "the owner child exited by itself (status 0x%x)",
			     status);
			pid = 0;
			break;
		}
	}
	if (pid) {
		t0 = begin(c, OP_KILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, WNOHANG) == 0 &&
		       guest_now_ms() - t0 < HANG_MS)
			usleep(2000);
		account(c, OP_KILL, 0, 0, t0);
		if (guest_now_ms() - t0 >= HANG_MS) {
			fail(c, "the killed owner was not reaped");
			waitpid(pid, &status, 0);
		}
	}
	if (vfd >= 0 && at_load(&sh->child_ready)) {
		/* The owner is gone, its fd lives on here: still not ours. */
		e = xioctl(c, OP_GET_VRING_BASE, vfd, 0, &st);
		if (e != -EPERM) {
			fail(c, "GET_VRING_BASE on a dead owner's fd: %s, want EPERM",
			     strerror(-e));
			z->eperm_ok = false;
		}
		e = xioctl(c, OP_SET_OWNER, vfd, 0, NULL);
		if (e != -EBUSY) {
			fail(c, "SET_OWNER on a dead owner's fd: %s, want EBUSY",
			     strerror(-e));
			z->eperm_ok = false;
		}
		z->eperm_checks++;
	}
out:
	xclose(c, &vfd);
	drain_tap(&z->tap);
}

/* ---- set-up ---- */

static int netns_fd(void)
{
	return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

static int make_zoo(struct fz *z)
{
	int p[2], *f = z->zoo, s[2], i;
	char tmpl[] = "/tmp/fuzz_vmm.XXXXXX";

	f[Z_UNBIND] = -1;
	f[Z_HUGE] = 1 << 20;
	f[Z_NEG] = -2;
	/* High: the lowest free number would soon name something else. */
	f[Z_CLOSED] = fcntl(0, F_DUPFD_CLOEXEC, 1000);
	close(f[Z_CLOSED]);
	f[Z_EVENTFD] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	f[Z_PIPE_R] = p[0];
	f[Z_PIPE_W] = p[1];
	f[Z_DEVNULL] = open("/dev/null", O_RDWR | O_CLOEXEC);
	f[Z_FILE] = mkostemp(tmpl, O_CLOEXEC);
	unlink(tmpl);
	f[Z_PACKET] = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	f[Z_UDP] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s))
		return -errno;
	f[Z_UNIX] = s[0];
	close(s[1]);
	f[Z_EPOLL] = epoll_create1(EPOLL_CLOEXEC);
	f[Z_MEMFD] = memfd_create("fuzz_vmm", MFD_CLOEXEC);
	f[Z_TUN_DETACHED] = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	f[Z_VHNET] = open(z->path, O_RDWR | O_CLOEXEC);
	f[Z_TAP2] = z->tap2.fd;
	f[Z_TAP_OTHER_NS] = z->tapb.fd;
	for (i = Z_EVENTFD; i < NR_ZOO; i++)
		if (f[i] < 0)
			return -ENOENT;
	return 0;
}

static int setup(struct fz *z)
{
	const struct guest_region regs[] = {
		{ .gpa = R0_GPA, .size = R0_SIZE },
		{ .gpa = R1_GPA, .size = R1_SIZE },
	};
	unsigned int i, q;
	int e;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	e = guest_mem_map(&z->mem, regs, ARRAY_SIZE(regs), 0x10000);
	if (e)
		return e;
	guest_pool_init(&z->mem, R1_GPA, R1_GPA + R1_SIZE, R1_GPA);
	for (q = 0; q < GUEST_NR_VQS; q++) {
		e = gvq_init(&z->vq[q], guest_hva(&z->mem, R0_GPA + q * RING_AREA),
			     RING_NUM, 0, false);
		if (!e)
			e = gvq_init(&z->vq2[q],
				     guest_hva(&z->mem, R0_GPA + (2 + q) * RING_AREA),
				     RING_NUM, 0, false);
		if (e)
			return e;
	}
	z->scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	z->ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z->scratch == MAP_FAILED || z->ro == MAP_FAILED)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(z->log); i++) {
		z->log[i] = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (z->log[i] == MAP_FAILED)
			return -ENOMEM;
	}
	for (i = 0; i <= MAX_THREADS; i++) {
		z->arg[i] = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (z->arg[i] == MAP_FAILED ||
		    mprotect(z->arg[i] + 4096, 4096, PROT_NONE))
			return -ENOMEM;
	}
	/* The other netns first, with a tap of its own; then ours. */
	e = guest_netns_enter();
	if (e)
		return e;
	z->nsb = netns_fd();
	e = guest_tap_open(&z->tapb, "fvother%d", HDR_LEN, 1500);
	if (e)
		return e;
	e = guest_netns_enter();
	if (e)
		return e;
	z->tap.fd = -1;
	z->tap.cap = -1;
	z->tap.inj = -1;
	e = guest_tap_open(&z->tap2, "fvtwo%d", HDR_LEN, 1500);
	if (!e)
		e = new_tap(z, NULL);
	if (e)
		return e;
	fcntl(z->tap2.fd, F_SETFL, O_NONBLOCK);
	fcntl(z->tapb.fd, F_SETFL, O_NONBLOCK);
	return make_zoo(z);
}

/* ---- main ---- */

static u64 env_u64(const char *name, u64 def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

enum { K_STORM, K_TRAFFIC, K_FORK, K_KILL, NR_KINDS };
static const char *const kind_names[NR_KINDS] = {
	"storm", "traffic", "fork", "kill",
};

static void run_round(struct fz *z, u32 n)
{
	struct ctx c = { .thread = -1, .slot = MAX_THREADS };
	u64 s0 = at_load(&sh->steps), t0 = guest_now_ms();
	int kind;
	unsigned int i;

	c.rng = seed ^ (n * 0xd1342543de82ef95ULL);
	guest_rnd(&c.rng);
	kind = guest_below(&c.rng, NR_KINDS);
	cur_round = n;
	z->nkids = 0;
	z->seqbase = (n & 0x3fff) << 18;
	sh->nmsgs = 0;
	switch (kind) {
	case K_STORM:
		round_storm(z, &c);
		break;
	case K_TRAFFIC:
		round_traffic(z, &c);
		break;
	case K_FORK:
		round_fork(z, &c);
		break;
	default:
		round_kill(z, &c);
		break;
	}
	leak_check(z, &c);
	z->nkind[kind]++;
	z->rounds++;
	if (z->verbose || sh->nmsgs)
		ksft_print_msg("round %u: %s, %llu steps, %llu ms%s\n", n,
			       kind_names[kind],
			       (unsigned long long)(at_load(&sh->steps) - s0),
			       (unsigned long long)(guest_now_ms() - t0),
			       sh->nmsgs ? ": FAILED" : "");
	if (!sh->nmsgs)
		return;
	z->failed_rounds++;
	for (i = 0; i < sh->nmsgs && i < MAX_MSGS; i++)
		ksft_print_msg("FAIL round %u %s\n", n, sh->msg[i]);
	ksft_print_msg("reproduce: FUZZ_SEED=0x%016llx FUZZ_ROUND=%u\n",
		       (unsigned long long)seed, n);
}

/* Every errno each ioctl returned; unexpected ones marked with '!'. */
static void errno_table(void)
{
	unsigned int op, e, i, odd = 0;
	char line[1024];

	ksft_print_msg("errnos per ioctl (count; '!' = unexpected, for information):\n");
	for (op = 0; op < NR_OPS; op++) {
		int n = snprintf(line, sizeof(line), "%-27s", ops[op].name);

		for (e = 0; e < NERR; e++) {
			bool known = !e;
			u64 cnt = sh->count[op][e];

			if (!cnt)
				continue;
			for (i = 0; ops[op].expect[i]; i++)
				known |= ops[op].expect[i] == (int)e;
			odd += !known;
			n += snprintf(line + n, sizeof(line) - n, " %s%s %llu",
				      !known ? "!" : "",
				      e ? strerrorname_np(e) ?: "?" : "ok",
				      (unsigned long long)cnt);
			if (n >= (int)sizeof(line))
				break;
		}
		ksft_print_msg("  %s\n", line);
	}
	ksft_print_msg("%u unexpected (ioctl, errno) pairs\n", odd);
}

int main(void)
{
	struct fz *z = &fz;
	u64 seconds = env_u64("FUZZ_SECONDS", 45), t0, t1, steps;
	const char *only = getenv("FUZZ_ROUND");
	long slab0 = -1, slab1, unrec0 = -1, unrec1;
	pthread_t wd;
	u32 n = 0;
	int e;

	seed = env_u64("FUZZ_SEED", (u64)time(NULL) * 0x9e3779b97f4a7c15ULL ^
		       getpid());
	printf("# seed 0x%016llx\n", (unsigned long long)seed);
	z->path = getenv("VHNET_DEV") ?: DEFAULT_DEV;
	z->ctl = getenv("VHNETCTL") ?: "vhnetctl";
	z->verbose = getenv("FUZZ_VERBOSE");
	z->eperm_ok = true;
	z->backends_ok = true;
	z->refusal_ok = true;
	z->traffic_ok = true;
	z->leak_ok = true;
	z->check_slab = env_u64("FUZZ_SLAB", 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	ksft_print_header();
	ksft_set_plan(7);

	e = setup(z);
	if (e)
		ksft_exit_fail_msg("setup: %s\n", strerror(-e));
	z->base_inst = count_instances(z);
	z->base_thr = count_threads(z);
	if (z->base_inst < 0)
		ksft_exit_fail_msg("cannot count vhnet instances (%s show)\n",
				   z->ctl);
	ksft_print_msg("at start: %d instances, %d vhnet-* threads of ours\n",
		       z->base_inst, z->base_thr);
	if (pthread_create(&wd, NULL, watchdog, NULL))
		ksft_exit_fail_msg("watchdog thread\n");

	t0 = guest_now_ms();
	if (only)
		n = strtoul(only, NULL, 0);
	do {
		run_round(z, n);
		/* Slab: after a first full round warmed the caches up. */
		if (slab0 < 0) {
			slab0 = slab_kb();
			unrec0 = meminfo_kb("SUnreclaim");
		}
		n++;
	} while (!only && z->failed_rounds < MAX_FAILS &&
		 guest_now_ms() - t0 < seconds * 1000);
	t1 = guest_now_ms();
	steps = at_load(&sh->steps);
	slab1 = slab_kb();
	unrec1 = meminfo_kb("SUnreclaim");

	ksft_test_result(!z->failed_rounds,
			 "rounds (%u: %u storm, %u traffic, %u fork, %u kill; %u failed)\n",
			 z->rounds, z->nkind[K_STORM], z->nkind[K_TRAFFIC],
			 z->nkind[K_FORK], z->nkind[K_KILL], z->failed_rounds);
	ksft_test_result(sh->max_ms <= BOUND_MS,
			 "ioctl_and_close_within_%u_ms (max %llu ms, %s)\n",
			 BOUND_MS, (unsigned long long)sh->max_ms,
			 ops[sh->max_op].name);
	ksft_test_result(z->leak_ok, "no_leaked_instances_or_threads\n");
	if (z->check_slab)
		ksft_test_result(slab1 - slab0 <= SLAB_TOL_KB,
				 "slab_within_%u_kB (Slab %ld -> %ld kB, SUnreclaim %ld -> %ld kB)\n",
				 SLAB_TOL_KB, slab0, slab1, unrec0, unrec1);
	else
		ksft_test_result_skip("slab_within_%u_kB: not alone (Slab %ld -> %ld kB); %s\n",
				      SLAB_TOL_KB, slab0, slab1,
				      "rmmod and kmemleak decide");
	ksft_test_result(z->eperm_ok, "owner_only_ioctls_refused_to_others (%u checks)\n",
			 z->eperm_checks);
	ksft_test_result(z->backends_ok && z->refusal_ok,
			 "refusals_change_nothing (%u wrong backends refused, %u stopped-ring checks, %u restarted it; other netns tap: %u worked, %u refused)\n",
			 z->refused_backends, z->refusal_checks, z->restarted,
			 z->other_ns_ok,
			 z->other_ns_refused);
	ksft_test_result(z->traffic_ok,
			 "traffic_after_chaos (%u rounds verified; behind a vIOMMU %u times, %u misses answered)\n",
			 z->verified, z->iommu_rounds, z->iommu_answered);
	errno_table();
	ksft_print_msg("seed 0x%016llx\n", (unsigned long long)seed);
	ksft_print_msg("steps %llu, %.1f/s\n", (unsigned long long)steps,
		       steps * 1000.0 / (t1 - t0 ? t1 - t0 : 1));
	ksft_finished();
}
