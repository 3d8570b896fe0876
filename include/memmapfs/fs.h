/* The FUSE adapter: the daemon's state as seen by request handlers, the
 * operations table, and the helpers fs.c (namespace) and io.c (file data)
 * share. Everything here runs inside FUSE request handlers. */
#ifndef MEMMAPFS_FS_H
#define MEMMAPFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "memmapfs/config.h"
#include "memmapfs/cow.h"
#include "memmapfs/inode.h"
#include "memmapfs/map.h"
#include "memmapfs/notify.h"
#include "memmapfs/stats.h"
#include "memmapfs/sync.h"

struct mmfs_fs {
	const struct mmfs_config *cfg;
	struct mmfs_inode_table inodes;
	uint64_t own_mnt_id; /* mount ID of our own mount; 0 = unknown */
	int chown_new;	     /* running as root: give new objects to the caller */
	int no_openat2;	     /* kernel without openat2(2) */
	struct mmfs_stats stats;
	struct mmfs_engine *engine;
	struct mmfs_syncer *syncer; /* started after daemonizing */
	/* kernel cache invalidations (started after daemonizing; NULL
	 * before, or if it could not start) */
	struct mmfs_notifier *notifier;
	char *root_path;	    /* SOURCE as /proc/self/fd shows it */
	/* mode=cow: every private copy, by (st_dev, st_ino), for as long as
	 * the daemon runs (the kernel forgetting an inode must not lose
	 * what was written to it) */
	GMutex cow_lock;
	GHashTable *cows;
	struct mmfs_cow_budget cow_budget;
	/* Open file and directory handles (as sets): when the mount goes away
	 * with files open, the kernel sends no RELEASE, so what is left here
	 * at the end is freed by mmfs_fs_destroy(). */
	GMutex handles_lock;
	GHashTable *open_files, *open_dirs;
};

/* Track an open handle (set = 1) or forget it (0) for mmfs_fs_destroy. */
void mmfs_fs_track(struct mmfs_fs *fs, GHashTable *set, void *handle,
		   int track);

/* EROFS if the mount's mode forbids changing the namespace or attributes
 * (ro, cow), else 0. */
int mmfs_fs_refuse_change(struct mmfs_fs *fs);

/* Set up *fs for SOURCE's O_PATH directory fd (ownership passes). */
int mmfs_fs_init(struct mmfs_fs *fs, const struct mmfs_config *cfg,
		 int source_fd);
void mmfs_fs_destroy(struct mmfs_fs *fs);

/* The one table of every operation memmapfs implements. */
const struct fuse_lowlevel_ops *mmfs_fs_ops(void);

/* --- shared by fs.c and io.c --- */

static inline struct mmfs_fs *mmfs_fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The inode behind a FUSE node id (FUSE_ROOT_ID is the root). */
struct mmfs_inode *mmfs_fs_inode(fuse_req_t req, fuse_ino_t ino);

/* "/proc/self/fd/N": how an O_PATH fd is reopened for I/O or used with
 * calls that have no *at()/AT_EMPTY_PATH form. */
#define MMFS_PROC_PATH_MAX 32
void mmfs_proc_path(char buf[MMFS_PROC_PATH_MAX], int fd);

/* Register a new kernel reference for the object behind the O_PATH fd
 * (ownership passes) and fill *e for the reply. Returns 0 or -errno (the
 * fd is closed on error). */
int mmfs_fs_make_entry(struct mmfs_fs *fs, int fd, struct fuse_entry_param *e);

/* Give an object the daemon just created (O_PATH or regular fd) to the
 * requesting user, as a native filesystem would have. parent_fd is the
 * directory it was created in; mode the requested mode. 0 or -errno. */
int mmfs_fs_own_new(fuse_req_t req, int parent_fd, int fd, mode_t mode);

#endif
