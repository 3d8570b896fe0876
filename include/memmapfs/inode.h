/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inode table: one struct mmfs_inode per backing object the kernel
 * knows, found by its node id (the number the kernel calls it by). Every
 * operation reaches the object with *at() calls on an O_PATH fd; those fds
 * live in a bounded cache. Where the backing filesystem gives file handles
 * (name_to_handle_at), an inode keeps its handle, an idle inode's fd may be
 * closed to stay within the cache's size, and the next request reopens it
 * with open_by_handle_at. Without handles, every remembered inode keeps its
 * fd, as before.
 *
 * Node ids. Where the handles are the classic 8-byte inode number and
 * generation (ext2/3/4), an object's node id is its handle: the id names
 * the object for good, so that a handle the kernel built from it (through
 * the mount, for NFS or open_by_handle_at) can be opened again after the
 * kernel and the daemon forgot the inode ("export ids"). Otherwise ids are
 * handed out from a counter and an object is found again by (st_dev,
 * st_ino), checked against its handle. The root is always 1. */
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

/* the root's node id (FUSE_ROOT_ID, without the FUSE header here) */
#define MMFS_INODE_ROOT_ID 1

struct mmfs_inode {
	uint64_t id; /* node id; immutable; first, as by_id's key */
	struct mmfs_inode_key key; /* immutable */
	uint64_t nlookup;	   /* kernel references; table lock */
	/* The O_PATH|O_NOFOLLOW fd, or -1 while evicted. Table lock; stable
	 * (and readable without the lock) while the caller holds a use. */
	int fd;
	unsigned int users; /* uses held (requests, open handles); table lock */
	/* idle inodes with an fd or a map to give up, most recently used
	 * first; table lock */
	struct mmfs_inode *lru_prev, *lru_next;
	mode_t type;		   /* S_IFMT bits; immutable */
	unsigned char pinned;	   /* the root: never freed, never evicted */
	unsigned char keyed;	   /* in by_key; table lock */
	unsigned char handle_len;  /* bytes of handle[]; 0 = no handle */
	unsigned char handle_type; /* immutable */

	GMutex lock; /* protects the fields below */
	/* What the backing file looked like when the last handle closed, so
	 * that the next open keeps the kernel's page cache only if nobody
	 * changed the file behind the mount meanwhile. */
	unsigned char cache_valid;
	unsigned char map_refused; /* mmap is not possible for this file */
	unsigned char pseudo; /* on procfs, sysfs...: sizes lie, direct I/O */
	unsigned char fs_checked; /* pseudo was looked into */
	signed char
	    sync_override; /* -1, or the mode set by user.memmapfs.sync */
	struct timespec cache_mtime;
	off_t cache_size;
	/* The file's mapping, shared by all its opens and kept (with the
	 * windows the budget allows) until the kernel forgets the inode. */
	struct mmfs_map *map;
	struct mmfs_cow *cow;	/* mode=cow: its private copy, once written */
	unsigned char handle[]; /* the file handle's bytes; immutable */
};

struct mmfs_inode_table {
	GMutex lock; /* protects by_id, by_key, nlookup, fds and the LRU */
	/* every inode, the root included (as 1), by node id: a set of
	 * inodes keyed by their first field (the root is also found by its
	 * handle id, root_handle_id) */
	GHashTable *by_id;
	/* inodes whose id is not their handle, by (st_dev, st_ino):
	 * struct mmfs_inode_key * -> struct mmfs_inode * */
	GHashTable *by_key;
	struct mmfs_inode *root;
	struct mmfs_inode *lru_head, *lru_tail;
	uint64_t next_id;	 /* the last counter id handed out */
	uint64_t root_handle_id; /* export ids: the root's handle id */
	unsigned int fds;	 /* O_PATH fds inodes hold now */
	unsigned int fd_cap;	 /* evict idle fds above this many */
	int handles;		 /* 1 = file handles in use */
	int export_ids;		 /* 1 = node ids are handles (see above) */
	/* 1 = SOURCE is the root of its filesystem, so that any object a
	 * handle opens is inside it; set by the caller after init */
	int whole_fs;
	int mount_fd;	  /* SOURCE opened for open_by_handle_at, or -1 */
	int handle_error; /* why not (errno), when handles is 0 */
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
 * and the existing inode returned. With counter ids, an inode of the same
 * (st_dev, st_ino) whose handle differs is another, vanished object: it is
 * no longer found by key (the kernel's references to it still work, and
 * fail as a vanished file does) and a new inode is made; export ids of two
 * such objects differ anyway. Either way its nlookup grows by one. Never
 * fails. */
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

/* Find the inode of a node id and take a use of it, as mmfs_inode_use
 * does: the fd or -errno, *inode set on success. -ESTALE for an id the
 * table does not know. */
int mmfs_inode_use_id(struct mmfs_inode_table *t, uint64_t id,
		      struct mmfs_inode **inode);

/* The inode of a node id, or NULL. Without a use or a kernel reference the
 * caller holds, the inode may be freed at any moment. */
struct mmfs_inode *mmfs_inode_find(struct mmfs_inode_table *t, uint64_t id);

/* The generation to give the kernel with the inode's node id: the handle's
 * for export ids, else 0. */
uint32_t mmfs_inode_generation(const struct mmfs_inode_table *t,
			       const struct mmfs_inode *inode);

/* Open the object a node id names again, for an id the table forgot (the
 * kernel decoding a handle made through the mount): an O_PATH fd, to pass
 * to mmfs_inode_ref, or -errno. -ESTALE unless ids are export ids, the
 * object still exists and is inside SOURCE: a directory is checked by
 * walking up to SOURCE's root, any other object only when SOURCE is its
 * filesystem's root (t->whole_fs). */
int mmfs_inode_open_id(struct mmfs_inode_table *t, uint64_t id);

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
