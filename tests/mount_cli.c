// SPDX-License-Identifier: GPL-2.0-or-later
/* Mount tests for the daemon's life cycle: arguments and their errors,
 * starting, stopping by signal or fusermount3, refusing to stack, dead
 * mounts, overlaying a directory on itself, and a mount point inside
 * SOURCE. Each runs the real binary. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "fixture.h"

/* Run memmapfs with args; return the exit status and the output. */
static int run_memmapfs(char **out, const char *a1, const char *a2,
			const char *a3, const char *a4)
{
	const char *argv[] = {harness_bin(), a1, a2, a3, a4, NULL};

	return harness_run(out, argv);
}

static void assert_has(const char *text, const char *needle)
{
	ck_assert_msg(strstr(text, needle), "expected '%s' in:\n%s", needle,
		      text);
}

START_TEST(test_help_exits_0_and_lists_the_options)
{
	char *out;

	ck_assert_int_eq(run_memmapfs(&out, "--help", NULL, NULL, NULL), 0);
	assert_has(out, "SOURCE MOUNTPOINT");
	assert_has(out, "threads=N");
	assert_has(out, "timeout=SECS");
	g_free(out);
}
END_TEST

START_TEST(test_version_exits_0)
{
	char *out;

	ck_assert_int_eq(run_memmapfs(&out, "-V", NULL, NULL, NULL), 0);
	assert_has(out, "memmapfs ");
	g_free(out);
}
END_TEST

START_TEST(test_missing_source_exits_1_and_says_so)
{
	char *out;

	ck_assert_int_eq(
	    run_memmapfs(&out, "-f", P(m.dir, "nope"), m.mnt, NULL), 1);
	assert_has(out, "does not exist");
	g_free(out);
}
END_TEST

START_TEST(test_source_that_is_a_file_exits_1)
{
	char *out;

	put_file(P(m.dir, "file"), "x", 1);
	ck_assert_int_eq(
	    run_memmapfs(&out, "-f", P(m.dir, "file"), m.mnt, NULL), 1);
	assert_has(out, "is not a directory");
	g_free(out);
}
END_TEST

START_TEST(test_missing_mountpoint_exits_1_and_says_how_to_fix)
{
	char *out;

	ck_assert_int_eq(
	    run_memmapfs(&out, "-f", m.src, P(m.dir, "nope"), NULL), 1);
	assert_has(out, "mkdir -p");
	g_free(out);
}
END_TEST

START_TEST(test_mountpoint_not_given_exits_1)
{
	char *out;

	ck_assert_int_eq(run_memmapfs(&out, m.src, NULL, NULL, NULL), 1);
	assert_has(out, "missing MOUNTPOINT");
	assert_has(out, "--help");
	g_free(out);
}
END_TEST

START_TEST(test_unknown_option_exits_1)
{
	char *out;

	ck_assert_int_eq(
	    run_memmapfs(&out, "-o", "no_such_option", m.src, m.mnt), 1);
	assert_has(out, "no_such_option");
	assert_has(out, "--help");
	ck_assert(!harness_is_mounted(m.mnt));
	g_free(out);
}
END_TEST

START_TEST(test_bad_option_value_exits_1_naming_the_option)
{
	char *out;

	ck_assert_int_eq(run_memmapfs(&out, "-o", "threads=0", m.src, m.mnt),
			 1);
	assert_has(out, "'threads'");
	ck_assert(!harness_is_mounted(m.mnt));
	g_free(out);
}
END_TEST

START_TEST(test_missing_dev_fuse_exits_1_and_says_so)
{
	char cmd[PATH_MAX * 4];
	char *out;
	const char *argv[] = {"unshare", "-m", "sh", "-c", cmd, NULL};

	if (!harness_need_root("test_missing_dev_fuse_exits_1_and_says_so"))
		return; /* needs a private mount namespace */
	/* Hide /dev/fuse in a private mount namespace. */
	snprintf(cmd, sizeof(cmd),
		 "mount -t tmpfs none /dev && exec '%s' -f '%s' '%s'",
		 harness_bin(), m.src, m.mnt);
	ck_assert_int_eq(harness_run(&out, argv), 1);
	assert_has(out, "/dev/fuse");
	assert_has(out, "modprobe fuse");
	g_free(out);
}
END_TEST

static int run_as_nobody(void *arg)
{
	const char *const *argv = arg;

	execv(argv[0], (char *const *)argv);
	return 127;
}

START_TEST(test_mount_not_permitted_exits_1)
{
	/* under timeout(1): should it mount after all, it must not hang */
	const char *argv[] = {
	    "/usr/bin/timeout", "20", harness_bin(), "-f", m.src, m.mnt, NULL};

	if (!harness_need_root("test_mount_not_permitted_exits_1"))
		return;
	/* nobody may not mount on root's directory. */
	ck_assert_int_eq(
	    harness_as_user(NOBODY, NOBODY, run_as_nobody, (void *)argv), 1);
	ck_assert(!harness_is_mounted(m.mnt));
}
END_TEST

static void assert_start(const char *src, const char *mnt)
{
	int rc = harness_start(&m, src, mnt, NULL);

	ck_assert_msg(rc == 0, "start failed (%d): %s", rc, harness_log(&m));
}

START_TEST(test_sigterm_unmounts_and_exits_0)
{
	assert_start(m.src, m.mnt);
	ck_assert(harness_is_mounted(m.mnt));
	ck_assert_int_eq(harness_stop(&m), 0);
	ck_assert(!harness_is_mounted(m.mnt));
}
END_TEST

/* Wait for the daemon to exit on its own; returns its status or -1. */
static int wait_exit(pid_t pid)
{
	int status;

	for (int i = 0; i < 2000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		usleep(5000);
	}
	return -1;
}

START_TEST(test_sigint_unmounts_and_exits_0)
{
	assert_start(m.src, m.mnt);
	kill(m.pid, SIGINT);
	ck_assert_int_eq(wait_exit(m.pid), 0);
	m.pid = 0;
	ck_assert(!harness_is_mounted(m.mnt));
}
END_TEST

START_TEST(test_fusermount_u_stops_the_daemon_with_status_0)
{
	const char *argv[] = {"fusermount3", "-u", m.mnt, NULL};

	assert_start(m.src, m.mnt);
	ck_assert_int_eq(harness_run(NULL, argv), 0);
	ck_assert_int_eq(wait_exit(m.pid), 0);
	m.pid = 0;
	ck_assert(!harness_is_mounted(m.mnt));
}
END_TEST

START_TEST(test_background_start_returns_with_the_mount_live)
{
	const char *umount[] = {"fusermount3", "-u", m.mnt, NULL};
	char *out;

	put_file(P(m.src, "hello"), "hi", 2);
	ck_assert_int_eq(run_memmapfs(&out, m.src, m.mnt, NULL, NULL), 0);
	g_free(out);
	ck_assert(harness_is_mounted(m.mnt));
	out = get_file(P(m.mnt, "hello"), NULL);
	ck_assert_str_eq(out, "hi");
	g_free(out);
	ck_assert_int_eq(harness_run(NULL, umount), 0);
	ck_assert(!harness_is_mounted(m.mnt));
}
END_TEST

START_TEST(test_second_mount_on_the_same_mountpoint_is_refused)
{
	char *out;

	assert_start(m.src, m.mnt);
	ck_assert_int_eq(run_memmapfs(&out, "-f", m.src, m.mnt, NULL), 1);
	assert_has(out, "already a memmapfs mount");
	g_free(out);
	ck_assert(harness_is_mounted(m.mnt));
}
END_TEST

START_TEST(test_overlay_on_itself_twice_is_refused)
{
	char *out;

	assert_start(m.src, m.src);
	ck_assert_int_eq(run_memmapfs(&out, "-f", m.src, m.src, NULL), 1);
	assert_has(out, "memmapfs mount");
	g_free(out);
	/* stop the overlay: harness_stop looks at m.mnt */
	strcpy(m.mnt, m.src);
}
END_TEST

START_TEST(test_overlay_on_itself_keeps_paths_and_data)
{
	int fd_before;
	char *text;

	put_file(P(m.src, "old"), "before", 6);
	/* A process that opened the directory's file before the mount keeps
	 * working on it. */
	fd_before = open(P(m.src, "old"), O_RDWR);
	ck_assert(fd_before >= 0);
	assert_start(m.src, m.src);
	strcpy(m.mnt, m.src);

	text = get_file(P(m.src, "old"), NULL);
	ck_assert_str_eq(text, "before");
	g_free(text);
	put_file(P(m.src, "new"), "during", 6);
	ck_assert(pwrite(fd_before, "BEFORE", 6, 0) == 6);
	text = get_file(P(m.src, "old"), NULL);
	ck_assert_str_eq(text, "BEFORE");
	g_free(text);

	ck_assert_int_eq(harness_stop(&m), 0);
	text = get_file(P(m.src, "new"), NULL);
	ck_assert_str_eq(text, "during");
	g_free(text);
	close(fd_before);
}
END_TEST

START_TEST(test_dead_mount_is_reported_with_the_fix)
{
	char *out;
	int status;

	m.log_may_warn = 1;
	assert_start(m.src, m.mnt);
	kill(m.pid, SIGKILL);
	waitpid(m.pid, &status, 0);
	m.pid = 0;
	ck_assert_int_eq(run_memmapfs(&out, "-f", m.src, m.mnt, NULL), 1);
	assert_has(out, "daemon has died");
	assert_has(out, "fusermount3 -u");
	g_free(out);
	/* teardown detaches the dead mount */
}
END_TEST

START_TEST(test_killed_daemon_loses_no_acknowledged_write)
{
	char buf[4096];
	int fd, status;
	char *text;
	size_t len;

	m.log_may_warn = 1;
	assert_start(m.src, m.mnt);
	fd = open(P(m.mnt, "f"), O_CREAT | O_WRONLY, 0644);
	ck_assert(fd >= 0);
	memset(buf, 'k', sizeof(buf));
	for (int i = 0; i < 256; i++)
		ck_assert(write(fd, buf, sizeof(buf)) == sizeof(buf));
	kill(m.pid, SIGKILL);
	waitpid(m.pid, &status, 0);
	m.pid = 0;
	close(fd);
	text = get_file(P(m.src, "f"), &len);
	ck_assert_uint_eq(len, 256 * 4096);
	ck_assert(text[len - 1] == 'k');
	g_free(text);
}
END_TEST

START_TEST(test_mountpoint_inside_source_is_not_entered)
{
	struct stat st;
	char inner[PATH_MAX];

	/* SOURCE=src, MOUNTPOINT=src/mnt: through the mount, "mnt" would lead
	 * back into the mount itself. */
	g_snprintf(inner, sizeof(inner), "%s/mnt", m.src);
	ck_assert(mkdir(inner, 0755) == 0);
	put_file(P(m.src, "file"), "x", 1);
	assert_start(m.src, inner);
	strcpy(m.mnt, inner);
	errno = 0;
	ck_assert_int_eq(stat(P(inner, "mnt/anything"), &st), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* still serving */
	ck_assert_int_eq(stat(P(inner, "file"), &st), 0);
	ck_assert_int_eq(st.st_size, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount_cli");
	TCase *args = tcase_create("arguments");
	TCase *life = tcase_create("lifecycle");
	int failed, fuse_ok = harness_init();

	tcase_add_checked_fixture(args, harness_fixture_setup,
				  harness_fixture_teardown);
	tcase_add_test(args, test_help_exits_0_and_lists_the_options);
	tcase_add_test(args, test_version_exits_0);
	tcase_add_test(args, test_missing_source_exits_1_and_says_so);
	tcase_add_test(args, test_source_that_is_a_file_exits_1);
	tcase_add_test(args,
		       test_missing_mountpoint_exits_1_and_says_how_to_fix);
	tcase_add_test(args, test_mountpoint_not_given_exits_1);
	tcase_add_test(args, test_unknown_option_exits_1);
	tcase_add_test(args, test_bad_option_value_exits_1_naming_the_option);
	tcase_add_test(args, test_missing_dev_fuse_exits_1_and_says_so);
	suite_add_tcase(s, args);

	tcase_add_checked_fixture(life, harness_fixture_setup,
				  harness_fixture_teardown);
	tcase_set_timeout(life, 60);
	tcase_add_test(life, test_mount_not_permitted_exits_1);
	tcase_add_test(life, test_sigterm_unmounts_and_exits_0);
	tcase_add_test(life, test_sigint_unmounts_and_exits_0);
	tcase_add_test(life, test_fusermount_u_stops_the_daemon_with_status_0);
	tcase_add_test(life, test_background_start_returns_with_the_mount_live);
	tcase_add_test(life,
		       test_second_mount_on_the_same_mountpoint_is_refused);
	tcase_add_test(life, test_overlay_on_itself_twice_is_refused);
	tcase_add_test(life, test_overlay_on_itself_keeps_paths_and_data);
	tcase_add_test(life, test_dead_mount_is_reported_with_the_fix);
	tcase_add_test(life, test_killed_daemon_loses_no_acknowledged_write);
	tcase_add_test(life, test_mountpoint_inside_source_is_not_entered);
	if (fuse_ok)
		suite_add_tcase(s, life);

	failed = harness_run_suite(s);
	harness_cleanup();
	return failed;
}
