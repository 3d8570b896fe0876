// SPDX-License-Identifier: GPL-2.0-or-later
/* Mount tests for the sync modes: each mode through the real daemon
 * (backing file compared through a separate fd, counters proving when
 * msync happened), O_SYNC handles, fsync, kill -9 in the middle of a
 * write stream, and the sync at shutdown. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib.h>

#include "fixture.h"

/* Wait (up to ms) for counter name to reach at least want; its value. */
static uint64_t wait_stat_ge(const char *name, uint64_t want, int ms)
{
	uint64_t v = 0;

	for (int i = 0; i < ms / 10; i++) {
		v = harness_stat(&m, name);
		if (v >= want)
			break;
		usleep(10000);
	}
	return v;
}

static uint64_t wait_stat_eq(const char *name, uint64_t want, int ms)
{
	uint64_t v = 0;

	for (int i = 0; i < ms / 10; i++) {
		v = harness_stat(&m, name);
		if (v == want)
			break;
		usleep(10000);
	}
	return v;
}

/* Write n blocks of 4 KiB through the mount, returning the open fd. The
 * file is made n blocks long in SOURCE first, so that the writes land in
 * the mapping (a write past the end goes by fd; the sync modes hold for
 * both, and bytes_synced counts both, msync_calls only the mapping's). */
static int write_blocks(const char *name, int n, int flags)
{
	char block[4096];
	int fd;

	fd = open(P(m.src, "%s", name), O_CREAT | O_WRONLY, 0644);
	ck_assert(fd >= 0 && ftruncate(fd, (off_t)n * 4096) == 0);
	close(fd);
	fd = open(P(m.mnt, "%s", name), O_CREAT | O_WRONLY | flags, 0644);
	ck_assert(fd >= 0);
	for (int i = 0; i < n; i++) {
		memset(block, 'a' + i % 26, sizeof(block));
		ck_assert(pwrite(fd, block, sizeof(block), (off_t)i * 4096) ==
			  sizeof(block));
	}
	return fd;
}

/* The backing file, read through a separate fd, holds what we wrote. */
static void assert_backing(const char *name, int n)
{
	size_t len;
	char *back = get_file(P(m.src, "%s", name), &len);

	ck_assert_uint_eq(len, (size_t)n * 4096);
	for (int i = 0; i < n; i++)
		ck_assert(back[i * 4096 + 17] == 'a' + i % 26);
	g_free(back);
}

START_TEST(test_immediate_acknowledges_writes_only_after_msync)
{
	int fd;

	harness_start_ok(&m, "sync=immediate");
	put_file(P(m.src, "f"), "", 0);
	fd = open(P(m.mnt, "f"), O_WRONLY);
	for (int i = 1; i <= 20; i++) {
		char block[4096] = {'i'};

		ck_assert(pwrite(fd, block, sizeof(block), (off_t)i * 8192) ==
			  sizeof(block));
		/* by the time write(2) returned, its range was synced
		 * (by fd: each extends the file) */
		ck_assert_uint_ge(harness_stat(&m, "bytes_synced"),
				  (uint64_t)i * sizeof(block));
		ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 0);
	}
	close(fd);
}
END_TEST

START_TEST(test_periodic_syncs_within_the_interval)
{
	int fd;

	harness_start_ok(&m, "sync=periodic,sync_interval=0.2");
	ck_assert_uint_eq(harness_stat(&m, "sync_interval_ms"), 200);
	fd = write_blocks("f", 64, 0);
	/* one interval plus a pass, with room for a loaded machine */
	ck_assert_uint_eq(wait_stat_eq("dirty_bytes", 0, 3000), 0);
	ck_assert_uint_gt(harness_stat(&m, "msync_calls"), 0);
	ck_assert_uint_gt(harness_stat(&m, "bytes_synced"), 0);
	close(fd);
	assert_backing("f", 64);
}
END_TEST

START_TEST(test_close_syncs_before_close_returns)
{
	int fd;

	harness_start_ok(&m, "sync=close");
	fd = write_blocks("f", 32, 0);
	ck_assert_uint_eq(harness_stat(&m, "msync_calls"), 0);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 32 * 4096);
	ck_assert(close(fd) == 0);
	/* close(2) waited for the flush, which synced */
	ck_assert_uint_gt(harness_stat(&m, "msync_calls"), 0);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 0);
	assert_backing("f", 32);
}
END_TEST

START_TEST(test_never_leaves_writeback_to_the_kernel)
{
	int fd;

	harness_start_ok(&m, "sync=never");
	fd = write_blocks("f", 16, 0);
	close(fd);
	usleep(300000);
	ck_assert_uint_eq(harness_stat(&m, "msync_calls"), 0);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 16 * 4096);
	assert_backing("f", 16); /* the same page cache */
	/* fsync is honoured all the same */
	fd = open(P(m.mnt, "f"), O_WRONLY);
	ck_assert(fsync(fd) == 0);
	ck_assert_uint_gt(harness_stat(&m, "msync_calls"), 0);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 0);
	close(fd);
}
END_TEST

START_TEST(test_fdatasync_is_honoured_in_periodic_mode)
{
	int fd;

	harness_start_ok(&m, "sync=periodic,sync_interval=3600");
	fd = write_blocks("f", 8, 0);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 8 * 4096);
	ck_assert(fdatasync(fd) == 0);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 0);
	ck_assert_uint_gt(harness_stat(&m, "msync_calls"), 0);
	close(fd);
}
END_TEST

START_TEST(test_o_sync_and_o_dsync_handles_are_immediate)
{
	static const int flags[] = {O_SYNC, O_DSYNC};

	harness_start_ok(&m, "sync=never");
	for (size_t k = 0; k < G_N_ELEMENTS(flags); k++) {
		uint64_t before = harness_stat(&m, "bytes_synced");
		int fd = write_blocks(k ? "dsync" : "sync", 5, flags[k]);

		ck_assert_uint_ge(harness_stat(&m, "bytes_synced") - before,
				  5 * 4096);
		ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 0);
		close(fd);
	}
}
END_TEST

START_TEST(test_fd_path_writes_are_synced_by_the_pass)
{
	int fd;

	/* O_APPEND writes go by pwrite: the pass must cover them too */
	harness_start_ok(&m, "sync=periodic,sync_interval=0.1");
	fd = open(P(m.mnt, "log"), O_CREAT | O_WRONLY | O_APPEND, 0644);
	uint64_t passes = harness_stat(&m, "sync_passes");
	ck_assert(write(fd, "line\n", 5) == 5);
	ck_assert_uint_gt(wait_stat_ge("sync_passes", passes + 2, 3000),
			  passes + 1);
	close(fd);
	char *text = get_file(P(m.src, "log"), NULL);
	ck_assert_str_eq(text, "line\n");
	g_free(text);
}
END_TEST

/* A writer that reports, through a pipe, how many 4 KiB records each
 * acknowledged write(2) has completed, until it is stopped. */
static void write_stream(const char *path, int report)
{
	char block[4096];
	int fd = open(path, O_CREAT | O_WRONLY, 0644);

	for (uint32_t i = 0;; i++) {
		memset(block, 0, sizeof(block));
		memcpy(block, &i, sizeof(i));
		memcpy(block + 4092, &i, sizeof(i));
		if (write(fd, block, sizeof(block)) != sizeof(block))
			_exit(0); /* the daemon is gone */
		uint32_t done = i + 1;
		if (write(report, &done, sizeof(done)) != sizeof(done))
			_exit(1);
	}
}

static void kill_mid_stream(const char *opts)
{
	int pfd[2], status;
	uint32_t acked = 0, v;
	pid_t writer;

	m.log_may_warn = 1;
	harness_start_ok(&m, opts);
	ck_assert(pipe(pfd) == 0);
	writer = fork();
	if (writer == 0) {
		close(pfd[0]);
		write_stream(P(m.mnt, "stream"), pfd[1]);
	}
	close(pfd[1]);
	/* let it run a little, then kill the daemon mid-stream */
	while (acked < 2000 && read(pfd[0], &v, sizeof(v)) == sizeof(v))
		acked = v;
	kill(m.pid, SIGKILL);
	waitpid(m.pid, &status, 0);
	m.pid = 0;
	while (read(pfd[0], &v, sizeof(v)) == sizeof(v))
		acked = v;
	close(pfd[0]);
	kill(writer, SIGKILL);
	waitpid(writer, &status, 0);
	/* the kill came mid-stream, not before anything was written */
	ck_assert_uint_ge(acked, 2000);

	/* every acknowledged record is in the backing file */
	size_t len;
	char *back = get_file(P(m.src, "stream"), &len);
	ck_assert_uint_ge(len, (size_t)acked * 4096);
	for (uint32_t i = 0; i < acked; i++) {
		uint32_t a, b;

		memcpy(&a, back + (size_t)i * 4096, sizeof(a));
		memcpy(&b, back + (size_t)i * 4096 + 4092, sizeof(b));
		ck_assert_msg(a == i && b == i, "record %u of %u lost", i,
			      acked);
	}
	g_free(back);
}

START_TEST(test_kill_9_loses_no_acknowledged_write_periodic)
{
	kill_mid_stream("sync=periodic");
}
END_TEST

START_TEST(test_kill_9_loses_no_acknowledged_write_never)
{
	kill_mid_stream("sync=never");
}
END_TEST

START_TEST(test_shutdown_syncs_everything_and_says_how_much)
{
	char *log;
	int fd;

	harness_start_ok(&m, "sync=never");
	fd = write_blocks("f", 10, 0);
	close(fd);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 10 * 4096);
	ck_assert_int_eq(harness_stop(&m), 0);
	log = harness_log(&m);
	ck_assert_msg(strstr(log, "shutdown: synced 40.0 KiB in 1 files"),
		      "log: %s", log);
	g_free(log);
}
END_TEST

/* The backing file holds n blocks written by write_blocks within ms. */
static int backing_has(const char *name, int n, int ms)
{
	for (int t = 0; t < ms / 20; t++) {
		size_t len;
		char *back = get_file(P(m.src, "%s", name), &len);
		int ok = len == (size_t)n * 4096;

		for (int i = 0; ok && i < n; i++)
			ok = back[i * 4096 + 17] == 'a' + i % 26;
		g_free(back);
		if (ok)
			return 1;
		usleep(20000);
	}
	return 0;
}

/* Under -o writeback the kernel holds written pages for up to 30 s before
 * the daemon sees them; each periodic pass has it hand them over first.
 * The file stays open, so no flush at close can do it instead. */
START_TEST(test_writeback_keeps_the_periodic_promise)
{
	int fd;

	harness_start_ok(&m, "writeback,sync=periodic,sync_interval=0.3");
	fd = write_blocks("f", 64, 0);
	ck_assert_msg(backing_has("f", 64, 4000),
		      "written pages not handed over within the interval");
	ck_assert_uint_eq(wait_stat_eq("dirty_bytes", 0, 3000), 0);
	ck_assert_uint_ge(harness_stat(&m, "bytes_synced"), 64 * 4096);
	close(fd);
}
END_TEST

/* A write past the end goes by fd (the filesystem then orders the new size
 * after the data, as for a native write), and counts as dirty until a sync
 * covers it, as a mapped write does. */
START_TEST(test_writes_past_the_end_are_dirty_until_synced)
{
	uint64_t by_fd = 0;
	char block[4096];
	int fd;

	harness_start_ok(&m, "sync=periodic,sync_interval=3600");
	fd = open(P(m.mnt, "grow"), O_CREAT | O_WRONLY, 0644);
	ck_assert(fd >= 0);
	by_fd = harness_stat(&m, "write_requests_fd");
	for (int i = 0; i < 6; i++) {
		memset(block, 'a' + i % 26, sizeof(block));
		ck_assert(write(fd, block, sizeof(block)) == sizeof(block));
	}
	ck_assert_uint_ge(harness_stat(&m, "write_requests_fd") - by_fd, 6);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 6 * 4096);
	ck_assert(fdatasync(fd) == 0);
	ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 0);
	ck_assert_uint_ge(harness_stat(&m, "bytes_synced"), 6 * 4096);
	close(fd);
	assert_backing("grow", 6);
}
END_TEST

/* O_APPEND writes go by the handle's own fd; under sync=immediate that fd
 * is synced before the reply, and counted as every sync is. */
START_TEST(test_immediate_appends_are_synced_and_counted)
{
	char block[4096];
	int fd;

	harness_start_ok(&m, "sync=immediate");
	fd = open(P(m.mnt, "log"), O_CREAT | O_WRONLY | O_APPEND, 0644);
	ck_assert(fd >= 0);
	for (int i = 1; i <= 3; i++) {
		memset(block, 'a' + i, sizeof(block));
		ck_assert(write(fd, block, sizeof(block)) == sizeof(block));
		ck_assert_uint_ge(harness_stat(&m, "bytes_synced"),
				  (uint64_t)i * sizeof(block));
		ck_assert_uint_eq(harness_stat(&m, "dirty_bytes"), 0);
	}
	close(fd);
}
END_TEST

/* Under -o writeback a file in sync=immediate is opened with direct I/O;
 * the INIT shim asks the kernel to map such files shared all the same
 * (sqlite's WAL index is one), as a native file is. */
START_TEST(test_immediate_files_under_writeback_map_shared)
{
	char *p, *back;
	int fd;

	harness_start_ok(&m, "writeback,sync=immediate");
	fd = open(P(m.mnt, "shm"), O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert(ftruncate(fd, 4096) == 0);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_msg(p != MAP_FAILED, "mmap MAP_SHARED: %s", strerror(errno));
	memcpy(p, "shared", 6);
	ck_assert(msync(p, 4096, MS_SYNC) == 0);
	munmap(p, 4096);
	close(fd);
	back = get_file(P(m.src, "shm"), NULL);
	ck_assert(memcmp(back, "shared", 6) == 0);
	g_free(back);
}
END_TEST

/* SIGTERM with pages still in the kernel's writeback cache and the file
 * open: the daemon has them handed over and synced before unmounting. */
START_TEST(test_sigterm_under_writeback_loses_nothing)
{
	char *log;
	int fd;

	harness_start_ok(&m, "writeback,sync=never");
	fd = write_blocks("f", 48, 0);
	ck_assert_int_eq(harness_stop(&m), 0);
	close(fd); /* the mount is gone; this close reaches no daemon */
	ck_assert_msg(backing_has("f", 48, 20), "pages lost at SIGTERM");
	log = harness_log(&m);
	ck_assert_msg(strstr(log, "shutdown: synced 192.0 KiB in 1 files"),
		      "log: %s", log);
	g_free(log);
}
END_TEST

START_TEST(test_bad_sync_options_are_refused)
{
	static const struct {
		const char *opt, *named;
	} bad[] = {
	    {"sync=sometimes", "'sync'"},
	    {"sync=", "'sync'"},
	    {"sync_interval=0", "'sync_interval'"},
	    {"sync_interval=soon", "'sync_interval'"},
	    {"sync_interval=-1", "'sync_interval'"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *extra[] = {"-o", bad[i].opt, NULL};
		char *log;

		ck_assert_int_eq(harness_start(&m, m.src, m.mnt, extra), 1);
		log = harness_log(&m);
		ck_assert_msg(strstr(log, bad[i].named), "%s: %s", bad[i].opt,
			      log);
		g_free(log);
		ck_assert(truncate(m.log, 0) == 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount_sync");
	TCase *modes = tcase_create("modes");
	TCase *crash = tcase_create("crash");

	if (!harness_init())
		return 0;
	tcase_add_checked_fixture(modes, harness_fixture_setup,
				  harness_fixture_teardown);
	tcase_add_checked_fixture(crash, harness_fixture_setup,
				  harness_fixture_teardown);
	tcase_set_timeout(modes, 120);
	tcase_set_timeout(crash, 120);
	tcase_add_test(modes,
		       test_immediate_acknowledges_writes_only_after_msync);
	tcase_add_test(modes, test_periodic_syncs_within_the_interval);
	tcase_add_test(modes, test_close_syncs_before_close_returns);
	tcase_add_test(modes, test_never_leaves_writeback_to_the_kernel);
	tcase_add_test(modes, test_fdatasync_is_honoured_in_periodic_mode);
	tcase_add_test(modes, test_o_sync_and_o_dsync_handles_are_immediate);
	tcase_add_test(modes, test_fd_path_writes_are_synced_by_the_pass);
	tcase_add_test(modes, test_shutdown_syncs_everything_and_says_how_much);
	tcase_add_test(modes, test_bad_sync_options_are_refused);
	tcase_add_test(modes, test_writeback_keeps_the_periodic_promise);
	tcase_add_test(modes, test_sigterm_under_writeback_loses_nothing);
	tcase_add_test(modes, test_immediate_files_under_writeback_map_shared);
	tcase_add_test(modes, test_writes_past_the_end_are_dirty_until_synced);
	tcase_add_test(modes, test_immediate_appends_are_synced_and_counted);
	tcase_add_test(crash, test_kill_9_loses_no_acknowledged_write_periodic);
	tcase_add_test(crash, test_kill_9_loses_no_acknowledged_write_never);
	suite_add_tcase(s, modes);
	suite_add_tcase(s, crash);
	int failed = harness_run_suite(s);

	harness_cleanup();
	return failed;
}
