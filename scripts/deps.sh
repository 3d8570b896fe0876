#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian packages memmapfs needs to build and test it, and do
# nothing (quickly) when they are all present. Uses sudo when not root.
set -eu

PACKAGES="gcc libc6-dev make pkg-config libfuse3-dev libglib2.0-dev fuse3 \
check attr sqlite3 git tar diffutils util-linux groff-base mandoc \
man-db systemd python3 \
libpython3.11-testsuite"
[ $# -gt 0 ] && PACKAGES="$*"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "memmapfs: please install:$missing (no apt-get here)" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "memmapfs: missing packages:$missing; run as root" \
			"or install sudo" >&2
		exit 1
	fi
	SUDO=sudo
fi
echo "memmapfs: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# the package lists once per machine: a later call (the benchmark's, say)
# installs from the lists the first one fetched
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -qq --no-install-recommends $missing \
	2>/dev/null; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends $missing
fi
