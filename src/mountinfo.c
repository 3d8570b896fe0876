// SPDX-License-Identifier: GPL-2.0-or-later
/* A small /proc/self/mountinfo reader (see proc(5)): enough to name the
 * filesystem at a mount point or behind a device number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <glib.h>

#include "memmapfs/mountinfo.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
	char *out = g_malloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* Split one line into *e. Returns 0, or -EINVAL for a malformed line. */
static int parse_line(char *line, struct mmfs_mount_entry *e)
{
	char *save = NULL, *tok, *fields[5];
	unsigned int maj, min;
	int i;

	for (i = 0; i < 5; i++) {
		tok = strtok_r(i ? NULL : line, " \n", &save);
		if (!tok)
			return -EINVAL;
		fields[i] = tok;
	}
	/* optional fields run up to a lone "-" */
	do {
		tok = strtok_r(NULL, " \n", &save);
	} while (tok && strcmp(tok, "-") != 0);
	if (!tok)
		return -EINVAL;
	char *fstype = strtok_r(NULL, " \n", &save);
	char *source = strtok_r(NULL, " \n", &save);
	if (!fstype || !source)
		return -EINVAL;
	if (sscanf(fields[2], "%u:%u", &maj, &min) != 2)
		return -EINVAL;
	e->mnt_id = g_ascii_strtoull(fields[0], NULL, 10);
	e->dev = makedev(maj, min);
	e->root = unescape(fields[3]);
	e->mount_point = unescape(fields[4]);
	e->fstype = unescape(fstype);
	e->source = unescape(source);
	return 0;
}

/* Walk the table; keep the last entry that matches (the topmost mount). */
static int find(const char *table, const char *mount_point, const dev_t *dev,
		struct mmfs_mount_entry *out)
{
	struct mmfs_mount_entry cur;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = fopen(table, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		memset(&cur, 0, sizeof(cur));
		if (parse_line(line, &cur) != 0)
			continue;
		if ((mount_point &&
		     strcmp(cur.mount_point, mount_point) == 0) ||
		    (dev && cur.dev == *dev)) {
			mmfs_mount_entry_clear(out);
			*out = cur;
			found = 1;
		} else {
			mmfs_mount_entry_clear(&cur);
		}
	}
	free(line);
	fclose(f);
	return found ? 0 : -ENOENT;
}

int mmfs_mountinfo_at(const char *table, const char *mount_point,
		      struct mmfs_mount_entry *out)
{
	return find(table, mount_point, NULL, out);
}

int mmfs_mountinfo_of_dev(const char *table, dev_t dev,
			  struct mmfs_mount_entry *out)
{
	return find(table, NULL, &dev, out);
}

void mmfs_mount_entry_clear(struct mmfs_mount_entry *e)
{
	g_free(e->root);
	g_free(e->mount_point);
	g_free(e->fstype);
	g_free(e->source);
	memset(e, 0, sizeof(*e));
}
