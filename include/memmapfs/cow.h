/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode=cow: a file's changes kept in private copy-on-write memory, never
 * written to the backing file. FUSE-free.
 *
 * The file is mapped MAP_PRIVATE, inside a reservation that leaves room to
 * grow with anonymous memory: untouched pages still read the backing file,
 * written ones become private copies. Every page made private is charged
 * to a budget shared by all files (max_private); a write that would pass
 * it fails with ENOSPC. */
#ifndef MEMMAPFS_COW_H
#define MEMMAPFS_COW_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <glib.h>

/* Private memory shared by all files of a mount. */
struct mmfs_cow_budget {
	uint64_t max;  /* bytes */
	uint64_t used; /* atomic */
};

struct mmfs_cow;

/* A private copy of the file open on fd (O_RDONLY is enough; the fd is
 * dup'ed). Returns NULL with errno set. */
struct mmfs_cow *mmfs_cow_new(int fd, struct mmfs_cow_budget *budget);

/* Free the copy and give its pages back to the budget. */
void mmfs_cow_free(struct mmfs_cow *c);

/* Copy [off, off+size) of the private file into buf: the bytes read (short
 * at its end), or -EIO if the backing file vanished under an untouched
 * page. */
ssize_t mmfs_cow_read(struct mmfs_cow *c, void *buf, size_t size, off_t off);

/* Write buf at off (growing the file): size, or -ENOSPC past the budget
 * (or the room reserved for it), -EIO as mmfs_cow_read(). */
ssize_t mmfs_cow_write(struct mmfs_cow *c, const void *buf, size_t size,
		       off_t off);

/* Set the private file's size: 0 or -ENOSPC / -EINVAL. Bytes past the
 * old end read as zeros. */
int mmfs_cow_truncate(struct mmfs_cow *c, off_t size);

/* Put the private size, block count and times into *st. */
void mmfs_cow_stat(struct mmfs_cow *c, struct stat *st);

off_t mmfs_cow_size(struct mmfs_cow *c);

/* Every private copy of a mount, by file (st_dev, st_ino), for as long as
 * the daemon runs (the kernel forgetting an inode must not lose what was
 * written to it), and the budget they share. */
struct mmfs_cow_registry {
	GMutex lock;
	GHashTable *by_file;
	struct mmfs_cow_budget budget;
};

void mmfs_cow_registry_init(struct mmfs_cow_registry *r, uint64_t max);
/* Free every copy. */
void mmfs_cow_registry_clear(struct mmfs_cow_registry *r);

/* The copy of file (dev, ino), or NULL. */
struct mmfs_cow *mmfs_cow_find(struct mmfs_cow_registry *r, dev_t dev,
			       ino_t ino);

/* The copy of file (dev, ino), made now from path (opened read-only) if
 * it has none (*made set then). 0 and *out, or -errno. */
int mmfs_cow_get(struct mmfs_cow_registry *r, dev_t dev, ino_t ino,
		 const char *path, struct mmfs_cow **out, int *made);

#endif
