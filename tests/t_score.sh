#!/usr/bin/env bash
# t_score.sh: `pipeline score REF HYP`: sacreBLEU's printed line and
# signature for the fixture, --json, --lowercase, --tokenize, .gz input,
# and the errors (missing file, unequal line counts naming both files and
# both counts, empty reference naming FILE:LINE, usage).
. "$(dirname "$0")/tap.sh"
F="$top_srcdir/tests/data/bleu"

run "$PIPELINE" --help
ok $(yes_if contains "$out" "score REF HYP") "--help lists score"
run "$PIPELINE" score --help
ok $(yes_if [ $rc -eq 0 ] && contains "$out" "usage: pipeline score") "score --help"

run "$PIPELINE" score "$F/ref.fr" "$F/hyp.alt.fr"
ok $(yes_if [ $rc -eq 0 ] && contains "$out" "BLEU = 19.51 61.5/29.7/13.2/6.0 (BP = 1.000 ratio = 1.003 hyp_len = 4766 ref_len = 4750)") \
	"the BLEU line is sacreBLEU 2.6.0's"
ok $(yes_if contains "$out" "signature: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:seqpipe-") \
	"the BLEU signature, with seqpipe's version"
ok $(yes_if contains "$out" "chrF2 = 55.70") "chrF2 = 55.70 as sacreBLEU"
ok $(yes_if contains "$out" "tokenized lowercased BLEU = " && contains "$out" "case:lc|eff:no|tok:13a|smooth:none") \
	"the tokenized lowercased BLEU is labelled and signed as such"

run "$PIPELINE" score "$F/ref.tok.txt" "$F/hyp.tok.txt" --json
ok $(yes_if [ $rc -eq 0 ] && contains "$out" '"bleu": {"score": 53.2978450768815' && contains "$out" '"counts": [72, 53, 39, 29]') \
	"--json: score and counts of the tokenizer stress set"
ok $(yes_if contains "$out" '"chrf": {"name": "chrF2", "score": 72.77245331935') "--json: chrF2"
if command -v python3 >/dev/null; then
	printf '%s\n' "$out" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null
	ok $? "--json is valid JSON"
else
	echo "ok $((n += 1)) # SKIP python3 absent"
fi

run "$PIPELINE" score "$F/ref.fr" "$F/hyp.alt.fr" --lowercase --tokenize none
ok $(yes_if [ $rc -eq 0 ] && contains "$out" "case:lc|eff:no|tok:none|smooth:exp" && contains "$out" "case:lc|eff:yes|nc:6") \
	"--lowercase --tokenize none show in both signatures"

gzip -c "$F/hyp.exact.fr" >hyp.fr.gz
run "$PIPELINE" score "$F/ref.fr" hyp.fr.gz
ok $(yes_if [ $rc -eq 0 ] && contains "$out" "BLEU = 100.00 100.0/100.0/100.0/100.0") "a .gz hypothesis"

"$PIPELINE" score "$F/ref.fr" - <"$F/hyp.alt.fr" >"$work/out" 2>&1
ok $(yes_if grep -q "BLEU = 19.51 61.5/29.7/13.2/6.0" "$work/out") "HYP - reads standard input"
run "$PIPELINE" score - -
ok $(yes_if [ $rc -eq 2 ] && contains "$err" "cannot both") "REF and HYP both - : exit 2"

run "$PIPELINE" score "$F/ref.fr" "$F/hyp.tok.txt"
ok $(yes_if [ $rc -eq 1 ] && contains "$err" "ref.fr has 1254 lines" && contains "$err" "hyp.tok.txt has 8" &&
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]) "unequal line counts: one line naming both files and counts ($err)"
run "$PIPELINE" score "$F/ref.fr" missing.txt
ok $(yes_if [ $rc -eq 1 ] && contains "$err" "missing.txt: cannot open") "missing file ($err)"
printf 'a b\n\nc\n' >ref.txt
printf 'a b\nx\nc\n' >hyp.txt
run "$PIPELINE" score ref.txt hyp.txt
ok $(yes_if [ $rc -eq 1 ] && contains "$err" "ref.txt:2" && contains "$err" "empty reference") \
	"an empty reference names FILE:LINE ($err)"
printf 'caf\xc3\n' >bad.txt
run "$PIPELINE" score ref.txt bad.txt
ok $(yes_if [ $rc -eq 1 ] && contains "$err" "bad.txt:1:4: invalid UTF-8") "invalid UTF-8 named FILE:LINE:COL ($err)"
run "$PIPELINE" score ref.txt
ok $(yes_if [ $rc -eq 2 ]) "one file only: exit 2"
run "$PIPELINE" score ref.txt hyp.txt --tokenize intl
ok $(yes_if [ $rc -eq 2 ] && contains "$err" "13a or none") "--tokenize intl: exit 2"
run "$PIPELINE" score ref.txt hyp.txt --frobnicate
ok $(yes_if [ $rc -eq 2 ] && contains "$err" "unknown option '--frobnicate'") "unknown option: exit 2"
tap_done
