// SPDX-License-Identifier: GPL-2.0-or-later
/* Sync policy (see sync.h): which moments msync, and the periodic thread.
 * The mechanism (dirty ranges per window, the pass) lives in map.c. The
 * thread holds no lock a request waits on while it syncs: map.c takes each
 * dirty range under its map's lock, pins the window, and drops the lock
 * before calling msync. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "memmapfs/lock.h"
#include "memmapfs/log.h"
#include "memmapfs/sync.h"

struct mmfs_syncer {
	struct mmfs_engine *eng;
	int mode; /* atomic: the default mode */
	gint64 interval_us;
	struct mmfs_stats *stats;
	GThread *thread;
	GMutex lock; /* protects stopping */
	GCond wake;
	int stopping;
	void (*prepass)(void *);
	void *prepass_arg;
};

const char *const mmfs_sync_mode_names[] = {
    [MMFS_SYNC_IMMEDIATE] = "immediate",
    [MMFS_SYNC_PERIODIC] = "periodic",
    [MMFS_SYNC_CLOSE] = "close",
    [MMFS_SYNC_NEVER] = "never",
    NULL,
};
#define N_MODES (G_N_ELEMENTS(mmfs_sync_mode_names) - 1)

const char *mmfs_sync_mode_name(enum mmfs_sync_mode mode)
{
	return (unsigned)mode < N_MODES ? mmfs_sync_mode_names[mode] : "?";
}

int mmfs_sync_mode_parse(const char *name, enum mmfs_sync_mode *mode)
{
	for (unsigned int i = 0; i < N_MODES; i++)
		if (strcmp(name, mmfs_sync_mode_names[i]) == 0) {
			*mode = (enum mmfs_sync_mode)i;
			return 0;
		}
	return -EINVAL;
}

int mmfs_sync_parse_value(const char *value, size_t size,
			  enum mmfs_sync_mode *mode, int *deflt)
{
	/* xattr values are bytes: a NUL anywhere but at the end is junk */
	const char *nul = memchr(value, '\0', size);
	char *word;
	int rc = 0;

	if (nul && nul != value + size - 1)
		return -EINVAL;
	word = g_strstrip(g_strndup(value, size));
	*deflt = strcmp(word, "default") == 0;
	if (!*deflt && mmfs_sync_mode_parse(word, mode) != 0)
		rc = -EINVAL;
	g_free(word);
	return rc;
}

int mmfs_sync_pass(struct mmfs_syncer *s)
{
	gint64 start = g_get_monotonic_time();
	uint64_t bytes = 0;
	unsigned int files = 0;
	int rc;

	rc = mmfs_engine_sync_all(s->eng, 1, &bytes, &files);
	mmfs_stat_add(&s->stats->sync_passes, 1);
	mmfs_stat_max(&s->stats->longest_sync_pass_us,
		      (uint64_t)(g_get_monotonic_time() - start));
	if (files)
		mmfs_log(LOG_DEBUG,
			 "sync pass: %" G_GUINT64_FORMAT " bytes in %u files",
			 bytes, files);
	return rc;
}

static gpointer periodic(gpointer data)
{
	struct mmfs_syncer *s = data;

	gint64 deadline = g_get_monotonic_time() + s->interval_us;

	mmfs_lock(&s->lock);
	while (!s->stopping) {
		/* FALSE: the interval is up */
		while (!s->stopping &&
		       mmfs_cond_wait_until(&s->wake, &s->lock, deadline))
			;
		if (s->stopping)
			break;
		/* passes start one interval apart (at once after a pass
		 * longer than that): a write that just missed a pass is in
		 * the next, over within one interval plus one pass */
		deadline = g_get_monotonic_time() + s->interval_us;
		mmfs_unlock(&s->lock);
		if (s->prepass)
			s->prepass(s->prepass_arg);
		mmfs_sync_pass(s);
		mmfs_lock(&s->lock);
	}
	mmfs_unlock(&s->lock);
	return NULL;
}

struct mmfs_syncer *mmfs_syncer_new(struct mmfs_engine *eng,
				    enum mmfs_sync_mode mode, double interval,
				    struct mmfs_stats *stats)
{
	struct mmfs_syncer *s = g_new0(struct mmfs_syncer, 1);

	s->eng = eng;
	s->mode = mode;
	s->interval_us = (gint64)(interval * 1e6);
	if (s->interval_us < 1000)
		s->interval_us = 1000;
	s->stats = stats;
	g_mutex_init(&s->lock);
	g_cond_init(&s->wake);
	mmfs_stat_set(&stats->sync_interval_ms, (uint64_t)(interval * 1e3));
	/* Always: a rule or a runtime change may make any file periodic.
	 * A pass with nothing periodic and dirty costs nothing. The thread
	 * takes no stopping signal: those must reach the thread that runs
	 * the request loop (as libfuse's own workers ensure for theirs). */
	{
		sigset_t stop, old;

		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGHUP);
		sigaddset(&stop, SIGQUIT);
		pthread_sigmask(SIG_BLOCK, &stop, &old);
		s->thread = g_thread_new("mmfs-sync", periodic, s);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return s;
}

enum mmfs_sync_mode mmfs_syncer_mode(const struct mmfs_syncer *s)
{
	return (enum mmfs_sync_mode)g_atomic_int_get(&s->mode);
}

void mmfs_syncer_set_prepass(struct mmfs_syncer *s, void (*fn)(void *),
			     void *arg)
{
	s->prepass_arg = arg;
	s->prepass = fn;
}

void mmfs_syncer_set_default(struct mmfs_syncer *s, enum mmfs_sync_mode mode)
{
	g_atomic_int_set(&s->mode, (int)mode);
}

void mmfs_sync_configure(struct mmfs_syncer *s, struct mmfs_map *map,
			 enum mmfs_sync_mode mode)
{
	struct mmfs_map_policy p = mmfs_map_get_policy(map);

	(void)s;
	p.sync_mode = (int)mode;
	p.periodic = mode == MMFS_SYNC_PERIODIC;
	/* never: a window the budget evicts keeps its dirty pages in the
	 * page cache for the kernel to write back, as a plain write would */
	p.evict_sync = mode != MMFS_SYNC_NEVER;
	mmfs_map_set_policy(map, &p);
}

enum mmfs_sync_mode mmfs_sync_mode_of(const struct mmfs_syncer *s,
				      struct mmfs_map *map)
{
	return map ? (enum mmfs_sync_mode)mmfs_map_get_policy(map).sync_mode
		   : mmfs_syncer_mode(s);
}

int mmfs_syncer_shutdown(struct mmfs_syncer *s, uint64_t *bytes,
			 unsigned int *files)
{
	int rc;

	if (s->thread) {
		mmfs_lock(&s->lock);
		s->stopping = 1;
		g_cond_signal(&s->wake);
		mmfs_unlock(&s->lock);
		g_thread_join(s->thread);
	}
	*bytes = 0;
	*files = 0;
	rc = mmfs_engine_sync_all(s->eng, 0, bytes, files);
	mmfs_stat_add(&s->stats->sync_passes, 1);
	g_cond_clear(&s->wake);
	g_mutex_clear(&s->lock);
	g_free(s);
	return rc;
}

static int wants_sync_now(const struct mmfs_syncer *s, struct mmfs_map *map,
			  int open_flags)
{
	return mmfs_sync_mode_of(s, map) == MMFS_SYNC_IMMEDIATE ||
	       (open_flags & O_DSYNC);
}

int mmfs_sync_write_flags(const struct mmfs_syncer *s, struct mmfs_map *map,
			  int open_flags)
{
	return wants_sync_now(s, map, open_flags) ? MMFS_WRITE_SYNC : 0;
}

int mmfs_sync_after_fd_write(struct mmfs_syncer *s, struct mmfs_map *map,
			     int fd, int open_flags, size_t bytes)
{
	/* an fd of its own: O_SYNC's metadata comes with fsync */
	int full = (open_flags & O_SYNC) == O_SYNC;

	if (!map)
		return (full ? fsync(fd) : fdatasync(fd)) == -1 ? -errno : 0;
	if (wants_sync_now(s, map, open_flags))
		return mmfs_map_sync_fd(map, fd, full, bytes);
	mmfs_map_note_fd_write(map, bytes);
	return 0;
}

int mmfs_sync_on_close(struct mmfs_syncer *s, struct mmfs_map *map, int fd,
		       int wrote)
{
	int rc = 0, pending;

	if (wrote && mmfs_sync_mode_of(s, map) == MMFS_SYNC_CLOSE) {
		if (map)
			rc = mmfs_map_sync(map, NULL);
		else if (fdatasync(fd) == -1)
			rc = -errno;
	}
	pending = map ? mmfs_map_take_error(map) : 0;
	return rc ? rc : pending;
}

int mmfs_sync_fsync(struct mmfs_syncer *s, struct mmfs_map *map, int fd,
		    int datasync)
{
	int rc = 0, pending;

	(void)s;
	if (map)
		rc = mmfs_map_sync(map, NULL);
	if ((datasync ? fdatasync(fd) : fsync(fd)) == -1 && !rc)
		rc = -errno;
	pending = map ? mmfs_map_take_error(map) : 0;
	return rc ? rc : pending;
}
