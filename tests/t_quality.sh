#!/usr/bin/env bash
# t_quality.sh: the pipelines of the quality benchmark (bench/quality.sh)
# on small slices of their data: each trains, its training loss falls, and
# its metric beats the trivial baseline (entity F1 > 0, which tagging
# every word O scores; accuracy above the majority class's share).  The
# full-size runs and their figures are the benchmark's, not the suite's.
# Also: data/ner/btc/make_split.sh rewrites the shipped split byte for
# byte, and the ptb reader's phrases.  The SST-2 case reads $SEQPIPE_SHARED and is skipped without it.
. "$(dirname "$0")/tap.sh"

gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 > b + 0) }'; }
# first and last epoch's training loss, final metric of a split of the last run
loss_at() { sql "select value from metrics where run_id = (select max(id) from runs) and split = 'train' and name = 'loss' and epoch = $1"; }
last_epoch() { sql "select max(epoch) from metrics where run_id = (select max(id) from runs) and split = 'train' and name = 'loss'"; }
final() { sql "select value from metrics where run_id = (select max(id) from runs) and split = '$1' and name = '$2' and epoch is null"; }
# the largest class's share of a tsv file's labels
majority() { cut -f2 "$1" | sort | uniq -c | awk '{ t += $1; if ($1 > m) m = $1 } END { print m / t }'; }

# --- the BTC split is what its script writes ---------------------------------
BTC="$top_srcdir/data/ner/btc"
mkdir split
run sh "$BTC/make_split.sh" "$work/split"
ok $([ $rc -eq 0 ] && cmp -s split/train.conll "$BTC/train.conll" && cmp -s split/dev.conll "$BTC/dev.conll" \
	&& echo 0 || echo 1) "make_split.sh rewrites train.conll and dev.conll byte for byte ($err)"
ok $([ "$(grep -c '^$' "$BTC/dev.conll")" = 1000 ] && [ "$(grep -c '^$' "$BTC/train.conll")" = 6339 ] \
	&& [ "$(cat "$BTC"/[abegh].conll | grep -vc '^[[:space:]]*$')" = \
		"$(cat "$BTC/train.conll" "$BTC/dev.conll" | grep -vc '^$')" ] && echo 0 || echo 1) \
	"train 6,339 and dev 1,000 tweets, every token line of sections A, B, E, G, H once"
# the split's one change of tags: the "@" of section B's mentions takes the
# tag of the name after it (make_split.sh); the raw sections, blank lines
# kept, line up with train + dev line for line
changed=$(cat "$BTC"/[abeg].conll "$BTC/h.conll" | sed 's/^[[:space:]]*$//' \
	| paste - <(cat "$BTC/train.conll" "$BTC/dev.conll") \
	| awk -F'\t' 'pend { if ($4 != want) bad++; pend = 0 }
		$0 == "\t" || (NF == 4 && $1 == $3 && $2 == $4) { next }
		{ n++; if (NF != 4 || $1 != "@" || $2 != "O" || $3 != "@" || $4 !~ /^B-(PER|ORG)$/) bad++
			else { pend = 1; want = $4 } }
		END { print n + 0, bad + pend }')
ok $([ "$changed" = "395 0" ] && echo 0 || echo 1) \
	"train tags 395 more @ of a mention as the user after it (B-PER, B-ORG), no other change ($changed)"

# --- ner-btc.pipe on a slice ------------------------------------------------
# Section A (the first tweets of train.conll) has few entities; the slice
# trains on the dev tweets (section H) and scores on the test ones (F).
run "$PIPELINE" run "$top_srcdir/pipelines/ner-btc.pipe" --db runs.db --set data.max_examples=800 \
	--set "data.train=\"$BTC/dev.conll\"" --set "data.dev=\"$BTC/f.conll\"" --set 'data.test=""' \
	--set train.epochs=6 --set model2.hidden=32 --set model.embed=32 --set pipeline.seed=1
ok $rc "ner-btc.pipe trains on 800 tweets ($(printf '%s' "$out" | tail -1))"
first=$(loss_at 0) last=$(loss_at "$(last_epoch)")
ok $(gt "$first" "$last" && echo 0 || echo 1) "ner-btc: training loss falls ($first -> $last)"
f1=$(final dev f1)
ok $(gt "$f1" 0.2 && echo 0 || echo 1) "ner-btc: entity F1 $f1 on 800 other tweets beats all-O (0) by 0.2"

# --- words seen once read as unknown at times (onehot unk_replace) ------------
RARE="--db runs.db --set data.max_examples=300 --set train.epochs=2 --set model2.hidden=16 --set model.embed=16 --set encode.min_count=1"
run "$PIPELINE" run "$top_srcdir/pipelines/ner-btc.pipe" $RARE --set encode.unk_replace=0.5
rare=$(printf '%s\n' "$out" | sed -n 's/^rare words: \([0-9]*\) training tokens.*chance 0.5, drawn each epoch$/\1/p')
ok $([ $rc -eq 0 ] && [ "${rare:-0}" -gt 100 ] && echo 0 || echo 1) "unk_replace = 0.5: $rare tokens of words seen once may read as unknown ($err)"
f1a=$(final dev f1) lossa=$(loss_at 1)
run "$PIPELINE" run "$top_srcdir/pipelines/ner-btc.pipe" $RARE --set encode.unk_replace=0.5
ok $([ $rc -eq 0 ] && [ "$(loss_at 1)" = "$lossa" ] && [ "$(final dev f1)" = "$f1a" ] && echo 0 || echo 1) \
	"unk_replace: the same seed draws the same words (epoch 2 loss $lossa, dev F1 $f1a)"
run "$PIPELINE" run "$top_srcdir/pipelines/ner-btc.pipe" $RARE --set encode.unk_replace=0
ok $([ $rc -eq 0 ] && ! contains "$out" "rare words" && echo 0 || echo 1) "unk_replace = 0: no word is replaced"
# the draw reaches training: a chance of 1e-9 keeps the same vocabulary
# (singletons' shapes included) but replaces nothing
run "$PIPELINE" run "$top_srcdir/pipelines/ner-btc.pipe" $RARE --set encode.unk_replace=1e-9
ok $([ $rc -eq 0 ] && contains "$out" "rare words: $rare training tokens" && [ "$(loss_at 1)" != "$lossa" ] && echo 0 || echo 1) \
	"unk_replace = 1e-9: the same vocabulary, another training (epoch 2 loss $(loss_at 1), with 0.5 $lossa)"
# the final evaluation reads the real words: with every singleton replaced
# in training, the run's final train loss is what eval computes afresh
run "$PIPELINE" run "$top_srcdir/pipelines/ner-btc.pipe" $RARE --set encode.unk_replace=1 --set train.save="$work/rare1.spm"
logged=$(final train loss)
run "$PIPELINE" eval "$top_srcdir/pipelines/ner-btc.pipe" --model "$work/rare1.spm"
fresh=$(printf '%s\n' "$out" | awk '$1 == "train" && $2 == "loss" { print $3 }')
ok $([ $rc -eq 0 ] && [ -n "$logged" ] && awk -v a="$logged" -v b="$fresh" 'BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9) }' && echo 0 || echo 1) \
	"unk_replace = 1: the final train loss is the real words' (logged $logged, eval $fresh)"
run "$PIPELINE" check "$top_srcdir/pipelines/ner-btc.pipe" --set encode.unk_replace=2
ok $([ $rc -eq 1 ] && contains "$err" "unk_replace=2: expected a chance in 0..1" && echo 0 || echo 1) "unk_replace = 2 is refused ($err)"

# --- sentiment.pipe on a slice ----------------------------------------------
UCI="$top_srcdir/data/sentiment/uci"
run "$PIPELINE" run "$top_srcdir/pipelines/sentiment.pipe" --db runs.db --set data.max_examples=600 \
	--set train.epochs=5 --set pipeline.seed=1
ok $rc "sentiment.pipe trains on 600 sentences ($(printf '%s' "$out" | tail -1))"
first=$(loss_at 0) last=$(loss_at "$(last_epoch)")
ok $(gt "$first" "$last" && echo 0 || echo 1) "sentiment: training loss falls ($first -> $last)"
acc=$(final test accuracy) base=$(majority "$UCI/test.tsv")
ok $(gt "$acc" "$(echo "$base + 0.1" | bc)" && echo 0 || echo 1) \
	"sentiment: test accuracy $acc beats the majority class ($base) by 0.1"

# --- [data] format = ptb, phrases = true: every labelled node of a training
# tree is an example (4 + 2 here, neutral nodes dropped), dev stays sentences
printf '(3 (2 It) (4 (1 not) (4 works)))\n(1 (0 bad) (2 film))\n' >trees.ptb
printf '[pipeline]\nname = phrases\n[data]\nformat = ptb\nlabels = binary\nphrases = true\ntrain = "%s"\ndev = "%s"\n[model]\nplugin = lstm\nhidden = 4\n[head]\nplugin = classify\n[train]\nepochs = 1\n' \
	"$work/trees.ptb" "$work/trees.ptb" >phrases.pipe
run "$PIPELINE" run phrases.pipe --db runs.db
ok $([ $rc -eq 0 ] && printf '%s' "$out" | grep -q 'data: 6 train, 2 dev' && echo 0 || echo 1) \
	"ptb phrases: 6 training phrases, 2 dev sentences ($(printf '%s' "$out" | grep '^data:'))"
run "$PIPELINE" run phrases.pipe --db runs.db --set data.phrases=false
ok $([ $rc -eq 0 ] && printf '%s' "$out" | grep -q 'data: 2 train, 2 dev' && echo 0 || echo 1) \
	"ptb without phrases: 2 training sentences ($(printf '%s' "$out" | grep '^data:'))"

# --- bench/sst2.pipe on a slice of SST-2 (research only: read, never copied) --
SST="${SEQPIPE_SHARED:-}/data/sentiment/sst"
if [ -z "${SEQPIPE_SHARED:-}" ] || [ ! -f "$SST/train.txt" ]; then
	for i in 1 2 3 4; do skip "SEQPIPE_SHARED unset or without data/sentiment/sst"; done
else
	mkdir sst2
	# the files are sorted by label: take every k-th tree
	# (trained on the phrases of 1/24 of the trees, as quality.sh does on all)
	awk 'NR % 24 == 0' "$SST/train.txt" >sst2/train.txt
	awk 'NR % 3 == 0' "$SST/dev.txt" >sst2/dev.txt
	run "$top_builddir/bench/sst2tsv" --phrases binary sst2/train.txt sst2/train.tsv
	ok $([ $rc -eq 0 ] && [ "$(wc -l <sst2/train.tsv)" -gt $((3 * $(wc -l <sst2/train.txt))) ] \
		&& ! grep -qv $'\t\(neg\|pos\)$' sst2/train.tsv && echo 0 || echo 1) \
		"sst2tsv --phrases: a line per non-neutral phrase, more than 3 per tree ($err)"
	"$top_builddir/bench/sst2tsv" binary sst2/dev.txt sst2/dev.tsv 2>/dev/null
	run "$PIPELINE" run "$top_srcdir/bench/sst2.pipe" --db runs.db --set pipeline.seed=1 \
		--set "data.train=\"$work/sst2/train.tsv\"" --set "data.dev=\"$work/sst2/dev.tsv\"" \
		--set 'data.test=""' --set train.epochs=10 --set model.hidden=32 --set model.embed=32
	ok $rc "sst2.pipe trains on a slice of SST-2 ($(printf '%s' "$out" | tail -1))"
	first=$(loss_at 0) last=$(loss_at "$(last_epoch)")
	ok $(gt "$first" "$last" && echo 0 || echo 1) "sst2: training loss falls ($first -> $last)"
	acc=$(final dev accuracy) base=$(majority sst2/dev.tsv)
	ok $(gt "$acc" "$(echo "$base + 0.05" | bc)" && echo 0 || echo 1) \
		"sst2: dev accuracy $acc beats the majority class ($base) by 0.05"
fi

tap_done
