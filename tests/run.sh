#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run the test binaries named on the command line (from $TEST_DIR), then the
# real-program tests, and report every failure. Each binary runs under a hard
# timeout so that a hung mount can never hang `make check`.
set -u
: "${TEST_DIR:?}" "${MEMMAPFS_BIN:?}"
export MEMMAPFS_BIN
export CK_FORK=yes
export CK_DEFAULT_TIMEOUT="${CK_DEFAULT_TIMEOUT:-60}"
here=$(cd "$(dirname "$0")" && pwd)

failed=""
for t in "$@"; do
	echo "=== $t"
	timeout -k 10 900 "$TEST_DIR/$t" || failed="$failed $t"
done
echo "=== fuzz corpus and regressions, replayed"
for t in ${FUZZ_TARGETS:-}; do
	"$TEST_DIR/replay_$t" "$here/fuzz/corpus/$t" "$here/fuzz/regressions/$t" ||
		failed="$failed replay_$t"
done
echo "=== docs"
"$here/docs.sh" || failed="$failed docs"
echo "=== install (staged make install, units, man page, mount -t, fstab)"
timeout -k 10 300 "$here/install.sh" || failed="$failed install"
echo "=== programs (git, sqlite3, tar, a C build inside the mount)"
timeout -k 10 900 "$here/programs.sh" || failed="$failed programs"
echo "=== conformance (CPython's file and directory tests, native vs mount)"
timeout -k 10 1200 "$here/conformance.sh" || failed="$failed conformance"

if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "all tests passed"
