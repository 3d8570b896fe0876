// SPDX-License-Identifier: GPL-2.0-or-later
/* Metadata benchmark: create, stat and unlink N empty files in DIR, and
 * print each phase's rate as JSON: {"create": ops/s, "stat": ..., ...}. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 10000;
	char path[4096];
	struct stat st;
	double t0, t1, t2, t3;

	if (argc < 2) {
		fprintf(stderr, "usage: meta DIR [N]\n");
		return 2;
	}
	t0 = now();
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%06d", argv[1], i);
		int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
		if (fd < 0 || close(fd) != 0) {
			perror(path);
			return 1;
		}
	}
	t1 = now();
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%06d", argv[1], i);
		if (stat(path, &st) != 0) {
			perror(path);
			return 1;
		}
	}
	t2 = now();
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%06d", argv[1], i);
		if (unlink(path) != 0) {
			perror(path);
			return 1;
		}
	}
	t3 = now();
	printf("{\"create\": %.1f, \"stat\": %.1f, \"unlink\": %.1f}\n",
	       n / (t1 - t0), n / (t2 - t1), n / (t3 - t2));
	return 0;
}
