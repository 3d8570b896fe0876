// SPDX-License-Identifier: GPL-2.0-or-later
/* The FUSE adapter's shared state (struct mmfs_fs): setting it up and
 * tearing it down, open-handle tracking, and the helpers every request
 * handler uses (node ids, entries for replies, ownership of new objects). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <glib.h>

#include "memmapfs/lock.h"
#include "memmapfs/fs.h"
#include "memmapfs/log.h"
#include "memmapfs/mountinfo.h"
#include "memmapfs/options.h"

G_STATIC_ASSERT(MMFS_INODE_ROOT_ID == FUSE_ROOT_ID);

/* RLIMIT_NOFILE's soft limit (what the daemon may use). */
static unsigned long long fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1024;
	return rl.rlim_cur;
}

/* The fd cache's size: fd_cache=, or half of the fd limit; the other half
 * is for open files, their mappings and libfuse. */
static unsigned int fd_cache_size(const struct mmfs_config *cfg)
{
	unsigned long long half = fd_limit() / 2;

	if (cfg->fd_cache)
		return cfg->fd_cache;
	return half > UINT_MAX ? UINT_MAX : (unsigned int)half;
}

void mmfs_fs_log_fd_scheme(const struct mmfs_fs *fs)
{
	const struct mmfs_inode_table *t = &fs->inodes;

	if (t->handles)
		mmfs_log(LOG_INFO,
			 "file handles: on; at most %u fds held for "
			 "remembered files (fd limit %llu); handles made "
			 "through the mount %s",
			 t->fd_cap, fd_limit(),
			 !t->export_ids ? "last as long as the kernel's cache"
			 : t->whole_fs	? "last as long as their files"
					: "of directories last as long as "
					  "them, of files as long as the "
					  "kernel's cache (SOURCE is not the "
					  "root of its filesystem)");
	else if (fs->cfg->handles)
		mmfs_log(LOG_NOTICE,
			 "file handles cannot be used on SOURCE (%s%s): every "
			 "file the kernel remembers holds an fd, so at most "
			 "about %llu can be in use",
			 strerror(t->handle_error),
			 t->handle_error == EPERM
			     ? "; the daemon needs CAP_DAC_READ_SEARCH"
			     : "",
			 fd_limit());
	else
		mmfs_log(LOG_INFO,
			 "handles=false: every file the kernel remembers holds "
			 "an fd (fd limit %llu)",
			 fd_limit());
}

void mmfs_fs_fd_error(struct mmfs_fs *fs, int err)
{
	if ((err != -EMFILE && err != -ENFILE) ||
	    !g_atomic_int_compare_and_exchange(&fs->fd_limit_logged, 0, 1))
		return;
	mmfs_log(LOG_ERR,
		 "out of file descriptors (%s): limit %llu, %llu held by %llu "
		 "remembered files, %u files and directories open; %s",
		 strerror(-err), fd_limit(),
		 (unsigned long long)mmfs_stat_get(&fs->stats.fds_held),
		 (unsigned long long)mmfs_stat_get(&fs->stats.inodes),
		 g_hash_table_size(fs->open_handles),
		 fs->inodes.handles ? "lower fd_cache= or raise LimitNOFILE="
				    : "raise LimitNOFILE= (file handles are "
				      "off); logged once");
}

/* Whether path (SOURCE, canonical) is where the root of its filesystem is
 * mounted, so that every object of that filesystem is inside SOURCE. */
static int is_fs_root(const char *path, const struct mmfs_inode *root)
{
	struct mmfs_mount_entry e;
	int yes;

	if (mmfs_mountinfo_at("/proc/self/mountinfo", path, &e) != 0)
		return 0;
	yes = e.dev == root->key.dev && strcmp(e.root, "/") == 0;
	mmfs_mount_entry_clear(&e);
	return yes;
}

int mmfs_fs_init(struct mmfs_fs *fs, const struct mmfs_config *cfg,
		 int source_fd)
{
	int rc;

	memset(fs, 0, sizeof(*fs));
	fs->cfg = cfg;
	fs->chown_new = geteuid() == 0;
	/* the engine first: on failure SOURCE's fd is still the caller's */
	fs->engine = mmfs_engine_new(&cfg->map, &fs->stats);
	if (!fs->engine)
		return -errno;
	rc = mmfs_inode_table_init(&fs->inodes, source_fd, fd_cache_size(cfg),
				   cfg->handles, &fs->stats);
	if (rc) {
		mmfs_engine_free(fs->engine);
		fs->engine = NULL;
		return rc;
	}
	{
		char proc[MMFS_PROC_PATH_MAX], link[PATH_MAX];
		ssize_t n;

		mmfs_proc_path(proc, source_fd);
		n = readlink(proc, link, sizeof(link) - 1);
		fs->root_path = g_strndup(link, n > 0 ? (gsize)n : 0);
	}
	fs->inodes.whole_fs = is_fs_root(fs->root_path, fs->inodes.root);
	mmfs_cow_registry_init(&fs->cows, cfg->max_private);
	g_mutex_init(&fs->handles_lock);
	fs->open_handles = g_hash_table_new(NULL, NULL);
	mmfs_stat_set(&fs->stats.max_private,
		      cfg->mode == MMFS_MODE_COW ? cfg->max_private : 0);
	return 0;
}

void mmfs_fs_track(struct mmfs_fs *fs, void *handle, void (*free_fn)(void *))
{
	mmfs_lock(&fs->handles_lock);
	if (free_fn)
		g_hash_table_insert(fs->open_handles, handle,
				    (gpointer)free_fn);
	else
		g_hash_table_remove(fs->open_handles, handle);
	mmfs_unlock(&fs->handles_lock);
}

static void free_handle(gpointer handle, gpointer free_fn, gpointer unused)
{
	(void)unused;
	((void (*)(void *))free_fn)(handle);
}

void mmfs_fs_destroy(struct mmfs_fs *fs)
{
	if (fs->open_handles) {
		/* handles before the inodes and maps they point to */
		g_hash_table_foreach(fs->open_handles, free_handle, NULL);
		g_hash_table_destroy(fs->open_handles);
		fs->open_handles = NULL;
		g_mutex_clear(&fs->handles_lock);
	}
	mmfs_inode_table_destroy(&fs->inodes); /* frees every map */
	mmfs_engine_free(fs->engine);
	fs->engine = NULL;
	mmfs_cow_registry_clear(&fs->cows);
	g_free(fs->root_path);
	fs->root_path = NULL;
}

int mmfs_fs_refuse_change(struct mmfs_fs *fs)
{
	return mmfs_fs_writes_source(fs) ? 0 : -EROFS;
}

int mmfs_fs_refused(fuse_req_t req)
{
	int rc = mmfs_fs_refuse_change(mmfs_fs_of(req));

	if (rc)
		fuse_reply_err(req, -rc);
	return rc != 0;
}

void mmfs_fs_fix_attr(struct mmfs_fs *fs, struct stat *st)
{
	struct mmfs_inode_key key = {st->st_dev, st->st_ino};
	struct mmfs_cow *c;

	if (!mmfs_fs_is_cow(fs) || !S_ISREG(st->st_mode))
		return;
	c = mmfs_cow_find(&fs->cows, key.dev, key.ino);
	if (c)
		mmfs_cow_stat(c, st);
}

struct mmfs_inode *mmfs_fs_inode_of(struct mmfs_fs *fs, fuse_ino_t ino)
{
	return mmfs_inode_find(&fs->inodes, ino);
}

struct mmfs_inode *mmfs_fs_inode(fuse_req_t req, fuse_ino_t ino)
{
	return mmfs_fs_inode_of(mmfs_fs_of(req), ino);
}

int mmfs_fs_use(fuse_req_t req, fuse_ino_t ino, struct mmfs_inode **inode)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	int fd;

	fd = mmfs_inode_use_id(&fs->inodes, ino, inode);
	if (fd < 0)
		mmfs_fs_fd_error(fs, fd);
	return fd;
}

int mmfs_fs_use_or_reply(fuse_req_t req, fuse_ino_t ino,
			 struct mmfs_inode **inode)
{
	int fd = mmfs_fs_use(req, ino, inode);

	if (fd >= 0)
		return fd;
	fuse_reply_err(req, -fd);
	return -1;
}

void mmfs_proc_path(char buf[MMFS_PROC_PATH_MAX], int fd)
{
	snprintf(buf, MMFS_PROC_PATH_MAX, "/proc/self/fd/%d", fd);
}

int mmfs_fs_stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1
		   ? -errno
		   : 0;
}

int mmfs_fs_make_entry(struct mmfs_fs *fs, int fd, struct fuse_entry_param *e)
{
	struct mmfs_inode *inode;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = mmfs_fs_stat_fd(fd, &e->attr);
	if (rc) {
		close(fd);
		return rc;
	}
	inode = mmfs_inode_ref(&fs->inodes, fd, &e->attr);
	mmfs_fs_fix_attr(fs, &e->attr);
	e->ino = inode->id;
	e->generation = mmfs_inode_generation(&fs->inodes, inode);
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
	if (fchownat(fd, "", ctx->uid, gid,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
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
