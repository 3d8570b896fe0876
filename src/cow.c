// SPDX-License-Identifier: GPL-2.0-or-later
/* Private copy-on-write files for mode=cow (see cow.h).
 *
 * Layout of a copy: one reservation of cap bytes; its first file_len bytes
 * map the file MAP_PRIVATE (pages not yet written read the file), the rest
 * is anonymous (zeros). A bitmap says which pages we made private, so each
 * is charged to the budget once. Truncation replaces whole pages past the
 * new end with fresh anonymous zeros (uncharged until written again). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "memmapfs/lock.h"
#include "memmapfs/cow.h"
#include "memmapfs/guard.h"
#include "memmapfs/util.h"
#include "memmapfs/inode.h"

struct mmfs_cow {
	GMutex lock; /* protects everything below and the copies */
	int fd;
	char *base;
	size_t cap;	 /* bytes reserved */
	size_t file_len; /* bytes mapped from the file (page multiple) */
	off_t size;
	struct timespec mtime;
	size_t page;
	uint8_t *touched; /* one bit per page of cap */
	struct mmfs_cow_budget *budget;
};

struct mmfs_cow *mmfs_cow_new(int fd, struct mmfs_cow_budget *budget)
{
	struct mmfs_cow *c;
	struct stat st;

	if (fstat(fd, &st) == -1)
		return NULL;
	c = g_new0(struct mmfs_cow, 1);
	c->page = (size_t)sysconf(_SC_PAGESIZE);
	c->size = st.st_size;
	c->mtime = st.st_mtim;
	c->file_len = mmfs_round_up((size_t)st.st_size, c->page);
	/* room to grow by the whole budget: address space only */
	c->cap = c->file_len + mmfs_round_up(budget->max, c->page) + c->page;
	c->budget = budget;
	c->fd = dup(fd);
	c->base = mmap(NULL, c->cap, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->fd == -1 || c->base == MAP_FAILED)
		goto fail;
	if (c->file_len &&
	    mmap(c->base, c->file_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED, c->fd, 0) == MAP_FAILED)
		goto fail;
	if (mmfs_guard_init() != 0)
		goto fail;
	c->touched = g_malloc0(c->cap / c->page / 8 + 1);
	g_mutex_init(&c->lock);
	return c;
fail:
	if (c->base != MAP_FAILED && c->base)
		munmap(c->base, c->cap);
	if (c->fd >= 0)
		close(c->fd);
	g_free(c);
	return NULL;
}

static size_t pages_charged(struct mmfs_cow *c)
{
	size_t n = 0, bytes = c->cap / c->page / 8 + 1;

	for (size_t i = 0; i < bytes; i++)
		n += (size_t)__builtin_popcount(c->touched[i]);
	return n;
}

void mmfs_cow_free(struct mmfs_cow *c)
{
	if (!c)
		return;
	__atomic_fetch_sub(&c->budget->used, pages_charged(c) * c->page,
			   __ATOMIC_RELAXED);
	munmap(c->base, c->cap);
	close(c->fd);
	g_free(c->touched);
	g_mutex_clear(&c->lock);
	g_free(c);
}

static int is_touched(struct mmfs_cow *c, size_t pg)
{
	return c->touched[pg / 8] & (1u << (pg % 8));
}

/* Charge the pages of [off, end) not yet private (lock held). */
static int charge(struct mmfs_cow *c, size_t off, size_t end)
{
	size_t first = off / c->page, last = (end - 1) / c->page, need = 0;
	uint64_t bytes, used;

	for (size_t pg = first; pg <= last; pg++)
		need += !is_touched(c, pg);
	bytes = (uint64_t)need * c->page;
	used = __atomic_fetch_add(&c->budget->used, bytes, __ATOMIC_RELAXED);
	if (used + bytes > c->budget->max) {
		__atomic_fetch_sub(&c->budget->used, bytes, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	for (size_t pg = first; pg <= last; pg++)
		c->touched[pg / 8] |= (uint8_t)(1u << (pg % 8));
	return 0;
}

/* Forget whole pages of [from, cap) and make them fresh zeros (lock
 * held): anonymous memory again, no longer charged. */
static void release_pages(struct mmfs_cow *c, size_t from)
{
	size_t given = 0;

	from = mmfs_round_up(from, c->page);
	if (from >= c->cap)
		return;
	for (size_t pg = from / c->page; pg < c->cap / c->page; pg++)
		if (is_touched(c, pg)) {
			c->touched[pg / 8] &= (uint8_t) ~(1u << (pg % 8));
			given++;
		}
	__atomic_fetch_sub(&c->budget->used, (uint64_t)given * c->page,
			   __ATOMIC_RELAXED);
	mmap(c->base + from, c->cap - from, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (c->file_len > from)
		c->file_len = from;
}

ssize_t mmfs_cow_read(struct mmfs_cow *c, void *buf, size_t size, off_t off)
{
	ssize_t n = 0;

	mmfs_lock(&c->lock);
	if (off < c->size) {
		n = (ssize_t)MIN((off_t)size, c->size - off);
		if (mmfs_guard_copy(buf, c->base + off, (size_t)n, c->base,
				    c->base + c->cap))
			n = -EIO;
	}
	mmfs_unlock(&c->lock);
	return n;
}

ssize_t mmfs_cow_write(struct mmfs_cow *c, const void *buf, size_t size,
		       off_t off)
{
	size_t end = (size_t)off + size;
	int rc;

	if (size == 0)
		return 0;
	mmfs_lock(&c->lock);
	/* the room reserved is the budget's: past it is out of space too */
	if (off < 0 || end > c->cap) {
		mmfs_unlock(&c->lock);
		return -ENOSPC;
	}
	rc = charge(c, (size_t)off, end);
	if (rc == 0 && mmfs_guard_copy(c->base + off, buf, size, c->base,
				       c->base + c->cap))
		rc = -EIO;
	if (rc == 0) {
		if ((off_t)end > c->size)
			c->size = (off_t)end;
		clock_gettime(CLOCK_REALTIME, &c->mtime);
	}
	mmfs_unlock(&c->lock);
	return rc ? rc : (ssize_t)size;
}

int mmfs_cow_truncate(struct mmfs_cow *c, off_t size)
{
	int rc = 0;

	mmfs_lock(&c->lock);
	if (size < 0 || (size_t)size > c->cap) {
		mmfs_unlock(&c->lock);
		return size < 0 ? -EINVAL : -ENOSPC;
	}
	if (size < c->size) {
		size_t tail =
		    mmfs_round_up((size_t)size, c->page) - (size_t)size;

		/* the rest of the last page must read zeros later */
		if (tail) {
			rc = charge(c, (size_t)size, (size_t)size + tail);
			if (rc == 0)
				memset(c->base + size, 0, tail);
		}
		if (rc == 0)
			release_pages(c, (size_t)size);
	}
	if (rc == 0) {
		c->size = size;
		clock_gettime(CLOCK_REALTIME, &c->mtime);
	}
	mmfs_unlock(&c->lock);
	return rc;
}

void mmfs_cow_stat(struct mmfs_cow *c, struct stat *st)
{
	mmfs_lock(&c->lock);
	st->st_size = c->size;
	st->st_blocks = (blkcnt_t)(mmfs_round_up((size_t)c->size, 512) / 512);
	st->st_mtim = c->mtime;
	st->st_ctim = c->mtime;
	mmfs_unlock(&c->lock);
}

off_t mmfs_cow_size(struct mmfs_cow *c)
{
	off_t size;

	mmfs_lock(&c->lock);
	size = c->size;
	mmfs_unlock(&c->lock);
	return size;
}

void mmfs_cow_registry_init(struct mmfs_cow_registry *r, uint64_t max)
{
	g_mutex_init(&r->lock);
	r->by_file =
	    g_hash_table_new_full(mmfs_inode_key_hash, mmfs_inode_key_equal,
				  g_free, (GDestroyNotify)mmfs_cow_free);
	r->budget.max = max;
	r->budget.used = 0;
}

void mmfs_cow_registry_clear(struct mmfs_cow_registry *r)
{
	if (!r->by_file)
		return;
	g_hash_table_destroy(r->by_file);
	r->by_file = NULL;
	g_mutex_clear(&r->lock);
}

struct mmfs_cow *mmfs_cow_find(struct mmfs_cow_registry *r, dev_t dev,
			       ino_t ino)
{
	struct mmfs_inode_key key = {dev, ino};
	struct mmfs_cow *c;

	mmfs_lock(&r->lock);
	c = g_hash_table_lookup(r->by_file, &key);
	mmfs_unlock(&r->lock);
	return c;
}

int mmfs_cow_get(struct mmfs_cow_registry *r, dev_t dev, ino_t ino,
		 const char *path, struct mmfs_cow **out, int *made)
{
	struct mmfs_inode_key key = {dev, ino};
	struct mmfs_cow *c;
	int fd, rc = 0;

	*made = 0;
	mmfs_lock(&r->lock);
	c = g_hash_table_lookup(r->by_file, &key);
	if (!c) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		c = fd >= 0 ? mmfs_cow_new(fd, &r->budget) : NULL;
		rc = c ? 0 : -errno;
		if (fd >= 0)
			close(fd);
		if (c) {
			g_hash_table_insert(r->by_file,
					    g_memdup2(&key, sizeof(key)), c);
			*made = 1;
		}
	}
	mmfs_unlock(&r->lock);
	*out = c;
	return rc;
}
