#!/usr/bin/env bash
# t_exports.sh: the shared library exports exactly the public API: the
# symbols `nm -D --defined-only` lists are those of core/libseqpipe.sym,
# and each of those is declared in an installed header (so nothing private
# leaks out, and nothing public is left out).  Needs SEQPIPE_HEADERS.
. "$(dirname "$0")/tap.sh"
lib="$top_builddir/core/.libs/libseqpipe.so"
if [ ! -e "$lib" ] || ! command -v nm >/dev/null; then
	echo "1..0 # SKIP no shared libseqpipe or no nm"
	exit 0
fi
# defined code and data, without the linker's own (_init, _fini, ...)
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRBVWG]$/ && $3 !~ /^_/ {print $3}' | sort -u >"$work/exported"
sort -u "$top_srcdir/core/libseqpipe.sym" >"$work/listed"
count=$(wc -l <"$work/exported")
diff "$work/listed" "$work/exported" >"$work/diff"
ok $? "libseqpipe.so exports exactly the $(wc -l <"$work/listed") symbols of core/libseqpipe.sym ($count exported$( [ -s "$work/diff" ] && echo "; differences: $(tr '\n' ' ' <"$work/diff")"))"
missing=
for s in $(cat "$work/listed"); do
	found=
	for h in $SEQPIPE_HEADERS; do
		if grep -Eq "\\b$s\\(" "$top_srcdir/$h"; then found=1; break; fi
	done
	[ -n "$found" ] || missing="$missing $s"
done
[ -z "$missing" ]
ok $? "every exported symbol is declared in an installed header${missing:+ (not:$missing)}"
for s in sp_runner_run sp_registry_find sp_runlog_open sp_pipe_parse_file sp_kv_new sp_optim_new; do
	! grep -qx "$s" "$work/exported"
	ok $? "the host's $s is not exported"
done
echo "# $count public symbols"
tap_done
