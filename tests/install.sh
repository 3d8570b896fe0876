#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The installed memmapfs as an administrator meets it: a staged
# `make install DESTDIR=...`, the systemd units through systemd-analyze
# verify, the man page through mandoc and groff, `mount -t fuse.memmapfs`
# and an fstab line (in a private mount namespace in which the staged bin
# directory stands in for /usr/local/bin, so the system is not touched),
# and `make uninstall`.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /var/tmp/memmapfs-install.XXXXXX)
STAGE=$T/stage
cleanup() { rm -rf --one-file-system "$T"; }
trap cleanup EXIT INT TERM
step() { printf '  %-64s' "$1"; }
ok() { echo ok; }

step "make install DESTDIR=... PREFIX=/usr/local"
env -u MAKEFLAGS -u MFLAGS -u SANITIZE make -s -C "$TOP" NODEPS=1 install DESTDIR="$STAGE" PREFIX=/usr/local \
	>"$T/install.log" 2>&1 || { cat "$T/install.log"; exit 1; }
for f in bin/memmapfs share/man/man8/memmapfs.8 \
	lib/systemd/system/memmapfs@.service \
	share/doc/memmapfs/memmapfs.conf \
	share/doc/memmapfs/examples/srv-data.mount; do
	test -e "$STAGE/usr/local/$f" || { echo "missing $f"; exit 1; }
done
grep -q "ExecStart=/usr/local/bin/memmapfs " \
	"$STAGE/usr/local/lib/systemd/system/memmapfs@.service"
ok

step "man page: mandoc -Tlint and groff -ww clean"
MAN=$STAGE/usr/local/share/man/man8/memmapfs.8
out=$(mandoc -Tlint -Wwarning "$MAN" 2>&1 || true)
[ -z "$out" ] || { echo "$out"; exit 1; }
out=$(groff -ww -t -man -z "$MAN" 2>&1)
[ -z "$out" ] || { echo "$out"; exit 1; }
ok

step "systemd-analyze verify: template instance and .mount unit"
mkdir "$T/units"
sed "s|/usr/local/bin/memmapfs|$STAGE/usr/local/bin/memmapfs|" \
	"$STAGE/usr/local/lib/systemd/system/memmapfs@.service" \
	>"$T/units/memmapfs@srv-data.service"
cp "$STAGE/usr/local/share/doc/memmapfs/examples/srv-data.mount" "$T/units/"
MANPATH=$STAGE/usr/local/share/man systemd-analyze verify \
	"$T/units/memmapfs@srv-data.service" "$T/units/srv-data.mount" \
	>"$T/verify.log" 2>&1 || { cat "$T/verify.log"; exit 1; }
ok

step "mount -t fuse.memmapfs, and an fstab line with mount -T"
mkdir -p "$T/src" "$T/mnt"
echo "through mount(8)" >"$T/src/file"
echo "$T/src $T/mnt fuse.memmapfs defaults,allow_other,sync=close 0 0" \
	>"$T/fstab"
cat >"$T/ns.sh" <<NS
set -eu
mount --bind "$STAGE/usr/local/bin" /usr/local/bin
mount -t fuse.memmapfs "$T/src" "$T/mnt" -o sync=periodic,sync_interval=2
findmnt -n -o FSTYPE "$T/mnt" | grep -qx fuse.memmapfs
grep -qx "through mount(8)" "$T/mnt/file"
getfattr -n user.memmapfs.stats --only-values "$T/mnt" |
	grep -q '"sync_interval_ms": 2000'
umount "$T/mnt"
mount -T "$T/fstab" "$T/mnt"
test "\$(getfattr -n user.memmapfs.sync --only-values "$T/mnt")" = close
findmnt -n -o OPTIONS "$T/mnt" | grep -q allow_other
umount "$T/mnt"
NS
timeout 60 unshare -m --propagation private sh "$T/ns.sh" \
	>"$T/ns.log" 2>&1 || { cat "$T/ns.log"; exit 1; }
ok

step "make uninstall removes it all"
env -u MAKEFLAGS -u MFLAGS -u SANITIZE make -s -C "$TOP" NODEPS=1 uninstall DESTDIR="$STAGE" PREFIX=/usr/local \
	>/dev/null
left=$(find "$STAGE" -type f)
[ -z "$left" ] || { echo "left behind: $left"; exit 1; }
ok
