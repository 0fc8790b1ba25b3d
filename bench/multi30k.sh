#!/usr/bin/env bash
# multi30k.sh: trains bench/multi30k.pipe on $SEQPIPE_SHARED's Multi30k
# (De->En), then prints BLEU (sacreBLEU's, with its signature), chrF2 and
# the tokenized lowercased BLEU on val and test2016, greedy and with a beam
# of 5, with wall and CPU times.  Run from a build folder (PIPELINE=./pipeline).
#
#   OUT=DIR      the model, checkpoints and logs go there (default ./multi30k.out)
#   EACH_EPOCH=1 also evaluates every epoch's checkpoint (greedy and beam 5)
#                while training goes on: DIR/epoch-N.beam{1,5}.txt
#   extra arguments go to `pipeline run` (e.g. --set train.epochs=8)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${SEQPIPE_SHARED:?set SEQPIPE_SHARED to the shared data folder}"
PIPELINE=${PIPELINE:-./pipeline}
OUT=${OUT:-multi30k.out}
mkdir -p "$OUT"
d="$SEQPIPE_SHARED/data/translation/multi30k"
set_paths=(--set "data.train=$d/train" --set "data.dev=$d/val" --set "data.test=$d/test_2016_flickr")
# eval scores every split it is given: val stands in for the training split,
# whose loss would cost as much CPU as a third of an epoch
eval_paths=(--set "data.train=$d/val" --set "data.dev=$d/val" --set "data.test=$d/test_2016_flickr")
model="$OUT/model.spm"
ckpt="$OUT/model.last.spm"
TIMEFMT='wall %e s  cpu user %U s sys %S s  max rss %M KB'

# every new checkpoint: copy it, then score it greedy and with a beam of 5
watch_epochs() {
	local seen="" n=0 m
	while kill -0 "$1" 2>/dev/null; do
		if [ -f "$ckpt" ] && m=$(stat -c %Y "$ckpt") && [ "$m" != "$seen" ]; then
			sleep 2 # let the writer finish
			seen=$m
			n=$((n + 1))
			cp "$ckpt" "$OUT/epoch-$n.spm"
			for beam in 1 5; do
				/usr/bin/time -f "$TIMEFMT" -o "$OUT/epoch-$n.beam$beam.time" \
					"$PIPELINE" eval "$here/multi30k.pipe" --model "$OUT/epoch-$n.spm" \
					--beam $beam "${eval_paths[@]}" >"$OUT/epoch-$n.beam$beam.txt" 2>&1 || true
			done
			rm -f "$OUT/epoch-$n.spm"
		fi
		sleep 20
	done
}

/usr/bin/time -f "$TIMEFMT" -o "$OUT/train.time" \
	"$PIPELINE" run "$here/multi30k.pipe" "${set_paths[@]}" --set "train.save=$model" "$@" \
	>"$OUT/train.log" 2>&1 &
train_pid=$!
if [ "${EACH_EPOCH:-0}" = 1 ]; then
	watch_epochs $train_pid &
	watch_pid=$!
fi
wait $train_pid || echo "training ended with status $?"
[ -n "${watch_pid:-}" ] && wait "$watch_pid"
echo "training: $(cat "$OUT/train.time")"
for beam in 1 5; do
	/usr/bin/time -f "$TIMEFMT" -o "$OUT/final.beam$beam.time" \
		"$PIPELINE" eval "$here/multi30k.pipe" --model "$model" --beam $beam \
		"${eval_paths[@]}" >"$OUT/final.beam$beam.txt" 2>&1
	cat "$OUT/final.beam$beam.txt"
	echo "eval (beam $beam): $(cat "$OUT/final.beam$beam.time")"
done
