#!/usr/bin/env bash
# multi30k.sh: trains bench/multi30k.pipe on $SEQPIPE_SHARED's Multi30k
# (De->En), then prints BLEU (sacreBLEU's, with its signature), chrF2 and
# the tokenized lowercased BLEU on val and test2016, greedy and with a beam
# of 5, with the wall times.  Run from a build folder (PIPELINE=./pipeline).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${SEQPIPE_SHARED:?set SEQPIPE_SHARED to the shared data folder}"
PIPELINE=${PIPELINE:-./pipeline}
d="$SEQPIPE_SHARED/data/translation/multi30k"
set_paths=(--set "data.train=$d/train" --set "data.dev=$d/val" --set "data.test=$d/test_2016_flickr")
start=$(date +%s)
"$PIPELINE" run "$here/multi30k.pipe" "${set_paths[@]}" "$@"
echo "training wall time: $(( $(date +%s) - start )) s"
for beam in 1 5; do
	start=$(date +%s)
	"$PIPELINE" eval "$here/multi30k.pipe" --beam $beam "${set_paths[@]}" "$@"
	echo "eval (beam $beam) wall time: $(( $(date +%s) - start )) s"
done
