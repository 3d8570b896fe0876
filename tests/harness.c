// SPDX-License-Identifier: GPL-2.0-or-later
/* Test harness implementation (see harness.h). Every wait has a deadline:
 * a broken daemon must fail a test, never hang the suite. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "harness.h"
#include "memmapfs/guard.h"
#include "memmapfs/map.h"
#include "memmapfs/mountinfo.h"
#include "memmapfs/stats.h"

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS	 15000
#define RUN_TIMEOUT_MS	 300000

static char run_root[PATH_MAX];

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

const char *harness_bin(void)
{
	const char *b = getenv("MEMMAPFS_BIN");

	return b ? b : "./memmapfs";
}

int harness_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

int harness_init(void)
{
	const char *base = getenv("MMFS_TEST_TMP");
	const char *ci = getenv("CI");
	int in_ci = ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);

	/* /var/tmp: on disk (unlike a tmpfs /tmp) and traversable by the
	 * unprivileged user the permission tests run as. */
	snprintf(run_root, sizeof(run_root), "%s/memmapfs-tests.XXXXXX",
		 base ? base : "/var/tmp");
	if (!mkdtemp(run_root)) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(run_root, 0755);
	if (access("/dev/fuse", F_OK) != 0) {
		fprintf(
		    stderr,
		    "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
		    "!!! SKIPPING MOUNT TESTS: /dev/fuse is missing here.\n"
		    "!!! They exercise the real daemon; run them where FUSE\n"
		    "!!! works (CI does, and never skips them).\n"
		    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		    "\n\n");
		if (in_ci) {
			fprintf(stderr,
				"CI=true: a mount test may not skip.\n");
			exit(1);
		}
		return 0;
	}
	return 1;
}

int harness_need_root(const char *test)
{
	const char *ci = getenv("CI");

	if (geteuid() == 0)
		return 1;
	if (ci && strcmp(ci, "true") == 0)
		ck_abort_msg("CI=true: %s needs root and may not skip", test);
	fprintf(stderr, "SKIP %s: needs root\n", test);
	return 0;
}

/* Empty the directory dirfd (then closed) with *at() calls, so depth
 * past PATH_MAX is no obstacle; never enters another filesystem (a mount
 * still there, or one that died). */
static void rm_children(int dirfd, dev_t dev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			sub = openat(dirfd, e->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (sub >= 0)
				rm_children(sub, dev);
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

static void rm_rf(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return;
	}
	rm_children(fd, st.st_dev);
	rmdir(path);
}

/* Detach every mount below prefix (deepest first). */
static void detach_under(const char *prefix)
{
	size_t n = strlen(prefix);
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX];

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
		    strncmp(mp, prefix, n) == 0)
			g_ptr_array_add(found, g_strdup(mp));
	}
	free(line);
	fclose(f);
	for (guint i = found->len; i-- > 0;)
		umount2(found->pdata[i], MNT_DETACH);
	g_ptr_array_free(found, TRUE);
}

void harness_cleanup(void)
{
	if (!run_root[0])
		return;
	detach_under(run_root);
	rm_rf(run_root);
}

void harness_dirs(struct harness_mount *m)
{
	memset(m, 0, sizeof(*m));
	g_snprintf(m->dir, sizeof(m->dir), "%s/t.XXXXXX", run_root);
	ck_assert_msg(mkdtemp(m->dir), "mkdtemp: %s", strerror(errno));
	chmod(m->dir, 0755);
	g_snprintf(m->src, sizeof(m->src), "%s/src", m->dir);
	g_snprintf(m->mnt, sizeof(m->mnt), "%s/mnt", m->dir);
	g_snprintf(m->native, sizeof(m->native), "%s/native", m->dir);
	g_snprintf(m->log, sizeof(m->log), "%s/daemon.log", m->dir);
	ck_assert(mkdir(m->src, 0755) == 0);
	ck_assert(mkdir(m->mnt, 0755) == 0);
	ck_assert(mkdir(m->native, 0755) == 0);
}

int harness_is_mounted(const char *path)
{
	struct mmfs_mount_entry e;
	int ours;

	if (mmfs_mountinfo_at("/proc/self/mountinfo", path, &e) != 0)
		return 0;
	ours = strcmp(e.fstype, "fuse.memmapfs") == 0;
	mmfs_mount_entry_clear(&e);
	return ours;
}

int harness_start(struct harness_mount *m, const char *src, const char *mnt,
		  const char *const *extra)
{
	const char *argv[64];
	int argc = 0, status, fd;
	long deadline;
	pid_t pid;

	argv[argc++] = "memmapfs";
	argv[argc++] = "-f";
	for (; extra && *extra && argc < 60; extra++)
		argv[argc++] = *extra;
	argv[argc++] = src;
	argv[argc++] = mnt;
	argv[argc] = NULL;

	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		/* If the test process dies (a failed assertion, a timeout),
		 * the daemon unmounts and goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(m->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(harness_bin(), (char *const *)argv);
		_exit(127);
	}
	m->pid = pid;
	deadline = now_ms() + START_TIMEOUT_MS;
	while (now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			m->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		}
		if (harness_is_mounted(mnt))
			return 0;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	m->pid = 0;
	return -1;
}

void harness_mount(struct harness_mount *m, const char *opts)
{
	const char *extra[] = {"-o", opts, NULL};
	int rc;

	harness_dirs(m);
	rc = harness_start(m, m->src, m->mnt, opts ? extra : NULL);
	if (rc != 0) {
		char *log = harness_log(m);

		if (strlen(log) > 1500)
			strcpy(log + 1400, "\n[...]");
		ck_abort_msg("daemon did not mount (status %d): %s", rc, log);
		g_free(log);
	}
}

void harness_start_ok(struct harness_mount *m, const char *opts)
{
	const char *extra[] = {"-o", opts, NULL};
	int rc = harness_start(m, m->src, m->mnt, opts ? extra : NULL);
	char *log;

	if (rc != 0) {
		log = harness_log(m);
		if (strlen(log) > 1500)
			strcpy(log + 1400, "\n[...]");
		ck_abort_msg("mount with '%s' failed (%d): %s",
			     opts ? opts : "", rc, log);
	}
}

uint64_t harness_stat(const struct harness_mount *m, const char *name)
{
	char buf[8192], key[128];
	ssize_t n =
	    getxattr(m->mnt, "user.memmapfs.stats", buf, sizeof(buf) - 1);
	const char *at;

	ck_assert_msg(n > 0, "stats xattr: %s", strerror(errno));
	buf[n] = '\0';
	g_snprintf(key, sizeof(key), "\"%s\": ", name);
	at = strstr(buf, key);
	ck_assert_msg(at, "no %s in stats", name);
	return g_ascii_strtoull(at + strlen(key), NULL, 10);
}

char *harness_log(const struct harness_mount *m)
{
	char *text = NULL;

	if (!g_file_get_contents(m->log, &text, NULL, NULL))
		text = g_strdup("");
	return text;
}

int harness_stop(struct harness_mount *m)
{
	int status = 0, rc;
	long deadline;
	char *log;

	if (!m->pid)
		return -1;
	kill(m->pid, SIGTERM);
	deadline = now_ms() + STOP_TIMEOUT_MS;
	rc = -1;
	while (now_ms() < deadline) {
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status)
					       : 128 + WTERMSIG(status);
			break;
		}
		usleep(5000);
	}
	if (rc == -1) {
		kill(m->pid, SIGKILL);
		waitpid(m->pid, &status, 0);
	}
	m->pid = 0;
	if (harness_is_mounted(m->mnt)) {
		umount2(m->mnt, MNT_DETACH);
		ck_abort_msg("%s still mounted after the daemon stopped",
			     m->mnt);
	}
	log = harness_log(m);
	if (!m->log_may_warn &&
	    (strstr(log, "warning") || strstr(log, "error") ||
	     strstr(log, "runtime error") || strstr(log, "Sanitizer"))) {
		/* Check cannot carry long messages: the whole log goes to
		 * stderr, the start into the failure */
		fputs("---- daemon log ----\n", stderr);
		fputs(log ? log : "", stderr);
		fputs("\n----\n", stderr);
		if (strlen(log) > 1500)
			strcpy(log + 1400, "\n[...]");
		ck_abort_msg("daemon logged a problem:\n%s", log);
	}
	g_free(log);
	return rc;
}

void harness_teardown(struct harness_mount *m)
{
	if (m->pid) {
		int rc = harness_stop(m);

		if (rc != 0) {
			char *log = harness_log(m);

			fputs("---- daemon log ----\n", stderr);
			fputs(log ? log : "", stderr);
			fputs("\n----\n", stderr);
			g_free(log);
		}
		ck_assert_msg(rc == 0, "daemon exit status %d", rc);
	}
	if (m->dir[0]) {
		detach_under(m->dir);
		rm_rf(m->dir);
	}
}

int harness_run(char **out, const char *const argv[])
{
	int pfd[2], status = 0;
	GString *buf = g_string_new(NULL);
	long deadline = now_ms() + RUN_TIMEOUT_MS;
	pid_t pid;

	ck_assert(pipe2(pfd, O_CLOEXEC) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		char chunk[4096];
		ssize_t n;
		long left = deadline - now_ms();

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		g_string_append_len(buf, chunk, n);
	}
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (out)
		*out = g_string_free(buf, FALSE);
	else
		g_string_free(buf, TRUE);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int harness_as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(254);
		_exit(fn(arg) & 0xff);
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	ck_assert_msg(WIFEXITED(status), "as_user child died");
	return WEXITSTATUS(status);
}

const char *P(const char *base, const char *fmt, ...)
{
	static char bufs[8][PATH_MAX * 2];
	static int next;
	char *b = bufs[next++ % 8];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(b, PATH_MAX * 2, "%s/", base);
	va_start(ap, fmt);
	vsnprintf(b + n, PATH_MAX * 2 - n, fmt, ap);
	va_end(ap);
	return b;
}

void put_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_msg(write(fd, data, len) == (ssize_t)len, "write %s: %s",
		      path, strerror(errno));
	ck_assert(close(fd) == 0);
}

char *get_file(const char *path, size_t *len)
{
	GError *err = NULL;
	char *text = NULL;
	gsize n = 0;

	if (!g_file_get_contents(path, &text, &n, &err)) {
		ck_abort_msg("read %s: %s", path, err->message);
		g_error_free(err);
	}
	if (len)
		*len = n;
	return text;
}

static GPtrArray *sorted_names(const char *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	DIR *d = opendir(dir);
	struct dirent *de;

	ck_assert_msg(d, "opendir %s: %s", dir, strerror(errno));
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			g_ptr_array_add(names, g_strdup(de->d_name));
	closedir(d);
	return names;
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void compare_trees(const char *a, const char *b)
{
	GPtrArray *na = sorted_names(a), *nb = sorted_names(b);

	g_ptr_array_sort(na, cmp_names);
	g_ptr_array_sort(nb, cmp_names);
	ck_assert_msg(na->len == nb->len, "%s has %u entries, %s has %u", a,
		      na->len, b, nb->len);
	for (guint i = 0; i < na->len; i++) {
		const char *name = na->pdata[i];
		char *pa = g_build_filename(a, name, NULL);
		char *pb = g_build_filename(b, name, NULL);
		struct stat sa, sb;

		ck_assert_msg(strcmp(name, nb->pdata[i]) == 0,
			      "%s has '%s' where %s has '%s'", a, name, b,
			      (char *)nb->pdata[i]);
		ck_assert(lstat(pa, &sa) == 0);
		ck_assert(lstat(pb, &sb) == 0);
		ck_assert_msg(sa.st_mode == sb.st_mode, "%s: mode %o vs %o", pb,
			      sa.st_mode, sb.st_mode);
		ck_assert_msg(sa.st_uid == sb.st_uid && sa.st_gid == sb.st_gid,
			      "%s: owner %u:%u vs %u:%u", pb, sa.st_uid,
			      sa.st_gid, sb.st_uid, sb.st_gid);
		ck_assert_msg(sa.st_nlink == sb.st_nlink || S_ISDIR(sa.st_mode),
			      "%s: nlink %lu vs %lu", pb, sa.st_nlink,
			      sb.st_nlink);
		if (S_ISREG(sa.st_mode)) {
			size_t la, lb;
			char *ca = get_file(pa, &la), *cb = get_file(pb, &lb);

			ck_assert_msg(la == lb && memcmp(ca, cb, la) == 0,
				      "%s: contents differ", pb);
			g_free(ca);
			g_free(cb);
		} else if (S_ISLNK(sa.st_mode)) {
			char ta[PATH_MAX] = "", tb[PATH_MAX] = "";

			ck_assert(readlink(pa, ta, sizeof(ta) - 1) >= 0);
			ck_assert(readlink(pb, tb, sizeof(tb) - 1) >= 0);
			ck_assert_msg(strcmp(ta, tb) == 0, "%s: -> %s vs %s",
				      pb, ta, tb);
		} else if (S_ISDIR(sa.st_mode)) {
			compare_trees(pa, pb);
		}
		g_free(pa);
		g_free(pb);
	}
	g_ptr_array_free(na, TRUE);
	g_ptr_array_free(nb, TRUE);
}

void harness_same(const char *what, const long r[2], const int e[2], int fds,
		  const char *file, int line)
{
	int same;

	if (fds) {
		same = (r[0] >= 0 && r[1] >= 0) ||
		       (r[0] < 0 && r[1] < 0 && e[0] == e[1]);
		for (int i = 0; i < 2; i++)
			if (r[i] >= 0)
				close((int)r[i]);
	} else {
		same = r[0] == r[1] && (r[0] != -1 || e[0] == e[1]);
	}
	if (!same)
		ck_abort_msg("%s:%d: %s: native %ld (%s), mount %ld (%s)", file,
			     line, what, r[0], r[0] < 0 ? strerror(e[0]) : "ok",
			     r[1], r[1] < 0 ? strerror(e[1]) : "ok");
}

/* A read of the engine as the daemon serves it (io.c): pin the windows, let
 * "the kernel" copy from them (a guarded copy; a fault fails the request with
 * EIO, as the kernel does when it cannot copy a reply), unpin. */
ssize_t harness_engine_read(struct mmfs_map *map, struct mmfs_stats *stats,
			    void *buf, size_t size, off_t off)
{
	struct mmfs_pinned p;
	size_t done = 0;
	int rc = mmfs_map_pin_read(map, off, size, &p);

	if (rc == -ENOMEM) {
		mmfs_stat_add(&stats->budget_fallbacks, 1);
		return pread(mmfs_map_fd(map), buf, size, off);
	}
	if (rc)
		return rc;
	for (int i = 0; i < p.count; i++) {
		char *src = p.iov[i].iov_base;

		if (mmfs_guard_copy((char *)buf + done, src, p.iov[i].iov_len,
				    src, src + p.iov[i].iov_len)) {
			mmfs_map_unpin(&p);
			mmfs_map_fault(map, off, p.bytes);
			return -EIO;
		}
		done += p.iov[i].iov_len;
	}
	mmfs_map_unpin(&p);
	return (ssize_t)done;
}
