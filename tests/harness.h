/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test harness for mount tests: temporary directories, starting and stopping
 * the real daemon with hard timeouts, running code as another user, and
 * "twin" checks that run one call on a native directory and through the
 * mount and compare results and errno. */
#ifndef MEMMAPFS_TEST_HARNESS_H
#define MEMMAPFS_TEST_HARNESS_H

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>

#define NOBODY 65534

struct harness_mount {
	char dir[PATH_MAX];    /* this test's temporary directory */
	char src[PATH_MAX];    /* dir/src: the backing directory */
	char mnt[PATH_MAX];    /* dir/mnt (or src for an overlay on itself) */
	char native[PATH_MAX]; /* dir/native: a plain twin to compare with */
	char log[PATH_MAX];    /* the daemon's stderr */
	pid_t pid;	       /* the daemon, or 0 */
	int log_may_warn;      /* don't fail the test over warnings in log */
};

/* Call first in main(): creates the run's temporary root. Returns 1 when
 * FUSE mounts can run here. Without /dev/fuse it prints a loud SKIP and
 * returns 0, unless CI=true, where it fails the run instead. */
int harness_init(void);

/* For a test that needs root: 1 when running as root. Otherwise it
 * prints a SKIP naming the test and returns 0, except under CI=true
 * (CI runs as root), where it fails the test instead. */
int harness_need_root(const char *test);

/* Unmount anything left under the run's root and remove it. */
void harness_cleanup(void);

/* Run the suite (CK_ENV verbosity, so CK_RUN_CASE and friends work): the
 * exit status for main(), 0 when every test passed. */
int harness_run_suite(Suite *s);

/* The daemon under test: $MEMMAPFS_BIN, or ./memmapfs. */
const char *harness_bin(void);

/* Make m->dir with src/, mnt/ and native/ in it (all mode 0755). */
void harness_dirs(struct harness_mount *m);

/* Start the daemon in the foreground on src and mnt with the extra
 * arguments (NULL-terminated, may be NULL) and wait until the mount is
 * live. Returns 0, or the daemon's exit status if it exited instead, or -1
 * on timeout. */
int harness_start(struct harness_mount *m, const char *src, const char *mnt,
		  const char *const *extra);

/* harness_dirs + harness_start(src, mnt) with "-o" opts (may be NULL), and
 * a Check failure if the mount does not come up. */
void harness_mount(struct harness_mount *m, const char *opts);

/* harness_start on m->src and m->mnt with "-o opts" (opts may be NULL),
 * failing the test with the daemon's log if it does not mount. */
void harness_start_ok(struct harness_mount *m, const char *opts);

/* One counter of the mount's user.memmapfs.stats. */
uint64_t harness_stat(const struct harness_mount *m, const char *name);

/* SIGTERM the daemon and wait for it. Returns its exit status; on timeout
 * kills it, detaches the mount and returns -1. Then fails the test if the
 * mount is still listed or the daemon logged a warning or error (unless
 * log_may_warn). */
int harness_stop(struct harness_mount *m);

/* Stop (if running) and remove m->dir. For teardown. */
void harness_teardown(struct harness_mount *m);

/* Is path the mount point of a live memmapfs mount (per mountinfo)? */
int harness_is_mounted(const char *path);

/* The daemon's stderr so far (g_free it). */
char *harness_log(const struct harness_mount *m);

/* Run argv (argv[0] looked up in PATH) with stdout+stderr captured into
 * *out (g_free it; may be NULL), under a timeout. Returns the exit status,
 * 128+signal, or -1. */
int harness_run(char **out, const char *const argv[]);

/* Run fn(arg) in a child process with the credentials uid/gid (no
 * supplementary groups) and return what fn returned (0..255). */
int harness_as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg);

/* "base/rel" formatted into one of a few rotating static buffers. */
const char *P(const char *base, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write/read whole files (fail the test on error). */
void put_file(const char *path, const void *data, size_t len);
char *get_file(const char *path, size_t *len);

/* Fail unless the trees under a and b hold the same names, types, modes,
 * owners, sizes, link counts, symlink targets and file contents. */
void compare_trees(const char *a, const char *b);

/* Compare one call's outcome in the native twin and in the mount. */
void harness_same(const char *what, const long r[2], const int e[2], int fds,
		  const char *file, int line);

/* SAME(expr): evaluate expr with B = the native dir, then B = the mount
 * dir; the results and (for -1) errno must match. SAME_FD: for calls that
 * return a file descriptor (both >= 0 counts as equal; fds are closed). */
#define SAME_(expr, fds, M)                                                    \
	do {                                                                   \
		long r_[2];                                                    \
		int e_[2];                                                     \
		for (int i_ = 0; i_ < 2; i_++) {                               \
			const char *B = i_ ? (M).mnt : (M).native;             \
			(void)B;                                               \
			errno = 0;                                             \
			r_[i_] = (long)(expr);                                 \
			e_[i_] = errno;                                        \
		}                                                              \
		harness_same(#expr, r_, e_, fds, __FILE__, __LINE__);          \
	} while (0)
#define SAME(m, expr)	 SAME_(expr, 0, m)
#define SAME_FD(m, expr) SAME_(expr, 1, m)

struct mmfs_map;
struct mmfs_stats;
/* A read of the engine as the daemon serves it: pinned windows copied
 * with a guard (a fault ends it with -EIO, as the kernel ends a reply it
 * cannot copy); a full budget reads by fd and counts budget_fallbacks. */
ssize_t harness_engine_read(struct mmfs_map *map, struct mmfs_stats *stats,
			    void *buf, size_t size, off_t off);

#endif
