// SPDX-License-Identifier: GPL-2.0-or-later
/* The inode table (see inode.h). One mutex guards the hash table and the
 * lookup counts; it is never held across a system call other than close(). */
#include <errno.h>
#include <unistd.h>

#include "memmapfs/lock.h"
#include "memmapfs/inode.h"

guint mmfs_inode_key_hash(gconstpointer p)
{
	const struct mmfs_inode_key *k = p;
	uint64_t h =
	    (uint64_t)k->ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)k->dev;

	return (guint)(h ^ (h >> 32));
}

gboolean mmfs_inode_key_equal(gconstpointer a, gconstpointer b)
{
	const struct mmfs_inode_key *x = a, *y = b;

	return x->dev == y->dev && x->ino == y->ino;
}

static struct mmfs_inode *inode_new(int fd, const struct stat *st)
{
	struct mmfs_inode *inode = g_new0(struct mmfs_inode, 1);

	inode->key.dev = st->st_dev;
	inode->key.ino = st->st_ino;
	inode->fd = fd;
	inode->type = st->st_mode & S_IFMT;
	inode->sync_override = -1;
	g_mutex_init(&inode->lock);
	return inode;
}

static void inode_free(struct mmfs_inode *inode)
{
	mmfs_map_close(inode->map);
	close(inode->fd);
	g_mutex_clear(&inode->lock);
	g_free(inode);
}

int mmfs_inode_table_init(struct mmfs_inode_table *t, int root_fd)
{
	struct stat st;

	if (fstat(root_fd, &st) == -1)
		return -errno;
	g_mutex_init(&t->lock);
	t->by_key = g_hash_table_new(mmfs_inode_key_hash, mmfs_inode_key_equal);
	t->root = inode_new(root_fd, &st);
	t->root->nlookup = 1;
	t->root->pinned = 1;
	g_hash_table_insert(t->by_key, &t->root->key, t->root);
	return 0;
}

void mmfs_inode_table_destroy(struct mmfs_inode_table *t)
{
	GHashTableIter it;
	gpointer value;

	if (!t->by_key)
		return;
	g_hash_table_iter_init(&it, t->by_key);
	while (g_hash_table_iter_next(&it, NULL, &value))
		inode_free(value);
	g_hash_table_destroy(t->by_key);
	t->by_key = NULL;
	t->root = NULL;
	g_mutex_clear(&t->lock);
}

struct mmfs_inode *mmfs_inode_ref(struct mmfs_inode_table *t, int fd,
				  const struct stat *st)
{
	struct mmfs_inode_key key = {st->st_dev, st->st_ino};
	struct mmfs_inode *inode, *fresh = NULL;

	mmfs_lock(&t->lock);
	inode = g_hash_table_lookup(t->by_key, &key);
	if (!inode) {
		fresh = inode_new(fd, st);
		g_hash_table_insert(t->by_key, &fresh->key, fresh);
		inode = fresh;
	}
	inode->nlookup++;
	mmfs_unlock(&t->lock);
	if (!fresh)
		close(fd);
	return inode;
}

void mmfs_inode_forget(struct mmfs_inode_table *t, struct mmfs_inode *inode,
		       uint64_t n)
{
	int gone = 0;

	mmfs_lock(&t->lock);
	inode->nlookup = n >= inode->nlookup ? 0 : inode->nlookup - n;
	if (inode->nlookup == 0 && !inode->pinned) {
		g_hash_table_remove(t->by_key, &inode->key);
		gone = 1;
	}
	mmfs_unlock(&t->lock);
	if (gone)
		inode_free(inode);
}

unsigned int mmfs_inode_count(struct mmfs_inode_table *t)
{
	unsigned int n;

	mmfs_lock(&t->lock);
	n = g_hash_table_size(t->by_key);
	mmfs_unlock(&t->lock);
	return n;
}
