// SPDX-License-Identifier: GPL-2.0-or-later
/* memmapfs: the daemon's entry point. Parses the command line, checks SOURCE
 * and MOUNTPOINT with messages that say how to fix what is wrong, opens SOURCE
 * *before* mounting (so SOURCE may equal MOUNTPOINT), mounts, runs the
 * request loop and unmounts cleanly on SIGTERM, SIGINT or fusermount3 -u. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "memmapfs/config.h"
#include "memmapfs/fs.h"
#include "memmapfs/fuselog.h"
#include "memmapfs/log.h"
#include "memmapfs/initshim.h"
#include "memmapfs/mountinfo.h"
#include "memmapfs/ns.h"
#include "memmapfs/stats.h"
#include "memmapfs/util.h"

#define MOUNTINFO  "/proc/self/mountinfo"
#define OUR_FSTYPE "fuse.memmapfs"

static void usage_error(const char *msg)
{
	fprintf(stderr,
		"memmapfs: error: %s\n"
		"Usage: memmapfs [options] SOURCE MOUNTPOINT\n"
		"Try 'memmapfs --help' for more information.\n",
		msg);
}

/* Open SOURCE as an O_PATH directory fd and return it, or log why not and
 * return -1. */
static int open_source(const char *source)
{
	int fd = open(source, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
		mmfs_log(LOG_ERR,
			 "SOURCE '%s' does not exist: give an existing "
			 "directory (or create it with mkdir -p)",
			 source);
		break;
	case ENOTDIR:
		mmfs_log(LOG_ERR,
			 "SOURCE '%s' is not a directory: memmapfs mounts "
			 "directories; give the directory that holds it",
			 source);
		break;
	case ENOTCONN:
		mmfs_log(LOG_ERR,
			 "SOURCE '%s' is a FUSE mount whose daemon has died: "
			 "unmount it with 'fusermount3 -u %s' first",
			 source, source);
		break;
	default:
		mmfs_log(LOG_ERR, "cannot open SOURCE '%s': %m", source);
	}
	return -1;
}

/* MOUNTPOINT must be an existing directory that is not a dead FUSE mount
 * and not already a memmapfs mount (mount -a run twice). */
static int check_mountpoint(const char *mnt, char *real)
{
	struct mmfs_mount_entry e;
	struct stat st;

	if (stat(mnt, &st) == -1) {
		if (errno == ENOENT)
			mmfs_log(LOG_ERR,
				 "MOUNTPOINT '%s' does not exist: create it "
				 "with 'mkdir -p %s'",
				 mnt, mnt);
		else if (errno == ENOTCONN)
			mmfs_log(
			    LOG_ERR,
			    "MOUNTPOINT '%s' is a FUSE mount whose daemon "
			    "has died: unmount it with 'fusermount3 -u %s' "
			    "(or 'umount -l %s') and mount again",
			    mnt, mnt, mnt);
		else
			mmfs_log(LOG_ERR, "cannot use MOUNTPOINT '%s': %m",
				 mnt);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		mmfs_log(LOG_ERR,
			 "MOUNTPOINT '%s' is not a directory: mount on a "
			 "directory",
			 mnt);
		return -1;
	}
	if (!realpath(mnt, real)) {
		mmfs_log(LOG_ERR, "cannot resolve MOUNTPOINT '%s': %m", mnt);
		return -1;
	}
	if (mmfs_mountinfo_at(MOUNTINFO, real, &e) == 0) {
		int ours = strcmp(e.fstype, OUR_FSTYPE) == 0;

		if (ours)
			mmfs_log(
			    LOG_ERR,
			    "MOUNTPOINT '%s' is already a memmapfs mount "
			    "(of '%s'): nothing to do; to remount, unmount "
			    "it first with 'fusermount3 -u %s'",
			    real, e.source, real);
		mmfs_mount_entry_clear(&e);
		if (ours)
			return -1;
	}
	return 0;
}

/* Serving a memmapfs mount through memmapfs again would map every page
 * twice and, on the same path, wait on itself. */
static int check_source_not_ours(const char *source, int fd)
{
	struct mmfs_mount_entry e;
	struct stat st;
	int ours = 0;

	if (fstat(fd, &st) == -1) {
		mmfs_log(LOG_ERR, "cannot stat SOURCE '%s': %m", source);
		return -1;
	}
	if (mmfs_mountinfo_of_dev(MOUNTINFO, st.st_dev, &e) == 0) {
		ours = strcmp(e.fstype, OUR_FSTYPE) == 0;
		if (ours)
			mmfs_log(LOG_ERR,
				 "SOURCE '%s' is itself a memmapfs mount (of "
				 "'%s'): give the backing directory instead",
				 source, e.source);
		mmfs_mount_entry_clear(&e);
	}
	return ours ? -1 : 0;
}

static int check_dev_fuse(void)
{
	int fd;

	if (geteuid() != 0) {
		/* fusermount3 opens the device on our behalf. */
		if (access("/dev/fuse", F_OK) == 0)
			return 0;
	} else {
		fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
	}
	mmfs_log(LOG_ERR,
		 "cannot open /dev/fuse: %m. Load the FUSE module "
		 "('modprobe fuse'), or in a container pass the device in "
		 "(e.g. --device /dev/fuse)");
	return -1;
}

static int add_mount_options(struct fuse_args *args,
			     const struct mmfs_config *cfg, const char *source)
{
	char *opts = NULL, *fsname;
	int rc = 0;

	/* The daemon usually runs as root and acts for every user, so the
	 * kernel must check permissions against the backing attributes. */
	rc |= fuse_opt_add_opt(&opts, "default_permissions");
	/* the kernel refuses changes itself; the daemon does too */
	if (cfg->mode == MMFS_MODE_RO)
		rc |= fuse_opt_add_opt(&opts, "ro");
	if (!cfg->has_subtype)
		rc |= fuse_opt_add_opt(&opts, "subtype=memmapfs");
	if (!cfg->has_fsname) {
		fsname = g_strconcat("fsname=", source, NULL);
		rc |= fuse_opt_add_opt_escaped(&opts, fsname);
		g_free(fsname);
	}
	rc |= fuse_opt_add_arg(args, "-o");
	rc |= fuse_opt_add_arg(args, opts);
	free(opts);
	return rc ? -1 : 0;
}

static int run_loop(struct fuse_session *se, const struct mmfs_config *cfg)
{
	struct fuse_loop_config *lc;
	int rc;

	if (cfg->singlethread)
		return fuse_session_loop(se);
	lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(lc, cfg->clone_fd);
	fuse_loop_cfg_set_max_threads(lc, cfg->threads);
	rc = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

/* Tell systemd (Type=notify) how we are: a datagram to $NOTIFY_SOCKET, as
 * sd_notify(3) would send, without depending on libsystemd. */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	int fd;

	if (!path || !*path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@') /* abstract namespace */
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(
		fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		mmfs_log(LOG_WARNING, "cannot notify systemd (%s): %m", path);
	close(fd);
}

/* The counters of the stats JSON as a table: name, value, what it means. */
static void print_stats_table(const char *buf)
{
	static const char *const docs[][2] = {
#define MMFS_STATS_DOC(name, doc) {#name, doc},
	    MMFS_STATS(MMFS_STATS_DOC)
#undef MMFS_STATS_DOC
	};
	static const char *const sizes[] = {
	    "bytes_read",
	    "bytes_written",
	    "largest_request",
	    "mapped_bytes",
	    "max_mapped",
	    "window_size",
	    "bytes_synced",
	    "dirty_bytes",
	    "private_bytes",
	    "max_private",
	    NULL,
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char key[96], human[32];
		const char *at;
		unsigned long long v;

		snprintf(key, sizeof(key), "\"%s\": ", docs[i][0]);
		at = strstr(buf, key);
		if (!at)
			continue;
		v = strtoull(at + strlen(key), NULL, 10);
		if (g_strv_contains(sizes, docs[i][0]))
			mmfs_format_size(v, human);
		else
			snprintf(human, sizeof(human), "%llu", v);
		printf("%-24s %14s  %s\n", docs[i][0], human, docs[i][1]);
	}
}

/* `memmapfs stats [--json] MOUNTPOINT`: the counters of a running mount,
 * read from user.memmapfs.stats, as a table (or the JSON itself). */
static int stats_command(int argc, char **argv)
{
	const char *mnt = NULL;
	int json = 0;
	char buf[16384];
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (!mnt && argv[i][0] != '-')
			mnt = argv[i];
		else {
			usage_error(
			    "usage: memmapfs stats [--json] MOUNTPOINT");
			return 1;
		}
	}
	if (!mnt) {
		usage_error("usage: memmapfs stats [--json] MOUNTPOINT");
		return 1;
	}
	n = getxattr(mnt, "user.memmapfs.stats", buf, sizeof(buf) - 1);
	if (n < 0) {
		fprintf(
		    stderr,
		    "memmapfs: error: cannot read statistics of '%s': %s%s\n",
		    mnt, strerror(errno),
		    errno == ENODATA || errno == ENOTSUP
			? " (is it the root of a memmapfs mount?)"
			: "");
		return 1;
	}
	buf[n] = '\0';
	if (json)
		fputs(buf, stdout);
	else
		print_stats_table(buf);
	return 0;
}

/* The notifier's call: drop a range of a node from the kernel's cache. */
static int notify_kernel(void *se, uint64_t ino, int64_t off, int64_t len)
{
	return fuse_lowlevel_notify_inval_inode(se, (fuse_ino_t)ino, (off_t)off,
						(off_t)len);
}

/* Sync everything still dirty (after unmounting, so that no program
 * waits on the mount meanwhile) and say how much. */
static int shutdown_sync(struct mmfs_fs *fs)
{
	unsigned int files;
	uint64_t bytes;
	char size[32];
	int rc;

	rc = mmfs_syncer_shutdown(fs->syncer, &bytes, &files);
	fs->syncer = NULL;
	mmfs_format_size(bytes, size);
	if (rc)
		mmfs_log(LOG_ERR,
			 "shutdown: syncing failed (%s); synced %s "
			 "in %u files",
			 strerror(-rc), size, files);
	else
		mmfs_log(LOG_INFO, "shutdown: synced %s in %u files", size,
			 files);
	return rc;
}

/* Open and mapped files hold one or two fds each, and so does every file
 * the kernel remembers when file handles cannot be used: take all the fds
 * the system allows, not the shell's default 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	unsigned long long max =
	    mmfs_read_number("/proc/sys/fs/nr_open", 1048576);

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (geteuid() == 0 && rl.rlim_max < max)
		rl.rlim_max = max; /* root may raise the hard limit too */
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < 16384)
		mmfs_log(LOG_WARNING,
			 "only %llu file descriptors: each open file takes "
			 "one or two; raise the limit (LimitNOFILE=) for many "
			 "open files, or big trees without file handles",
			 (unsigned long long)rl.rlim_cur);
}

/* -o writeback: the kernel keeps written pages of the mount in its own
 * cache until its writeback runs (up to 30 s later), before the daemon
 * even sees them. Two things keep the sync promises all the same: each
 * periodic pass first has the kernel hand them over (syncfs on the mount,
 * served by the worker threads like any write), and a stopping signal
 * does the same before libfuse ends the loop and unmounts, which would
 * otherwise drop them. */
static const char *self_mnt;
static int stop_pipe[2] = {-1, -1};
static struct fuse_session *stop_session;
static struct mmfs_stats *stop_stats;

static void flush_kernel_cache(void *arg)
{
	int fd = open(self_mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	(void)arg;
	if (fd < 0)
		return;
	if (syncfs(fd) != 0)
		mmfs_log(LOG_WARNING,
			 "cannot flush the kernel's cache of %s: %m", self_mnt);
	close(fd);
}

static void on_stop_signal(int sig)
{
	char c = (char)sig;

	if (write(stop_pipe[1], &c, 1) < 0) {
		/* nothing to do in a handler */
	}
}

/* Requests the kernel has queued for us and we have not answered
 * (the connection's "waiting" count), or -1 when it cannot be read. */
static long requests_waiting(dev_t dev)
{
	char path[64];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/waiting",
		 minor(dev));
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* syncfs has the kernel start writing its cached pages to us, but it can
 * return before the worker threads have served the WRITE requests it
 * queued (seen in about one stop in six under ASan): ending the loop
 * then would drop them. Wait until nothing is waiting and no write has
 * arrived for 100 ms (at most 10 s). */
static void wait_for_writes_to_drain(void)
{
	struct stat st;
	uint64_t last = 0, now;
	int quiet = 0;

	if (stat(self_mnt, &st) != 0)
		return;
	for (int i = 0; i < 200 && quiet < 2; i++) {
		now = mmfs_stat_get(&stop_stats->write_requests_mapped) +
		      mmfs_stat_get(&stop_stats->write_requests_fd);
		if (i > 0 && now == last && requests_waiting(st.st_dev) <= 0)
			quiet++;
		else
			quiet = 0;
		last = now;
		g_usleep(50000);
	}
}

static gpointer stopper(gpointer arg)
{
	char sig;

	(void)arg;
	if (read(stop_pipe[0], &sig, 1) != 1)
		return NULL;
	flush_kernel_cache(NULL);
	wait_for_writes_to_drain();
	/* now let libfuse stop as usual: its handlers, the same signal */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	fuse_set_signal_handlers(stop_session);
	kill(getpid(), sig);
	return NULL;
}

/* Route stopping signals through stopper() (call after daemonizing). */
static void flush_before_stopping(struct fuse_session *se, const char *mnt,
				  struct mmfs_stats *stats)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigset_t all, old;

	self_mnt = mnt;
	stop_session = se;
	stop_stats = stats;
	if (pipe2(stop_pipe, O_CLOEXEC) != 0)
		return;
	/* the thread must not take the signal itself */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	g_thread_unref(g_thread_new("mmfs-stop", stopper, NULL));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Learn our own mount's ID, so that lookups never cross into it. */
static void note_own_mount(struct mmfs_fs *fs, const char *mnt)
{
	struct mmfs_mount_entry e;

	if (mmfs_mountinfo_at(MOUNTINFO, mnt, &e) != 0) {
		mmfs_log(LOG_WARNING, "cannot find our mount of '%s' in %s",
			 mnt, MOUNTINFO);
		return;
	}
	if (strncmp(e.fstype, "fuse", 4) == 0)
		fs->own_mnt_id = e.mnt_id;
	mmfs_mount_entry_clear(&e);
}

/* --help, --version and --print-config are answered without mounting:
 * 1 when one was asked (and answered), else 0. */
static int answer_only(struct mmfs_config *cfg, const char *argv0)
{
	char real[PATH_MAX];

	if (cfg->show_help) {
		mmfs_config_print_help(argv0);
		return 1;
	}
	if (cfg->show_version) {
		printf("memmapfs %s (libfuse %s)\n", MMFS_VERSION,
		       fuse_pkgversion());
		return 1;
	}
	if (!cfg->print_config)
		return 0;
	if (realpath(cfg->source, real)) {
		g_free(cfg->source);
		cfg->source = g_strdup(real);
	}
	mmfs_config_print(cfg, stdout);
	return 1;
}

/* SOURCE opened (O_PATH) and resolved into source, MOUNTPOINT checked and
 * resolved into mnt, /dev/fuse present. SOURCE's fd, or -1 (said why). */
static int open_paths(const struct mmfs_config *cfg, char source[PATH_MAX],
		      char mnt[PATH_MAX])
{
	int fd = open_source(cfg->source);

	if (fd < 0)
		return -1;
	if (!realpath(cfg->source, source)) {
		mmfs_log(LOG_ERR, "cannot resolve SOURCE '%s': %m",
			 cfg->source);
		close(fd);
		return -1;
	}
	if (check_source_not_ours(source, fd) ||
	    check_mountpoint(cfg->mountpoint, mnt) || check_dev_fuse()) {
		close(fd);
		return -1;
	}
	return fd;
}

/* libfuse's arguments: the words the parser left for it, and the mount
 * options memmapfs always adds. 0 or -1 (out of memory). */
static int fuse_args_for(const struct mmfs_config *cfg, const char *source,
			 struct fuse_args *args)
{
	for (guint i = 0; i < cfg->fuse_argv->len; i++)
		if (fuse_opt_add_arg(args, cfg->fuse_argv->pdata[i]) != 0)
			return -1;
	return add_mount_options(args, cfg, source);
}

/* The mount is up: into the background, then the threads (fuse_daemonize()
 * forks, and fork keeps none). 0, or -1 if the daemon could not detach. */
static int start_serving(struct mmfs_fs *fs, struct fuse_session *se,
			 const struct mmfs_config *cfg, const char *source,
			 const char *mnt)
{
	if (fuse_daemonize(cfg->foreground) != 0)
		return -1;
	if (!cfg->foreground)
		mmfs_log_to_syslog();
	else if (chdir("/") != 0)
		mmfs_log(LOG_WARNING, "cannot chdir to /: %m");
	fs->syncer = mmfs_syncer_new(fs->engine, cfg->sync_mode,
				     cfg->sync_interval, &fs->stats);
	fs->notifier = mmfs_notifier_new(notify_kernel, se);
	if (!fs->notifier)
		mmfs_log(LOG_WARNING, "cannot start the notifier thread: "
				      "O_DIRECT writes will not drop the "
				      "kernel's stale pages");
	if (cfg->writeback && cfg->mode != MMFS_MODE_RO) {
		self_mnt = mnt;
		mmfs_syncer_set_prepass(fs->syncer, flush_kernel_cache, NULL);
		flush_before_stopping(se, mnt, &fs->stats);
	}
	mmfs_fs_log_fd_scheme(fs);
	mmfs_log(LOG_INFO, "serving '%s' on '%s' (sync=%s)", source, mnt,
		 mmfs_sync_mode_name(cfg->sync_mode));
	/* the mount is live: requests queue until the loop serves them */
	notify_systemd("READY=1\nSTATUS=serving");
	return 0;
}

/* The request loop's end: 0 for a normal stop, else 1 (logged). libfuse
 * reports the signal that ended the loop as a positive number; SIGTERM,
 * SIGINT and SIGHUP are the normal way to stop. */
static int loop_result(int rc)
{
	if (rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP)
		return 0;
	mmfs_log(LOG_ERR, "request loop failed: %s",
		 rc < 0 ? strerror(-rc) : "signal");
	return 1;
}

/* Unmount, stop the notifier and sync what is dirty. *se_busy is set when
 * the session must be left alone (a thread is stuck in it). 0, or -1 if
 * the final sync failed. */
static int stop_serving(struct mmfs_fs *fs, struct fuse_session *se,
			const char *mnt, int *se_busy)
{
	notify_systemd("STOPPING=1\nSTATUS=unmounting and syncing");
	fuse_session_unmount(se);
	mmfs_log(LOG_INFO, "unmounted '%s'", mnt);
	/* the connection is gone, so nothing it waited for is left */
	if (mmfs_notifier_free(fs->notifier, 2000000) != 0) {
		mmfs_log(LOG_WARNING, "the notifier thread is stuck in the "
				      "kernel; leaving the session to it");
		*se_busy = 1;
	}
	fs->notifier = NULL;
	if (fs->syncer && shutdown_sync(fs) != 0)
		return -1;
	return 0;
}

/* Mount the session on mnt: 0, or -1 with a message saying what it needs. */
static int mount_session(struct fuse_session *se, const char *mnt)
{
	if (fuse_session_mount(se, mnt) == 0)
		return 0;
	mmfs_log(LOG_ERR,
		 "cannot mount on '%s' (see the message above). As root this "
		 "needs /dev/fuse; as another user, fusermount3 (package "
		 "fuse3), write access to MOUNTPOINT, and user_allow_other in "
		 "/etc/fuse.conf for -o allow_other",
		 mnt);
	return -1;
}

/* Long: the setup and teardown ladder reads best in one place, each label
 * undoing exactly what was set up above its goto. */
int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char source[PATH_MAX], mnt[PATH_MAX];
	struct fuse_session *se = NULL;
	struct mmfs_config cfg;
	struct mmfs_fs fs;
	int source_fd, ret = 1, rc, se_busy = 0;

	/* The kernel has already applied the caller's umask to every mode it
	 * sends; the daemon's own must not be applied a second time. */
	umask(0);
	mmfs_log_route_libfuse();
	if (argc > 1 && strcmp(argv[1], "stats") == 0)
		return stats_command(argc - 1, argv + 1);

	if (mmfs_config_parse(argc, (const char *const *)argv, &cfg) != 0) {
		usage_error(cfg.error);
		goto out_args;
	}
	if (answer_only(&cfg, argv[0])) {
		ret = 0;
		goto out_args;
	}
	mmfs_log_set_debug(cfg.debug);
	source_fd = open_paths(&cfg, source, mnt);
	if (source_fd < 0)
		goto out_args;
	raise_fd_limit();
	rc = mmfs_fs_init(&fs, &cfg, source_fd);
	if (rc) {
		mmfs_log(LOG_ERR, "cannot set up SOURCE '%s': %s", source,
			 strerror(-rc));
		close(source_fd);
		goto out_args;
	}
	if (fuse_args_for(&cfg, source, &args) != 0) {
		mmfs_log(LOG_ERR, "out of memory");
		goto out_fs;
	}
	se =
	    fuse_session_new(&args, mmfs_ns_ops(), sizeof(*mmfs_ns_ops()), &fs);
	if (!se) {
		usage_error(
		    "unknown or invalid option (see the message above)");
		goto out_fs;
	}
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (mount_session(se, mnt) != 0)
		goto out_signals;
	/* MAP_SHARED on direct-I/O files (sync=immediate under -o
	 * writeback), which libfuse 3.14 cannot ask the kernel for */
	if (mmfs_init_shim_install(se, MMFS_INIT_DIRECT_IO_ALLOW_MMAP) != 0)
		mmfs_log(LOG_WARNING, "cannot install the INIT shim: files "
				      "with direct I/O cannot be mapped "
				      "shared");
	note_own_mount(&fs, mnt);
	if (start_serving(&fs, se, &cfg, source, mnt) == 0)
		ret = loop_result(run_loop(se, &cfg));
	if (stop_serving(&fs, se, mnt, &se_busy) != 0)
		ret = 1;
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	if (!se_busy)
		fuse_session_destroy(se);
out_fs:
	mmfs_fs_destroy(&fs);
out_args:
	mmfs_config_free(&cfg);
	fuse_opt_free_args(&args);
	return ret;
}
