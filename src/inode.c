// SPDX-License-Identifier: GPL-2.0-or-later
/* The inode table and its fd cache (see inode.h). One mutex guards the hash
 * table, the lookup and use counts and the LRU of idle fds; it is never held
 * across a system call. An inode is on the LRU exactly when it has an fd, a
 * handle to reopen it by, no use held and is not the root: only those fds
 * may be closed to make room. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "memmapfs/lock.h"
#include "memmapfs/inode.h"

/* A file handle with room for the largest one (MAX_HANDLE_SZ). */
struct handle_buf {
	struct file_handle fh;
	unsigned char room[MAX_HANDLE_SZ];
};

/* idle inodes evicted per pass at most (each call adds at most two fds) */
#define EVICT_BATCH 8

/* What one eviction takes off an inode, closed once the lock is dropped. */
struct victim {
	int fd;		      /* its O_PATH fd, or -1 */
	struct mmfs_map *map; /* its mapping (and the map's fd), or NULL */
};

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

/* Handles that are an export id: ext2/3/4's FILEID_INO32_GEN, the 32-bit
 * inode number then the generation. */
#define EXPORT_HANDLE_TYPE 1
#define EXPORT_HANDLE_LEN  8

size_t mmfs_inode_footprint(const struct mmfs_inode *inode)
{
	int by_key = inode->handle_len != EXPORT_HANDLE_LEN ||
		     inode->handle_type != EXPORT_HANDLE_TYPE;

	/* the structure and its handle, the allocator's header, by_id's key
	 * and hash slots at its usual load, and by_key's key, value and hash
	 * slots for an inode found by key (an approximation: so is every
	 * inode without an export handle, while it is not replaced) */
	return sizeof(*inode) + inode->handle_len + 16 + 20 + (by_key ? 32 : 0);
}

static int is_export_handle(const struct handle_buf *h)
{
	uint32_t ino;

	if (h->fh.handle_type != EXPORT_HANDLE_TYPE ||
	    h->fh.handle_bytes != EXPORT_HANDLE_LEN)
		return 0;
	memcpy(&ino, h->fh.f_handle, sizeof(ino));
	return ino != 0;
}

/* The export id of such a handle: its bytes, the inode number in the low
 * half, never 0 there (counter ids in export mode are, never 1 either). */
static uint64_t export_id(const struct handle_buf *h)
{
	uint64_t id;

	memcpy(&id, h->fh.f_handle, sizeof(id));
	return id;
}

/* The handle of the object behind fd, in *h. 0 or -errno. */
static int handle_of_fd(int fd, struct handle_buf *h)
{
	int mnt;

	h->fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", &h->fh, &mnt, AT_EMPTY_PATH) == -1)
		return -errno;
	return h->fh.handle_bytes <= 255 && h->fh.handle_type >= 0 &&
		       h->fh.handle_type <= 255
		   ? 0
		   : -EOVERFLOW;
}

static int same_handle(const struct mmfs_inode *inode,
		       const struct handle_buf *h)
{
	return inode->handle_len == h->fh.handle_bytes &&
	       inode->handle_type == h->fh.handle_type &&
	       memcmp(inode->handle, h->fh.f_handle, inode->handle_len) == 0;
}

static struct mmfs_inode *inode_new(uint64_t id, int fd, const struct stat *st,
				    const struct handle_buf *h)
{
	size_t len = h ? h->fh.handle_bytes : 0;
	struct mmfs_inode *inode = g_malloc0(sizeof(*inode) + len);

	inode->id = id;
	inode->key.dev = st->st_dev;
	inode->key.ino = st->st_ino;
	inode->fd = fd;
	inode->type = st->st_mode & S_IFMT;
	inode->sync_override = -1;
	if (h) {
		inode->handle_len = (unsigned char)len;
		inode->handle_type = (unsigned char)h->fh.handle_type;
		memcpy(inode->handle, h->fh.f_handle, len);
	}
	g_mutex_init(&inode->lock);
	return inode;
}

static void inode_free(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	mmfs_stat_sub(&t->stats->inodes, 1);
	mmfs_stat_sub(&t->stats->inode_bytes, mmfs_inode_footprint(inode));
	mmfs_map_close(inode->map);
	if (inode->fd >= 0)
		close(inode->fd);
	g_mutex_clear(&inode->lock);
	g_free(inode);
}

/* ---- the LRU of idle fds (table lock held) ---- */

/* An idle inode gives up its mapping, and its O_PATH fd if a handle can
 * bring it back. */
static int evictable(const struct mmfs_inode *inode)
{
	return inode->users == 0 && !inode->pinned &&
	       (inode->map || (inode->fd >= 0 && inode->handle_len));
}

static void lru_unlink(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	if (inode->lru_prev)
		inode->lru_prev->lru_next = inode->lru_next;
	else if (t->lru_head == inode)
		t->lru_head = inode->lru_next;
	else
		return; /* not on the list */
	if (inode->lru_next)
		inode->lru_next->lru_prev = inode->lru_prev;
	else
		t->lru_tail = inode->lru_prev;
	inode->lru_prev = inode->lru_next = NULL;
}

static void lru_push(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	inode->lru_prev = NULL;
	inode->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = inode;
	else
		t->lru_tail = inode;
	t->lru_head = inode;
}

/* Take the fds of up to EVICT_BATCH of the least recently used idle
 * inodes while more than keep are held; what they held goes to out[] for
 * closing after the lock is dropped. Returns how many. */
static unsigned int evict_locked(struct mmfs_inode_table *t, unsigned int keep,
				 struct victim out[EVICT_BATCH])
{
	unsigned int n = 0;
	struct mmfs_inode *victim;

	while (n < EVICT_BATCH && t->fds > keep && (victim = t->lru_tail)) {
		lru_unlink(t, victim);
		out[n].fd = -1;
		out[n].map = victim->map;
		if (victim->map) {
			g_atomic_pointer_set(&victim->map, NULL);
			t->fds--;
			mmfs_stat_add(&t->stats->maps_closed, 1);
		}
		if (victim->fd >= 0 && victim->handle_len) {
			out[n].fd = victim->fd;
			victim->fd = -1;
			t->fds--;
			mmfs_stat_add(&t->stats->fd_evictions, 1);
		}
		n++;
	}
	mmfs_stat_set(&t->stats->fds_held, t->fds);
	return n;
}

/* Close what evict_locked took (no lock held: closing a map may sync). */
static void close_all(const struct victim *v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		mmfs_map_close(v[i].map);
		if (v[i].fd >= 0)
			close(v[i].fd);
	}
}

/* Whether the inode may go now; if so it leaves the table (lock held). */
static int release_locked(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	if (inode->nlookup || inode->users || inode->pinned)
		return 0;
	g_hash_table_remove(t->by_id, inode);
	if (inode->keyed)
		g_hash_table_remove(t->by_key, &inode->key);
	lru_unlink(t, inode);
	if (inode->fd >= 0)
		t->fds--;
	if (inode->map)
		t->fds--;
	mmfs_stat_set(&t->stats->fds_held, t->fds);
	return 1;
}

/* ---- the table ---- */

/* Whether SOURCE's filesystem gives handles the daemon may open again:
 * 0 with t->mount_fd set (open_by_handle_at refuses O_PATH fds there) and
 * the root's handle in *h, or -errno saying why not. */
static int probe_handles(struct mmfs_inode_table *t, int root_fd,
			 struct handle_buf *h)
{
	int rc = handle_of_fd(root_fd, h), fd;

	if (rc)
		return rc;
	t->mount_fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->mount_fd == -1)
		return -errno;
	fd = open_by_handle_at(t->mount_fd, &h->fh, O_PATH | O_CLOEXEC);
	if (fd == -1) {
		rc = -errno;
		close(t->mount_fd);
		t->mount_fd = -1;
		return rc;
	}
	close(fd);
	return 0;
}

int mmfs_inode_table_init(struct mmfs_inode_table *t, int root_fd,
			  unsigned int fd_cap, int handles,
			  struct mmfs_stats *stats)
{
	struct handle_buf h;
	struct stat st;
	int rc = 0;

	if (fstat(root_fd, &st) == -1)
		return -errno;
	memset(t, 0, sizeof(*t));
	t->stats = stats ? stats : &t->own_stats;
	g_mutex_init(&t->lock);
	t->by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	t->by_key = g_hash_table_new(mmfs_inode_key_hash, mmfs_inode_key_equal);
	t->mount_fd = -1;
	t->next_id = MMFS_INODE_ROOT_ID;
	if (handles)
		rc = probe_handles(t, root_fd, &h);
	t->handles = handles && rc == 0;
	t->handle_error = handles ? -rc : 0;
	t->export_ids = t->handles && is_export_handle(&h);
	if (t->export_ids)
		t->root_handle_id = export_id(&h);
	t->fd_cap = fd_cap < 16 ? 16 : fd_cap;
	mmfs_stat_set(&t->stats->fd_cache_size, t->fd_cap);
	mmfs_stat_set(&t->stats->file_handles, (uint64_t)t->handles);
	mmfs_stat_set(&t->stats->export_ids, (uint64_t)t->export_ids);
	t->root =
	    inode_new(MMFS_INODE_ROOT_ID, root_fd, &st, t->handles ? &h : NULL);
	t->root->nlookup = 1;
	t->root->pinned = 1;
	t->root->keyed = 1;
	t->fds = 1;
	g_hash_table_insert(t->by_key, &t->root->key, t->root);
	g_hash_table_add(t->by_id, t->root);
	mmfs_stat_add(&t->stats->inodes, 1);
	mmfs_stat_add(&t->stats->inode_bytes, mmfs_inode_footprint(t->root));
	mmfs_stat_set(&t->stats->fds_held, t->fds);
	return 0;
}

static void free_value(gpointer key, gpointer value, gpointer table)
{
	(void)key;
	inode_free(table, value);
}

void mmfs_inode_table_destroy(struct mmfs_inode_table *t)
{
	if (!t->by_id)
		return;
	g_hash_table_foreach(t->by_id, free_value, t);
	g_hash_table_destroy(t->by_id);
	g_hash_table_destroy(t->by_key);
	if (t->mount_fd >= 0)
		close(t->mount_fd);
	t->mount_fd = -1;
	t->by_id = t->by_key = NULL;
	t->root = NULL;
	t->lru_head = t->lru_tail = NULL;
	g_mutex_clear(&t->lock);
}

/* Whether an inode found by key is the object behind the new fd. Its own
 * fd, while open, keeps the object alive, so that its inode number cannot
 * have been given to another; once evicted, only the handle can tell. */
static int is_same_object(const struct mmfs_inode *inode, int have_handle,
			  const struct handle_buf *h)
{
	return inode->fd >= 0 || (have_handle && same_handle(inode, h));
}

static struct mmfs_inode *find_locked(struct mmfs_inode_table *t, uint64_t id)
{
	if (t->export_ids && id == t->root_handle_id)
		return t->root;
	return g_hash_table_lookup(t->by_id, &id);
}

/* The inode of the object (handle h if have) by its export id, or by key
 * with counter ids; NULL if it is new, and then *id is its export id or 0.
 * An inode of the same key that is another object stops being found by
 * key. Table lock held. */
static struct mmfs_inode *match_locked(struct mmfs_inode_table *t,
				       const struct mmfs_inode_key *key,
				       int have, const struct handle_buf *h,
				       uint64_t *id)
{
	struct mmfs_inode *inode;

	if (t->export_ids && have && is_export_handle(h)) {
		*id = export_id(h);
		return find_locked(t, *id);
	}
	*id = 0;
	inode = g_hash_table_lookup(t->by_key, key);
	if (inode && !is_same_object(inode, have, h)) {
		/* the object it stood for vanished and its number was
		 * reused: the kernel's old references keep the old inode
		 * (and fail to reopen it), the name gets a new one */
		g_hash_table_remove(t->by_key, &inode->key);
		inode->keyed = 0;
		mmfs_stat_add(&t->stats->stale_handles, 1);
		inode = NULL;
	}
	return inode;
}

struct mmfs_inode *mmfs_inode_ref(struct mmfs_inode_table *t, int fd,
				  const struct stat *st)
{
	struct mmfs_inode_key key = {st->st_dev, st->st_ino};
	struct mmfs_inode *inode;
	struct handle_buf h;
	int have, spare = fd;
	uint64_t id;
	struct victim victims[EVICT_BATCH];
	unsigned int nv;

	have = t->handles && st->st_dev == t->root->key.dev &&
	       handle_of_fd(fd, &h) == 0;
	mmfs_lock(&t->lock);
	inode = match_locked(t, &key, have, &h, &id);
	if (!inode) {
		int exported = id != 0;

		/* in export mode, counter ids have 0 where a handle's inode
		 * number is (they wrap after 2^32 objects) */
		if (!exported)
			id = t->export_ids ? ++t->next_id << 32 : ++t->next_id;
		inode = inode_new(id, fd, st, have ? &h : NULL);
		if (!exported) {
			g_hash_table_insert(t->by_key, &inode->key, inode);
			inode->keyed = 1;
		}
		g_hash_table_add(t->by_id, inode);
		mmfs_stat_add(&t->stats->inodes, 1);
		mmfs_stat_add(&t->stats->inode_bytes,
			      mmfs_inode_footprint(inode));
		t->fds++;
		spare = -1;
	} else if (inode->fd < 0) {
		inode->fd = fd; /* the same object: its fd saves a reopen */
		t->fds++;
		spare = -1;
	}
	if (spare == -1 && evictable(inode)) {
		lru_unlink(t, inode); /* it may be there for its map */
		lru_push(t, inode);
	}
	inode->nlookup++;
	nv = evict_locked(t, t->fd_cap, victims);
	mmfs_unlock(&t->lock);
	if (spare >= 0)
		close(spare);
	close_all(victims, nv);
	return inode;
}

void mmfs_inode_forget(struct mmfs_inode_table *t, struct mmfs_inode *inode,
		       uint64_t n)
{
	int gone;

	mmfs_lock(&t->lock);
	inode->nlookup = n >= inode->nlookup ? 0 : inode->nlookup - n;
	gone = release_locked(t, inode);
	mmfs_unlock(&t->lock);
	if (gone)
		inode_free(t, inode);
}

/* Open the inode's object again from its handle: an O_PATH fd or -errno
 * (-ENOENT when it vanished). Once after running out of fds, half the
 * idle ones are closed and it is tried again. */
/* open_by_handle_at for an O_PATH fd; out of fds, once more after
 * closing half the idle ones. The fd or -errno. */
static int open_handle(struct mmfs_inode_table *t, struct handle_buf *h)
{
	int fd, tries;

	for (tries = 0;; tries++) {
		fd = open_by_handle_at(t->mount_fd, &h->fh,
				       O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (tries > 0 || (errno != EMFILE && errno != ENFILE))
			return -errno;
		mmfs_inode_trim(t, t->fds / 2);
	}
}

static int reopen(struct mmfs_inode_table *t, const struct mmfs_inode *inode)
{
	struct handle_buf h;
	struct stat st;
	int fd;

	h.fh.handle_bytes = inode->handle_len;
	h.fh.handle_type = inode->handle_type;
	memcpy(h.fh.f_handle, inode->handle, inode->handle_len);
	fd = open_handle(t, &h);
	if (fd < 0) {
		if (fd != -ESTALE)
			return fd;
		mmfs_stat_add(&t->stats->stale_handles, 1);
		return -ENOENT;
	}
	/* a handle names one object for good; this only guards against a
	 * filesystem whose handles do not */
	if (fstat(fd, &st) == -1 || st.st_ino != inode->key.ino ||
	    st.st_dev != inode->key.dev) {
		close(fd);
		mmfs_stat_add(&t->stats->stale_handles, 1);
		return -ENOENT;
	}
	mmfs_stat_add(&t->stats->fd_reopens, 1);
	return fd;
}

/* A use taken (table lock held): the inode's fd, or -1 to reopen. */
static int use_locked(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	if (inode->users++ == 0)
		lru_unlink(t, inode);
	return inode->fd;
}

/* The rest of a use whose fd was evicted: reopen it. */
static int use_reopen(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	int fd, spare = -1, gone = 0;
	struct victim victims[EVICT_BATCH];
	unsigned int nv = 0;

	fd = reopen(t, inode); /* the use keeps the inode meanwhile */
	mmfs_lock(&t->lock);
	if (fd < 0) {
		inode->users--;
		gone = release_locked(t, inode);
	} else if (inode->fd >= 0) {
		spare = fd; /* another request reopened it first */
		fd = inode->fd;
	} else {
		inode->fd = fd;
		t->fds++;
		nv = evict_locked(t, t->fd_cap, victims);
	}
	mmfs_unlock(&t->lock);
	if (spare >= 0)
		close(spare);
	close_all(victims, nv);
	if (gone)
		inode_free(t, inode);
	return fd;
}

int mmfs_inode_use(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	int fd;

	mmfs_lock(&t->lock);
	fd = use_locked(t, inode);
	mmfs_unlock(&t->lock);
	if (fd >= 0) {
		mmfs_stat_add(&t->stats->fd_cache_hits, 1);
		return fd;
	}
	return use_reopen(t, inode);
}

int mmfs_inode_use_id(struct mmfs_inode_table *t, uint64_t id,
		      struct mmfs_inode **inode)
{
	int fd;

	mmfs_lock(&t->lock);
	*inode = find_locked(t, id);
	fd = *inode ? use_locked(t, *inode) : -ESTALE;
	mmfs_unlock(&t->lock);
	if (fd >= 0) {
		mmfs_stat_add(&t->stats->fd_cache_hits, 1);
		return fd;
	}
	return *inode ? use_reopen(t, *inode) : fd;
}

struct mmfs_inode *mmfs_inode_find(struct mmfs_inode_table *t, uint64_t id)
{
	struct mmfs_inode *inode;

	mmfs_lock(&t->lock);
	inode = find_locked(t, id);
	mmfs_unlock(&t->lock);
	return inode;
}

uint32_t mmfs_inode_generation(const struct mmfs_inode_table *t,
			       const struct mmfs_inode *inode)
{
	return t->export_ids && (uint32_t)inode->id ? inode->id >> 32 : 0;
}

/* Whether the directory behind fd is SOURCE's root or below it: 0 or
 * -ESTALE. Walks "..", leaving SOURCE's filesystem or reaching a directory
 * that is its own parent (the root of it all) means outside. */
static int inside_source(const struct mmfs_inode_table *t, int fd)
{
	struct stat st;
	struct mmfs_inode_key last = {0, 0};
	int cur = fd, up, rc = -ESTALE, depth;

	for (depth = 0; depth < PATH_MAX / 2 && fstat(cur, &st) == 0; depth++) {
		if (st.st_dev == t->root->key.dev &&
		    st.st_ino == t->root->key.ino) {
			rc = 0;
			break;
		}
		if (st.st_dev != t->root->key.dev ||
		    (depth && st.st_ino == last.ino))
			break;
		last.dev = st.st_dev;
		last.ino = st.st_ino;
		up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cur != fd)
			close(cur);
		cur = up;
		if (cur == -1)
			break;
	}
	if (cur != fd && cur >= 0)
		close(cur);
	return rc;
}

int mmfs_inode_open_id(struct mmfs_inode_table *t, uint64_t id)
{
	struct handle_buf h;
	struct stat st;
	int fd, rc;

	if (!t->export_ids || !(uint32_t)id)
		return -ESTALE;
	h.fh.handle_bytes = EXPORT_HANDLE_LEN;
	h.fh.handle_type = EXPORT_HANDLE_TYPE;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_handle(t, &h);
	if (fd < 0)
		return fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM
			   ? fd
			   : -ESTALE;
	if (fstat(fd, &st) == -1 || st.st_dev != t->root->key.dev)
		rc = -ESTALE;
	else if (S_ISDIR(st.st_mode))
		rc = inside_source(t, fd);
	else
		rc = t->whole_fs ? 0 : -ESTALE;
	if (rc) {
		close(fd);
		return rc;
	}
	mmfs_stat_add(&t->stats->fd_reopens, 1);
	return fd;
}

void mmfs_inode_unuse(struct mmfs_inode_table *t, struct mmfs_inode *inode)
{
	int gone = 0;
	struct victim victims[EVICT_BATCH];
	unsigned int nv = 0;

	mmfs_lock(&t->lock);
	if (--inode->users == 0) {
		gone = release_locked(t, inode);
		if (!gone && evictable(inode)) {
			lru_push(t, inode);
			nv = evict_locked(t, t->fd_cap, victims);
		}
	}
	mmfs_unlock(&t->lock);
	close_all(victims, nv);
	if (gone)
		inode_free(t, inode);
}

void mmfs_inode_set_map(struct mmfs_inode_table *t, struct mmfs_inode *inode,
			struct mmfs_map *map)
{
	mmfs_lock(&t->lock);
	g_atomic_pointer_set(&inode->map, map);
	t->fds++;
	mmfs_stat_set(&t->stats->fds_held, t->fds);
	mmfs_unlock(&t->lock);
}

unsigned int mmfs_inode_trim(struct mmfs_inode_table *t, unsigned int keep)
{
	struct victim victims[EVICT_BATCH];
	unsigned int n, total = 0;

	do {
		mmfs_lock(&t->lock);
		n = evict_locked(t, keep, victims);
		mmfs_unlock(&t->lock);
		close_all(victims, n);
		total += n;
	} while (n == EVICT_BATCH);
	return total;
}

unsigned int mmfs_inode_count(struct mmfs_inode_table *t)
{
	unsigned int n;

	mmfs_lock(&t->lock);
	n = g_hash_table_size(t->by_id);
	mmfs_unlock(&t->lock);
	return n;
}
