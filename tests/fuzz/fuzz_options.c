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
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct mmfs_config cfg;
	char *text = strndup((const char *)data, size), *save = NULL, *w;

	if (!text || strstr(text, "config=")) {
		free(text);
		return 0;
	}
	fuse_opt_add_arg(&args, "memmapfs");
	for (w = strtok_r(text, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
		fuse_opt_add_arg(&args, w);
	mmfs_config_parse(&args, &cfg);
	mmfs_config_free(&cfg);
	fuse_opt_free_args(&args);
	free(text);
	return 0;
}
