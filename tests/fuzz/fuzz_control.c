// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: values written to user.memmapfs.sync (raw bytes from
 * any user of the mount). Accepted values must name a mode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memmapfs/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum mmfs_sync_mode mode = MMFS_SYNC_NEVER;
	int deflt = 0;

	if (mmfs_sync_parse_value((const char *)data, size, &mode, &deflt) ==
		0 &&
	    !deflt && strcmp(mmfs_sync_mode_name(mode), "?") == 0)
		abort();
	return 0;
}
