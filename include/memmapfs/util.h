/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers more than one module needs. Header-only, FUSE-free. */
#ifndef MEMMAPFS_UTIL_H
#define MEMMAPFS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* v rounded up to a multiple of a (a > 0). */
static inline size_t mmfs_round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* The number a /proc or /sys file holds, or dflt when it cannot be read. */
static inline uint64_t mmfs_read_number(const char *path, uint64_t dflt)
{
	unsigned long long v;
	FILE *f = fopen(path, "re");

	if (!f)
		return dflt;
	if (fscanf(f, "%llu", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

#endif
