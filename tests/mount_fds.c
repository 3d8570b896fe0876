// SPDX-License-Identifier: GPL-2.0-or-later
/* Mount tests for trees larger than the daemon's fd limit: with file
 * handles, remembered files hold no fd while idle (a bounded cache does),
 * so a daemon limited to 1,024 fds serves 20,000 files exactly as the
 * native directory does; and a file replaced behind the mount is never
 * taken for another. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "fixture.h"

#define DIRS	      20
#define PER_DIR	      1000
#define DAEMON_NOFILE 1024
/* what the daemon may hold beyond its fd cache: libfuse, the log, the
 * engine's and notifier's fds, and the few files the test holds open */
#define DAEMON_SLACK 64

/* "dNN/fNNNN" */
static const char *entry(int d, int f)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "d%02d/f%04d", d, f);
	return buf;
}

/* DIRS directories of PER_DIR small files under base, each holding its
 * own name (and, for the mount, the same in SOURCE). */
static void make_tree(const char *base)
{
	for (int d = 0; d < DIRS; d++) {
		char dir[32];

		snprintf(dir, sizeof(dir), "d%02d", d);
		ck_assert(mkdir(P(base, "%s", dir), 0755) == 0);
		for (int f = 0; f < PER_DIR; f++) {
			const char *e = entry(d, f);

			put_file(P(base, "%s", e), e, strlen(e));
		}
	}
}

/* The daemon's open fds, from /proc. */
static int daemon_fds(void)
{
	char path[64];
	struct dirent *de;
	DIR *dp;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)m.pid);
	dp = opendir(path);
	ck_assert_msg(dp != NULL, "%s: %s", path, strerror(errno));
	while ((de = readdir(dp)))
		n += de->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* Start the daemon on m with an fd cache of half DAEMON_NOFILE, then cut
 * its RLIMIT_NOFILE to DAEMON_NOFILE (before it, a root daemon would raise
 * any limit it was started with to the system's). */
static void start_limited(void)
{
	struct rlimit lim = {DAEMON_NOFILE, DAEMON_NOFILE};
	char opts[32];

	snprintf(opts, sizeof(opts), "fd_cache=%d", DAEMON_NOFILE / 2);
	harness_start_ok(&m, opts);
	ck_assert(prlimit(m.pid, RLIMIT_NOFILE, &lim, NULL) == 0);
}

/* The daemon's bound: its fd cache (half its limit) and the slack. */
static void check_bound(int *peak)
{
	int n = daemon_fds();

	if (n > *peak)
		*peak = n;
	ck_assert_msg(n <= DAEMON_NOFILE / 2 + DAEMON_SLACK,
		      "the daemon holds %d fds", n);
}

/* One file through the mount and natively: stat, open, read, close. */
static void same_file(const char *e, int *peak)
{
	struct stat sn, sm;
	size_t ln, lm;
	char *cn, *cm;

	ck_assert_msg(stat(P(m.native, "%s", e), &sn) == 0, "%s", e);
	ck_assert_msg(stat(P(m.mnt, "%s", e), &sm) == 0, "%s: %s", e,
		      strerror(errno));
	ck_assert_msg(sn.st_size == sm.st_size && sn.st_mode == sm.st_mode &&
			  sn.st_nlink == sm.st_nlink,
		      "%s: attributes differ", e);
	cn = get_file(P(m.native, "%s", e), &ln);
	cm = get_file(P(m.mnt, "%s", e), &lm);
	ck_assert_msg(ln == lm && memcmp(cn, cm, ln) == 0, "%s differs", e);
	g_free(cn);
	g_free(cm);
	if (e[strlen(e) - 1] == '0')
		check_bound(peak);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted_listing(const char *base, const char *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GString *out = g_string_new("");
	struct dirent *de;
	DIR *dp = opendir(P(base, "%s", dir));

	ck_assert_msg(dp != NULL, "%s/%s: %s", base, dir, strerror(errno));
	while ((de = readdir(dp)))
		g_ptr_array_add(names, g_strdup(de->d_name));
	closedir(dp);
	qsort(names->pdata, names->len, sizeof(char *), cmp_str);
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(out, "%s\n", (char *)names->pdata[i]);
	g_ptr_array_free(names, TRUE);
	return g_string_free(out, FALSE);
}

static void same_listings(int *peak)
{
	for (int d = 0; d < DIRS; d++) {
		char dir[8];
		char *ln, *lm;

		snprintf(dir, sizeof(dir), "d%02d", d);
		ln = sorted_listing(m.native, dir);
		lm = sorted_listing(m.mnt, dir);
		ck_assert_msg(strcmp(ln, lm) == 0, "%s: listings differ", dir);
		g_free(ln);
		g_free(lm);
		check_bound(peak);
	}
}

/* One change to both trees, native and through the mount. */
static void both_rename(const char *from, const char *to)
{
	ck_assert(rename(P(m.native, "%s", from), P(m.native, "%s", to)) == 0);
	ck_assert_msg(rename(P(m.mnt, "%s", from), P(m.mnt, "%s", to)) == 0,
		      "rename %s: %s", from, strerror(errno));
}

static void both_unlink(const char *e)
{
	ck_assert(unlink(P(m.native, "%s", e)) == 0);
	ck_assert_msg(unlink(P(m.mnt, "%s", e)) == 0, "unlink %s: %s", e,
		      strerror(errno));
}

START_TEST(test_a_tree_twenty_times_the_fd_limit_behaves_as_native)
{
	int peak = 0;
	char to[32];

	if (!harness_need_root(__func__))
		return;
	make_tree(m.native);
	make_tree(m.src);
	start_limited();
	ck_assert_uint_eq(harness_stat(&m, "file_handles"), 1);
	ck_assert_uint_eq(harness_stat(&m, "fd_cache_size"), DAEMON_NOFILE / 2);
	/* the find of it all */
	same_listings(&peak);
	for (int d = 0; d < DIRS; d++)
		for (int f = 0; f < PER_DIR; f++)
			same_file(entry(d, f), &peak);
	ck_assert_uint_ge(harness_stat(&m, "inodes"), DIRS * PER_DIR);
	/* a mix of renames (across directories) and unlinks, walked again */
	for (int d = 0; d < DIRS; d++)
		for (int f = d % 7; f < PER_DIR; f += 7) {
			snprintf(to, sizeof(to), "d%02d/r%04d", (d + 1) % DIRS,
				 f);
			if (f % 3 == 0)
				both_unlink(entry(d, f));
			else
				both_rename(entry(d, f), to);
		}
	same_listings(&peak);
	compare_trees(m.native, m.mnt);
	check_bound(&peak);
	ck_assert_uint_gt(harness_stat(&m, "fd_reopens"), 0);
	ck_assert_uint_le(harness_stat(&m, "fds_held"), DAEMON_NOFILE / 2);
	fprintf(stderr, "mount_fds: daemon's fds at most %d of %d\n", peak,
		DAEMON_NOFILE);
}
END_TEST

/* The soft RLIMIT_NOFILE of the daemon, from /proc. */
static unsigned long daemon_nofile(void)
{
	char *limits = get_file(P("/proc", "%d/limits", (int)m.pid), NULL);
	const char *line = strstr(limits, "Max open files");
	unsigned long soft = 0;

	ck_assert_ptr_nonnull(line);
	ck_assert(sscanf(line + strlen("Max open files"), "%lu", &soft) == 1);
	g_free(limits);
	return soft;
}

START_TEST(test_the_fd_cache_is_half_the_limit_by_default)
{
	if (!harness_need_root(__func__))
		return;
	harness_start_ok(&m, NULL);
	ck_assert_uint_eq(harness_stat(&m, "file_handles"), 1);
	ck_assert_uint_eq(harness_stat(&m, "fd_cache_size"),
			  daemon_nofile() / 2);
}
END_TEST

START_TEST(test_handles_false_keeps_an_fd_per_remembered_file)
{
	harness_start_ok(&m, "handles=false");
	ck_assert_uint_eq(harness_stat(&m, "file_handles"), 0);
	for (int f = 0; f < 50; f++)
		put_file(P(m.mnt, "f%02d", f), "x", 1);
	/* the root, and the 50 files the kernel remembers */
	ck_assert_uint_ge(harness_stat(&m, "fds_held"), 51);
	ck_assert_uint_eq(harness_stat(&m, "fd_reopens"), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount_fds");
	TCase *tc = tcase_create("fds");
	int failed;

	if (!harness_init())
		return 0;
	tcase_add_checked_fixture(tc, harness_fixture_setup,
				  harness_fixture_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc,
		       test_a_tree_twenty_times_the_fd_limit_behaves_as_native);
	tcase_add_test(tc, test_the_fd_cache_is_half_the_limit_by_default);
	tcase_add_test(tc, test_handles_false_keeps_an_fd_per_remembered_file);
	suite_add_tcase(s, tc);
	failed = harness_run_suite(s);
	harness_cleanup();
	return failed;
}
