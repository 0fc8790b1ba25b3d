#!/usr/bin/env bash
# vanishing.sh: the vanishing-gradient lesson as one table.  Trains
# pipelines/vanishing-rnn.pipe, vanishing.pipe (LSTM) and vanishing-gru.pipe
# (the generated "recall" task: the label is the first of T symbols, read
# from the last state only), which share one budget (hidden 32, Adam at lr
# 0.003, 2,500 examples, 8 epochs; the LSTM's forget gate and the GRU's
# update gate start at σ(3) = 0.95), for several T and three seeds each
# (one run is too noisy to read), into one run log, then prints
#
#   - the test accuracy per cell and T, the mean over the seeds and how
#     many seeds reached 0.9 (chance is 1/classes = 0.25), and
#   - the gradient-norm decay per cell and T: log10 ||dL/dh(1)|| /
#     ||dL/dh(T)|| on the instrument batch after the first and after the
#     last epoch, i.e. how much of the error signal at the last step
#     reaches the first one (the key); -3 means a thousand times weaker.
#
#   bench/vanishing.sh [T...]          in the build tree (default 25 50 100)
#   make vanishing                     the same
#
# VANISH_DIR (default ./vanishing-runs) keeps runs.db, so that
#   pipeline report RNN_RUN LSTM_RUN -o vanishing.html
# draws the dh_norm curves of two runs side by side afterwards.
# VANISH_EPOCHS, VANISH_TRAIN, VANISH_LR, VANISH_SEEDS override the budget
# (default: the .pipe's 8, 2500, 0.003; seeds "1 2 3"); VANISH_FB and
# VANISH_UB the LSTM's forget_bias and the GRU's update_bias (default 3
# and 3; 1 and 0 are the cells' defaults, where the LSTM is unreliable
# and the GRU fails from T = 50); VANISH_DISTRACT=true draws the noise
# from the keys too (data.distractors).  VANISH_TABLE=1 only prints the
# tables of the runs already in VANISH_DIR (give the same T and settings).
# The default 27 runs took 25 s of CPU (user+sys) in all (README.md).
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PIPELINE="$top_builddir/pipeline"
pipes="$top_srcdir/pipelines"
dir=${VANISH_DIR:-vanishing-runs}
epochs=${VANISH_EPOCHS:-8}
ntrain=${VANISH_TRAIN:-2500}
lr=${VANISH_LR:-0.003}
distract=${VANISH_DISTRACT:-false}
seeds=${VANISH_SEEDS:-1 2 3}
fb=${VANISH_FB:-3}
ub=${VANISH_UB:-3}
cells="rnn lstm gru"
lengths=${*:-25 50 100}
mkdir -p "$dir"
case $top_builddir in /*) ;; *) top_builddir=$PWD/$top_builddir; PIPELINE="$top_builddir/pipeline" ;; esac
case $pipes in /*) ;; *) pipes=$PWD/$pipes ;; esac
cd "$dir" # runs.db, vocab.db and models/ of the comparison stay together
dir=.
db=runs.db
[ "${VANISH_TABLE:-0}" = 1 ] || : >"$dir/runs.txt"

# VANISH_TABLE=1: print the tables of the runs already in VANISH_DIR
[ "${VANISH_TABLE:-0}" = 1 ] || for T in $lengths; do
	for cell in $cells; do
		for seed in $seeds; do
			t0=$(date +%s.%N)
			case $cell in # one .pipe per cell: [model] keys differ
			rnn) set -- "$pipes/vanishing-rnn.pipe" ;;
			lstm) set -- "$pipes/vanishing.pipe" --set model.forget_bias="$fb" ;;
			gru) set -- "$pipes/vanishing-gru.pipe" --set model.update_bias="$ub" ;;
			esac
			"$PIPELINE" run "$@" --db "$db" --set pipeline.seed="$seed" \
				--set data.length="$T" \
				--set train.epochs="$epochs" --set data.n_train="$ntrain" \
				--set train.lr="$lr" --set data.distractors="$distract" \
				>"$dir/$cell-$T-$seed.log" 2>&1 ||
				{ echo "vanishing: $cell T=$T seed $seed failed, see $dir/$cell-$T-$seed.log" >&2; exit 1; }
			id=$(sqlite3 "$db" "select max(id) from runs")
			secs=$(echo "$(date +%s.%N) - $t0" | bc)
			printf '%s\t%s\t%s\t%s\t%.1f\n' "$cell" "$T" "$seed" "$id" "$secs" >>"$dir/runs.txt"
			printf 'vanishing: %-4s T=%-4s seed %s run %-4s %6.1f s\n' "$cell" "$T" "$seed" "$id" "$secs" >&2
		done
	done
done

acc() { # run -> final test accuracy
	sqlite3 "$db" "select printf('%.3f', value) from metrics where run_id = $1 and epoch is null and split = 'test' and name = 'accuracy'"
}
decay() { # run T epoch -> log10 ||dL/dh(t=1)|| / ||dL/dh(t=T)|| (steps are logged from t0)
	sqlite3 "$db" "select case when b.value > 0 then printf('%.1f', log10(b.value / a.value)) else '-inf' end
		from metrics a, metrics b
		where a.run_id = $1 and b.run_id = $1 and a.epoch = $3 and b.epoch = $3
		and a.name = 'dh_norm.l0.t$(($2 - 1))' and b.name = 'dh_norm.l0.t0' and a.value > 0"
}
ids() { awk -v c="$1" -v t="$2" '$1 == c && $2 == t { print $4 }' "$dir/runs.txt"; }
nseeds=$(echo $seeds | wc -w)

echo
echo "recall, classes 4 (chance 0.25), hidden 32, $ntrain training examples, $epochs epochs, Adam lr $lr, lstm forget_bias $fb, gru update_bias $ub, distractors $distract, seeds: $seeds"
echo
echo "test accuracy: mean over the seeds (seeds that reached 0.9)"
printf '%-6s' T; for cell in $cells; do printf '%14s' "$cell"; done; echo
for T in $lengths; do
	printf '%-6s' "$T"
	for cell in $cells; do
		cellv=$(for id in $(ids "$cell" "$T"); do acc "$id"; done |
			awk '{ s += $1; k += $1 >= 0.9; n++ } END { if (n) printf "%.2f (%d/%d)", s / n, k, n }')
		printf '%14s' "$cellv"
	done
	echo
done
echo
echo "gradient decay: log10 ||dL/dh(1)|| / ||dL/dh(T)||, mean over the seeds, after the first / the last epoch"
printf '%-6s' T; for cell in $cells; do printf '%14s' "$cell"; done; echo
for T in $lengths; do
	printf '%-6s' "$T"
	for cell in $cells; do
		first=$(for id in $(ids "$cell" "$T"); do decay "$id" "$T" 0; done | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n }')
		last=$(for id in $(ids "$cell" "$T"); do decay "$id" "$T" $((epochs - 1)); done | awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n }')
		printf '%14s' "$first / $last"
	done
	echo
done
echo
echo "runs: $PWD/runs.db (cell, T, seed, run, seconds in $PWD/runs.txt)"
