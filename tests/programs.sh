#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Real programs inside a memmapfs mount: git, sqlite3 (rollback journal and
# WAL, whose -shm file is mmap'ed), tar + diff -r, and a C build of memmapfs
# itself. Every result is also checked against the backing directory.
set -eu

HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/tests/lib.sh"

mmfs_need_fuse "program tests"
mmfs_tree memmapfs-programs
mmfs_start

step() { printf '  %-64s' "$1"; }
ok() { echo ok; }

step "git init, commit, fsck"
(
	cd "$MNT" && mkdir repo && cd repo
	git init -q .
	git config user.email t@example.com && git config user.name tester
	cp -r "$HERE/src" "$HERE/include" .
	git add -A && git commit -q -m first
	echo change >> src/main.c && git commit -q -am second
	git gc -q
	git fsck --full --strict 2>&1
	test "$(git rev-list --count HEAD)" = 2
) >"$T/git.log" 2>&1 || { cat "$T/git.log"; exit 1; }
ok

step "sqlite3: 100k rows, rollback journal and WAL, integrity_check"
for mode in delete wal; do
	out=$(sqlite3 "$MNT/$mode.db" <<SQL
PRAGMA journal_mode=$mode;
CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<100000)
INSERT INTO t SELECT x, hex(randomblob(16)), x*1.5 FROM c;
CREATE INDEX t_v ON t(v);
DELETE FROM t WHERE id % 7 = 0;
PRAGMA integrity_check;
SELECT count(*) FROM t;
SQL
)
	echo "$out" | grep -qx ok || { echo "$out"; exit 1; }
	echo "$out" | grep -qx 85715 || { echo "$out"; exit 1; }
done
# the backing copy is the same database
test "$(sqlite3 "$SRC/delete.db" 'PRAGMA integrity_check;')" = ok
ok

step "tar x of a source tree, diff -r against the original"
ORIG=/usr/include/glib-2.0
tar -C "$(dirname $ORIG)" -cf "$T/tree.tar" "$(basename $ORIG)"
mkdir "$MNT/untar"
tar -C "$MNT/untar" -xf "$T/tree.tar"
diff -r "$ORIG" "$MNT/untar/$(basename $ORIG)"
diff -r "$ORIG" "$SRC/untar/$(basename $ORIG)"
tar -C "$MNT/untar" -cf "$T/back.tar" "$(basename $ORIG)"
rm -rf "$MNT/untar"
test ! -e "$SRC/untar"
ok

step "build memmapfs inside the mount"
mkdir "$MNT/proj"
cp -r "$HERE/src" "$HERE/include" "$HERE/Makefile" "$HERE/scripts" \
	"$MNT/proj/"
env -u MAKEFLAGS -u MFLAGS -u SANITIZE make -s -C "$MNT/proj" NODEPS=1 memmapfs >"$T/build.log" 2>&1 ||
	{ cat "$T/build.log"; exit 1; }
"$MNT/proj/memmapfs" --version | grep -q memmapfs
cmp "$MNT/proj/memmapfs" "$SRC/proj/memmapfs"
ok

step "the mount and the backing directory agree"
diff -r --no-dereference "$MNT" "$SRC"
ok

kill "$PID"
wait "$PID" || { echo "daemon exit status $?"; cat "$T/daemon.log"; exit 1; }
PID=""
if grep -Eqi "warning|error" "$T/daemon.log"; then
	cat "$T/daemon.log"; exit 1
fi
echo "  programs: all passed"
