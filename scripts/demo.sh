#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make run`: mount a ready example. Makes DEMO/source (once) with a few
# files, mounts it on DEMO/mnt with memmapfs and says what to try.
set -eu
BIN=$1
DEMO=$2
mkdir -p "$DEMO/source" "$DEMO/mnt"
DEMO=$(cd "$DEMO" && pwd)

if mountpoint -q "$DEMO/mnt"; then
	echo "memmapfs is already serving $DEMO/mnt ('make stop' unmounts it)"
	exit 0
fi
if [ ! -e "$DEMO/source/README.txt" ]; then
	cat >"$DEMO/source/README.txt" <<TXT
This directory is served by memmapfs. Everything you do under mnt/ happens
to the files in source/ -- compare the two.
TXT
	seq 1 200000 >"$DEMO/source/numbers.txt"
	mkdir -p "$DEMO/source/notes"
	echo "remember the milk" >"$DEMO/source/notes/todo.txt"
	truncate -s 1G "$DEMO/source/sparse-1G.img"
fi

"$BIN" "$DEMO/source" "$DEMO/mnt"

cat <<TXT

memmapfs is serving $DEMO/source on $DEMO/mnt. Try:

    ls -l demo/mnt
    tail -3 demo/mnt/numbers.txt
    echo hello > demo/mnt/new.txt && cat demo/source/new.txt
    sqlite3 demo/mnt/test.db 'create table t(x); insert into t values (42); select * from t;'
    df -h demo/mnt; findmnt demo/mnt

Unmount with:   make stop      (or: fusermount3 -u demo/mnt)
TXT
