// SPDX-License-Identifier: GPL-2.0-or-later
/* The file-data half of the FUSE adapter: open handles and the requests
 * that move data. A handle either uses its file's mapping (the normal
 * case: reads reply straight from pinned windows, writes copy once into
 * them) or, where mapping does not fit (O_DIRECT, files below mmap_min,
 * files that cannot be mapped), plain pread/pwrite on its own fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "memmapfs/lock.h"
#include "memmapfs/io.h"
#include "memmapfs/log.h"
#include "memmapfs/policy.h"

struct mmfs_handle {
	struct mmfs_fs *fs;
	int fd;	   /* the backing file, opened as the caller asked */
	int flags; /* the caller's open flags */
	struct mmfs_inode *inode;
	/* The inode's mapping: for a regular file it tracks what needs
	 * syncing even when data goes by fd. NULL if it could not be had. */
	struct mmfs_map *map;
	int mapped; /* data through the map (else pread/pwrite on fd) */
	int wrote;  /* for sync=close */
	struct mmfs_policy pol; /* as resolved at open */
};

static struct mmfs_handle *handle_of(const struct fuse_file_info *fi)
{
	return (struct mmfs_handle *)(uintptr_t)fi->fh;
}

int mmfs_handle_fd(const struct fuse_file_info *fi)
{
	return fi->fh ? handle_of(fi)->fd : -1;
}

/* Flags for the backing open: never follow a symlink (the kernel already
 * resolved the path), never O_DIRECT (its alignment rules would apply to
 * libfuse's buffers, not the application's), always close-on-exec. */
static int backing_flags(int flags)
{
	return (flags & ~(O_NOFOLLOW | O_DIRECT | O_CREAT | O_EXCL)) |
	       O_CLOEXEC;
}

/* Whether the kernel may keep its page cache of the file from earlier
 * opens: only if the backing file still has the size and mtime it had at
 * the last open (close-to-open consistency, as NFS). The stamp is taken
 * at open, not at release: FUSE sends RELEASE after close() has returned,
 * so a stamp taken then could already include a change made behind the
 * mount. A file written through the mount changes its mtime too, so its
 * next open starts a fresh cache (filled from our windows, not the disk). */
static int keep_cache_and_restamp(struct mmfs_inode *inode,
				  const struct stat *st)
{
	int keep;

	mmfs_lock(&inode->lock);
	keep = inode->cache_valid && inode->cache_size == st->st_size &&
	       inode->cache_mtime.tv_sec == st->st_mtim.tv_sec &&
	       inode->cache_mtime.tv_nsec == st->st_mtim.tv_nsec;
	inode->cache_valid = st->st_mode != 0;
	inode->cache_size = st->st_size;
	inode->cache_mtime = st->st_mtim;
	mmfs_unlock(&inode->lock);
	return keep;
}

static struct mmfs_map *map_of(struct mmfs_inode *inode)
{
	return g_atomic_pointer_get(&inode->map);
}

/* Files of pseudo filesystems (procfs, sysfs, ...) report size 0 or 4096
 * whatever they hold and cannot be mapped: they are read with pread, and
 * with direct_io, or the kernel would trust the size and never ask. */
static int on_pseudo_fs(int fd)
{
	static const unsigned long magic[] = {
	    PROC_SUPER_MAGIC,	 SYSFS_MAGIC,
	    DEBUGFS_MAGIC,	 TRACEFS_MAGIC,
	    SECURITYFS_MAGIC,	 CGROUP_SUPER_MAGIC,
	    CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,
	    EFIVARFS_MAGIC,	 0x62656570 /* configfs */,
	    PSTOREFS_MAGIC,
	};
	struct statfs sf;

	if (fstatfs(fd, &sf) == -1)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(magic); i++)
		if ((unsigned long)sf.f_type == magic[i])
			return 1;
	return 0;
}

/* The inode's mapping, made on first use; NULL if it cannot have one. The
 * caller holds a use of the inode (an open handle does). */
static struct mmfs_map *get_map(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	char path[MMFS_PROC_PATH_MAX], label[64];
	struct mmfs_map *map;
	int fd, writable = 1;

	mmfs_lock(&inode->lock);
	if (!inode->map && !inode->map_refused) {
		mmfs_proc_path(path, inode->fd);
		/* read/write whenever we may, so one mapping serves every
		 * open; a file we may only read gets a read-only map and
		 * its writers use the fd path. ro and cow never write. */
		fd = mmfs_fs_writes_source(fs) ? open(path, O_RDWR | O_CLOEXEC)
					       : -1;
		if (fd == -1) {
			writable = 0;
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		snprintf(label, sizeof(label), "inode %llu",
			 (unsigned long long)inode->key.ino);
		if (fd >= 0) {
			map = mmfs_map_new(fs->engine, fd, writable, label);
			if (map)
				mmfs_inode_set_map(&fs->inodes, inode, map);
			else
				close(fd);
		} else {
			mmfs_fs_fd_error(fs, -errno);
		}
	}
	map = inode->map;
	mmfs_unlock(&inode->lock);
	return map;
}

/* mmap failed for reasons that will not go away (the filesystem cannot
 * map, say): serve this file by fd from now on. */
static void refuse_map(struct mmfs_handle *h, int err)
{
	if (err == -ENODEV || err == -EACCES || err == -EPERM ||
	    err == -EINVAL) {
		mmfs_lock(&h->inode->lock);
		if (!h->inode->map_refused)
			mmfs_log(LOG_WARNING,
				 "inode %llu cannot be mapped (%s): served "
				 "with read/write from now on",
				 (unsigned long long)h->inode->key.ino,
				 strerror(-err));
		h->inode->map_refused = 1;
		mmfs_unlock(&h->inode->lock);
	}
}

/* ---- mode=cow ---- */

static struct mmfs_cow *cow_of(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	struct mmfs_cow *c = g_atomic_pointer_get(&inode->cow);

	if (c || !mmfs_fs_is_cow(fs))
		return c;
	c = mmfs_cow_find(&fs->cows, inode->key.dev, inode->key.ino);
	if (c)
		g_atomic_pointer_set(&inode->cow, c);
	return c;
}

/* The file's private copy, made now if it has none. */
static struct mmfs_cow *cow_get(struct mmfs_fs *fs, struct mmfs_inode *inode,
				int *err)
{
	char path[MMFS_PROC_PATH_MAX];
	struct mmfs_cow *c = cow_of(fs, inode);
	int made;

	if (c)
		return c;
	mmfs_proc_path(path, inode->fd);
	*err = mmfs_cow_get(&fs->cows, inode->key.dev, inode->key.ino, path, &c,
			    &made);
	if (made)
		mmfs_stat_add(&fs->stats.cow_files, 1);
	if (c)
		g_atomic_pointer_set(&inode->cow, c);
	return c;
}

int mmfs_io_cow_touch(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	int err = 0;
	struct mmfs_cow *c = cow_get(fs, inode, &err);

	if (!c)
		return err;
	return mmfs_cow_truncate(c, mmfs_cow_size(c)); /* sets mtime */
}

/* The handle's map, made when data first moves (a file only created or
 * stat'ed and closed costs no second fd). Gets the handle's policy. */
static struct mmfs_map *handle_map(struct mmfs_fs *fs, struct mmfs_handle *h)
{
	struct mmfs_map *map = g_atomic_pointer_get(&h->map);

	if (map)
		return map;
	map = get_map(fs, h->inode);
	if (map) {
		mmfs_policy_give(fs, map, &h->pol);
		g_atomic_pointer_set(&h->map, map);
	}
	return map;
}

/* Whether a regular file's handle h goes through the mapping; an existing
 * map takes the handle's policy now (a rename may have changed it), and a
 * hint that acts at open gets one at once. */
static void choose_data_path(struct mmfs_fs *fs, struct mmfs_handle *h,
			     const struct stat *st)
{
	struct mmfs_inode *inode = h->inode;

	mmfs_lock(&inode->lock);
	if (!inode->fs_checked) {
		inode->fs_checked = 1;
		if (on_pseudo_fs(h->fd))
			inode->pseudo = inode->map_refused = 1;
	}
	mmfs_unlock(&inode->lock);
	h->mapped = h->pol.mmap && !(h->flags & O_DIRECT) &&
		    !inode->map_refused &&
		    (uint64_t)st->st_size >= fs->cfg->mmap_min;
	if (map_of(inode) || (h->mapped && st->st_size > 0 &&
			      h->pol.preload == MMFS_PRELOAD_WILLNEED))
		handle_map(fs, h);
	if (h->map && h->mapped && h->pol.preload == MMFS_PRELOAD_WILLNEED)
		mmfs_map_prefetch(h->map);
}

/* What the kernel is told about caching the file's pages and flushing on
 * close, for handle h. */
static void set_kernel_cache(struct mmfs_fs *fs, const struct mmfs_handle *h,
			     const struct stat *st, struct fuse_file_info *fi)
{
	fi->keep_cache = keep_cache_and_restamp(h->inode, st);
	if (fs->cfg->cache == MMFS_CACHE_KEEP)
		fi->keep_cache = 1;
	if (fs->cfg->cache == MMFS_CACHE_NONE) {
		fi->direct_io = 1;
		fi->keep_cache = 0;
	}
	/* Under the writeback cache the kernel acknowledges writes before
	 * we see them: files whose promise is immediate bypass it. */
	if (fs->cfg->writeback && h->pol.sync == MMFS_SYNC_IMMEDIATE)
		fi->direct_io = 1;
	if (h->inode->pseudo) {
		fi->direct_io = 1;
		fi->keep_cache = 0;
	}
	/* A handle that cannot write has nothing for flush to sync, and a
	 * sync error is left for the writers' close or fsync (a native
	 * close(2) of a read-only fd reports none either): its close costs
	 * no round trip. */
	if ((fi->flags & O_ACCMODE) == O_RDONLY || !mmfs_fs_writes_source(fs))
		fi->noflush = 1;
}

/* A handle for fd on inode, which takes over the caller's use of the
 * inode (given back when the handle is freed). NULL: out of memory, and
 * the use is still the caller's. */
static struct mmfs_handle *handle_new(struct mmfs_fs *fs,
				      struct mmfs_inode *inode, int fd,
				      struct fuse_file_info *fi)
{
	struct mmfs_handle *h = calloc(1, sizeof(*h));
	const char *rule;
	struct stat st;
	int ov;

	if (!h)
		return NULL;
	h->fs = fs;
	h->fd = fd;
	h->flags = fi->flags;
	h->inode = inode;
	if (fstat(fd, &st) == -1)
		memset(&st, 0, sizeof(st));
	mmfs_policy_resolve(fs, inode, &h->pol, &rule, &ov);
	if (S_ISREG(st.st_mode))
		choose_data_path(fs, h, &st);
	if (mmfs_fs_is_cow(fs))
		cow_of(fs, inode);
	fi->fh = (uintptr_t)h;
	set_kernel_cache(fs, h, &st, fi);
	mmfs_fs_track(fs, h, mmfs_handle_free);
	return h;
}

void mmfs_handle_free(void *handle)
{
	struct mmfs_handle *h = handle;

	close(h->fd);
	/* the inode keeps its fd and map while open, not longer */
	mmfs_inode_unuse(&h->fs->inodes, h->inode);
	free(h);
}

static void handle_free(struct mmfs_handle *h)
{
	mmfs_fs_track(h->fs, h, NULL);
	mmfs_handle_free(h);
}

/* The kernel's writeback cache may read pages of a file opened for
 * writing only, and owns O_APPEND offsets itself. */
static int writeback_flags(struct mmfs_fs *fs, int flags,
			   struct fuse_file_info *fi)
{
	if (!fs->cfg->writeback)
		return flags;
	if ((flags & O_ACCMODE) == O_WRONLY)
		flags = (flags & ~O_ACCMODE) | O_RDWR;
	fi->flags &= ~O_APPEND;
	return flags & ~O_APPEND;
}

/* The backing flags an open of inode with fi->flags uses, after what
 * the mode asks first (mode=ro refuses writers, mode=cow truncates its
 * copy and opens the backing file read-only): flags or -errno. */
static int open_flags(struct mmfs_fs *fs, struct mmfs_inode *inode,
		      struct fuse_file_info *fi)
{
	int flags = fi->flags, err = 0;

	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) {
		if (mmfs_fs_is_read_only(fs))
			return -EROFS;
		if (mmfs_fs_is_cow(fs)) {
			/* the backing file is only ever read */
			struct mmfs_cow *c = NULL;

			if (flags & O_TRUNC) {
				c = cow_get(fs, inode, &err);
				if (c)
					err = mmfs_cow_truncate(c, 0);
			}
			if (err)
				return err;
			flags &= ~(O_ACCMODE | O_TRUNC | O_APPEND);
		}
	}
	return backing_flags(writeback_flags(fs, flags, fi));
}

void mmfs_io_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	char path[MMFS_PROC_PATH_MAX];
	struct mmfs_inode *inode;
	struct mmfs_handle *h;
	int pathfd, flags, fd;

	pathfd = mmfs_fs_use_or_reply(req, ino, &inode);
	if (pathfd < 0)
		return;
	fd = flags = open_flags(fs, inode, fi);
	if (flags >= 0) {
		mmfs_proc_path(path, pathfd);
		fd = open(path, flags);
		if (fd == -1) {
			fd = -errno;
			mmfs_fs_fd_error(fs, fd);
		}
	}
	h = fd < 0 ? NULL : handle_new(fs, inode, fd, fi);
	if (!h) {
		if (fd >= 0)
			close(fd);
		mmfs_inode_unuse(&fs->inodes, inode);
		fuse_reply_err(req, fd < 0 ? -fd : ENOMEM);
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		handle_free(h); /* the opener was interrupted */
}

/* Open name in dirfd for create(): make it if it does not exist (and say
 * so in *created), else open what is there, as O_CREAT would, but without
 * ever following a symlink. Returns an fd or -errno. */
static int open_or_create(int dirfd, const char *name, int flags, mode_t mode,
			  int *created)
{
	int tries, fd;

	for (tries = 0; tries < 8; tries++) {
		fd = openat(
		    dirfd, name,
		    backing_flags(flags) | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
		if (fd >= 0) {
			*created = 1;
			return fd;
		}
		if (errno != EEXIST || (flags & O_EXCL))
			return -errno;
		fd = openat(dirfd, name, backing_flags(flags) | O_NOFOLLOW);
		if (fd >= 0) {
			*created = 0;
			return fd;
		}
		if (errno != ENOENT) /* removed again in between: retry */
			return -errno;
	}
	return -EAGAIN;
}

/* Create (or open) name in dirfd for create() and look it up: the open
 * fd, with *e filled in, or -errno. */
static int create_and_lookup(fuse_req_t req, int dirfd, const char *name,
			     mode_t mode, struct fuse_file_info *fi,
			     struct fuse_entry_param *e)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	char path[MMFS_PROC_PATH_MAX];
	int fd, pathfd, created = 0, rc;

	fd = open_or_create(dirfd, name, writeback_flags(fs, fi->flags, fi),
			    mode, &created);
	if (fd < 0) {
		mmfs_fs_fd_error(fs, fd);
		return fd;
	}
	mmfs_proc_path(path, fd);
	pathfd = open(path, O_PATH | O_CLOEXEC);
	if (pathfd == -1) {
		rc = -errno;
		goto fail;
	}
	if (created) {
		rc = mmfs_fs_own_new(req, dirfd, pathfd, mode);
		if (rc) {
			mmfs_log(LOG_ERR,
				 "cannot give new file '%s' to uid %u: %s",
				 name, fuse_req_ctx(req)->uid, strerror(-rc));
			close(pathfd);
			unlinkat(dirfd, name, 0);
			goto fail;
		}
	}
	rc = mmfs_fs_make_entry(fs, pathfd, e);
	if (rc == 0)
		return fd;
fail:
	close(fd);
	mmfs_fs_fd_error(fs, rc);
	return rc;
}

void mmfs_io_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *dir, *inode;
	struct fuse_entry_param e;
	struct mmfs_handle *h;
	int dirfd, fd, rc;

	if (mmfs_fs_refused(req))
		return;
	dirfd = mmfs_fs_use_or_reply(req, parent, &dir);
	if (dirfd < 0)
		return;
	fd = create_and_lookup(req, dirfd, name, mode, fi, &e);
	mmfs_inode_unuse(&fs->inodes, dir);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	inode = mmfs_fs_inode(req, e.ino);
	rc = mmfs_inode_use(&fs->inodes, inode);
	h = rc < 0 ? NULL : handle_new(fs, inode, fd, fi);
	if (!h) {
		if (rc >= 0)
			mmfs_inode_unuse(&fs->inodes, inode);
		mmfs_inode_forget(&fs->inodes, inode, 1);
		close(fd);
		fuse_reply_err(req, rc < 0 ? -rc : ENOMEM);
		return;
	}
	if (fuse_reply_create(req, &e, fi) != 0) {
		handle_free(h); /* gives back its use; the lookup next */
		mmfs_inode_forget(&fs->inodes, inode, 1);
	}
}

/* The fd path of a read: pread into a buffer and reply with it. */
static void read_by_fd(fuse_req_t req, struct mmfs_handle *h, size_t size,
		       off_t off)
{
	struct mmfs_stats *stats = &mmfs_fs_of(req)->stats;
	char *buf = malloc(size ? size : 1);
	size_t done = 0;
	ssize_t n;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	while (done < size) {
		n = pread(h->fd, buf + done, size - done, off + (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && done == 0) {
			fuse_reply_err(req, errno);
			free(buf);
			return;
		}
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	/* counted before the reply: a reader that then reads the stats
	 * must see its own request */
	mmfs_stat_add(&stats->read_requests_fd, 1);
	mmfs_stat_add(&stats->bytes_read, done);
	fuse_reply_buf(req, buf, done);
	free(buf);
}

static void cow_read(fuse_req_t req, struct mmfs_cow *c, size_t size, off_t off)
{
	struct mmfs_stats *stats = &mmfs_fs_of(req)->stats;
	char *buf = malloc(size ? size : 1);
	ssize_t n;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = mmfs_cow_read(c, buf, size, off);
	mmfs_stat_add(&stats->bytes_read, n > 0 ? n : 0);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

void mmfs_io_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi)
{
	struct mmfs_stats *stats = &mmfs_fs_of(req)->stats;
	struct mmfs_handle *h = handle_of(fi);
	struct mmfs_map *map;
	struct mmfs_pinned p;
	int rc, sent, single;

	(void)ino;
	mmfs_stat_max(&stats->largest_request, size);
	if (mmfs_fs_is_cow(mmfs_fs_of(req)) &&
	    cow_of(mmfs_fs_of(req), h->inode)) {
		cow_read(req, cow_of(mmfs_fs_of(req), h->inode), size, off);
		return;
	}
	if (!h->mapped || !(map = handle_map(mmfs_fs_of(req), h))) {
		read_by_fd(req, h, size, off);
		return;
	}
	rc = mmfs_map_pin_read(map, off, size, &p);
	if (rc == -EIO) {
		fuse_reply_err(req, EIO); /* the data vanished behind us */
		return;
	}
	if (rc) {
		if (rc == -ENOMEM)
			mmfs_stat_add(&stats->budget_fallbacks, 1);
		else
			refuse_map(h, rc);
		read_by_fd(req, h, size, off);
		return;
	}
	/* Reply straight from the pinned windows: the kernel copies from
	 * the mapping into the reader's pages, no copy of ours. If a page
	 * has gone (the file was cut short behind the mount) the kernel
	 * fails the copy and ends the request with EIO itself.
	 * Once the reply is out the reader may close the file and the
	 * kernel forget it, on other threads: the handle is not touched
	 * again, and the map is held until its windows are unpinned. */
	mmfs_map_ref(map);
	/* locked windows are meant to stay resident (and MADV_PAGEOUT
	 * refuses them) */
	single = mmfs_fs_of(req)->cfg->cache == MMFS_CACHE_SINGLE &&
		 !mmfs_fs_of(req)->cfg->map.lock && p.bytes;
	mmfs_stat_add(&stats->read_requests_mapped, 1);
	mmfs_stat_add(&stats->reads_zero_copy, 1);
	mmfs_stat_add(&stats->bytes_read, p.bytes);
	if (p.bytes)
		sent = fuse_reply_iov(req, p.iov, p.count);
	else
		sent = fuse_reply_buf(req, NULL, 0);
	/* the kernel has copied it into the mount's page cache */
	if (sent == 0 && single)
		mmfs_map_pageout_read(&p);
	mmfs_map_unpin(&p);
	if (sent == -EFAULT)
		mmfs_map_fault(map, off, p.bytes);
	mmfs_map_unref(map);
}

/* The request's data as one piece of memory (copied only if libfuse gave
 * it in pieces). *tmp is set if the caller must free it. */
static const char *write_data(struct fuse_bufvec *in, size_t size, char **tmp)
{
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);

	*tmp = NULL;
	if (in->count == 1 && in->idx == 0 &&
	    !(in->buf[0].flags & FUSE_BUF_IS_FD))
		return (const char *)in->buf[0].mem + in->off;
	*tmp = malloc(size ? size : 1);
	if (!*tmp)
		return NULL;
	dst.buf[0].mem = *tmp;
	if (fuse_buf_copy(&dst, in, 0) != (ssize_t)size) {
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return *tmp;
}

/* How long a worker waits for the kernel to drop a range (see notify.h:
 * past it the reply goes out and the drop completes later). */
#define INVAL_WAIT_US 100000

/* After a write through an O_DIRECT fd, and before it is acknowledged:
 * drop the range from the kernel's page cache of the file. The kernel
 * invalidates it before sending an asynchronous (AIO, io_uring) direct
 * write but not when it completes (a native filesystem does both), so
 * pages that buffered readers loaded in between, from before the write,
 * would be read after it. Writes of the writeback cache come from those
 * pages and are left alone. */
static void drop_direct_write_range(struct mmfs_fs *fs, fuse_ino_t ino,
				    const struct fuse_file_info *fi, off_t off,
				    size_t n)
{
	int rc;

	if (!(fi->flags & O_DIRECT) || fi->writepage || !fs->notifier || n == 0)
		return;
	rc = mmfs_notifier_inval(fs->notifier, ino, off, (int64_t)n,
				 INVAL_WAIT_US);
	mmfs_stat_add(&fs->stats.direct_write_invalidations, 1);
	if (rc == -ETIMEDOUT)
		mmfs_stat_add(&fs->stats.invalidation_timeouts, 1);
	else if (rc && rc != -ENOENT)
		mmfs_log(LOG_DEBUG,
			 "dropping %zu at %lld of node %llu from the "
			 "kernel's cache failed: %s",
			 n, (long long)off, (unsigned long long)ino,
			 strerror(-rc));
}

/* The reply to a write that wrote n bytes at off (or failed, n < 0). */
static void reply_written(fuse_req_t req, fuse_ino_t ino,
			  const struct fuse_file_info *fi, off_t off, ssize_t n)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);

	if (n < 0) {
		fuse_reply_err(req, (int)-n);
		return;
	}
	mmfs_stat_add(&fs->stats.bytes_written, (uint64_t)n);
	drop_direct_write_range(fs, ino, fi, off, (size_t)n);
	fuse_reply_write(req, (size_t)n);
}

/* A write in mode=cow (EROFS in mode=ro): into the private copy. */
static void cow_write(fuse_req_t req, fuse_ino_t ino,
		      const struct fuse_file_info *fi, struct mmfs_handle *h,
		      struct fuse_bufvec *in, size_t size, off_t off)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_cow *c;
	const char *data;
	char *tmp;
	ssize_t n;
	int err = 0;

	if (mmfs_fs_is_read_only(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	c = cow_get(fs, h->inode, &err);
	data = c ? write_data(in, size, &tmp) : NULL;
	if (!c || !data) {
		fuse_reply_err(req, c ? ENOMEM : -err);
		return;
	}
	if (h->flags & O_APPEND)
		off = mmfs_cow_size(c);
	n = mmfs_cow_write(c, data, size, off);
	free(tmp);
	mmfs_stat_set(&fs->stats.private_bytes,
		      __atomic_load_n(&fs->cows.budget.used, __ATOMIC_RELAXED));
	reply_written(req, ino, fi, off, n);
}

void mmfs_io_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
		       off_t off, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_handle *h = handle_of(fi);
	size_t size = fuse_buf_size(in);
	struct mmfs_map *map;
	const char *data;
	char *tmp;
	ssize_t n;
	int rc;

	mmfs_stat_max(&fs->stats.largest_request, size);
	h->wrote = 1;
	if (!mmfs_fs_writes_source(fs)) {
		cow_write(req, ino, fi, h, in, size, off);
		return;
	}
	/* O_APPEND goes by fd: pwrite on an O_APPEND fd lands at the true
	 * end of file atomically, even against writers outside the mount. */
	map = handle_map(fs, h); /* also tracks writes by fd for syncing */
	if (h->mapped && map && mmfs_map_writable(map) &&
	    !(h->flags & O_APPEND)) {
		data = write_data(in, size, &tmp);
		if (!data) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		n = mmfs_map_write(
		    map, data, size, off,
		    mmfs_sync_write_flags(fs->syncer, map, h->flags));
		free(tmp);
		/* O_SYNC also wants the metadata (mtime) on disk */
		if (n > 0 && (h->flags & O_SYNC) == O_SYNC &&
		    fsync(h->fd) == -1)
			n = -errno;
	} else {
		struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);

		out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		out.buf[0].fd = h->fd;
		out.buf[0].pos = off;
		n = fuse_buf_copy(&out, in, 0);
		mmfs_stat_add(&fs->stats.write_requests_fd, 1);
		if (n > 0) {
			rc = mmfs_sync_after_fd_write(fs->syncer, map, h->fd,
						      h->flags, (size_t)n);
			if (rc)
				n = rc;
		}
	}
	reply_written(req, ino, fi, off, n);
}

void mmfs_io_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mmfs_handle *h = handle_of(fi);
	int rc;

	(void)ino;
	if (!mmfs_fs_writes_source(mmfs_fs_of(req))) {
		fuse_reply_err(req, 0); /* nothing ever reaches the disk */
		return;
	}
	/* close(2) waits for this reply: sync=close makes the data durable
	 * before it returns, and any mode reports a sync that failed */
	/* the file's map: other handles may have written through it */
	rc = mmfs_sync_on_close(mmfs_fs_of(req)->syncer, map_of(h->inode),
				h->fd, h->wrote);
	fuse_reply_err(req, -rc);
}

void mmfs_io_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(handle_of(fi));
	fuse_reply_err(req, 0);
}

void mmfs_io_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		   struct fuse_file_info *fi)
{
	struct mmfs_handle *h = handle_of(fi);
	int rc;

	(void)ino;
	if (!mmfs_fs_writes_source(mmfs_fs_of(req))) {
		fuse_reply_err(req, 0);
		return;
	}
	rc = mmfs_sync_fsync(mmfs_fs_of(req)->syncer, map_of(h->inode), h->fd,
			     datasync);
	fuse_reply_err(req, -rc);
}

void mmfs_io_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
		       off_t len, struct fuse_file_info *fi)
{
	int rc;

	(void)ino;
	if (!mmfs_fs_writes_source(mmfs_fs_of(req))) {
		/* cow: posix_fallocate() then writes zeros instead */
		fuse_reply_err(req, mmfs_fs_is_read_only(mmfs_fs_of(req))
					? EROFS
					: EOPNOTSUPP);
		return;
	}
	rc = fallocate(handle_of(fi)->fd, mode, off, len);
	if (rc == 0 && map_of(handle_of(fi)->inode))
		mmfs_map_refresh_size(map_of(handle_of(fi)->inode));
	fuse_reply_err(req, rc == -1 ? errno : 0);
}

void mmfs_io_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		   struct fuse_file_info *fi)
{
	struct mmfs_cow *c = cow_of(mmfs_fs_of(req), handle_of(fi)->inode);
	off_t res;

	(void)ino;
	if (c && (whence == SEEK_DATA || whence == SEEK_HOLE)) {
		/* a private copy is all data */
		off_t size = mmfs_cow_size(c);

		if (off >= size)
			fuse_reply_err(req, ENXIO);
		else
			fuse_reply_lseek(req, whence == SEEK_DATA ? off : size);
		return;
	}
	res = lseek(handle_of(fi)->fd, off, whence);
	if (res == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, res);
}

void mmfs_io_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags)
{
	ssize_t n;

	(void)ino_in;
	(void)ino_out;
	if (!mmfs_fs_writes_source(mmfs_fs_of(req))) {
		/* EXDEV: the caller copies with read and write instead, which
		 * go through the private copies (cow) or are refused (ro) */
		fuse_reply_err(req, EXDEV);
		return;
	}
	n = copy_file_range(handle_of(fi_in)->fd, &off_in,
			    handle_of(fi_out)->fd, &off_out, len,
			    (unsigned int)flags);
	if (n == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	if (map_of(handle_of(fi_out)->inode))
		mmfs_map_refresh_size(map_of(handle_of(fi_out)->inode));
	handle_of(fi_out)->wrote = 1;
	if (n > 0) {
		int rc = mmfs_sync_after_fd_write(
		    mmfs_fs_of(req)->syncer,
		    handle_map(mmfs_fs_of(req), handle_of(fi_out)),
		    handle_of(fi_out)->fd, handle_of(fi_out)->flags, (size_t)n);
		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	fuse_reply_write(req, (size_t)n);
}

int mmfs_io_set_size(struct mmfs_fs *fs, struct mmfs_inode *inode, int hfd,
		     off_t size)
{
	struct mmfs_map *map;
	char path[MMFS_PROC_PATH_MAX];
	int rc = 0;

	if (mmfs_fs_is_read_only(fs))
		return -EROFS;
	if (mmfs_fs_is_cow(fs)) {
		struct mmfs_cow *c = cow_get(fs, inode, &rc);

		return c ? mmfs_cow_truncate(c, size) : rc;
	}
	mmfs_proc_path(path, inode->fd);
	/* No map yet: one being made now must not read the size from
	 * before the truncate (get_map makes it under the inode lock). */
	mmfs_lock(&inode->lock);
	map = inode->map;
	if (map) {
		mmfs_unlock(&inode->lock);
		if (mmfs_map_writable(map))
			return mmfs_map_truncate(map, size);
		return mmfs_map_truncate_fd(map, size, hfd,
					    hfd >= 0 ? NULL : path);
	}
	rc = hfd >= 0 ? ftruncate(hfd, size) : truncate(path, size);
	rc = rc == -1 ? -errno : 0;
	mmfs_unlock(&inode->lock);
	return rc;
}
