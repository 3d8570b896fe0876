#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The power-cut harness (make powercut; .ci/run runs the short form).
#
#   run.sh [short|long]
#
# Each case: SOURCE is a fresh ext4 (long form: also xfs) on a loop device
# whose backing file is served by cutdev (a disk with a volatile write
# cache: only what a flush covered is durable), memmapfs is mounted on it
# with a sync mode (with and without -o writeback), and the workload writes
# through the mount, logging what it was told and when. At the chosen
# moment the workload has cutdev cut the power: the image of what was
# flushed is saved at once, later writes are dropped. The image is then
# mounted elsewhere (the filesystem recovers its journal) and check.py
# holds it to the mode's promise (README, "Durability"). Last, the
# converse: the daemon under tests/powercut/nosync.c (its msync, fsync,
# fdatasync, syncfs and sync_file_range do nothing) must be caught losing
# acknowledged writes, or the harness proves nothing.
#
# Needs root (loop devices, mounts). POWERCUT_CASES="mode:wb:cut:fs ..."
# runs just those (wb is "" or writeback; cut as workload.c takes it).
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
FORM=${1:-short}
BIN=${MEMMAPFS_BIN:-$TOP/memmapfs}
HERE=$TOP/tests/powercut

if [ "$(id -u)" -ne 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "powercut: needs root (loop devices, mounts)" >&2
		exit 1
	fi
	echo "SKIP: powercut: needs root (loop devices, mounts)"
	exit 0
fi
"$TOP/scripts/deps.sh" gcc libc6-dev pkg-config libfuse3-dev fuse3 \
	libsqlite3-dev python3 e2fsprogs xfsprogs attr util-linux
[ -x "$BIN" ] || { echo "powercut: no daemon at $BIN" >&2; exit 1; }

B=$(mktemp -d /var/tmp/memmapfs-powercut.XXXXXX)
KIDS="" # every daemon and cutdev started, killed at the end whatever happened
cleanup() {
	for p in $KIDS; do kill -9 "$p" 2>/dev/null || true; done
	for m in "$B"/*/mnt "$B"/*/src "$B"/*/chk; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	for d in "$B"/*/dev; do
		mountpoint -q "$d" 2>/dev/null && fusermount3 -uz "$d"
	done
	losetup -a 2>/dev/null | grep -F "$B" | cut -d: -f1 |
		xargs -r -n1 losetup -d 2>/dev/null || true
	rm -rf --one-file-system "$B"
}
trap cleanup EXIT INT TERM

FUSE_FLAGS=$(pkg-config --cflags --libs fuse3)
# shellcheck disable=SC2086
gcc -O2 -Wall -Werror -o "$B/cutdev" "$HERE/cutdev.c" $FUSE_FLAGS -lpthread
gcc -O2 -Wall -Werror -o "$B/workload" "$HERE/workload.c" -lsqlite3
gcc -O2 -Wall -Werror -shared -fPIC -o "$B/nosync.so" "$HERE/nosync.c"

wait_for() { # test-expression...: up to 10 s
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

INTERVAL=0.5
N=0
# one_case MODE WB CUT FS [PRELOAD]: 0 if the promises held, 1 if one was
# broken, 2 if the case could not run
one_case() {
	mode=$1 wb=$2 cut=$3 fs=$4 preload=${5:-}
	N=$((N + 1))
	W=$B/$N
	mkdir -p "$W/dev" "$W/src" "$W/mnt" "$W/chk"
	size=64
	[ "$fs" = xfs ] && size=320
	"$B/cutdev" "$W/dev" "$size" "$W/cut.img" >"$W/cutdev.log" 2>&1 &
	CD=$!
	KIDS="$KIDS $CD"
	wait_for test -e "$W/dev/disk" || { echo "cutdev did not start"; cat "$W/cutdev.log"; return 2; }
	LOOP=$(losetup -f --show "$W/dev/disk")
	"mkfs.$fs" -q "$LOOP" >/dev/null 2>&1 || "mkfs.$fs" -q -f "$LOOP" >/dev/null
	mount "$LOOP" "$W/src"
	opts=sync=$mode,sync_interval=$INTERVAL${wb:+,$wb}
	env ${preload:+LD_PRELOAD=$preload} "$BIN" -f -o "$opts" "$W/src" \
		"$W/mnt" 2>"$W/daemon.log" &
	MP=$!
	KIDS="$KIDS $MP"
	wait_for mountpoint -q "$W/mnt" || { echo "memmapfs did not mount"; cat "$W/daemon.log"; return 2; }
	timeout 60 "$B/workload" "$W/mnt" "$W/log" "$CD" "$cut" 4 ||
		{ echo "  workload failed ($mode $wb $cut $fs)"; return 2; }
	wait_for test -e "$W/cut.img.cut" || { echo "no cut"; return 2; }
	longest=$(getfattr -n user.memmapfs.stats --only-values "$W/mnt" 2>/dev/null |
		sed -n 's/.*"longest_sync_pass_us": *\([0-9]*\).*/\1/p')
	# the power is off: nothing the daemon or the kernel does now counts
	kill -9 "$MP"
	wait "$MP" 2>/dev/null || true
	fusermount3 -uz "$W/mnt" 2>/dev/null || umount -l "$W/mnt"
	umount "$W/src" 2>/dev/null || umount -l "$W/src"
	losetup -d "$LOOP"
	fusermount3 -u "$W/dev"
	wait "$CD" 2>/dev/null || true
	# power back on: the saved image, mounted elsewhere, recovers
	mount -o loop "$W/cut.img" "$W/chk" ||
		{ echo "  the image does not mount ($mode $wb $cut $fs)"; return 2; }
	rc=0
	python3 "$HERE/check.py" "$W/chk" "$W/log" "$W/cut.img.cut" "$mode" \
		"$INTERVAL" "$(awk -v u="${longest:-0}" 'BEGIN {print u / 1e6}')" \
		>"$W/check.out" || rc=1
	umount "$W/chk"
	printf '  %-9s %-9s %-10s %-4s %s\n' "$mode" "${wb:-"-"}" "$cut" "$fs" \
		"$(head -1 "$W/check.out" | sed 's/^ *[a-z]*: //')"
	sed -n 's/^  BROKEN/      BROKEN/p' "$W/check.out"
	rm -f "$W/cut.img"
	return $rc
}

if [ "$FORM" = long ]; then
	CUTS="time:150 time:700 time:1600 time:2900 fsync:1 fsync:5 close:2 close:12"
	FSES="ext4 xfs"
else
	CUTS="time:900 fsync:2 close:4 time:1700"
	FSES="ext4"
fi
CASES=${POWERCUT_CASES:-}
if [ -z "$CASES" ]; then
	i=0
	for fs in $FSES; do
		for mode in immediate periodic close never; do
			for wb in "" writeback; do
				if [ "$FORM" = long ]; then
					for cut in $CUTS; do
						CASES="$CASES $mode:$wb:$cut:$fs"
					done
				else # one cut a case, turning through them
					set -- $CUTS
					shift $((i % $#))
					CASES="$CASES $mode:$wb:$1:$fs"
					i=$((i + 1))
				fi
			done
		done
	done
fi

echo "powercut ($FORM): mode, cache, cut, fs: what was checked"
failed=0
for c in $CASES; do
	IFS=: read -r mode wb kind n fs <<EOF
$c
EOF
	one_case "$mode" "$wb" "$kind:$n" "$fs" || failed=$((failed + 1))
done

# the converse: with syncs that do nothing, the loss must be seen, as a
# broken promise of the mode (not a case that failed to run)
echo "powercut: the converse, msync/fsync/fdatasync doing nothing (must be BROKEN):"
rc=0
one_case immediate "" time:1500 ext4 "$B/nosync.so" || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "BROKEN sync=immediate:" "$W/check.out"; then
	echo "powercut: FAIL: the harness did not see the loss of a daemon whose syncs do nothing"
	failed=$((failed + 1))
fi
if [ "$failed" -ne 0 ]; then
	echo "powercut: FAIL: $failed case(s)"
	exit 1
fi
echo "powercut: every promise held, and the do-nothing-sync daemon was caught"
