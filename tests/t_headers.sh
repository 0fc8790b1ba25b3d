#!/usr/bin/env bash
# t_headers.sh: every installed header compiles on its own, and after each
# other one, as strict C99 (-std=c99 -pedantic -Werror): a plugin author may
# include them in any order with any standard from C99 on.
# Needs CC and SEQPIPE_HEADERS (the installed headers, from tests/tests.mk).
. "$(dirname "$0")/tap.sh"
CC=${CC:-cc}
mkdir "$work/inc"
# the headers as they are installed: one flat folder
for h in $SEQPIPE_HEADERS; do cp "$top_srcdir/$h" "$work/inc/"; done
names=$(for h in $SEQPIPE_HEADERS; do basename "$h"; done)
cc_check() { # description, lines of the translation unit...
	local what=$1
	shift
	printf '%s\n' "$@" 'int sp_header_test_(void);' 'int sp_header_test_(void) { return 0; }' >"$work/t.c"
	$CC -std=c99 -pedantic -Werror -Wall -Wextra -Wstrict-prototypes -I"$work/inc" \
		-c "$work/t.c" -o "$work/t.o" 2>"$work/err"
	ok $? "$what$( [ -s "$work/err" ] && echo ": $(head -c 400 "$work/err" | tr '\n' ' ')")"
}
for h in $names; do
	cc_check "$h alone" "#include <$h>"
	cc_check "$h twice" "#include <$h>" "#include <$h>"
done
for a in $names; do
	for b in $names; do
		[ "$a" = "$b" ] && continue
		cc_check "$b after $a" "#include <$a>" "#include <$b>"
	done
done
tap_done
