/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE adapter: the daemon's state as seen by request handlers and
 * the helpers the namespace (ns.c), file data (io.c), policy and control
 * modules share. Everything here runs inside FUSE request handlers. */
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
	int chown_new;	/* running as root: give new objects to the caller */
	int no_openat2; /* kernel without openat2(2) */
	struct mmfs_stats stats;
	struct mmfs_engine *engine;
	struct mmfs_syncer *syncer; /* started after daemonizing */
	/* kernel cache invalidations (started after daemonizing; NULL
	 * before, or if it could not start) */
	struct mmfs_notifier *notifier;
	char *root_path;	       /* SOURCE as /proc/self/fd shows it */
	struct mmfs_cow_registry cows; /* mode=cow: the private copies */
	/* Open file and directory handles, each with the function that frees
	 * it: when the mount goes away with files open, the kernel sends no
	 * RELEASE, so what is left here at the end is freed by
	 * mmfs_fs_destroy(). */
	GMutex handles_lock;
	GHashTable *open_handles;
	int fd_limit_logged; /* the out-of-fds line was logged (atomic) */
};

/* After a call failed with err (-errno): if it ran out of fds, log so once,
 * with the numbers. */
void mmfs_fs_fd_error(struct mmfs_fs *fs, int err);

/* Track an open handle with the function that frees it, or (free_fn NULL)
 * forget it, for mmfs_fs_destroy. */
void mmfs_fs_track(struct mmfs_fs *fs, void *handle, void (*free_fn)(void *));

/* mode=cow: show a file's private size and times in *st (no-op for files
 * without a private copy, and in other modes). */
void mmfs_fs_fix_attr(struct mmfs_fs *fs, struct stat *st);

/* fstat of an O_PATH fd (symlinks not followed). 0 or -errno. */
int mmfs_fs_stat_fd(int fd, struct stat *st);

/* The mount's mode, as the request handlers ask it. */
/* mode=rw: changes go to SOURCE. */
static inline int mmfs_fs_writes_source(const struct mmfs_fs *fs)
{
	return fs->cfg->mode == MMFS_MODE_RW;
}

/* mode=cow: file changes go to private copies, SOURCE stays as it is. */
static inline int mmfs_fs_is_cow(const struct mmfs_fs *fs)
{
	return fs->cfg->mode == MMFS_MODE_COW;
}

/* mode=ro: every change is refused with EROFS. */
static inline int mmfs_fs_is_read_only(const struct mmfs_fs *fs)
{
	return fs->cfg->mode == MMFS_MODE_RO;
}

/* EROFS if the mount's mode forbids changing the namespace or attributes
 * (ro, cow), else 0. */
int mmfs_fs_refuse_change(struct mmfs_fs *fs);

/* For a request that would make such a change: 1 when the mode forbids it
 * (EROFS is then replied), else 0. */
int mmfs_fs_refused(fuse_req_t req);

/* Set up *fs for SOURCE's O_PATH directory fd (ownership passes). */
int mmfs_fs_init(struct mmfs_fs *fs, const struct mmfs_config *cfg,
		 int source_fd);
void mmfs_fs_destroy(struct mmfs_fs *fs);

/* Say (once, at start, where the log goes by then) how remembered files
 * hold their fds and how long handles made through the mount last. */
void mmfs_fs_log_fd_scheme(const struct mmfs_fs *fs);

/* --- shared by fs.c and io.c --- */

static inline struct mmfs_fs *mmfs_fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The inode behind a FUSE node id (FUSE_ROOT_ID is the root), or NULL if
 * the table does not know it. */
struct mmfs_inode *mmfs_fs_inode(fuse_req_t req, fuse_ino_t ino);
struct mmfs_inode *mmfs_fs_inode_of(struct mmfs_fs *fs, fuse_ino_t ino);

/* The inode behind ino, with a use of its O_PATH fd taken (reopened from
 * its handle if it had been closed): returns the fd, valid until
 * mmfs_inode_unuse(&fs->inodes, inode) (with fs taken before the reply:
 * the request is gone after it), or -errno for the reply (-ENOENT: the
 * file vanished behind the mount). */
int mmfs_fs_use(fuse_req_t req, fuse_ino_t ino, struct mmfs_inode **inode);

/* mmfs_fs_use(), which on failure replies with the error (the request is
 * then done) and returns -1. */
int mmfs_fs_use_or_reply(fuse_req_t req, fuse_ino_t ino,
			 struct mmfs_inode **inode);

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
