#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run tests/stress against a live mount with a tiny budget (so windows are
# evicted all the time) and a short sync interval, then check that the
# daemon survived, stops cleanly, and logged nothing but the faults the
# truncator provokes. STRESS_SECONDS (default 180), STRESS_WORKERS (default
# 4) and STRESS_OPTS (more -o options, e.g. cache=auto) may be set in the
# environment.
set -eu

. "$(dirname "$0")/lib.sh"
STRESS="${STRESS_BIN:?}"
SECS="${STRESS_SECONDS:-180}"
WORKERS="${STRESS_WORKERS:-4}"

mmfs_need_fuse stress
mmfs_tree memmapfs-stress
mmfs_start -o window=256K,max_mapped=2M,sync=periodic,sync_interval=0.5${STRESS_OPTS:+,$STRESS_OPTS}

echo "  $WORKERS workers and a truncator for $SECS s, max_mapped=2M"
rc=0
timeout $((SECS + 120)) "$STRESS" "$MNT" "$SRC" "$SECS" "$WORKERS" || rc=$?
mountpoint -q "$MNT" || { echo "the daemon is gone"; cat "$T/daemon.log"; exit 1; }
getfattr -n user.memmapfs.stats --only-values "$MNT" 2>/dev/null |
	grep -E '"(windows_evicted|sigbus_recovered|msync_calls|bytes_released)"' | tr -d ',' |
	sed 's/^ */  /'
kill -TERM "$PID"
status=0
wait "$PID" || status=$?
PID=""
# Faults on files cut short behind the mount are expected: the daemon
# reports them, and libfuse says "Bad address" when the kernel could not
# copy a reply from a page that vanished (the reader then gets EIO), and
# a read past the new end of a cut file that the kernel was promised is
# answered EIO and logged. The workers check that no file they share (never
# cut) gives EIO; these lines can only come from the truncator's files.
# Every other warning, error, libfuse message or sanitizer report fails
# the run; plain start-up and shutdown lines do not.
if grep -Ei -e "warning|error|fuse:|==[0-9]+==|runtime error" "$T/daemon.log" |
	grep -v -e "fault on mapped memory" \
	-e "answered EIO: the file was cut short behind the mount" \
	-e "fuse: writing device: Bad address" | grep -q .; then
	echo "unexpected daemon messages:"
	cat "$T/daemon.log"
	rc=1
fi
[ "$status" -eq 0 ] || { echo "daemon exit status $status"; rc=1; }
[ "$rc" -eq 0 ] && echo "  stress: no data lost or corrupted, daemon alive"
exit "$rc"
