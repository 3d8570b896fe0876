# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the mount-based shell suites (programs, conformance, memcheck,
# stress): the skip rule, a temporary tree, starting the daemon, and the
# cleanup. Source it after `set -eu`. Sets BIN.
BIN="${MEMMAPFS_BIN:-$(pwd)/memmapfs}"

# mmfs_need_fuse WHAT: without /dev/fuse, skip loudly (exit 0), except
# under CI=true, where a mount test may never skip.
mmfs_need_fuse() {
	[ -e /dev/fuse ] && return 0
	echo "!!! SKIPPING $1: /dev/fuse is missing here !!!" >&2
	[ "${CI:-}" = true ] && { echo "CI=true: may not skip" >&2; exit 1; }
	exit 0
}

# mmfs_tree NAME: a new directory T under /var/tmp with SRC=$T/src and
# MNT=$T/mnt, removed again (daemon stopped, mount gone) on exit.
mmfs_tree() {
	T=$(mktemp -d "/var/tmp/$1.XXXXXX")
	SRC=$T/src MNT=$T/mnt
	mkdir -p "$SRC" "$MNT"
	PID=""
	trap mmfs_cleanup EXIT INT TERM
}

mmfs_cleanup() {
	cd /
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	# also when the daemon died (a dead mount is no "mountpoint")
	umount -l "$MNT" 2>/dev/null || true
	rm -rf --one-file-system "$T"
}

# Whether memmapfs is mounted on $MNT (a dead daemon's mount is not).
mmfs_mounted() {
	awk -v m="$MNT" '$5 == m && / - fuse\.memmapfs / { f = 1 } END { exit !f }' \
		/proc/self/mountinfo && mountpoint -q "$MNT"
}

# mmfs_start [ARG...]: memmapfs -f ARG... $SRC $MNT in the background
# (PID), its stderr in $T/daemon.log, prefixed by $MMFS_WRAP (e.g.
# valgrind and its options) when set; returns once the mount is up (at
# most 30 s), or exits with the daemon's log.
mmfs_start() {
	# shellcheck disable=SC2086
	${MMFS_WRAP:-} "$BIN" -f "$@" "$SRC" "$MNT" 2>"$T/daemon.log" &
	PID=$!
	for _ in $(seq 300); do
		mmfs_mounted && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "the mount did not come up:"
	cat "$T/daemon.log"
	exit 1
}
