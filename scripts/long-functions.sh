#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Functions (and Check test cases) longer than LIMIT lines (default 60) in
# src/ and tests/,
# except those whose opening comment says why ("Long: ..."). Prints them
# and exits 1, or exits 0.
set -eu
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-60}
awk -v limit="$LIMIT" '
	FNR == 1 { why = 0; comment = "" }
	/^\/\*/ { comment = ""; incomment = 1 }
	incomment { comment = comment $0; if ($0 ~ /\*\//) incomment = 0; next }
	/^START_TEST\(/ { name = $0; sub(/^START_TEST\(/, "", name); sub(/\).*/, "", name);
		why = (comment ~ /Long:/); comment = ""; next }
	/^[a-zA-Z].*\(/ && !/;$/ { name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name);
		why = (comment ~ /Long:/); comment = ""; next }
	/^\{$/ { start = FNR; next }
	/^\}/ && start { n = FNR - start + 1;
		if (n > limit && !why) { printf "%s: %s is %d lines\n", FILENAME, name, n; bad = 1 }
		start = 0; why = 0 }
	END { exit bad }
' src/*.c tests/*.c tests/fuzz/*.c && echo "  functions: none over $LIMIT lines without a reason"
