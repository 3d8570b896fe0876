// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the sync modes on plain files: an interposed msync
 * records every call (and can fail), so each test proves when msync
 * happens, on which range, and what becomes of an error. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "memmapfs/map.h"
#include "memmapfs/sync.h"

#include "harness.h"

#define W (64 * 1024)

static char dir[] = "/var/tmp/mmfs-sync.XXXXXX";
static struct mmfs_stats stats;
static struct mmfs_engine *eng;

/* ---- the msync double ---- */

static GMutex calls_lock;
static GArray *calls; /* of size_t: the length of each msync */
static int fail_next; /* errno for the next call(s) */
static int fail_count;
static unsigned int slow_ms; /* make each call take this long */

static int msync_double(void *addr, size_t len, int flags)
{
	int err = 0;

	g_mutex_lock(&calls_lock);
	g_array_append_val(calls, len);
	if (fail_count > 0) {
		fail_count--;
		err = fail_next;
	}
	g_mutex_unlock(&calls_lock);
	if (slow_ms)
		g_usleep(slow_ms * 1000);
	if (err) {
		errno = err;
		return -1;
	}
	return msync(addr, len, flags);
}

static unsigned int ncalls(void)
{
	unsigned int n;

	g_mutex_lock(&calls_lock);
	n = calls->len;
	g_mutex_unlock(&calls_lock);
	return n;
}

static size_t call_len(unsigned int i)
{
	return g_array_index(calls, size_t, i);
}

static void setup(void)
{
	strcpy(dir, "/var/tmp/mmfs-sync.XXXXXX");
	ck_assert(mkdtemp(dir));
	memset(&stats, 0, sizeof(stats));
	calls = g_array_new(FALSE, FALSE, sizeof(size_t));
	fail_count = 0;
	slow_ms = 0;
	mmfs_msync_hook = msync_double;
	eng = NULL;
}

static void teardown(void)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	mmfs_engine_free(eng);
	mmfs_msync_hook = msync;
	g_array_free(calls, TRUE);
	ck_assert(system(cmd) == 0);
	g_free(cmd);
}

static void engine(uint64_t max_mapped)
{
	struct mmfs_map_config cfg;

	mmfs_map_config_defaults(&cfg);
	cfg.window = W;
	cfg.max_mapped = max_mapped;
	eng = mmfs_engine_new(&cfg, &stats);
}

static struct mmfs_map *new_map(const char *name, off_t size)
{
	char *path = g_strdup_printf("%s/%s", dir, name);
	int fd = open(path, O_CREAT | O_RDWR, 0644);
	struct mmfs_map *map;

	g_free(path);
	ck_assert(fd >= 0);
	ck_assert(ftruncate(fd, size) == 0);
	map = mmfs_map_new(eng, fd, 1, name);
	ck_assert_ptr_nonnull(map);
	return map;
}

static void write_at(struct mmfs_map *map, off_t off, size_t len, int flags)
{
	char *buf = g_malloc(len);

	memset(buf, 'd', len);
	ck_assert_int_eq(mmfs_map_write(map, buf, len, off, flags), len);
	g_free(buf);
}

/* ---- immediate ---- */

START_TEST(test_immediate_write_msyncs_exactly_the_range_it_dirtied)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes;
	unsigned int files;

	engine(64 * W);
	s = mmfs_syncer_new(eng, MMFS_SYNC_IMMEDIATE, 5, &stats);
	map = new_map("f", 4 * W);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	write_at(map, 5000, 100, mmfs_sync_write_flags(s, map, O_WRONLY));
	ck_assert_uint_eq(ncalls(), 1);
	/* from the page holding byte 5000 to byte 5100 */
	ck_assert_uint_eq(call_len(0), 5100 - 4096);
	/* a write across a window boundary: one msync per window */
	write_at(map, W - 10, 20, mmfs_sync_write_flags(s, map, O_WRONLY));
	ck_assert_uint_eq(ncalls(), 3);
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 0);
	ck_assert_uint_eq(mmfs_stat_get(&stats.msync_calls), 3);
	mmfs_map_close(map);
	ck_assert_int_eq(mmfs_syncer_shutdown(s, &bytes, &files), 0);
	ck_assert_uint_eq(files, 0);
}
END_TEST

START_TEST(test_o_dsync_handle_is_immediate_in_any_mode)
{
	struct mmfs_syncer *s;
	uint64_t bytes;
	unsigned int files;

	engine(64 * W);
	s = mmfs_syncer_new(eng, MMFS_SYNC_NEVER, 5, &stats);
	ck_assert_int_eq(mmfs_sync_write_flags(s, NULL, O_WRONLY), 0);
	ck_assert_int_eq(mmfs_sync_write_flags(s, NULL, O_WRONLY | O_DSYNC),
			 MMFS_WRITE_SYNC);
	ck_assert_int_eq(mmfs_sync_write_flags(s, NULL, O_WRONLY | O_SYNC),
			 MMFS_WRITE_SYNC);
	mmfs_syncer_shutdown(s, &bytes, &files);
}
END_TEST

/* ---- periodic ---- */

static int wait_for_clean(unsigned int ms)
{
	for (unsigned int i = 0; i < ms / 5; i++) {
		if (mmfs_stat_get(&stats.dirty_bytes) == 0 &&
		    mmfs_stat_get(&stats.sync_passes) > 0)
			return 1;
		g_usleep(5000);
	}
	return 0;
}

START_TEST(test_periodic_pass_syncs_within_the_interval)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes;
	unsigned int files;

	engine(64 * W);
	s = mmfs_syncer_new(eng, MMFS_SYNC_PERIODIC, 0.05, &stats);
	map = new_map("f", 4 * W);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	write_at(map, 100, 5000, mmfs_sync_write_flags(s, map, O_WRONLY));
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 5000);
	/* interval plus a pass, with room to spare for a loaded machine */
	ck_assert_msg(wait_for_clean(2000), "still %lu dirty bytes",
		      (unsigned long)mmfs_stat_get(&stats.dirty_bytes));
	ck_assert_uint_ge(ncalls(), 1);
	ck_assert_uint_eq(mmfs_stat_get(&stats.sync_interval_ms), 50);
	mmfs_map_close(map);
	ck_assert_int_eq(mmfs_syncer_shutdown(s, &bytes, &files), 0);
}
END_TEST

START_TEST(test_pass_over_10000_clean_files_and_one_dirty_page_is_one_msync)
{
	const int n = 10000;
	struct mmfs_map **maps = g_new(struct mmfs_map *, n);
	struct rlimit rl;
	char byte;
	unsigned int before;

	/* 10,000 maps hold 10,000 fds */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	ck_assert_msg(rl.rlim_cur >= (rlim_t)n + 100,
		      "RLIMIT_NOFILE hard limit %lu is too low",
		      (unsigned long)rl.rlim_max);
	engine((uint64_t)2 * n * W);
	for (int i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%05d", i);
		maps[i] = new_map(name, 4096);
		ck_assert_int_eq(
		    harness_engine_read(maps[i], &stats, &byte, 1, 0), 1);
	}
	ck_assert_uint_eq(mmfs_stat_get(&stats.windows_current), n);
	write_at(maps[4321], 0, 4096, 0);
	before = ncalls();
	uint64_t bytes = 0;
	unsigned int files = 0;
	ck_assert_int_eq(mmfs_engine_sync_all(eng, 0, &bytes, &files), 0);
	ck_assert_uint_eq(ncalls() - before, 1);
	ck_assert_uint_eq(files, 1);
	ck_assert_uint_eq(bytes, 4096);
	/* and a pass with nothing dirty costs nothing */
	ck_assert_int_eq(mmfs_engine_sync_all(eng, 0, &bytes, &files), 0);
	ck_assert_uint_eq(ncalls() - before, 1);
	for (int i = 0; i < n; i++)
		mmfs_map_close(maps[i]);
	g_free(maps);
}
END_TEST

START_TEST(test_periodic_thread_stops_cleanly_even_mid_pass)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes;
	unsigned int files;

	engine(64 * W);
	for (int i = 0; i < 5; i++) {
		s = mmfs_syncer_new(eng, MMFS_SYNC_PERIODIC, 0.01, &stats);
		mmfs_syncer_shutdown(s, &bytes, &files);
	}
	/* a slow pass under way when shutdown comes: shutdown waits for it,
	 * then syncs what is left */
	slow_ms = 200;
	s = mmfs_syncer_new(eng, MMFS_SYNC_PERIODIC, 0.01, &stats);
	map = new_map("f", 4 * W);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	write_at(map, 0, 10, 0);
	g_usleep(50000);
	write_at(map, W, 10, 0);
	ck_assert_int_eq(mmfs_syncer_shutdown(s, &bytes, &files), 0);
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 0);
	mmfs_map_close(map);
}
END_TEST

/* ---- close, never, fsync ---- */

START_TEST(test_close_mode_syncs_when_a_writer_closes)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes;
	unsigned int files;

	engine(64 * W);
	s = mmfs_syncer_new(eng, MMFS_SYNC_CLOSE, 5, &stats);
	map = new_map("f", 4 * W);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	write_at(map, 0, 3000, mmfs_sync_write_flags(s, map, O_WRONLY));
	ck_assert_uint_eq(ncalls(), 0);
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 3000);
	/* a reader closing changes nothing */
	ck_assert_int_eq(mmfs_sync_on_close(s, map, mmfs_map_fd(map), 0), 0);
	ck_assert_uint_eq(ncalls(), 0);
	ck_assert_int_eq(mmfs_sync_on_close(s, map, mmfs_map_fd(map), 1), 0);
	ck_assert_uint_eq(ncalls(), 1);
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 0);
	mmfs_map_close(map);
	mmfs_syncer_shutdown(s, &bytes, &files);
}
END_TEST

START_TEST(test_never_mode_does_not_msync_until_shutdown)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes;
	unsigned int files;
	char buf[16];

	engine(2 * W); /* two windows: eviction happens */
	s = mmfs_syncer_new(eng, MMFS_SYNC_NEVER, 0.01, &stats);
	map = new_map("f", 8 * W);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	write_at(map, 0, 100, mmfs_sync_write_flags(s, map, O_WRONLY));
	ck_assert_int_eq(mmfs_sync_on_close(s, map, mmfs_map_fd(map), 1), 0);
	for (int i = 1; i < 8; i++) /* evicts the dirty window */
		ck_assert_int_eq(
		    harness_engine_read(map, &stats, buf, 16, (off_t)i * W),
		    16);
	g_usleep(50000);
	ck_assert_uint_gt(mmfs_stat_get(&stats.windows_evicted), 0);
	ck_assert_uint_eq(ncalls(), 0);
	write_at(map, 3 * W, 100, 0);
	ck_assert_int_eq(mmfs_syncer_shutdown(s, &bytes, &files), 0);
	ck_assert_uint_eq(ncalls(), 1); /* the window still mapped */
	ck_assert_uint_eq(files, 1);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_fsync_is_honoured_in_every_mode)
{
	for (int mode = 0; mode <= MMFS_SYNC_NEVER; mode++) {
		struct mmfs_syncer *s;
		struct mmfs_map *map;
		uint64_t bytes;
		unsigned int files, before;

		engine(64 * W);
		s = mmfs_syncer_new(eng, mode, 60, &stats);
		map = new_map("f", 4 * W);
		mmfs_sync_configure(s, map, mode);
		write_at(map, 10, 10, 0);
		before = ncalls();
		ck_assert_int_eq(mmfs_sync_fsync(s, map, mmfs_map_fd(map), 1),
				 0);
		ck_assert_uint_eq(ncalls() - before, 1);
		ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 0);
		mmfs_map_close(map);
		mmfs_syncer_shutdown(s, &bytes, &files);
		mmfs_engine_free(eng);
		eng = NULL;
	}
}
END_TEST

START_TEST(test_ranges_merge_in_a_window_and_stay_apart_across_windows)
{
	struct mmfs_map *map;
	uint64_t bytes = 0;
	unsigned int files;

	engine(64 * W);
	map = new_map("f", 4 * W);
	write_at(map, 0, 10, 0);
	write_at(map, 5, 15, 0);	   /* overlaps: [0, 20) */
	write_at(map, 8000, 10, 0);	   /* same window: [0, 8010) */
	write_at(map, 2 * W + 100, 50, 0); /* another window */
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 8010 + 50);
	ck_assert_int_eq(mmfs_engine_sync_all(eng, 0, &bytes, &files), 0);
	ck_assert_uint_eq(ncalls(), 2);
	ck_assert_uint_eq(call_len(0) + call_len(1), 8010 + 150);
	ck_assert_uint_eq(bytes, 8010 + 50);
	mmfs_map_close(map);
}
END_TEST

START_TEST(test_sync_error_reaches_the_next_fsync_and_is_not_lost)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes;
	unsigned int files;

	engine(64 * W);
	s = mmfs_syncer_new(eng, MMFS_SYNC_PERIODIC, 3600, &stats);
	map = new_map("f", 4 * W);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	write_at(map, 0, 100, 0);
	fail_next = EIO;
	fail_count = 1;
	ck_assert_int_eq(mmfs_sync_pass(s), -EIO); /* the periodic pass */
	ck_assert_uint_eq(mmfs_stat_get(&stats.sync_errors), 1);
	/* the file's next fsync reports it... */
	ck_assert_int_eq(mmfs_sync_fsync(s, map, mmfs_map_fd(map), 0), -EIO);
	/* ...once */
	ck_assert_int_eq(mmfs_sync_fsync(s, map, mmfs_map_fd(map), 0), 0);
	/* and a close reports one as well */
	write_at(map, 0, 100, 0);
	fail_count = 1;
	ck_assert_int_eq(mmfs_sync_pass(s), -EIO);
	ck_assert_int_eq(mmfs_sync_on_close(s, map, mmfs_map_fd(map), 0), -EIO);
	ck_assert_int_eq(mmfs_sync_on_close(s, map, mmfs_map_fd(map), 0), 0);
	mmfs_map_close(map);
	ck_assert_int_eq(mmfs_syncer_shutdown(s, &bytes, &files), 0);
}
END_TEST

START_TEST(test_evicting_a_dirty_window_syncs_it_first)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes;
	unsigned int files;
	char buf[8];

	engine(2 * W);
	s = mmfs_syncer_new(eng, MMFS_SYNC_PERIODIC, 3600, &stats);
	map = new_map("f", 8 * W);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	write_at(map, 100, 1000, 0);
	ck_assert_uint_eq(ncalls(), 0);
	for (int i = 1; i < 4; i++)
		ck_assert_int_eq(
		    harness_engine_read(map, &stats, buf, 8, (off_t)i * W), 8);
	ck_assert_uint_gt(mmfs_stat_get(&stats.windows_evicted), 0);
	ck_assert_uint_eq(ncalls(), 1);
	ck_assert_uint_eq(call_len(0), 1100);
	ck_assert_uint_eq(mmfs_stat_get(&stats.dirty_bytes), 0);
	mmfs_map_close(map);
	mmfs_syncer_shutdown(s, &bytes, &files);
}
END_TEST

START_TEST(test_writes_by_fd_are_tracked_too)
{
	struct mmfs_syncer *s;
	struct mmfs_map *map;
	uint64_t bytes = 0;
	unsigned int files = 0;

	engine(64 * W);
	s = mmfs_syncer_new(eng, MMFS_SYNC_PERIODIC, 3600, &stats);
	map = new_map("f", 0);
	mmfs_sync_configure(s, map, mmfs_syncer_mode(s));
	ck_assert(pwrite(mmfs_map_fd(map), "x", 1, 0) == 1);
	ck_assert_int_eq(mmfs_sync_after_fd_write(s, map, mmfs_map_fd(map),
						  O_WRONLY | O_APPEND, 1),
			 0);
	ck_assert_uint_eq(stats.dirty_bytes, 1);
	ck_assert_int_eq(mmfs_engine_sync_all(eng, 0, &bytes, &files), 0);
	ck_assert_uint_eq(files, 1); /* fdatasync'ed by the pass */
	ck_assert_uint_eq(bytes, 1);
	ck_assert_uint_eq(stats.dirty_bytes, 0);
	mmfs_map_close(map);
	mmfs_syncer_shutdown(s, &bytes, &files);
}
END_TEST

START_TEST(test_mode_names_round_trip)
{
	enum mmfs_sync_mode m;

	for (int i = 0; i <= MMFS_SYNC_NEVER; i++) {
		ck_assert_int_eq(
		    mmfs_sync_mode_parse(mmfs_sync_mode_name(i), &m), 0);
		ck_assert_int_eq(m, i);
	}
	ck_assert_int_eq(mmfs_sync_mode_parse("sometimes", &m), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sync");
	TCase *tc = tcase_create("modes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc, test_immediate_write_msyncs_exactly_the_range_it_dirtied);
	tcase_add_test(tc, test_o_dsync_handle_is_immediate_in_any_mode);
	tcase_add_test(tc, test_periodic_pass_syncs_within_the_interval);
	tcase_add_test(
	    tc,
	    test_pass_over_10000_clean_files_and_one_dirty_page_is_one_msync);
	tcase_add_test(tc, test_periodic_thread_stops_cleanly_even_mid_pass);
	tcase_add_test(tc, test_close_mode_syncs_when_a_writer_closes);
	tcase_add_test(tc, test_never_mode_does_not_msync_until_shutdown);
	tcase_add_test(tc, test_fsync_is_honoured_in_every_mode);
	tcase_add_test(
	    tc, test_ranges_merge_in_a_window_and_stay_apart_across_windows);
	tcase_add_test(tc,
		       test_sync_error_reaches_the_next_fsync_and_is_not_lost);
	tcase_add_test(tc, test_evicting_a_dirty_window_syncs_it_first);
	tcase_add_test(tc, test_writes_by_fd_are_tracked_too);
	tcase_add_test(tc, test_mode_names_round_trip);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
