// SPDX-License-Identifier: GPL-2.0-or-later
/* Mount tests for what an administrator uses: mode=ro and mode=cow, rules
 * from the config file and the policy xattr, changing the sync mode at run
 * time, the stats subcommand, --print-config, readiness for systemd, the
 * cache and writeback options. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib.h>

#include "fixture.h"

static char *xattr_text(const char *path, const char *name)
{
	char buf[4096];
	ssize_t n = getxattr(path, name, buf, sizeof(buf) - 1);

	ck_assert_msg(n >= 0, "%s on %s: %s", name, path, strerror(errno));
	buf[n] = '\0';
	return g_strdup(buf);
}

static void put(const char *path, const char *text)
{
	put_file(path, text, strlen(text));
}

static void assert_content(const char *path, const char *text)
{
	char *got = get_file(path, NULL);

	ck_assert_msg(strcmp(got, text) == 0, "%s: '%.60s' != '%.60s'", path,
		      got, text);
	g_free(got);
}

#define ASSERT_ERRNO(call, err)                                                \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		ck_assert_msg(r_ == -1 && errno == (err),                      \
			      "%s: %ld, errno %s (want %s)", #call, r_,        \
			      strerror(errno), strerror(err));                 \
	} while (0)

/* ---------------- mode=ro ---------------- */

START_TEST(test_ro_refuses_every_change_and_reads_fine)
{
	char buf[16];

	put(P(m.src, "f"), "read me");
	ck_assert(mkdir(P(m.src, "d"), 0755) == 0);
	harness_start_ok(&m, "mode=ro");
	assert_content(P(m.mnt, "f"), "read me");
	ASSERT_ERRNO(open(P(m.mnt, "f"), O_WRONLY), EROFS);
	ASSERT_ERRNO(open(P(m.mnt, "f"), O_RDONLY | O_TRUNC), EROFS);
	ASSERT_ERRNO(open(P(m.mnt, "new"), O_CREAT | O_WRONLY, 0644), EROFS);
	ASSERT_ERRNO(mkdir(P(m.mnt, "d2"), 0755), EROFS);
	ASSERT_ERRNO(unlink(P(m.mnt, "f")), EROFS);
	ASSERT_ERRNO(rmdir(P(m.mnt, "d")), EROFS);
	ASSERT_ERRNO(rename(P(m.mnt, "f"), P(m.mnt, "g")), EROFS);
	ASSERT_ERRNO(chmod(P(m.mnt, "f"), 0600), EROFS);
	ASSERT_ERRNO(truncate(P(m.mnt, "f"), 0), EROFS);
	ASSERT_ERRNO(symlink("f", P(m.mnt, "l")), EROFS);
	ASSERT_ERRNO(setxattr(P(m.mnt, "f"), "user.x", "1", 1, 0), EROFS);
	ck_assert_int_eq(getxattr(P(m.mnt, "f"), "user.x", buf, 16), -1);
	assert_content(P(m.src, "f"), "read me");
	char *policy = xattr_text(P(m.mnt, "f"), "user.memmapfs.policy");
	ck_assert_msg(strstr(policy, "\"mode\": \"ro\""), "%s", policy);
	g_free(policy);
}
END_TEST

/* ---------------- mode=cow ---------------- */

static void make_tree(const char *base)
{
	char *big = g_malloc(3 << 20);

	for (int i = 0; i < 3 << 20; i++)
		big[i] = (char)(i * 7 + i / 977);
	ck_assert(mkdir(P(base, "d"), 0755) == 0);
	put(P(base, "d/small"), "small file\n");
	put_file(P(base, "big"), big, 3 << 20);
	put(P(base, "log"), "line 1\n");
	g_free(big);
}

START_TEST(test_cow_changes_nothing_in_source_but_readers_see_writes)
{
	char *snapshot = g_strdup(P(m.dir, "snapshot"));
	char buf[32];
	int fd;

	ck_assert(mkdir(snapshot, 0755) == 0);
	make_tree(m.src);
	make_tree(snapshot);
	harness_start_ok(&m, "mode=cow");

	/* in place, appended, truncated, rewritten with O_TRUNC */
	fd = open(P(m.mnt, "big"), O_WRONLY);
	ck_assert(pwrite(fd, "PATCHED", 7, 1 << 20) == 7);
	close(fd);
	fd = open(P(m.mnt, "log"), O_WRONLY | O_APPEND);
	ck_assert(write(fd, "line 2\n", 7) == 7);
	close(fd);
	ck_assert(truncate(P(m.mnt, "big"), 2 << 20) == 0);
	put(P(m.mnt, "d/small"), "replaced\n");

	/* every reader through the mount sees it: read(2)... */
	assert_content(P(m.mnt, "log"), "line 1\nline 2\n");
	assert_content(P(m.mnt, "d/small"), "replaced\n");
	fd = open(P(m.mnt, "big"), O_RDONLY);
	ck_assert(pread(fd, buf, 7, 1 << 20) == 7);
	ck_assert(memcmp(buf, "PATCHED", 7) == 0);
	struct stat st;
	ck_assert(fstat(fd, &st) == 0);
	ck_assert_int_eq(st.st_size, 2 << 20);
	/* ...and an application's own mapping */
	char *map = mmap(NULL, 2 << 20, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert(map != MAP_FAILED);
	ck_assert(memcmp(map + (1 << 20), "PATCHED", 7) == 0);
	munmap(map, 2 << 20);
	close(fd);

	/* the namespace and attributes stay as they are */
	ASSERT_ERRNO(open(P(m.mnt, "new"), O_CREAT | O_WRONLY, 0644), EROFS);
	ASSERT_ERRNO(unlink(P(m.mnt, "log")), EROFS);
	ASSERT_ERRNO(rename(P(m.mnt, "log"), P(m.mnt, "log2")), EROFS);
	ASSERT_ERRNO(mkdir(P(m.mnt, "x"), 0755), EROFS);
	ASSERT_ERRNO(chmod(P(m.mnt, "log"), 0600), EROFS);

	/* SOURCE: not one byte changed, during or after */
	compare_trees(snapshot, m.src);
	ck_assert_uint_ge(harness_stat(&m, "cow_files"), 3);
	ck_assert_int_eq(harness_stop(&m), 0);
	compare_trees(snapshot, m.src);
	g_free(snapshot);
}
END_TEST

START_TEST(test_cow_private_memory_is_bounded)
{
	char *block = g_malloc0(64 << 10);
	ssize_t n = 0;
	int fd;

	put(P(m.src, "f"), "");
	harness_start_ok(&m, "mode=cow,max_private=1M");
	fd = open(P(m.mnt, "f"), O_WRONLY);
	for (int i = 0; i < 64 && n >= 0; i++)
		n = pwrite(fd, block, 64 << 10, (off_t)i * (64 << 10));
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(errno, ENOSPC);
	close(fd);
	ck_assert_uint_le(harness_stat(&m, "private_bytes"), 1 << 20);
	ck_assert_uint_eq(harness_stat(&m, "max_private"), 1 << 20);
	g_free(block);
}
END_TEST

/* ---------------- rules and the policy xattr ---------------- */

static const char *write_config(const char *text)
{
	static char path[PATH_MAX];

	g_snprintf(path, sizeof(path), "%s/memmapfs.conf", m.dir);
	put(path, text);
	return path;
}

START_TEST(test_rule_gives_db_files_immediate_and_the_policy_says_so)
{
	char *opts, *policy;
	int fd;

	opts = g_strdup_printf("config=%s",
			       write_config("[global]\nsync = never\n\n"
					    "[rule databases]\n"
					    "match = *.db; *.sqlite\n"
					    "sync = immediate\n"));
	harness_start_ok(&m, opts);
	g_free(opts);
	put(P(m.mnt, "plain.txt"), "x");
	ck_assert_uint_eq(harness_stat(&m, "bytes_synced"), 0);
	fd = open(P(m.mnt, "app.db"), O_CREAT | O_WRONLY, 0644);
	for (int i = 1; i <= 5; i++) {
		ck_assert(pwrite(fd, "page", 4, (off_t)i * 4096) == 4);
		/* synced before the reply (each extends the file: by fd) */
		ck_assert_uint_ge(harness_stat(&m, "bytes_synced"),
				  (uint64_t)i * 4);
	}
	close(fd);
	policy = xattr_text(P(m.mnt, "app.db"), "user.memmapfs.policy");
	ck_assert_msg(strstr(policy, "\"sync\": \"immediate\"") &&
			  strstr(policy, "\"rule\": \"databases\"") &&
			  strstr(policy, "\"sync_from\": \"rule\""),
		      "%s", policy);
	g_free(policy);
	policy = xattr_text(P(m.mnt, "plain.txt"), "user.memmapfs.policy");
	ck_assert_msg(strstr(policy, "\"sync\": \"never\"") &&
			  strstr(policy, "\"rule\": null"),
		      "%s", policy);
	g_free(policy);
	/* a rename into the rule's pattern takes effect at the next open */
	ck_assert(rename(P(m.mnt, "plain.txt"), P(m.mnt, "now.sqlite")) == 0);
	policy = xattr_text(P(m.mnt, "now.sqlite"), "user.memmapfs.policy");
	ck_assert_msg(strstr(policy, "\"rule\": \"databases\""), "%s", policy);
	g_free(policy);
}
END_TEST

/* A rule name is the user's text: the policy JSON must quote it. */
START_TEST(test_policy_json_escapes_the_rule_name)
{
	char *opts, *policy;

	opts = g_strdup_printf("config=%s",
			       write_config("[rule say \"hi\" \\ there]\n"
					    "match = *.txt\n"
					    "mmap = off\n"));
	harness_start_ok(&m, opts);
	g_free(opts);
	put(P(m.mnt, "a.txt"), "x");
	policy = xattr_text(P(m.mnt, "a.txt"), "user.memmapfs.policy");
	ck_assert_msg(
	    strstr(policy, "\"rule\": \"say \\\"hi\\\" \\\\ there\"") &&
		strstr(policy, "\"mmap\": false"),
	    "%s", policy);
	g_free(policy);
}
END_TEST

START_TEST(test_sync_xattr_changes_the_policy_at_run_time)
{
	uint64_t before;
	int fd;

	harness_start_ok(&m, "sync=never");
	put(P(m.mnt, "f"), "");
	fd = open(P(m.mnt, "f"), O_WRONLY);
	ck_assert(pwrite(fd, "a", 1, 0) == 1);
	ck_assert_uint_eq(harness_stat(&m, "bytes_synced"), 0);
	/* on the file: at once, for the handle already open too */
	ck_assert(setxattr(P(m.mnt, "f"), "user.memmapfs.sync", "immediate", 9,
			   0) == 0);
	ck_assert(pwrite(fd, "b", 1, 1) == 1);
	ck_assert_uint_eq(harness_stat(&m, "bytes_synced"), 1);
	char *text = xattr_text(P(m.mnt, "f"), "user.memmapfs.sync");
	ck_assert_str_eq(text, "immediate");
	g_free(text);
	/* back to the default */
	ck_assert(removexattr(P(m.mnt, "f"), "user.memmapfs.sync") == 0);
	ck_assert(pwrite(fd, "c", 1, 2) == 1);
	ck_assert_uint_eq(harness_stat(&m, "bytes_synced"), 1);
	close(fd);
	/* on the root: the default for files opened from now on */
	ck_assert(setxattr(m.mnt, "user.memmapfs.sync", "immediate", 9, 0) ==
		  0);
	before = harness_stat(&m, "bytes_synced");
	put(P(m.mnt, "g"), "later");
	ck_assert_uint_gt(harness_stat(&m, "bytes_synced"), before);
	text = xattr_text(m.mnt, "user.memmapfs.sync");
	ck_assert_str_eq(text, "immediate");
	g_free(text);
	/* bad values and read-only names */
	ASSERT_ERRNO(
	    setxattr(P(m.mnt, "f"), "user.memmapfs.sync", "often", 5, 0),
	    EINVAL);
	ASSERT_ERRNO(setxattr(P(m.mnt, "f"), "user.memmapfs.policy", "x", 1, 0),
		     EROFS);
	ASSERT_ERRNO(setxattr(P(m.mnt, "f"), "user.memmapfs.other", "x", 1, 0),
		     ENODATA);
	/* none of it reached the backing file */
	char buf[16];
	ck_assert_int_eq(listxattr(P(m.src, "f"), buf, sizeof(buf)), 0);
}
END_TEST

static int set_sync_as_nobody(void *path)
{
	return setxattr(path, "user.memmapfs.sync", "immediate", 9, 0) ? errno
								       : 0;
}

START_TEST(test_only_the_owner_or_root_steers_a_file)
{
	if (!harness_need_root("test_only_the_owner_or_root_steers_a_file"))
		return;
	harness_start_ok(&m, "allow_other");
	put(P(m.mnt, "roots"), "x");
	ck_assert(chmod(P(m.mnt, "roots"), 0666) == 0);
	ck_assert_int_eq(harness_as_user(NOBODY, NOBODY, set_sync_as_nobody,
					 (void *)P(m.mnt, "roots")),
			 EPERM);
	ck_assert(chown(P(m.mnt, "roots"), NOBODY, NOBODY) == 0);
	ck_assert_int_eq(harness_as_user(NOBODY, NOBODY, set_sync_as_nobody,
					 (void *)P(m.mnt, "roots")),
			 0);
}
END_TEST

static int read_policy_as_nobody(void *path)
{
	char buf[1024];

	return getxattr(path, "user.memmapfs.policy", buf, sizeof(buf)) < 0
		   ? errno
		   : 0;
}

START_TEST(test_others_cannot_read_the_policy_of_files_they_cannot_read)
{
	if (!harness_need_root(
		"test_others_cannot_read_the_policy_of_files_they_cannot_read"))
		return;
	harness_start_ok(&m, "allow_other");
	put(P(m.mnt, "secret"), "x");
	ck_assert(chmod(P(m.mnt, "secret"), 0600) == 0);
	put(P(m.mnt, "public"), "x");
	ck_assert(chmod(P(m.mnt, "public"), 0644) == 0);
	ck_assert_int_eq(harness_as_user(NOBODY, NOBODY, read_policy_as_nobody,
					 (void *)P(m.mnt, "secret")),
			 EACCES);
	ck_assert_int_eq(harness_as_user(NOBODY, NOBODY, read_policy_as_nobody,
					 (void *)P(m.mnt, "public")),
			 0);
}
END_TEST

START_TEST(test_symlinks_out_of_source_are_never_followed_by_the_daemon)
{
	char target[PATH_MAX], buf[64];
	struct stat before, after;

	/* a directory outside SOURCE, reached by a link inside it */
	g_snprintf(target, sizeof(target), "%s/outside", m.dir);
	ck_assert(mkdir(target, 0755) == 0);
	put(P(target, "victim"), "untouched");
	ck_assert(symlink(target, P(m.src, "out")) == 0);
	ck_assert(symlink(P(target, "victim"), P(m.src, "file-link")) == 0);
	ck_assert(stat(P(target, "victim"), &before) == 0);
	harness_start_ok(&m, NULL);
	/* operations on the links through the mount act on the links */
	ck_assert(lchown(P(m.mnt, "file-link"), 1234, 1234) == 0);
	ck_assert(lsetxattr(P(m.mnt, "file-link"), "trusted.t", "1", 1, 0) ==
		  0);
	ck_assert_int_eq(
	    lgetxattr(P(target, "victim"), "trusted.t", buf, sizeof(buf)), -1);
	struct timespec t[2] = {{1, 0}, {1, 0}};
	ck_assert(utimensat(AT_FDCWD, P(m.mnt, "file-link"), t,
			    AT_SYMLINK_NOFOLLOW) == 0);
	ck_assert(stat(P(target, "victim"), &after) == 0);
	ck_assert_uint_eq(after.st_uid, before.st_uid);
	ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	/* a name that is a link is never resolved by the daemon: lookups
	 * below it are the caller's kernel following the link */
	struct stat st;
	ck_assert(lstat(P(m.mnt, "out"), &st) == 0 && S_ISLNK(st.st_mode));
	assert_content(P(target, "victim"), "untouched");
}
END_TEST

/* ---------------- the command line around it ---------------- */

START_TEST(test_stats_command_prints_a_table_and_json)
{
	const char *table[] = {harness_bin(), "stats", m.mnt, NULL};
	const char *json[] = {harness_bin(), "stats", "--json", m.mnt, NULL};
	const char *bad[] = {harness_bin(), "stats", m.src, NULL};
	char *out;

	harness_start_ok(&m, NULL);
	put(P(m.mnt, "f"), "12345");
	ck_assert_int_eq(harness_run(&out, table), 0);
	ck_assert_ptr_nonnull(strstr(out, "write_requests_mapped"));
	ck_assert_ptr_nonnull(
	    strstr(out, "writes copied into a mapped window"));
	g_free(out);
	ck_assert_int_eq(harness_run(&out, json), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"max_mapped\": "));
	g_free(out);
	ck_assert_int_eq(harness_run(&out, bad), 1);
	ck_assert_ptr_nonnull(strstr(out, "memmapfs mount"));
	g_free(out);
}
END_TEST

START_TEST(test_print_config_shows_settings_rules_and_paths)
{
	char *opt = g_strdup_printf(
	    "config=%s", write_config("[global]\nwindow = 1M\n\n"
				      "[rule logs]\nmatch = logs/**\n"
				      "advice = sequential\nmmap = no\n"));
	const char *argv[] = {
	    harness_bin(), "--print-config", "-o",    opt, "-o", "sync=close",
	    m.src,	   "logs/today",     "x.bin", NULL};
	char *out;

	ck_assert_int_eq(harness_run(&out, argv), 0);
	ck_assert_ptr_nonnull(strstr(out, "window = 1M\n"));
	ck_assert_ptr_nonnull(strstr(out, "sync = close\n"));
	ck_assert_ptr_nonnull(
	    strstr(out, "[rule logs] match=logs/**: advice=sequential "
			"mmap=false"));
	ck_assert_ptr_nonnull(strstr(out, "logs/today: rule logs (sync=close "
					  "advice=sequential"));
	ck_assert_ptr_nonnull(strstr(out, "x.bin: no rule"));
	ck_assert(!harness_is_mounted(m.mnt));
	g_free(out);
	g_free(opt);
}
END_TEST

START_TEST(test_ready_is_notified_once_the_mount_is_live)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd p;
	char msg[256];
	ssize_t n;
	int fd;

	g_snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", m.dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	harness_start_ok(&m, NULL);
	unsetenv("NOTIFY_SOCKET");
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	n = recv(fd, msg, sizeof(msg) - 1, 0);
	ck_assert_int_gt(n, 0);
	msg[n] = '\0';
	ck_assert_ptr_nonnull(strstr(msg, "READY=1"));
	ck_assert(harness_is_mounted(m.mnt));
	ck_assert_int_eq(harness_stop(&m), 0);
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	n = recv(fd, msg, sizeof(msg) - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	ck_assert_ptr_nonnull(strstr(msg, "STOPPING=1"));
	close(fd);
}
END_TEST

START_TEST(test_cache_and_writeback_options_keep_data_correct)
{
	static const char *const opts[] = {"cache=none", "cache=keep",
					   "writeback",
					   "writeback,sync=immediate"};

	for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
		char name[32];
		int fd;

		harness_start_ok(&m, opts[i]);
		snprintf(name, sizeof(name), "f%zu", i);
		fd = open(P(m.mnt, "%s", name), O_CREAT | O_WRONLY | O_APPEND,
			  0644);
		ck_assert(write(fd, "one ", 4) == 4);
		ck_assert(write(fd, "two", 3) == 3);
		close(fd);
		assert_content(P(m.mnt, "%s", name), "one two");
		if (i == 3) /* writeback must not swallow the promise */
			ck_assert_uint_ge(harness_stat(&m, "bytes_synced"), 7);
		ck_assert_int_eq(harness_stop(&m), 0);
		assert_content(P(m.src, "%s", name), "one two");
	}
}
END_TEST

START_TEST(test_bad_mode_and_cache_values_are_refused)
{
	static const struct {
		const char *opt, *named;
	} bad[] = {
	    {"mode=rwx", "'mode'"},
	    {"cache=sometimes", "'cache'"},
	    {"max_private=lots", "'max_private'"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *extra[] = {"-o", bad[i].opt, NULL};
		char *log;

		ck_assert_int_eq(harness_start(&m, m.src, m.mnt, extra), 1);
		log = harness_log(&m);
		ck_assert_msg(strstr(log, bad[i].named), "%s", log);
		g_free(log);
		ck_assert(truncate(m.log, 0) == 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount_admin");
	TCase *tc = tcase_create("admin");
	int failed;

	if (!harness_init())
		return 0;
	tcase_add_checked_fixture(tc, harness_fixture_setup,
				  harness_fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ro_refuses_every_change_and_reads_fine);
	tcase_add_test(
	    tc, test_cow_changes_nothing_in_source_but_readers_see_writes);
	tcase_add_test(tc, test_cow_private_memory_is_bounded);
	tcase_add_test(
	    tc, test_rule_gives_db_files_immediate_and_the_policy_says_so);
	tcase_add_test(tc, test_policy_json_escapes_the_rule_name);
	tcase_add_test(tc, test_sync_xattr_changes_the_policy_at_run_time);
	tcase_add_test(tc, test_only_the_owner_or_root_steers_a_file);
	tcase_add_test(
	    tc, test_others_cannot_read_the_policy_of_files_they_cannot_read);
	tcase_add_test(
	    tc, test_symlinks_out_of_source_are_never_followed_by_the_daemon);
	tcase_add_test(tc, test_stats_command_prints_a_table_and_json);
	tcase_add_test(tc, test_print_config_shows_settings_rules_and_paths);
	tcase_add_test(tc, test_ready_is_notified_once_the_mount_is_live);
	tcase_add_test(tc, test_cache_and_writeback_options_keep_data_correct);
	tcase_add_test(tc, test_bad_mode_and_cache_values_are_refused);
	suite_add_tcase(s, tc);
	failed = harness_run_suite(s);
	harness_cleanup();
	return failed;
}
