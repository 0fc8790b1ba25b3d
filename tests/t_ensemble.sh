#!/usr/bin/env bash
# t_ensemble.sh: `pipeline predict --file` with several --model, an
# ensemble of taggers.  A model with itself writes exactly what it writes
# alone; two seeds give valid IOB2 tags, keep every sentence both agree on,
# and their conlleval report is `pipeline conlleval` of their output; a
# classifier, a tagger with a tag the first model lacks, and several
# --model outside predict --file are refused in one line.
. "$(dirname "$0")/tap.sh"

NER="$top_srcdir/pipelines/ner.pipe"
TR="$top_srcdir/tests/data/tiny/ner_train.conll"
tiny() { # seed, training file, model file[, pipeline name[, more --set]]
	run "$PIPELINE" run "$NER" --set pipeline.name="${4:-ens}" --set pipeline.seed="$1" ${5:-} \
		--set "data.train=\"$2\"" --set "data.dev=\"$2\"" --set "data.test=\"$2\"" \
		--set train.epochs=8 --set train.early_stop=0 --set model2.hidden=16 --set model.embed=16 \
		--set model2.embed_dropout=0 --set head.dropout=0 --set train.lr=0.02 --set train.save="$3"
}
tiny 1 "$TR" a.spm
ok $rc "tagger A trains ($err)"
tiny 2 "$TR" b.spm
ok $rc "tagger B trains, another seed ($err)"

run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model a.spm --file "$TR"
printf '%s\n' "$out" >a.conll
run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model b.spm --file "$TR"
printf '%s\n' "$out" >b.conll
run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model a.spm --model a.spm --file "$TR"
printf '%s\n' "$out" >aa.conll
ok $([ $rc -eq 0 ] && [ -s aa.conll ] && cmp -s aa.conll a.conll && echo 0 || echo 1) "A with itself: exactly A's tags ($err)"

run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model a.spm --model b.spm --file "$TR"
printf '%s\n' "$out" >ab.conll
ok $([ $rc -eq 0 ] && [ "$(cut -d' ' -f1,2 ab.conll)" = "$(cut -d' ' -f1,2 a.conll)" ] && echo 0 || echo 1) "A with B: the file's tokens and gold tags, in order ($err)"
# IOB2: I-X only after B-X or I-X
bad=$(awk 'NF == 0 { prev = "O"; next } { if ($3 ~ /^I-/ && prev != "B-" substr($3, 3) && prev != $3) n++; prev = $3 } END { print n + 0 }' ab.conll)
ok $([ "$bad" -eq 0 ] && echo 0 || echo 1) "A with B: valid IOB2 tags ($bad I- tags starting an entity)"
differ=$(paste -d' ' a.conll b.conll | awk 'NF && $3 != $6' | wc -l)
# sentences on which A and B agree everywhere keep their tags
keep=$(paste -d' ' a.conll b.conll ab.conll | awk '
	function sentence() { if (n && same) for (i = 1; i <= n; i++) if (t[i] != e[i]) lost++; n = 0; same = 1 }
	BEGIN { same = 1 }
	NF == 0 { sentence(); next }
	{ n++; t[n] = $3; e[n] = $9; if ($3 != $6) same = 0 }
	END { sentence(); print lost + 0 }')
ok $([ "$differ" -gt 0 ] && [ "$keep" -eq 0 ] && echo 0 || echo 1) "A with B: where A and B agree on a whole sentence, the ensemble does too (they differ on $differ tokens; $keep changed)"
"$PIPELINE" conlleval ab.conll >ab_report.txt
run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model a.spm --model b.spm --file "$TR" --report conlleval
ok $([ $rc -eq 0 ] && printf '%s\n' "$out" | cmp -s - ab_report.txt && echo 0 || echo 1) "--report conlleval of the ensemble: pipeline conlleval of its tags"

# refusals
run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model a.spm --model b.spm --input "hello world"
ok $([ $rc -eq 2 ] && contains "$err" "several --model (an ensemble) need predict --file" && echo 0 || echo 1) "several --model with --input: exit 2 ($err)"
run "$PIPELINE" eval "$NER" --set pipeline.name=ens --model a.spm --model b.spm
ok $([ $rc -eq 2 ] && contains "$err" "several --model (an ensemble) need predict --file" && echo 0 || echo 1) "several --model with eval: exit 2"
sed 's/-person/-athlete/' "$TR" >other.conll
tiny 3 "$work/other.conll" c.spm ens-c
ok $rc "tagger C trains on a file with a tag B-athlete ($err)"
run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model a.spm --model c.spm --file "$TR"
ok $([ $rc -eq 1 ] && [ -z "$out" ] && contains "$err" "ensemble: model 2 has the tag 'B-athlete', which the first model has not" && echo 0 || echo 1) "a model with another tag set: refused ($err)"
SENT="$top_srcdir/pipelines/sentiment.pipe"
head -100 "$top_srcdir/data/sentiment/uci/train.tsv" >st.tsv
run "$PIPELINE" run "$SENT" --set pipeline.name=ens-s --set "data.train=\"$work/st.tsv\"" \
	--set "data.dev=\"$work/st.tsv\"" --set 'data.test=""' --set train.epochs=1 \
	--set model.hidden=8 --set model.embed=8 --set train.save=s.spm
run "$PIPELINE" predict "$NER" --set pipeline.name=ens --model a.spm --model s.spm --file "$TR"
ok $([ $rc -eq 1 ] && contains "$err" "ensemble: model 2 is not a tagger" && echo 0 || echo 1) "a classifier in a taggers' ensemble: refused ($err)"
run "$PIPELINE" predict "$SENT" --set pipeline.name=ens-s --model s.spm --model s.spm --file st.tsv
ok $([ $rc -eq 1 ] && contains "$err" "several --model average taggers; s.spm is not one (head 'classify')" && echo 0 || echo 1) "an ensemble of classifiers: refused ($err)"

# a tagger trained on IOB1 tags decodes under IOB1: with itself, exactly
# its own tags (under IOB2 rules an I- after O would be forbidden)
awk 'NF == 0 { prev = "O"; print; next }
	{ t = $2; if (t ~ /^B-/ && prev != "B-" substr(t, 3) && prev != "I-" substr(t, 3)) t = "I-" substr(t, 3)
	  prev = $2; print $1 "\t" t }' "$TR" >iob1.conll
tiny 4 "$work/iob1.conll" i1.spm ens-i1 "--set head.scheme=iob1"
run "$PIPELINE" predict "$NER" --set pipeline.name=ens-i1 --model i1.spm --file "$work/iob1.conll"
ok $([ $rc -eq 0 ] && grep -q ' I-' <(printf '%s\n' "$out") && echo 0 || echo 1) "an IOB1 tagger trains and predicts ($err)"
printf '%s\n' "$out" >i1.conll
run "$PIPELINE" predict "$NER" --set pipeline.name=ens-i1 --model i1.spm --model i1.spm --file "$work/iob1.conll"
ok $([ $rc -eq 0 ] && printf '%s\n' "$out" | cmp -s - i1.conll && echo 0 || echo 1) "the IOB1 tagger with itself: exactly its own tags"
tap_done
