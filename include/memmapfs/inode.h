/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inode table: one struct mmfs_inode per backing object the kernel
 * knows, keyed by (st_dev, st_ino). Every operation reaches the object with
 * *at() calls on an O_PATH fd; those fds live in a bounded cache. Where the
 * backing filesystem gives file handles (name_to_handle_at), an inode keeps
 * its handle, an idle inode's fd may be closed to stay within the cache's
 * size, and the next request reopens it with open_by_handle_at. Without
 * handles, every remembered inode keeps its fd, as before. */
#ifndef MEMMAPFS_INODE_H
#define MEMMAPFS_INODE_H

#include <stdint.h>
#include <sys/stat.h>

#include <glib.h>

#include "memmapfs/map.h"
#include "memmapfs/stats.h"

struct mmfs_cow;

struct mmfs_inode_key {
	dev_t dev;
	ino_t ino;
};

struct mmfs_inode {
	struct mmfs_inode_key key; /* immutable */
	uint64_t nlookup;	   /* kernel references; table lock */
	/* The O_PATH|O_NOFOLLOW fd, or -1 while evicted. Table lock; stable
	 * (and readable without the lock) while the caller holds a use. */
	int fd;
	unsigned int users; /* uses held (requests, open handles); table lock */
	/* idle inodes with an fd and a handle, most recently used first;
	 * table lock */
	struct mmfs_inode *lru_prev, *lru_next;
	mode_t type;		  /* S_IFMT bits; immutable */
	unsigned char pinned;	  /* the root: never freed, never evicted */
	unsigned char hashed;	  /* in by_key (not replaced by a newer one) */
	unsigned char handle_len; /* bytes of handle[]; 0 = no handle */
	int handle_type;

	GMutex lock; /* protects the fields below */
	/* What the backing file looked like when the last handle closed, so
	 * that the next open keeps the kernel's page cache only if nobody
	 * changed the file behind the mount meanwhile. */
	int cache_valid;
	struct timespec cache_mtime;
	off_t cache_size;
	/* The file's mapping, shared by all its opens and kept (with the
	 * windows the budget allows) until the kernel forgets the inode. */
	struct mmfs_map *map;
	int map_refused;   /* mmap is not possible for this file */
	int pseudo;	   /* on procfs, sysfs...: sizes lie, use direct I/O */
	int fs_checked;	   /* pseudo was looked into */
	int sync_override; /* -1, or the mode set by user.memmapfs.sync */
	struct mmfs_cow *cow;	/* mode=cow: its private copy, once written */
	unsigned char handle[]; /* the file handle's bytes; immutable */
};

struct mmfs_inode_table {
	GMutex lock;	    /* protects by_key, nlookup, fds and the LRU */
	GHashTable *by_key; /* struct mmfs_inode_key * -> struct mmfs_inode * */
	struct mmfs_inode *root;
	struct mmfs_inode *lru_head, *lru_tail;
	/* inodes replaced in by_key by a newer object of the same number,
	 * still referenced by the kernel (a set) */
	GHashTable *replaced;
	unsigned int fds;    /* O_PATH fds inodes hold now */
	unsigned int fd_cap; /* evict idle fds above this many */
	int handles;	     /* 1 = file handles in use */
	int mount_fd;	     /* SOURCE opened for open_by_handle_at, or -1 */
	int handle_error;    /* why not (errno), when handles is 0 */
	struct mmfs_stats *stats; /* counters (never NULL after init) */
	struct mmfs_stats own_stats;
};

/* Hash and equality of struct mmfs_inode_key, for GHashTable. */
guint mmfs_inode_key_hash(gconstpointer key);
gboolean mmfs_inode_key_equal(gconstpointer a, gconstpointer b);

/* Set up the table around root_fd, an O_PATH fd of the SOURCE directory
 * (ownership passes to the table). fd_cap: how many O_PATH fds inodes may
 * hold at once when file handles work (at least 16 is used); handles:
 * whether to try them at all. Whether they work is found out here (SOURCE's
 * filesystem must export them and the daemon may need CAP_DAC_READ_SEARCH):
 * t->handles says, t->handle_error says why not. stats (may be NULL)
 * receives the inode and fd cache counters. Returns 0 or -errno (fstat
 * failed). */
int mmfs_inode_table_init(struct mmfs_inode_table *t, int root_fd,
			  unsigned int fd_cap, int handles,
			  struct mmfs_stats *stats);

/* Close every fd and free every inode. No other call may be running. */
void mmfs_inode_table_destroy(struct mmfs_inode_table *t);

/* Register one kernel reference to the object behind fd (an O_PATH fd the
 * caller opened) whose attributes are *st. If the object is already in the
 * table, fd is closed (or, if the inode's own was evicted, kept as its fd)
 * and the existing inode returned. An inode of the same (st_dev, st_ino)
 * whose handle differs is another, vanished object: it leaves the table
 * (the kernel's references to it still work, and fail as a vanished file
 * does) and a new inode is made. Either way its nlookup grows by one.
 * Never fails. */
struct mmfs_inode *mmfs_inode_ref(struct mmfs_inode_table *t, int fd,
				  const struct stat *st);

/* Drop n kernel references; the inode is freed when none are left and no
 * use is held (the pinned root never is). The pointer must not be used
 * afterwards unless the caller holds another reference or a use. */
void mmfs_inode_forget(struct mmfs_inode_table *t, struct mmfs_inode *inode,
		       uint64_t n);

/* Take a use of the inode's O_PATH fd: reopened from its handle if it was
 * evicted. Returns the fd (valid until mmfs_inode_unuse) or -errno:
 * -ENOENT when the object vanished behind the mount (its handle is stale),
 * -EMFILE/-ENFILE when no fd could be had even after evicting idle ones. */
int mmfs_inode_use(struct mmfs_inode_table *t, struct mmfs_inode *inode);

/* Give back a use taken by a successful mmfs_inode_use. The inode may be
 * freed by this call (if the kernel forgot it meanwhile). */
void mmfs_inode_unuse(struct mmfs_inode_table *t, struct mmfs_inode *inode);

/* Give the inode (on which the caller holds a use) its mapping, whose fd
 * then counts among the fds the cache holds: when the inode is evicted
 * idle, the map is closed with its O_PATH fd. */
void mmfs_inode_set_map(struct mmfs_inode_table *t, struct mmfs_inode *inode,
			struct mmfs_map *map);

/* Close idle fds until at most keep are held (after EMFILE, say). Returns
 * how many were closed. */
unsigned int mmfs_inode_trim(struct mmfs_inode_table *t, unsigned int keep);

/* Number of inodes in the table, root included. */
unsigned int mmfs_inode_count(struct mmfs_inode_table *t);

/* Bytes of daemon memory one remembered inode costs, for stats. */
size_t mmfs_inode_footprint(const struct mmfs_inode *inode);

#endif
