/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mapping engine's insides, shared by its two files: map.c (windows,
 * the budget, pins, reads and writes) and map_sync.c (the sync mechanism:
 * dirty ranges, error notes, the two-phase pass). Nothing outside the
 * engine includes this; the rest of memmapfs sees map.h. */
#ifndef MEMMAPFS_MAP_IMPL_H
#define MEMMAPFS_MAP_IMPL_H

#include <glib.h>

#include "memmapfs/map.h"

struct fault_log {
	GMutex lock;
	gint64 last;	    /* monotonic µs of the last fault logged */
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
	int lock_refused;    /* mlock failed once: do not try again */
	int pageout_refused; /* MADV_PAGEOUT failed once: warned */
	GQueue dirty_maps;   /* maps with something to sync; engine lock */
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
	size_t read_acc;  /* atomic: cache=single, bytes read since the
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
	size_t fd_dirty;    /* bytes written by pwrite since synced; map lock */
	int sync_error;	    /* first failed sync, for the next fsync/close */
	GList engine_link;  /* in eng->dirty_maps; engine lock */
	int on_engine_dirty;	       /* engine lock */
	struct mmfs_map_policy policy; /* map lock */
};

/* References on a map: its owner's, and sync passes' at work on it. The
 * last one gone destroys the map. */
void mmfs_eng_map_ref(struct mmfs_map *map);
void mmfs_eng_map_unref(struct mmfs_map *map);

/* msync [addr, addr+len), widened to whole pages. 0 or -errno. */
int mmfs_eng_sync_range(struct mmfs_engine *eng, char *addr, size_t len);
/* fdatasync(fd) (fsync if full) for len bytes written by pwrite: 0 or
 * -errno, counted in bytes_synced (or sync_errors). */
int mmfs_eng_sync_fd(struct mmfs_engine *eng, int fd, int full, size_t len);

/* Remember the first sync failure of a map until someone reports it. */
void mmfs_eng_note_sync_error(struct mmfs_map *map, int err);

/* Put map on the engine's list of maps with something to sync. */
void mmfs_eng_note_dirty(struct mmfs_map *map);

/* Window w (pinned by the caller) has new data in [lo, hi). */
void mmfs_eng_mark_dirty(struct mmfs_map *map, struct mmfs_window *w, size_t lo,
			 size_t hi);

/* Take w's dirty range (map lock held): returns its length and *lo. The
 * caller takes it off dirty_bytes once it is synced (or dropped). */
size_t mmfs_eng_take_dirty(struct mmfs_map *map, struct mmfs_window *w,
			   size_t *lo);

#endif
