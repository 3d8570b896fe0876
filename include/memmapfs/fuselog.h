/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's bridge from libfuse's log to mmfs_log(). */
#ifndef MEMMAPFS_FUSELOG_H
#define MEMMAPFS_FUSELOG_H

/* Install mmfs_log() as libfuse's log function. */
void mmfs_log_route_libfuse(void);

#endif
