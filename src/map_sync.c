// SPDX-License-Identifier: GPL-2.0-or-later
/* The engine's sync mechanism (see map_impl.h): each window keeps one dirty
 * range, each map a list of dirty windows and the first sync error, the
 * engine a list of maps with something to sync. A pass takes the ranges
 * (pinning their windows), starts writeback of all of them, then waits for
 * each with msync. When passes run is sync.c's business (the policy). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "memmapfs/lock.h"
#include "memmapfs/log.h"
#include "memmapfs/map.h"

#include "map_impl.h"

int (*mmfs_msync_hook)(void *addr, size_t len, int flags) = msync;

static uint64_t page_round_down(uint64_t v, size_t page)
{
	return v / page * page;
}

/* msync [addr, addr+len), widened to whole pages. 0 or -errno. */
int mmfs_eng_sync_range(struct mmfs_engine *eng, char *addr, size_t len)
{
	char *start =
	    (char *)(uintptr_t)page_round_down((uintptr_t)addr, eng->page);
	size_t span = (size_t)(addr + len - start);

	mmfs_stat_add(&eng->stats->msync_calls, 1);
	if (mmfs_msync_hook(start, span, MS_SYNC) == -1) {
		mmfs_stat_add(&eng->stats->sync_errors, 1);
		return -errno;
	}
	mmfs_stat_add(&eng->stats->bytes_synced, len);
	return 0;
}

int mmfs_eng_sync_fd(struct mmfs_engine *eng, int fd, int full, size_t len)
{
	if ((full ? fsync(fd) : fdatasync(fd)) == -1) {
		mmfs_stat_add(&eng->stats->sync_errors, 1);
		return -errno;
	}
	mmfs_stat_add(&eng->stats->bytes_synced, len);
	return 0;
}

/* Remember the first sync failure of a map until someone reports it. */
void mmfs_eng_note_sync_error(struct mmfs_map *map, int err)
{
	mmfs_lock(&map->lock);
	if (!map->sync_error)
		map->sync_error = err;
	mmfs_unlock(&map->lock);
	mmfs_log(LOG_ERR,
		 "%s: sync failed: %s (reported to the next fsync "
		 "or close)",
		 map->label, strerror(-err));
}

/* Put map on the engine's list of maps with something to sync. */
void mmfs_eng_note_dirty(struct mmfs_map *map)
{
	struct mmfs_engine *eng = map->eng;

	mmfs_lock(&eng->lock);
	if (!map->on_engine_dirty) {
		map->engine_link.data = map;
		g_queue_push_tail_link(&eng->dirty_maps, &map->engine_link);
		map->on_engine_dirty = 1;
	}
	mmfs_unlock(&eng->lock);
}

/* Window w (pinned by the caller) has new data in [lo, hi). */
void mmfs_eng_mark_dirty(struct mmfs_map *map, struct mmfs_window *w, size_t lo,
			 size_t hi)
{
	size_t before;
	int first;

	mmfs_lock(&map->lock);
	before = w->dirty_hi - w->dirty_lo;
	if (w->dirty_hi == 0) {
		w->dirty_lo = lo;
		w->dirty_hi = hi;
		w->dirty_link.data = w;
		g_queue_push_tail_link(&map->dirty, &w->dirty_link);
	} else {
		w->dirty_lo = MIN(w->dirty_lo, lo);
		w->dirty_hi = MAX(w->dirty_hi, hi);
	}
	first = g_queue_get_length(&map->dirty) == 1 && before == 0;
	mmfs_stat_add(&map->eng->stats->dirty_bytes,
		      (w->dirty_hi - w->dirty_lo) - before);
	mmfs_unlock(&map->lock);
	if (first)
		mmfs_eng_note_dirty(map);
}

/* Take w's dirty range (map lock held): returns its length. The caller
 * takes it off dirty_bytes once it is synced (or dropped). */
size_t mmfs_eng_take_dirty(struct mmfs_map *map, struct mmfs_window *w,
			   size_t *lo)
{
	size_t len = w->dirty_hi - w->dirty_lo;

	if (w->dirty_hi == 0)
		return 0;
	*lo = w->dirty_lo;
	w->dirty_lo = w->dirty_hi = 0;
	g_queue_unlink(&map->dirty, &w->dirty_link);
	return len;
}

int mmfs_map_sync_fd(struct mmfs_map *map, int fd, int full, size_t bytes)
{
	return mmfs_eng_sync_fd(map->eng, fd, full, bytes);
}

void mmfs_map_note_fd_write(struct mmfs_map *map, size_t bytes)
{
	int first;

	if (!bytes)
		return;
	mmfs_lock(&map->lock);
	first = !map->fd_dirty;
	map->fd_dirty += bytes;
	mmfs_unlock(&map->lock);
	mmfs_stat_add(&map->eng->stats->dirty_bytes, bytes);
	if (first)
		mmfs_eng_note_dirty(map);
}

int mmfs_map_take_error(struct mmfs_map *map)
{
	int err;

	mmfs_lock(&map->lock);
	err = map->sync_error;
	map->sync_error = 0;
	mmfs_unlock(&map->lock);
	return err;
}

/* A dirty window to sync: pinned, with its range taken. */
struct pending {
	struct mmfs_window *w;
	size_t lo, len;
};

/* Take every dirty range of map (pinning the windows) into *out, and
 * how many bytes pwrite left dirty. */
static size_t take_map_dirty(struct mmfs_map *map, GArray *out)
{
	size_t fd_dirty;

	mmfs_lock(&map->lock);
	while (!g_queue_is_empty(&map->dirty)) {
		struct mmfs_window *w = g_queue_peek_head(&map->dirty);
		struct pending pd = {w, 0, 0};

		pd.len = mmfs_eng_take_dirty(map, w, &pd.lo);
		g_atomic_int_inc(&w->pins); /* safe from eviction */
		g_array_append_val(out, pd);
	}
	fd_dirty = map->fd_dirty;
	map->fd_dirty = 0;
	mmfs_unlock(&map->lock);
	return fd_dirty;
}

/* msync what was taken; returns the first error (and notes it on the
 * map for its next fsync or close). */
static int sync_pending(struct mmfs_map *map, GArray *todo, size_t fd_dirty,
			uint64_t *bytes)
{
	int first = 0, rc;

	for (guint i = 0; i < todo->len; i++) {
		struct pending *pd = &g_array_index(todo, struct pending, i);

		rc = mmfs_eng_sync_range(map->eng, pd->w->addr + pd->lo,
					 pd->len);
		mmfs_stat_sub(&map->eng->stats->dirty_bytes, pd->len);
		g_atomic_int_add(&pd->w->pins, -1);
		if (rc && !first)
			first = rc;
		if (!rc && bytes)
			*bytes += pd->len;
	}
	if (fd_dirty) {
		rc = mmfs_eng_sync_fd(map->eng, map->fd, 0, fd_dirty);
		mmfs_stat_sub(&map->eng->stats->dirty_bytes, fd_dirty);
		if (rc && !first)
			first = rc;
		if (!rc && bytes)
			*bytes += fd_dirty;
	}
	if (first)
		mmfs_eng_note_sync_error(map, first);
	return first;
}

int mmfs_map_sync(struct mmfs_map *map, uint64_t *bytes)
{
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(struct pending));
	size_t fd_dirty = take_map_dirty(map, todo);
	int rc = sync_pending(map, todo, fd_dirty, bytes);

	g_array_free(todo, TRUE);
	return rc;
}

int mmfs_engine_sync_all(struct mmfs_engine *eng, int periodic_only,
			 uint64_t *bytes, unsigned int *files)
{
	GPtrArray *maps = g_ptr_array_new();
	GArray **todo;
	size_t *fd_dirty;
	int first = 0, rc;

	/* Take the list of maps with something to sync, holding a
	 * reference on each so none is freed under us. */
	mmfs_lock(&eng->lock);
	for (GList *l = eng->dirty_maps.head, *next; l; l = next) {
		struct mmfs_map *map = l->data;

		next = l->next;
		/* policy.periodic is read unlocked: a change races at worst
		 * one pass, and set_policy puts the map back on the list */
		if (periodic_only && !map->policy.periodic)
			continue;
		/* the link is embedded in the map: never let GLib free it */
		g_queue_unlink(&eng->dirty_maps, l);
		map->on_engine_dirty = 0;
		mmfs_eng_map_ref(map);
		g_ptr_array_add(maps, map);
	}
	mmfs_unlock(&eng->lock);

	/* Two phases: start writeback of every range first, so the disk
	 * works on all of them at once, then wait for each. */
	todo = g_new0(GArray *, maps->len ? maps->len : 1);
	fd_dirty = g_new0(size_t, maps->len ? maps->len : 1);
	for (guint i = 0; i < maps->len; i++) {
		struct mmfs_map *map = maps->pdata[i];

		todo[i] = g_array_new(FALSE, FALSE, sizeof(struct pending));
		fd_dirty[i] = take_map_dirty(map, todo[i]);
		for (guint j = 0; j < todo[i]->len; j++) {
			struct pending *pd =
			    &g_array_index(todo[i], struct pending, j);

			sync_file_range(
			    map->fd,
			    (off_t)(pd->w->index * eng->cfg.window + pd->lo),
			    (off_t)pd->len, SYNC_FILE_RANGE_WRITE);
		}
	}
	for (guint i = 0; i < maps->len; i++) {
		rc = sync_pending(maps->pdata[i], todo[i], fd_dirty[i], bytes);
		if (rc && !first)
			first = rc;
		g_array_free(todo[i], TRUE);
		mmfs_eng_map_unref(maps->pdata[i]);
	}
	if (files)
		*files = maps->len;
	g_free(todo);
	g_free(fd_dirty);
	g_ptr_array_free(maps, TRUE);
	return first;
}
