// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the config file and its rules (globs included). A
 * failure must come with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memmapfs/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	struct mmfs_config cfg;

	if (!text)
		return 0;
	if (mmfs_config_load_text(&cfg, "fuzz.conf", text) != 0 && !cfg.error)
		abort();
	/* and the rules it made answer for any path */
	mmfs_rules_match(&cfg.rules, "a/b/c.db");
	mmfs_rules_match(&cfg.rules, text);
	mmfs_config_free(&cfg);
	free(text);
	return 0;
}
