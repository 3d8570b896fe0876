/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File data requests: open/create/read/write/flush/release/fsync,
 * fallocate, lseek and copy_file_range. Called from the operations table
 * in fs.c; each one replies to its request. */
#ifndef MEMMAPFS_IO_H
#define MEMMAPFS_IO_H

#include "memmapfs/fs.h"

void mmfs_io_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mmfs_io_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fuse_file_info *fi);
void mmfs_io_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void mmfs_io_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
		       off_t off, struct fuse_file_info *fi);
void mmfs_io_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mmfs_io_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void mmfs_io_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		   struct fuse_file_info *fi);
void mmfs_io_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
		       off_t len, struct fuse_file_info *fi);
void mmfs_io_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		   struct fuse_file_info *fi);
void mmfs_io_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			     struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			     off_t off_out, struct fuse_file_info *fi_out,
			     size_t len, int flags);

/* Free a file handle the kernel never released (at shutdown). */
void mmfs_handle_free(void *handle);

/* The backing fd of an open handle (for setattr on an open file). */
int mmfs_handle_fd(const struct fuse_file_info *fi);

/* Set the size of inode's file (truncate or extend), through its mapping
 * when it has one so that windows past the new end are dropped, or in its
 * private copy (mode=cow). hfd is an open handle's fd or -1. Returns 0 or
 * -errno. */
int mmfs_io_set_size(struct mmfs_fs *fs, struct mmfs_inode *inode, int hfd,
		     off_t size);

/* mode=cow: set the file's private mtime (to now if now), making the
 * private copy if needed. 0 or -errno. */
int mmfs_io_cow_touch(struct mmfs_fs *fs, struct mmfs_inode *inode);

#endif
