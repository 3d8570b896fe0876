/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Locking helpers: GLib's mutexes and conditions, annotated for
 * ThreadSanitizer. GMutex is futex-based on Linux, so TSan cannot see it
 * order memory and reports races on everything it protects; telling TSan
 * about each acquire and release makes its reports mean something. In
 * other builds these are the GLib calls and nothing more. */
#ifndef MEMMAPFS_LOCK_H
#define MEMMAPFS_LOCK_H

#include <glib.h>

#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#define MMFS_TSAN_ACQUIRE(p) __tsan_acquire(p)
#define MMFS_TSAN_RELEASE(p) __tsan_release(p)
#else
#define MMFS_TSAN_ACQUIRE(p) ((void)(p))
#define MMFS_TSAN_RELEASE(p) ((void)(p))
#endif

static inline void mmfs_lock(GMutex *m)
{
	g_mutex_lock(m);
	MMFS_TSAN_ACQUIRE(m);
}

static inline void mmfs_unlock(GMutex *m)
{
	MMFS_TSAN_RELEASE(m);
	g_mutex_unlock(m);
}

static inline gboolean mmfs_trylock(GMutex *m)
{
	if (!g_mutex_trylock(m))
		return FALSE;
	MMFS_TSAN_ACQUIRE(m);
	return TRUE;
}

static inline void mmfs_cond_wait(GCond *c, GMutex *m)
{
	MMFS_TSAN_RELEASE(m);
	g_cond_wait(c, m);
	MMFS_TSAN_ACQUIRE(m);
}

static inline gboolean mmfs_cond_wait_until(GCond *c, GMutex *m,
					    gint64 end_time)
{
	gboolean signalled;

	MMFS_TSAN_RELEASE(m);
	signalled = g_cond_wait_until(c, m, end_time);
	MMFS_TSAN_ACQUIRE(m);
	return signalled;
}

#endif
