/* SPDX-License-Identifier: GPL-2.0-or-later */
/* user.memmapfs.* extended attributes: the daemon's control interface.
 * Part of the FUSE adapter. */
#ifndef MEMMAPFS_CONTROL_H
#define MEMMAPFS_CONTROL_H

#include "memmapfs/fs.h"

/* Whether name is one of ours (user.memmapfs.*). */
int mmfs_control_is(const char *name);

/* Answer a getxattr of one of ours (the reply is sent). */
void mmfs_control_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   size_t size);

/* Set (value != NULL) or remove one of ours: 0 or -errno (-ENODATA for a
 * name that cannot be set, -EROFS for the read-only ones). */
int mmfs_control_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  const char *value, size_t size);

#endif
