#!/bin/bash
# augustus.sh: AUGUSTUS (Debian 3.5.0, packages augustus and augustus-data)
# on the AUGUSTUS fly gene set shipped in data/dna/augustus_fly_genes (else
# read from $SEQPIPE_SHARED/data/dna/...), run as its tutorial runs it:
#   (i)  its shipped `fly` parameters;
#   (ii) trained on the 486 training records (new_species.pl from the
#        generic template, then etraining; a few seconds of training).
# Both predict the 100 test records with --stopCodonExcludedFromCDS=true
# --UTR=off (these records' CDS exclude the stop codon).  For each run it
# prints AUGUSTUS's own evaluation, then seqpipe's evaluation of the same
# GFF (bench/dna_eval: same definitions plus per-base 3-class accuracy),
# the wall time and peak RSS, and one table of both runs at the end.
#
# Usage (from the build folder): make bench/dna_eval &&
#   W=/tmp/augustus_run bash ../bench/augustus.sh
# REUSE=1 skips the runs and only evaluates the outputs already in $W.
# Needs: augustus, augustus-data; perl for new_species.pl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
D=$here/../data/dna/augustus_fly_genes
[ -f "$D/genes.gb.test" ] || D=${SEQPIPE_SHARED:-$here/../../shared}/data/dna/augustus_fly_genes
EVAL=${DNA_EVAL:-$PWD/bench/dna_eval}
W=${W:-$PWD/augustus_run}
[ -x "$EVAL" ] || { echo "build bench/dna_eval first (make bench/dna_eval)" >&2; exit 1; }
command -v augustus >/dev/null || { echo "apt-get install augustus augustus-data" >&2; exit 1; }
mkdir -p "$W/config/species" && cd "$W"
if [ "${REUSE:-0}" != 1 ]; then
# /usr/share/augustus/config is read-only: a new species needs a copy
export AUGUSTUS_CONFIG_PATH=$W/config
cp -r /usr/share/augustus/config/{cgp,extrinsic,model,parameters,profile} config/
cp -r /usr/share/augustus/config/species/{generic,fly} config/species/
T="/usr/bin/time -v -o"

# (i) the shipped fly parameters
$T fly.time augustus --species=fly --stopCodonExcludedFromCDS=true --UTR=off \
	--gff3=on "$D/genes.gb.test" > fly.out 2> fly.err

# (ii) a new species trained on the training records
rm -rf config/species/seqpipe_fly
perl /usr/share/augustus/scripts/new_species.pl --species=seqpipe_fly > new_species.log
sed -i 's/^stopCodonExcludedFromCDS .*/stopCodonExcludedFromCDS true/' \
	config/species/seqpipe_fly/seqpipe_fly_parameters.cfg
$T train.etraining.time etraining --species=seqpipe_fly "$D/genes.gb.train" \
	> train.etraining.out 2> train.etraining.err
$T train.time augustus --species=seqpipe_fly --UTR=off --gff3=on \
	"$D/genes.gb.test" > train.out 2> train.err
fi

row() { # name: one table row from dna_eval's summary and the time file
	local r=$1 wall rss
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' $r.time)
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' $r.time)
	awk -v name="$r" -v wall="$wall" -v rss="$rss" '
		/^nucleotide level/ { split($0, a, "|"); nsn = a[2] + 0; nsp = a[3] + 0 }
		/^exon level/       { split($0, a, "|"); esn = a[7] + 0; esp = a[8] + 0 }
		/^gene level/       { split($0, a, "|"); gsn = a[7] + 0; gsp = a[8] + 0 }
		/^per-base 3-class accuracy/ { acc = $NF }
		END { printf "| AUGUSTUS %s | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %s | %s | %d MB |\n",
			name, nsn, nsp, esn, esp, gsn, gsp, acc, wall, rss / 1024 }' $r.eval
}

for r in fly train; do
	echo "=== AUGUSTUS $r: its own evaluation"
	grep -A 24 'Evaluation of gene prediction' $r.out | sed -n '1,24p'
	echo "=== AUGUSTUS $r: seqpipe's evaluation of its GFF"
	# its own GFF3 lines only (stdout also holds the annotation, source
	# "database", and text that is not GFF)
	awk -F'\t' 'NF == 9 && $2 == "AUGUSTUS"' $r.out > $r.gff3
	"$EVAL" "$D/genes.gb.test" $r.gff3 AUGUSTUS > $r.eval
	cat $r.eval
	grep -E 'Elapsed|Maximum resident' $r.time
done
echo
echo "| run | nucleotide coding Sn / Sp | exon Sn / Sp | gene Sn / Sp | per-base 3-class accuracy | wall | peak RSS |"
echo "|---|---|---|---|---|---|---|"
row train
row fly
