/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The INIT shim: capabilities the kernel offers that libfuse 3.14 does not
 * know, added to libfuse's INIT reply (see initshim.c). */
#ifndef MEMMAPFS_INITSHIM_H
#define MEMMAPFS_INITSHIM_H

#include <stdint.h>

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse_lowlevel.h>

/* FUSE_DIRECT_IO_ALLOW_MMAP (protocol 7.39): MAP_SHARED mappings of files
 * opened with direct I/O (a file in sync=immediate under -o writeback). */
#define MMFS_INIT_DIRECT_IO_ALLOW_MMAP (1ULL << 36)

/* Route the session's /dev/fuse traffic through the shim, so that the INIT
 * reply carries the flags of want (INIT flag bits, flags2 in the upper
 * half) that the kernel offers. Call after fuse_session_mount, before the
 * loop. 0 or -errno. */
int mmfs_init_shim_install(struct fuse_session *se, uint64_t want);

#endif
