/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Worker threads and the wakeups that drive them (kick eventfd, tap socket).
 */
#ifndef _VHNET_WORKER_H
#define _VHNET_WORKER_H

#include <linux/cpumask.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/wait.h>

struct mm_struct;
struct vhnet_worker;

typedef void (*vhnet_work_fn)(struct vhnet_worker *w);

struct vhnet_worker {
	/*
	 * Set at VHOST_SET_OWNER, cleared at reset/release; both under the
	 * device mutex, and only after every poll that could wake it is
	 * stopped.
	 */
	struct task_struct *task;
	/* The device mutex: start, stop and placement run under it. */
	struct mutex *lock;
	/* VHNET_WORK_PENDING: a pass is due; set by wakeups, cleared by the thread. */
	unsigned long flags;
	vhnet_work_fn fn;
	struct mm_struct *mm;
};

#define VHNET_WORK_PENDING	0

/*
 * A wait-queue hook on a file (kick eventfd or tap socket) that queues a
 * pass on its worker when the file reports one of the events in mask.
 * Started/stopped under the queue's vq mutex.
 */
struct vhnet_poll {
	poll_table table;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	__poll_t mask;
	struct vhnet_worker *worker;
	/* If set, incremented per wakeup (counts guest kicks). */
	atomic_t *events;
	/*
	 * If set, a wakeup queues a pass only when filter(filter_arg) says
	 * so. Runs in the waker's context under the wait-queue lock: must not
	 * sleep. Set only while unhooked.
	 */
	bool (*filter)(void *arg);
	void *filter_arg;
};

/* worker.c */
void vhnet_worker_init(struct vhnet_worker *w, vhnet_work_fn fn, struct mutex *lock);
int vhnet_worker_start(struct vhnet_worker *w, struct mm_struct *mm,
		       const struct cpumask *owner_cpus,
		       const struct cpumask *tunable_cpus, const char *name);
void vhnet_worker_stop(struct vhnet_worker *w);
void vhnet_worker_queue(struct vhnet_worker *w);
void vhnet_worker_set_cpus(struct vhnet_worker *w, const struct cpumask *owner,
			   const struct cpumask *tunable);
void vhnet_worker_get_cpus(struct vhnet_worker *w, struct cpumask *out);
void vhnet_poll_init(struct vhnet_poll *p, struct vhnet_worker *w,
		     __poll_t mask, atomic_t *events);
int vhnet_poll_start(struct vhnet_poll *p, struct file *file);
int vhnet_poll_start_filtered(struct vhnet_poll *p, struct file *file,
			      bool (*filter)(void *arg), void *arg);
void vhnet_poll_stop(struct vhnet_poll *p);

#endif /* _VHNET_WORKER_H */
