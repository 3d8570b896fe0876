/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The namespace requests and the operations table (ns.c). */
#ifndef MEMMAPFS_NS_H
#define MEMMAPFS_NS_H

#include "memmapfs/fs.h"

/* The one table of every operation memmapfs implements. */
const struct fuse_lowlevel_ops *mmfs_ns_ops(void);

#endif
