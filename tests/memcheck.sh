#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon under valgrind memcheck through a mount workload: create,
# write, read, rename, truncate, unlink, many files, xattrs, an application
# mmap, windows evicted under a small budget, then unmount. Fails on any
# invalid access or uninitialised use, and on any definite leak.
set -eu

. "$(dirname "$0")/lib.sh"

mmfs_need_fuse memcheck
mmfs_tree memmapfs-memcheck
MMFS_WRAP="valgrind --quiet --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite \
--log-file=$T/valgrind.log"
mmfs_start -o window=256K,max_mapped=2M,sync=periodic,sync_interval=0.2

(
	cd "$MNT"
	mkdir -p a/b/c
	for i in $(seq 200); do
		head -c $((i * 997)) /dev/urandom >"a/f$i"
	done
	cat a/f* >all
	cmp all "$SRC/all"
	mv all a/b/c/moved
	truncate -s 12345 a/b/c/moved
	truncate -s 3000000 a/b/c/moved
	dd if=/dev/zero of=big bs=64k count=64 status=none
	dd if=big of=/dev/null bs=1M status=none
	printf 'x' | dd of=big bs=1 seek=99999 conv=notrunc status=none
	setfattr -n user.k -v v a/f1
	getfattr -n user.k a/f1 >/dev/null
	getfattr -n user.memmapfs.stats . >/dev/null
	getfattr -n user.memmapfs.policy a/f2 >/dev/null
	setfattr -n user.memmapfs.sync -v immediate a/f3
	echo more >>a/f3
	python3 -c "
import mmap, os
fd = os.open('big', os.O_RDWR)
m = mmap.mmap(fd, 65536)
m[100:104] = b'MMAP'
m.flush(); m.close(); os.close(fd)"
	ln a/f5 hard
	ln -s a/f6 soft
	rm -f a/f1* hard soft
	ls -lR >/dev/null
	sync
) || { echo "workload failed"; exit 1; }
sleep 0.5 # let a sync pass run

kill -TERM "$PID"
status=0
wait "$PID" || status=$?
PID=""
# "==PID==" lines are reports; "--PID--" lines are valgrind's own notes
# (such as openat2 being unknown to it, which the daemon falls back from)
if [ "$status" -ne 0 ] || grep -q '^==' "$T/valgrind.log"; then
	echo "daemon exit status $status; valgrind says:"
	cat "$T/valgrind.log"
	exit 1
fi
echo "  memcheck: no invalid access, no definite leak"
