// SPDX-License-Identifier: GPL-2.0-or-later
/* Mount tests for every operation: each call is made on a plain native
 * directory and through the mount, and results, errno and the resulting
 * trees are compared (SAME / compare_trees). The mount runs with
 * allow_other so that the permission tests can act as another user. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <glib.h>

#include "fixture.h"

/* Every test here runs on a live mount (allow_other: some tests act as
 * another user). */
static void setup_mounted(void)
{
	harness_mount(&m, "allow_other");
}

/* Run stmt once with B = the native twin and once with B = the mount. */
#define BOTH(stmt)                                                             \
	do {                                                                   \
		for (int both_ = 0; both_ < 2; both_++) {                      \
			const char *B = both_ ? m.mnt : m.native;              \
			stmt;                                                  \
		}                                                              \
	} while (0)

static void put(const char *path, const char *text)
{
	put_file(path, text, strlen(text));
}

static void assert_content(const char *path, const char *text)
{
	char *got = get_file(path, NULL);

	ck_assert_msg(strcmp(got, text) == 0, "%s: '%s' != '%s'", path, got,
		      text);
	g_free(got);
}

/* Same tree natively, through the mount and in the backing directory. */
static void assert_twins(void)
{
	compare_trees(m.native, m.mnt);
	compare_trees(m.native, m.src);
}

/* ---------------- files: create, open, read, write ---------------- */

START_TEST(test_create_write_read_roundtrip)
{
	BOTH(put(P(B, "f"), "hello, world"));
	BOTH(assert_content(P(B, "f"), "hello, world"));
	assert_content(P(m.src, "f"), "hello, world");
	assert_twins();
}
END_TEST

START_TEST(test_create_excl_on_existing_fails_eexist)
{
	SAME_FD(m, open(P(B, "f"), O_CREAT | O_EXCL | O_WRONLY, 0640));
	SAME_FD(m, open(P(B, "f"), O_CREAT | O_EXCL | O_WRONLY, 0640));
	SAME_FD(m, open(P(B, "f"), O_CREAT | O_WRONLY, 0600));
	assert_twins();
}
END_TEST

START_TEST(test_open_errors_match)
{
	BOTH(mkdir(P(B, "d"), 0755));
	BOTH(put(P(B, "f"), "x"));
	SAME_FD(m, open(P(B, "missing"), O_RDONLY));
	SAME_FD(m, open(P(B, "d"), O_WRONLY));
	SAME_FD(m, open(P(B, "f"), O_RDONLY | O_DIRECTORY));
	SAME_FD(m, open(P(B, "f/x"), O_RDONLY));
	SAME_FD(m, open(P(B, "missing/x"), O_CREAT | O_WRONLY, 0644));
}
END_TEST

START_TEST(test_open_trunc_empties_the_file)
{
	BOTH(put(P(B, "f"), "some content"));
	SAME_FD(m, open(P(B, "f"), O_WRONLY | O_TRUNC));
	assert_twins();
	BOTH(assert_content(P(B, "f"), ""));
}
END_TEST

START_TEST(test_append_writes_land_at_the_end)
{
	BOTH({
		int a = open(P(B, "log"), O_CREAT | O_WRONLY | O_APPEND, 0644);
		int b = open(P(B, "log"), O_WRONLY | O_APPEND);

		ck_assert(a >= 0 && b >= 0);
		for (int i = 0; i < 50; i++) {
			ck_assert(write(a, "aaaa\n", 5) == 5);
			ck_assert(write(b, "bb\n", 3) == 3);
		}
		close(a);
		close(b);
	});
	assert_twins();
	struct stat st;
	ck_assert(stat(P(m.src, "log"), &st) == 0);
	ck_assert_int_eq(st.st_size, 50 * 8);
}
END_TEST

START_TEST(test_pwrite_past_eof_leaves_a_hole_of_zeros)
{
	BOTH({
		int fd = open(P(B, "f"), O_CREAT | O_RDWR, 0644);
		char buf[16];

		ck_assert(pwrite(fd, "end", 3, 1 << 20) == 3);
		ck_assert(pread(fd, buf, 4, 4096) == 4);
		ck_assert(memcmp(buf, "\0\0\0\0", 4) == 0);
		ck_assert(pread(fd, buf, 16, (1 << 20) - 1) == 4);
		ck_assert(memcmp(buf, "\0end", 4) == 0);
		ck_assert(pread(fd, buf, 16, 2 << 20) == 0);
		close(fd);
	});
	assert_twins();
}
END_TEST

START_TEST(test_unlinked_open_file_stays_usable)
{
	BOTH({
		int fd = open(P(B, "f"), O_CREAT | O_RDWR, 0644);
		char buf[8] = {0};

		ck_assert(fd >= 0);
		ck_assert(unlink(P(B, "f")) == 0);
		ck_assert(pwrite(fd, "ghost", 5, 0) == 5);
		ck_assert(pread(fd, buf, 5, 0) == 5);
		ck_assert_str_eq(buf, "ghost");
		close(fd);
	});
	assert_twins();
}
END_TEST

START_TEST(test_fsync_fdatasync_and_fsyncdir_succeed)
{
	SAME(m, ({
		     int fd = open(P(B, "f"), O_CREAT | O_WRONLY, 0644);
		     long r = write(fd, "x", 1) + fsync(fd) + fdatasync(fd);
		     close(fd);
		     r;
	     }));
	SAME(m, ({
		     int fd = open(B, O_RDONLY | O_DIRECTORY);
		     long r = fsync(fd);
		     close(fd);
		     r;
	     }));
}
END_TEST

/* ---------------- attributes ---------------- */

START_TEST(test_stat_through_the_mount_matches_the_backing_file)
{
	struct stat a, b;

	put(P(m.mnt, "f"), "0123456789");
	ck_assert(link(P(m.mnt, "f"), P(m.mnt, "g")) == 0);
	ck_assert(stat(P(m.mnt, "f"), &a) == 0);
	ck_assert(stat(P(m.src, "f"), &b) == 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_uint_eq(a.st_mode, b.st_mode);
	ck_assert_uint_eq(a.st_nlink, 2);
	ck_assert_uint_eq(b.st_nlink, 2);
	ck_assert_uint_eq(a.st_uid, b.st_uid);
	ck_assert_uint_eq(a.st_gid, b.st_gid);
	ck_assert_int_eq(a.st_size, b.st_size);
	ck_assert_int_eq(a.st_blocks, b.st_blocks);
	ck_assert_int_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	ck_assert_int_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
}
END_TEST

START_TEST(test_chmod_and_chown_match)
{
	BOTH(put(P(B, "f"), "x"));
	BOTH(mkdir(P(B, "d"), 0700));
	SAME(m, chmod(P(B, "f"), 04751));
	SAME(m, chmod(P(B, "d"), 01777));
	SAME(m, chown(P(B, "f"), 1234, 5678));
	SAME(m, chown(P(B, "d"), -1, 42));
	SAME(m, chmod(P(B, "missing"), 0644));
	assert_twins();
}
END_TEST

START_TEST(test_chown_of_setuid_file_clears_setuid_like_native)
{
	BOTH(put(P(B, "f"), "x"));
	SAME(m, chmod(P(B, "f"), 06755));
	SAME(m, chown(P(B, "f"), 1000, 1000));
	assert_twins();
}
END_TEST

START_TEST(test_times_set_omit_and_now)
{
	struct timespec set[2] = {{1000000000, 123456789},
				  {1100000000, 987654321}};
	struct timespec omit_atime[2] = {{0, UTIME_OMIT}, {5, 5}};
	struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	struct stat a, b;

	BOTH(put(P(B, "f"), "x"));
	SAME(m, utimensat(AT_FDCWD, P(B, "f"), set, 0));
	ck_assert(stat(P(m.mnt, "f"), &a) == 0);
	ck_assert_int_eq(a.st_atim.tv_sec, 1000000000);
	ck_assert_int_eq(a.st_atim.tv_nsec, 123456789);
	ck_assert_int_eq(a.st_mtim.tv_nsec, 987654321);
	SAME(m, utimensat(AT_FDCWD, P(B, "f"), omit_atime, 0));
	ck_assert(stat(P(m.src, "f"), &b) == 0);
	ck_assert_int_eq(b.st_atim.tv_sec, 1000000000);
	ck_assert_int_eq(b.st_mtim.tv_sec, 5);
	SAME(m, utimensat(AT_FDCWD, P(B, "f"), now, 0));
	ck_assert(stat(P(m.src, "f"), &b) == 0);
	ck_assert_int_gt(b.st_atim.tv_sec, 1600000000);
	ck_assert_int_eq(b.st_mtim.tv_sec, 5);
}
END_TEST

START_TEST(test_times_of_a_symlink_itself)
{
	struct timespec set[2] = {{1000, 0}, {2000, 0}};
	struct stat a, b;

	BOTH(put(P(B, "target"), "x"));
	BOTH(symlink("target", P(B, "l")));
	SAME(m, utimensat(AT_FDCWD, P(B, "l"), set, AT_SYMLINK_NOFOLLOW));
	ck_assert(lstat(P(m.src, "l"), &a) == 0);
	ck_assert(stat(P(m.src, "l"), &b) == 0);
	ck_assert_int_eq(a.st_mtim.tv_sec, 2000);
	ck_assert_int_ne(b.st_mtim.tv_sec, 2000);
}
END_TEST

START_TEST(test_truncate_grows_and_shrinks)
{
	BOTH(put(P(B, "f"), "0123456789"));
	SAME(m, truncate(P(B, "f"), 100000));
	assert_twins();
	SAME(m, truncate(P(B, "f"), 3));
	assert_twins();
	BOTH(assert_content(P(B, "f"), "012"));
	SAME(m, ({
		     int fd = open(P(B, "f"), O_RDWR);
		     long r = ftruncate(fd, 1);
		     close(fd);
		     r;
	     }));
	SAME(m, truncate(P(B, "f"), -1));
	SAME(m, truncate(P(B, "missing"), 1));
	assert_twins();
}
END_TEST

START_TEST(test_attributes_carry_the_real_size)
{
	struct stat a, b;
	char buf[8192] = {'z'};
	int fd = open(P(m.mnt, "f"), O_CREAT | O_RDWR, 0644);

	ck_assert(fd >= 0);
	for (int i = 1; i <= 20; i++) {
		ck_assert(pwrite(fd, buf, sizeof(buf), (off_t)i * 12345) ==
			  sizeof(buf));
		ck_assert(fstat(fd, &a) == 0);
		ck_assert(stat(P(m.src, "f"), &b) == 0);
		ck_assert_int_eq(a.st_size, b.st_size);
		ck_assert(stat(P(m.mnt, "f"), &a) == 0);
		ck_assert_int_eq(a.st_size, b.st_size);
	}
	close(fd);
}
END_TEST

/* ---------------- special files, links, directories ---------------- */

START_TEST(test_symlink_and_readlink)
{
	char ta[PATH_MAX], tb[PATH_MAX];
	struct stat st;

	BOTH(put(P(B, "f"), "x"));
	SAME(m, symlink("f", P(B, "rel")));
	SAME(m, symlink("/etc/hostname", P(B, "abs")));
	SAME(m, symlink("nowhere/at/all", P(B, "dangling")));
	SAME(m, symlink("f", P(B, "rel")));
	ck_assert(readlink(P(m.mnt, "abs"), ta, sizeof(ta)) == 13);
	ck_assert(readlink(P(m.native, "abs"), tb, sizeof(tb)) == 13);
	ck_assert(memcmp(ta, tb, 13) == 0);
	SAME(m, readlink(P(B, "f"), ta, sizeof(ta)));
	SAME(m, stat(P(B, "dangling"), &st));
	SAME(m, lstat(P(B, "dangling"), &st));
	BOTH(assert_content(P(B, "rel"), "x"));
	assert_twins();
}
END_TEST

START_TEST(test_mknod_fifo_socket_and_device)
{
	struct stat a, b;

	SAME(m, mknod(P(B, "fifo"), S_IFIFO | 0640, 0));
	SAME(m, mknod(P(B, "sock"), S_IFSOCK | 0600, 0));
	SAME(m, mknod(P(B, "reg"), S_IFREG | 0600, 0));
	SAME(m, mknod(P(B, "fifo"), S_IFIFO | 0640, 0));
	if (geteuid() == 0) {
		SAME(m, mknod(P(B, "null"), S_IFCHR | 0666, makedev(1, 3)));
		ck_assert(stat(P(m.mnt, "null"), &a) == 0);
		ck_assert(stat(P(m.src, "null"), &b) == 0);
		ck_assert(a.st_rdev == b.st_rdev);
		ck_assert(a.st_rdev == makedev(1, 3));
	}
	assert_twins();
}
END_TEST

START_TEST(test_mkdir_rmdir_unlink_and_their_errors)
{
	SAME(m, mkdir(P(B, "d"), 0750));
	SAME(m, mkdir(P(B, "d"), 0750));
	SAME(m, mkdir(P(B, "missing/d"), 0750));
	BOTH(put(P(B, "d/f"), "x"));
	SAME(m, rmdir(P(B, "d")));
	SAME(m, rmdir(P(B, "d/f")));
	SAME(m, unlink(P(B, "d")));
	SAME(m, unlink(P(B, "missing")));
	SAME(m, rmdir(P(B, "missing")));
	SAME(m, unlink(P(B, "d/f")));
	SAME(m, rmdir(P(B, "d")));
	assert_twins();
}
END_TEST

START_TEST(test_rename_plain_and_its_errors)
{
	BOTH(put(P(B, "a"), "A"));
	BOTH(put(P(B, "b"), "B"));
	BOTH(mkdir(P(B, "d"), 0755));
	BOTH(mkdir(P(B, "e"), 0755));
	BOTH(put(P(B, "e/x"), "x"));
	SAME(m, rename(P(B, "a"), P(B, "b")));
	SAME(m, rename(P(B, "b"), P(B, "d/b")));
	SAME(m, rename(P(B, "d"), P(B, "e")));
	SAME(m, rename(P(B, "e"), P(B, "e/sub")));
	SAME(m, rename(P(B, "d/b"), P(B, "e")));
	SAME(m, rename(P(B, "e"), P(B, "d/b")));
	SAME(m, rename(P(B, "missing"), P(B, "z")));
	SAME(m, rename(P(B, "e"), P(B, "d/e2")));
	assert_twins();
}
END_TEST

START_TEST(test_rename_noreplace_refuses_an_existing_target)
{
	BOTH(put(P(B, "a"), "A"));
	BOTH(put(P(B, "b"), "B"));
	SAME(m, renameat2(AT_FDCWD, P(B, "a"), AT_FDCWD, P(B, "b"),
			  RENAME_NOREPLACE));
	SAME(m, renameat2(AT_FDCWD, P(B, "a"), AT_FDCWD, P(B, "c"),
			  RENAME_NOREPLACE));
	assert_twins();
}
END_TEST

START_TEST(test_rename_exchange_swaps_entries)
{
	BOTH(put(P(B, "a"), "A"));
	BOTH(mkdir(P(B, "d"), 0700));
	SAME(m, renameat2(AT_FDCWD, P(B, "a"), AT_FDCWD, P(B, "d"),
			  RENAME_EXCHANGE));
	assert_twins();
	BOTH(assert_content(P(B, "d"), "A"));
	SAME(m, renameat2(AT_FDCWD, P(B, "d"), AT_FDCWD, P(B, "missing"),
			  RENAME_EXCHANGE));
	SAME(m, renameat2(AT_FDCWD, P(B, "d"), AT_FDCWD, P(B, "a"),
			  RENAME_EXCHANGE | RENAME_NOREPLACE));
}
END_TEST

START_TEST(test_hard_links_are_counted_in_mount_and_backing)
{
	struct stat st;

	BOTH(put(P(B, "f"), "x"));
	BOTH(mkdir(P(B, "d"), 0755));
	SAME(m, link(P(B, "f"), P(B, "g")));
	SAME(m, link(P(B, "f"), P(B, "d/h")));
	SAME(m, link(P(B, "f"), P(B, "g")));
	SAME(m, link(P(B, "d"), P(B, "dlink")));
	ck_assert(stat(P(m.mnt, "g"), &st) == 0);
	ck_assert_uint_eq(st.st_nlink, 3);
	ck_assert(stat(P(m.src, "g"), &st) == 0);
	ck_assert_uint_eq(st.st_nlink, 3);
	SAME(m, unlink(P(B, "f")));
	ck_assert(stat(P(m.mnt, "g"), &st) == 0);
	ck_assert_uint_eq(st.st_nlink, 2);
	BOTH(put(P(B, "d/h"), "changed via one name"));
	BOTH(assert_content(P(B, "g"), "changed via one name"));
	assert_twins();
}
END_TEST

/* ---------------- directories and names ---------------- */

static GPtrArray *list_dir(const char *path, GHashTable *types)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	DIR *d = opendir(path);
	struct dirent *de;

	ck_assert(d);
	while ((de = readdir(d))) {
		g_ptr_array_add(names, g_strdup(de->d_name));
		if (types)
			g_hash_table_insert(types, g_strdup(de->d_name),
					    GINT_TO_POINTER(de->d_type));
	}
	closedir(d);
	return names;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void assert_same_listing(const char *a, const char *b)
{
	GHashTable *ta =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTable *tb =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *la = list_dir(a, ta), *lb = list_dir(b, tb);

	g_ptr_array_sort(la, by_name);
	g_ptr_array_sort(lb, by_name);
	ck_assert_uint_eq(la->len, lb->len);
	for (guint i = 0; i < la->len; i++) {
		ck_assert_str_eq(la->pdata[i], lb->pdata[i]);
		ck_assert_int_eq(
		    GPOINTER_TO_INT(g_hash_table_lookup(ta, la->pdata[i])),
		    GPOINTER_TO_INT(g_hash_table_lookup(tb, lb->pdata[i])));
	}
	g_ptr_array_free(la, TRUE);
	g_ptr_array_free(lb, TRUE);
	g_hash_table_destroy(ta);
	g_hash_table_destroy(tb);
}

START_TEST(test_readdir_lists_10000_entries)
{
	BOTH({
		char name[32];

		ck_assert(mkdir(P(B, "big"), 0755) == 0);
		for (int i = 0; i < 10000; i++) {
			snprintf(name, sizeof(name), "big/entry-%05d", i);
			if (i % 1000 == 0)
				ck_assert(mkdir(P(B, "%s", name), 0755) == 0);
			else
				close(open(P(B, "%s", name), O_CREAT | O_WRONLY,
					   0644));
		}
	});
	assert_same_listing(P(m.native, "big"), P(m.mnt, "big"));
	assert_same_listing(P(m.src, "big"), P(m.mnt, "big"));
}
END_TEST

START_TEST(test_readdir_sees_changes_made_in_the_backing_directory)
{
	GPtrArray *l;

	put(P(m.src, "made-behind-the-mount"), "x");
	l = list_dir(m.mnt, NULL);
	ck_assert(g_ptr_array_find_with_equal_func(l, "made-behind-the-mount",
						   g_str_equal, NULL));
	g_ptr_array_free(l, TRUE);
	assert_content(P(m.mnt, "made-behind-the-mount"), "x");
}
END_TEST

START_TEST(test_names_with_any_byte_but_slash)
{
	char name[256];

	BOTH({
		for (int c = 1; c < 256; c++) {
			if (c == '/' || c == '.')
				continue;
			name[0] = (char)c;
			name[1] = '\0';
			ck_assert_msg(
			    mknod(P(B, "%s", name), S_IFREG | 0644, 0) == 0,
			    "byte %d: %s", c, strerror(errno));
		}
		/* the longest name, of mixed bytes */
		for (int i = 0; i < 255; i++) {
			int c = 1 + (i * 7) % 254;

			name[i] = (char)(c == '/' ? 'x' : c);
		}
		name[255] = '\0';
		ck_assert(mknod(P(B, "%s", name), S_IFREG | 0644, 0) == 0);
	});
	assert_same_listing(m.native, m.mnt);
	assert_same_listing(m.src, m.mnt);
	memset(name, 'n', 256);
	name[256 - 1] = '\0';
	SAME(m, mkdir(P(B, "%sn", name), 0755)); /* 256 bytes: too long */
}
END_TEST

START_TEST(test_deep_paths_beyond_path_max)
{
	/* 400 levels of 16-byte names: about 6,800 bytes, more than
	 * PATH_MAX, so each level is reached with *at() calls. */
	BOTH({
		int fd = open(B, O_RDONLY | O_DIRECTORY);

		for (int i = 0; i < 400; i++) {
			ck_assert(mkdirat(fd, "level-0123456789", 0755) == 0);
			int next = openat(fd, "level-0123456789",
					  O_RDONLY | O_DIRECTORY);
			ck_assert(next >= 0);
			close(fd);
			fd = next;
		}
		int f = openat(fd, "leaf", O_CREAT | O_WRONLY, 0644);
		ck_assert(write(f, "deep", 4) == 4);
		close(f);
		close(fd);
	});
	/* walk the backing tree down to the leaf */
	int fd = open(m.src, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 400; i++) {
		int next =
		    openat(fd, "level-0123456789", O_RDONLY | O_DIRECTORY);
		ck_assert_msg(next >= 0, "level %d missing in backing", i);
		close(fd);
		fd = next;
	}
	char buf[8] = {0};
	int f = openat(fd, "leaf", O_RDONLY);
	ck_assert(read(f, buf, 8) == 4);
	ck_assert_str_eq(buf, "deep");
	close(f);
	close(fd);
}
END_TEST

START_TEST(test_statfs_matches_the_backing_filesystem)
{
	struct statvfs a, b;

	ck_assert(statvfs(m.mnt, &a) == 0);
	ck_assert(statvfs(m.src, &b) == 0);
	ck_assert_uint_eq(a.f_bsize, b.f_bsize);
	ck_assert_uint_eq(a.f_blocks, b.f_blocks);
	ck_assert_uint_eq(a.f_files, b.f_files);
	ck_assert_uint_eq(a.f_namemax, b.f_namemax);
}
END_TEST

/* ---------------- extended attributes ---------------- */

START_TEST(test_xattrs_set_get_list_remove)
{
	char buf[256], big[4000];

	memset(big, 'v', sizeof(big));
	BOTH(put(P(B, "f"), "x"));
	SAME(m, setxattr(P(B, "f"), "user.a", "1", 1, 0));
	SAME(m, setxattr(P(B, "f"), "user.b", big, sizeof(big), 0));
	SAME(m, setxattr(P(B, "f"), "user.a", "2", 1, XATTR_CREATE));
	SAME(m, setxattr(P(B, "f"), "user.c", "3", 1, XATTR_REPLACE));
	SAME(m, setxattr(P(B, "f"), "user.a", "22", 2, XATTR_REPLACE));
	SAME(m, getxattr(P(B, "f"), "user.a", NULL, 0));
	SAME(m, getxattr(P(B, "f"), "user.a", buf, 1));
	SAME(m, getxattr(P(B, "f"), "user.b", NULL, 0));
	SAME(m, getxattr(P(B, "f"), "user.missing", buf, sizeof(buf)));
	SAME(m, listxattr(P(B, "f"), NULL, 0));
	SAME(m, listxattr(P(B, "f"), buf, 2));
	ck_assert(getxattr(P(m.mnt, "f"), "user.a", buf, sizeof(buf)) == 2);
	ck_assert(memcmp(buf, "22", 2) == 0);
	ck_assert(getxattr(P(m.src, "f"), "user.a", buf, sizeof(buf)) == 2);
	SAME(m, removexattr(P(B, "f"), "user.a"));
	SAME(m, removexattr(P(B, "f"), "user.a"));
	SAME(m, getxattr(P(B, "f"), "user.a", buf, sizeof(buf)));
	SAME(m, setxattr(P(B, "f"), "bogus.ns", "1", 1, 0));
}
END_TEST

START_TEST(test_xattrs_of_a_symlink_itself)
{
	char buf[16];

	BOTH(put(P(B, "f"), "x"));
	BOTH(symlink("f", P(B, "l")));
	/* user.* is not allowed on symlinks; trusted.* is (for root) */
	SAME(m, lsetxattr(P(B, "l"), "user.x", "1", 1, 0));
	if (geteuid() == 0) {
		SAME(m, lsetxattr(P(B, "l"), "trusted.x", "1", 1, 0));
		SAME(m, lgetxattr(P(B, "l"), "trusted.x", buf, sizeof(buf)));
		SAME(m, getxattr(P(B, "l"), "trusted.x", buf, sizeof(buf)));
		ck_assert(lgetxattr(P(m.src, "l"), "trusted.x", buf,
				    sizeof(buf)) == 1);
	}
}
END_TEST

/* ---------------- space: fallocate, holes, copies ---------------- */

START_TEST(test_fallocate_modes_match)
{
	struct stat a, b;

	BOTH(put(P(B, "f"), ""));
	SAME(m, ({
		     int fd = open(P(B, "f"), O_RDWR);
		     long r = fallocate(fd, 0, 0, 1 << 20);
		     r += fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20);
		     r += fallocate(fd,
				    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				    4096, 65536);
		     close(fd);
		     r;
	     }));
	SAME(m, ({
		     int fd = open(P(B, "f"), O_RDWR);
		     long r = fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096);
		     close(fd);
		     r;
	     }));
	ck_assert(stat(P(m.native, "f"), &a) == 0);
	ck_assert(stat(P(m.mnt, "f"), &b) == 0);
	ck_assert_int_eq(a.st_size, b.st_size);
	ck_assert_int_eq(a.st_blocks, b.st_blocks);
	assert_twins();
}
END_TEST

START_TEST(test_seek_data_and_hole_in_a_sparse_file_over_4gib)
{
	const off_t far = (off_t)4 << 30 | 12345;
	off_t pos[2][6];
	struct stat st;

	for (int i = 0; i < 2; i++) {
		const char *B = i ? m.mnt : m.native;
		int fd = open(P(B, "sparse"), O_CREAT | O_RDWR, 0644);
		char buf[6] = {0};

		ck_assert(fd >= 0);
		ck_assert(ftruncate(fd, (off_t)5 << 30) == 0);
		ck_assert(pwrite(fd, "start", 5, 0) == 5);
		ck_assert(pwrite(fd, "far", 3, far) == 3);
		ck_assert(pread(fd, buf, 3, far) == 3);
		ck_assert_str_eq(buf, "far");
		pos[i][0] = lseek(fd, 0, SEEK_HOLE);
		pos[i][1] = lseek(fd, pos[i][0], SEEK_DATA);
		pos[i][2] = lseek(fd, pos[i][1], SEEK_HOLE);
		pos[i][3] = lseek(fd, (off_t)1 << 30, SEEK_HOLE);
		pos[i][4] = lseek(fd, pos[i][2], SEEK_DATA);
		pos[i][5] = lseek(fd, (off_t)5 << 30, SEEK_DATA);
		close(fd);
	}
	for (int k = 0; k < 6; k++)
		ck_assert_msg(pos[0][k] == pos[1][k], "seek %d: %ld vs %ld", k,
			      (long)pos[0][k], (long)pos[1][k]);
	ck_assert(stat(P(m.src, "sparse"), &st) == 0);
	ck_assert_int_eq(st.st_size, (off_t)5 << 30);
	ck_assert_int_lt(st.st_blocks, 1024);
}
END_TEST

START_TEST(test_copy_file_range_copies)
{
	char *data = g_malloc(1 << 20);

	for (int i = 0; i < 1 << 20; i++)
		data[i] = (char)(i * 31 + 7);
	BOTH(put_file(P(B, "in"), data, 1 << 20));
	SAME(m, ({
		     int in = open(P(B, "in"), O_RDONLY);
		     int out = open(P(B, "out"), O_CREAT | O_WRONLY, 0644);
		     loff_t off_in = 4096, off_out = 100;
		     long r =
			 copy_file_range(in, &off_in, out, &off_out, 500000, 0);
		     close(in);
		     close(out);
		     r;
	     }));
	assert_twins();
	g_free(data);
}
END_TEST

/* ---------------- locks ---------------- */

/* Run fn in a child and return its exit status. */
static int in_child(int (*fn)(const char *), const char *path)
{
	int status;
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0)
		_exit(fn(path));
	ck_assert(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static int try_flock(const char *path)
{
	int fd = open(path, O_RDWR);

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : 2;
}

START_TEST(test_flock_conflicts_between_processes)
{
	int fd;

	put(P(m.mnt, "lock"), "");
	fd = open(P(m.mnt, "lock"), O_RDWR);
	ck_assert(flock(fd, LOCK_EX) == 0);
	ck_assert_int_eq(in_child(try_flock, P(m.mnt, "lock")), 1);
	ck_assert(flock(fd, LOCK_UN) == 0);
	ck_assert_int_eq(in_child(try_flock, P(m.mnt, "lock")), 0);
	close(fd);
}
END_TEST

static pid_t lock_owner;

static int probe_posix_lock(const char *path)
{
	int fd = open(path, O_RDWR);
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = 10,
			   .l_len = 10};

	if (fcntl(fd, F_GETLK, &fl) != 0)
		return 2;
	if (fl.l_type != F_WRLCK || fl.l_pid != lock_owner)
		return 3;
	fl.l_type = F_WRLCK;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 4;
	if (errno != EAGAIN && errno != EACCES)
		return 5;
	/* outside the locked range: free */
	fl.l_start = 200;
	return fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 6;
}

START_TEST(test_posix_locks_are_seen_by_other_processes)
{
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = 0,
			   .l_len = 100};
	int fd;

	put(P(m.mnt, "lock"), "");
	fd = open(P(m.mnt, "lock"), O_RDWR);
	ck_assert(fcntl(fd, F_SETLK, &fl) == 0);
	lock_owner = getpid();
	ck_assert_int_eq(in_child(probe_posix_lock, P(m.mnt, "lock")), 0);
	close(fd);
}
END_TEST

/* ---------------- data: mmap, concurrency, caching ---------------- */

START_TEST(test_application_mmap_reads_and_writes_through_the_mount)
{
	const size_t len = 3 * 4096 + 100;
	char *data = g_malloc(len), *back;
	int fd;
	char *map;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	put_file(P(m.mnt, "f"), data, len);
	fd = open(P(m.mnt, "f"), O_RDWR);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(map != MAP_FAILED);
	ck_assert(memcmp(map, data, len) == 0);
	memcpy(map + 4000, "MAPPED WRITE", 12);
	memcpy(data + 4000, "MAPPED WRITE", 12);
	ck_assert(msync(map, len, MS_SYNC) == 0);
	back = get_file(P(m.src, "f"), NULL);
	ck_assert(memcmp(back, data, len) == 0);
	g_free(back);
	munmap(map, len);
	close(fd);
	back = get_file(P(m.mnt, "f"), NULL);
	ck_assert(memcmp(back, data, len) == 0);
	g_free(back);
	g_free(data);
}
END_TEST

#define WRITERS 4
#define REGION	(1 << 20)

struct writer {
	int fd;
	int id;
};

static void *write_region(void *p)
{
	struct writer *w = p;
	char block[4096];

	for (off_t off = 0; off < REGION; off += sizeof(block)) {
		memset(block, 'A' + w->id, sizeof(block));
		memcpy(block, &off, sizeof(off));
		if (pwrite(w->fd, block, sizeof(block),
			   (off_t)w->id * REGION + off) != sizeof(block))
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_concurrent_writers_from_several_threads)
{
	pthread_t t[WRITERS];
	struct writer w[WRITERS];
	size_t len;
	char *back;
	int fd = open(P(m.mnt, "shared"), O_CREAT | O_RDWR, 0644);

	ck_assert(fd >= 0);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){fd, i};
		pthread_create(&t[i], NULL, write_region, &w[i]);
	}
	for (int i = 0; i < WRITERS; i++) {
		void *rc;

		pthread_join(t[i], &rc);
		ck_assert_ptr_null(rc);
	}
	close(fd);
	back = get_file(P(m.src, "shared"), &len);
	ck_assert_uint_eq(len, (size_t)WRITERS * REGION);
	for (int i = 0; i < WRITERS; i++)
		for (off_t off = 0; off < REGION; off += 4096) {
			const char *b = back + (off_t)i * REGION + off;
			off_t got;

			memcpy(&got, b, sizeof(got));
			ck_assert(got == off);
			ck_assert(b[4095] == 'A' + i);
		}
	g_free(back);
}
END_TEST

/* Each appender writes 500 records of 14 bytes, "K NNNNNNNNNNN\n" (K the
 * appender, N its sequence number), one write(2) each. */
#define APPENDERS 4
#define APPENDS	  500
#define RECORD	  14

static int append_lines(const char *path, int k)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	char line[32];

	for (int i = 0; i < APPENDS; i++) {
		int n = snprintf(line, sizeof(line), "%1d %011d\n", k, i);

		if (n != RECORD || write(fd, line, n) != n)
			return 1;
	}
	return close(fd) == 0 ? 0 : 1;
}

/* Every record of every appender is there, whole (not interleaved with
 * another), once, and in the order its appender wrote it. */
static void assert_appended_records(const char *data, size_t len)
{
	int next[APPENDERS] = {0};

	ck_assert_uint_eq(len, APPENDERS * APPENDS * RECORD);
	for (size_t at = 0; at < len; at += RECORD) {
		const char *r = data + at;
		char *end;
		long k, i;

		ck_assert_msg(r[1] == ' ' && r[RECORD - 1] == '\n',
			      "record at %zu is torn: %.14s", at, r);
		k = r[0] - '0';
		ck_assert_msg(k >= 0 && k < APPENDERS, "record at %zu: %.14s",
			      at, r);
		i = strtol(r + 2, &end, 10);
		ck_assert_msg(end == r + RECORD - 1,
			      "record at %zu is torn: %.14s", at, r);
		ck_assert_msg(i == next[k],
			      "appender %ld: record %ld where %d was due "
			      "(at %zu)",
			      k, i, next[k], at);
		next[k]++;
	}
	for (int k = 0; k < APPENDERS; k++)
		ck_assert_int_eq(next[k], APPENDS);
}

START_TEST(test_concurrent_appenders_from_several_processes)
{
	pid_t kids[APPENDERS];
	size_t len;
	char *back;

	put(P(m.mnt, "log"), "");
	for (int i = 0; i < APPENDERS; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(append_lines(P(m.mnt, "log"), i));
	}
	for (int i = 0; i < APPENDERS; i++) {
		int status;

		waitpid(kids[i], &status, 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	back = get_file(P(m.mnt, "log"), &len);
	assert_appended_records(back, len);
	g_free(back);
	back = get_file(P(m.src, "log"), &len);
	assert_appended_records(back, len);
	g_free(back);
}
END_TEST

START_TEST(test_change_in_the_backing_file_is_seen_on_reopen)
{
	struct timespec later[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
	const char *opts[] = {"-o", "allow_other,timeout=60", NULL};

	/* With attributes cached for a minute, only the check at open time
	 * stands between a reader and stale pages. */
	ck_assert_int_eq(harness_stop(&m), 0);
	ck_assert_int_eq(harness_start(&m, m.src, m.mnt, opts), 0);
	char *one = g_strnfill(8192, '1'), *two = g_strnfill(8192, '2');
	int fd;

	put(P(m.src, "f"), one);
	assert_content(P(m.mnt, "f"), one);
	assert_content(P(m.mnt, "f"), one); /* served from the page cache */
	/* rewrite in place behind the mount: same size, new mtime */
	fd = open(P(m.src, "f"), O_WRONLY);
	ck_assert(pwrite(fd, two, 8192, 0) == 8192);
	close(fd);
	utimensat(AT_FDCWD, P(m.src, "f"), later, 0);
	assert_content(P(m.mnt, "f"), two);
	g_free(one);
	g_free(two);
}
END_TEST

/* ---------------- ownership and permissions ---------------- */

struct uop {
	const char *path;
	const char *path2;
};

static int u_read(void *a)
{
	int fd = open(((struct uop *)a)->path, O_RDONLY);

	return fd < 0 ? errno : (close(fd), 0);
}

static int u_write(void *a)
{
	int fd = open(((struct uop *)a)->path, O_WRONLY);

	return fd < 0 ? errno : (close(fd), 0);
}

static int u_append_data(void *a)
{
	int fd = open(((struct uop *)a)->path, O_WRONLY | O_APPEND);

	if (fd < 0)
		return errno;
	if (write(fd, "more", 4) != 4)
		return errno;
	return close(fd) == 0 ? 0 : errno;
}

static int u_create(void *a)
{
	int fd = open(((struct uop *)a)->path, O_CREAT | O_WRONLY, 0640);

	return fd < 0 ? errno : (close(fd), 0);
}

static int u_create_setgid(void *a)
{
	int fd = open(((struct uop *)a)->path, O_CREAT | O_WRONLY, 02750);

	return fd < 0 ? errno : (close(fd), 0);
}

static int u_mkdir(void *a)
{
	return mkdir(((struct uop *)a)->path, 0750) ? errno : 0;
}

static int u_symlink(void *a)
{
	return symlink("target", ((struct uop *)a)->path) ? errno : 0;
}

static int u_mkfifo(void *a)
{
	return mknod(((struct uop *)a)->path, S_IFIFO | 0600, 0) ? errno : 0;
}

static int u_unlink(void *a)
{
	return unlink(((struct uop *)a)->path) ? errno : 0;
}

static int u_rename(void *a)
{
	struct uop *o = a;

	return rename(o->path, o->path2) ? errno : 0;
}

static int u_chmod(void *a)
{
	return chmod(((struct uop *)a)->path, 0777) ? errno : 0;
}

static int u_chown(void *a)
{
	return chown(((struct uop *)a)->path, NOBODY, NOBODY) ? errno : 0;
}

static int u_truncate(void *a)
{
	return truncate(((struct uop *)a)->path, 0) ? errno : 0;
}

static int u_utimes_explicit(void *a)
{
	struct timespec t[2] = {{1, 0}, {1, 0}};

	return utimensat(AT_FDCWD, ((struct uop *)a)->path, t, 0) ? errno : 0;
}

static int u_setxattr(void *a)
{
	return setxattr(((struct uop *)a)->path, "user.u", "1", 1, 0) ? errno
								      : 0;
}

static int u_list(void *a)
{
	DIR *d = opendir(((struct uop *)a)->path);

	return d ? (closedir(d), 0) : errno;
}

static int u_access_w(void *a)
{
	return access(((struct uop *)a)->path, W_OK) ? errno : 0;
}

/* The same operation as nobody, natively and through the mount. */
static void same_as_nobody(int (*fn)(void *), const char *rel, const char *rel2,
			   const char *what)
{
	int r[2];

	for (int i = 0; i < 2; i++) {
		const char *B = i ? m.mnt : m.native;
		char p1[PATH_MAX * 2], p2[PATH_MAX * 2];
		struct uop o = {p1, p2};

		g_snprintf(p1, sizeof(p1), "%s/%s", B, rel);
		g_snprintf(p2, sizeof(p2), "%s/%s", B, rel2 ? rel2 : "");
		r[i] = harness_as_user(NOBODY, NOBODY, fn, &o);
	}
	ck_assert_msg(r[0] == r[1], "%s as nobody on %s: native %s, mount %s",
		      what, rel, strerror(r[0]), strerror(r[1]));
}

static void permission_fixture(const char *B)
{
	ck_assert(mkdir(P(B, "rootdir"), 0755) == 0);
	put(P(B, "rootdir/secret"), "secret");
	ck_assert(chmod(P(B, "rootdir/secret"), 0600) == 0);
	put(P(B, "rootdir/public"), "public");
	ck_assert(chmod(P(B, "rootdir/public"), 0644) == 0);
	ck_assert(mkdir(P(B, "closed"), 0700) == 0);
	put(P(B, "closed/inner"), "x");
	ck_assert(mkdir(P(B, "sticky"), 01777) == 0);
	ck_assert(chmod(P(B, "sticky"), 01777) == 0);
	put(P(B, "sticky/roots"), "r");
	ck_assert(chmod(P(B, "sticky/roots"), 0666) == 0);
	ck_assert(mkdir(P(B, "open"), 0777) == 0);
	ck_assert(chmod(P(B, "open"), 0777) == 0);
}

START_TEST(test_other_users_are_refused_what_the_backing_refuses)
{
	if (!harness_need_root(
		"test_other_users_are_refused_what_the_backing_refuses"))
		return;
	BOTH(permission_fixture(B));
	same_as_nobody(u_read, "rootdir/secret", NULL, "read");
	same_as_nobody(u_read, "rootdir/public", NULL, "read");
	same_as_nobody(u_write, "rootdir/public", NULL, "write");
	same_as_nobody(u_access_w, "rootdir/public", NULL, "access W_OK");
	same_as_nobody(u_create, "rootdir/new", NULL, "create");
	same_as_nobody(u_mkdir, "rootdir/newdir", NULL, "mkdir");
	same_as_nobody(u_unlink, "rootdir/public", NULL, "unlink");
	same_as_nobody(u_rename, "rootdir/public", "open/stolen", "rename");
	same_as_nobody(u_chmod, "rootdir/public", NULL, "chmod");
	same_as_nobody(u_chown, "rootdir/public", NULL, "chown");
	same_as_nobody(u_truncate, "rootdir/public", NULL, "truncate");
	same_as_nobody(u_utimes_explicit, "rootdir/public", NULL, "utimes");
	same_as_nobody(u_setxattr, "rootdir/public", NULL, "setxattr");
	same_as_nobody(u_list, "closed", NULL, "opendir");
	same_as_nobody(u_read, "closed/inner", NULL, "read below 0700");
	same_as_nobody(u_unlink, "sticky/roots", NULL, "unlink in sticky dir");
	same_as_nobody(u_append_data, "sticky/roots", NULL, "write 0666");
	assert_twins();
}
END_TEST

START_TEST(test_objects_created_by_another_user_belong_to_them)
{
	if (!harness_need_root(
		"test_objects_created_by_another_user_belong_to_them"))
		return;
	BOTH(permission_fixture(B));
	same_as_nobody(u_create, "open/file", NULL, "create");
	same_as_nobody(u_mkdir, "open/dir", NULL, "mkdir");
	same_as_nobody(u_symlink, "open/link", NULL, "symlink");
	same_as_nobody(u_mkfifo, "open/fifo", NULL, "mkfifo");
	same_as_nobody(u_create, "sticky/mine", NULL, "create in sticky");
	same_as_nobody(u_unlink, "sticky/mine", NULL, "unlink own in sticky");
	same_as_nobody(u_create_setgid, "open/sgid", NULL, "create 02750");
	assert_twins();

	struct stat st;
	ck_assert(stat(P(m.src, "open/file"), &st) == 0);
	ck_assert_uint_eq(st.st_uid, NOBODY);
	ck_assert_uint_eq(st.st_gid, NOBODY);
	ck_assert(lstat(P(m.src, "open/link"), &st) == 0);
	ck_assert_uint_eq(st.st_uid, NOBODY);
}
END_TEST

START_TEST(test_setgid_directory_passes_its_group_on)
{
	if (!harness_need_root("test_setgid_directory_passes_its_group_on"))
		return;
	BOTH({
		ck_assert(mkdir(P(B, "grp"), 0777) == 0);
		ck_assert(chown(P(B, "grp"), 0, 4321) == 0);
		ck_assert(chmod(P(B, "grp"), 02777) == 0);
	});
	same_as_nobody(u_create, "grp/file", NULL, "create");
	same_as_nobody(u_mkdir, "grp/sub", NULL, "mkdir");
	/* not in group 4321: the set-group-ID bit must be dropped */
	same_as_nobody(u_create_setgid, "grp/sgid", NULL, "create 02750");
	assert_twins();

	struct stat st;
	ck_assert(stat(P(m.src, "grp/sub"), &st) == 0);
	ck_assert_uint_eq(st.st_gid, 4321);
	ck_assert(st.st_mode & S_ISGID);
}
END_TEST

START_TEST(test_write_by_another_user_clears_setuid)
{
	if (!harness_need_root("test_write_by_another_user_clears_setuid"))
		return;
	BOTH({
		put(P(B, "suid"), "x");
		ck_assert(chmod(P(B, "suid"), 04777) == 0);
	});
	same_as_nobody(u_append_data, "suid", NULL, "write");
	assert_twins();
}
END_TEST

/* Long: one line per test case. */
int main(void)
{
	Suite *s = suite_create("mount_ops");
	TCase *files = tcase_create("files");
	TCase *attrs = tcase_create("attributes");
	TCase *names = tcase_create("namespace");
	TCase *dirs = tcase_create("directories");
	TCase *xattr = tcase_create("xattrs");
	TCase *space = tcase_create("space");
	TCase *locks = tcase_create("locks");
	TCase *data = tcase_create("data");
	TCase *perms = tcase_create("permissions");
	TCase *all[] = {files, attrs, names, dirs, xattr,
			space, locks, data,  perms};
	int failed;

	if (!harness_init())
		return 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_add_checked_fixture(all[i], setup_mounted,
					  harness_fixture_teardown);
		tcase_set_timeout(all[i], 120);
		suite_add_tcase(s, all[i]);
	}
	tcase_add_test(files, test_create_write_read_roundtrip);
	tcase_add_test(files, test_create_excl_on_existing_fails_eexist);
	tcase_add_test(files, test_open_errors_match);
	tcase_add_test(files, test_open_trunc_empties_the_file);
	tcase_add_test(files, test_append_writes_land_at_the_end);
	tcase_add_test(files, test_pwrite_past_eof_leaves_a_hole_of_zeros);
	tcase_add_test(files, test_unlinked_open_file_stays_usable);
	tcase_add_test(files, test_fsync_fdatasync_and_fsyncdir_succeed);

	tcase_add_test(attrs,
		       test_stat_through_the_mount_matches_the_backing_file);
	tcase_add_test(attrs, test_chmod_and_chown_match);
	tcase_add_test(attrs,
		       test_chown_of_setuid_file_clears_setuid_like_native);
	tcase_add_test(attrs, test_times_set_omit_and_now);
	tcase_add_test(attrs, test_times_of_a_symlink_itself);
	tcase_add_test(attrs, test_truncate_grows_and_shrinks);
	tcase_add_test(attrs, test_attributes_carry_the_real_size);

	tcase_add_test(names, test_symlink_and_readlink);
	tcase_add_test(names, test_mknod_fifo_socket_and_device);
	tcase_add_test(names, test_mkdir_rmdir_unlink_and_their_errors);
	tcase_add_test(names, test_rename_plain_and_its_errors);
	tcase_add_test(names, test_rename_noreplace_refuses_an_existing_target);
	tcase_add_test(names, test_rename_exchange_swaps_entries);
	tcase_add_test(names, test_hard_links_are_counted_in_mount_and_backing);

	tcase_add_test(dirs, test_readdir_lists_10000_entries);
	tcase_add_test(dirs,
		       test_readdir_sees_changes_made_in_the_backing_directory);
	tcase_add_test(dirs, test_names_with_any_byte_but_slash);
	tcase_add_test(dirs, test_deep_paths_beyond_path_max);
	tcase_add_test(dirs, test_statfs_matches_the_backing_filesystem);

	tcase_add_test(xattr, test_xattrs_set_get_list_remove);
	tcase_add_test(xattr, test_xattrs_of_a_symlink_itself);

	tcase_add_test(space, test_fallocate_modes_match);
	tcase_add_test(space,
		       test_seek_data_and_hole_in_a_sparse_file_over_4gib);
	tcase_add_test(space, test_copy_file_range_copies);

	tcase_add_test(locks, test_flock_conflicts_between_processes);
	tcase_add_test(locks, test_posix_locks_are_seen_by_other_processes);

	tcase_add_test(
	    data, test_application_mmap_reads_and_writes_through_the_mount);
	tcase_add_test(data, test_concurrent_writers_from_several_threads);
	tcase_add_test(data, test_concurrent_appenders_from_several_processes);
	tcase_add_test(data, test_change_in_the_backing_file_is_seen_on_reopen);

	tcase_add_test(perms,
		       test_other_users_are_refused_what_the_backing_refuses);
	tcase_add_test(perms,
		       test_objects_created_by_another_user_belong_to_them);
	tcase_add_test(perms, test_setgid_directory_passes_its_group_on);
	tcase_add_test(perms, test_write_by_another_user_clears_setuid);

	failed = harness_run_suite(s);
	harness_cleanup();
	return failed;
}
