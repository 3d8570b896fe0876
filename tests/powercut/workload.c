// SPDX-License-Identifier: GPL-2.0-or-later
/* The power-cut harness's workload: writes through the mount and logs,
 * with CLOCK_MONOTONIC times, what each call was told and when, so that
 * check.py can hold the recovered filesystem to each sync mode's promise.
 *
 *   workload DIR LOG CUTDEV_PID CUT SECONDS
 *
 * CUT says when to send the power cut (SIGUSR1 to cutdev): "time:MS" after
 * the start, "fsync:N" right after the Nth fsync returned, "close:N" right
 * after the Nth close returned; the workload goes on for a while after it
 * (those writes are dropped by the disk) and stops half a second after
 * it, or after SECONDS, cutting then if it has not yet.
 *
 * Files, all of records that name themselves (check.py knows each byte
 * that may be there):
 *   append.dat  256-byte records appended (O_APPEND), seq in order
 *   rand.dat    RAND_BLOCKS blocks of 4 KiB, each overwritten in place
 *               with (block, version); made and fsynced before the start
 *   osync.dat   256-byte records written through an O_SYNC handle
 *   c/N.tmp     CLOSE_BLOCKS blocks written, closed, renamed to c/N
 *   db.sqlite   WAL, synchronous=FULL: one row per committed transaction
 * Log lines ("ns" is CLOCK_MONOTONIC):
 *   A seq ns          append of seq acknowledged
 *   O block ver ns    overwrite acknowledged
 *   S seq ns          O_SYNC write acknowledged
 *   F file start end  fsync of append.dat or rand.dat
 *   C n ns            c/n.tmp closed (all its blocks written)
 *   R n ns            renamed to c/n
 *   Q id ns           transaction committed
 *   T ns              the cut was sent
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define REC	     256
#define BLOCK	     4096
#define RAND_BLOCKS  256
#define CLOSE_BLOCKS 8

static int logfd;
static const char *dir;
static pid_t cutdev;
static char cut_kind[16];
static long cut_n;
static int cut_sent;
static long long t0, cut_at;

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	if (cut_sent)
		exit(0); /* past the cut, anything goes */
	va_start(ap, fmt);
	fprintf(stderr, "workload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	exit(2);
}

static void logf_(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(logfd, line, (size_t)n) != n)
		die("log");
}

static const char *in(const char *name)
{
	static char buf[4][4096];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* A record that names itself: kind, two numbers, and bytes derived from
 * them, so that any byte on disk can be told to be this record's. */
static void fill(char *p, size_t len, char kind, uint64_t a, uint64_t b)
{
	uint64_t x = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull) ^
		     (uint64_t)kind;

	memset(p, 0, len);
	snprintf(p, 48, "%c %llu %llu\n", kind, (unsigned long long)a,
		 (unsigned long long)b);
	for (size_t i = 48; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (char)('a' + x % 26);
	}
}

static void cut(void)
{
	if (cut_sent)
		return;
	cut_sent = 1;
	cut_at = now_ns();
	logf_("T %lld\n", cut_at);
	if (kill(cutdev, SIGUSR1) != 0)
		die("kill cutdev");
}

static void maybe_cut(const char *after, long count)
{
	if (!cut_sent && strcmp(cut_kind, after) == 0 && count >= cut_n)
		cut();
}

static void setup_rand(void)
{
	char blk[BLOCK];
	int fd = open(in("rand.dat"), O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0)
		die("rand.dat");
	for (int b = 0; b < RAND_BLOCKS; b++) {
		fill(blk, BLOCK, 'O', (uint64_t)b, 0);
		if (pwrite(fd, blk, BLOCK, (off_t)b * BLOCK) != BLOCK)
			die("rand.dat init");
	}
	if (fsync(fd) != 0)
		die("fsync rand.dat");
	close(fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd) != 0)
		die("fsync dir");
	close(fd);
}

static sqlite3 *setup_db(void)
{
	sqlite3 *db;
	char *err = NULL;

	if (sqlite3_open(in("db.sqlite"), &db) != SQLITE_OK)
		die("sqlite3_open");
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);",
			 NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "workload: sqlite: %s\n", err);
		exit(2);
	}
	return db;
}

static void commit_one(sqlite3 *db, long id)
{
	char sql[256], *err = NULL;

	snprintf(sql, sizeof(sql),
		 "BEGIN; INSERT INTO t VALUES (%ld, 'row %ld "
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'); COMMIT;",
		 id, id);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		if (cut_sent)
			return; /* past the cut, anything goes */
		fprintf(stderr, "workload: sqlite commit %ld: %s\n", id, err);
		exit(2);
	}
	logf_("Q %ld %lld\n", id, now_ns());
}

static void close_one(long n)
{
	char name[64], to[64], blk[BLOCK];
	int fd;

	snprintf(name, sizeof(name), "c/%ld.tmp", n);
	snprintf(to, sizeof(to), "c/%ld", n);
	fd = open(in(name), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		die("%s", name);
	for (int b = 0; b < CLOSE_BLOCKS; b++) {
		fill(blk, BLOCK, 'C', (uint64_t)n, (uint64_t)b);
		if (write(fd, blk, BLOCK) != BLOCK)
			die("write %s", name);
	}
	if (close(fd) != 0)
		die("close %s", name);
	logf_("C %ld %lld\n", n, now_ns());
	maybe_cut("close", n);
	if (rename(in(name), in(to)) != 0)
		die("rename %s", name);
	logf_("R %ld %lld\n", n, now_ns());
}

static void fsync_one(int fd, const char *file, long *count)
{
	long long start = now_ns();

	if (fsync(fd) != 0)
		die("fsync %s", file);
	logf_("F %s %lld %lld\n", file, start, now_ns());
	++*count;
	maybe_cut("fsync", *count);
}

int main(int argc, char **argv)
{
	int app, rnd, osy;
	long seq = 0, sseq = 0, ver = 0, closes = 0, fsyncs = 0, rows = 0;
	long long end, cut_ms = -1;
	char rec[REC], blk[BLOCK];
	sqlite3 *db;
	unsigned int rng = 12345;

	if (argc != 6) {
		fprintf(stderr, "usage: workload DIR LOG CUTDEV_PID CUT "
				"SECONDS\n");
		return 2;
	}
	dir = argv[1];
	logfd = open(argv[2], O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
	cutdev = (pid_t)atoi(argv[3]);
	if (sscanf(argv[4], "%15[a-z]:%ld", cut_kind, &cut_n) != 2)
		die("CUT %s", argv[4]);
	if (strcmp(cut_kind, "time") == 0)
		cut_ms = cut_n;
	if (logfd < 0 || mkdir(in("c"), 0755) != 0)
		die("setup");
	setup_rand();
	db = setup_db();
	app = open(in("append.dat"), O_CREAT | O_WRONLY | O_APPEND, 0644);
	rnd = open(in("rand.dat"), O_WRONLY);
	osy = open(in("osync.dat"), O_CREAT | O_WRONLY | O_SYNC, 0644);
	if (app < 0 || rnd < 0 || osy < 0)
		die("open");
	t0 = now_ns();
	logf_("B %lld\n", t0);
	end = t0 + atoll(argv[5]) * 1000000000LL;
	for (long i = 0;
	     now_ns() < end && (!cut_sent || now_ns() < cut_at + 500000000LL);
	     i++) {
		int b;

		if (cut_ms >= 0 && now_ns() - t0 >= cut_ms * 1000000LL)
			cut();
		fill(rec, REC, 'A', (uint64_t)seq, 0);
		if (write(app, rec, REC) != REC)
			die("append");
		logf_("A %ld %lld\n", seq++, now_ns());
		rng = rng * 1103515245u + 12345u;
		b = (int)((rng >> 8) % RAND_BLOCKS);
		fill(blk, BLOCK, 'O', (uint64_t)b, (uint64_t)++ver);
		if (pwrite(rnd, blk, BLOCK, (off_t)b * BLOCK) != BLOCK)
			die("overwrite");
		logf_("O %d %ld %lld\n", b, ver, now_ns());
		if (i % 8 == 0) {
			fill(rec, REC, 'S', (uint64_t)sseq, 0);
			if (pwrite(osy, rec, REC, (off_t)sseq * REC) != REC)
				die("osync");
			logf_("S %ld %lld\n", sseq++, now_ns());
		}
		if (i % 16 == 5)
			close_one(closes++);
		if (i % 32 == 11)
			commit_one(db, rows++);
		if (i % 64 == 63) {
			fsync_one(rnd, "rand.dat", &fsyncs);
			fsync_one(app, "append.dat", &fsyncs);
		}
		usleep(500);
	}
	if (!cut_sent)
		cut();
	logf_("E %lld\n", now_ns());
	sqlite3_close(db);
	return 0;
}
