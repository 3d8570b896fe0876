// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the mountinfo reader, on fixture tables. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "harness.h"
#include "memmapfs/mountinfo.h"

static char table[] = "/tmp/mmfs-mountinfo.XXXXXX";

static void write_table(const char *text)
{
	int fd = mkstemp(table);
	FILE *f;

	ck_assert(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
}

static void remove_table(void)
{
	unlink(table);
	strcpy(table, "/tmp/mmfs-mountinfo.XXXXXX");
}

static const char fixture[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "40 22 0:45 / /data rw,nosuid shared:20 master:3 - fuse.memmapfs "
    "/srv/data rw,user_id=0\n"
    "41 22 0:46 / /with\\040space rw - tmpfs my\\134src rw\n"
    "this line is not mountinfo at all\n"
    "42 40 0:47 / /data rw - fuse.sshfs host:/x rw\n"
    "43 22 8:1 /srv/a\\040b /bound rw - ext4 /dev/sda1 rw\n";

START_TEST(test_finds_mount_by_path)
{
	struct mmfs_mount_entry e;

	write_table(fixture);
	ck_assert_int_eq(mmfs_mountinfo_at(table, "/", &e), 0);
	ck_assert_str_eq(e.fstype, "ext4");
	ck_assert_str_eq(e.source, "/dev/sda1");
	ck_assert_uint_eq(e.mnt_id, 22);
	ck_assert(e.dev == makedev(8, 1));
	mmfs_mount_entry_clear(&e);
	remove_table();
}
END_TEST

START_TEST(test_topmost_mount_on_a_path_wins)
{
	struct mmfs_mount_entry e;

	write_table(fixture);
	ck_assert_int_eq(mmfs_mountinfo_at(table, "/data", &e), 0);
	ck_assert_str_eq(e.fstype, "fuse.sshfs");
	ck_assert_uint_eq(e.mnt_id, 42);
	mmfs_mount_entry_clear(&e);
	remove_table();
}
END_TEST

START_TEST(test_escapes_are_decoded)
{
	struct mmfs_mount_entry e;

	write_table(fixture);
	ck_assert_int_eq(mmfs_mountinfo_at(table, "/with space", &e), 0);
	ck_assert_str_eq(e.source, "my\\src");
	ck_assert_str_eq(e.root, "/");
	mmfs_mount_entry_clear(&e);
	/* a bind mount of a directory: its root is that directory */
	ck_assert_int_eq(mmfs_mountinfo_at(table, "/bound", &e), 0);
	ck_assert_str_eq(e.root, "/srv/a b");
	mmfs_mount_entry_clear(&e);
	remove_table();
}
END_TEST

START_TEST(test_optional_fields_are_skipped)
{
	struct mmfs_mount_entry e;

	write_table(fixture);
	ck_assert_int_eq(mmfs_mountinfo_of_dev(table, makedev(0, 45), &e), 0);
	ck_assert_str_eq(e.fstype, "fuse.memmapfs");
	ck_assert_str_eq(e.source, "/srv/data");
	ck_assert_str_eq(e.mount_point, "/data");
	mmfs_mount_entry_clear(&e);
	remove_table();
}
END_TEST

START_TEST(test_unknown_path_and_dev_give_enoent)
{
	struct mmfs_mount_entry e;

	write_table(fixture);
	ck_assert_int_eq(mmfs_mountinfo_at(table, "/nope", &e), -ENOENT);
	ck_assert_int_eq(mmfs_mountinfo_of_dev(table, makedev(9, 9), &e),
			 -ENOENT);
	ck_assert_ptr_null(e.fstype);
	remove_table();
}
END_TEST

START_TEST(test_missing_table_gives_errno)
{
	struct mmfs_mount_entry e;

	ck_assert_int_eq(mmfs_mountinfo_at("/nonexistent/mountinfo", "/", &e),
			 -ENOENT);
}
END_TEST

START_TEST(test_reads_the_live_table)
{
	struct mmfs_mount_entry e;

	ck_assert_int_eq(mmfs_mountinfo_at("/proc/self/mountinfo", "/", &e), 0);
	ck_assert_ptr_nonnull(e.fstype);
	mmfs_mount_entry_clear(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mountinfo");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_finds_mount_by_path);
	tcase_add_test(tc, test_topmost_mount_on_a_path_wins);
	tcase_add_test(tc, test_escapes_are_decoded);
	tcase_add_test(tc, test_optional_fields_are_skipped);
	tcase_add_test(tc, test_unknown_path_and_dev_give_enoent);
	tcase_add_test(tc, test_missing_table_gives_errno);
	tcase_add_test(tc, test_reads_the_live_table);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
