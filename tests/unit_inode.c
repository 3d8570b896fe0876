// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the inode table, on a plain temporary directory. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

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
	ck_assert_int_eq(mmfs_inode_table_init(&table, fd, 64, 1, NULL), 0);
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

/* ---- the fd cache (a table of its own, cap 16) ---- */

static struct mmfs_stats cstats;

/* A second table on dir with file handles (or not) and a cap of 16, and
 * n files "f0".."f<n-1>" in dir. */
static void cache_setup(struct mmfs_inode_table *t, int handles, int n)
{
	char name[32];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		close(open(in_dir(name), O_CREAT | O_WRONLY, 0644));
	}
	memset(&cstats, 0, sizeof(cstats));
	ck_assert_int_eq(mmfs_inode_table_init(t,
					       open(dir, O_PATH | O_DIRECTORY),
					       16, handles, &cstats),
			 0);
}

static void cache_teardown(struct mmfs_inode_table *t, int n)
{
	char name[32];

	mmfs_inode_table_destroy(t);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		unlink(in_dir(name));
	}
}

static struct mmfs_inode *ref_name(struct mmfs_inode_table *t, const char *name)
{
	struct stat st;
	int fd = openat(t->root->fd, name, O_PATH | O_NOFOLLOW);

	ck_assert(fd >= 0);
	ck_assert(fstat(fd, &st) == 0);
	return mmfs_inode_ref(t, fd, &st);
}

/* How many fds this process has open. */
static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += fd_is_open(fd);
	return n;
}

START_TEST(test_cache_holds_at_most_its_size_and_reopens_by_handle)
{
	struct mmfs_inode_table t;
	struct mmfs_inode *in[100];
	char name[32];
	int before = open_fds(), fd;
	struct stat st, native;

	if (!harness_need_root(__func__))
		return;
	cache_setup(&t, 1, 100);
	ck_assert_int_eq(t.handles, 1);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		in[i] = ref_name(&t, name);
		/* the root and its mount fd, and at most 16 more */
		ck_assert_int_le(open_fds() - before, 18);
		ck_assert_uint_le(t.fds, 16);
	}
	ck_assert_uint_eq(mmfs_inode_count(&t), 101);
	ck_assert_uint_eq(cstats.fds_held, t.fds);
	ck_assert_uint_ge(cstats.fd_evictions, 84);
	ck_assert(in[0]->fd < 0);
	/* every evicted inode comes back as the same object */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		fd = mmfs_inode_use(&t, in[i]);
		ck_assert_int_ge(fd, 0);
		ck_assert(fstat(fd, &st) == 0);
		ck_assert(stat(in_dir(name), &native) == 0);
		ck_assert_uint_eq(st.st_ino, native.st_ino);
		mmfs_inode_unuse(&t, in[i]);
		ck_assert_uint_le(t.fds, 16);
	}
	ck_assert_uint_ge(cstats.fd_reopens, 84);
	ck_assert_uint_eq(cstats.inodes, 101);
	ck_assert_uint_eq(cstats.inode_bytes / cstats.inodes <= 200, 1);
	cache_teardown(&t, 100);
}
END_TEST

START_TEST(test_an_inode_in_use_keeps_its_fd)
{
	struct mmfs_inode_table t;
	struct mmfs_inode *first;
	char name[32];
	int fd;

	if (!harness_need_root(__func__))
		return;
	cache_setup(&t, 1, 40);
	first = ref_name(&t, "f0");
	fd = mmfs_inode_use(&t, first);
	for (int i = 1; i < 40; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ref_name(&t, name);
	}
	ck_assert_int_eq(first->fd, fd);
	ck_assert(fd_is_open(fd));
	mmfs_inode_unuse(&t, first);
	cache_teardown(&t, 40);
}
END_TEST

START_TEST(test_a_file_replaced_behind_the_table_is_stale_never_another)
{
	struct mmfs_inode_table t;
	struct mmfs_inode *old, *fresh;
	char name[32];
	struct stat st;

	if (!harness_need_root(__func__))
		return;
	cache_setup(&t, 1, 40);
	old = ref_name(&t, "f0");
	for (int i = 1; i < 40; i++) { /* push f0's fd out */
		snprintf(name, sizeof(name), "f%d", i);
		ref_name(&t, name);
	}
	ck_assert(old->fd < 0);
	/* removed and made again: ext4 hands the freed number out again,
	 * with a new generation */
	ck_assert(unlink(in_dir("f0")) == 0);
	close(open(in_dir("f0"), O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(mmfs_inode_use(&t, old), -ENOENT);
	ck_assert_uint_ge(cstats.stale_handles, 1);
	fresh = ref_name(&t, "f0");
	ck_assert_ptr_ne(fresh, old);
	ck_assert(stat(in_dir("f0"), &st) == 0);
	ck_assert_uint_eq(fresh->key.ino, st.st_ino);
	ck_assert_int_ge(mmfs_inode_use(&t, fresh), 0);
	mmfs_inode_unuse(&t, fresh);
	/* the old inode still answers as vanished, and goes when forgotten */
	ck_assert_int_eq(mmfs_inode_use(&t, old), -ENOENT);
	mmfs_inode_forget(&t, old, 1);
	cache_teardown(&t, 40);
}
END_TEST

/* ext4 does not always give a freed number out again at once; this makes
 * the reuse happen: another object presented under f0's evicted number. */
START_TEST(test_a_reused_number_with_another_handle_is_another_object)
{
	struct mmfs_inode_table t;
	struct mmfs_inode *old, *other;
	char name[32];
	struct stat st;
	int fd;

	if (!harness_need_root(__func__))
		return;
	cache_setup(&t, 1, 40);
	/* as on a filesystem whose handles are not export ids (xfs, btrfs):
	 * objects are found by number, checked by handle */
	t.export_ids = 0;
	old = ref_name(&t, "f0");
	for (int i = 1; i < 40; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ref_name(&t, name);
	}
	ck_assert(old->fd < 0);
	fd = openat(t.root->fd, "f39", O_PATH | O_NOFOLLOW);
	ck_assert(fstat(fd, &st) == 0);
	st.st_ino = old->key.ino;
	other = mmfs_inode_ref(&t, fd, &st);
	ck_assert_ptr_ne(other, old);
	ck_assert_uint_ge(cstats.stale_handles, 1);
	/* the old inode still reaches its own object, by its handle */
	fd = mmfs_inode_use(&t, old);
	ck_assert_int_ge(fd, 0);
	ck_assert(stat(in_dir("f0"), &st) == 0);
	{
		struct stat o;

		ck_assert(fstat(fd, &o) == 0);
		ck_assert_uint_eq(o.st_ino, st.st_ino);
	}
	mmfs_inode_unuse(&t, old);
	cache_teardown(&t, 40);
}
END_TEST

START_TEST(test_without_handles_every_inode_keeps_its_fd)
{
	struct mmfs_inode_table t;
	struct mmfs_inode *in[40];
	char name[32];

	cache_setup(&t, 0, 40);
	ck_assert_int_eq(t.handles, 0);
	ck_assert_uint_eq(cstats.file_handles, 0);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		in[i] = ref_name(&t, name);
	}
	ck_assert_uint_eq(t.fds, 41);
	for (int i = 0; i < 40; i++)
		ck_assert(fd_is_open(in[i]->fd));
	ck_assert_uint_eq(cstats.fd_evictions, 0);
	cache_teardown(&t, 40);
}
END_TEST

START_TEST(test_an_idle_inode_gives_up_its_map_with_its_fd)
{
	struct mmfs_map_config mc;
	struct mmfs_engine *eng;
	struct mmfs_inode_table t;
	struct mmfs_inode *first;
	char name[32];
	int fd;

	if (!harness_need_root(__func__))
		return;
	cache_setup(&t, 1, 40);
	mmfs_map_config_defaults(&mc);
	eng = mmfs_engine_new(&mc, &cstats);
	ck_assert_ptr_nonnull(eng);
	first = ref_name(&t, "f0");
	fd = mmfs_inode_use(&t, first);
	mmfs_inode_set_map(
	    &t, first, mmfs_map_new(eng, open(in_dir("f0"), O_RDWR), 1, "f0"));
	ck_assert_uint_eq(cstats.files_mapped, 1);
	ck_assert_uint_eq(t.fds, 3); /* root, f0, f0's map */
	mmfs_inode_unuse(&t, first);
	ck_assert_ptr_nonnull(first->map); /* idle, but room enough */
	(void)fd;
	for (int i = 1; i < 40; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ref_name(&t, name);
	}
	ck_assert_ptr_null(first->map);
	ck_assert_uint_eq(cstats.files_mapped, 0);
	ck_assert_uint_ge(cstats.maps_closed, 1);
	ck_assert_uint_le(t.fds, 16);
	cache_teardown(&t, 40);
	mmfs_engine_free(eng);
}
END_TEST

/* ---- export ids: node ids that are file handles ---- */

/* The table's own cache on an ext4 dir must use export ids; elsewhere
 * (a tmpfs /tmp, say) these tests have nothing to check. */
static int export_setup(struct mmfs_inode_table *t, int n)
{
	struct statfs sfs;

	if (!harness_need_root("export ids"))
		return 0;
	cache_setup(t, 1, n);
	ck_assert(statfs(dir, &sfs) == 0);
	if (sfs.f_type != EXT4_SUPER_MAGIC) {
		fprintf(stderr, "SKIP: export ids: %s is not on ext4\n", dir);
		cache_teardown(t, n);
		return 0;
	}
	ck_assert_int_eq(t->export_ids, 1);
	ck_assert_uint_eq(cstats.export_ids, 1);
	return 1;
}

/* The export id of a path: its ext4 handle's 8 bytes. */
static uint64_t export_id_of(const char *path)
{
	struct {
		struct file_handle fh;
		unsigned char room[MAX_HANDLE_SZ];
	} h;
	uint64_t id;
	int mnt;

	h.fh.handle_bytes = MAX_HANDLE_SZ;
	ck_assert(name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0) == 0);
	ck_assert_int_eq(h.fh.handle_type, 1);
	ck_assert_uint_eq(h.fh.handle_bytes, 8);
	memcpy(&id, h.fh.f_handle, sizeof(id));
	return id;
}

START_TEST(test_export_ids_are_the_handles_and_name_objects_for_good)
{
	struct mmfs_inode_table t;
	struct mmfs_inode *f, *inode;
	uint64_t id;
	struct stat st;
	int fd;

	if (!export_setup(&t, 2))
		return;
	f = ref_name(&t, "f0");
	id = export_id_of(in_dir("f0"));
	ck_assert_uint_eq(f->id, id);
	ck_assert_uint_eq(mmfs_inode_generation(&t, f), id >> 32);
	ck_assert_ptr_eq(mmfs_inode_find(&t, id), f);
	/* hard links: one object, one id */
	ck_assert_uint_eq(ref_name(&t, "a")->id, ref_name(&t, "hard")->id);
	ck_assert_ptr_eq(mmfs_inode_find(&t, MMFS_INODE_ROOT_ID), t.root);
	ck_assert_uint_eq(mmfs_inode_generation(&t, t.root), 0);
	/* forgotten, the id still opens its object, when every object of
	 * the filesystem is inside SOURCE */
	mmfs_inode_forget(&t, f, 1);
	ck_assert_ptr_null(mmfs_inode_find(&t, id));
	ck_assert_int_eq(mmfs_inode_use_id(&t, id, &inode), -ESTALE);
	ck_assert_int_eq(mmfs_inode_open_id(&t, id), -ESTALE);
	t.whole_fs = 1;
	fd = mmfs_inode_open_id(&t, id);
	ck_assert_int_ge(fd, 0);
	ck_assert(fstat(fd, &st) == 0);
	inode = mmfs_inode_ref(&t, fd, &st);
	ck_assert_uint_eq(inode->id, id);
	/* removed: stale, and never another object */
	ck_assert(unlink(in_dir("f0")) == 0);
	close(open(in_dir("f0"), O_CREAT | O_WRONLY, 0600));
	ck_assert_uint_ne(export_id_of(in_dir("f0")), id);
	mmfs_inode_forget(&t, inode, 1);
	ck_assert_int_eq(mmfs_inode_open_id(&t, id), -ESTALE);
	/* ids that are not handles never open anything */
	ck_assert_int_eq(mmfs_inode_open_id(&t, 7ull << 32), -ESTALE);
	cache_teardown(&t, 2);
}
END_TEST

START_TEST(test_an_export_id_opens_directories_inside_source_only)
{
	struct mmfs_inode_table t;
	char outside[PATH_MAX], *slash;
	uint64_t id;
	int fd;

	if (!export_setup(&t, 1))
		return;
	ck_assert(mkdir(in_dir("sub"), 0755) == 0);
	ck_assert(mkdir(in_dir("sub/deeper"), 0755) == 0);
	id = export_id_of(in_dir("sub/deeper"));
	fd = mmfs_inode_open_id(&t, id);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* the directory SOURCE is in: same filesystem, not inside */
	snprintf(outside, sizeof(outside), "%s", dir);
	slash = strrchr(outside, '/');
	*slash = '\0';
	ck_assert_int_eq(mmfs_inode_open_id(&t, export_id_of(outside)),
			 -ESTALE);
	ck_assert(rmdir(in_dir("sub/deeper")) == 0);
	ck_assert(rmdir(in_dir("sub")) == 0);
	cache_teardown(&t, 1);
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
	tc = tcase_create("fd_cache");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		       test_cache_holds_at_most_its_size_and_reopens_by_handle);
	tcase_add_test(tc, test_an_inode_in_use_keeps_its_fd);
	tcase_add_test(
	    tc, test_a_file_replaced_behind_the_table_is_stale_never_another);
	tcase_add_test(
	    tc, test_a_reused_number_with_another_handle_is_another_object);
	tcase_add_test(tc, test_without_handles_every_inode_keeps_its_fd);
	tcase_add_test(tc, test_an_idle_inode_gives_up_its_map_with_its_fd);
	suite_add_tcase(s, tc);
	tc = tcase_create("export");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(
	    tc, test_export_ids_are_the_handles_and_name_objects_for_good);
	tcase_add_test(tc,
		       test_an_export_id_opens_directories_inside_source_only);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
