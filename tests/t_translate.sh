#!/usr/bin/env bash
# t_translate.sh: pipelines/translate.pipe on a slice of the shipped
# Tatoeba pairs (tiny sizes, 3 epochs): the training loss falls, the dev
# line reports the teacher-forced and the free-running loss, `translate`
# prints a sentence for --input, for standard input and with --attention,
# `eval` prints BLEU with sacreBLEU's signature, chrF2 and the labelled
# tokenized BLEU, greedy and with a beam; and the configuration errors of
# a translation pipeline.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PIPELINE="$top_builddir/pipeline"
PIPE="$top_srcdir/pipelines/translate.pipe"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0
failed=0
ok() { # cond-status, description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
run() {
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}
contains() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }

SLICE=(--set data.max_examples=160 --set train.epochs=3 --set train.batch=16
	--set encode.bpe=150 --set model.hidden=16 --set model.embed=16
	--set head.hidden=24 --set head.embed=16 --set train.lr=0.01)

run "$PIPELINE" check "$PIPE"
ok $rc "check: translate.pipe is valid ($err)"

run "$PIPELINE" run "$PIPE" "${SLICE[@]}"
ok $rc "run: translate.pipe trains on a slice ($(printf '%s' "$err" | head -c 300))"
first=$(printf '%s\n' "$out" | awk '/^epoch +1\/3 +train loss/ { print $5; exit }')
last=$(printf '%s\n' "$out" | awk '/^epoch +3\/3 +train loss/ { print $5; exit }')
ok $(awk -v a="$first" -v b="$last" 'BEGIN { exit !(a != "" && b != "" && b < a) }' && echo 0 || echo 1) \
	"run: the training loss falls ($first -> $last)"
ok $(contains "$out" "loss_free" && contains "$out" "dev loss" && echo 0 || echo 1) \
	"run: dev reports the teacher-forced and the free-running loss"
ok $(contains "$out" "bpe: 150 merges" && echo 0 || echo 1) "run: byte-pair merges learned from the training split"

run "$PIPELINE" translate "$PIPE" --input "I am happy."
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [ -n "$out" ] && echo 0 || echo 1) \
	"translate --input: one line of output ('$out'; $err)"
run "$PIPELINE" translate "$PIPE" --beam 1 --attention "$work/att.txt" --input "Where is he?"
ok $([ $rc -eq 0 ] && grep -q '^source' "$work/att.txt" && grep -q '^# sentence 1' "$work/att.txt" && echo 0 || echo 1) \
	"translate --attention: the sentence's attention matrix is written ($err)"
rows=$(awk 'NR > 2 && NF > 0' "$work/att.txt" | wc -l)
cols_ok=$(awk -F'\t' 'NR == 2 { n = NF } NR > 2 && NF > 0 && NF != n { bad = 1 } END { print bad ? 1 : 0 }' "$work/att.txt")
ok $([ "$rows" -ge 1 ] && [ "$cols_ok" -eq 0 ] && echo 0 || echo 1) \
	"translate --attention: one row per output token, one column per source token ($rows rows)"
run bash -c "printf 'Go.\nI am cold.\n' | '$PIPELINE' translate '$PIPE' -"
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] && echo 0 || echo 1) \
	"translate -: one line per line of standard input ($err)"

run "$PIPELINE" eval "$PIPE" --beam 1
ok $([ $rc -eq 0 ] && contains "$out" "dev: 160 sentences, beam 1 (greedy)" && contains "$out" "BLEU = " \
	&& contains "$out" "signature: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" \
	&& contains "$out" "chrF2 = " && contains "$out" "tokenized lowercased BLEU = " && echo 0 || echo 1) \
	"eval --beam 1: BLEU with its signature, chrF2, the labelled tokenized BLEU ($err)"
run "$PIPELINE" eval "$PIPE" --beam 3
ok $([ $rc -eq 0 ] && contains "$out" "test: 160 sentences, beam 3" && echo 0 || echo 1) "eval --beam 3: the test split with a beam ($err)"

# configuration errors
data="$top_srcdir/data/translation/tatoeba_eng_fra_5k"
printf '[data]\nformat = parallel\ntrain = "%s/train.tsv"\n[encode]\nbpe = 50\n[model]\nplugin = gru\nhidden = 4\n[head]\nplugin = tagger\n' "$data" >tagger.pipe
run "$PIPELINE" check tagger.pipe
ok $([ $rc -eq 1 ] && contains "$err" "does not read target sequences" && echo 0 || echo 1) \
	"check: a tagger on parallel data is refused ($err)"
printf '[data]\nformat = tsv\ntrain = "%s/train.tsv"\n[tokenize]\nplugin = chars\n[model]\nplugin = gru\nhidden = 4\n[head]\nplugin = decoder\n' "$data" >dec.pipe
run "$PIPELINE" check dec.pipe
ok $([ $rc -eq 1 ] && contains "$err" "format = parallel" && echo 0 || echo 1) \
	"check: the decoder on tsv data is refused ($err)"
run "$PIPELINE" check "$PIPE" --set encode.bpe=0
ok $([ $rc -eq 1 ] && contains "$err" "missing section [tokenize]" && echo 0 || echo 1) \
	"check: parallel data without bpe needs a tokenizer ($err)"
run "$PIPELINE" translate "$top_srcdir/pipelines/hello.pipe" --input hell
ok $([ $rc -eq 1 ] && echo 0 || echo 1) "translate: a pipeline without a translation model is an error ($err)"
run "$PIPELINE" translate "$PIPE"
ok $([ $rc -eq 2 ] && contains "$err" "expected one of --input" && echo 0 || echo 1) "translate: no input is a usage error"

echo "1..$n"
[ $failed -eq 0 ]
