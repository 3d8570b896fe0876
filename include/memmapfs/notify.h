/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel cache invalidations asked for by request handlers, done on a
 * thread of their own.
 *
 * Dropping pages from the kernel's cache of a FUSE file waits for every
 * page in the range that is locked, and a page is locked while the READ
 * that fills it waits for a worker thread. A worker that invalidated by
 * itself could wait for a READ that only it (threads=1) or another waiting
 * worker would serve. So a worker hands the job to the notifier and waits
 * for it with a deadline: past it, it goes on (the job still completes,
 * later). No FUSE here: the call that does the job is given, so the unit
 * tests drive it with one that blocks. */
#ifndef MEMMAPFS_NOTIFY_H
#define MEMMAPFS_NOTIFY_H

#include <stdint.h>

/* Drop the kernel's cached pages of [off, off + len) of node ino; 0 or
 * -errno. */
typedef int (*mmfs_inval_fn)(void *ctx, uint64_t ino, int64_t off, int64_t len);

struct mmfs_notifier;

/* Start the notifier thread. NULL on failure (out of threads). */
struct mmfs_notifier *mmfs_notifier_new(mmfs_inval_fn fn, void *ctx);

/* Have the range dropped and wait up to wait_us for it. Returns the call's
 * result, or -ETIMEDOUT if it had not returned by then (it still runs). */
int mmfs_notifier_inval(struct mmfs_notifier *n, uint64_t ino, int64_t off,
			int64_t len, int64_t wait_us);

/* Stop: jobs not yet started are dropped (their waiters get -ESHUTDOWN),
 * and the thread is waited for up to wait_us. Returns 0 once it has ended
 * (NULL is ignored), or -EBUSY if it is still inside the call: it is left
 * to finish and free the notifier itself, and the caller must keep what
 * the call uses (the ctx) alive. */
int mmfs_notifier_free(struct mmfs_notifier *n, int64_t wait_us);

#endif
