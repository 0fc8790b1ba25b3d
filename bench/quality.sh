#!/usr/bin/env bash
# quality.sh: the quality benchmark of the NER and sentiment pipelines.
# Trains each task's pipeline at full size with seeds 1, 2 and 3 (one run
# is too noisy to read), one run at a time, into one run log, and prints
# one table: task, data, metric, its value on dev and on test (median of
# the seeds, then each seed), the median wall time of a run and the
# training speed in tokens per second.
#
#   ner        pipelines/ner.pipe        WNUT-17, entity F1 (conlleval)
#   ner-btc    pipelines/ner-btc.pipe    Broad Twitter Corpus, entity F1
#   sentiment  pipelines/sentiment.pipe  UCI Amazon + Yelp, accuracy
#   sst2       bench/sst2.pipe           SST-2, accuracy; read from
#              $SEQPIPE_SHARED/data/sentiment/sst (else ../shared beside
#              the source tree) and converted by bench/sst2tsv into the
#              scratch folder: SST is never copied into the tree.  Trained
#              on every labelled phrase of the training trees (98,794),
#              scored on whole dev and test sentences.
#              Skipped, with a note, when that folder is missing.
#
#   bench/quality.sh [TASK...]       in the build tree (default: all four)
#   make quality                     the same
#
# QUALITY_ENSEMBLE=K (taggers: ner, ner-btc): each seed s's figure is
# that of an ensemble of K models (`pipeline predict --file --model ...`
# on the dev and test files, conlleval's FB1), trained with seeds
# (s-1)K+1 .. sK; runs of those seeds already in QUALITY_DIR are reused
# (whatever QUALITY_SET made them: use one folder per setting).  The wall
# time is the K trainings' and the two predictions' together.
#
# QUALITY_SEEDS (default "1 2 3"), QUALITY_DIR (default ./quality-runs:
# runs.db, vocab.db, models/ and one log per run), QUALITY_SET (extra
# --set overrides for every run, e.g. "train.epochs=2"),
# QUALITY_TABLE=1 (only print the table of the runs already logged in
# QUALITY_DIR).  The figures are those of the best-dev epoch's model (the
# runs stop early on dev), scored once on test.
#
# Tokens per second: training tokens (CoNLL: token lines; tsv: the
# text's whitespace-separated words) times the epochs run, over the
# training seconds the run log holds (evaluation and start-up excluded).
# Wall time: the whole `pipeline run`, start-up and evaluation included.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
case $top_srcdir in /*) ;; *) top_srcdir=$PWD/$top_srcdir ;; esac
case $top_builddir in /*) ;; *) top_builddir=$PWD/$top_builddir ;; esac
PIPELINE="$top_builddir/pipeline"
SST2TSV="$top_builddir/bench/sst2tsv"
shared=${SEQPIPE_SHARED:-$top_srcdir/../shared}
dir=${QUALITY_DIR:-quality-runs}
seeds=${QUALITY_SEEDS:-1 2 3}
tasks=${*:-ner ner-btc sentiment sst2}
mkdir -p "$dir"
cd "$dir"
db=runs.db

# task -> pipe, data name, metric, format
pipe_of() {
	case $1 in
	ner) echo "$top_srcdir/pipelines/ner.pipe" ;;
	ner-btc) echo "$top_srcdir/pipelines/ner-btc.pipe" ;;
	sentiment) echo "$top_srcdir/pipelines/sentiment.pipe" ;;
	sst2) echo "$top_srcdir/bench/sst2.pipe" ;;
	*) echo "quality: unknown task '$1', expected ner, ner-btc, sentiment or sst2" >&2; exit 2 ;;
	esac
}
data_of() {
	case $1 in
	ner) echo "WNUT-17" ;; ner-btc) echo "BTC" ;;
	sentiment) echo "UCI Amazon+Yelp" ;; sst2) echo "SST-2" ;;
	esac
}
metric_of() { case $1 in ner | ner-btc) echo f1 ;; *) echo accuracy ;; esac; }

# SST-2 as tsv in the scratch folder (once)
sst_ready() {
	[ -f sst2/test.tsv ] && [ -f sst2/train-phrases.tsv ] && return 0
	if [ ! -f "$shared/data/sentiment/sst/train.txt" ]; then
		echo "quality: sst2 skipped: no $shared/data/sentiment/sst (set SEQPIPE_SHARED)" >&2
		return 1
	fi
	[ -x "$SST2TSV" ] || { echo "quality: $SST2TSV missing (make bench/sst2tsv)" >&2; exit 1; }
	mkdir -p sst2
	for s in train dev test; do
		"$SST2TSV" binary "$shared/data/sentiment/sst/$s.txt" "sst2/$s.tsv" || exit 1
	done
	"$SST2TSV" --phrases binary "$shared/data/sentiment/sst/train.txt" sst2/train-phrases.tsv || exit 1
}

# The training file of a run, from the run log's resolved parameters.
train_path() {
	sqlite3 "$db" "select value from params where run_id = $1 and section = 'data' and key = 'train'"
}
train_tokens() { # path format
	case $2 in
	conll) grep -cv '^[[:space:]]*$' "$1" ;;
	*) cut -f1 "$1" | wc -w ;;
	esac
}

K=${QUALITY_ENSEMBLE:-1}
is_tagger() { case $1 in ner | ner-btc) return 0 ;; *) return 1 ;; esac; }
# seeds to train: with an ensemble, every member's
train_seeds() {
	if [ "$K" -gt 1 ] && is_tagger "$1"; then
		for s in $seeds; do seq $(((s - 1) * K + 1)) $((s * K)); done
	else
		echo $seeds
	fi
}
run_of() { awk -F'\t' -v t="$1" -v s="$2" '$1 == t && $2 == s { id = $3 } END { print id }' runs.txt 2>/dev/null; }

if [ "${QUALITY_TABLE:-0}" != 1 ]; then
	for task in $tasks; do
		pipe=$(pipe_of "$task")
		extra=()
		if [ "$task" = sst2 ]; then
			sst_ready || continue
			extra=(--set "data.train=\"$PWD/sst2/train-phrases.tsv\"" --set "data.dev=\"$PWD/sst2/dev.tsv\""
				--set "data.test=\"$PWD/sst2/test.tsv\"")
		fi
		for kv in ${QUALITY_SET:-}; do extra+=(--set "$kv"); done
		for seed in $(train_seeds "$task"); do
			[ "$K" -gt 1 ] && [ -n "$(run_of "$task" "$seed")" ] && continue
			log="$task-$seed.log"
			t0=$(date +%s.%N)
			"$PIPELINE" run "$pipe" --db "$db" --set pipeline.seed="$seed" \
				${extra[@]+"${extra[@]}"} >"$log" 2>&1 ||
				{ echo "quality: $task seed $seed failed, see $dir/$log" >&2; exit 1; }
			secs=$(echo "$(date +%s.%N) - $t0" | bc)
			id=$(sqlite3 "$db" "select max(id) from runs")
			printf '%s\t%s\t%s\t%.1f\n' "$task" "$seed" "$id" "$secs" >>runs.txt
			printf 'quality: %-9s seed %s run %-4s %7.1f s\n' "$task" "$seed" "$id" "$secs" >&2
		done
	done
fi

# --- ensembles: each seed's K models on the dev and test files ----------
model_of() { sqlite3 "$db" "select path from artifacts where run_id = $1 and kind = 'model'"; }
param_of() { sqlite3 "$db" "select value from params where run_id = $1 and section = 'data' and key = '$2'"; }
fb1() { sed -n 's/.*FB1: *\([0-9.]*\)$/\1/p' | head -1; }
if [ "$K" -gt 1 ] && [ "${QUALITY_TABLE:-0}" != 1 ]; then
	touch ensembles.txt
	for task in $tasks; do
		is_tagger "$task" || continue
		# this task's rows of this K are replaced
		awk -F'\t' -v t="$task" -v k="$K" '!($1 == t && $2 == k)' ensembles.txt >ensembles.tmp
		mv ensembles.tmp ensembles.txt
		for s in $seeds; do
			models=() wall=0
			for m in $(seq $(((s - 1) * K + 1)) $((s * K))); do
				id=$(run_of "$task" "$m")
				models+=(--model "$(model_of "$id")")
				wall=$(echo "$wall + $(awk -F'\t' -v id="$id" '$3 == id { print $4 }' runs.txt)" | bc)
			done
			t0=$(date +%s.%N)
			log="$task-ensemble$K-$s.log"
			dev=$("$PIPELINE" predict "$(pipe_of "$task")" "${models[@]}" --file "$(param_of "$id" dev)" \
				--report conlleval 2>"$log" | fb1)
			test=$("$PIPELINE" predict "$(pipe_of "$task")" "${models[@]}" --file "$(param_of "$id" test)" \
				--report conlleval 2>>"$log" | fb1)
			wall=$(echo "$wall + $(date +%s.%N) - $t0" | bc)
			[ -n "$dev" ] && [ -n "$test" ] ||
				{ echo "quality: the $task ensemble of seed $s failed, see $dir/$log" >&2; exit 1; }
			printf '%s\t%s\t%s\t%s\t%s\t%.1f\n' "$task" "$K" "$s" "$dev" "$test" "$wall" >>ensembles.txt
		done
	done
fi

# --- the table ---------------------------------------------------------
[ -f runs.txt ] || { echo "quality: no runs in $dir" >&2; exit 1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
final() { # run split metric
	sqlite3 "$db" "select printf('%.2f', 100 * value) from metrics where run_id = $1 and split = '$2' and name = '$3' and epoch is null"
}
printf '%-9s %-15s %-8s %-28s %-28s %8s %8s\n' task data metric "dev % median (seeds)" \
	"test % median (seeds)" "wall s" "tok/s"
cell() { printf '%s (%s)' "$(printf '%s\n' $1 | median)" "$(echo $1 | tr ' ' '/')"; }
for task in $tasks; do
	metric=$(metric_of "$task")
	if [ "$K" -gt 1 ] && is_tagger "$task" && [ -f ensembles.txt ]; then
		rows=$(awk -F'\t' -v t="$task" -v k="$K" -v seeds=" $seeds " \
			'$1 == t && $2 == k && index(seeds, " " $3 " ")' ensembles.txt)
		[ -n "$rows" ] || continue
		printf '%-9s %-15s %-8s %-28s %-28s %8s %8s\n' "$task" "$(data_of "$task") x$K" "$metric" \
			"$(cell "$(printf '%s\n' "$rows" | cut -f4 | tr '\n' ' ')")" \
			"$(cell "$(printf '%s\n' "$rows" | cut -f5 | tr '\n' ' ')")" \
			"$(printf '%s\n' "$rows" | cut -f6 | median)" "-"
		continue
	fi
	# the last run of each seed for this task
	ids=$(awk -F'\t' -v t="$task" -v seeds=" $seeds " '$1 == t && index(seeds, " " $2 " ") { id[$2] = $3 }
		END { for (s in id) print s "\t" id[s] }' runs.txt | sort -n | cut -f2)
	[ -n "$ids" ] || continue
	devs="" tests="" walls="" rates=""
	for id in $ids; do
		devs="$devs $(final "$id" dev "$metric")"
		tests="$tests $(final "$id" test "$metric")"
		walls="$walls $(awk -F'\t' -v id="$id" '$3 == id { print $4 }' runs.txt)"
		fmt=$(sqlite3 "$db" "select value from params where run_id = $id and section = 'data' and key = 'format'")
		ntok=$(train_tokens "$(train_path "$id")" "$fmt")
		rates="$rates $(sqlite3 "$db" "select printf('%.0f', $ntok * count(*) / sum(value))
			from metrics where run_id = $id and name = 'seconds'")"
	done
	printf '%-9s %-15s %-8s %-28s %-28s %8s %8s\n' "$task" "$(data_of "$task")" "$metric" \
		"$(cell "$devs")" "$(cell "$tests")" "$(printf '%s\n' $walls | median)" \
		"$(printf '%s\n' $rates | median)"
done
