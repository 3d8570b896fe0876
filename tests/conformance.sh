#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# External conformance: run CPython's own regression tests for files and
# directories (Debian's libpython3.11-testsuite: os, posix, shutil, stat,
# mmap, fcntl, tarfile, io, ...) once in a native directory and once inside
# a memmapfs mount, and require the same outcome for every test case.
set -eu

. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
TESTS="${CONFORMANCE_TESTS:-test_os test_posix test_shutil test_stat \
test_fileio test_mmap test_tempfile test_glob test_pathlib test_fcntl \
test_tarfile test_genericpath test_posixpath test_filecmp test_file \
test_zipfile test_io}"

mmfs_need_fuse conformance
if ! $PY -c 'import test.libregrtest' 2>/dev/null; then
	echo "conformance needs Debian's python3 test suite:" \
		"make deps (libpython3.11-testsuite)" >&2
	exit 1
fi

# Short paths of equal length for both runs: some tests bind AF_UNIX
# sockets in their working directory (at most 108 bytes, and the name
# carries a pid) and skip when the path is too long, which must not
# depend on where they ran.
mmfs_tree mmc
mkdir -p "$T/nat"
mmfs_start

run_suite() { # $1 = directory to run in, $2 = junit output
	# shellcheck disable=SC2086
	(cd "$1" && TMPDIR="$1" timeout 900 $PY -m test -j2 \
		--junit-xml "$2" $TESTS >"$2.log" 2>&1) || true
}
echo "  running the suite natively and through the mount..."
run_suite "$T/nat" "$T/native.xml"
run_suite "$T/mnt" "$T/mount.xml"

$PY - "$T/native.xml" "$T/mount.xml" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET

def outcomes(path):
    out = {}
    for tc in ET.parse(path).getroot().iter("testcase"):
        state = "passed"
        for child in tc:
            if child.tag in ("skipped", "failure", "error"):
                state = child.tag
        out[tc.get("classname", "") + "." + tc.get("name", "")] = state
    return out

native, mount = outcomes(sys.argv[1]), outcomes(sys.argv[2])
diff = sorted(k for k in native.keys() | mount.keys()
              if native.get(k) != mount.get(k))
counts = {}
for state in native.values():
    counts[state] = counts.get(state, 0) + 1
print("  %d test cases natively %s; %d differ through the mount"
      % (len(native), counts, len(diff)))
for k in diff[:50]:
    print("    %s: native %s, mount %s" % (k, native.get(k), mount.get(k)))
if len(native) < 300 or diff:
    sys.exit(1)
PYEOF
kill "$PID"
wait "$PID"
PID=""
