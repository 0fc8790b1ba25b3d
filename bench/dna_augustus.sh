#!/bin/bash
# dna_augustus.sh: seqpipe's dna.pipe next to AUGUSTUS on the 100 test
# records of the fly gene set (625 kbp): the trained model's genes
# (`pipeline predict --format gff3`, timed: wall, user+sys CPU, peak RSS)
# scored by bench/dna_eval with AUGUSTUS's definitions, and one table with
# AUGUSTUS's rows.  AUGUSTUS=1 runs AUGUSTUS too (bench/augustus.sh, needs
# the augustus packages) and takes its rows from that run; otherwise the
# rows are the figures measured for issue 9 (AUGUSTUS 3.5.0, this machine).
#
# Usage (from the build folder, after `pipeline run ../pipelines/dna.pipe`
# in the folder whose runs.db holds the run):
#   make bench/dna_eval && bash ../bench/dna_augustus.sh [MODEL.spm]
# SETS="--set data.gene_logp=-20 ..." passes decoding keys to predict.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$PWD
PIPE=$here/../pipelines/dna.pipe
TEST=$here/../data/dna/augustus_fly_genes/genes.gb.test.gz
W=${W:-$PWD/dna_bench}
mkdir -p "$W"
[ -x "$B/bench/dna_eval" ] || { echo "build bench/dna_eval first (make bench/dna_eval)" >&2; exit 1; }
zcat "$TEST" >"$W/genes.gb.test"
model=()
[ $# -ge 1 ] && model=(--model "$1")

/usr/bin/time -v -o "$W/seqpipe.time" "$B/pipeline" predict "$PIPE" "${model[@]}" \
	--file "$TEST" --format gff3 ${SETS:-} >"$W/seqpipe.gff3"
"$B/bench/dna_eval" "$W/genes.gb.test" "$W/seqpipe.gff3" >"$W/seqpipe.eval"
cat "$W/seqpipe.eval"
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/seqpipe.time")
user=$(sed -n 's/.*User time (seconds): //p' "$W/seqpipe.time")
sys=$(sed -n 's/.*System time (seconds): //p' "$W/seqpipe.time")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/seqpipe.time")
echo "seqpipe predict: wall $wall, CPU $(echo "$user + $sys" | bc) s (user $user, sys $sys), peak RSS $((rss / 1024)) MB, load $(cut -d' ' -f1-3 /proc/loadavg)"

aug_rows() {
	if [ "${AUGUSTUS:-0}" = 1 ]; then
		(cd "$W" && DNA_EVAL="$B/bench/dna_eval" W="$W/augustus" bash "$here/augustus.sh" | grep '^| AUGUSTUS')
	else
		echo "| AUGUSTUS trained on the 486 training records (issue 9) | 0.975 / 0.890 | 0.839 / 0.775 | 0.530 / 0.449 | 0.743 | 26 s | 138 MB |"
		echo "| AUGUSTUS shipped fly parameters (issue 9) | 0.987 / 0.895 | 0.905 / 0.834 | 0.670 / 0.638 | 0.853 | 26 s | 161 MB |"
	fi
}
echo
echo "| run | nucleotide coding Sn / Sp | exon Sn / Sp | gene Sn / Sp | per-base 3-class accuracy | wall | peak RSS |"
echo "|---|---|---|---|---|---|---|"
awk -v wall="$wall" -v cpu="$(echo "$user + $sys" | bc)" -v rss="$rss" '
	/^nucleotide level/ { split($0, a, "|"); nsn = a[2] + 0; nsp = a[3] + 0 }
	/^exon level/       { split($0, a, "|"); esn = a[7] + 0; esp = a[8] + 0 }
	/^gene level/       { split($0, a, "|"); gsn = a[7] + 0; gsp = a[8] + 0 }
	/^per-base 3-class accuracy/ { acc = $NF }
	END { printf "| seqpipe dna.pipe | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %.3f | %s (CPU %s s) | %d MB |\n",
		nsn, nsp, esn, esp, gsn, gsp, acc, wall, cpu, rss / 1024 }' "$W/seqpipe.eval"
aug_rows
