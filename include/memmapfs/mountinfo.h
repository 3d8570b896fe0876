/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading /proc/self/mountinfo: which filesystem sits at a path or on a
 * device. Used to refuse stacking memmapfs on itself and to recognise the
 * daemon's own mount when a lookup would cross into it. */
#ifndef MEMMAPFS_MOUNTINFO_H
#define MEMMAPFS_MOUNTINFO_H

#include <stdint.h>
#include <sys/types.h>

struct mmfs_mount_entry {
	uint64_t mnt_id;   /* the kernel's mount ID (statx STATX_MNT_ID) */
	dev_t dev;	   /* st_dev of files on this mount */
	char *root;	   /* the directory of its filesystem mounted */
	char *mount_point; /* unescaped */
	char *fstype;	   /* e.g. "ext4", "fuse.memmapfs" */
	char *source;	   /* unescaped mount source */
};

/* Find the topmost mount whose mount point is exactly mount_point (an
 * absolute, canonical path) in the mountinfo file at table (normally
 * "/proc/self/mountinfo"). Returns 0 and fills *out (free with
 * mmfs_mount_entry_clear), -ENOENT if none, or another -errno. */
int mmfs_mountinfo_at(const char *table, const char *mount_point,
		      struct mmfs_mount_entry *out);

/* Same, for the topmost mount whose device is dev. */
int mmfs_mountinfo_of_dev(const char *table, dev_t dev,
			  struct mmfs_mount_entry *out);

void mmfs_mount_entry_clear(struct mmfs_mount_entry *e);

#endif
