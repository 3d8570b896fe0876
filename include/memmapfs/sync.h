/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sync policy: when data written through the mappings is made durable.
 * FUSE-free; the adapter calls these hooks from its write, flush and fsync
 * handlers, and the periodic mode runs one GThread.
 *
 *   immediate  a write is acknowledged only after msync(MS_SYNC) of the
 *              range it dirtied
 *   periodic   every interval, one pass syncs the dirty ranges of all files
 *   close      a handle that wrote syncs its file's dirty ranges on close
 *   never      no msync of our own while running (kernel writeback)
 *
 * In every mode fsync/fdatasync are honoured, O_SYNC/O_DSYNC handles
 * behave as immediate, and a clean shutdown syncs everything. */
#ifndef MEMMAPFS_SYNC_H
#define MEMMAPFS_SYNC_H

#include <stdint.h>

#include "memmapfs/map.h"
#include "memmapfs/stats.h"

enum mmfs_sync_mode {
	MMFS_SYNC_IMMEDIATE,
	MMFS_SYNC_PERIODIC,
	MMFS_SYNC_CLOSE,
	MMFS_SYNC_NEVER,
};

#define MMFS_DEFAULT_SYNC	   MMFS_SYNC_PERIODIC
#define MMFS_DEFAULT_SYNC_INTERVAL 5.0 /* seconds */

/* The modes' names, indexed by mode, NULL-terminated. */
extern const char *const mmfs_sync_mode_names[];
/* "immediate", "periodic", "close", "never". */
const char *mmfs_sync_mode_name(enum mmfs_sync_mode mode);
/* 0 and *mode, or -EINVAL for an unknown name. */
int mmfs_sync_mode_parse(const char *name, enum mmfs_sync_mode *mode);

/* A user.memmapfs.sync value (bytes, maybe not NUL-terminated): a mode
 * name, or "default" (*deflt set). Surrounding blanks are ignored. 0 or
 * -EINVAL. */
int mmfs_sync_parse_value(const char *value, size_t size,
			  enum mmfs_sync_mode *mode, int *deflt);

struct mmfs_syncer;

/* A syncer for eng whose default mode is mode, with the thread that runs
 * a pass over the files in periodic mode every interval seconds (create it
 * after daemonizing: fork keeps no threads). stats must outlive it. Each
 * file's own mode is set on its map with mmfs_sync_configure(). */
struct mmfs_syncer *mmfs_syncer_new(struct mmfs_engine *eng,
				    enum mmfs_sync_mode mode, double interval,
				    struct mmfs_stats *stats);

/* Serve map's file in mode from now on (what eviction and the passes do
 * with it; what its writes and closes do). */
void mmfs_sync_configure(struct mmfs_syncer *s, struct mmfs_map *map,
			 enum mmfs_sync_mode mode);

/* The file's mode (the default for a NULL map). */
enum mmfs_sync_mode mmfs_sync_mode_of(const struct mmfs_syncer *s,
				      struct mmfs_map *map);

/* Run fn(arg) at the start of every periodic pass (not the one at
 * shutdown): with the FUSE writeback cache, that hands the kernel's dirty
 * pages to the daemon first. Set it before data is written. */
void mmfs_syncer_set_prepass(struct mmfs_syncer *s, void (*fn)(void *),
			     void *arg);

/* Change the default mode (for files opened from now on). */
void mmfs_syncer_set_default(struct mmfs_syncer *s, enum mmfs_sync_mode mode);

/* Stop the thread (waiting for a pass under way) and run a final pass over
 * everything dirty, in every mode. Returns 0 or the first -errno; *bytes
 * and *files say how much was synced. Then free the syncer. */
int mmfs_syncer_shutdown(struct mmfs_syncer *s, uint64_t *bytes,
			 unsigned int *files);

enum mmfs_sync_mode mmfs_syncer_mode(const struct mmfs_syncer *s);

/* One pass over every dirty file in periodic mode now (what the thread
 * does). */
int mmfs_sync_pass(struct mmfs_syncer *s);

/* The mmfs_map_write() flags for writing to map's file through a handle
 * opened with open_flags. */
int mmfs_sync_write_flags(const struct mmfs_syncer *s, struct mmfs_map *map,
			  int open_flags);

/* After a write by pwrite on a handle's fd (map may be NULL): immediate or
 * O_SYNC/O_DSYNC handles sync now, others note the file as dirty.
 * Returns 0 or -errno. */
int mmfs_sync_after_fd_write(struct mmfs_syncer *s, struct mmfs_map *map,
			     int fd, int open_flags, size_t bytes);

/* Closing (FUSE flush of) a handle: in close mode, a handle that wrote
 * syncs its file first. In every mode, a sync error noted since the last
 * report is returned here. map may be NULL (then fd is synced). */
int mmfs_sync_on_close(struct mmfs_syncer *s, struct mmfs_map *map, int fd,
		       int wrote);

/* fsync(2)/fdatasync(2) of a file: msync its dirty ranges, then
 * fsync/fdatasync fd. Returns 0, or the first error including one noted
 * earlier by a pass or an eviction. */
int mmfs_sync_fsync(struct mmfs_syncer *s, struct mmfs_map *map, int fd,
		    int datasync);

#endif
