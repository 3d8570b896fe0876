#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# No two modules may depend on each other, directly or around a loop. A
# module is src/NAME.c with include/memmapfs/NAME.h; it depends on every
# memmapfs header that its source or its header includes. tsort(1) finds
# the loops. Prints them and exits 1, or exits 0.
set -eu
cd "$(dirname "$0")/.."
edges=$(for f in src/*.c include/memmapfs/*.h; do
	m=$(basename "$f"); m=${m%.*}
	sed -n 's|^#include "memmapfs/\([a-z_]*\)\.h".*|\1|p' "$f" |
		while read -r dep; do
			[ "$dep" = "$m" ] || echo "$m $dep"
		done
done)
if ! out=$(echo "$edges" | tsort 2>&1 >/dev/null) || [ -n "$out" ]; then
	echo "include cycle between modules:"
	echo "$out" | sed -n 's/^tsort: //p'
	exit 1
fi
echo "  includes: no cycle between modules"
