// SPDX-License-Identifier: GPL-2.0-or-later
/* The SIGBUS guard (see guard.h). A thread-local jump buffer is armed
 * around each copy; the handler jumps back only for a fault inside the
 * armed range, so every other SIGBUS keeps its usual, fatal meaning. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "memmapfs/guard.h"

static struct sigaction previous;
static gsize installed;
static gint faults;

static __thread sigjmp_buf *armed;
static __thread const char *armed_lo, *armed_hi;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	const char *addr = si->si_addr;

	if (armed && addr >= armed_lo && addr < armed_hi) {
		sigjmp_buf *jb = armed;

		armed = NULL;
		siglongjmp(*jb, 1);
	}
	/* Not ours: hand it on. Returning re-executes the faulting
	 * instruction under the restored action. */
	if (previous.sa_flags & SA_SIGINFO) {
		if (previous.sa_sigaction) {
			previous.sa_sigaction(sig, si, uc);
			return;
		}
	} else if (previous.sa_handler != SIG_DFL &&
		   previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	signal(SIGBUS, SIG_DFL);
}

int mmfs_guard_init(void)
{
	int rc = 0;

	if (g_once_init_enter(&installed)) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		/* NODEFER: SIGBUS stays unblocked in the handler, so the
		 * jump out needs no saved signal mask (no syscall per copy) */
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &previous) == -1)
			rc = -errno;
		g_once_init_leave(&installed, 1);
	}
	return rc;
}

int mmfs_guard_copy(void *dst, const void *src, size_t n, const void *lo,
		    const void *hi)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0)) {
		g_atomic_int_inc(&faults);
		return -EFAULT;
	}
	armed_lo = lo;
	armed_hi = hi;
	/* the handler runs on this thread: keep the compiler from moving
	 * the copy outside the armed section */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	armed = &jb;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(dst, src, n);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	armed = NULL;
	return 0;
}

unsigned long mmfs_guard_faults(void)
{
	return (unsigned long)g_atomic_int_get(&faults);
}
