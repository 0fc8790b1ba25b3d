#!/usr/bin/env bash
# t_fuzz.sh: every fuzz target, built as a plain program (fuzz/driver.c),
# over its seed corpus (fuzz/corpus/T) and its crash-regression inputs
# (fuzz/regress/T): one TAP line per input.  An input that crashes, trips
# a sanitizer or leaks (in an ASan build) fails, naming the input.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0
for t in pipe lines conll tsv modelfile vocab runlog tokenizers \
	parallel ptb fasta genbank; do
	prog="$top_builddir/fuzz/fuzz_$t"
	for kind in corpus regress; do
		dir="$top_srcdir/fuzz/$kind/$t"
		[ -d "$dir" ] || continue
		"$prog" "$dir" >"$out" 2>&1
		rc=$?
		# the driver's own lines, renumbered into this script's plan
		while IFS= read -r line; do
			case "$line" in
			"ok "*)
				n=$((n + 1))
				echo "ok $n - $t/$kind: ${line##*/}" ;;
			"not ok "*)
				n=$((n + 1))
				echo "not ok $n - $t/$kind: ${line#* - }" ;;
			esac
		done <"$out"
		if [ $rc -ne 0 ]; then
			last=$(grep '^# ' "$out" | tail -n 1)
			n=$((n + 1))
			echo "not ok $n - $t/$kind: exit $rc on${last#\#}"
			grep -v '^ok \|^# \|^1\.\.' "$out" | head -n 40 | sed 's/^/# /'
		fi
	done
done
echo "1..$n"
