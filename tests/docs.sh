#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The documentation is in step with the options: every option --help lists
# is described in the man page and the README, every option the config file
# takes is shown in the example config, and the man page lints clean.
set -eu
BIN="${MEMMAPFS_BIN:-./memmapfs}"
TOP=$(cd "$(dirname "$0")/.." && pwd)
fail=0

opts=$("$BIN" --help | grep -oE -- '-o [a-z_]+=?' | sed 's/^-o //' | grep -vx opt | sort -u)
[ -n "$opts" ] || { echo "no options in --help?"; exit 1; }
# whole words: "lock" must not be found in "block"
for o in $opts; do
	name=${o%=}
	grep -qw -- "$name" "$TOP/man/memmapfs.8" ||
		{ echo "  man page does not describe $o"; fail=1; }
	grep -qE -- "-o $name([^a-z_]|\$)" "$TOP/README.md" ||
		{ echo "  README does not describe -o $o"; fail=1; }
done
# the keys --print-config shows are the option table's [global] keys
keys=$("$BIN" --print-config / | sed -n 's/^\([a-z_]*\) = .*/\1/p' | grep -vx source)
[ -n "$keys" ] || { echo "no keys in --print-config?"; exit 1; }
for key in $keys; do
	grep -q "^$key *=" "$TOP/config/memmapfs.conf" ||
		{ echo "  example config does not show $key"; fail=1; }
done
# every statistics counter is named in the man page and the README
for key in $(sed -n 's/^[[:space:]]*X(\([a-z_]*\),.*/\1/p' \
	"$TOP/include/memmapfs/stats.h"); do
	grep -qw -- "$key" "$TOP/man/memmapfs.8" ||
		{ echo "  man page does not name the counter $key"; fail=1; }
	grep -qw -- "$key" "$TOP/README.md" ||
		{ echo "  README does not name the counter $key"; fail=1; }
done
lint=$(groff -ww -t -man -z "$TOP/man/memmapfs.8" 2>&1)
[ -z "$lint" ] || { echo "  man page lint: $lint"; fail=1; }
[ $fail = 0 ] && echo "  docs: options, man page, README and config agree"
exit $fail
