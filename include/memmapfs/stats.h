/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Live statistics: relaxed atomic counters, cheap enough for the hot path,
 * and their rendering as JSON for user.memmapfs.stats. */
#ifndef MEMMAPFS_STATS_H
#define MEMMAPFS_STATS_H

#include <stdint.h>

/* X(name, description): every counter, in the order they are printed. */
#define MMFS_STATS(X)                                                          \
	X(read_requests_mapped, "reads served from a mapped window")           \
	X(read_requests_fd, "reads served with pread (fd path)")               \
	X(reads_zero_copy, "mapped reads replied straight from the window")    \
	X(bytes_released, "cache=single: bytes of backing page cache let go "  \
			  "after a read")                                      \
	X(write_requests_mapped, "writes copied into a mapped window")         \
	X(write_requests_fd, "writes served with pwrite (fd path)")            \
	X(write_pages_filled,                                                  \
	  "parts of mapped writes into pages not yet "                         \
	  "cached, written with pwrite (no fault, no read-around)")            \
	X(bytes_read, "bytes read, both paths")                                \
	X(bytes_written, "bytes written, both paths")                          \
	X(largest_request, "largest read or write request, bytes")             \
	X(windows_mapped, "windows mapped since start")                        \
	X(windows_current, "windows mapped now")                               \
	X(windows_evicted, "windows unmapped to stay within max_mapped")       \
	X(window_grows, "windows extended in place as their file grew")        \
	X(mapped_bytes, "bytes of files mapped now")                           \
	X(max_mapped, "the budget: most bytes mapped at once")                 \
	X(window_size, "the window size")                                      \
	X(budget_fallbacks, "requests served by fd because the budget was "    \
			    "pinned")                                          \
	X(map_failures, "mmap calls that failed (served by fd instead)")       \
	X(sigbus_recovered, "faults on mapped memory turned into errors")      \
	X(truncate_waits, "truncates that waited for replies being copied "    \
			  "from the pages they cut")                           \
	X(files_mapped, "files with a mapping now")                            \
	X(inodes, "files and directories the kernel remembers now")            \
	X(inode_bytes, "daemon memory those take (structures, handles)")       \
	X(file_handles, "1: idle files are reopened by file handle; 0: each "  \
			"file the kernel remembers holds an O_PATH fd")        \
	X(fd_cache_size, "most fds remembered files hold while idle (O_PATH "  \
			 "fds and the mappings' fds)")                         \
	X(fds_held, "fds remembered files hold now (O_PATH and mappings)")     \
	X(fd_cache_hits, "requests whose file's O_PATH fd was open")           \
	X(fd_reopens, "O_PATH fds reopened from a file handle")                \
	X(fd_evictions, "idle O_PATH fds closed to stay within the cache")     \
	X(maps_closed, "idle files' mappings closed to stay within the "       \
		       "cache")                                                \
	X(stale_handles, "files found vanished behind the mount by their "     \
			 "handle")                                             \
	X(export_ids, "1: node ids are file handles, so handles made "         \
		      "through the mount outlive the kernel's cache (NFS "     \
		      "export); 0: they do not")                               \
	X(handle_lookups, "lookups of \".\" and \"..\" by node id (the "       \
			  "kernel opening a handle made through the mount)")   \
	X(direct_write_invalidations,                                          \
	  "O_DIRECT writes whose range was "                                   \
	  "dropped from the kernel's page cache before the reply")             \
	X(invalidation_timeouts, "of those, replies that did not wait for "    \
				 "the kernel to finish (it still does)")       \
	X(msync_calls, "msync(MS_SYNC) calls")                                 \
	X(bytes_synced, "bytes in ranges synced")                              \
	X(sync_passes, "sync passes over all files (periodic and shutdown)")   \
	X(longest_sync_pass_us, "longest sync pass, microseconds")             \
	X(dirty_bytes, "bytes written but not yet synced")                     \
	X(sync_errors, "syncs that failed (reported to fsync or close)")       \
	X(sync_interval_ms, "the periodic sync interval")                      \
	X(cow_files, "mode=cow: files with a private copy")                    \
	X(private_bytes, "mode=cow: private memory in use")                    \
	X(max_private, "mode=cow: the bound on private memory")

struct mmfs_stats {
#define MMFS_STATS_FIELD(name, doc) uint64_t name;
	MMFS_STATS(MMFS_STATS_FIELD)
#undef MMFS_STATS_FIELD
};

static inline void mmfs_stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline void mmfs_stat_sub(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_sub(counter, n, __ATOMIC_RELAXED);
}

static inline void mmfs_stat_set(uint64_t *counter, uint64_t v)
{
	__atomic_store_n(counter, v, __ATOMIC_RELAXED);
}

static inline uint64_t mmfs_stat_get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* Raise *counter to v if v is larger. */
void mmfs_stat_max(uint64_t *counter, uint64_t v);

/* bytes for people, in plain ASCII: "512 bytes", "40.0 KiB", "2.0 GiB". */
const char *mmfs_format_size(uint64_t bytes, char buf[32]);

/* A consistent-enough snapshot as a JSON object (g_free the result). */
char *mmfs_stats_json(const struct mmfs_stats *s);

#endif
