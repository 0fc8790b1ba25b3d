#!/usr/bin/env bash
# t_fuzz.sh: every fuzz target, built as a plain program (fuzz/driver.c),
# over its seed corpus (fuzz/corpus/T) and its crash-regression inputs
# (fuzz/regress/T): one TAP line per input.  An input that crashes, trips
# a sanitizer or leaks (in an ASan build) fails, naming the input.
. "$(dirname "$0")/../tests/tap.sh"
for t in pipe lines conll tsv modelfile vocab runlog tokenizers \
	parallel ptb fasta genbank; do
	prog="$top_builddir/fuzz/fuzz_$t"
	for kind in corpus regress; do
		dir="$top_srcdir/fuzz/$kind/$t"
		[ -d "$dir" ] || continue
		"$prog" "$dir" >"$work/driver" 2>&1
		drc=$?
		# the driver's own lines, renumbered into this script's plan
		while IFS= read -r line; do
			case "$line" in
			"ok "*) ok 0 "$t/$kind: ${line##*/}" ;;
			"not ok "*) ok 1 "$t/$kind: ${line#* - }" ;;
			esac
		done <"$work/driver"
		if [ $drc -ne 0 ]; then
			last=$(grep '^# ' "$work/driver" | tail -n 1)
			ok 1 "$t/$kind: exit $drc on${last#\#}"
			grep -v '^ok \|^# \|^1\.\.' "$work/driver" | head -n 40 | sed 's/^/# /'
		fi
	done
done
tap_done
