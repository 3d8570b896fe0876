// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for private copy-on-write files (mode=cow), on plain files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "harness.h"
#include "memmapfs/cow.h"

static char path[] = "/var/tmp/mmfs-cow.XXXXXX";
static struct mmfs_cow_budget budget;
static char *original;
#define SIZE 20000

static void setup(void)
{
	int fd;

	strcpy(path, "/var/tmp/mmfs-cow.XXXXXX");
	fd = mkstemp(path);
	original = g_malloc(SIZE);
	for (int i = 0; i < SIZE; i++)
		original[i] = (char)('a' + i % 26);
	ck_assert(write(fd, original, SIZE) == SIZE);
	close(fd);
	budget = (struct mmfs_cow_budget){.max = 64 << 10};
}

static void teardown(void)
{
	char *now;
	gsize len;

	/* whatever a test did, the file itself never changed */
	ck_assert(g_file_get_contents(path, &now, &len, NULL));
	ck_assert_uint_eq(len, SIZE);
	ck_assert(memcmp(now, original, SIZE) == 0);
	g_free(now);
	g_free(original);
	unlink(path);
}

static struct mmfs_cow *copy(void)
{
	int fd = open(path, O_RDONLY);
	struct mmfs_cow *c = mmfs_cow_new(fd, &budget);

	close(fd);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(test_untouched_copy_reads_the_file_and_costs_nothing)
{
	struct mmfs_cow *c = copy();
	char buf[SIZE + 10];

	ck_assert_int_eq(mmfs_cow_read(c, buf, sizeof(buf), 0), SIZE);
	ck_assert(memcmp(buf, original, SIZE) == 0);
	ck_assert_int_eq(mmfs_cow_read(c, buf, 10, SIZE), 0);
	ck_assert_uint_eq(budget.used, 0);
	mmfs_cow_free(c);
}
END_TEST

START_TEST(test_writes_are_private_and_charged_per_page)
{
	struct mmfs_cow *c = copy();
	char buf[16];

	ck_assert_int_eq(mmfs_cow_write(c, "XYZ", 3, 5000), 3);
	ck_assert_uint_eq(budget.used, 4096);
	ck_assert_int_eq(mmfs_cow_write(c, "Q", 1, 5001), 1);
	ck_assert_uint_eq(budget.used, 4096); /* same page */
	ck_assert_int_eq(mmfs_cow_write(c, "ab", 2, 8191), 2);
	/* across a boundary: page 1 is private already, page 2 is new */
	ck_assert_uint_eq(budget.used, 2 * 4096);
	ck_assert_int_eq(mmfs_cow_read(c, buf, 4, 4999), 4);
	ck_assert(buf[0] == original[4999] && memcmp(buf + 1, "XQZ", 3) == 0);
	mmfs_cow_free(c);
	ck_assert_uint_eq(budget.used, 0);
}
END_TEST

START_TEST(test_growth_reads_zeros_in_the_gap)
{
	struct mmfs_cow *c = copy();
	char buf[8];
	struct stat st = {0};

	ck_assert_int_eq(mmfs_cow_write(c, "end", 3, 40000), 3);
	ck_assert_int_eq(mmfs_cow_size(c), 40003);
	ck_assert_int_eq(mmfs_cow_read(c, buf, 4, 30000), 4);
	ck_assert(memcmp(buf, "\0\0\0\0", 4) == 0);
	ck_assert_int_eq(mmfs_cow_read(c, buf, 4, SIZE - 2), 4);
	ck_assert(memcmp(buf, original + SIZE - 2, 2) == 0 && buf[2] == 0);
	mmfs_cow_stat(c, &st);
	ck_assert_int_eq(st.st_size, 40003);
	mmfs_cow_free(c);
}
END_TEST

START_TEST(test_truncate_then_grow_reads_zeros_not_the_file)
{
	struct mmfs_cow *c = copy();
	char buf[16];

	ck_assert_int_eq(mmfs_cow_truncate(c, 100), 0);
	ck_assert_int_eq(mmfs_cow_read(c, buf, 16, 95), 5);
	ck_assert_int_eq(mmfs_cow_truncate(c, 12000), 0);
	ck_assert_int_eq(mmfs_cow_read(c, buf, 8, 96), 8);
	ck_assert(memcmp(buf, original + 96, 4) == 0);
	ck_assert(memcmp(buf + 4, "\0\0\0\0", 4) == 0);
	ck_assert_int_eq(mmfs_cow_read(c, buf, 8, 9000), 8);
	ck_assert(memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
	/* only the page holding the new end was made private */
	ck_assert_uint_eq(budget.used, 4096);
	mmfs_cow_free(c);
}
END_TEST

START_TEST(test_past_the_budget_is_enospc)
{
	struct mmfs_cow *c = copy();
	char *block = g_malloc0(32 << 10);

	ck_assert_int_eq(mmfs_cow_write(c, block, 32 << 10, 0), 32 << 10);
	ck_assert_int_eq(mmfs_cow_write(c, block, 32 << 10, 32 << 10),
			 32 << 10);
	ck_assert_int_eq(mmfs_cow_write(c, block, 1, 64 << 10), -ENOSPC);
	ck_assert_int_eq(mmfs_cow_truncate(c, (off_t)1 << 40), -ENOSPC);
	ck_assert_uint_eq(budget.used, 64 << 10);
	mmfs_cow_free(c);
	g_free(block);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cow");
	TCase *tc = tcase_create("copy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		       test_untouched_copy_reads_the_file_and_costs_nothing);
	tcase_add_test(tc, test_writes_are_private_and_charged_per_page);
	tcase_add_test(tc, test_growth_reads_zeros_in_the_gap);
	tcase_add_test(tc, test_truncate_then_grow_reads_zeros_not_the_file);
	tcase_add_test(tc, test_past_the_budget_is_enospc);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
