// SPDX-License-Identifier: GPL-2.0-or-later
/* Stress with verification: several processes at once on the files of a
 * memmapfs mount, while another truncates backing files behind its back.
 *
 *   stress MOUNTPOINT SOURCE SECONDS WORKERS
 *
 * Each worker owns private files it checks against an exact model (reads,
 * writes, appends, truncates, renames, fsyncs, and its own mmap reads and
 * writes), and shares files with the others in which every 4 KiB block
 * describes itself (file, block, writer, checksum): any block read must be
 * zero or a valid record for its place. "Victim" files are also truncated
 * and rewritten directly in SOURCE; reading them may fail with EIO or come
 * back short, but never with misplaced or corrupt data. Exit status 0 when
 * every check held. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	      4096
#define SHARED	      4		  /* shared files */
#define VICTIMS	      2		  /* shared files also cut short in SOURCE */
#define SHARED_BLOCKS 512	  /* 2 MiB each */
#define PRIVATE_MAX   (3 << 20)	  /* a private file's largest size */
#define MAGIC	      0x6d6d6673u /* "mmfs" */

struct record {
	uint32_t magic, file, block, writer, seq, sum;
};

static const char *mnt, *src;
static time_t deadline;
static unsigned int rng;

static unsigned int next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint32_t checksum(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void fail(const char *what, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *what, ...)
{
	va_list ap;

	va_start(ap, what);
	fflush(stdout);
	fprintf(stderr, "stress worker %d: FAIL: ", getpid());
	vfprintf(stderr, what, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static char *path_of(char *buf, const char *base, const char *kind, int n)
{
	sprintf(buf, "%s/%s-%d", base, kind, n);
	return buf;
}

/* ---- shared files: self-describing blocks ---- */

static void make_block(unsigned char *b, int file, int block, int writer,
		       uint32_t seq)
{
	struct record r = {
	    MAGIC, (uint32_t)file, (uint32_t)block, (uint32_t)writer, seq, 0};

	for (size_t i = sizeof(r); i < BLOCK; i++)
		b[i] = (unsigned char)(next_rand() >> 3);
	r.sum = checksum(b + sizeof(r), BLOCK - sizeof(r));
	memcpy(b, &r, sizeof(r));
}

/* 0: zeros or a valid record for (file, block); 1: not */
static int check_block(const unsigned char *b, int file, int block)
{
	struct record r;
	size_t i;

	for (i = 0; i < BLOCK && !b[i]; i++)
		;
	if (i == BLOCK)
		return 0;
	memcpy(&r, b, sizeof(r));
	return !(r.magic == MAGIC && r.file == (uint32_t)file &&
		 r.block == (uint32_t)block &&
		 r.sum == checksum(b + sizeof(r), BLOCK - sizeof(r)));
}

static void shared_op(int worker, uint32_t seq)
{
	int k = (int)(next_rand() % SHARED),
	    blk = (int)(next_rand() % SHARED_BLOCKS);
	unsigned char b[BLOCK];
	char path[4096];
	int fd = open(path_of(path, mnt, "shared", k), O_RDWR);
	unsigned int op = next_rand() % 10;

	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	if (op < 4) {
		make_block(b, k, blk, worker, seq);
		if (pwrite(fd, b, BLOCK, (off_t)blk * BLOCK) != BLOCK)
			fail("shared write: %s", strerror(errno));
	} else if (op < 9) {
		/* a read racing a write may see a torn page: only data that
		 * stays wrong is corruption */
		for (int tries = 0;; tries++) {
			ssize_t n = pread(fd, b, BLOCK, (off_t)blk * BLOCK);

			if (n < 0)
				fail("shared read: %s", strerror(errno));
			if (n < BLOCK)
				memset(b + n, 0, BLOCK - (size_t)n);
			if (!check_block(b, k, blk))
				break;
			if (tries == 20)
				fail("shared-%d block %d is corrupt", k, blk);
			usleep(1000);
		}
	} else if (next_rand() % 8 == 0) {
		if (ftruncate(fd, (off_t)(next_rand() % SHARED_BLOCKS) * BLOCK))
			fail("shared truncate: %s", strerror(errno));
	} else {
		fsync(fd);
	}
	close(fd);
}

/* Victims: cut short and rewritten in SOURCE by the truncator. */
static void victim_op(int worker, uint32_t seq)
{
	int k = (int)(next_rand() % VICTIMS),
	    blk = (int)(next_rand() % SHARED_BLOCKS);
	unsigned char b[BLOCK];
	char path[4096];
	int fd = open(path_of(path, mnt, "victim", k), O_RDWR);
	ssize_t n;

	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail("open %s: %s", path, strerror(errno));
	}
	if (next_rand() % 3 == 0) {
		make_block(b, 100 + k, blk, worker, seq);
		if (pwrite(fd, b, BLOCK, (off_t)blk * BLOCK) < 0 &&
		    errno != EIO)
			fail("victim write: %s", strerror(errno));
	} else {
		n = pread(fd, b, BLOCK, (off_t)blk * BLOCK);
		if (n < 0 && errno != EIO)
			fail("victim read: %s", strerror(errno));
		if (n > 0 && n < BLOCK)
			memset(b + n, 0, BLOCK - (size_t)n);
		/* a block the truncator is rewriting may be torn: re-read */
		if (n > 0 && check_block(b, 100 + k, blk)) {
			usleep(2000);
			n = pread(fd, b, BLOCK, (off_t)blk * BLOCK);
			if (n > 0 && n < BLOCK)
				memset(b + n, 0, BLOCK - (size_t)n);
			if (n > 0 && check_block(b, 100 + k, blk))
				fail("victim-%d block %d is misplaced or "
				     "corrupt",
				     k, blk);
		}
	}
	close(fd);
}

/* ---- private files: an exact model ---- */

struct private_file {
	char name[4096];
	unsigned char *model;
	size_t size;
	int fd, append_fd;
	int renamed;
};

static void private_reopen(struct private_file *pf, int worker)
{
	char a[4096], b[4096];

	close(pf->fd);
	close(pf->append_fd);
	sprintf(a, "%s/private-%d%s", mnt, worker, pf->renamed ? ".moved" : "");
	sprintf(b, "%s/private-%d%s", mnt, worker, pf->renamed ? "" : ".moved");
	if (rename(a, b) != 0)
		fail("rename %s: %s", a, strerror(errno));
	pf->renamed = !pf->renamed;
	strcpy(pf->name, b);
	pf->fd = open(pf->name, O_RDWR);
	pf->append_fd = open(pf->name, O_WRONLY | O_APPEND);
	if (pf->fd < 0 || pf->append_fd < 0)
		fail("reopen %s: %s", pf->name, strerror(errno));
}

static void private_verify(struct private_file *pf, const char *via)
{
	unsigned char *buf = malloc(pf->size + 1);
	ssize_t n = pread(pf->fd, buf, pf->size + 1, 0);

	if (n != (ssize_t)pf->size)
		fail("%s: %s size %zd, model %zu", via, pf->name, n, pf->size);
	if (memcmp(buf, pf->model, pf->size) != 0)
		fail("%s: %s differs from its model", via, pf->name);
	free(buf);
}

/* Long: one switch over the operation kinds, each checked against the
 * file's model. */
static void private_op(struct private_file *pf, int worker)
{
	size_t len = 1 + next_rand() % (64 << 10);
	size_t off = next_rand() % (PRIVATE_MAX - len);
	unsigned char *buf = malloc(64 << 10); /* every op's len fits */
	unsigned int op = next_rand() % 100;

	if (op < 30) { /* read */
		ssize_t want = off >= pf->size ? 0
					       : (ssize_t)(pf->size - off < len
							       ? pf->size - off
							       : len);
		ssize_t n = pread(pf->fd, buf, len, (off_t)off);

		if (n != want ||
		    memcmp(buf, pf->model + off, (size_t)(n > 0 ? n : 0)))
			fail("private read %zu at %zu: %zd, want %zd", len, off,
			     n, want);
	} else if (op < 55) { /* write */
		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)next_rand();
		if (pwrite(pf->fd, buf, len, (off_t)off) != (ssize_t)len)
			fail("private write: %s", strerror(errno));
		if (off > pf->size)
			memset(pf->model + pf->size, 0, off - pf->size);
		memcpy(pf->model + off, buf, len);
		if (off + len > pf->size)
			pf->size = off + len;
	} else if (op < 62) { /* append */
		len = len % 8192 + 1;
		if (pf->size + len > PRIVATE_MAX) {
			free(buf);
			return;
		}
		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)next_rand();
		if (write(pf->append_fd, buf, len) != (ssize_t)len)
			fail("private append: %s", strerror(errno));
		memcpy(pf->model + pf->size, buf, len);
		pf->size += len;
	} else if (op < 68) { /* truncate */
		size_t to = next_rand() % PRIVATE_MAX;

		if (ftruncate(pf->fd, (off_t)to) != 0)
			fail("private truncate: %s", strerror(errno));
		if (to > pf->size)
			memset(pf->model + pf->size, 0, to - pf->size);
		pf->size = to;
	} else if (op < 80 && pf->size > 0) { /* our own mapping */
		size_t base, span;
		unsigned char *p;
		int writing = next_rand() % 2;

		off = next_rand() % pf->size;
		len = len < pf->size - off ? len : pf->size - off;
		base = off & ~(size_t)4095;
		span = len + (off - base);
		p = mmap(NULL, span, PROT_READ | (writing ? PROT_WRITE : 0),
			 MAP_SHARED, pf->fd, (off_t)base);
		if (p == MAP_FAILED)
			fail("mmap: %s", strerror(errno));
		if (writing) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (unsigned char)next_rand();
			memcpy(p + (off - base), buf, len);
			memcpy(pf->model + off, buf, len);
			if (msync(p, span, MS_SYNC) != 0)
				fail("msync: %s", strerror(errno));
		} else if (memcmp(p + (off - base), pf->model + off, len)) {
			fail("private mmap read at %zu differs", off);
		}
		munmap(p, span);
	} else if (op < 85) {
		if (fsync(pf->fd) != 0)
			fail("fsync: %s", strerror(errno));
	} else if (op < 88) {
		private_reopen(pf, worker);
	} else if (op < 90) {
		private_verify(pf, "periodic check");
	}
	free(buf);
}

static int worker(int id)
{
	struct private_file pf = {.model = calloc(1, PRIVATE_MAX)};
	uint32_t seq = 0;

	rng = 0x9e3779b9u ^ (unsigned int)(id * 7919 + getpid());
	sprintf(pf.name, "%s/private-%d", mnt, id);
	pf.fd = open(pf.name, O_CREAT | O_RDWR | O_TRUNC, 0644);
	pf.append_fd = open(pf.name, O_WRONLY | O_APPEND);
	if (pf.fd < 0 || pf.append_fd < 0)
		fail("create %s: %s", pf.name, strerror(errno));
	while (time(NULL) < deadline) {
		unsigned int what = next_rand() % 10;

		seq++;
		if (what < 5)
			private_op(&pf, id);
		else if (what < 8)
			shared_op(id, seq);
		else
			victim_op(id, seq);
	}
	private_verify(&pf, "final check");
	/* and the backing file holds the same bytes */
	{
		char back[4096];
		int fd;

		sprintf(back, "%s/private-%d%s", src, id,
			pf.renamed ? ".moved" : "");
		fd = open(back, O_RDONLY);
		close(pf.fd);
		pf.fd = fd;
		private_verify(&pf, "backing file");
	}
	printf("  worker %d: %u operations, all checks held\n", id, seq);
	fflush(stdout); /* the caller leaves by _exit */
	return 0;
}

/* Cut victims short and rewrite them directly in SOURCE. */
static int truncator(void)
{
	unsigned char b[BLOCK];
	char path[4096];
	unsigned int cuts = 0;

	rng = 12345u ^ (unsigned int)getpid();
	while (time(NULL) < deadline) {
		int k = (int)(next_rand() % VICTIMS);
		int fd = open(path_of(path, src, "victim", k), O_RDWR);

		if (fd < 0)
			continue;
		if (ftruncate(fd, (off_t)(next_rand() % SHARED_BLOCKS) * BLOCK))
			fail("truncator: %s", strerror(errno));
		cuts++;
		usleep(3000);
		for (int i = 0; i < 8; i++) {
			int blk = (int)(next_rand() % SHARED_BLOCKS);

			make_block(b, 100 + k, blk, 999, cuts);
			if (pwrite(fd, b, BLOCK, (off_t)blk * BLOCK) != BLOCK)
				fail("truncator write: %s", strerror(errno));
		}
		close(fd);
		usleep(2000);
	}
	printf("  truncator: cut files short %u times behind the mount\n",
	       cuts);
	fflush(stdout);
	return 0;
}

/* Long: arguments, the workers and the truncator started and waited for,
 * the verdict; a linear script. */
int main(int argc, char **argv)
{
	char path[4096];
	int workers, failed = 0, status;
	pid_t pid;

	if (argc != 5) {
		fprintf(stderr,
			"usage: stress MOUNTPOINT SOURCE SECONDS WORKERS\n");
		return 2;
	}
	mnt = argv[1];
	src = argv[2];
	deadline = time(NULL) + atoi(argv[3]);
	workers = atoi(argv[4]);
	for (int k = 0; k < SHARED; k++) {
		int fd = open(path_of(path, mnt, "shared", k), O_CREAT | O_RDWR,
			      0644);

		if (fd < 0 || ftruncate(fd, SHARED_BLOCKS * BLOCK) != 0)
			fail("create %s: %s", path, strerror(errno));
		close(fd);
	}
	for (int k = 0; k < VICTIMS; k++) {
		int fd = open(path_of(path, mnt, "victim", k), O_CREAT | O_RDWR,
			      0644);

		if (fd < 0)
			fail("create %s: %s", path, strerror(errno));
		close(fd);
	}
	for (int i = 0; i <= workers; i++) {
		pid = fork();
		if (pid == 0)
			_exit(i < workers ? worker(i) : truncator());
	}
	for (int i = 0; i <= workers; i++) {
		pid = wait(&status);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr,
				"stress: process %d failed (status %d)\n", pid,
				status);
			failed = 1;
		}
	}
	/* the shared files, once everyone stopped: every block valid */
	for (int k = 0; k < SHARED; k++) {
		unsigned char b[BLOCK];
		int fd = open(path_of(path, mnt, "shared", k), O_RDONLY);
		ssize_t n;

		for (int blk = 0;
		     (n = pread(fd, b, BLOCK, (off_t)blk * BLOCK)) > 0; blk++) {
			if (n < BLOCK)
				memset(b + n, 0, BLOCK - (size_t)n);
			if (check_block(b, k, blk)) {
				fprintf(stderr,
					"stress: shared-%d block %d "
					"corrupt at the end\n",
					k, blk);
				failed = 1;
			}
		}
		close(fd);
	}
	return failed;
}
