// SPDX-License-Identifier: GPL-2.0-or-later
/* The mapping engine (see map.h).
 *
 * A window is the aligned file range [k*W, (k+1)*W). It maps only the
 * pages the file has (rounded up), inside a reservation of W bytes of
 * address space, so a growing file extends its last window in place: no
 * remap and no move, even while readers hold pointers into it. Windows
 * live in their map's hash table and, once mapped, in the engine's CLOCK
 * ring; when a new mapping would exceed the budget, unpinned windows that
 * were not used since the hand last passed are unmapped.
 *
 * Pins are taken under the map's lock and dropped with an atomic
 * decrement; the evictor takes a victim's map lock with trylock (it holds
 * the engine lock, and the order is map before engine), so it can never
 * unmap a window a request has pinned. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "memmapfs/lock.h"
#include "memmapfs/guard.h"
#include "memmapfs/util.h"
#include "memmapfs/log.h"
#include "memmapfs/map.h"

#include "map_impl.h"

const char *const mmfs_preload_names[] = {"none", "willneed", "populate", NULL};
const char *const mmfs_advice_names[] = {"normal", "sequential", "random",
					 NULL};

void mmfs_map_config_defaults(struct mmfs_map_config *cfg)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t ram = pages > 0 && psize > 0 ? (uint64_t)pages * psize
					      : (uint64_t)4 << 30;

	memset(cfg, 0, sizeof(*cfg));
	cfg->window = MMFS_DEFAULT_WINDOW;
	cfg->max_mapped = MIN(ram / 2, (uint64_t)64 << 30);
	cfg->max_mapped = MAX(cfg->max_mapped, 16 * cfg->window);
	cfg->preload = MMFS_PRELOAD_NONE;
	cfg->advice = MMFS_ADVICE_NORMAL;
}

int mmfs_map_config_check(const struct mmfs_map_config *cfg, const char **why)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (cfg->window == 0 || cfg->window % page != 0) {
		*why = "window must be a non-zero multiple of the page size";
		return -EINVAL;
	}
	if (cfg->window > ((uint64_t)1 << 30)) {
		*why = "window must be at most 1G";
		return -EINVAL;
	}
	if (cfg->max_mapped < cfg->window) {
		*why = "max_mapped must hold at least one window";
		return -EINVAL;
	}
	return 0;
}

static uint64_t read_max_map_count(void)
{
	return mmfs_read_number("/proc/sys/vm/max_map_count", 65530);
}

struct mmfs_engine *mmfs_engine_new(const struct mmfs_map_config *cfg,
				    struct mmfs_stats *stats)
{
	struct mmfs_engine *eng;

	/* without the guard a file cut behind us would kill the daemon */
	if (mmfs_guard_init() != 0)
		return NULL;
	eng = g_new0(struct mmfs_engine, 1);
	eng->cfg = *cfg;
	eng->stats = stats;
	eng->page = (size_t)sysconf(_SC_PAGESIZE);
	/* a partly mapped window costs two VMAs; leave room for the rest */
	eng->max_windows = MAX(read_max_map_count() / 4, 64);
	g_mutex_init(&eng->lock);
	g_queue_init(&eng->clock);
	g_queue_init(&eng->dirty_maps);
	g_mutex_init(&eng->fault_log.lock);
	eng->fault_log.last = -G_USEC_PER_SEC;
	mmfs_stat_set(&stats->max_mapped, cfg->max_mapped);
	mmfs_stat_set(&stats->window_size, cfg->window);
	return eng;
}

void mmfs_engine_free(struct mmfs_engine *eng)
{
	if (!eng)
		return;
	g_mutex_clear(&eng->fault_log.lock);
	g_mutex_clear(&eng->lock);
	g_free(eng);
}

/* ---- budget ---- */

static void unmap_window(struct mmfs_engine *eng, struct mmfs_window *w)
{
	munmap(w->addr, eng->cfg.window);
	g_free(w);
}

/* Take w out of the ring and the budget (engine lock held). */
static void forget_window(struct mmfs_engine *eng, struct mmfs_window *w)
{
	if (w->in_clock) {
		g_queue_unlink(&eng->clock, &w->link);
		w->in_clock = 0;
	}
	eng->mapped -= w->len;
	eng->nwindows--;
	mmfs_stat_set(&eng->stats->mapped_bytes, eng->mapped);
	mmfs_stat_set(&eng->stats->windows_current, eng->nwindows);
}

/* A window taken out of its map, to be unmapped (after syncing what it
 * has dirty) once no lock is held. */
struct victim {
	struct mmfs_window *w;
	size_t dirty_lo, dirty_len;
	int evict_sync; /* the map's policy when it was taken */
};

/* Window w, just taken out of its map (map lock held), as a victim with
 * its dirty range. */
static struct victim *victim_of(struct mmfs_window *w)
{
	struct victim *v = g_new0(struct victim, 1);

	v->w = w;
	v->dirty_len = mmfs_eng_take_dirty(w->map, w, &v->dirty_lo);
	v->evict_sync = w->map->policy.evict_sync;
	return v;
}

void mmfs_eng_map_ref(struct mmfs_map *map)
{
	g_atomic_int_inc(&map->refs);
}

/* A reference unless the map is already on its way out (its last
 * reference gone, map_destroy about to take its windows itself). */
static int map_ref_live(struct mmfs_map *map)
{
	int refs;

	do {
		refs = g_atomic_int_get(&map->refs);
		if (refs == 0)
			return 0;
	} while (
	    !g_atomic_int_compare_and_exchange(&map->refs, refs, refs + 1));
	return 1;
}

/* Sync (when the policy wants it) and unmap victims, then drop the map
 * references they held (none when the map is being destroyed). */
static void finish_victims(struct mmfs_engine *eng, GSList *victims,
			   int evicted, int unref)
{
	for (GSList *s = victims; s; s = s->next) {
		struct victim *v = s->data;
		struct mmfs_map *map = v->w->map;
		int rc;

		if (v->dirty_len && v->evict_sync) {
			rc = mmfs_eng_sync_range(eng, v->w->addr + v->dirty_lo,
						 v->dirty_len);
			if (rc)
				mmfs_eng_note_sync_error(map, rc);
		}
		mmfs_stat_sub(&eng->stats->dirty_bytes, v->dirty_len);
		unmap_window(eng, v->w);
		if (evicted)
			mmfs_stat_add(&eng->stats->windows_evicted, 1);
		if (unref)
			mmfs_eng_map_unref(map);
		g_free(v);
	}
	g_slist_free(victims);
}

/* Charge bytes (and one more window if new_window) to the budget,
 * unmapping unpinned, unreferenced windows to make room (dirty ones are
 * synced first). Returns 0 or -ENOMEM when pinned windows hold the
 * budget. */
static int budget_reserve(struct mmfs_engine *eng, uint64_t bytes,
			  int new_window)
{
	GSList *victims = NULL;
	unsigned int scanned = 0, limit;
	int rc = 0;

	mmfs_lock(&eng->lock);
	limit = 2 * g_queue_get_length(&eng->clock) + 2;
	while ((eng->mapped + bytes > eng->cfg.max_mapped ||
		(new_window && eng->nwindows + 1 > eng->max_windows)) &&
	       scanned++ < limit) {
		GList *l = g_queue_peek_tail_link(&eng->clock);
		struct mmfs_window *w;
		struct victim *v;

		if (!l)
			break;
		w = l->data;
		g_queue_unlink(&eng->clock, l);
		if (g_atomic_int_get(&w->pins) ||
		    g_atomic_int_compare_and_exchange(&w->referenced, 1, 0) ||
		    !mmfs_trylock(&w->map->lock)) {
			g_queue_push_head_link(&eng->clock, l); /* next time */
			continue;
		}
		/* pins are only taken under the map lock we now hold; a
		 * map being destroyed drops its windows itself */
		if (g_atomic_int_get(&w->pins) || w->growing ||
		    !map_ref_live(w->map)) {
			mmfs_unlock(&w->map->lock);
			g_queue_push_head_link(&eng->clock, l);
			continue;
		}
		g_hash_table_remove(w->map->windows, &w->index);
		v = victim_of(w);
		/* the reference taken above lasts until it is unmapped */
		mmfs_unlock(&w->map->lock);
		w->in_clock = 0;
		eng->mapped -= w->len;
		eng->nwindows--;
		victims = g_slist_prepend(victims, v);
	}
	if (eng->mapped + bytes > eng->cfg.max_mapped ||
	    (new_window && eng->nwindows + 1 > eng->max_windows)) {
		rc = -ENOMEM;
	} else {
		eng->mapped += bytes;
		eng->nwindows += new_window ? 1 : 0;
	}
	mmfs_stat_set(&eng->stats->mapped_bytes, eng->mapped);
	mmfs_stat_set(&eng->stats->windows_current, eng->nwindows);
	mmfs_unlock(&eng->lock);

	finish_victims(eng, victims, 1, 1);
	return rc;
}

static void budget_release(struct mmfs_engine *eng, uint64_t bytes, int window)
{
	mmfs_lock(&eng->lock);
	eng->mapped -= bytes;
	eng->nwindows -= window ? 1 : 0;
	mmfs_stat_set(&eng->stats->mapped_bytes, eng->mapped);
	mmfs_stat_set(&eng->stats->windows_current, eng->nwindows);
	mmfs_unlock(&eng->lock);
}

/* ---- mapping ---- */

static void apply_hints(struct mmfs_map *map, char *addr, size_t len,
			off_t file_bytes)
{
	struct mmfs_engine *eng = map->eng;
	static const int advice[] = {[MMFS_ADVICE_NORMAL] = MADV_NORMAL,
				     [MMFS_ADVICE_SEQUENTIAL] = MADV_SEQUENTIAL,
				     [MMFS_ADVICE_RANDOM] = MADV_RANDOM};

	struct mmfs_map_policy policy = mmfs_map_get_policy(map);

	if (policy.advice != MMFS_ADVICE_NORMAL)
		madvise(addr, len, advice[policy.advice]);
	if (policy.preload == MMFS_PRELOAD_WILLNEED)
		madvise(addr, len, MADV_WILLNEED);
	if (eng->cfg.lock && !g_atomic_int_get(&eng->lock_refused) &&
	    file_bytes > 0 &&
	    mlock(addr, MIN(len, mmfs_round_up(file_bytes, eng->page))) == -1) {
		if (g_atomic_int_compare_and_exchange(&eng->lock_refused, 0, 1))
			mmfs_log(LOG_WARNING,
				 "locking windows in RAM: mlock refused (%m); "
				 "windows are not locked from now on (raise "
				 "RLIMIT_MEMLOCK, e.g. LimitMEMLOCK= in the "
				 "unit, to use it)");
	}
}

static int map_flags(struct mmfs_map *map)
{
	return MAP_SHARED |
	       (mmfs_map_get_policy(map).preload == MMFS_PRELOAD_POPULATE
		    ? MAP_POPULATE
		    : 0);
}

static int map_prot(struct mmfs_map *map)
{
	return PROT_READ | (map->writable ? PROT_WRITE : 0);
}

/* Map len bytes of window w inside a fresh W-byte reservation. */
static int map_window(struct mmfs_map *map, struct mmfs_window *w, size_t len,
		      off_t size)
{
	struct mmfs_engine *eng = map->eng;
	size_t W = eng->cfg.window;
	off_t off = (off_t)(w->index * W);
	char *base, *addr;

	base = mmap(NULL, W, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	addr = mmap(base, len, map_prot(map), map_flags(map) | MAP_FIXED,
		    map->fd, off);
	if (addr == MAP_FAILED) {
		int err = errno;

		munmap(base, W);
		mmfs_stat_add(&eng->stats->map_failures, 1);
		return -err;
	}
	w->addr = base;
	w->len = len;
	apply_hints(map, base, len, size - off);
	return 0;
}

/* Extend window w's mapping from its length to len, in place. */
static int grow_window(struct mmfs_map *map, struct mmfs_window *w, size_t len,
		       off_t size)
{
	off_t off = (off_t)(w->index * map->eng->cfg.window + w->len);
	char *addr;

	addr = mmap(w->addr + w->len, len - w->len, map_prot(map),
		    map_flags(map) | MAP_FIXED, map->fd, off);
	if (addr == MAP_FAILED) {
		mmfs_stat_add(&map->eng->stats->map_failures, 1);
		return -errno;
	}
	apply_hints(map, addr, len - w->len, size - off);
	return 0;
}

static void clock_add(struct mmfs_engine *eng, struct mmfs_window *w)
{
	mmfs_lock(&eng->lock);
	w->link.data = w;
	g_queue_push_head_link(&eng->clock, &w->link);
	w->in_clock = 1;
	mmfs_unlock(&eng->lock);
}

/* Window w (pinned, map->lock held, too short for need): the file grew
 * into it, so extend it in place, doubling so that small appends seldom
 * need to. Returns with map->lock released; on error w is unpinned. */
static int window_extend(struct mmfs_map *map, struct mmfs_window *w,
			 size_t need)
{
	struct mmfs_engine *eng = map->eng;
	size_t len = MIN(eng->cfg.window,
			 MAX(mmfs_round_up(need, eng->page), 2 * w->len));
	off_t size = map->size;
	int rc;

	w->growing = 1;
	mmfs_unlock(&map->lock);
	rc = budget_reserve(eng, len - w->len, 0);
	if (rc == 0) {
		rc = grow_window(map, w, len, size);
		if (rc)
			budget_release(eng, len - w->len, 0);
	}
	mmfs_lock(&map->lock);
	w->growing = 0;
	if (rc == 0)
		w->len = len;
	g_cond_broadcast(&map->changed);
	mmfs_unlock(&map->lock);
	if (rc) {
		g_atomic_int_add(&w->pins, -1);
		return rc;
	}
	mmfs_stat_add(&eng->stats->window_grows, 1);
	return 0;
}

/* A new window k (map->lock held, none there): publish a placeholder so
 * that others wait for it, then map what the file has in this window
 * (whole pages) or what the request needs, whichever is more. Returns with
 * map->lock released and, on success, *out pinned. */
static int window_new(struct mmfs_map *map, uint64_t k, size_t need,
		      struct mmfs_window **out)
{
	struct mmfs_engine *eng = map->eng;
	size_t W = eng->cfg.window, len;
	struct mmfs_window *w = g_new0(struct mmfs_window, 1);
	off_t size;
	int rc;

	w->map = map;
	w->index = k;
	w->state = WIN_MAPPING;
	w->pins = 1;
	g_hash_table_insert(map->windows, &w->index, w);
	size = map->size;
	mmfs_unlock(&map->lock);

	len = (uint64_t)size > k * W ? MIN(W, (uint64_t)size - k * W) : 0;
	len = MIN(W, mmfs_round_up(MAX(len, need), eng->page));
	rc = budget_reserve(eng, len, 1);
	if (rc == 0) {
		rc = map_window(map, w, len, size);
		if (rc)
			budget_release(eng, len, 1);
	}
	mmfs_lock(&map->lock);
	if (rc) {
		g_hash_table_remove(map->windows, &w->index);
		g_cond_broadcast(&map->changed);
		mmfs_unlock(&map->lock);
		g_free(w);
		return rc;
	}
	w->state = WIN_READY;
	w->referenced = 1;
	g_cond_broadcast(&map->changed);
	mmfs_unlock(&map->lock);
	clock_add(eng, w);
	mmfs_stat_add(&eng->stats->windows_mapped, 1);
	*out = w;
	return 0;
}

/* Pin window k mapped for at least its first `need` bytes, mapping or
 * growing it as required. */
static int window_get(struct mmfs_map *map, uint64_t k, size_t need,
		      struct mmfs_window **out)
{
	struct mmfs_window *w;
	int rc;

	mmfs_lock(&map->lock);
	for (;;) {
		w = g_hash_table_lookup(map->windows, &k);
		if (!w)
			return window_new(map, k, need, out);
		if (w->state == WIN_MAPPING || (w->len < need && w->growing)) {
			mmfs_cond_wait(&map->changed, &map->lock);
			continue;
		}
		g_atomic_int_inc(&w->pins);
		g_atomic_int_set(&w->referenced, 1);
		if (w->len >= need) {
			mmfs_unlock(&map->lock);
			*out = w;
			return 0;
		}
		rc = window_extend(map, w, need);
		if (rc == 0)
			*out = w;
		return rc;
	}
}

/* ---- maps ---- */

struct mmfs_map *mmfs_map_new(struct mmfs_engine *eng, int fd, int writable,
			      const char *label)
{
	struct mmfs_map *map;
	struct stat st;

	if (fstat(fd, &st) == -1)
		return NULL;
	map = g_new0(struct mmfs_map, 1);
	map->eng = eng;
	map->label = g_strdup(label);
	map->fd = fd;
	map->writable = writable;
	map->size = st.st_size;
	g_mutex_init(&map->lock);
	g_cond_init(&map->changed);
	map->windows = g_hash_table_new(g_int64_hash, g_int64_equal);
	map->refs = 1;
	g_queue_init(&map->dirty);
	map->policy.periodic = 1;
	map->policy.evict_sync = 1;
	map->policy.advice = eng->cfg.advice;
	map->policy.preload = eng->cfg.preload;
	mmfs_stat_add(&eng->stats->files_mapped, 1);
	return map;
}

/* Take the unpinned windows from `from` on out of the map (and the ring
 * and the budget) and unmap them; when keep_dirty, what they have dirty
 * is synced first (as policy wants), else it lies past the end of file
 * and is dropped. */
static void drop_windows(struct mmfs_map *map, off_t from, int keep_dirty,
			 int destroying)
{
	struct mmfs_engine *eng = map->eng;
	GSList *gone = NULL;
	GHashTableIter it;
	gpointer value;

	mmfs_lock(&map->lock);
	g_hash_table_iter_init(&it, map->windows);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct mmfs_window *w = value;
		struct victim *v;

		if (w->state != WIN_READY || w->growing ||
		    g_atomic_int_get(&w->pins) ||
		    (off_t)(w->index * eng->cfg.window) < from)
			continue;
		g_hash_table_iter_remove(&it);
		v = victim_of(w);
		if (!keep_dirty) {
			/* past the end of file now: nothing to sync */
			mmfs_stat_sub(&eng->stats->dirty_bytes, v->dirty_len);
			v->dirty_len = 0;
		}
		if (!destroying)
			mmfs_eng_map_ref(map);
		gone = g_slist_prepend(gone, v);
	}
	/* Out of the ring before the map lock goes: budget_reserve must
	 * never find a window that has already left its map (it would
	 * unmap and free it a second time). Lock order: map, then engine;
	 * budget_reserve only ever try-locks a map under the engine lock. */
	if (gone) {
		mmfs_lock(&eng->lock);
		for (GSList *s = gone; s; s = s->next)
			forget_window(eng, ((struct victim *)s->data)->w);
		mmfs_unlock(&eng->lock);
	}
	mmfs_unlock(&map->lock);
	finish_victims(eng, gone, 0, !destroying);
}

static void map_destroy(struct mmfs_map *map)
{
	struct mmfs_engine *eng = map->eng;

	drop_windows(map, 0, 1, 1);
	g_warn_if_fail(g_hash_table_size(map->windows) == 0);
	if (map->fd_dirty && map->policy.evict_sync &&
	    mmfs_eng_sync_fd(eng, map->fd, 0, map->fd_dirty) != 0)
		mmfs_log(LOG_ERR, "%s: sync failed: %m", map->label);
	mmfs_stat_sub(&eng->stats->dirty_bytes, map->fd_dirty);
	g_hash_table_destroy(map->windows);
	g_cond_clear(&map->changed);
	g_mutex_clear(&map->lock);
	close(map->fd);
	mmfs_stat_sub(&eng->stats->files_mapped, 1);
	g_free(map->label);
	g_free(map);
}

void mmfs_eng_map_unref(struct mmfs_map *map)
{
	if (g_atomic_int_dec_and_test(&map->refs))
		map_destroy(map);
}

void mmfs_map_ref(struct mmfs_map *map)
{
	mmfs_eng_map_ref(map);
}

void mmfs_map_unref(struct mmfs_map *map)
{
	mmfs_eng_map_unref(map);
}

void mmfs_map_close(struct mmfs_map *map)
{
	struct mmfs_engine *eng;

	if (!map)
		return;
	eng = map->eng;
	mmfs_lock(&eng->lock);
	if (map->on_engine_dirty) {
		g_queue_unlink(&eng->dirty_maps, &map->engine_link);
		map->on_engine_dirty = 0;
	}
	mmfs_unlock(&eng->lock);
	/* a sync pass at work on the map frees it when it is done */
	mmfs_eng_map_unref(map);
}

void mmfs_map_set_policy(struct mmfs_map *map,
			 const struct mmfs_map_policy *policy)
{
	int periodic_now;

	mmfs_lock(&map->lock);
	periodic_now = policy->periodic && !map->policy.periodic &&
		       (!g_queue_is_empty(&map->dirty) || map->fd_dirty);
	map->policy = *policy;
	mmfs_unlock(&map->lock);
	/* dirty already, and now the passes' business */
	if (periodic_now)
		mmfs_eng_note_dirty(map);
}

struct mmfs_map_policy mmfs_map_get_policy(struct mmfs_map *map)
{
	struct mmfs_map_policy p;

	mmfs_lock(&map->lock);
	p = map->policy;
	mmfs_unlock(&map->lock);
	return p;
}

int mmfs_map_fd(const struct mmfs_map *map)
{
	return map->fd;
}

int mmfs_map_writable(const struct mmfs_map *map)
{
	return map->writable;
}

off_t mmfs_map_size(struct mmfs_map *map)
{
	off_t size;

	mmfs_lock(&map->lock);
	size = map->size;
	mmfs_unlock(&map->lock);
	return size;
}

/* Record the size as seen on the file (map lock held). */
static void learn_size(struct mmfs_map *map, off_t size)
{
	if (size < map->size) {
		/* shrunk behind our back */
		map->gone_from =
		    map->gone_to ? MIN(map->gone_from, size) : size;
		map->gone_to = MAX(map->gone_to, map->size);
	} else if (size >= map->gone_to) {
		map->gone_from = map->gone_to = 0;
	}
	map->size = size;
}

/* The size was set through the mount: the kernel knows it. */
static void set_size(struct mmfs_map *map, off_t size)
{
	map->size = size;
	map->gone_from = map->gone_to = 0;
	map->size_gen++;
}

int (*mmfs_fstat_hook)(int fd, struct stat *st) = fstat;

off_t mmfs_map_refresh_size(struct mmfs_map *map)
{
	struct stat st;
	unsigned int gen;
	off_t size;

	mmfs_lock(&map->lock);
	gen = map->size_gen;
	mmfs_unlock(&map->lock);
	if (mmfs_fstat_hook(map->fd, &st) == -1)
		return -errno;
	mmfs_lock(&map->lock);
	/* An fstat that raced a size set through the mount may predate
	 * it: learning from it would take a truncate for a cut behind our
	 * back (reads past the new end would get EIO, not end of file) or
	 * undo it. The size set through the mount is the newer truth. */
	if (gen == map->size_gen && !map->resizing)
		learn_size(map, st.st_size);
	size = map->size;
	mmfs_unlock(&map->lock);
	return size;
}

/* Does a read at off start in data that vanished behind our back? */
static int read_in_gone(struct mmfs_map *map, off_t off)
{
	int gone;

	mmfs_lock(&map->lock);
	gone = off >= map->size && off < map->gone_to;
	mmfs_unlock(&map->lock);
	return gone;
}

unsigned int mmfs_map_window_count(struct mmfs_map *map)
{
	unsigned int n;

	mmfs_lock(&map->lock);
	n = g_hash_table_size(map->windows);
	mmfs_unlock(&map->lock);
	return n;
}

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

void mmfs_map_pageout_read(struct mmfs_pinned *p)
{
	/* every window pinned by one request belongs to one map */
	off_t size = p->count ? mmfs_map_size(p->win[0]->map) : 0;

	for (int i = 0; i < p->count; i++) {
		struct mmfs_window *w = p->win[i];
		struct mmfs_engine *eng = w->map->eng;
		uint64_t W = eng->cfg.window, start = w->index * W;
		size_t data, len;

		/* A whole window at a time, once reads have covered its data
		 * (by byte count): one call per window of a sequential read,
		 * whole folios (a window is aligned to its size), and the
		 * kernel's read-around for random reads is not thrown away
		 * page by page before it is used. */
		data =
		    (uint64_t)size > start ? MIN(W, (uint64_t)size - start) : 0;
		if (__atomic_add_fetch(&w->read_acc, p->iov[i].iov_len,
				       __ATOMIC_RELAXED) < data)
			continue;
		__atomic_store_n(&w->read_acc, 0, __ATOMIC_RELAXED);
		len = mmfs_round_up(data, eng->page);
		if (madvise(w->addr, len, MADV_PAGEOUT) == 0)
			mmfs_stat_add(&eng->stats->bytes_released, len);
		else if (g_atomic_int_compare_and_exchange(
			     &eng->pageout_refused, 0, 1))
			mmfs_log(LOG_WARNING,
				 "letting read pages go: the kernel refuses "
				 "MADV_PAGEOUT (%m): data read stays cached "
				 "twice");
	}
}

void mmfs_map_unpin(struct mmfs_pinned *p)
{
	for (int i = 0; i < p->count; i++)
		g_atomic_int_add(&p->win[i]->pins, -1);
	if (p->reader) {
		struct mmfs_map *map = p->reader;

		mmfs_lock(&map->lock);
		if (--map->readers[p->epoch] == 0 && map->resizing)
			g_cond_broadcast(&map->changed);
		mmfs_unlock(&map->lock);
		p->reader = NULL;
	}
	if (p->iov != p->iov_inline) {
		g_free(p->iov);
		g_free(p->win);
	}
	p->count = 0;
	p->iov = p->iov_inline;
	p->win = p->win_inline;
}

static int log_fault_now(struct fault_log *fl);

int mmfs_map_pin(struct mmfs_map *map, off_t off, size_t size,
		 struct mmfs_pinned *p)
{
	uint64_t W = map->eng->cfg.window, k0, k1;
	off_t fsize, end;
	int n, rc;

	p->count = 0;
	p->bytes = 0;
	p->iov = p->iov_inline;
	p->win = p->win_inline;
	p->reader = NULL;
	if (size == 0 || off < 0)
		return off < 0 ? -EINVAL : 0;
	fsize = mmfs_map_size(map);
	if (off + (off_t)size > fsize) {
		/* past the end we know of: the file may have grown */
		fsize = mmfs_map_refresh_size(map);
		if (fsize < 0)
			return (int)fsize;
	}
	if (off >= fsize) {
		if (!read_in_gone(map, off))
			return 0;
		if (log_fault_now(&map->eng->fault_log))
			mmfs_log(LOG_WARNING,
				 "%s: read of %zu at %lld answered EIO: the "
				 "file was cut short behind the mount to %lld, "
				 "and the kernel was promised the data%s",
				 map->label, size, (long long)off,
				 (long long)fsize, map->eng->fault_log.note);
		return -EIO;
	}
	end = MIN(off + (off_t)size, fsize);
	k0 = (uint64_t)off / W;
	k1 = (uint64_t)(end - 1) / W;
	n = (int)(k1 - k0 + 1);
	if (n > (int)G_N_ELEMENTS(p->iov_inline)) {
		p->iov = g_new(struct iovec, n);
		p->win = g_new(struct mmfs_window *, n);
	}
	for (uint64_t k = k0; k <= k1; k++) {
		off_t wstart = (off_t)(k * W);
		size_t need = (size_t)MIN((uint64_t)(end - wstart), W);
		size_t from = (size_t)(MAX(off, wstart) - wstart);
		struct mmfs_window *w;

		rc = window_get(map, k, need, &w);
		if (rc) {
			mmfs_map_unpin(p);
			return rc;
		}
		p->win[p->count] = w;
		p->iov[p->count].iov_base = w->addr + from;
		p->iov[p->count].iov_len = need - from;
		p->count++;
	}
	p->bytes = (size_t)(end - off);
	return 0;
}

/* Keep only what lies before the end of file as it is now. */
static void pin_clamp(struct mmfs_pinned *p, off_t off, off_t size)
{
	off_t left;

	if (off + (off_t)p->bytes <= size)
		return;
	left = size > off ? size - off : 0;
	p->bytes = (size_t)left;
	for (int i = 0; i < p->count; i++) {
		size_t take = MIN(p->iov[i].iov_len, (size_t)left);

		p->iov[i].iov_len = take;
		left -= (off_t)take;
		if (take == 0) {
			/* nothing of this window (nor the ones after) */
			for (int j = i; j < p->count; j++)
				g_atomic_int_add(&p->win[j]->pins, -1);
			p->count = i;
			break;
		}
	}
}

int mmfs_map_pin_read(struct mmfs_map *map, off_t off, size_t size,
		      struct mmfs_pinned *p)
{
	unsigned int e;
	off_t now;
	int rc;

	/* Registered before pinning: a truncate that flips the epoch
	 * after this waits for us; one that flipped it before has set its
	 * size, which the clamp below sees. */
	mmfs_lock(&map->lock);
	e = map->epoch & 1;
	map->readers[e]++;
	mmfs_unlock(&map->lock);
	rc = mmfs_map_pin(map, off, size, p);
	p->reader = map;
	p->epoch = (int)e;
	if (rc) {
		mmfs_map_unpin(p);
		return rc;
	}
	if (p->bytes) {
		mmfs_lock(&map->lock);
		now = map->size;
		mmfs_unlock(&map->lock);
		pin_clamp(p, off, now);
	}
	return 0;
}

/* A file cut short under a busy mount faults over and over: log the
 * first fault, then at most one a second, saying how many went unsaid. */
static int log_fault_now(struct fault_log *fl)
{
	gint64 now = g_get_monotonic_time();
	int say;

	mmfs_lock(&fl->lock);
	say = now - fl->last >= G_USEC_PER_SEC;
	if (say) {
		if (fl->quiet)
			g_snprintf(fl->note, sizeof(fl->note),
				   " (and %u more faults not logged)",
				   fl->quiet);
		else
			fl->note[0] = '\0';
		fl->last = now;
		fl->quiet = 0;
	} else {
		fl->quiet++;
	}
	mmfs_unlock(&fl->lock);
	return say;
}

void mmfs_map_fault(struct mmfs_map *map, off_t off, size_t len)
{
	off_t known = mmfs_map_size(map), size;

	/* A read racing a truncate made through the mount (kernel
	 * readahead still in flight, say) faults on a range we already know
	 * is past the end: expected, nothing to report. */
	if (off + (off_t)len > known && off >= 0)
		return;
	size = mmfs_map_refresh_size(map);
	mmfs_stat_add(&map->eng->stats->sigbus_recovered, 1);
	if (log_fault_now(&map->eng->fault_log))
		mmfs_log(LOG_WARNING,
			 "%s: fault on mapped memory in %zu at %lld (the "
			 "file was cut short behind the mount, or an I/O "
			 "error or a full disk); its size is now %lld%s",
			 map->label, len, (long long)off, (long long)size,
			 map->eng->fault_log.note);
	if (size >= 0)
		drop_windows(
		    map,
		    (off_t)mmfs_round_up((size_t)size, map->eng->cfg.window), 0,
		    0);
}

/* write(2) sets mtime and ctime on every call (at the clock's coarse
 * granularity); stores into a mapping only do so when a clean page is
 * first written. Do what write(2) would, at most once per clock tick. */
static void touch_mtime(struct mmfs_map *map)
{
	struct timespec now;
	gint64 stamp;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	stamp = (gint64)now.tv_sec * 1000000000 + now.tv_nsec;
	if (__atomic_exchange_n(&map->mtime_stamp, stamp, __ATOMIC_RELAXED) ==
	    stamp)
		return;
	futimens(map->fd,
		 (struct timespec[2]){{0, UTIME_OMIT}, {0, UTIME_NOW}});
}

static ssize_t write_by_fd(struct mmfs_map *map, const void *buf, size_t size,
			   off_t off)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pwrite(map->fd, (const char *)buf + done,
				   size - done, off + (off_t)done);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (done)
				break;
			return -errno;
		}
		done += (size_t)n;
	}
	mmfs_lock(&map->lock);
	if (off + (off_t)done > map->size)
		set_size(map, off + (off_t)done);
	mmfs_unlock(&map->lock);
	mmfs_stat_add(&map->eng->stats->write_requests_fd, 1);
	return (ssize_t)done;
}

/* Whether every page under [addr, addr + len) of a window is in the page
 * cache. A store into one that is not faults it in, and a fault on a
 * shared file mapping reads around it (as much as the device's readahead,
 * megabytes): a 4 KiB write would read megabytes it then never uses, and
 * make preallocated (unwritten) ranges around it cached zeros, which
 * SEEK_DATA reports as data. pwrite creates just the pages it writes. */
static int pages_resident(const struct mmfs_engine *eng, char *addr, size_t len)
{
	uintptr_t lo = (uintptr_t)addr & ~(uintptr_t)(eng->page - 1);
	uintptr_t hi = (uintptr_t)addr + len;
	unsigned char vec[256];

	while (lo < hi) {
		size_t pages = (hi - lo + eng->page - 1) / eng->page;

		if (pages > sizeof(vec))
			pages = sizeof(vec);
		if (mincore((void *)lo, pages * eng->page, vec) == -1)
			return 1; /* cannot tell: the store still works */
		for (size_t i = 0; i < pages; i++)
			if (!(vec[i] & 1))
				return 0;
		lo += pages * eng->page;
	}
	return 1;
}

/* A write that the mapping cannot take: by fd, synced for MMFS_WRITE_SYNC. */
static ssize_t write_fallback(struct mmfs_map *map, const void *buf,
			      size_t size, off_t off, int flags)
{
	ssize_t n = write_by_fd(map, buf, size, off);
	int rc = 0;

	if (n > 0) {
		if (flags & MMFS_WRITE_SYNC)
			rc = mmfs_eng_sync_fd(map->eng, map->fd, 0, (size_t)n);
		else
			mmfs_map_note_fd_write(map, (size_t)n);
	}
	return rc ? rc : n;
}

/* Copy buf into the pinned windows p (covering [off, off + size)). Pages not
 * yet cached are filled with pwrite (see pages_resident). 0, or 1 when the
 * write must go by fd after all (p is then unpinned). */
static int copy_into_windows(struct mmfs_map *map, struct mmfs_pinned *p,
			     const void *buf, off_t off, size_t size)
{
	size_t done = 0;

	for (int i = 0; i < p->count; i++) {
		const struct mmfs_window *w = p->win[i];
		const char *src = (const char *)buf + done;
		size_t len = p->iov[i].iov_len;
		off_t at = off + (off_t)done;
		struct stat st;

		done += len;
		if (pages_resident(map->eng, p->iov[i].iov_base, len)) {
			if (mmfs_guard_copy(
				p->iov[i].iov_base, src, len, w->addr,
				w->addr + map->eng->cfg.window) == 0)
				continue;
			/* A hole on a full disk, or the file cut short:
			 * pwrite says which, with the right errno. */
			mmfs_map_unpin(p);
			mmfs_map_fault(map, off, size);
			return 1;
		}
		/* the same pages, filled without a fault; they are the
		 * window's, and synced with it. Not past the file's true
		 * end: cut behind us, it is a fault. */
		if (fstat(map->fd, &st) == 0 && st.st_size < at + (off_t)len) {
			mmfs_map_unpin(p);
			mmfs_map_fault(map, off, size);
			return 1;
		}
		if (pwrite(map->fd, src, len, at) != (ssize_t)len) {
			mmfs_map_unpin(p);
			return 1; /* the fd path reports the errno */
		}
		mmfs_stat_add(&map->eng->stats->write_pages_filled, 1);
	}
	return 0;
}

/* After the copy: each range dirty for the syncer, or (MMFS_WRITE_SYNC)
 * on disk before the write is acknowledged. 0 or -errno. */
static int settle_write(struct mmfs_map *map, struct mmfs_pinned *p, int flags)
{
	int rc = 0;

	for (int i = 0; i < p->count; i++) {
		struct mmfs_window *w = p->win[i];
		size_t lo = (size_t)((char *)p->iov[i].iov_base - w->addr);

		if (!(flags & MMFS_WRITE_SYNC))
			mmfs_eng_mark_dirty(map, w, lo, lo + p->iov[i].iov_len);
		else if (!rc)
			rc = mmfs_eng_sync_range(map->eng, p->iov[i].iov_base,
						 p->iov[i].iov_len);
	}
	return rc;
}

ssize_t mmfs_map_write(struct mmfs_map *map, const void *buf, size_t size,
		       off_t off, int flags)
{
	struct mmfs_pinned p;
	int rc;

	if (!map->writable)
		return -EBADF;
	if (size == 0)
		return 0;
	/* A write past the end goes by fd, as a native write: the
	 * filesystem then makes the new size durable only with the data
	 * (ext4's and xfs' ordered writeback), so that a power cut never
	 * leaves the file longer than what reached the disk, with zeros (a
	 * size set first, for the mapping to store into, would be committed
	 * by the next journal commit without the data). Room on the disk is
	 * reserved by the write itself: a full disk is ENOSPC, never a
	 * SIGBUS. */
	if (off + (off_t)size > mmfs_map_size(map))
		return write_fallback(map, buf, size, off, flags);
	rc = mmfs_map_pin(map, off, size, &p);
	if (rc == -ENOMEM) {
		mmfs_stat_add(&map->eng->stats->budget_fallbacks, 1);
		return write_fallback(map, buf, size, off, flags);
	}
	if (rc)
		return rc;
	if (p.bytes < size) {
		/* truncated behind us since the size was read */
		mmfs_map_unpin(&p);
		return write_fallback(map, buf, size, off, flags);
	}
	if (copy_into_windows(map, &p, buf, off, size))
		return write_fallback(map, buf, size, off, flags);
	rc = settle_write(map, &p, flags);
	mmfs_map_unpin(&p);
	touch_mtime(map);
	mmfs_stat_add(&map->eng->stats->write_requests_mapped, 1);
	return rc ? rc : (ssize_t)size;
}

#define CUT_WAIT_US (2 * G_USEC_PER_SEC)

int mmfs_map_truncate_fd(struct mmfs_map *map, off_t size, int fd,
			 const char *path)
{
	gint64 deadline = g_get_monotonic_time() + CUT_WAIT_US;
	int rc, err = 0, waited = 0, shrink;
	unsigned int old;

	/* Shrinking, the size is known before the file changes: a read
	 * that pins from then on stops at the new end. Reads already past
	 * it (their replies are copied by the kernel straight from the
	 * mapping, and a page gone under that copy fails the whole request
	 * with EIO) finish first: a native read racing a truncate gets
	 * short data, never an error. Bounded, so that a stuck reply can
	 * delay a truncate, never stop it. Growing, the size is known only
	 * once the file has it: a read before that would fault past the
	 * old end. */
	mmfs_lock(&map->lock);
	map->resizing++;
	shrink = size < map->size;
	if (shrink) {
		set_size(map, size);
		old = map->epoch++ & 1;
		while (map->readers[old]) {
			waited = 1;
			if (!mmfs_cond_wait_until(&map->changed, &map->lock,
						  deadline))
				break;
		}
		if (waited)
			mmfs_stat_add(&map->eng->stats->truncate_waits, 1);
	}
	mmfs_unlock(&map->lock);
	if (fd >= 0)
		rc = ftruncate(fd, size);
	else
		rc = truncate(path, size);
	if (rc == -1)
		err = -errno;
	mmfs_lock(&map->lock);
	if (!err && !shrink)
		set_size(map, size);
	map->resizing--;
	map->size_gen++;
	mmfs_unlock(&map->lock);
	if (err) {
		mmfs_map_refresh_size(map);
		return err;
	}
	drop_windows(map,
		     (off_t)mmfs_round_up((size_t)size, map->eng->cfg.window),
		     0, 0);
	return 0;
}

int mmfs_map_truncate(struct mmfs_map *map, off_t size)
{
	return mmfs_map_truncate_fd(map, size, map->fd, NULL);
}

void mmfs_map_prefetch(struct mmfs_map *map)
{
	off_t size = mmfs_map_size(map);

	posix_fadvise(map->fd, 0,
		      (off_t)MIN((uint64_t)size, map->eng->cfg.max_mapped),
		      POSIX_FADV_WILLNEED);
}
