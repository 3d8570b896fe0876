// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the mapping engine and the SIGBUS guard, on plain files in
 * a temporary directory (no FUSE). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "memmapfs/guard.h"
#include "memmapfs/map.h"

#include "harness.h"

#define W (64 * 1024)

static char dir[] = "/var/tmp/mmfs-map.XXXXXX";
static struct mmfs_stats stats;
static struct mmfs_engine *eng;

static void setup(void)
{
	strcpy(dir, "/var/tmp/mmfs-map.XXXXXX");
	ck_assert(mkdtemp(dir));
	memset(&stats, 0, sizeof(stats));
	eng = NULL;
}

static void teardown(void)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	mmfs_engine_free(eng);
	ck_assert(system(cmd) == 0);
	g_free(cmd);
}

static void engine(uint64_t window, uint64_t max_mapped)
{
	struct mmfs_map_config cfg;

	mmfs_map_config_defaults(&cfg);
	cfg.window = window;
	cfg.max_mapped = max_mapped;
	eng = mmfs_engine_new(&cfg, &stats);
}

static const char *path(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* A byte that depends on its offset, to spot misplaced data. */
static char pattern(off_t off)
{
	return (char)((off * 7 + off / 4099) & 0xff);
}

static int make_file(const char *name, off_t size)
{
	int fd = open(path(name), O_CREAT | O_RDWR | O_TRUNC, 0644);
	char buf[8192];

	ck_assert(fd >= 0);
	for (off_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = (size_t)MIN((off_t)sizeof(buf), size - off);

		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + (off_t)i);
		ck_assert(pwrite(fd, buf, n, off) == (ssize_t)n);
	}
	return fd;
}

static struct mmfs_map *open_map(const char *name)
{
	int fd = open(path(name), O_RDWR);
	struct mmfs_map *map;

	ck_assert(fd >= 0);
	map = mmfs_map_new(eng, fd, 1, name);
	ck_assert_ptr_nonnull(map);
	return map;
}

/* A read as the daemon serves it (harness.c) */
static ssize_t daemon_read(struct mmfs_map *map, void *buf, size_t size,
			   off_t off)
{
	return harness_engine_read(map, &stats, buf, size, off);
}

static void check_read(struct mmfs_map *map, off_t off, size_t size,
		       ssize_t expect)
{
	char *buf = g_malloc(size + 1);
	ssize_t n = daemon_read(map, buf, size, off);

	ck_assert_msg(n == expect, "read %zu at %lld: got %zd, want %zd", size,
		      (long long)off, n, expect);
	for (ssize_t i = 0; i < n; i++)
		ck_assert_msg(buf[i] == pattern(off + i), "byte at %lld wrong",
			      (long long)(off + i));
	g_free(buf);
}

START_TEST(test_window_arithmetic_at_every_boundary)
{
	const off_t size = 3 * W + 100;

	engine(W, 64 * W);
	close(make_file("f", size));
	struct mmfs_map *map = open_map("f");

	check_read(map, 0, 1, 1);
	check_read(map, W - 1, 1, 1);
	check_read(map, W - 1, 2, 2); /* spans two windows */
	check_read(map, W, W, W);
	check_read(map, W - 10, W + 20, W + 20); /* three windows */
	check_read(map, size - 1, 1, 1);
	check_read(map, size - 1, 100, 1);
	check_read(map, size, 10, 0);
	check_read(map, size + W * 7, 10, 0);
	check_read(map, 0, (size_t)size + 5, size);
	ck_assert_uint_eq(mmfs_map_window_count(map), 4);
	mmfs_map_close(map);
	ck_assert_uint_eq(mmfs_stat_get(&stats.windows_current), 0);
	ck_assert_uint_eq(mmfs_stat_get(&stats.mapped_bytes), 0);
}
END_TEST

START_TEST(test_small_file_gets_one_page_rounded_window)
{
	engine(2 << 20, 64 << 20);
	close(make_file("small", 100));
	struct mmfs_map *map = open_map("small");

	check_read(map, 0, 4096, 100);
	ck_assert_uint_eq(mmfs_stat_get(&stats.windows_current), 1);
	ck_assert_uint_eq(mmfs_stat_get(&stats.mapped_bytes), 4096);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_budget_holds_with_eviction_on_sparse_8gib_file)
{
	const off_t size = (off_t)8 << 30;
	int fd = open(path("sparse"), O_CREAT | O_RDWR, 0644);

	engine(W, 4 * W);
	ck_assert(ftruncate(fd, size) == 0);
	for (int i = 0; i < 64; i++) {
		off_t off = size / 64 * i + i * 4099;
		char c[16];

		for (int j = 0; j < 16; j++)
			c[j] = pattern(off + j);
		ck_assert(pwrite(fd, c, 16, off) == 16);
	}
	close(fd);
	struct mmfs_map *map = open_map("sparse");

	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 64; i++) {
			off_t off = size / 64 * i + i * 4099;

			check_read(map, off, 1, 1);
			check_read(map, off + 3, 13, 13);
			ck_assert_uint_le(mmfs_stat_get(&stats.mapped_bytes),
					  4 * W);
			ck_assert_uint_le(mmfs_stat_get(&stats.windows_current),
					  4);
		}
	ck_assert_uint_ge(mmfs_stat_get(&stats.windows_evicted), 100);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_pinned_windows_are_never_evicted)
{
	struct mmfs_pinned held[4], extra;
	char buf[16];

	engine(W, 4 * W);
	close(make_file("f", 16 * W));
	struct mmfs_map *map = open_map("f");

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(mmfs_map_pin(map, (off_t)i * W, 10, &held[i]),
				 0);
	/* the budget is all pinned: a fifth window cannot be had */
	ck_assert_int_eq(mmfs_map_pin(map, 9 * W, 10, &extra), -ENOMEM);
	/* copies still work, by pread */
	ck_assert_int_eq(daemon_read(map, buf, 10, 9 * W), 10);
	ck_assert(buf[7] == pattern(9 * W + 7));
	ck_assert_uint_eq(mmfs_stat_get(&stats.budget_fallbacks), 1);
	for (int i = 0; i < 4; i++)
		ck_assert(((char *)held[i].iov[0].iov_base)[3] ==
			  pattern((off_t)i * W + 3));
	mmfs_map_unpin(&held[2]);
	check_read(map, 9 * W, 10, 10); /* evicts window 2 only */
	for (int i = 0; i < 4; i++)
		if (i != 2)
			ck_assert(((char *)held[i].iov[0].iov_base)[5] ==
				  pattern((off_t)i * W + 5));
	for (int i = 0; i < 4; i++)
		if (i != 2)
			mmfs_map_unpin(&held[i]);
	mmfs_map_close(map);
}
END_TEST

/* Appends go by fd (the new size is then durable only with the data):
 * no window is mapped for them, and the file holds them all; what they
 * wrote is dirty until synced. */
START_TEST(test_many_small_appends_cost_no_mappings)
{
	char block[4096];
	off_t off = 0;

	engine(1 << 20, 64 << 20);
	close(make_file("log", 0));
	struct mmfs_map *map = open_map("log");

	for (int i = 0; i < 1000; i++, off += sizeof(block)) {
		for (size_t j = 0; j < sizeof(block); j++)
			block[j] = pattern(off + (off_t)j);
		ck_assert_int_eq(
		    mmfs_map_write(map, block, sizeof(block), off, 0),
		    sizeof(block));
	}
	ck_assert_uint_eq(mmfs_stat_get(&stats.windows_mapped), 0);
	ck_assert_uint_eq(mmfs_stat_get(&stats.write_requests_fd), 1000);
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), (uint64_t)off);
	ck_assert_int_eq(mmfs_map_size(map), off);
	mmfs_map_close(map);

	struct stat st;
	ck_assert(stat(path("log"), &st) == 0);
	ck_assert_int_eq(st.st_size, off);
	map = open_map("log");
	check_read(map, 0, (size_t)off, off);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_write_past_eof_leaves_a_hole)
{
	struct stat st;
	char buf[8] = "xyz";

	engine(W, 64 * W);
	close(make_file("f", 10));
	struct mmfs_map *map = open_map("f");

	ck_assert_int_eq(mmfs_map_write(map, buf, 3, 10 * W, 0), 3);
	ck_assert(stat(path("f"), &st) == 0);
	ck_assert_int_eq(st.st_size, 10 * W + 3);
	ck_assert_int_lt(st.st_blocks, 64); /* the gap was not allocated */
	ck_assert_int_eq(daemon_read(map, buf, 4, 5 * W), 4);
	ck_assert(memcmp(buf, "\0\0\0\0", 4) == 0);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_truncate_then_read)
{
	engine(W, 64 * W);
	close(make_file("f", 8 * W));
	struct mmfs_map *map = open_map("f");

	check_read(map, 0, 8 * W, 8 * W);
	ck_assert_uint_eq(mmfs_map_window_count(map), 8);
	ck_assert_int_eq(mmfs_map_truncate(map, 100), 0);
	check_read(map, 0, 200, 100);
	check_read(map, 500, 10, 0);
	check_read(map, 5 * W, 10, 0);
	ck_assert_uint_eq(mmfs_map_window_count(map), 1);
	ck_assert_uint_eq(mmfs_stat_get(&stats.windows_current), 1);
	mmfs_map_close(map);
}
END_TEST

/* The fstat hook: the size is read, then (before the map learns it) a
 * truncate through the map runs, as on another request's thread. */
static struct mmfs_map *stale_map;
static off_t stale_cut;

static int fstat_then_truncate(int fd, struct stat *st)
{
	int rc = fstat(fd, st);

	mmfs_fstat_hook = fstat;
	ck_assert_int_eq(mmfs_map_truncate(stale_map, stale_cut), 0);
	return rc;
}

START_TEST(test_stale_fstat_does_not_undo_a_truncate)
{
	engine(W, 64 * W);
	close(make_file("f", 4 * W));
	struct mmfs_map *map = open_map("f");

	check_read(map, 0, 4 * W, 4 * W);
	stale_map = map;
	stale_cut = 100;
	mmfs_fstat_hook = fstat_then_truncate;
	/* the fstat saw 4W, but the truncate to 100 came after it */
	ck_assert_int_eq(mmfs_map_refresh_size(map), 100);
	ck_assert_int_eq(mmfs_map_size(map), 100);
	ck_assert_int_eq(mmfs_map_refresh_size(map), 100);
	/* past the new end is the end of file, not data gone (EIO) */
	check_read(map, 2 * W, 100, 0);
	check_read(map, 50, 100, 50);
	ck_assert_uint_eq(mmfs_stat_get(&stats.sigbus_recovered), 0);
	mmfs_map_close(map);
}
END_TEST

struct cutter {
	struct mmfs_map *map;
	off_t size;
	int done; /* atomic */
};

static gpointer cut(gpointer p)
{
	struct cutter *c = p;

	ck_assert_int_eq(mmfs_map_truncate(c->map, c->size), 0);
	g_atomic_int_set(&c->done, 1);
	return NULL;
}

START_TEST(test_truncate_waits_for_replies_copied_from_its_pages)
{
	struct cutter c = {.size = W / 2};
	struct mmfs_pinned p;
	char *buf = g_malloc(2 * W);
	size_t done = 0;
	GThread *t;

	engine(W, 64 * W);
	close(make_file("f", 4 * W));
	c.map = open_map("f");
	/* a reply from the windows is being copied ... */
	ck_assert_int_eq(mmfs_map_pin_read(c.map, W, 2 * W, &p), 0);
	ck_assert_uint_eq(p.bytes, 2 * W);
	/* ... when a truncate through the mount cuts under it */
	t = g_thread_new("cut", cut, &c);
	g_usleep(200 * 1000);
	ck_assert_msg(!g_atomic_int_get(&c.done),
		      "the truncate cut pages a reply was being copied from");
	for (int i = 0; i < p.count; i++) {
		char *src = p.iov[i].iov_base;

		ck_assert_int_eq(mmfs_guard_copy(buf + done, src,
						 p.iov[i].iov_len, src,
						 src + p.iov[i].iov_len),
				 0);
		done += p.iov[i].iov_len;
	}
	for (size_t i = 0; i < done; i++)
		ck_assert(buf[i] == pattern(W + (off_t)i));
	mmfs_map_unpin(&p);
	g_thread_join(t);
	ck_assert(g_atomic_int_get(&c.done));
	ck_assert_uint_eq(mmfs_stat_get(&stats.truncate_waits), 1);
	/* a read pinned after the cut sees the new end */
	check_read(c.map, 0, 2 * W, W / 2);
	check_read(c.map, W, 10, 0);
	mmfs_map_close(c.map);
	g_free(buf);
}
END_TEST

START_TEST(test_read_past_external_truncation_returns_eio)
{
	int fd;

	engine(W, 64 * W);
	close(make_file("f", 4 * W));
	struct mmfs_map *map = open_map("f");

	check_read(map, 0, 4 * W, 4 * W); /* all mapped */
	fd = open(path("f"), O_RDWR);
	ck_assert(ftruncate(fd, 4096) == 0); /* behind the map's back */
	close(fd);
	check_read(map, 2 * W, 100, -EIO);
	ck_assert_uint_eq(mmfs_stat_get(&stats.sigbus_recovered), 1);
	check_read(map, 0, 100, 100); /* data before the end still fine */
	check_read(map, 4000, 200, 96);
	/* still EIO: whoever asks was promised this data */
	check_read(map, 2 * W, 100, -EIO);
	/* once the size is set through the map, past the end is just EOF */
	ck_assert_int_eq(mmfs_map_truncate(map, 4096), 0);
	check_read(map, 2 * W, 100, 0);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_write_into_externally_truncated_range_falls_back)
{
	char buf[100];
	int fd;

	memset(buf, 'w', sizeof(buf));
	engine(W, 64 * W);
	close(make_file("f", 4 * W));
	struct mmfs_map *map = open_map("f");

	check_read(map, 0, 4 * W, 4 * W);
	fd = open(path("f"), O_RDWR);
	ck_assert(ftruncate(fd, 4096) == 0);
	ck_assert_int_eq(mmfs_map_write(map, buf, sizeof(buf), 3 * W, 0), 100);
	ck_assert_uint_eq(mmfs_stat_get(&stats.write_requests_fd), 1);
	ck_assert(pread(fd, buf, 1, 3 * W + 99) == 1 && buf[0] == 'w');
	close(fd);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_full_filesystem_gives_enospc_not_sigbus)
{
	char small[PATH_MAX], *block = g_malloc0(1 << 20);
	int fd, filler;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_full_filesystem_gives_enospc: "
				"mounting a small tmpfs needs root\n");
		return;
	}
#ifdef __SANITIZE_THREAD__
	/* TSan defers signals and cannot leave a handler by siglongjmp */
	fprintf(stderr, "SKIP test_full_filesystem_gives_enospc: the SIGBUS "
			"guard cannot work under ThreadSanitizer\n");
	return;
#endif
	snprintf(small, sizeof(small), "%s/small", dir);
	ck_assert(mkdir(small, 0755) == 0);
	ck_assert_msg(mount("tmpfs", small, "tmpfs", 0, "size=2m") == 0,
		      "mount tmpfs: %s", strerror(errno));
	engine(W, 64 * W);
	fd = open(path("small/sparse"), O_CREAT | O_RDWR, 0644);
	ck_assert(ftruncate(fd, 8 << 20) == 0); /* all hole */
	struct mmfs_map *map = mmfs_map_new(eng, fd, 1, "sparse");
	filler = open(path("small/filler"), O_CREAT | O_WRONLY, 0644);
	while (write(filler, block, 1 << 16) > 0)
		;
	ck_assert_int_eq(errno, ENOSPC);
	/* into a hole: the store faults, the retry reports ENOSPC */
	ck_assert_int_eq(mmfs_map_write(map, block, 4096, 4 << 20, 0), -ENOSPC);
	/* past the end: reserved first, so ENOSPC at once */
	ck_assert_int_eq(mmfs_map_write(map, block, 4096, 9 << 20, 0), -ENOSPC);
	/* A read of the hole: tmpfs cannot even back the read fault with a
	 * page now. The daemon replies from the mapping, the kernel's copy
	 * faults and the reader gets EIO (the README's known limit: a fault
	 * inside the file under a zero-copy reply); the map survives it and
	 * the fault is counted. */
	uint64_t faults = mmfs_stat_get(&stats.sigbus_recovered);

	ck_assert_int_eq(daemon_read(map, block, 4096, 1 << 20), -EIO);
	ck_assert_uint_gt(mmfs_stat_get(&stats.sigbus_recovered), faults);
	ck_assert_int_eq(mmfs_map_size(map), 8 << 20);
	mmfs_map_close(map);
	close(filler);
	ck_assert(umount2(small, MNT_DETACH) == 0);
	g_free(block);
}
END_TEST

START_TEST(test_map_and_fd_writes_see_each_other)
{
	char buf[8];
	int fd;

	engine(W, 64 * W);
	close(make_file("f", 2 * W));
	struct mmfs_map *map = open_map("f");

	fd = open(path("f"), O_RDWR);
	ck_assert_int_eq(mmfs_map_write(map, "MAPPED", 6, W - 3, 0), 6);
	ck_assert(pread(fd, buf, 6, W - 3) == 6);
	ck_assert(memcmp(buf, "MAPPED", 6) == 0);
	ck_assert(pwrite(fd, "BYFD", 4, 100) == 4);
	ck_assert_int_eq(daemon_read(map, buf, 4, 100), 4);
	ck_assert(memcmp(buf, "BYFD", 4) == 0);
	close(fd);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_mapped_write_updates_mtime)
{
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	struct stat st;

	engine(W, 64 * W);
	close(make_file("f", 100));
	ck_assert(utimensat(AT_FDCWD, path("f"), old, 0) == 0);
	struct mmfs_map *map = open_map("f");

	ck_assert_int_eq(mmfs_map_write(map, "x", 1, 5, 0), 1);
	ck_assert(stat(path("f"), &st) == 0);
	ck_assert_int_gt(st.st_mtim.tv_sec, 1000);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_read_only_map_refuses_writes)
{
	int fd;

	engine(W, 64 * W);
	close(make_file("f", 100));
	fd = open(path("f"), O_RDONLY);
	struct mmfs_map *map = mmfs_map_new(eng, fd, 0, "f");

	ck_assert_int_eq(mmfs_map_write(map, "x", 1, 5, 0), -EBADF);
	check_read(map, 0, 100, 100);
	mmfs_map_close(map);
}
END_TEST

#define THREADS 4
#define REGION	(4 * W)

struct worker {
	struct mmfs_map *map;
	int id;
	char model[REGION];
	int failed;
};

static gpointer work(gpointer p)
{
	struct worker *wk = p;
	GRand *r = g_rand_new_with_seed(wk->id);
	char buf[W + 100];
	off_t base = (off_t)wk->id * REGION;

	for (int op = 0; op < 3000 && !wk->failed; op++) {
		size_t len = g_rand_int_range(r, 1, sizeof(buf));
		off_t at = g_rand_int_range(r, 0, REGION - (gint32)len);

		if (g_rand_boolean(r)) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (char)g_rand_int(r);
			if (mmfs_map_write(wk->map, buf, len, base + at, 0) !=
			    (ssize_t)len)
				wk->failed = 1;
			memcpy(wk->model + at, buf, len);
		} else {
			ssize_t n = daemon_read(wk->map, buf, len, base + at);

			if (n != (ssize_t)len ||
			    memcmp(buf, wk->model + at, len) != 0)
				wk->failed = 2;
		}
	}
	g_rand_free(r);
	return NULL;
}

START_TEST(test_concurrent_readers_and_writers_match_a_model)
{
	struct worker *wk = g_new0(struct worker, THREADS);
	GThread *t[THREADS];
	int fd;

	/* a budget of 6 windows for 16 in use: eviction all the time */
	engine(W, 6 * W);
	fd = make_file("f", 0);
	ck_assert(ftruncate(fd, THREADS * REGION) == 0);
	close(fd);
	struct mmfs_map *map = open_map("f");

	for (int i = 0; i < THREADS; i++) {
		wk[i].map = map;
		wk[i].id = i;
		t[i] = g_thread_new("worker", work, &wk[i]);
	}
	for (int i = 0; i < THREADS; i++)
		g_thread_join(t[i]);
	for (int i = 0; i < THREADS; i++)
		ck_assert_msg(!wk[i].failed, "worker %d failed (%d)", i,
			      wk[i].failed);
	ck_assert_uint_le(mmfs_stat_get(&stats.mapped_bytes), 6 * W);
	ck_assert_uint_gt(mmfs_stat_get(&stats.windows_evicted), 0);
	mmfs_map_close(map);

	char *back;
	gsize len;
	ck_assert(g_file_get_contents(path("f"), &back, &len, NULL));
	ck_assert_uint_eq(len, THREADS * REGION);
	for (int i = 0; i < THREADS; i++)
		ck_assert(memcmp(back + i * REGION, wk[i].model, REGION) == 0);
	g_free(back);
	g_free(wk);
}
END_TEST

/* Truncation, eviction and the last close of a file racing each other:
 * windows leave their map and the budget exactly once. */
#define RACE_FILES 3
#define RACE_SIZE  (8 * W)

struct racer {
	struct mmfs_map **maps;
	GRWLock *cuts; /* no copy in flight on a file being written (the
			* data race would be the test's own); reads race
			* the truncates freely, as through the mount, and
			* must never fault (no guard needed: none under
			* TSan) nor fail */
	GMutex *sizes; /* writes and truncates of a file, one at a time,
			* as the kernel's i_rwsem makes them */
	const char *solo;
	int id;
	int failed;
};

static gpointer race_io(gpointer p)
{
	struct racer *rc = p;
	GRand *r = g_rand_new_with_seed(rc->id);
	char buf[2 * W];

	for (int op = 0; op < 4000; op++) {
		int f = g_rand_int_range(r, 0, RACE_FILES);
		struct mmfs_map *map = rc->maps[f];
		size_t len = g_rand_int_range(r, 1, sizeof(buf));
		off_t at = g_rand_int_range(r, 0, RACE_SIZE);
		ssize_t n;

		switch (rc->id % 3) {
		case 0: /* reads and writes anywhere, growing files again */
			if (g_rand_boolean(r)) {
				g_rw_lock_reader_lock(&rc->cuts[f]);
				n = daemon_read(map, buf, len, at);
				g_rw_lock_reader_unlock(&rc->cuts[f]);
			} else {
				g_mutex_lock(&rc->sizes[f]);
				g_rw_lock_writer_lock(&rc->cuts[f]);
				n = mmfs_map_write(map, buf, len, at, 0);
				g_rw_lock_writer_unlock(&rc->cuts[f]);
				g_mutex_unlock(&rc->sizes[f]);
			}
			if (n < 0 && n != -ENOMEM)
				rc->failed = (int)-n;
			break;
		case 1: /* truncation, shrinking and growing */
			g_mutex_lock(&rc->sizes[f]);
			n = mmfs_map_truncate(map, at);
			g_mutex_unlock(&rc->sizes[f]);
			if (n != 0)
				rc->failed = (int)-n;
			break;
		default: { /* a file opened, read whole and closed again */
			int fd = open(rc->solo, O_RDWR);
			struct mmfs_map *m = mmfs_map_new(eng, fd, 1, "solo");

			if (!m) {
				rc->failed = 1;
				break;
			}
			for (off_t o = 0; o < RACE_SIZE; o += W)
				if (daemon_read(m, buf, W, o) != W)
					rc->failed = 2;
			mmfs_map_close(m);
			op += 20;
		}
		}
	}
	g_rand_free(r);
	return NULL;
}

START_TEST(test_truncate_evict_and_close_race_cleanly)
{
	struct mmfs_map *maps[RACE_FILES];
	GRWLock cuts[RACE_FILES];
	GMutex sizes[RACE_FILES];
	struct racer rc[6];
	GThread *t[6];
	char name[16];

	engine(W, 3 * W); /* eviction on nearly every new window */
	close(make_file("solo", RACE_SIZE));
	char *solo = g_strdup(path("solo"));
	for (int i = 0; i < RACE_FILES; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		close(make_file(name, RACE_SIZE));
		maps[i] = open_map(name);
		g_rw_lock_init(&cuts[i]);
		g_mutex_init(&sizes[i]);
	}
	for (int i = 0; i < 6; i++) {
		rc[i] = (struct racer){.maps = maps,
				       .cuts = cuts,
				       .sizes = sizes,
				       .solo = solo,
				       .id = i};
		t[i] = g_thread_new("racer", race_io, &rc[i]);
	}
	for (int i = 0; i < 6; i++)
		g_thread_join(t[i]);
	for (int i = 0; i < 6; i++)
		ck_assert_msg(!rc[i].failed, "racer %d failed (%d)", i,
			      rc[i].failed);
	ck_assert_uint_gt(mmfs_stat_get(&stats.windows_evicted), 0);
	for (int i = 0; i < RACE_FILES; i++) {
		mmfs_map_close(maps[i]);
		g_rw_lock_clear(&cuts[i]);
		g_mutex_clear(&sizes[i]);
	}
	g_free(solo);
	/* every window accounted for exactly once */
	ck_assert_uint_eq(mmfs_stat_get(&stats.mapped_bytes), 0);
	ck_assert_uint_eq(mmfs_stat_get(&stats.windows_current), 0);
}
END_TEST

START_TEST(test_release_pages_drops_clean_pages_keeps_dirty_ones)
{
	size_t size = 8 * W, page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char vec[8 * W / 4096];
	struct mmfs_pinned p;
	size_t after = 0;
	volatile char sink;
	char c = 'x';
	void *view;
	int fd;

	engine(W, 64 * W);
	fd = make_file("f", (off_t)size);
	ck_assert(fsync(fd) == 0);
	struct mmfs_map *map = open_map("f");

	/* one dirty page in the middle: it must stay */
	ck_assert_int_eq(mmfs_map_write(map, &c, 1, (off_t)(4 * W), 0), 1);
	ck_assert_int_eq(mmfs_map_pin(map, 0, size, &p), 0);
	for (int i = 0; i < p.count; i++) /* touch it all */
		for (size_t o = 0; o < p.iov[i].iov_len; o += page)
			sink = ((volatile char *)p.iov[i].iov_base)[o];
	mmfs_map_pageout_read(&p);
	mmfs_map_unpin(&p);
	view = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert(view != MAP_FAILED);
	ck_assert(mincore(view, size, vec) == 0);
	for (size_t i = 0; i < size / page; i++)
		after += vec[i] & 1;
	/* of 128: the dirty one, and a few the kernel may keep (pages it
	 * could not isolate at that moment) */
	ck_assert_msg(after >= 1 && after <= 8, "%zu pages still cached",
		      after);
	ck_assert(vec[4 * W / page] & 1); /* the dirty one */
	ck_assert_uint_eq(mmfs_stat_get(&stats.bytes_released), size);
	munmap(view, size);
	check_read(map, 0, 4 * W, 4 * W); /* and the data is still there */
	mmfs_map_close(map);
	close(fd);
	(void)sink;
}
END_TEST

START_TEST(test_unguarded_sigbus_still_kills)
{
	int status;

#ifdef __SANITIZE_THREAD__
	return; /* TSan reports the signal its own way */
#endif
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(path("g"), O_CREAT | O_RDWR, 0644);
		char *p;

		mmfs_guard_init();
		ck_assert(ftruncate(fd, 8192) == 0);
		p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		ck_assert(ftruncate(fd, 0) == 0);
		signal(SIGABRT, SIG_DFL);
		_exit(p[4096]); /* not inside a guarded copy */
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	/* Killed by SIGBUS, or (under AddressSanitizer, whose handler the
	 * guard hands the signal to) reported and exited non-zero. Had the
	 * guard swallowed it, the child would read the page and exit 0. */
	if (WIFSIGNALED(status))
		ck_assert_int_eq(WTERMSIG(status), SIGBUS);
	else
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}
END_TEST

START_TEST(test_config_check_rejects_bad_sizes)
{
	struct mmfs_map_config cfg;
	const char *why = NULL;

	mmfs_map_config_defaults(&cfg);
	ck_assert_int_eq(mmfs_map_config_check(&cfg, &why), 0);
	ck_assert_uint_ge(cfg.max_mapped, 16 * cfg.window);
	cfg.window = 5000;
	ck_assert_int_eq(mmfs_map_config_check(&cfg, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "page size"));
	cfg.window = 1 << 20;
	cfg.max_mapped = 4096;
	ck_assert_int_eq(mmfs_map_config_check(&cfg, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "max_mapped"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("map");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_window_arithmetic_at_every_boundary);
	tcase_add_test(tc, test_small_file_gets_one_page_rounded_window);
	tcase_add_test(tc, test_budget_holds_with_eviction_on_sparse_8gib_file);
	tcase_add_test(tc, test_pinned_windows_are_never_evicted);
	tcase_add_test(tc, test_many_small_appends_cost_no_mappings);
	tcase_add_test(tc, test_write_past_eof_leaves_a_hole);
	tcase_add_test(tc, test_truncate_then_read);
	tcase_add_test(tc, test_stale_fstat_does_not_undo_a_truncate);
	tcase_add_test(tc,
		       test_truncate_waits_for_replies_copied_from_its_pages);
	tcase_add_test(tc, test_read_past_external_truncation_returns_eio);
	tcase_add_test(tc,
		       test_write_into_externally_truncated_range_falls_back);
	tcase_add_test(tc, test_full_filesystem_gives_enospc_not_sigbus);
	tcase_add_test(tc, test_map_and_fd_writes_see_each_other);
	tcase_add_test(tc, test_mapped_write_updates_mtime);
	tcase_add_test(tc, test_read_only_map_refuses_writes);
	tcase_add_test(tc, test_concurrent_readers_and_writers_match_a_model);
	tcase_add_test(tc, test_truncate_evict_and_close_race_cleanly);
	tcase_add_test(tc,
		       test_release_pages_drops_clean_pages_keeps_dirty_ones);
	tcase_add_test(tc, test_unguarded_sigbus_still_kills);
	tcase_add_test(tc, test_config_check_rejects_bad_sizes);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
