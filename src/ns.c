// SPDX-License-Identifier: GPL-2.0-or-later
/* The namespace half of the FUSE adapter: lookup/forget, attributes,
 * directories, links, renames, xattrs and statfs, each passed through to the
 * backing directory with *at() calls on the inode's O_PATH fd. Also holds the
 * operations table, which lists every operation memmapfs implements. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <glib.h>

#include "memmapfs/control.h"
#include "memmapfs/io.h"
#include "memmapfs/lock.h"
#include "memmapfs/log.h"
#include "memmapfs/ns.h"

static void free_dir_handle(void *p);

/* Open an O_PATH fd for name in dir without following symlinks. A mount
 * point inside SOURCE is crossed, except our own mount: following that would
 * make the daemon wait on itself, so it answers ELOOP instead. */
static int open_child_once(struct mmfs_fs *fs, int dirfd, const char *name)
{
	struct open_how how = {
	    .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
	    .resolve = RESOLVE_NO_XDEV,
	};
	struct statx stx;
	int fd;

	/* Only lookups ask for these (see lookup_dots); answering ".." at
	 * the root would step outside SOURCE. */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (!fs->no_openat2) {
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno == ENOSYS)
			fs->no_openat2 = 1;
		else if (errno != EXDEV)
			return -errno;
	}
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	/* DONT_SYNC: if this is our own mount, asking for fresh attributes
	 * would be a request to ourselves. */
	if (fs->own_mnt_id &&
	    statx(fd, "",
		  AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
		  STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID) && stx.stx_mnt_id == fs->own_mnt_id) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

/* open_child_once; out of fds, once more after closing half the idle
 * O_PATH fds (and logging it, once, if that did not help). */
static int open_child(struct mmfs_fs *fs, int dirfd, const char *name)
{
	int fd = open_child_once(fs, dirfd, name);

	if ((fd == -EMFILE || fd == -ENFILE) &&
	    mmfs_inode_trim(&fs->inodes, fs->inodes.fds / 2) > 0)
		fd = open_child_once(fs, dirfd, name);
	mmfs_fs_fd_error(fs, fd);
	return fd;
}

static void reply_entry_or_err(fuse_req_t req, int rc,
			       const struct fuse_entry_param *e)
{
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, e);
}

static void mmfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct mmfs_fs *fs = userdata;

	/* Kernel-side set-ID clearing: the daemon writes as root, which the
	 * backing filesystem would exempt. */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (fs->cfg->writeback && !mmfs_fs_is_read_only(fs)) {
		if (conn->capable & FUSE_CAP_WRITEBACK_CACHE)
			conn->want |= FUSE_CAP_WRITEBACK_CACHE;
		else
			mmfs_log(LOG_WARNING, "-o writeback: the kernel has no "
					      "FUSE writeback cache; going "
					      "without");
	}
	/* Write data must arrive in memory: copied from a pipe straight
	 * into a window, a full disk would lose it instead of reporting
	 * ENOSPC. */
	conn->want &= ~FUSE_CAP_SPLICE_READ;
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* Node ids that outlive the kernel's cache: it may then look up "."
	 * and ".." by node id to open a handle made through the mount. */
	if (fs->inodes.export_ids && (conn->capable & FUSE_CAP_EXPORT_SUPPORT))
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
}

/* Lookup of "." (the object a node id names, which the daemon may have
 * forgotten) or ".." (a directory's parent; SOURCE's root is its own),
 * which the kernel sends to open a file handle made through the mount. */
static int lookup_dots(struct mmfs_fs *fs, fuse_ino_t ino, int dotdot,
		       struct fuse_entry_param *e)
{
	struct mmfs_inode *inode;
	int fd, rc;

	mmfs_stat_add(&fs->stats.handle_lookups, 1);
	fd = mmfs_inode_use_id(&fs->inodes, ino, &inode);
	if (fd == -ESTALE && !dotdot)
		fd = mmfs_inode_open_id(&fs->inodes, ino);
	else if (fd >= 0) {
		if (inode == fs->inodes.root || !dotdot)
			rc = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		else if (!S_ISDIR(inode->type))
			rc = -ENOTDIR;
		else
			rc = openat(fd, "..", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (rc == -1)
			rc = -errno;
		mmfs_inode_unuse(&fs->inodes, inode);
		fd = rc;
	}
	if (fd < 0)
		return fd;
	rc = mmfs_fs_make_entry(fs, fd, e);
	/* "." must be the object the id named; ".." of a directory other
	 * than the root must be another, or it left SOURCE for the top of
	 * it all */
	if (rc == 0 &&
	    (dotdot ? e->ino == ino && ino != FUSE_ROOT_ID : e->ino != ino)) {
		mmfs_inode_forget(&fs->inodes, mmfs_fs_inode_of(fs, e->ino), 1);
		rc = -ESTALE;
	}
	return rc;
}

static void mmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct fuse_entry_param e;
	struct mmfs_inode *dir;
	int dirfd, fd, rc;

	if (name[0] == '.' &&
	    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) {
		rc = lookup_dots(fs, parent, name[1] == '.', &e);
		reply_entry_or_err(req, rc, &e);
		return;
	}
	dirfd = mmfs_fs_use_or_reply(req, parent, &dir);
	if (dirfd < 0)
		return;
	fd = open_child(fs, dirfd, name);
	mmfs_inode_unuse(&fs->inodes, dir);
	rc = fd < 0 ? fd : mmfs_fs_make_entry(fs, fd, &e);
	reply_entry_or_err(req, rc, &e);
}

static void forget_one(struct mmfs_fs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	struct mmfs_inode *inode = mmfs_fs_inode_of(fs, ino);

	if (inode)
		mmfs_inode_forget(&fs->inodes, inode, nlookup);
}

static void mmfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(mmfs_fs_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void mmfs_forget_multi(fuse_req_t req, size_t count,
			      struct fuse_forget_data *forgets)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		forget_one(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void mmfs_getattr(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode;
	struct stat st;
	int fd = mmfs_fs_use_or_reply(req, ino, &inode), rc;

	(void)fi;
	if (fd < 0)
		return;
	rc = mmfs_fs_stat_fd(fd, &st);
	mmfs_inode_unuse(&fs->inodes, inode);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	mmfs_fs_fix_attr(mmfs_fs_of(req), &st);
	fuse_reply_attr(req, &st, mmfs_fs_of(req)->cfg->timeout);
}

static int set_times(int ifd, int hfd, const struct stat *attr, int valid)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
				 {.tv_nsec = UTIME_OMIT}};

	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
	if (hfd >= 0)
		return futimens(hfd, ts) == -1 ? -errno : 0;
	return utimensat(ifd, "", ts, AT_EMPTY_PATH) == -1 ? -errno : 0;
}

/* mode=cow: size and times live in the private copy; owner and mode
 * cannot change. 0 or -errno. */
static int setattr_cow(struct mmfs_fs *fs, struct mmfs_inode *inode, int hfd,
		       const struct stat *attr, int valid)
{
	if (valid &
	    (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		return -EROFS;
	if (valid & FUSE_SET_ATTR_SIZE)
		return mmfs_io_set_size(fs, inode, hfd, attr->st_size);
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))
		return mmfs_io_cow_touch(fs, inode);
	return 0;
}

/* mode=rw: each attribute the request sets, on the backing file (through
 * the open handle's fd hfd when there is one). 0 or -errno. */
static int setattr_source(struct mmfs_fs *fs, struct mmfs_inode *inode, int hfd,
			  const struct stat *attr, int valid)
{
	char path[MMFS_PROC_PATH_MAX];
	int rc = 0;

	/* Owner first: chown clears set-ID bits that a mode change in the
	 * same request may want to set again. */
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid =
		    (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid =
		    (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(inode->fd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_MODE) {
		mmfs_proc_path(path, inode->fd);
		if ((hfd >= 0 ? fchmod(hfd, attr->st_mode)
			      : chmod(path, attr->st_mode)) == -1)
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE)
		rc = mmfs_io_set_size(fs, inode, hfd, attr->st_size);
	if (!rc && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
		rc = set_times(inode->fd, hfd, attr, valid);
	return rc;
}

static void mmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			 int valid, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode;
	int hfd = fi ? mmfs_handle_fd(fi) : -1;
	struct stat st;
	int rc = mmfs_fs_use_or_reply(req, ino, &inode);

	if (rc < 0)
		return;
	if (mmfs_fs_is_cow(fs))
		rc = setattr_cow(fs, inode, hfd, attr, valid);
	else if (mmfs_fs_writes_source(fs))
		rc = setattr_source(fs, inode, hfd, attr, valid);
	else
		rc = -EROFS;
	if (!rc)
		rc = mmfs_fs_stat_fd(inode->fd, &st);
	mmfs_inode_unuse(&fs->inodes, inode);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	mmfs_fs_fix_attr(fs, &st);
	fuse_reply_attr(req, &st, fs->cfg->timeout);
}

static void mmfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	char buf[PATH_MAX + 1];
	struct mmfs_inode *inode;
	int fd = mmfs_fs_use_or_reply(req, ino, &inode);
	ssize_t n;

	if (fd < 0)
		return;
	n = readlinkat(fd, "", buf, sizeof(buf));
	if (n == -1)
		n = -errno;
	mmfs_inode_unuse(&fs->inodes, inode);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (n == (ssize_t)sizeof(buf))
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/* Create name in dirfd as make_node asks and hand it to the caller: its
 * O_PATH fd, or -errno. */
static int create_node(fuse_req_t req, int dirfd, const char *name, mode_t mode,
		       dev_t rdev, const char *target)
{
	int fd, rc;

	if (target)
		rc = symlinkat(target, dirfd, name);
	else if (S_ISDIR(mode))
		rc = mkdirat(dirfd, name, mode);
	else
		rc = mknodat(dirfd, name, mode, rdev);
	if (rc == -1)
		return -errno;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	rc = mmfs_fs_own_new(req, dirfd, fd, mode);
	if (rc) {
		/* Never leave an object owned by the wrong user behind. */
		mmfs_log(LOG_ERR, "cannot give new '%s' to uid %u: %s", name,
			 fuse_req_ctx(req)->uid, strerror(-rc));
		close(fd);
		unlinkat(dirfd, name, S_ISDIR(mode) ? AT_REMOVEDIR : 0);
		return rc;
	}
	return fd;
}

/* mknod, mkdir and symlink: create, hand to the caller, look up. */
static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev, const char *target)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct fuse_entry_param e;
	struct mmfs_inode *dir;
	int dirfd, fd, rc;

	if (mmfs_fs_refused(req))
		return;
	dirfd = mmfs_fs_use_or_reply(req, parent, &dir);
	if (dirfd < 0)
		return;
	fd = create_node(req, dirfd, name, mode, rdev, target);
	mmfs_inode_unuse(&fs->inodes, dir);
	rc = fd < 0 ? fd : mmfs_fs_make_entry(fs, fd, &e);
	reply_entry_or_err(req, rc, &e);
}

static void mmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, dev_t rdev)
{
	make_node(req, parent, name, mode, rdev, NULL);
}

static void mmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | mode, 0, NULL);
}

static void mmfs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
			 const char *name)
{
	make_node(req, parent, name, S_IFLNK | 0777, 0, target);
}

/* Link the object behind fd as newname in dirfd: 0 or -errno. */
static int link_at(int fd, int dirfd, const char *newname)
{
	char path[MMFS_PROC_PATH_MAX];

	if (linkat(fd, "", dirfd, newname, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc link reaches
	 * the same inode without it. */
	mmfs_proc_path(path, fd);
	if (linkat(AT_FDCWD, path, dirfd, newname, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	return -errno;
}

static void mmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		      const char *newname)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode, *dir;
	struct fuse_entry_param e;
	int fd, dirfd, rc;

	if (mmfs_fs_refused(req))
		return;
	fd = mmfs_fs_use_or_reply(req, ino, &inode);
	if (fd < 0)
		return;
	dirfd = mmfs_fs_use_or_reply(req, newparent, &dir);
	if (dirfd < 0) {
		mmfs_inode_unuse(&fs->inodes, inode);
		return;
	}
	rc = link_at(fd, dirfd, newname);
	mmfs_inode_unuse(&fs->inodes, dir);
	if (rc == 0) {
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		rc = fd == -1 ? -errno : mmfs_fs_make_entry(fs, fd, &e);
	}
	mmfs_inode_unuse(&fs->inodes, inode);
	reply_entry_or_err(req, rc, &e);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int flags)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *dir;
	int dirfd, rc;

	if (mmfs_fs_refused(req))
		return;
	dirfd = mmfs_fs_use_or_reply(req, parent, &dir);
	if (dirfd < 0)
		return;
	rc = unlinkat(dirfd, name, flags) == -1 ? errno : 0;
	mmfs_inode_unuse(&fs->inodes, dir);
	fuse_reply_err(req, rc);
}

static void mmfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

static void mmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, AT_REMOVEDIR);
}

static void mmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			fuse_ino_t newparent, const char *newname,
			unsigned int flags)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *from, *to;
	int fromfd, tofd, rc;

	if (mmfs_fs_refused(req))
		return;
	fromfd = mmfs_fs_use_or_reply(req, parent, &from);
	if (fromfd < 0)
		return;
	tofd = mmfs_fs_use_or_reply(req, newparent, &to);
	if (tofd < 0) {
		mmfs_inode_unuse(&fs->inodes, from);
		return;
	}
	rc = renameat2(fromfd, name, tofd, newname, flags) == -1 ? errno : 0;
	mmfs_inode_unuse(&fs->inodes, to);
	mmfs_inode_unuse(&fs->inodes, from);
	fuse_reply_err(req, rc);
}

/* --- directories --- */

struct dir_handle {
	DIR *dp;
	off_t offset;	      /* position the next entry comes from */
	struct dirent *entry; /* read but not yet sent, or NULL */
};

static struct dir_handle *dir_of(struct fuse_file_info *fi)
{
	return (struct dir_handle *)(uintptr_t)fi->fh;
}

static void free_dir_handle(void *p)
{
	struct dir_handle *d = p;

	closedir(d->dp);
	free(d);
}

static void mmfs_opendir(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode;
	struct dir_handle *d;
	int fd = mmfs_fs_use_or_reply(req, ino, &inode);

	if (fd < 0)
		return;
	/* the directory's own fd serves the listing and its lookups: an
	 * open directory needs no O_PATH fd of its own */
	fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		fd = -errno;
	mmfs_inode_unuse(&fs->inodes, inode);
	if (fd < 0) {
		mmfs_fs_fd_error(mmfs_fs_of(req), fd);
		fuse_reply_err(req, -fd);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (d)
		d->dp = fdopendir(fd);
	if (!d || !d->dp) {
		int err = d ? errno : ENOMEM;

		free(d);
		close(fd);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)d;
	mmfs_fs_track(mmfs_fs_of(req), d, free_dir_handle);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* the opener was interrupted */
		mmfs_fs_track(mmfs_fs_of(req), d, NULL);
		free_dir_handle(d);
	}
}

static int is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Add d's current entry to the reply buffer at p (rem bytes left), with
 * its attributes and a lookup reference for readdirplus (plus). 0 and
 * *used, 1 when it does not fit (nothing added), or -errno. */
static int add_entry(fuse_req_t req, struct dir_handle *d, int dirfd, char *p,
		     size_t rem, int plus, size_t *used)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct fuse_entry_param e = {0};
	const char *name = d->entry->d_name;
	off_t next = d->entry->d_off;
	fuse_ino_t added = 0;
	size_t n;

	e.attr.st_ino = d->entry->d_ino;
	e.attr.st_mode = (mode_t)d->entry->d_type << 12;
	if (plus && !is_dot_or_dotdot(name)) {
		int fd = open_child(fs, dirfd, name);
		int rc = fd < 0 ? fd : mmfs_fs_make_entry(fs, fd, &e);

		if (rc == 0) {
			added = e.ino;
		} else if (rc != -ENOENT && rc != -ELOOP) {
			return rc;
		} else {
			/* Gone since readdir, or our own mount point: list
			 * the name, leave the lookup to later. */
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = d->entry->d_ino;
			e.attr.st_mode = (mode_t)d->entry->d_type << 12;
		}
	}
	n = plus ? fuse_add_direntry_plus(req, p, rem, name, &e, next)
		 : fuse_add_direntry(req, p, rem, name, &e.attr, next);
	if (n > rem) {
		if (added)
			forget_one(fs, added, 1);
		return 1;
	}
	*used = n;
	return 0;
}

static void do_readdir(fuse_req_t req, size_t size, off_t offset,
		       struct fuse_file_info *fi, int plus)
{
	struct dir_handle *d = dir_of(fi);
	int fd = dirfd(d->dp);
	size_t rem = size, used;
	char *buf, *p;
	int err = 0, rc;

	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p = buf;
	if (offset != d->offset) {
		seekdir(d->dp, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		rc = add_entry(req, d, fd, p, rem, plus, &used);
		if (rc) {
			err = rc < 0 ? -rc : 0;
			break;
		}
		p += used;
		rem -= used;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	/* An error can only be reported before any entry went into the
	 * buffer; after that the lookup counts are already committed. */
	if (err && rem == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

static void mmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			 off_t offset, struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, offset, fi, 0);
}

static void mmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			     off_t offset, struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, offset, fi, 1);
}

static void mmfs_releasedir(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct dir_handle *d = dir_of(fi);

	(void)ino;
	mmfs_fs_track(mmfs_fs_of(req), d, NULL);
	free_dir_handle(d);
	fuse_reply_err(req, 0);
}

static void mmfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			  struct fuse_file_info *fi)
{
	int fd = dirfd(dir_of(fi)->dp);
	int rc;

	(void)ino;
	rc = datasync ? fdatasync(fd) : fsync(fd);
	fuse_reply_err(req, rc == -1 ? errno : 0);
}

static void mmfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode;
	struct statvfs sv;
	int fd = mmfs_fs_use_or_reply(req, ino, &inode), rc;

	if (fd < 0)
		return;
	rc = fstatvfs(fd, &sv) == -1 ? errno : 0;
	mmfs_inode_unuse(&fs->inodes, inode);
	if (rc)
		fuse_reply_err(req, rc);
	else
		fuse_reply_statfs(req, &sv);
}

static void mmfs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	char path[MMFS_PROC_PATH_MAX];
	struct mmfs_inode *inode;
	int fd = mmfs_fs_use_or_reply(req, ino, &inode), rc;

	if (fd < 0)
		return;
	/* Only reached without default_permissions (never, as mounted);
	 * answers for the daemon's own credentials. */
	mmfs_proc_path(path, fd);
	rc = faccessat(AT_FDCWD, path, mask, AT_EACCESS) == -1 ? errno : 0;
	mmfs_inode_unuse(&fs->inodes, inode);
	fuse_reply_err(req, rc);
}

static void reply_xattr_result(fuse_req_t req, ssize_t n, size_t size,
			       const char *buf)
{
	if (n == -1)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, n);
	else
		fuse_reply_buf(req, buf, n);
}

/* getxattr (name) or listxattr (name NULL) of the backing file, into a
 * buffer of the size the kernel asked for (0: just the length). */
static void query_xattr(fuse_req_t req, int fd, const char *name, size_t size)
{
	char path[MMFS_PROC_PATH_MAX];
	char *buf = NULL;
	ssize_t n;

	mmfs_proc_path(path, fd);
	if (size) {
		buf = malloc(size);
		if (!buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	n = name ? getxattr(path, name, buf, size) : listxattr(path, buf, size);
	reply_xattr_result(req, n, size, buf);
	free(buf);
}

static void mmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  size_t size)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode;
	int fd = mmfs_fs_use_or_reply(req, ino, &inode);

	if (fd < 0)
		return;
	if (mmfs_control_is(name))
		mmfs_control_getxattr(req, ino, name, size);
	else
		query_xattr(req, fd, name, size);
	mmfs_inode_unuse(&fs->inodes, inode);
}

static void mmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode;
	int fd = mmfs_fs_use_or_reply(req, ino, &inode);

	if (fd < 0)
		return;
	query_xattr(req, fd, NULL, size);
	mmfs_inode_unuse(&fs->inodes, inode);
}

/* setxattr (value != NULL) or removexattr: ours go to the control
 * interface, the rest to the backing file. */
static void change_xattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	char path[MMFS_PROC_PATH_MAX];
	struct mmfs_inode *inode;
	int fd, rc;

	if (!mmfs_control_is(name) && mmfs_fs_refused(req))
		return;
	fd = mmfs_fs_use_or_reply(req, ino, &inode);
	if (fd < 0)
		return;
	if (mmfs_control_is(name)) {
		rc = -mmfs_control_setxattr(req, ino, name, value, size);
	} else {
		mmfs_proc_path(path, fd);
		rc = value ? setxattr(path, name, value, size, flags)
			   : removexattr(path, name);
		rc = rc == -1 ? errno : 0;
	}
	mmfs_inode_unuse(&fs->inodes, inode);
	fuse_reply_err(req, rc);
}

static void mmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  const char *value, size_t size, int flags)
{
	/* a value of no bytes is still a value */
	change_xattr(req, ino, name, value ? value : "", size, flags);
}

static void mmfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	change_xattr(req, ino, name, NULL, 0, 0);
}

/* Locks (getlk/setlk/flock) are deliberately absent: the kernel then keeps
 * POSIX and flock locks itself, with local-filesystem semantics among all
 * users of the mount. */
static const struct fuse_lowlevel_ops ops = {
    .init = mmfs_init,
    .lookup = mmfs_lookup,
    .forget = mmfs_forget,
    .forget_multi = mmfs_forget_multi,
    .getattr = mmfs_getattr,
    .setattr = mmfs_setattr,
    .readlink = mmfs_readlink,
    .mknod = mmfs_mknod,
    .mkdir = mmfs_mkdir,
    .symlink = mmfs_symlink,
    .link = mmfs_link,
    .unlink = mmfs_unlink,
    .rmdir = mmfs_rmdir,
    .rename = mmfs_rename,
    .opendir = mmfs_opendir,
    .readdir = mmfs_readdir,
    .readdirplus = mmfs_readdirplus,
    .releasedir = mmfs_releasedir,
    .fsyncdir = mmfs_fsyncdir,
    .statfs = mmfs_statfs,
    .access = mmfs_access,
    .getxattr = mmfs_getxattr,
    .listxattr = mmfs_listxattr,
    .setxattr = mmfs_setxattr,
    .removexattr = mmfs_removexattr,
    .open = mmfs_io_open,
    .create = mmfs_io_create,
    .read = mmfs_io_read,
    .write_buf = mmfs_io_write_buf,
    .flush = mmfs_io_flush,
    .release = mmfs_io_release,
    .fsync = mmfs_io_fsync,
    .fallocate = mmfs_io_fallocate,
    .lseek = mmfs_io_lseek,
    .copy_file_range = mmfs_io_copy_file_range,
};

const struct fuse_lowlevel_ops *mmfs_ns_ops(void)
{
	return &ops;
}
