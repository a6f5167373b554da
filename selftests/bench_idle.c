// SPDX-License-Identifier: GPL-2.0
/*
 * bench_idle DEVICE TAP N: hold N idle instances of DEVICE (/dev/vhnet or
 * /dev/vhost-net) open until SIGTERM, for make bench's "+idleN" backends:
 * does a busy instance pay for idle ones beside it?
 *
 * Each instance is what an idle VM's NIC looks like to the backend: owned,
 * features negotiated, a memory table, both rings set up with kick and
 * call eventfds, the RX ring filled with buffers, and a queue of the
 * multiqueue tap TAP as backend (the tap must exist with multi_queue).
 * Nothing is ever kicked and nothing reaches the tap. Prints "ready" once
 * all are set up; exit status 1 and a message on the first failure (the
 * process's exit then closes what was set up).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "guest.h"

#define RING_NUM	256
#define RX_BUFS		128
#define RX_BUF_LEN	1536
/* Both rings, then the RX buffers: one region per instance. */
#define MEM_BYTES	(1024 * 1024)
#define MAX_INSTANCES	256
#define HDR_LEN		((int)sizeof(struct virtio_net_hdr_mrg_rxbuf))

struct idle_instance {
	struct guest_mem mem;
	struct gvq vq[GUEST_NR_VQS];
	int vfd;
	int tapfd;
};

static int tap_queue_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
					  IFF_MULTI_QUEUE };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), hdr = HDR_LEN;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETVNETHDRSZ, &hdr)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* One instance set up as an idle VM leaves it; "what" names the failed step. */
static int idle_setup(struct idle_instance *in, const char *dev,
		      const char *tap, const char **what)
{
	const u64 want = (1ULL << VIRTIO_F_VERSION_1) |
			 (1ULL << VIRTIO_RING_F_EVENT_IDX) |
			 (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	struct guest_region reg = { .gpa = 0, .size = MEM_BYTES };
	size_t ring = gvq_ring_bytes(RING_NUM);
	u64 have, buf;
	unsigned int q, i;
	int e;

	*what = "tap queue";
	in->tapfd = tap_queue_open(tap);
	if (in->tapfd < 0)
		return in->tapfd;
	*what = "guest memory";
	e = guest_mem_map(&in->mem, &reg, 1, 4096);
	if (e)
		return e;
	guest_pool_init(&in->mem, 2 * ring, MEM_BYTES, 2 * ring);
	*what = "open, SET_OWNER, features";
	e = guest_dev_open(dev, want, &have, &in->vfd);
	if (e)
		return e;
	*what = "SET_MEM_TABLE";
	e = guest_set_mem_table(in->vfd, &in->mem);
	if (e)
		return e;
	for (q = 0; q < GUEST_NR_VQS; q++) {
		*what = "ring";
		e = gvq_init(&in->vq[q], guest_hva(&in->mem, q * ring),
			     RING_NUM, 0, true);
		if (e)
			return e;
		e = gvq_setup(in->vfd, q, &in->vq[q]);
		if (e)
			return e;
	}
	*what = "RX buffers";
	for (i = 0; i < RX_BUFS; i++) {
		struct gvq_buf b = { .len = RX_BUF_LEN, .flags = VRING_DESC_F_WRITE };

		buf = guest_pool_alloc(&in->mem, RX_BUF_LEN, 64);
		b.gpa = buf;
		e = gvq_add(&in->vq[GUEST_RX_VQ], &in->mem, &b, 1, false);
		if (e < 0)
			return e;
	}
	gvq_publish(&in->vq[GUEST_RX_VQ]);
	*what = "SET_BACKEND";
	for (q = 0; q < GUEST_NR_VQS; q++) {
		e = guest_set_backend(in->vfd, q, in->tapfd);
		if (e)
			return e;
	}
	return 0;
}

static void on_term(int sig)
{
}

int main(int argc, char **argv)
{
	struct idle_instance *in;
	struct sigaction sa = { .sa_handler = on_term };
	const char *what;
	sigset_t block, old;
	int n, i, e;

	n = argc == 4 ? atoi(argv[3]) : 0;
	if (n < 1 || n > MAX_INSTANCES) {
		fprintf(stderr, "usage: %s DEVICE TAP N (1..%d)\n", argv[0],
			MAX_INSTANCES);
		return 2;
	}
	in = calloc(n, sizeof(*in));
	if (!in) {
		perror("calloc");
		return 1;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < n; i++) {
		e = idle_setup(&in[i], argv[1], argv[2], &what);
		if (e) {
			fprintf(stderr, "instance %d of %d on %s: %s: %s\n",
				i + 1, n, argv[1], what, strerror(-e));
			return 1;
		}
	}
	printf("ready: %d idle instances on %s\n", n, argv[1]);
	fflush(stdout);
	/* Until told to go; exit closes every instance and tap queue. */
	sigsuspend(&old);
	return 0;
}
