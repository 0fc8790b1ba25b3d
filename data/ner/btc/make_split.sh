#!/bin/sh
# make_split.sh: the Broad Twitter Corpus split its README recommends,
# written as the train.conll and dev.conll that ner-btc.pipe reads:
#   test  = section F (f.conll, read as it is)
#   dev   = the second half of section H: its tweets ceil(n/2)+1 .. n
#           (n = 2,001: the last 1,000), in file order
#   train = sections A, B, E, G and the first half of H, in that order,
#           with the user mentions of section B tagged as the others tag
#           them (see mentions below)
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
# mentions: a user mention is "@" then the user name.  Sections E, F, G
# and H (and so dev and test) tag the "@" as its own entity of the
# user's type ("@ B-PER", "name B-PER"); section B mostly leaves it O
# ("@ O", "name B-PER").  Trained on both, the tagger learnt to leave
# later mentions out as it fitted section B (on dev, by its 7th epoch it
# found 9% fewer than by its 2nd), so early stopping kept a model of two
# epochs.  An "@" tagged O right before a name tagged B-PER or B-ORG
# takes the name's tag (395 tokens, all in B).  Before a name tagged
# B-LOC it stays O: there the "@" may be the word "at".  Dev and test
# are read as the corpus has them.
mentions() {
	awk 'BEGIN { FS = OFS = "\t" }
		held != "" { tag = (NF >= 2 && $1 != "@" && $1 != "" &&
				($2 == "B-PER" || $2 == "B-ORG")) ? $2 : "O"
			print "@", tag; held = "" }
		$0 == "@\tO" { held = $0; next }
		{ print }
		END { if (held != "") print held }'
}
n=$(awk '/^[ \t]*$/ { if (open) n++; open = 0; next } { open = 1 }
	END { if (open) n++; print n }' "$here/h.conll")
first=$(( (n + 1) / 2 ))
{
	for s in a b e g; do tweets "$here/$s.conll" 0 999999999; done
	tweets "$here/h.conll" 0 "$first"
} | mentions > "$out/train.conll"
tweets "$here/h.conll" "$first" "$n" > "$out/dev.conll"
