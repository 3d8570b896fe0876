// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the size, duration and number parsers. Whatever they
 * accept must be what they say (a size parses back the same way). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memmapfs/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	uint64_t bytes;
	unsigned int n;
	double d;

	if (!s)
		return 0;
	if (mmfs_parse_size(s, &bytes) == 0 &&
	    strspn(s, "0123456789") == strlen(s) &&
	    bytes != strtoull(s, NULL, 10))
		abort(); /* a plain number must be itself */
	if (mmfs_parse_duration(s, &d) == 0 && !(d >= 0))
		abort(); /* never negative, never NaN */
	if (mmfs_parse_uint(s, 1, 1024, &n) == 0 && (n < 1 || n > 1024))
		abort();
	free(s);
	return 0;
}
