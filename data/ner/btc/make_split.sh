#!/bin/sh
# make_split.sh: the Broad Twitter Corpus split its README recommends,
# written as the train.conll and dev.conll that ner-btc.pipe reads:
#   test  = section F (f.conll, read as it is)
#   dev   = the second half of section H: its tweets ceil(n/2)+1 .. n
#           (n = 2,001: the last 1,000), in file order
#   train = sections A, B, E, G and the first half of H, in that order
# A tweet is a run of lines ended by an empty line (or a line of spaces
# only: f.conll has one).  Deterministic: the same input gives the same
# bytes.  Usage (from anywhere):  sh data/ner/btc/make_split.sh [OUTDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
# tweets FILE LO HI: the tweets of FILE with index in (LO, HI] (from 1),
# each as its lines and one empty line.
tweets() {
	awk -v lo="$2" -v hi="$3" '
		function end_() { n++; if (n > lo && n <= hi) print ""; open = 0 }
		/^[ \t]*$/ { if (open) end_(); next }
		{ open = 1; if (n + 1 > lo && n + 1 <= hi) print }
		END { if (open) end_() }' "$1"
}
n=$(awk '/^[ \t]*$/ { if (open) n++; open = 0; next } { open = 1 }
	END { if (open) n++; print n }' "$here/h.conll")
first=$(( (n + 1) / 2 ))
{
	for s in a b e g; do tweets "$here/$s.conll" 0 999999999; done
	tweets "$here/h.conll" 0 "$first"
} > "$out/train.conll"
tweets "$here/h.conll" "$first" "$n" > "$out/dev.conll"
