// SPDX-License-Identifier: GPL-2.0-or-later
/* Runs a fuzz target's LLVMFuzzerTestOneInput on every file named (or in
 * every directory named): the corpus and the crashes found, replayed by
 * `make check` with the ordinary compiler, so a fixed crash stays fixed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	gchar *data;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, NULL)) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	g_free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, rc = 0;

	for (int i = 1; i < argc; i++) {
		GDir *d = g_dir_open(argv[i], 0, NULL);
		const char *name;

		if (!d) {
			rc |= run_file(argv[i]);
			files++;
			continue;
		}
		while ((name = g_dir_read_name(d))) {
			char *p = g_build_filename(argv[i], name, NULL);

			rc |= run_file(p);
			files++;
			g_free(p);
		}
		g_dir_close(d);
	}
	printf("  %s: %d inputs replayed\n", argv[0], files);
	return rc;
}
