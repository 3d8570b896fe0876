// SPDX-License-Identifier: GPL-2.0-or-later
/* Mount tests for trees larger than the daemon's fd limit: with file
 * handles, remembered files hold no fd while idle (a bounded cache does),
 * so a daemon limited to 1,024 fds serves 20,000 files exactly as the
 * native directory does; and a file replaced behind the mount is never
 * taken for another. Then handles made through the mount (what NFS and
 * open_by_handle_at use): on an ext4 SOURCE they keep working after the
 * kernel forgot the inode, and never reach outside SOURCE. */
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
	uint64_t remembered = 0;
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
	for (int d = 0; d < DIRS; d++) {
		for (int f = 0; f < PER_DIR; f++)
			same_file(entry(d, f), &peak);
		remembered = MAX(remembered, harness_stat(&m, "inodes"));
	}
	/* the kernel remembered far more files than the daemon may hold
	 * fds (all of them, unless memory pressure or a drop_caches
	 * elsewhere made it forget some meanwhile) */
	ck_assert_uint_ge(remembered, 4 * DAEMON_NOFILE);
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

/* Both twins: SOURCE's name (and native's) replaced by a new file. */
static void replace_behind(const char *name, const char *data)
{
	ck_assert(unlink(P(m.src, "%s", name)) == 0);
	ck_assert(unlink(P(m.native, "%s", name)) == 0);
	put_file(P(m.src, "%s", name), data, strlen(data));
	put_file(P(m.native, "%s", name), data, strlen(data));
}

/* In both twins: r000..r199 holding "old NNN", and a/x hard-linked as
 * b/y. */
static void make_replace_tree(void)
{
	char data[32];

	for (int i = 0; i < 200; i++) {
		snprintf(data, sizeof(data), "old %03d", i);
		put_file(P(m.src, "r%03d", i), data, strlen(data));
		put_file(P(m.native, "r%03d", i), data, strlen(data));
	}
	for (int t = 0; t < 2; t++) {
		const char *base = t ? m.native : m.src;

		ck_assert(mkdir(P(base, "a"), 0755) == 0 &&
			  mkdir(P(base, "b"), 0755) == 0);
		put_file(P(base, "a/x"), "linked", 6);
		ck_assert(link(P(base, "a/x"), P(base, "b/y")) == 0);
	}
}

/* Files removed and made again in SOURCE while the daemon remembers them
 * with their fds evicted (ext4 hands the freed numbers out again): every
 * name reads what native reads, a file opened before keeps its own data,
 * and hard links across directories stay one file. */
START_TEST(test_files_replaced_behind_the_mount_are_never_taken_for_others)
{
	char data[32], *a, *b;
	int held[3];

	if (!harness_need_root(__func__))
		return;
	make_replace_tree();
	harness_start_ok(&m, "fd_cache=16,timeout=2");
	for (int i = 0; i < 200; i++)
		g_free(get_file(P(m.mnt, "r%03d", i), NULL));
	for (int k = 0; k < 3; k++) {
		held[k] = open(P(m.mnt, "r%03d", k * 4), O_RDONLY);
		ck_assert(held[k] >= 0);
	}
	for (int i = 0; i < 200; i += 4) {
		snprintf(data, sizeof(data), "new %03d", i);
		replace_behind(P("", "r%03d", i) + 1, data);
	}
	usleep(2200 * 1000); /* the kernel's entries expire: names again */
	compare_trees(m.native, m.mnt);
	/* their fds evicted, the new files are reopened by their handles
	 * (the kernel still has their entries), never by the old ones */
	for (int i = 1; i < 200; i += 4)
		g_free(get_file(P(m.mnt, "r%03d", i), NULL));
	for (int i = 0; i < 200; i += 4) {
		char *got = get_file(P(m.mnt, "r%03d", i), NULL);

		snprintf(data, sizeof(data), "new %03d", i);
		ck_assert_str_eq(got, data);
		g_free(got);
	}
	for (int i = 0; i < 200; i++) {
		struct stat sm, ss;

		ck_assert(stat(P(m.mnt, "r%03d", i), &sm) == 0);
		ck_assert(stat(P(m.src, "r%03d", i), &ss) == 0);
		ck_assert_uint_eq(sm.st_ino, ss.st_ino);
	}
	for (int k = 0; k < 3; k++) { /* as natively: the old file's data */
		ck_assert(pread(held[k], data, sizeof(data), 0) == 7);
		snprintf(data + 8, 8, "%03d", k * 4);
		ck_assert(memcmp(data, "old ", 4) == 0 &&
			  memcmp(data + 4, data + 8, 3) == 0);
		close(held[k]);
	}
	/* hard links across directories, with fds evicted meanwhile */
	put_file(P(m.mnt, "a/x"), "through", 7);
	for (int i = 1; i < 200; i += 4)
		g_free(get_file(P(m.mnt, "r%03d", i), NULL));
	a = get_file(P(m.mnt, "b/y"), NULL);
	ck_assert_str_eq(a, "through");
	b = get_file(P(m.src, "b/y"), NULL);
	ck_assert_str_eq(b, "through");
	g_free(a);
	g_free(b);
	ck_assert_uint_le(harness_stat(&m, "fds_held"), 16 + 4);
}
END_TEST

/* ---- handles made through the mount ---- */

struct fh {
	struct file_handle h;
	unsigned char room[MAX_HANDLE_SZ];
};

static void get_handle(const char *path, struct fh *fh)
{
	int mnt_id;

	fh->h.handle_bytes = MAX_HANDLE_SZ;
	ck_assert_msg(name_to_handle_at(AT_FDCWD, path, &fh->h, &mnt_id, 0) ==
			  0,
		      "name_to_handle_at %s: %s", path, strerror(errno));
}

/* open_by_handle_at on the filesystem mounted at dir: fd or -errno. */
static int open_by(const char *dir, struct fh *fh, int flags)
{
	int mfd = open(dir, O_RDONLY | O_DIRECTORY), fd;

	ck_assert(mfd >= 0);
	fd = open_by_handle_at(mfd, &fh->h, flags);
	if (fd == -1)
		fd = -errno;
	close(mfd);
	return fd;
}

/* The whole content of fd (closed), as a string to g_free. */
static char *read_all(int fd)
{
	char buf[256];
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ck_assert_int_ge(n, 0);
	return g_strndup(buf, (gsize)n);
}

/* Where fd is, as the kernel names it. */
static const char *fd_path(int fd)
{
	static char buf[PATH_MAX];
	ssize_t n;

	n = readlink(P("/proc/self/fd", "%d", fd), buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	return buf;
}

/* A fresh ext4 filesystem (an image in the test's directory) at dir. */
static void loop_fs(const char *dir)
{
	const char *img = P(m.dir, "fs.img");
	const char *mkfs[] = {"mkfs.ext4", "-q", "-F", img, NULL};
	const char *mount[] = {"mount", "-o", "loop", img, dir, NULL};
	char *out = NULL;
	int fd = open(img, O_CREAT | O_WRONLY, 0600);

	ck_assert(fd >= 0 && ftruncate(fd, 32 << 20) == 0);
	close(fd);
	ck_assert_msg(harness_run(&out, mkfs) == 0, "mkfs.ext4: %s", out);
	g_free(out);
	ck_assert_msg(harness_run(&out, mount) == 0, "mount: %s", out);
	g_free(out);
}

/* Make the kernel forget every inode of the mount (dropping the dentry
 * and inode caches) and wait until the daemon has let them go too. */
static void forget_all(void)
{
	uint64_t n = 0;

	for (int i = 0; i < 100; i++) {
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

		ck_assert(fd >= 0 && write(fd, "2", 1) == 1);
		close(fd);
		n = harness_stat(&m, "inodes");
		if (n == 1)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("the daemon still remembers %llu inodes",
		     (unsigned long long)n);
}

static int same_handle(const struct fh *a, const struct fh *b)
{
	return a->h.handle_type == b->h.handle_type &&
	       a->h.handle_bytes == b->h.handle_bytes &&
	       memcmp(a->h.f_handle, b->h.f_handle, a->h.handle_bytes) == 0;
}

/* SOURCE a whole ext4 filesystem: d/f, its hard link d/e/link, moved
 * and gone. */
static void export_tree(void)
{
	loop_fs(m.src);
	ck_assert(mkdir(P(m.src, "d"), 0755) == 0);
	ck_assert(mkdir(P(m.src, "d/e"), 0755) == 0);
	put_file(P(m.src, "d/f"), "hello", 5);
	ck_assert(link(P(m.src, "d/f"), P(m.src, "d/e/link")) == 0);
	put_file(P(m.src, "moved"), "moved", 5);
	put_file(P(m.src, "gone"), "gone", 4);
}

START_TEST(test_handles_through_the_mount_outlive_the_kernels_cache)
{
	struct fh f, hard, dir, moved, gone, ngone;
	char *s;
	int fd;

	if (!harness_need_root(__func__))
		return;
	export_tree();
	harness_start_ok(&m, NULL);
	ck_assert_uint_eq(harness_stat(&m, "export_ids"), 1);
	get_handle(P(m.mnt, "d/f"), &f);
	get_handle(P(m.mnt, "d/e/link"), &hard);
	get_handle(P(m.mnt, "d/e"), &dir);
	get_handle(P(m.mnt, "moved"), &moved);
	get_handle(P(m.mnt, "gone"), &gone);
	get_handle(P(m.src, "gone"), &ngone);
	/* hard links across directories: one object, one handle */
	ck_assert(same_handle(&f, &hard));

	forget_all();
	s = read_all(open_by(m.mnt, &f, O_RDONLY));
	ck_assert_str_eq(s, "hello");
	g_free(s);
	fd = open_by(m.mnt, &dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(fd_path(fd), P(m.mnt, "d/e"));
	close(fd);
	/* written through a handle, read by name */
	fd = open_by(m.mnt, &f, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert(pwrite(fd, "J", 1, 0) == 1);
	close(fd);
	s = get_file(P(m.src, "d/f"), NULL);
	ck_assert_str_eq(s, "Jello");
	g_free(s);

	/* renamed behind the mount and through it */
	ck_assert(rename(P(m.src, "moved"), P(m.src, "d/moved2")) == 0);
	ck_assert(rename(P(m.mnt, "d/f"), P(m.mnt, "d/e/f2")) == 0);
	forget_all();
	s = read_all(open_by(m.mnt, &moved, O_RDONLY));
	ck_assert_str_eq(s, "moved");
	g_free(s);
	s = read_all(open_by(m.mnt, &hard, O_RDONLY));
	ck_assert_str_eq(s, "Jello");
	g_free(s);

	/* removed behind the mount, its number free for the next file: as
	 * natively, the handle is stale, never another file's */
	ck_assert(unlink(P(m.src, "gone")) == 0);
	put_file(P(m.src, "new"), "new", 3);
	forget_all();
	ck_assert_int_eq(open_by(m.src, &ngone, O_RDONLY), -ESTALE);
	ck_assert_int_eq(open_by(m.mnt, &gone, O_RDONLY), -ESTALE);
	ck_assert_uint_gt(harness_stat(&m, "handle_lookups"), 0);
}
END_TEST

/* The handle the kernel makes through the mount for the object whose
 * ext4 handle is native: node id (the ext4 handle's 8 bytes) and
 * generation, as 32-bit words high, low, generation. */
static void forge(struct fh *out, const struct fh *native)
{
	uint32_t w[2], fuse[3];

	ck_assert_int_eq(native->h.handle_type, 1);
	memcpy(w, native->h.f_handle, sizeof(w)); /* inode, generation */
	fuse[0] = w[1];
	fuse[1] = w[0];
	fuse[2] = w[1];
	out->h.handle_type = 0x81;
	out->h.handle_bytes = sizeof(fuse);
	memcpy(out->h.f_handle, fuse, sizeof(fuse));
}

START_TEST(test_handles_through_the_mount_never_reach_outside_source)
{
	char lo[PATH_MAX + 8], inside[PATH_MAX + 16];
	struct fh dir, f, native, forged;
	int fd;

	if (!harness_need_root(__func__))
		return;
	snprintf(lo, sizeof(lo), "%s/lo", m.dir);
	ck_assert(mkdir(lo, 0755) == 0);
	loop_fs(lo);
	snprintf(inside, sizeof(inside), "%s/inside", lo);
	ck_assert(mkdir(inside, 0755) == 0);
	ck_assert(mkdir(P(inside, "d"), 0755) == 0);
	ck_assert(mkdir(P(lo, "outside"), 0755) == 0);
	put_file(P(inside, "d/f"), "f", 1);
	ck_assert_int_eq(harness_start(&m, inside, m.mnt, NULL), 0);
	ck_assert_uint_eq(harness_stat(&m, "export_ids"), 1);
	get_handle(P(m.mnt, "d"), &dir);
	get_handle(P(m.mnt, "d/f"), &f);
	/* the kernel's handle is the one forge makes */
	get_handle(P(inside, "d"), &native);
	forge(&forged, &native);
	ck_assert(same_handle(&forged, &dir));
	/* remembered, a file's handle works */
	fd = open_by(m.mnt, &f, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);

	forget_all();
	fd = open_by(m.mnt, &dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(fd_path(fd), P(m.mnt, "d"));
	close(fd);
	/* forgotten, a file's is refused: SOURCE is not its filesystem's
	 * root, and a file cannot be walked up from to prove it is inside */
	forget_all();
	ck_assert_int_eq(open_by(m.mnt, &f, O_RDONLY), -ESTALE);
	/* a directory of the same filesystem outside SOURCE: refused */
	get_handle(P(lo, "outside"), &native);
	forge(&forged, &native);
	ck_assert_int_eq(open_by(m.mnt, &forged, O_RDONLY | O_DIRECTORY),
			 -ESTALE);
	get_handle(lo, &native);
	forge(&forged, &native);
	ck_assert_int_eq(open_by(m.mnt, &forged, O_RDONLY | O_DIRECTORY),
			 -ESTALE);
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
	tcase_add_test(
	    tc,
	    test_files_replaced_behind_the_mount_are_never_taken_for_others);
	suite_add_tcase(s, tc);
	tc = tcase_create("export");
	tcase_add_checked_fixture(tc, harness_fixture_setup,
				  harness_fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(
	    tc, test_handles_through_the_mount_outlive_the_kernels_cache);
	tcase_add_test(
	    tc, test_handles_through_the_mount_never_reach_outside_source);
	suite_add_tcase(s, tc);
	failed = harness_run_suite(s);
	harness_cleanup();
	return failed;
}
