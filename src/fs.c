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

#include "memmapfs/lock.h"
#include "memmapfs/fs.h"
#include "memmapfs/io.h"
#include "memmapfs/log.h"

static void free_dir_handle(void *p);

int mmfs_fs_init(struct mmfs_fs *fs, const struct mmfs_config *cfg,
		 int source_fd)
{
	int rc;

	memset(fs, 0, sizeof(*fs));
	fs->cfg = cfg;
	fs->chown_new = geteuid() == 0;
	rc = mmfs_inode_table_init(&fs->inodes, source_fd);
	if (rc)
		return rc;
	fs->engine = mmfs_engine_new(&cfg->map, &fs->stats);
	{
		char proc[MMFS_PROC_PATH_MAX], link[PATH_MAX];
		ssize_t n;

		mmfs_proc_path(proc, source_fd);
		n = readlink(proc, link, sizeof(link) - 1);
		fs->root_path = g_strndup(link, n > 0 ? (gsize)n : 0);
	}
	g_mutex_init(&fs->cow_lock);
	fs->cows = g_hash_table_new_full(mmfs_inode_key_hash,
					 mmfs_inode_key_equal, g_free,
					 (GDestroyNotify)mmfs_cow_free);
	fs->cow_budget.max = cfg->max_private;
	g_mutex_init(&fs->handles_lock);
	fs->open_files = g_hash_table_new_full(NULL, NULL, mmfs_io_free_handle,
					       NULL);
	fs->open_dirs = g_hash_table_new_full(NULL, NULL, free_dir_handle,
					      NULL);
	mmfs_stat_set(&fs->stats.max_private,
		      cfg->mode == MMFS_MODE_COW ? cfg->max_private : 0);
	return 0;
}

void mmfs_fs_track(struct mmfs_fs *fs, GHashTable *set, void *handle,
		   int track)
{
	mmfs_lock(&fs->handles_lock);
	if (track)
		g_hash_table_add(set, handle);
	else
		g_hash_table_steal(set, handle);
	mmfs_unlock(&fs->handles_lock);
}

void mmfs_fs_destroy(struct mmfs_fs *fs)
{
	if (fs->open_files) {
		/* handles before the inodes and maps they point to */
		g_hash_table_destroy(fs->open_files);
		g_hash_table_destroy(fs->open_dirs);
		fs->open_files = fs->open_dirs = NULL;
		g_mutex_clear(&fs->handles_lock);
	}
	mmfs_inode_table_destroy(&fs->inodes); /* frees every map */
	mmfs_engine_free(fs->engine);
	fs->engine = NULL;
	if (fs->cows) {
		g_hash_table_destroy(fs->cows);
		fs->cows = NULL;
		g_mutex_clear(&fs->cow_lock);
	}
	g_free(fs->root_path);
	fs->root_path = NULL;
}

int mmfs_fs_refuse_change(struct mmfs_fs *fs)
{
	return fs->cfg->mode == MMFS_MODE_RW ? 0 : -EROFS;
}

struct mmfs_inode *mmfs_fs_inode(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return mmfs_fs_of(req)->inodes.root;
	return (struct mmfs_inode *)(uintptr_t)ino;
}

static fuse_ino_t node_id(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	return inode == fs->inodes.root ? FUSE_ROOT_ID : (uintptr_t)inode;
}

void mmfs_proc_path(char buf[MMFS_PROC_PATH_MAX], int fd)
{
	snprintf(buf, MMFS_PROC_PATH_MAX, "/proc/self/fd/%d", fd);
}

static int stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1
		       ? -errno
		       : 0;
}

/* Open an O_PATH fd for name in dir without following symlinks. A mount
 * point inside SOURCE is crossed, except our own mount: following that would
 * make the daemon wait on itself, so it answers ELOOP instead. */
static int open_child(struct mmfs_fs *fs, int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_XDEV,
	};
	struct statx stx;
	int fd;

	/* The kernel never asks for these without export support; answering
	 * ".." at the root would step outside SOURCE. */
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
	    statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
		  STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID) && stx.stx_mnt_id == fs->own_mnt_id) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

int mmfs_fs_make_entry(struct mmfs_fs *fs, int fd, struct fuse_entry_param *e)
{
	struct mmfs_inode *inode;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = stat_fd(fd, &e->attr);
	if (rc) {
		close(fd);
		return rc;
	}
	inode = mmfs_inode_ref(&fs->inodes, fd, &e->attr);
	mmfs_io_fix_attr(fs, &e->attr);
	e->ino = node_id(fs, inode);
	e->attr_timeout = fs->cfg->timeout;
	e->entry_timeout = fs->cfg->timeout;
	return 0;
}

int mmfs_fs_own_new(fuse_req_t req, int parent_fd, int fd, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char path[MMFS_PROC_PATH_MAX];
	struct stat dir;
	gid_t gid;

	if (!mmfs_fs_of(req)->chown_new || (ctx->uid == 0 && ctx->gid == 0))
		return 0;
	if (fstat(parent_fd, &dir) == -1)
		return -errno;
	/* In a set-group-ID directory the kernel already gave the new object
	 * the directory's group, as it would for the caller. */
	gid = (dir.st_mode & S_ISGID) ? (gid_t)-1 : ctx->gid;
	if (fchownat(fd, "", ctx->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ==
	    -1)
		return -errno;
	/* chown() clears set-ID bits of non-directories; the caller asked for
	 * them (the kernel has already applied umask and the sgid rules). */
	if (!S_ISDIR(mode) && !S_ISLNK(mode) && (mode & (S_ISUID | S_ISGID))) {
		mmfs_proc_path(path, fd);
		if (chmod(path, mode & 07777) == -1)
			return -errno;
	}
	return 0;
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
	if (fs->cfg->writeback && fs->cfg->mode != MMFS_MODE_RO) {
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
}

static void mmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct fuse_entry_param e;
	int fd, rc;

	fd = open_child(fs, mmfs_fs_inode(req, parent)->fd, name);
	rc = fd < 0 ? fd : mmfs_fs_make_entry(fs, fd, &e);
	reply_entry_or_err(req, rc, &e);
}

static void mmfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	mmfs_inode_forget(&mmfs_fs_of(req)->inodes, mmfs_fs_inode(req, ino),
			  nlookup);
	fuse_reply_none(req);
}

static void mmfs_forget_multi(fuse_req_t req, size_t count,
			      struct fuse_forget_data *forgets)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		mmfs_inode_forget(&fs->inodes,
				  mmfs_fs_inode(req, forgets[i].ino),
				  forgets[i].nlookup);
	fuse_reply_none(req);
}

static void mmfs_getattr(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct stat st;
	int rc;

	(void)fi;
	rc = stat_fd(mmfs_fs_inode(req, ino)->fd, &st);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	mmfs_io_fix_attr(mmfs_fs_of(req), &st);
	fuse_reply_attr(req, &st, mmfs_fs_of(req)->cfg->timeout);
}

static int set_times(int ifd, int hfd, const struct stat *attr, int valid)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
				  { .tv_nsec = UTIME_OMIT } };

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

static void mmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			 int valid, struct fuse_file_info *fi)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode = mmfs_fs_inode(req, ino);
	int hfd = fi ? mmfs_io_handle_fd(fi) : -1;
	char path[MMFS_PROC_PATH_MAX];
	struct stat st;
	int rc = 0;

	mmfs_proc_path(path, inode->fd);
	if (fs->cfg->mode == MMFS_MODE_RO ||
	    (fs->cfg->mode == MMFS_MODE_COW &&
	     (valid & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
		       FUSE_SET_ATTR_GID)))) {
		rc = -EROFS;
		goto out;
	}
	if (fs->cfg->mode == MMFS_MODE_COW) {
		/* size and times live in the private copy */
		if (valid & FUSE_SET_ATTR_SIZE)
			rc = mmfs_io_set_size(fs, inode, hfd, attr->st_size);
		else if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))
			rc = mmfs_io_cow_touch(fs, inode);
		if (rc)
			goto out;
		goto reply;
	}
	/* Owner first: chown clears set-ID bits that a mode change in the
	 * same request may want to set again. */
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(inode->fd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
			goto fail;
	}
	if (valid & FUSE_SET_ATTR_MODE) {
		if ((hfd >= 0 ? fchmod(hfd, attr->st_mode)
			      : chmod(path, attr->st_mode)) == -1)
			goto fail;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		rc = mmfs_io_set_size(fs, inode, hfd, attr->st_size);
		if (rc)
			goto out;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		rc = set_times(inode->fd, hfd, attr, valid);
		if (rc)
			goto out;
	}
reply:
	rc = stat_fd(inode->fd, &st);
	if (!rc) {
		mmfs_io_fix_attr(fs, &st);
		fuse_reply_attr(req, &st, fs->cfg->timeout);
		return;
	}
	goto out;
fail:
	rc = -errno;
out:
	fuse_reply_err(req, -rc);
}

static void mmfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t n;

	n = readlinkat(mmfs_fs_inode(req, ino)->fd, "", buf, sizeof(buf));
	if (n == -1)
		fuse_reply_err(req, errno);
	else if (n == (ssize_t)sizeof(buf))
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/* mknod, mkdir and symlink: create, hand to the caller, look up. */
static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev, const char *target)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	int dirfd = mmfs_fs_inode(req, parent)->fd;
	struct fuse_entry_param e;
	int fd, rc;

	rc = mmfs_fs_refuse_change(fs);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (target)
		rc = symlinkat(target, dirfd, name);
	else if (S_ISDIR(mode))
		rc = mkdirat(dirfd, name, mode);
	else
		rc = mknodat(dirfd, name, mode, rdev);
	if (rc == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	rc = mmfs_fs_own_new(req, dirfd, fd, mode);
	if (rc) {
		/* Never leave an object owned by the wrong user behind. */
		mmfs_log(LOG_ERR, "cannot give new '%s' to uid %u: %s", name,
			 fuse_req_ctx(req)->uid, strerror(-rc));
		close(fd);
		unlinkat(dirfd, name, S_ISDIR(mode) ? AT_REMOVEDIR : 0);
		fuse_reply_err(req, -rc);
		return;
	}
	rc = mmfs_fs_make_entry(fs, fd, &e);
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

static void mmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		      const char *newname)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode = mmfs_fs_inode(req, ino);
	int dirfd = mmfs_fs_inode(req, newparent)->fd;
	char path[MMFS_PROC_PATH_MAX];
	struct fuse_entry_param e;
	int fd, rc;

	rc = mmfs_fs_refuse_change(fs);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = linkat(inode->fd, "", dirfd, newname, AT_EMPTY_PATH);
	if (rc == -1 && errno == ENOENT) {
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc link
		 * reaches the same inode without it. */
		mmfs_proc_path(path, inode->fd);
		rc = linkat(AT_FDCWD, path, dirfd, newname, AT_SYMLINK_FOLLOW);
	}
	if (rc == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	fd = fcntl(inode->fd, F_DUPFD_CLOEXEC, 0);
	rc = fd == -1 ? -errno : mmfs_fs_make_entry(fs, fd, &e);
	reply_entry_or_err(req, rc, &e);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int flags)
{
	int rc = mmfs_fs_refuse_change(mmfs_fs_of(req));

	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = unlinkat(mmfs_fs_inode(req, parent)->fd, name, flags);
	fuse_reply_err(req, rc == -1 ? errno : 0);
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
	int rc = mmfs_fs_refuse_change(mmfs_fs_of(req));

	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = renameat2(mmfs_fs_inode(req, parent)->fd, name,
		       mmfs_fs_inode(req, newparent)->fd, newname, flags);
	fuse_reply_err(req, rc == -1 ? errno : 0);
}

/* --- directories --- */

struct dir_handle {
	DIR *dp;
	off_t offset;	     /* position the next entry comes from */
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
	struct dir_handle *d;
	int fd;

	fd = openat(mmfs_fs_inode(req, ino)->fd, ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		fuse_reply_err(req, errno);
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
	mmfs_fs_track(mmfs_fs_of(req), mmfs_fs_of(req)->open_dirs, d, 1);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* the opener was interrupted */
		mmfs_fs_track(mmfs_fs_of(req), mmfs_fs_of(req)->open_dirs, d,
			      0);
		free_dir_handle(d);
	}
}

static int is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t offset, struct fuse_file_info *fi, int plus)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct dir_handle *d = dir_of(fi);
	int dirfd = mmfs_fs_inode(req, ino)->fd;
	size_t rem = size, entsize;
	char *buf, *p;
	int err = 0;

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
		struct fuse_entry_param e = { 0 };
		fuse_ino_t added = 0;
		const char *name;
		off_t next;

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		name = d->entry->d_name;
		next = d->entry->d_off;
		e.attr.st_ino = d->entry->d_ino;
		e.attr.st_mode = (mode_t)d->entry->d_type << 12;
		if (plus && !is_dot_or_dotdot(name)) {
			int fd = open_child(fs, dirfd, name);
			int rc = fd < 0 ? fd : mmfs_fs_make_entry(fs, fd, &e);

			if (rc == 0)
				added = e.ino;
			else if (rc != -ENOENT && rc != -ELOOP) {
				err = -rc;
				break;
			} else {
				/* Gone since readdir, or our own mount point:
				 * list the name, leave the lookup to later. */
				memset(&e, 0, sizeof(e));
				e.attr.st_ino = d->entry->d_ino;
				e.attr.st_mode = (mode_t)d->entry->d_type << 12;
			}
			entsize = fuse_add_direntry_plus(req, p, rem, name, &e,
							 next);
		} else if (plus) {
			entsize = fuse_add_direntry_plus(req, p, rem, name, &e,
							 next);
		} else {
			entsize = fuse_add_direntry(req, p, rem, name, &e.attr,
						    next);
		}
		if (entsize > rem) {
			if (added)
				mmfs_inode_forget(&fs->inodes,
						  mmfs_fs_inode(req, added), 1);
			break;
		}
		p += entsize;
		rem -= entsize;
		d->entry = NULL;
		d->offset = next;
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
	do_readdir(req, ino, size, offset, fi, 0);
}

static void mmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			     off_t offset, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, offset, fi, 1);
}

static void mmfs_releasedir(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct dir_handle *d = dir_of(fi);

	(void)ino;
	mmfs_fs_track(mmfs_fs_of(req), mmfs_fs_of(req)->open_dirs, d, 0);
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
	struct statvfs sv;

	if (fstatvfs(mmfs_fs_inode(req, ino)->fd, &sv) == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

static void mmfs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	char path[MMFS_PROC_PATH_MAX];
	int rc;

	/* Only reached without default_permissions (never, as mounted);
	 * answers for the daemon's own credentials. */
	mmfs_proc_path(path, mmfs_fs_inode(req, ino)->fd);
	rc = faccessat(AT_FDCWD, path, mask, AT_EACCESS);
	fuse_reply_err(req, rc == -1 ? errno : 0);
}

/* --- extended attributes, through the /proc link (which reaches a
 * symlink itself, not its target) ---
 *
 * The user.memmapfs. namespace is the daemon's own control interface and
 * never reaches the backing files:
 *   stats   (mount root, read-only) the counters, as JSON
 *   policy  (any file, read-only) its effective policy and where from, JSON
 *   sync    (any file) its sync mode; set it (owner or root) to a mode, or
 *           to "default" (or remove it) to follow rules and the default
 *           again; on the root it is the default for files opened later
 * Read-only names answer EROFS to set/remove, bad values EINVAL, other
 * names ENODATA. */

#define CONTROL_PREFIX "user.memmapfs."

static int is_control(const char *name)
{
	return strncmp(name, CONTROL_PREFIX, sizeof(CONTROL_PREFIX) - 1) == 0;
}

static const char *control_key(const char *name)
{
	return name + sizeof(CONTROL_PREFIX) - 1;
}

static int is_stats(fuse_ino_t ino, const char *name)
{
	return ino == FUSE_ROOT_ID && strcmp(control_key(name), "stats") == 0;
}

static char *policy_json(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	static const char *const advice[] = { "normal", "sequential", "random" };
	static const char *const preload[] = { "none", "willneed", "populate" };
	static const char *const modes[] = { "rw", "ro", "cow" };
	struct mmfs_policy pol;
	const char *rule;
	int overridden;

	mmfs_io_policy(fs, inode, &pol, &rule, &overridden);
	return g_strdup_printf(
		"{\n  \"sync\": \"%s\",\n  \"sync_from\": \"%s\",\n"
		"  \"rule\": %s%s%s,\n  \"advice\": \"%s\",\n"
		"  \"preload\": \"%s\",\n  \"mmap\": %s,\n"
		"  \"window\": %" G_GUINT64_FORMAT ",\n  \"mode\": \"%s\"\n}\n",
		mmfs_sync_mode_name(pol.sync),
		overridden ? "xattr" : rule ? "rule" : "default",
		rule ? "\"" : "", rule ? rule : "null", rule ? "\"" : "",
		advice[pol.advice], preload[pol.preload],
		pol.mmap ? "true" : "false", fs->cfg->map.window,
		modes[fs->cfg->mode]);
}

static void control_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			     size_t size)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode = mmfs_fs_inode(req, ino);
	const char *key = control_key(name);
	char *text;
	size_t len;

	if (is_stats(ino, name)) {
		mmfs_stat_set(&fs->stats.private_bytes,
			      __atomic_load_n(&fs->cow_budget.used,
					      __ATOMIC_RELAXED));
		text = mmfs_stats_json(&fs->stats);
	} else if (strcmp(key, "policy") == 0) {
		text = policy_json(fs, inode);
	} else if (strcmp(key, "sync") == 0) {
		struct mmfs_policy pol;
		const char *rule;
		int ov;

		if (ino == FUSE_ROOT_ID) {
			pol.sync = mmfs_syncer_mode(fs->syncer);
		} else {
			mmfs_io_policy(fs, inode, &pol, &rule, &ov);
		}
		text = g_strdup(mmfs_sync_mode_name(pol.sync));
	} else {
		fuse_reply_err(req, ENODATA);
		return;
	}
	len = strlen(text);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, text, len);
	g_free(text);
}

/* Set (value != NULL) or remove user.memmapfs.sync. Returns an errno. */
static int control_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			    const char *value, size_t size)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode = mmfs_fs_inode(req, ino);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	enum mmfs_sync_mode mode = MMFS_SYNC_PERIODIC;
	int deflt = 1;
	struct stat st;

	if (is_stats(ino, name) || strcmp(control_key(name), "policy") == 0)
		return EROFS;
	if (strcmp(control_key(name), "sync") != 0)
		return ENODATA;
	/* only the file's owner (or root) steers it */
	if (stat_fd(inode->fd, &st) != 0)
		return EIO;
	if (ctx->uid != 0 && ctx->uid != st.st_uid)
		return EPERM;
	if (value && mmfs_sync_parse_value(value, size, &mode, &deflt) != 0)
		return EINVAL;
	if (ino == FUSE_ROOT_ID) {
		mmfs_syncer_set_default(fs->syncer,
					deflt ? fs->cfg->sync_mode : mode);
		mmfs_log(LOG_INFO, "default sync mode now %s",
			 mmfs_sync_mode_name(mmfs_syncer_mode(fs->syncer)));
		return 0;
	}
	mmfs_lock(&inode->lock);
	inode->sync_override = deflt ? -1 : (int)mode;
	mmfs_unlock(&inode->lock);
	mmfs_io_repolicy(fs, inode); /* at once, for handles already open */
	return 0;
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

static void mmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  size_t size)
{
	char path[MMFS_PROC_PATH_MAX];
	char *buf = NULL;
	ssize_t n;

	if (is_control(name)) {
		control_getxattr(req, ino, name, size);
		return;
	}
	mmfs_proc_path(path, mmfs_fs_inode(req, ino)->fd);
	if (size) {
		buf = malloc(size);
		if (!buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	n = getxattr(path, name, buf, size);
	reply_xattr_result(req, n, size, buf);
	free(buf);
}

static void mmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char path[MMFS_PROC_PATH_MAX];
	char *buf = NULL;
	ssize_t n;

	mmfs_proc_path(path, mmfs_fs_inode(req, ino)->fd);
	if (size) {
		buf = malloc(size);
		if (!buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	n = listxattr(path, buf, size);
	reply_xattr_result(req, n, size, buf);
	free(buf);
}

static void mmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  const char *value, size_t size, int flags)
{
	char path[MMFS_PROC_PATH_MAX];
	int rc;

	if (is_control(name)) {
		fuse_reply_err(req,
			       control_setxattr(req, ino, name, value, size));
		return;
	}
	rc = mmfs_fs_refuse_change(mmfs_fs_of(req));
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	mmfs_proc_path(path, mmfs_fs_inode(req, ino)->fd);
	rc = setxattr(path, name, value, size, flags);
	fuse_reply_err(req, rc == -1 ? errno : 0);
}

static void mmfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	char path[MMFS_PROC_PATH_MAX];
	int rc;

	if (is_control(name)) {
		fuse_reply_err(req, control_setxattr(req, ino, name, NULL, 0));
		return;
	}
	rc = mmfs_fs_refuse_change(mmfs_fs_of(req));
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	mmfs_proc_path(path, mmfs_fs_inode(req, ino)->fd);
	rc = removexattr(path, name);
	fuse_reply_err(req, rc == -1 ? errno : 0);
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

const struct fuse_lowlevel_ops *mmfs_fs_ops(void)
{
	return &ops;
}
