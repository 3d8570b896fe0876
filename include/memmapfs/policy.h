/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which policy a file gets (see policy.c). Part of the FUSE adapter: it
 * reads the daemon's state. */
#ifndef MEMMAPFS_POLICY_H
#define MEMMAPFS_POLICY_H

#include "memmapfs/fs.h"

/* The policy a file gets now: the default, the first rule its path
 * matches, its own user.memmapfs.sync. *rule names the rule (or NULL);
 * *overridden says whether sync came from user.memmapfs.sync. */
void mmfs_policy_resolve(struct mmfs_fs *fs, struct mmfs_inode *inode,
			 struct mmfs_policy *policy, const char **rule,
			 int *overridden);

/* Give the policy to the inode's mapping now (after user.memmapfs.sync
 * changed), if it has one. */
void mmfs_policy_refresh(struct mmfs_fs *fs, struct mmfs_inode *inode);

/* Give pol to map: its access hints, and its sync mode to the syncer. */
void mmfs_policy_give(struct mmfs_fs *fs, struct mmfs_map *map,
		      const struct mmfs_policy *pol);

#endif
