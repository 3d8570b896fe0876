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
#include "memmapfs/log.h"
#include "memmapfs/map.h"

struct fault_log {
	GMutex lock;
	gint64 last;	 /* monotonic µs of the last fault logged */
	unsigned int quiet; /* faults since, not logged */
	char note[64];
};

struct mmfs_engine {
	struct mmfs_map_config cfg;
	struct mmfs_stats *stats;
	size_t page;
	uint64_t max_windows; /* keeps us well under vm.max_map_count */
	GMutex lock;	      /* protects clock, mapped, nwindows; taken
			       * after a map's lock, never before (under
			       * it a map lock is only ever try-locked) */
	GQueue clock;	      /* mapped windows; head = most recently added */
	uint64_t mapped;      /* bytes charged to the budget */
	uint64_t nwindows;
	int lock_refused;  /* mlock failed once: do not try again */
	int pageout_refused; /* MADV_PAGEOUT failed once: warned */
	GQueue dirty_maps; /* maps with something to sync; engine lock */
	struct fault_log fault_log;
};

enum { WIN_MAPPING, WIN_READY };

struct mmfs_window {
	struct mmfs_map *map;
	uint64_t index; /* k: the window covers [k*W, (k+1)*W) */
	char *addr;	/* start of the W-byte reservation */
	size_t len;	/* bytes of the file mapped at addr; grows only */
	int pins;	/* atomic: requests using the window */
	int referenced; /* atomic: the CLOCK bit */
	int state;	/* map lock */
	int growing;	/* map lock */
	GList link;	/* engine lock */
	int in_clock;	/* engine lock */
	/* [dirty_lo, dirty_hi): written since last synced (map lock) */
	size_t dirty_lo, dirty_hi;
	GList dirty_link; /* in map->dirty while dirty_hi > 0; map lock */
	size_t read_acc; /* atomic: cache=single, bytes read since the
			  * window's pages were last let go */
};

struct mmfs_map {
	struct mmfs_engine *eng;
	char *label; /* names the file in log messages */
	int fd;
	int writable;
	GMutex lock;	     /* protects windows, size, and window state */
	GCond changed;	     /* a window finished mapping or growing */
	GHashTable *windows; /* &window->index -> window */
	off_t size;
	/* [gone_from, gone_to): data that vanished behind our back (the file
	 * was cut short outside the mount). Readers still promised it by the
	 * kernel get EIO, not a silent end of file, until the size is set
	 * through the mount again or the file grows back. */
	off_t gone_from, gone_to;
	/* Sizes set through the mount win over an fstat taken before
	 * them: size_gen counts them and resizing is nonzero while a
	 * truncate is between setting the size and the file having it
	 * (both map lock). */
	unsigned int size_gen;
	int resizing;
	/* Reads replying from pinned pages, by the epoch they began in (a
	 * truncate through the map flips the epoch and waits for the reads
	 * of the old one: those of the new one see its size). Map lock. */
	unsigned int epoch;
	int readers[2];
	gint64 mtime_stamp; /* atomic: coarse ns of our last mtime update */
	int refs;	    /* atomic: the owner, plus sync passes at work */
	GQueue dirty;	    /* dirty windows; map lock */
	int fd_dirty;	    /* written by pwrite since last synced; map lock */
	int sync_error;	    /* first failed sync, for the next fsync/close */
	GList engine_link;  /* in eng->dirty_maps; engine lock */
	int on_engine_dirty; /* engine lock */
	struct mmfs_map_policy policy; /* map lock */
};

int (*mmfs_msync_hook)(void *addr, size_t len, int flags) = msync;

static uint64_t page_round_down(uint64_t v, size_t page)
{
	return v / page * page;
}

/* msync [addr, addr+len), widened to whole pages. 0 or -errno. */
static int sync_range(struct mmfs_engine *eng, char *addr, size_t len)
{
	char *start = (char *)(uintptr_t)page_round_down((uintptr_t)addr,
						       eng->page);
	size_t span = (size_t)(addr + len - start);

	mmfs_stat_add(&eng->stats->msync_calls, 1);
	if (mmfs_msync_hook(start, span, MS_SYNC) == -1) {
		mmfs_stat_add(&eng->stats->sync_errors, 1);
		return -errno;
	}
	mmfs_stat_add(&eng->stats->bytes_synced, len);
	return 0;
}

/* Remember the first sync failure of a map until someone reports it. */
static void note_sync_error(struct mmfs_map *map, int err)
{
	mmfs_lock(&map->lock);
	if (!map->sync_error)
		map->sync_error = err;
	mmfs_unlock(&map->lock);
	mmfs_log(LOG_ERR, "%s: sync failed: %s (reported to the next fsync "
			  "or close)",
		 map->label, strerror(-err));
}

/* Put map on the engine's list of maps with something to sync. */
static void engine_note_dirty(struct mmfs_map *map)
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
static void mark_dirty(struct mmfs_map *map, struct mmfs_window *w, size_t lo,
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
		engine_note_dirty(map);
}

/* Take w's dirty range (map lock held): returns its length. The caller
 * takes it off dirty_bytes once it is synced (or dropped). */
static size_t take_dirty(struct mmfs_map *map, struct mmfs_window *w,
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

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

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
	unsigned long long v = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

struct mmfs_engine *mmfs_engine_new(const struct mmfs_map_config *cfg,
				    struct mmfs_stats *stats)
{
	struct mmfs_engine *eng = g_new0(struct mmfs_engine, 1);

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
	mmfs_guard_init();
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

static void map_ref(struct mmfs_map *map)
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
	} while (!g_atomic_int_compare_and_exchange(&map->refs, refs,
						    refs + 1));
	return 1;
}

static void map_unref(struct mmfs_map *map);

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
			rc = sync_range(eng, v->w->addr + v->dirty_lo,
					v->dirty_len);
			if (rc)
				note_sync_error(map, rc);
		}
		mmfs_stat_sub(&eng->stats->dirty_bytes, v->dirty_len);
		unmap_window(eng, v->w);
		if (evicted)
			mmfs_stat_add(&eng->stats->windows_evicted, 1);
		if (unref)
			map_unref(map);
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
		v = g_new0(struct victim, 1);
		v->w = w;
		v->dirty_len = take_dirty(w->map, w, &v->dirty_lo);
		v->evict_sync = w->map->policy.evict_sync;
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

static void budget_release(struct mmfs_engine *eng, uint64_t bytes,
			   int window)
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
	static const int advice[] = { [MMFS_ADVICE_NORMAL] = MADV_NORMAL,
				      [MMFS_ADVICE_SEQUENTIAL] = MADV_SEQUENTIAL,
				      [MMFS_ADVICE_RANDOM] = MADV_RANDOM };

	struct mmfs_map_policy policy = mmfs_map_get_policy(map);

	if (policy.advice != MMFS_ADVICE_NORMAL)
		madvise(addr, len, advice[policy.advice]);
	if (policy.preload == MMFS_PRELOAD_WILLNEED)
		madvise(addr, len, MADV_WILLNEED);
	if (eng->cfg.lock && !g_atomic_int_get(&eng->lock_refused) &&
	    file_bytes > 0 &&
	    mlock(addr, MIN(len, round_up(file_bytes, eng->page))) == -1) {
		if (g_atomic_int_compare_and_exchange(&eng->lock_refused, 0, 1))
			mmfs_log(LOG_WARNING,
				 "-o lock: mlock refused (%m); windows are "
				 "not locked in RAM from now on (raise "
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

/* Pin window k mapped for at least its first `need` bytes, mapping or
 * growing it as required. */
static int window_get(struct mmfs_map *map, uint64_t k, size_t need,
		      struct mmfs_window **out)
{
	struct mmfs_engine *eng = map->eng;
	size_t W = eng->cfg.window, len;
	struct mmfs_window *w;
	off_t size;
	int rc;

	mmfs_lock(&map->lock);
	for (;;) {
		w = g_hash_table_lookup(map->windows, &k);
		if (!w)
			break;
		if (w->state == WIN_MAPPING ||
		    (w->len < need && w->growing)) {
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
		/* The file grew into this window: extend it in place,
		 * doubling so that small appends seldom need to. */
		w->growing = 1;
		len = MIN(W, MAX(round_up(need, eng->page), 2 * w->len));
		size = map->size;
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
		*out = w;
		return 0;
	}

	/* A new window: publish a placeholder so that others wait for it. */
	w = g_new0(struct mmfs_window, 1);
	w->map = map;
	w->index = k;
	w->state = WIN_MAPPING;
	w->pins = 1;
	g_hash_table_insert(map->windows, &w->index, w);
	size = map->size;
	mmfs_unlock(&map->lock);

	/* Map what the file has in this window (whole pages), or what the
	 * request needs, whichever is more. */
	len = (uint64_t)size > k * W ? MIN(W, (uint64_t)size - k * W) : 0;
	len = MIN(W, round_up(MAX(len, need), eng->page));
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
		v = g_new0(struct victim, 1);
		v->w = w;
		v->dirty_len = take_dirty(map, w, &v->dirty_lo);
		v->evict_sync = map->policy.evict_sync;
		if (!keep_dirty) {
			/* past the end of file now: nothing to sync */
			mmfs_stat_sub(&eng->stats->dirty_bytes, v->dirty_len);
			v->dirty_len = 0;
		}
		if (!destroying)
			map_ref(map);
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
	    fdatasync(map->fd) == -1)
		mmfs_log(LOG_ERR, "%s: sync failed: %m", map->label);
	g_hash_table_destroy(map->windows);
	g_cond_clear(&map->changed);
	g_mutex_clear(&map->lock);
	close(map->fd);
	mmfs_stat_sub(&eng->stats->files_mapped, 1);
	g_free(map->label);
	g_free(map);
}

static void map_unref(struct mmfs_map *map)
{
	if (g_atomic_int_dec_and_test(&map->refs))
		map_destroy(map);
}

void mmfs_map_hold(struct mmfs_map *map)
{
	map_ref(map);
}

void mmfs_map_release(struct mmfs_map *map)
{
	map_unref(map);
}

void mmfs_map_free(struct mmfs_map *map)
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
	map_unref(map);
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
		engine_note_dirty(map);
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
		map->gone_from = map->gone_to ? MIN(map->gone_from, size) : size;
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

void mmfs_map_release_pages(struct mmfs_pinned *p)
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
		data = (uint64_t)size > start ? MIN(W, (uint64_t)size - start)
					      : 0;
		if (__atomic_add_fetch(&w->read_acc, p->iov[i].iov_len,
				       __ATOMIC_RELAXED) < data)
			continue;
		__atomic_store_n(&w->read_acc, 0, __ATOMIC_RELAXED);
		len = round_up(data, eng->page);
		if (madvise(w->addr, len, MADV_PAGEOUT) == 0)
			mmfs_stat_add(&eng->stats->bytes_released, len);
		else if (g_atomic_int_compare_and_exchange(&eng->pageout_refused,
							   0, 1))
			mmfs_log(LOG_WARNING,
				 "cache=single: the kernel refuses "
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
		drop_windows(map,
			     (off_t)round_up((size_t)size, map->eng->cfg.window),
			     0, 0);
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
	futimens(map->fd, (struct timespec[2]){ { 0, UTIME_OMIT },
						 { 0, UTIME_NOW } });
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
static int pages_resident(const struct mmfs_engine *eng, char *addr,
			  size_t len)
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

ssize_t mmfs_map_write(struct mmfs_map *map, const void *buf, size_t size,
		       off_t off, int flags)
{
	struct mmfs_pinned p;
	size_t done = 0;
	off_t end = off + (off_t)size;
	ssize_t n;
	int rc;

	if (!map->writable)
		return -EBADF;
	if (size == 0)
		return 0;
	if (end > mmfs_map_size(map)) {
		/* Reserve the blocks now: a store into a page the disk has
		 * no room for would be a SIGBUS, not ENOSPC. */
		if (fallocate(map->fd, 0, off, (off_t)size) == -1) {
			if (errno == EOPNOTSUPP || errno == ENOSYS)
				goto by_fd;
			return -errno;
		}
		mmfs_lock(&map->lock);
		if (end > map->size)
			set_size(map, end);
		mmfs_unlock(&map->lock);
	}
	rc = mmfs_map_pin(map, off, size, &p);
	if (rc == -ENOMEM) {
		mmfs_stat_add(&map->eng->stats->budget_fallbacks, 1);
		goto by_fd;
	}
	if (rc)
		return rc;
	if (p.bytes < size) {
		/* truncated behind us since the fallocate */
		mmfs_map_unpin(&p);
		goto by_fd;
	}
	for (int i = 0; i < p.count; i++) {
		const struct mmfs_window *w = p.win[i];
		const char *src = (const char *)buf + done;
		size_t len = p.iov[i].iov_len;

		if (!pages_resident(map->eng, p.iov[i].iov_base, len)) {
			struct stat st;
			off_t at = off + (off_t)done;

			/* the same pages, filled without a fault; they are
			 * the window's, and synced with it. Not past the
			 * file's true end: cut behind us, it is a fault. */
			if (fstat(map->fd, &st) == 0 &&
			    st.st_size < at + (off_t)len) {
				mmfs_map_unpin(&p);
				mmfs_map_fault(map, off, size);
				goto by_fd;
			}
			if (pwrite(map->fd, src, len, at) != (ssize_t)len) {
				mmfs_map_unpin(&p);
				goto by_fd; /* it reports the errno */
			}
			mmfs_stat_add(&map->eng->stats->write_pages_filled, 1);
			done += len;
			continue;
		}
		rc = mmfs_guard_copy(p.iov[i].iov_base, src, len, w->addr,
				     w->addr + map->eng->cfg.window);
		if (rc) {
			/* A hole on a full disk, or the file cut short:
			 * pwrite says which, with the right errno. */
			mmfs_map_unpin(&p);
			mmfs_map_fault(map, off, size);
			goto by_fd;
		}
		done += p.iov[i].iov_len;
	}
	rc = 0;
	for (int i = 0; i < p.count; i++) {
		struct mmfs_window *w = p.win[i];
		size_t lo = (size_t)((char *)p.iov[i].iov_base - w->addr);

		if (flags & MMFS_WRITE_SYNC) {
			/* acknowledged only once on disk */
			if (!rc)
				rc = sync_range(map->eng, p.iov[i].iov_base,
						p.iov[i].iov_len);
		} else {
			mark_dirty(map, w, lo, lo + p.iov[i].iov_len);
		}
	}
	mmfs_map_unpin(&p);
	touch_mtime(map);
	mmfs_stat_add(&map->eng->stats->write_requests_mapped, 1);
	return rc ? rc : (ssize_t)size;

by_fd:
	rc = 0;
	n = write_by_fd(map, buf, size, off);
	if (n > 0) {
		if (flags & MMFS_WRITE_SYNC)
			rc = fdatasync(map->fd) == -1 ? -errno : 0;
		else
			mmfs_map_note_fd_write(map);
	}
	return rc ? rc : n;
}

void mmfs_map_note_fd_write(struct mmfs_map *map)
{
	int first;

	mmfs_lock(&map->lock);
	first = !map->fd_dirty;
	map->fd_dirty = 1;
	mmfs_unlock(&map->lock);
	if (first)
		engine_note_dirty(map);
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
 * whether pwrite left the file dirty. */
static int take_map_dirty(struct mmfs_map *map, GArray *out)
{
	int fd_dirty;

	mmfs_lock(&map->lock);
	while (!g_queue_is_empty(&map->dirty)) {
		struct mmfs_window *w = g_queue_peek_head(&map->dirty);
		struct pending pd = { w, 0, 0 };

		pd.len = take_dirty(map, w, &pd.lo);
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
static int sync_pending(struct mmfs_map *map, GArray *todo, int fd_dirty,
			uint64_t *bytes)
{
	int first = 0, rc;

	for (guint i = 0; i < todo->len; i++) {
		struct pending *pd = &g_array_index(todo, struct pending, i);

		rc = sync_range(map->eng, pd->w->addr + pd->lo, pd->len);
		mmfs_stat_sub(&map->eng->stats->dirty_bytes, pd->len);
		g_atomic_int_add(&pd->w->pins, -1);
		if (rc && !first)
			first = rc;
		if (!rc && bytes)
			*bytes += pd->len;
	}
	if (fd_dirty && fdatasync(map->fd) == -1 && !first)
		first = -errno;
	if (first)
		note_sync_error(map, first);
	return first;
}

int mmfs_map_sync(struct mmfs_map *map, uint64_t *bytes)
{
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(struct pending));
	int fd_dirty = take_map_dirty(map, todo);
	int rc = sync_pending(map, todo, fd_dirty, bytes);

	g_array_free(todo, TRUE);
	return rc;
}

int mmfs_engine_sync_all(struct mmfs_engine *eng, int periodic_only,
			 uint64_t *bytes, unsigned int *files)
{
	GPtrArray *maps = g_ptr_array_new();
	GArray **todo;
	int *fd_dirty, first = 0, rc;

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
		map_ref(map);
		g_ptr_array_add(maps, map);
	}
	mmfs_unlock(&eng->lock);

	/* Two phases: start writeback of every range first, so the disk
	 * works on all of them at once, then wait for each. */
	todo = g_new0(GArray *, maps->len ? maps->len : 1);
	fd_dirty = g_new0(int, maps->len ? maps->len : 1);
	for (guint i = 0; i < maps->len; i++) {
		struct mmfs_map *map = maps->pdata[i];

		todo[i] = g_array_new(FALSE, FALSE, sizeof(struct pending));
		fd_dirty[i] = take_map_dirty(map, todo[i]);
		for (guint j = 0; j < todo[i]->len; j++) {
			struct pending *pd =
				&g_array_index(todo[i], struct pending, j);

			sync_file_range(map->fd,
					(off_t)(pd->w->index *
						eng->cfg.window + pd->lo),
					(off_t)pd->len, SYNC_FILE_RANGE_WRITE);
		}
	}
	for (guint i = 0; i < maps->len; i++) {
		rc = sync_pending(maps->pdata[i], todo[i], fd_dirty[i], bytes);
		if (rc && !first)
			first = rc;
		g_array_free(todo[i], TRUE);
		map_unref(maps->pdata[i]);
	}
	if (files)
		*files = maps->len;
	g_free(todo);
	g_free(fd_dirty);
	g_ptr_array_free(maps, TRUE);
	return first;
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
	drop_windows(map, (off_t)round_up((size_t)size, map->eng->cfg.window),
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
