#!/usr/bin/env bash
# t_predict_file.sh: `pipeline predict --file` (taggers, classifiers,
# language models; CoNLL with gold tags, plain text, standard input), its
# errors naming FILE:LINE, and the conlleval report of `eval --report
# conlleval` and `predict --file --report conlleval`, which must equal
# `pipeline conlleval` on the predictions byte for byte and give the
# logged test F1; --scheme rewrites the tags with the same entities.
# Small slices and few epochs, as in t_cli.sh.
. "$(dirname "$0")/tap.sh"

# --- a tagger: the NER pipeline on a tiny slice (scored on its own
# training file, so that it finds entities) -------------------------------
NER="$top_srcdir/pipelines/ner.pipe"
T="$top_srcdir/tests/data/tiny"
TR="$T/ner_train.conll"
run "$PIPELINE" run "$NER" --set pipeline.name=pf --set "data.train=\"$TR\"" \
	--set "data.dev=\"$TR\"" --set "data.test=\"$TR\"" --set train.epochs=12 \
	--set train.early_stop=0 --set model2.hidden=32 --set model.embed=32 --set encode.min_count=1 \
	--set model2.embed_dropout=0 --set head.dropout=0 --set train.lr=0.02
ok $rc "the tiny tagger trains ($err)"

run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR"
cp "$work/out" pred.conll
ok $([ $rc -eq 0 ] && echo 0 || echo 1) "predict --file on a CoNLL file ($err)"
tokens=$(grep -c '[^[:space:]]' "$TR")
ok $([ "$(grep -c . pred.conll)" -eq "$tokens" ] && echo 0 || echo 1) "one line per token ($tokens)"
ok $([ -s pred.conll ] && [ "$(awk 'NF && NF != 3' pred.conll | wc -l)" -eq 0 ] && echo 0 || echo 1) "token gold predicted: three fields on every line"
ok $([ "$(grep -c '^$' pred.conll)" -eq "$(awk 'BEGIN{s=0} NF{t=1} !NF{if(t)s++; t=0} END{if(t)s++; print s}' "$TR")" ] && echo 0 || echo 1) "a blank line after each sentence"
ok $([ -s pred.conll ] && paste -d' ' <(grep '[^[:space:]]' "$TR" | tr '\t' ' ') <(grep . pred.conll | cut -d' ' -f3) | cmp -s - <(grep . pred.conll) && echo 0 || echo 1) "tokens and gold tags are the input's, in order"
ok $([ "$(awk 'NF && $2 != $3' pred.conll | wc -l)" -lt "$tokens" ] && grep -q ' B-' pred.conll && echo 0 || echo 1) "the tagger predicts entities"

"$PIPELINE" conlleval pred.conll >from_predict.txt
run "$PIPELINE" eval "$NER" --set pipeline.name=pf --report conlleval
cp "$work/out" from_eval.txt
ok $([ $rc -eq 0 ] && contains "$out" "processed $tokens tokens" && echo 0 || echo 1) "eval --report conlleval ($err)"
ok $([ -s from_eval.txt ] && cmp -s from_eval.txt from_predict.txt && echo 0 || echo 1) "eval's report equals pipeline conlleval on predict --file's output, byte for byte"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --report conlleval
ok $(printf '%s\n' "$out" | cmp -s - from_predict.txt && echo 0 || echo 1) "predict --file --report conlleval: the same report"
f1=$(sql "select printf('%.2f', 100 * value) from metrics where split = 'test' and name = 'f1' and epoch is null")
fb1=$(sed -n 's/.*FB1: *\([0-9.]*\)$/\1/p' from_eval.txt | head -1)
ok $([ -n "$f1" ] && [ "$f1" = "$fb1" ] && echo 0 || echo 1) "the report's FB1 ($fb1) is the logged test F1 ($f1)"

# --set on top of the model's configuration: the crf's decoding bias
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --set head.entity_bias=-50
ok $([ $rc -eq 0 ] && [ "$(awk 'NF && $3 != "O"' "$work/out" | wc -l)" -eq 0 ] && echo 0 || echo 1) \
	"predict --set head.entity_bias=-50: every predicted tag O ($err)"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --set head.entity_bias=50
ok $([ $rc -eq 0 ] && [ "$(awk 'NF && $3 == "O"' "$work/out" | wc -l)" -eq 0 ] && echo 0 || echo 1) \
	"predict --set head.entity_bias=50: no predicted tag O ($err)"
"$PIPELINE" conlleval "$work/out" >biased.txt
run "$PIPELINE" eval "$NER" --set pipeline.name=pf --report conlleval --set head.entity_bias=50
ok $([ -s biased.txt ] && printf '%s\n' "$out" | cmp -s - biased.txt && ! cmp -s biased.txt from_predict.txt \
	&& echo 0 || echo 1) "eval --set head.entity_bias=50 --report conlleval: predict's biased tags, not the plain ones"

# ... but not a key that would change what the trained model computes
for kv in head.plugin=tagger encode.case=none model2.hidden=64; do
	run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --set "$kv"
	ok $([ $rc -ne 0 ] && [ -z "$out" ] && contains "$err" "--set $kv: the trained model's own" && echo 0 || echo 1) \
		"predict --set $kv is refused ($err)"
done
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --set "head.plugin = tagger"
ok $([ $rc -ne 0 ] && contains "$err" "--set head.plugin = tagger: the trained model's own" && echo 0 || echo 1) \
	"predict --set 'head.plugin = tagger' (spaces, read as the .pipe reads overrides) is refused ($err)"
run "$PIPELINE" eval "$NER" --set pipeline.name=pf --set encode.case=none
ok $([ $rc -ne 0 ] && contains "$err" "--set encode.case=none: the trained model's own" && echo 0 || echo 1) \
	"eval --set encode.case=none is refused too ($err)"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --set model2.threads=2
ok $([ $rc -eq 0 ] && cmp -s "$work/out" pred.conll && echo 0 || echo 1) \
	"predict --set model2.threads=2: the same tags ($err)"

# --scheme: the same entities, written in another scheme
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --scheme iobes
cp "$work/out" iobes.conll
ok $([ $rc -eq 0 ] && [ "$(awk 'NF && ($2 !~ /^([BIES]-.|O$)/ || $3 !~ /^([BIES]-.|O$)/)' iobes.conll | wc -l)" -eq 0 ] \
	&& grep -q ' S-' iobes.conll && echo 0 || echo 1) "--scheme iobes: every tag O or B/I/E/S-TYPE, single-token entities as S- ($err)"
# back to IOB2 (S -> B, E -> I): the tags written without --scheme
awk '{ for (i = 2; i <= NF; i++) sub(/^S-/, "B-", $i) sub(/^E-/, "I-", $i); print }' iobes.conll >back2.conll
ok $([ -s back2.conll ] && cmp -s back2.conll pred.conll && echo 0 || echo 1) "--scheme iobes: the same gold and predicted entities (mapped back to IOB2: the plain output)"
ok $([ "$(cut -d' ' -f1 iobes.conll)" = "$(cut -d' ' -f1 pred.conll)" ] && echo 0 || echo 1) "--scheme iobes: the same tokens in the same order"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --scheme iob1
cp "$work/out" iob1.conll
# back to IOB2: an I-X that does not continue an X chunk starts one
awk 'NF == 0 { delete prev; print; next }
	{ for (i = 2; i <= NF; i++) { t = $i; if (t ~ /^I-/ && prev[i] != "B-" substr(t, 3) && prev[i] != t) $i = "B-" substr(t, 3); prev[i] = t }
	  print }' iob1.conll >back1.conll
ok $([ $rc -eq 0 ] && ! grep -q ' [ES]-' iob1.conll && ! cmp -s iob1.conll pred.conll && cmp -s back1.conll pred.conll \
	&& echo 0 || echo 1) "--scheme iob1: no E- or S-, chunks start with I-, the same entities (mapped back to IOB2: the plain output)"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --scheme iob2
ok $([ $rc -eq 0 ] && printf '%s\n' "$out" | cmp -s - <(sed '$d' pred.conll) && echo 0 || echo 1) "--scheme iob2 (the training data's): the output without --scheme, byte for byte"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --scheme bilou
ok $([ $rc -eq 1 ] && contains "$err" "expected iob1, iob2 or iobes" && echo 0 || echo 1) "--scheme bilou: refused ($err)"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --input x --scheme iobes
ok $([ $rc -eq 2 ] && contains "$err" "--scheme needs predict --file" && echo 0 || echo 1) "--scheme without --file: exit 2"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file "$TR" --scheme iobes --report conlleval
ok $([ $rc -eq 2 ] && contains "$err" "not with --report" && echo 0 || echo 1) "--scheme with --report conlleval: exit 2 (conlleval reads S- and E- its own way)"

# plain text, one sentence per line, from standard input
sentence=$(grep '[^[:space:]]' "$TR" | head -8 | cut -f1 | tr '\n' ' ')
printf '%s\n\nGoing to Paris\n' "$sentence" >plain.txt
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file - <plain.txt
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 11 ] && echo 0 || echo 1) "plain text on standard input: a line per token ($err)"
ok $([ -n "$out" ] && [ "$(printf '%s\n' "$out" | awk 'NF && NF != 2' | wc -l)" -eq 0 ] && echo 0 || echo 1) "without gold tags: token and tag"
ok $([ "$(printf '%s\n' "$out" | grep . | sed -n 9,11p | cut -d' ' -f1 | tr '\n' ' ')" = "Going to Paris " ] && echo 0 || echo 1) "the second sentence's tokens"
# batched predictions are those of one sentence at a time
one=$("$PIPELINE" predict "$NER" --set pipeline.name=pf --input "$sentence" | tail -n +2 | awk '{printf "%s %s\n", $1, substr($2, 2, length($2) - 2)}')
ok $([ -n "$one" ] && [ "$(printf '%s\n' "$out" | head -8)" = "$one" ] && echo 0 || echo 1) "a sentence in a batch gets the tags it gets alone"

# errors name the file and line
printf 'a\tO\nb\n' >bad.conll
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file bad.conll
ok $([ $rc -eq 1 ] && contains "$err" "bad.conll:2:" && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && echo 0 || echo 1) "a malformed line: one error naming FILE:LINE ($err)"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file - <bad.conll
ok $([ $rc -eq 1 ] && contains "$err" "<stdin>:2:" && echo 0 || echo 1) "standard input is named <stdin> ($err)"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file missing.conll
ok $([ $rc -eq 1 ] && contains "$err" "missing.conll" && echo 0 || echo 1) "a missing file ($err)"
run "$PIPELINE" predict "$NER" --set pipeline.name=pf --file plain.txt --report conlleval
ok $([ $rc -eq 1 ] && contains "$err" "no gold tags" && echo 0 || echo 1) "conlleval needs gold tags ($err)"
run "$PIPELINE" predict "$NER" --input x --report conlleval
ok $([ $rc -eq 2 ] && contains "$err" "--report needs --file" && echo 0 || echo 1) "--report without --file: exit 2"
run "$PIPELINE" predict "$NER" --input x --file plain.txt
ok $([ $rc -eq 2 ] && echo 0 || echo 1) "--input and --file: exit 2"
run "$PIPELINE" eval "$NER" --report html
ok $([ $rc -eq 2 ] && contains "$err" "conlleval" && echo 0 || echo 1) "unknown report: exit 2"

# --- a classifier: sentiment on a slice ----------------------------------
SENT="$top_srcdir/pipelines/sentiment.pipe"
D="$top_srcdir/data/sentiment/uci"
head -200 "$D/train.tsv" >st.tsv
head -40 "$D/dev.tsv" >sd.tsv
run "$PIPELINE" run "$SENT" --set pipeline.name=ps --set "data.train=\"$work/st.tsv\"" \
	--set "data.dev=\"$work/sd.tsv\"" --set 'data.test=""' --set train.epochs=2 \
	--set model.hidden=16 --set model.embed=16
ok $rc "the tiny classifier trains ($err)"
run "$PIPELINE" predict "$SENT" --set pipeline.name=ps --file sd.tsv
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 40 ] && echo 0 || echo 1) "a line per example ($err)"
ok $([ "$(printf '%s\n' "$out" | awk -F'\t' '!(($1 == "pos" || $1 == "neg") && $2 >= 0.5 && $2 <= 1)' | wc -l)" -eq 0 ] && echo 0 || echo 1) "label<TAB>probability (of the label picked, >= 0.5 of two)"
ok $(cmp -s <(printf '%s\n' "$out" | cut -f3-) <(cut -f1 sd.tsv) && echo 0 || echo 1) "then the text, in the file's order"
run "$PIPELINE" predict "$SENT" --set pipeline.name=ps --file sd.tsv --scheme iob2
ok $([ $rc -eq 1 ] && contains "$err" "--scheme rewrites a tagger's tags" && echo 0 || echo 1) "--scheme on a classifier: refused ($err)"
run "$PIPELINE" predict "$SENT" --set pipeline.name=ps --file - <<<'great phone'
ok $([ $rc -eq 0 ] && contains "$out" "	great phone" && echo 0 || echo 1) "a plain line of text ($out)"
run "$PIPELINE" predict "$SENT" --set pipeline.name=ps --file sd.tsv --report conlleval
ok $([ $rc -eq 1 ] && contains "$err" "taggers" && echo 0 || echo 1) "conlleval reports are for taggers ($err)"

# --- a language model: the course's "hello" --------------------------------
HELLO="$top_srcdir/pipelines/hello.pipe"
run "$PIPELINE" run "$HELLO"
ok $rc "hello trains ($err)"
run "$PIPELINE" predict "$HELLO" --file - --top 2 <<<$'hel\nhell'
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | cut -f1,2 | tr '\t\n' ' ')" = "hel l hell o " ] && echo 0 || echo 1) "next after hel: l, after hell: o ($out)"
ok $([ "$(printf '%s\n' "$out" | awk -F'\t' 'NF != 5' | wc -l)" -eq 0 ] && echo 0 || echo 1) "text and the top 2 with probabilities"

tap_done
