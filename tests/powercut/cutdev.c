// SPDX-License-Identifier: GPL-2.0-or-later
/* cutdev: the disk of the power-cut harness. A FUSE filesystem with one
 * file, "disk", that a loop device is set up on; the filesystem under test
 * lives on that loop device. It behaves as a disk with a volatile write
 * cache: a write is acknowledged at once, and only a flush (the loop
 * driver turns REQ_PREFLUSH and FUA into fsync of its backing file, which
 * reaches us as FSYNC) makes what was written before it durable.
 *
 * SIGUSR1 is the power cut: under the lock every request holds, the
 * durable image (what was flushed, nothing else) is written to IMAGE, the
 * moment to IMAGE.cut (CLOCK_MONOTONIC and CLOCK_REALTIME, ns), and from
 * then on writes are acknowledged and dropped (reads see the old data), as
 * dm-flakey's drop_writes does. The requests run one at a time (-s), so the
 * cut falls between two of them: everything the disk acknowledged before
 * it is in IMAGE if it was flushed, nothing after it is.
 *
 * usage: cutdev MOUNTPOINT SIZE_MB IMAGE [fuse options]   (foreground)
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fuse.h>

#define BLOCK 4096

static struct {
	pthread_mutex_t lock;
	unsigned char *live;	/* what reads see */
	unsigned char *durable; /* what survives a cut */
	unsigned char *dirty;	/* one byte a block written since the flush */
	size_t size, blocks;
	int cut;
	const char *image;
	unsigned long long writes, flushes, dropped;
} d = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int is_disk(const char *path)
{
	return strcmp(path, "/disk") == 0;
}

static int cd_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (!is_disk(path))
		return -ENOENT;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)d.size;
	st->st_blocks = (blkcnt_t)(d.size / 512);
	return 0;
}

static int cd_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "disk", NULL, 0, 0);
	return 0;
}

static int cd_open(const char *path, struct fuse_file_info *fi)
{
	if (!is_disk(path))
		return -ENOENT;
	fi->direct_io = 1; /* every write reaches us, in order */
	return 0;
}

static int cd_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	if ((size_t)off >= d.size)
		return 0;
	if (size > d.size - (size_t)off)
		size = d.size - (size_t)off;
	pthread_mutex_lock(&d.lock);
	memcpy(buf, d.live + off, size);
	pthread_mutex_unlock(&d.lock);
	return (int)size;
}

static int cd_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	if ((size_t)off >= d.size)
		return -ENOSPC;
	if (size > d.size - (size_t)off)
		size = d.size - (size_t)off;
	pthread_mutex_lock(&d.lock);
	if (d.cut) {
		d.dropped++;
	} else {
		memcpy(d.live + off, buf, size);
		for (size_t b = (size_t)off / BLOCK;
		     b <= ((size_t)off + size - 1) / BLOCK; b++)
			d.dirty[b] = 1;
		d.writes++;
	}
	pthread_mutex_unlock(&d.lock);
	return (int)size;
}

/* A flush: what was written so far becomes durable. */
static int cd_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	pthread_mutex_lock(&d.lock);
	if (!d.cut) {
		for (size_t b = 0; b < d.blocks; b++)
			if (d.dirty[b]) {
				memcpy(d.durable + b * BLOCK,
				       d.live + b * BLOCK, BLOCK);
				d.dirty[b] = 0;
			}
		d.flushes++;
	}
	pthread_mutex_unlock(&d.lock);
	return 0;
}

static int cd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	if (!is_disk(path))
		return -ENOENT;
	return (size_t)size == d.size ? 0 : -EPERM;
}

static const struct fuse_operations ops = {
    .getattr = cd_getattr,
    .readdir = cd_readdir,
    .open = cd_open,
    .read = cd_read,
    .write = cd_write,
    .fsync = cd_fsync,
    .truncate = cd_truncate,
};

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w <= 0) {
			perror("cutdev: writing the image");
			exit(1);
		}
		c += w;
		n -= (size_t)w;
	}
}

/* The power cut, on SIGUSR1 (this thread alone takes it). */
static void *cutter(void *arg)
{
	sigset_t *set = arg;
	struct timespec mono, real;
	char tmp[4096];
	int sig, fd;
	FILE *f;

	if (sigwait(set, &sig) != 0)
		return NULL;
	pthread_mutex_lock(&d.lock);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	d.cut = 1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", d.image);
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0) {
		perror("cutdev: image");
		exit(1);
	}
	write_all(fd, d.durable, d.size);
	close(fd);
	rename(tmp, d.image);
	snprintf(tmp, sizeof(tmp), "%s.cut", d.image);
	f = fopen(tmp, "w");
	fprintf(f, "%lld %lld %llu %llu\n",
		(long long)mono.tv_sec * 1000000000LL + mono.tv_nsec,
		(long long)real.tv_sec * 1000000000LL + real.tv_nsec, d.writes,
		d.flushes);
	fclose(f);
	pthread_mutex_unlock(&d.lock);
	fprintf(stderr, "cutdev: cut after %llu writes and %llu flushes\n",
		d.writes, d.flushes);
	return NULL;
}

int main(int argc, char **argv)
{
	static sigset_t set;
	pthread_t t;
	char *fargv[16];
	int fargc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: cutdev MOUNTPOINT SIZE_MB IMAGE "
				"[fuse options]\n");
		return 1;
	}
	d.size = (size_t)strtoul(argv[2], NULL, 10) << 20;
	d.blocks = d.size / BLOCK;
	d.image = argv[3];
	d.live = calloc(1, d.size);
	d.durable = calloc(1, d.size);
	d.dirty = calloc(1, d.blocks);
	if (!d.size || !d.live || !d.durable || !d.dirty) {
		fprintf(stderr, "cutdev: no memory for %s MiB\n", argv[2]);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_create(&t, NULL, cutter, &set);
	fargv[fargc++] = argv[0];
	fargv[fargc++] = "-f";
	fargv[fargc++] = "-s";
	for (int i = 4; i < argc && fargc < 14; i++)
		fargv[fargc++] = argv[i];
	fargv[fargc++] = argv[1];
	fargv[fargc] = NULL;
	return fuse_main(fargc, fargv, &ops, NULL);
}
