// SPDX-License-Identifier: GPL-2.0-or-later
/* Policy resolution: which sync mode, access hints and data path a file
 * gets (the mount's settings, the first rule its path matches, its own
 * user.memmapfs.sync), and handing it to the file's mapping. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "memmapfs/lock.h"
#include "memmapfs/policy.h"

/* The file's path below SOURCE, as the kernel knows it now (renames
 * included), or NULL. */
static char *relative_path(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	char proc[MMFS_PROC_PATH_MAX], link[PATH_MAX + 16];
	size_t root = strlen(fs->root_path);
	ssize_t n;

	mmfs_proc_path(proc, inode->fd);
	n = readlink(proc, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = '\0';
	if (g_str_has_suffix(link, " (deleted)"))
		link[n - 10] = '\0';
	if (strncmp(link, fs->root_path, root) != 0)
		return NULL;
	if (root == 1) /* SOURCE is / */
		return g_strdup(link + 1);
	if (link[root] != '/' && link[root] != '\0')
		return NULL;
	return g_strdup(link[root] ? link + root + 1 : "");
}

void mmfs_policy_resolve(struct mmfs_fs *fs, struct mmfs_inode *inode,
			 struct mmfs_policy *policy, const char **rule,
			 int *overridden)
{
	const struct mmfs_rule *r = NULL;
	int ov;

	mmfs_config_policy(fs->cfg, policy);
	if (fs->syncer) /* the default may have been changed at run time */
		policy->sync = mmfs_syncer_mode(fs->syncer);
	if (fs->cfg->rules.list->len) {
		char *path = relative_path(fs, inode);

		if (path) {
			r = mmfs_rules_match(&fs->cfg->rules, path);
			g_free(path);
		}
		mmfs_policy_apply(policy, r);
	}
	mmfs_lock(&inode->lock);
	ov = inode->sync_override;
	mmfs_unlock(&inode->lock);
	if (ov >= 0)
		policy->sync = (enum mmfs_sync_mode)ov;
	*rule = r ? r->name : NULL;
	*overridden = ov >= 0;
}

void mmfs_policy_give(struct mmfs_fs *fs, struct mmfs_map *map,
		      const struct mmfs_policy *pol)
{
	struct mmfs_map_policy mp = mmfs_map_get_policy(map);

	mp.advice = pol->advice;
	mp.preload = pol->preload;
	mmfs_map_set_policy(map, &mp);
	mmfs_sync_configure(fs->syncer, map, pol->sync);
}

void mmfs_policy_refresh(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	struct mmfs_map *map = g_atomic_pointer_get(&inode->map);
	struct mmfs_policy pol;
	const char *rule;
	int ov;

	if (!map)
		return;
	mmfs_policy_resolve(fs, inode, &pol, &rule, &ov);
	mmfs_policy_give(fs, map, &pol);
}
