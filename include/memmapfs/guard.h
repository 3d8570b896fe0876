/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SIGBUS guard: copies to or from mapped file memory that turn a fault
 * (the file truncated behind our back, an I/O error, a full disk) into an
 * error code instead of killing the daemon. */
#ifndef MEMMAPFS_GUARD_H
#define MEMMAPFS_GUARD_H

#include <stddef.h>

/* Install the SIGBUS handler (once per process; later calls do nothing).
 * A SIGBUS outside an armed copy is passed to the previous handler, or
 * kills the process as it would have without us. Returns 0 or -errno. */
int mmfs_guard_init(void);

/* memcpy(dst, src, n) where [lo, hi) is the mapped range that may fault.
 * Returns 0, or -EFAULT if a SIGBUS hit inside [lo, hi); then dst holds
 * an unknown part of the data. Thread-safe; not reentrant. */
int mmfs_guard_copy(void *dst, const void *src, size_t n, const void *lo,
		    const void *hi);

/* Faults caught by mmfs_guard_copy since start (for statistics). */
unsigned long mmfs_guard_faults(void);

#endif
