// SPDX-License-Identifier: GPL-2.0-or-later
/* The INIT shim. libfuse 3.14 answers the kernel's INIT with the
 * capabilities it knows; the kernel offers more (this one knows protocol
 * 7.41 and beyond). fuse_session_custom_io hands the daemon every read from
 * and write to /dev/fuse: reading, the shim notes the INIT request (its
 * unique and the flags the kernel offers); writing, it adds to the matching
 * reply the flags the daemon wants that were offered. Every other message
 * passes untouched, and splicing stays available as without the shim. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "memmapfs/initshim.h"

static struct {
	uint64_t want;	  /* flags to add when offered */
	uint64_t offered; /* what the kernel's INIT offered */
	uint64_t unique;  /* the INIT request's, until it is answered */
	int done;	  /* INIT answered: nothing more to look at */
} shim;

static ssize_t shim_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *h = buf;
	const struct fuse_init_in *in = (const void *)(h + 1);
	const size_t base = sizeof(*h) + offsetof(struct fuse_init_in, flags2);

	(void)userdata;
	if (__atomic_load_n(&shim.done, __ATOMIC_ACQUIRE) ||
	    n < (ssize_t)base || h->opcode != FUSE_INIT)
		return n;
	shim.offered = in->flags;
	if ((in->flags & FUSE_INIT_EXT) &&
	    (size_t)n >= base + sizeof(in->flags2))
		shim.offered |= (uint64_t)in->flags2 << 32;
	shim.unique = h->unique;
	return n;
}

static ssize_t shim_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	const size_t need = offsetof(struct fuse_init_out, flags2) +
			    sizeof(((struct fuse_init_out *)0)->flags2);

	(void)userdata;
	/* every reply passes here: after INIT, one load and on */
	if (!__atomic_load_n(&shim.done, __ATOMIC_ACQUIRE) && shim.unique &&
	    count >= 2 && iov[0].iov_len >= sizeof(struct fuse_out_header) &&
	    ((struct fuse_out_header *)iov[0].iov_base)->unique ==
		shim.unique) {
		const struct fuse_out_header *oh = iov[0].iov_base;
		struct fuse_init_out *out = iov[1].iov_base;
		uint64_t add = shim.want & shim.offered;

		if (oh->error == 0 && iov[1].iov_len >= need && add) {
			out->flags |= (uint32_t)add;
			if (add >> 32) {
				out->flags |= FUSE_INIT_EXT;
				out->flags2 |= (uint32_t)(add >> 32);
			}
		}
		shim.unique = 0;
		__atomic_store_n(&shim.done, 1, __ATOMIC_RELEASE);
	}
	return writev(fd, iov, count);
}

static ssize_t shim_splice_receive(int fdin, off_t *offin, int fdout,
				   off_t *offout, size_t len,
				   unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

static ssize_t shim_splice_send(int fdin, off_t *offin, int fdout,
				off_t *offout, size_t len, unsigned int flags,
				void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

int mmfs_init_shim_install(struct fuse_session *se, uint64_t want)
{
	const struct fuse_custom_io io = {
	    .read = shim_read,
	    .writev = shim_writev,
	    /* without these libfuse would stop offering splicing */
	    .splice_receive = shim_splice_receive,
	    .splice_send = shim_splice_send,
	};

	shim.want = want;
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}
