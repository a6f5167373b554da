// SPDX-License-Identifier: GPL-2.0
/*
 * Worker threads. Each virtqueue has its own kernel thread (see
 * Documentation/design.md for why TX and RX do not share one). A thread
 * runs in the owner's address space (kthread_use_mm) so guest memory is
 * plain user memory to it, and is attached to the owner's cgroups so its
 * CPU time is charged to the VM.
 *
 * Wakeups come from wait-queue hooks (struct vhnet_poll) on the kick
 * eventfd and the tap socket. A hook only sets a pending bit and wakes the
 * thread; all work happens in the thread, under the queue's vq mutex.
 */
#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/sched/mm.h>

#include "worker.h"

void vhnet_worker_init(struct vhnet_worker *w, vhnet_work_fn fn,
		       struct mutex *lock)
{
	w->task = NULL;
	w->lock = lock;
	w->flags = 0;
	w->fn = fn;
	w->mm = NULL;
}

static int vhnet_worker_thread(void *data)
{
	struct vhnet_worker *w = data;

	kthread_use_mm(w->mm);
	for (;;) {
		/* Pairs with the wakeup: set state before testing the bit. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		if (!test_and_clear_bit(VHNET_WORK_PENDING, &w->flags)) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		w->fn(w);
		/* A pass is bounded by the weights; let others run between. */
		cond_resched();
	}
	kthread_unuse_mm(w->mm);
	return 0;
}

void vhnet_worker_queue(struct vhnet_worker *w)
{
	if (!test_and_set_bit(VHNET_WORK_PENDING, &w->flags) && w->task)
		wake_up_process(w->task);
}

/*
 * Place the worker: on the CPUs its owner may use (@owner: the owner's
 * cpuset and affinity at VHOST_SET_OWNER), narrowed to @tunable when that
 * is set and leaves any of them. Never wider than @owner, so a VM's
 * cpuset (libvirt emulatorpin, systemd AllowedCPUs) and the isolcpus
 * housekeeping split hold for its workers as for vhost's, which are
 * threads of the owner. Caller holds the device mutex.
 */
void vhnet_worker_set_cpus(struct vhnet_worker *w, const struct cpumask *owner,
			   const struct cpumask *tunable)
{
	cpumask_var_t mask;

	lockdep_assert_held(w->lock);
	if (!w->task)
		return;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return;		/* keep the placement the thread has */
	if (!cpumask_and(mask, owner, tunable) ||
	    !cpumask_intersects(mask, cpu_online_mask))
		cpumask_copy(mask, owner);
	set_cpus_allowed_ptr(w->task, mask);
	free_cpumask_var(mask);
}

/* Where the worker may run now. Caller holds the device mutex. */
void vhnet_worker_get_cpus(struct vhnet_worker *w, struct cpumask *out)
{
	lockdep_assert_held(w->lock);
	if (w->task)
		cpumask_copy(out, w->task->cpus_ptr);
	else
		cpumask_clear(out);
}

/*
 * Create the thread for the calling owner: it borrows mm, joins the
 * caller's cgroups and is placed (vhnet_worker_set_cpus()) before it runs.
 * Caller holds the device mutex.
 */
int vhnet_worker_start(struct vhnet_worker *w, struct mm_struct *mm,
		       const struct cpumask *owner_cpus,
		       const struct cpumask *tunable_cpus, const char *name)
{
	struct task_struct *task;
	int ret;

	lockdep_assert_held(w->lock);
	w->mm = mm;
	task = kthread_create(vhnet_worker_thread, w, "%s", name);
	if (IS_ERR(task))
		return PTR_ERR(task);
	ret = cgroup_attach_task_all(current, task);
	if (ret) {
		kthread_stop(task);
		return ret;
	}
	get_task_struct(task);
	w->task = task;
	vhnet_worker_set_cpus(w, owner_cpus, tunable_cpus);
	wake_up_process(task);
	return 0;
}

/*
 * Caller holds the device mutex and has stopped every poll that could
 * queue work, so nothing wakes the task after this.
 */
void vhnet_worker_stop(struct vhnet_worker *w)
{
	lockdep_assert_held(w->lock);

	if (!w->task)
		return;
	kthread_stop(w->task);
	put_task_struct(w->task);
	w->task = NULL;
	w->flags = 0;
	w->mm = NULL;
}

static int vhnet_poll_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			     int sync, void *key)
{
	struct vhnet_poll *p = container_of(wait, struct vhnet_poll, wait);

	if (!(key_to_poll(key) & p->mask))
		return 0;
	if (p->filter && !p->filter(p->filter_arg))
		return 0;
	if (p->events)
		atomic_inc(p->events);
	vhnet_worker_queue(p->worker);
	return 0;
}

static void vhnet_poll_queue_proc(struct file *file, wait_queue_head_t *wqh,
				  poll_table *pt)
{
	struct vhnet_poll *p = container_of(pt, struct vhnet_poll, table);

	p->wqh = wqh;
	add_wait_queue(wqh, &p->wait);
}

void vhnet_poll_init(struct vhnet_poll *p, struct vhnet_worker *w,
		     __poll_t mask, atomic_t *events)
{
	init_waitqueue_func_entry(&p->wait, vhnet_poll_wakeup);
	init_poll_funcptr(&p->table, vhnet_poll_queue_proc);
	p->mask = mask;
	p->worker = w;
	p->wqh = NULL;
	p->events = events;
	p->filter = NULL;
	p->filter_arg = NULL;
}

static int __vhnet_poll_start(struct vhnet_poll *p, struct file *file,
			      bool level, bool (*filter)(void *arg), void *arg)
{
	__poll_t mask;

	if (p->wqh)
		return 0;
	p->filter = filter;
	p->filter_arg = arg;
	mask = vfs_poll(file, &p->table);
	if (level && (mask & p->mask))
		vhnet_worker_queue(p->worker);
	if (mask & EPOLLERR) {
		vhnet_poll_stop(p);
		return -EINVAL;
	}
	return 0;
}

/*
 * Hook the file's wait queue. If the file is already ready, queue a pass
 * now, since no wakeup will come for an event that already happened.
 */
int vhnet_poll_start(struct vhnet_poll *p, struct file *file)
{
	return __vhnet_poll_start(p, file, true, NULL, NULL);
}

/*
 * Hook the file's wait queue for new events that also pass filter: for a
 * caller that knows the file is ready but cannot make progress until some
 * condition the filter checks becomes true.
 */
int vhnet_poll_start_filtered(struct vhnet_poll *p, struct file *file,
			      bool (*filter)(void *arg), void *arg)
{
	return __vhnet_poll_start(p, file, false, filter, arg);
}

/* After this returns the hook can no longer run. */
void vhnet_poll_stop(struct vhnet_poll *p)
{
	if (p->wqh) {
		remove_wait_queue(p->wqh, &p->wait);
		p->wqh = NULL;
	}
}
