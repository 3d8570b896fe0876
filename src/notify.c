// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel cache invalidations on a thread of their own: see notify.h. */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>

#include "memmapfs/lock.h"
#include "memmapfs/notify.h"

struct job {
	uint64_t ino;
	int64_t off, len;
	int rc;
	int done;
	int refs; /* the waiter's and the queue's; under the notifier lock */
};

struct mmfs_notifier {
	mmfs_inval_fn fn;
	void *ctx;
	GThread *thread;
	GMutex lock;
	GCond work; /* a job queued, or stopping */
	GCond done; /* a job done, or the thread ended */
	GQueue jobs;
	int stopping;
	int ended;
	int orphaned; /* the stopper gave up waiting: the thread frees */
};

/* under n->lock */
static void job_put(struct job *j)
{
	if (--j->refs == 0)
		g_free(j);
}

static void notifier_release(struct mmfs_notifier *n)
{
	g_mutex_clear(&n->lock);
	g_cond_clear(&n->work);
	g_cond_clear(&n->done);
	g_free(n);
}

static gpointer notifier_main(gpointer arg)
{
	struct mmfs_notifier *n = arg;
	struct job *j;
	int orphaned;

	mmfs_lock(&n->lock);
	for (;;) {
		while (!n->stopping && g_queue_is_empty(&n->jobs))
			mmfs_cond_wait(&n->work, &n->lock);
		if (n->stopping)
			break;
		j = g_queue_pop_head(&n->jobs);
		mmfs_unlock(&n->lock);
		j->rc = n->fn(n->ctx, j->ino, j->off, j->len);
		mmfs_lock(&n->lock);
		j->done = 1;
		job_put(j);
		g_cond_broadcast(&n->done);
	}
	/* stopping: what has not started is not started now */
	while ((j = g_queue_pop_head(&n->jobs))) {
		j->rc = -ESHUTDOWN;
		j->done = 1;
		job_put(j);
	}
	n->ended = 1;
	g_cond_broadcast(&n->done);
	orphaned = n->orphaned;
	mmfs_unlock(&n->lock);
	if (orphaned)
		notifier_release(n);
	return NULL;
}

struct mmfs_notifier *mmfs_notifier_new(mmfs_inval_fn fn, void *ctx)
{
	struct mmfs_notifier *n = g_new0(struct mmfs_notifier, 1);

	n->fn = fn;
	n->ctx = ctx;
	g_mutex_init(&n->lock);
	g_cond_init(&n->work);
	g_cond_init(&n->done);
	g_queue_init(&n->jobs);
	n->thread = g_thread_try_new("mmfs-notify", notifier_main, n, NULL);
	if (!n->thread) {
		notifier_release(n);
		return NULL;
	}
	return n;
}

int mmfs_notifier_inval(struct mmfs_notifier *n, uint64_t ino, int64_t off,
			int64_t len, int64_t wait_us)
{
	struct job *j = g_new0(struct job, 1);
	gint64 end = g_get_monotonic_time() + wait_us;
	int rc;

	j->ino = ino;
	j->off = off;
	j->len = len;
	mmfs_lock(&n->lock);
	if (n->stopping) {
		mmfs_unlock(&n->lock);
		g_free(j);
		return -ESHUTDOWN;
	}
	j->refs = 2;
	g_queue_push_tail(&n->jobs, j);
	g_cond_signal(&n->work);
	while (!j->done && mmfs_cond_wait_until(&n->done, &n->lock, end))
		;
	rc = j->done ? j->rc : -ETIMEDOUT;
	job_put(j);
	mmfs_unlock(&n->lock);
	return rc;
}

int mmfs_notifier_free(struct mmfs_notifier *n, int64_t wait_us)
{
	GThread *thread;
	gint64 end;

	if (!n)
		return 0;
	thread = n->thread;
	end = g_get_monotonic_time() + wait_us;
	mmfs_lock(&n->lock);
	n->stopping = 1;
	g_cond_signal(&n->work);
	while (!n->ended && mmfs_cond_wait_until(&n->done, &n->lock, end))
		;
	if (!n->ended) {
		n->orphaned = 1; /* n may be gone once unlocked */
		mmfs_unlock(&n->lock);
		g_thread_unref(thread); /* detached */
		return -EBUSY;
	}
	mmfs_unlock(&n->lock);
	g_thread_join(thread);
	notifier_release(n);
	return 0;
}
