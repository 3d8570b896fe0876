/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mapping engine: file data served through MAP_SHARED mappings of the
 * backing files, in fixed windows (the aligned ranges [k*W, (k+1)*W)),
 * under one budget of mapped bytes for the whole daemon. Plain C on plain
 * file descriptors: nothing here knows FUSE.
 *
 * Locking: each map has a mutex for its window table and size; the engine
 * has one for its CLOCK ring and budget (taken after a map's, never
 * before). No lock is held across mmap, munmap, fallocate or a copy of
 * file data. */
#ifndef MEMMAPFS_MAP_H
#define MEMMAPFS_MAP_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "memmapfs/stats.h"

enum mmfs_preload {
	MMFS_PRELOAD_NONE,
	MMFS_PRELOAD_WILLNEED, /* madvise(MADV_WILLNEED) on open and map */
	MMFS_PRELOAD_POPULATE, /* MAP_POPULATE: read whole windows in */
};

enum mmfs_advice {
	MMFS_ADVICE_NORMAL,
	MMFS_ADVICE_SEQUENTIAL,
	MMFS_ADVICE_RANDOM,
};

/* The names of the values above, as options spell them; NULL-terminated. */
extern const char *const mmfs_preload_names[];
extern const char *const mmfs_advice_names[];

struct mmfs_map_config {
	uint64_t window;     /* W: bytes, a multiple of the page size */
	uint64_t max_mapped; /* most bytes mapped at once, >= W */
	enum mmfs_preload preload;
	enum mmfs_advice advice;
	int lock; /* mlock windows (warn and carry on if refused) */
};

/* Defaults derived from the machine: W = MMFS_DEFAULT_WINDOW, and a budget
 * of half the RAM, at most 64 GiB, at least 16 windows. */
#define MMFS_DEFAULT_WINDOW (2u << 20)
void mmfs_map_config_defaults(struct mmfs_map_config *cfg);

/* Check a configuration: 0, or -EINVAL with *why set to a static text. */
int mmfs_map_config_check(const struct mmfs_map_config *cfg, const char **why);

struct mmfs_engine;
struct mmfs_map;
struct mmfs_window;

/* A new engine (cfg is copied; stats must outlive the engine), or NULL if
 * the SIGBUS guard cannot be installed (errno set). */
struct mmfs_engine *mmfs_engine_new(const struct mmfs_map_config *cfg,
				    struct mmfs_stats *stats);
/* Free the engine; every map must be closed first. */
void mmfs_engine_free(struct mmfs_engine *eng);

/* The mapping of one backing file, shared by all its opens. Takes
 * ownership of fd (open O_RDWR for a writable map, else O_RDONLY). Maps
 * nothing yet. label names the file in log messages. Returns NULL only if
 * fstat fails (errno set). */
struct mmfs_map *mmfs_map_new(struct mmfs_engine *eng, int fd, int writable,
			      const char *label);

/* The owner is done with the map: drop its reference. Once no sync pass
 * (or mmfs_map_ref() holder) is using the map either,
 * sync what is dirty (if its policy says evict_sync), unmap every window
 * and close the fd. No request may be using the map. */
void mmfs_map_close(struct mmfs_map *map);

/* How one file is served. New maps take periodic = evict_sync = 1 and the
 * engine's advice and preload. */
struct mmfs_map_policy {
	int periodic;	/* its dirty ranges are synced by periodic passes */
	int evict_sync; /* msync a dirty window before unmapping it */
	enum mmfs_advice advice;
	enum mmfs_preload preload;
	int sync_mode; /* opaque to the engine: for the sync layer */
};

void mmfs_map_set_policy(struct mmfs_map *map,
			 const struct mmfs_map_policy *policy);
struct mmfs_map_policy mmfs_map_get_policy(struct mmfs_map *map);

/* Keep map alive past a point where its owner may free it (a reply sent
 * from pinned windows, after which the file may be closed and forgotten
 * on another thread); mmfs_map_unref() lets it go. */
void mmfs_map_ref(struct mmfs_map *map);
void mmfs_map_unref(struct mmfs_map *map);

/* The map's fd (for fsync, fallocate and the like). */
int mmfs_map_fd(const struct mmfs_map *map);
int mmfs_map_writable(const struct mmfs_map *map);

/* Data of [off, off+size) pinned in place, as iovecs into the windows:
 * valid until mmfs_map_unpin(). */
struct mmfs_pinned {
	struct iovec *iov;
	struct mmfs_window **win;
	int count;
	struct mmfs_map *reader; /* set by mmfs_map_pin_read() */
	int epoch;		 /* the reader's truncate epoch */
	size_t bytes;		 /* < size when the file ends first; 0 at EOF */
	struct iovec iov_inline[8];
	struct mmfs_window *win_inline[8];
};

/* Pin the windows holding [off, off+size) clamped to the end of file
 * (the size is re-read when the request reaches past the size last seen).
 * Returns 0, -ENOMEM when the budget is held by pinned windows (serve the
 * request another way), -EIO when off lies in data that vanished because
 * the file was cut short behind our back (until the size is next set
 * through the map, or the file grows back over it), or another -errno.
 * Touching the data may still fault if the file is truncated behind our
 * back: copy it with the guard, or report it with mmfs_map_fault(). */
int mmfs_map_pin(struct mmfs_map *map, off_t off, size_t size,
		 struct mmfs_pinned *p);
void mmfs_map_unpin(struct mmfs_pinned *p);

/* mmfs_map_pin() for a read that replies from the pinned pages: what lies
 * past the end of file once the windows are pinned is left out, so that a
 * truncate through the map either waits for the pins or is seen here. */
int mmfs_map_pin_read(struct mmfs_map *map, off_t off, size_t size,
		      struct mmfs_pinned *p);

/* The data under p has been copied where it is cached again (the mount's
 * own page cache). Once reads have covered a window's data (counted in
 * bytes), the kernel is asked to drop the backing file's pages under the
 * whole window (MADV_PAGEOUT: clean pages that no other process maps go,
 * the rest stay). Call before mmfs_map_unpin(). */
void mmfs_map_pageout_read(struct mmfs_pinned *p);

/* Copy buf into [off, off+size), extending the file first when the write
 * ends past it (blocks are reserved with fallocate, so a full disk is
 * ENOSPC, never SIGBUS). A fault while copying (a hole on a full disk, a
 * file truncated behind our back) is retried with pwrite, which reports
 * the precise errno; so is a write while pinned windows hold the budget.
 * Updates mtime as write(2) would. With MMFS_WRITE_SYNC the written range
 * is msync'ed (MS_SYNC) before returning; otherwise it is recorded as
 * dirty for mmfs_map_sync() / mmfs_engine_sync_all(). Returns size or
 * -errno; -EBADF for a read-only map. */
#define MMFS_WRITE_SYNC 1
ssize_t mmfs_map_write(struct mmfs_map *map, const void *buf, size_t size,
		       off_t off, int flags);

/* bytes of data were written to the file by other means (pwrite on
 * another fd): the next sync of this map must fdatasync it; they count in
 * dirty_bytes until then. */
void mmfs_map_note_fd_write(struct mmfs_map *map, size_t bytes);

/* Sync fd (a handle's own, of map's file) now that bytes were written
 * through it: fsync if full, else fdatasync. 0 or -errno; counted in
 * bytes_synced (or sync_errors) as the engine's own syncs are. */
int mmfs_map_sync_fd(struct mmfs_map *map, int fd, int full, size_t bytes);

/* msync (MS_SYNC) every dirty range of the map, and fdatasync if it was
 * written by pwrite. Adds the bytes synced to *bytes (may be NULL).
 * Returns 0 or the first -errno, which is also kept for
 * mmfs_map_take_error(). Holds no lock while syncing. */
int mmfs_map_sync(struct mmfs_map *map, uint64_t *bytes);

/* One pass over every map with something to sync (only those with the
 * periodic policy when periodic_only), as mmfs_map_sync(): writeback of
 * all ranges is started first, then each is waited for. Returns 0 or the
 * first -errno; *files gets the number of files. */
int mmfs_engine_sync_all(struct mmfs_engine *eng, int periodic_only,
			 uint64_t *bytes, unsigned int *files);

/* The first sync error since the last call (0 if none), cleared: the
 * next fsync or close of the file reports it. */
int mmfs_map_take_error(struct mmfs_map *map);

/* msync as the engine calls it: a test may interpose a double here. */
extern int (*mmfs_msync_hook)(void *addr, size_t len, int flags);

/* A fault happened on pinned data of [off, off+len) (e.g. the kernel
 * could not copy from it). If the map believed that data was there, the
 * file changed behind its back: re-read the size, drop windows past the
 * end, count it and log it. A fault past the size the map already knows
 * (a read that raced a truncate through the mount) is ignored. */
void mmfs_map_fault(struct mmfs_map *map, off_t off, size_t len);

/* Set the file's size (ftruncate) and drop windows wholly past the new
 * end. The size is known to the map first; pinned windows past it are
 * waited for (up to 2 s) before the file is cut, so that no reply being
 * copied from them loses its pages. Returns 0 or -errno. */
int mmfs_map_truncate(struct mmfs_map *map, off_t size);

/* mmfs_map_truncate() through another fd (fd >= 0) or by path (a map
 * that may only read). */
int mmfs_map_truncate_fd(struct mmfs_map *map, off_t size, int fd,
			 const char *path);

/* The file changed size by other means (fallocate, copy_file_range, a
 * write on the fd path): re-read it. An fstat that raced a size set
 * through the map (which is newer) is not learnt from. Returns the size
 * the map now knows, or -errno. */
off_t mmfs_map_refresh_size(struct mmfs_map *map);

/* fstat as the engine calls it for sizes: a test may interpose here. */
extern int (*mmfs_fstat_hook)(int fd, struct stat *st);

/* Size as the map knows it (tracks writes through the map). */
off_t mmfs_map_size(struct mmfs_map *map);

/* Hint that the file is about to be read (preload=willneed): start
 * reading up to max_mapped bytes of it in. */
void mmfs_map_prefetch(struct mmfs_map *map);

/* Number of windows this map has now (for tests). */
unsigned int mmfs_map_window_count(struct mmfs_map *map);

#endif
