#!/usr/bin/env bash
# predict_speed.sh: how fast `pipeline predict F.pipe --file PATH` tags a
# CoNLL file with a trained model, start-up included and excluded.
#
#   bench/predict_speed.sh [PIPE [FILE]]   (defaults: pipelines/ner.pipe
#                                           and the WNUT-17 test file)
#
# Run it where the pipe's run log is (or set PREDICT_DB): the model is the
# one `pipeline predict` picks, the pipe's last finished run.  Each
# measurement is the median of PREDICT_REPS (default 5) processes' wall and
# CPU (user + system) times:
#   included  the whole file: start-up (plugins, vocabulary, model file),
#             reading, tagging and writing the CoNLL columns
#   excluded  the whole file minus the first sentence alone (the same
#             start-up, one sentence of work), over the tokens in between
# The load average before and after is printed: on a shared machine the
# figures are only as good as the CPU the other processes left.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PIPELINE="$top_builddir/pipeline"
pipe=${1:-$top_srcdir/pipelines/ner.pipe}
file=${2:-$top_srcdir/data/ner/wnut17/emerging.test.annotated}
reps=${PREDICT_REPS:-5}
db=()
[ -n "${PREDICT_DB:-}" ] && db=(--db "$PREDICT_DB")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the first sentence alone
awk '{ print } /^[[:space:]]*$/ { exit }' "$file" >"$work/one.conll"
ntok=$(grep -cv '^[[:space:]]*$' "$file")
n1=$(grep -cv '^[[:space:]]*$' "$work/one.conll")

# measure FILE: "wall cpu" medians of $reps predicts (cpu = user + system
# seconds of the process, which the other processes' load does not inflate
# as much as the wall time)
measure() {
	for _ in $(seq "$reps"); do
		/usr/bin/time -f '%e %U %S' -o "$work/time" \
			"$PIPELINE" ${db[@]+"${db[@]}"} predict "$pipe" --file "$1" >"$work/out" 2>"$work/err" ||
			{ echo "predict_speed: predict failed: $(cat "$work/err")" >&2; exit 1; }
		awk '{ print $1, $2 + $3 }' "$work/time"
	done >"$work/times"
	echo "$(cut -d' ' -f1 "$work/times" | sort -g | med) $(cut -d' ' -f2 "$work/times" | sort -g | med)"
}
med() { awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r full fullc <<<"$(measure "$file")"
read -r one onec <<<"$(measure "$work/one.conll")"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$ntok" -v n1="$n1" -v f="$full" -v o="$one" -v fc="$fullc" -v oc="$onec" 'BEGIN {
	printf "%d tokens: %.2f s wall (%.2f s CPU), start-up included: %.0f tokens/s (%.0f per CPU second)\n", n, f, fc, n / f, n / fc
	printf "one sentence (%d tokens): %.2f s wall (%.2f s CPU): the start-up\n", n1, o, oc
	if (f > o && fc > oc)
		printf "start-up excluded: %.0f tokens/s (%.0f per CPU second; %d tokens in %.2f s, %.2f s CPU)\n", (n - n1) / (f - o), (n - n1) / (fc - oc), n - n1, f - o, fc - oc
}'
