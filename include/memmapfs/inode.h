/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inode table: one struct mmfs_inode per backing object the kernel
 * knows, keyed by (st_dev, st_ino), each holding an O_PATH fd through which
 * every later operation reaches the object with *at() calls. */
#ifndef MEMMAPFS_INODE_H
#define MEMMAPFS_INODE_H

#include <stdint.h>
#include <sys/stat.h>

#include <glib.h>

#include "memmapfs/map.h"

struct mmfs_cow;

struct mmfs_inode_key {
	dev_t dev;
	ino_t ino;
};

struct mmfs_inode {
	struct mmfs_inode_key key; /* immutable */
	int fd;			   /* O_PATH|O_NOFOLLOW; immutable, owned */
	mode_t type;		   /* S_IFMT bits; immutable */
	uint64_t nlookup;	   /* kernel references; table lock */
	int pinned;		   /* the root: never freed by forget */

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
	struct mmfs_cow *cow; /* mode=cow: its private copy, once written */
};

struct mmfs_inode_table {
	GMutex lock;	    /* protects by_key and every nlookup */
	GHashTable *by_key; /* struct mmfs_inode_key * -> struct mmfs_inode * */
	struct mmfs_inode *root;
};

/* Hash and equality of struct mmfs_inode_key, for GHashTable. */
guint mmfs_inode_key_hash(gconstpointer key);
gboolean mmfs_inode_key_equal(gconstpointer a, gconstpointer b);

/* Set up the table around root_fd, an O_PATH fd of the SOURCE directory
 * (ownership passes to the table). Returns 0 or -errno (fstat failed). */
int mmfs_inode_table_init(struct mmfs_inode_table *t, int root_fd);

/* Close every fd and free every inode. No other call may be running. */
void mmfs_inode_table_destroy(struct mmfs_inode_table *t);

/* Register one kernel reference to the object behind fd (an O_PATH fd the
 * caller opened) whose attributes are *st. If the object is already in the
 * table, fd is closed and the existing inode returned. Either way its
 * nlookup grows by one. Never fails. */
struct mmfs_inode *mmfs_inode_ref(struct mmfs_inode_table *t, int fd,
				  const struct stat *st);

/* Drop n kernel references; the inode is closed and freed at zero (the
 * pinned root never is). The pointer must not be used afterwards unless
 * the caller holds another reference. */
void mmfs_inode_forget(struct mmfs_inode_table *t, struct mmfs_inode *inode,
		       uint64_t n);

/* Number of inodes in the table, root included. */
unsigned int mmfs_inode_count(struct mmfs_inode_table *t);

#endif
