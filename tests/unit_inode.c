// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the inode table, on a plain temporary directory. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "harness.h"
#include "memmapfs/inode.h"

static char dir[] = "/tmp/mmfs-inode.XXXXXX";
static struct mmfs_inode_table table;

/* dir/name, in a static buffer */
static const char *in_dir(const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static void setup(void)
{
	char a[PATH_MAX];
	int fd;

	ck_assert(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s", in_dir("a"));
	close(open(a, O_CREAT | O_WRONLY, 0644));
	ck_assert(link(a, in_dir("hard")) == 0);
	close(open(in_dir("b"), O_CREAT | O_WRONLY, 0644));
	fd = open(dir, O_PATH | O_DIRECTORY);
	ck_assert(fd >= 0);
	ck_assert_int_eq(mmfs_inode_table_init(&table, fd), 0);
}

static void teardown(void)
{
	mmfs_inode_table_destroy(&table);
	unlink(in_dir("a"));
	unlink(in_dir("hard"));
	unlink(in_dir("b"));
	rmdir(dir);
}

/* The O_PATH fd and attributes for a name, as lookup would get them. */
static int open_entry(const char *name, struct stat *st)
{
	int fd = openat(table.root->fd, name, O_PATH | O_NOFOLLOW);

	ck_assert(fd >= 0);
	ck_assert(fstat(fd, st) == 0);
	return fd;
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

START_TEST(test_same_object_twice_gives_one_inode_and_closes_the_spare_fd)
{
	struct stat st;
	int fd1 = open_entry("a", &st);
	struct mmfs_inode *i1 = mmfs_inode_ref(&table, fd1, &st);
	int fd2 = open_entry("a", &st);
	struct mmfs_inode *i2 = mmfs_inode_ref(&table, fd2, &st);

	ck_assert_ptr_eq(i1, i2);
	ck_assert_uint_eq(i1->nlookup, 2);
	ck_assert_int_eq(i1->fd, fd1);
	ck_assert(!fd_is_open(fd2));
	ck_assert_uint_eq(mmfs_inode_count(&table), 2);
}
END_TEST

START_TEST(test_hard_links_share_an_inode)
{
	struct stat st;
	struct mmfs_inode *a =
	    mmfs_inode_ref(&table, open_entry("a", &st), &st);
	struct mmfs_inode *h =
	    mmfs_inode_ref(&table, open_entry("hard", &st), &st);
	struct mmfs_inode *b =
	    mmfs_inode_ref(&table, open_entry("b", &st), &st);

	ck_assert_ptr_eq(a, h);
	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(mmfs_inode_count(&table), 3);
}
END_TEST

START_TEST(test_forget_frees_at_zero_and_closes_the_fd)
{
	struct stat st;
	int fd = open_entry("b", &st);
	struct mmfs_inode *b = mmfs_inode_ref(&table, fd, &st);

	mmfs_inode_ref(&table, open_entry("b", &st), &st);
	mmfs_inode_forget(&table, b, 1);
	ck_assert_uint_eq(mmfs_inode_count(&table), 2);
	ck_assert(fd_is_open(fd));
	mmfs_inode_forget(&table, b, 1);
	ck_assert_uint_eq(mmfs_inode_count(&table), 1);
	ck_assert(!fd_is_open(fd));
}
END_TEST

START_TEST(test_forget_of_more_than_held_still_frees)
{
	struct stat st;
	struct mmfs_inode *b =
	    mmfs_inode_ref(&table, open_entry("b", &st), &st);

	mmfs_inode_forget(&table, b, 5);
	ck_assert_uint_eq(mmfs_inode_count(&table), 1);
}
END_TEST

START_TEST(test_root_is_never_freed)
{
	struct mmfs_inode *root = table.root;

	mmfs_inode_forget(&table, root, 1000);
	ck_assert_ptr_eq(table.root, root);
	ck_assert(fd_is_open(root->fd));
	ck_assert_uint_eq(mmfs_inode_count(&table), 1);
}
END_TEST

START_TEST(test_root_looked_up_again_is_the_root)
{
	struct stat st;
	int fd = open(dir, O_PATH | O_DIRECTORY);

	ck_assert(fstat(fd, &st) == 0);
	ck_assert_ptr_eq(mmfs_inode_ref(&table, fd, &st), table.root);
}
END_TEST

struct race {
	const char *name;
	struct mmfs_inode *seen[200];
};

static gpointer ref_many(gpointer p)
{
	struct race *r = p;
	struct stat st;

	for (int i = 0; i < 200; i++)
		r->seen[i] =
		    mmfs_inode_ref(&table, open_entry(r->name, &st), &st);
	return NULL;
}

START_TEST(test_concurrent_refs_agree_and_count_exactly)
{
	struct race r[4] = {
	    {"a", {0}}, {"hard", {0}}, {"a", {0}}, {"hard", {0}}};
	GThread *t[4];

	for (int i = 0; i < 4; i++)
		t[i] = g_thread_new("ref", ref_many, &r[i]);
	for (int i = 0; i < 4; i++)
		g_thread_join(t[i]);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 200; j++)
			ck_assert_ptr_eq(r[i].seen[j], r[0].seen[0]);
	ck_assert_uint_eq(r[0].seen[0]->nlookup, 800);
	mmfs_inode_forget(&table, r[0].seen[0], 800);
	ck_assert_uint_eq(mmfs_inode_count(&table), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inode");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(
	    tc, test_same_object_twice_gives_one_inode_and_closes_the_spare_fd);
	tcase_add_test(tc, test_hard_links_share_an_inode);
	tcase_add_test(tc, test_forget_frees_at_zero_and_closes_the_fd);
	tcase_add_test(tc, test_forget_of_more_than_held_still_frees);
	tcase_add_test(tc, test_root_is_never_freed);
	tcase_add_test(tc, test_root_looked_up_again_is_the_root);
	tcase_add_test(tc, test_concurrent_refs_agree_and_count_exactly);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
