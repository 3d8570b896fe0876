// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the command line. The input is split at newlines into
 * argv words and parsed as `memmapfs WORDS...` would be. Inputs naming a
 * config file are skipped (the file parser has its own target). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memmapfs/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GPtrArray *argv = g_ptr_array_new();
	struct mmfs_config cfg;
	char *text = strndup((const char *)data, size), *save = NULL, *w;

	if (!text || strstr(text, "config=")) {
		free(text);
		return 0;
	}
	g_ptr_array_add(argv, (char *)"memmapfs");
	for (w = strtok_r(text, "\n", &save); w;
	     w = strtok_r(NULL, "\n", &save))
		g_ptr_array_add(argv, w);
	if (mmfs_config_parse((int)argv->len, (const char *const *)argv->pdata,
			      &cfg) != 0 &&
	    !cfg.error)
		abort();
	mmfs_config_free(&cfg);
	g_ptr_array_free(argv, TRUE);
	free(text);
	return 0;
}
