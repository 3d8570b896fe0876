/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-path rules: [rule NAME] groups of the config file give files whose
 * path matches one of their globs a sync mode, access hints, or the fd path.
 * FUSE-free. The first rule that matches a file wins.
 *
 * Globs: '*' matches within one path component, '**' across components,
 * '?' one character, [abc] and [!abc] sets. A glob without '/' matches a
 * file's name in any directory; one with '/' matches its path from the top
 * of SOURCE (a leading '/' is optional). "logs/" followed by "**" matches
 * everything below logs. */
#ifndef MEMMAPFS_RULES_H
#define MEMMAPFS_RULES_H

#include <glib.h>

#include "memmapfs/map.h"
#include "memmapfs/sync.h"

/* What a file is served with. */
struct mmfs_policy {
	enum mmfs_sync_mode sync;
	enum mmfs_advice advice;
	enum mmfs_preload preload;
	int mmap; /* 0: always the fd path */
};

enum {
	MMFS_SET_SYNC = 1,
	MMFS_SET_ADVICE = 2,
	MMFS_SET_PRELOAD = 4,
	MMFS_SET_MMAP = 8,
};

struct mmfs_rule {
	char *name;
	char **globs;	    /* as written */
	GPtrArray *regexes; /* GRegex *, one per glob */
	struct mmfs_policy policy;
	unsigned int set; /* MMFS_SET_* fields the rule gives */
	int line;	  /* of its [rule NAME] header, for messages */
};

struct mmfs_rules {
	GPtrArray *list; /* struct mmfs_rule *, in file order */
};

void mmfs_rules_init(struct mmfs_rules *rules);
void mmfs_rules_clear(struct mmfs_rules *rules);

/* Turn one glob into an anchored regex. Returns 0, or -EINVAL with *why
 * (g_free it) naming the problem. */
int mmfs_glob_compile(const char *glob, GRegex **out, char **why);

/* A new, empty rule named name with the globs (NULL-terminated; copied),
 * appended to rules. Returns it, or NULL with *why (g_free it) when a glob
 * is bad or the name is taken. */
struct mmfs_rule *mmfs_rules_add(struct mmfs_rules *rules, const char *name,
				 const char *const *globs, int line,
				 char **why);

/* The first rule matching path (relative to SOURCE, no leading '/'), or
 * NULL. */
const struct mmfs_rule *mmfs_rules_match(const struct mmfs_rules *rules,
					 const char *path);

/* *policy with the fields rule sets (rule may be NULL) laid over it. */
void mmfs_policy_apply(struct mmfs_policy *policy,
		       const struct mmfs_rule *rule);

/* Descriptions of policies and rules: options.h. */

#endif
