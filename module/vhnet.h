/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhnet: one instance per open of /dev/vhnet, serving one virtio-net queue
 * pair (virtqueue 0 receives into the guest, virtqueue 1 transmits from it).
 *
 * Prototypes are grouped by the file that defines them. netlink.c uses
 * only the "dev.c: control-plane interface" group.
 */
#ifndef _VHNET_H
#define _VHNET_H

#include <linux/cpumask.h>
#include <linux/if.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/types.h>

#include "stats.h"
#include "vq.h"
#include "worker.h"

struct mm_struct;
struct net;
struct xdp_buff;
struct ptr_ring;
struct socket;
struct dentry;
struct kiocb;
struct iov_iter;
struct nlattr;
struct netlink_ext_ack;

#define VHNET_VQ_RX	0
#define VHNET_VQ_TX	1
#define VHNET_NVQS	2

/* Largest RX batch the per-queue array holds (rx_batch tunable maximum). */
#define VHNET_RX_BATCH_MAX	256
/* Largest TX batch: frames per sendmsg to the tap (tx_batch tunable maximum). */
#define VHNET_TX_BATCH_MAX	256
/*
 * Used entries a batch collects before they go to the guest in one copy:
 * a whole RX batch of one-buffer packets plus one packet of the most
 * buffers a packet may take (UIO_MAXIOV), or a whole TX batch.
 */
#define VHNET_HEADS_MAX		(UIO_MAXIOV + VHNET_RX_BATCH_MAX)

struct vhnet_tunables {
	u32 tx_batch;		/* 1..256: TX frames per send to the tap (and per used flush) */
	u32 rx_batch;		/* 1..256: packets dequeued from the tap per round */
	/*
	 * Per-pass budgets (vhost-net's weights): a queue that always has
	 * work yields its thread after this many packets or bytes, so it
	 * cannot starve the other queue, other instances, or the host.
	 */
	u32 weight_pkts;	/* 1..65536 */
	u32 weight_bytes;	/* 1500..67108864 */
	u32 busypoll_us;	/* 0..100000: poll ring/tap this long before sleeping */
	u32 coalesce_pkts;	/* 0..1024: at most one interrupt per N used buffers */
	u32 coalesce_us;	/* 0..100000: ... or per this many microseconds */
	struct cpumask worker_cpus;	/* empty: any CPU */
};

struct vhnet_vq_info {
	u32 ring_size;
	u16 last_avail_idx;
	u16 used_idx;
	pid_t worker_pid;
	int worker_cpu;
	enum vhnet_queue_state state;
	enum vhnet_broken_reason broken;
	struct cpumask worker_cpus;	/* where the worker may run; empty: none */
};

struct vhnet_dev_info {
	u32 id;
	pid_t owner_pid;
	int tap_ifindex;
	char tap_name[IFNAMSIZ];
	u64 features;
	struct vhnet_vq_info vq[VHNET_NVQS];
};

/* What kind of socket a queue's backend is (they differ in what is safe). */
enum vhnet_backend {
	VHNET_BACKEND_NONE,
	VHNET_BACKEND_TUN,	/* tun/tap device: tun_get_socket() */
	VHNET_BACKEND_TAP,	/* macvtap/ipvtap queue: tap_get_socket() */
};

/*
 * The page batched TX frames are carved from (tx.c). The queue holds @bias
 * of the page's references; every frame handed to the tap takes one of
 * them along, and the tap drops it when it is done with the frame.
 */
struct vhnet_tx_page {
	struct page *page;
	unsigned int size;	/* bytes in the page */
	unsigned int offset;	/* first free byte */
	unsigned int bias;
};

/* One virtqueue of the pair, with its thread and its side of the tap. */
struct vhnet_queue {
	struct vhnet_vq vq;
	struct vhnet_worker worker;
	struct vhnet_poll kick_poll;	/* guest kicks */
	struct vhnet_poll sock_poll;	/* RX: tap readable; TX: tap writable again */
	struct vhnet_dev *dev;
	unsigned int index;

	/* Protected by vq.mutex; writers also hold the device mutex. */
	struct socket *sock;
	enum vhnet_backend backend;
	struct ptr_ring *rx_ring;	/* RX: the tap's queue of packets for us */
	size_t vhost_hlen;		/* vnet header we add/strip (VHOST_NET_F_VIRTIO_NET_HDR) */
	size_t sock_hlen;		/* vnet header the tap adds/expects */

	/*
	 * RX: packets taken off rx_ring in one batch and not yet delivered,
	 * rxq[rxq_head..rxq_tail). Owned by the worker under vq.mutex;
	 * returned to the tap on backend change.
	 */
	void **rxq;
	unsigned int rxq_head;
	unsigned int rxq_tail;

	/*
	 * TX: frames copied out of the guest into tx_page, waiting to go to
	 * the tap together in one sendmsg (tx.c). Owned by the worker under
	 * vq.mutex; tx_xdp is always empty between passes.
	 */
	struct xdp_buff *tx_xdp;	/* VHNET_TX_BATCH_MAX entries */
	unsigned int tx_nxdp;
	u64 tx_xdp_bytes;		/* frame bytes of tx_xdp[0..tx_nxdp) */
	struct vhnet_tx_page tx_page;

	/* Scratch for one pass, worker only (allocated at open). */
	struct iovec *iov;		/* UIO_MAXIOV entries */
	/* RX: a packet's writable guest ranges, for the dirty log (as iov) */
	struct vhnet_log_range *rx_log;
	struct vhnet_vq_head *heads;	/* VHNET_HEADS_MAX entries: a batch's used entries */
};

struct vhnet_dev {
	/*
	 * Serialises every ioctl on this instance and its teardown.
	 * Protects: mm, owner_pid, owner_cpus, net, features,
	 * backend_features, mem (writers), log_base, log_ctx, tun (writers),
	 * the worker tasks, the stats base, and each queue's sock and
	 * backend (writers also hold that queue's vq mutex).
	 */
	struct mutex mutex;
	refcount_t ref;
	struct rcu_head rcu;
	u32 id;			/* constant after open */
	struct net *net;	/* referenced; opener's netns, refreshed at SET_OWNER */

	struct mm_struct *mm;	/* owner's address space (mm_users held) */
	pid_t owner_pid;
	/*
	 * CPUs the owner was allowed at VHOST_SET_OWNER (its cpuset and
	 * affinity). Workers never run outside them: vhost's workers are
	 * threads of the owner and inherit them the same way.
	 */
	struct cpumask owner_cpus;
	u64 features;
	u64 backend_features;
	u64 log_base;
	struct eventfd_ctx *log_ctx;

	/* Replaced under RCU; see mem.h. */
	struct vhnet_mem __rcu *mem;

	/*
	 * The device IOTLB while VIRTIO_F_ACCESS_PLATFORM is acked, else
	 * NULL (iotlb.h). The pointer changes under the mutex, both vq
	 * mutexes and chan.lock; the entries under the mutex and both vq
	 * mutexes. chan: the IOTLB message channel of the device fd
	 * (iotlb_msg.c); its lock also guards each queue's vq.miss.
	 */
	struct vhnet_iotlb *iotlb;
	struct vhnet_iotlb_chan chan;

	/*
	 * Changed only by vhnet_dev_update_tunables() (under mutex, with
	 * WRITE_ONCE); workers READ_ONCE them as a pass begins.
	 */
	struct vhnet_tunables tun;

	/*
	 * tun backends: the tap device, learned from the packets it hands
	 * us (rx.c; 0 and NULL until then), and its netns (referenced: a tap
	 * may live in another netns than the owner). Written by the RX
	 * worker only when they change, both under tap_lock.
	 */
	spinlock_t tap_lock;
	int tap_ifindex;
	struct net *tap_net;

	struct dentry *debugfs;
	struct vhnet_queue q[VHNET_NVQS];
};

/* dev.c: control-plane interface (contract with netlink.c) */
struct vhnet_dev *vhnet_dev_get(struct net *net, u32 id);
struct vhnet_dev *vhnet_dev_get_next(struct net *net, u32 *id);
void vhnet_dev_put(struct vhnet_dev *dev);
void vhnet_dev_fill_info(struct vhnet_dev *dev, struct vhnet_dev_info *info);
void vhnet_dev_read_stats(struct vhnet_dev *dev, unsigned int vq,
			  struct vhnet_vq_counters *out);
void vhnet_dev_reset_stats(struct vhnet_dev *dev);
void vhnet_dev_get_tunables(struct vhnet_dev *dev, struct vhnet_tunables *t);
bool vhnet_dev_cpus_usable(struct vhnet_dev *dev, const struct cpumask *cpus);
int vhnet_dev_update_tunables(struct vhnet_dev *dev,
			      int (*update)(struct vhnet_dev *dev,
					    struct vhnet_tunables *t, void *arg),
			      void *arg);

/* dev.c: module plumbing */
extern unsigned int vhnet_max_owners;
int vhnet_dev_register(void);
void vhnet_dev_unregister(void);

/* net.c: the net layer (backends, headers, the pass prologue) */
long vhnet_net_set_backend(struct vhnet_queue *q, int fd);
void vhnet_net_stop_queue(struct vhnet_queue *q);
void vhnet_net_set_features(struct vhnet_queue *q, u64 features);
void vhnet_net_forget_tap(struct vhnet_dev *dev);
void vhnet_net_fill_tap(struct vhnet_dev *dev, struct vhnet_dev_info *info);
struct socket *vhnet_net_pass_begin(struct vhnet_queue *q);

/* iotlb_msg.c */
int vhnet_iotlb_set_enabled(struct vhnet_dev *dev, bool on);
ssize_t vhnet_iotlb_read_iter(struct kiocb *iocb, struct iov_iter *to);
ssize_t vhnet_iotlb_write_iter(struct kiocb *iocb, struct iov_iter *from);
__poll_t vhnet_iotlb_poll(struct file *file, poll_table *wait);

/* tx.c */
void vhnet_tx_work(struct vhnet_worker *w);
void vhnet_tx_page_release(struct vhnet_tx_page *p);

/* rx.c */
void vhnet_rx_work(struct vhnet_worker *w);
void vhnet_rx_unproduce(struct vhnet_queue *q);

/* debugfs.c */
void vhnet_debugfs_init(void);
void vhnet_debugfs_exit(void);
void vhnet_debugfs_add(struct vhnet_dev *dev);
void vhnet_debugfs_remove(struct vhnet_dev *dev);

/* netlink.c */
int vhnet_nl_init(void);
void vhnet_nl_exit(void);
void vhnet_nl_notify(struct vhnet_dev *dev, bool created);
int vhnet_nl_set_default(const struct nlattr *attr,
			 struct netlink_ext_ack *extack);

#endif /* _VHNET_H */
