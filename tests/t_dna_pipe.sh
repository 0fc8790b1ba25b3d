#!/usr/bin/env bash
# t_dna_pipe.sh: dna.pipe end to end on a slice: the genbank reader's
# windows and k-mers, training, predict --format gff3|bed on whole records
# (GFF3 through `gt gff3validator` when genometools is installed, BED's
# 0-based half-open blocks against GFF3's 1-based closed CDS lines), and
# eval's gene-level figures in AUGUSTUS's layout.
. "$(dirname "$0")/tap.sh"
DNA="$top_srcdir/pipelines/dna.pipe"
TEST="$top_srcdir/data/dna/augustus_fly_genes/genes.gb.test.gz"

# three test records (about 17 kbp), one of them on the minus strand
zcat "$TEST" | awk '{ print } /^\/\// { if (++n == 3) exit }' >three.gb
SLICE="--set data.train=$work/three.gb --set data.dev=$work/three.gb --set data.test=$work/three.gb"
run "$PIPELINE" run "$DNA" $SLICE --set train.epochs=1 --set model.hidden=8 --set model.embed=4 \
	--set data.window=400 --set train.save="$work/slice.spm"
ok $([ $rc -eq 0 ] && contains "$out" "finished" && echo 0 || echo 1) "dna.pipe trains on a slice ($err)"
# 3662 + 8355 + 5239 bases in windows of 400: 10 + 21 + 14 examples
ok $(yes_if contains "$out" "data: 45 train") "records cut into windows of data.window bases ($(printf '%s\n' "$out" | grep '^data:'))"
ok $(yes_if contains "$out" "gene sensors from $work/three.gb: ") "the run learns the decoder's sensors from the training records ($(printf '%s\n' "$out" | grep '^gene sensors'))"
# the three genes have 1 + 8 + 8 introns
ok $(yes_if contains "$out" "; 17 intron lengths (") "the sensors count the training introns' lengths"
run "$PIPELINE" check "$DNA" --set data.signal_weight=-1
ok $([ $rc -eq 1 ] && contains "$err" "data.signal_weight = -1: expected a weight in 0..1000" && echo 0 || echo 1) "a negative sensor weight is refused ($err)"
run "$PIPELINE" check "$DNA" --set data.intron_length_weight=-0.5
ok $([ $rc -eq 1 ] && contains "$err" "data.intron_length_weight = -0.5: expected a weight in 0..1000" && echo 0 || echo 1) "a negative intron length weight is refused ($err)"
run "$PIPELINE" check "$DNA" --set data.kmer=4
ok $([ $rc -eq 1 ] && contains "$err" "data.kmer = 4" && echo 0 || echo 1) "an even k-mer is refused ($err)"
run "$PIPELINE" check "$DNA" --set data.context=1000
ok $([ $rc -eq 1 ] && contains "$err" "data.context = 1000" && echo 0 || echo 1) "context of half a window or more is refused ($err)"
run "$PIPELINE" check "$DNA" --set data.min_intron=-1
ok $([ $rc -eq 1 ] && contains "$err" "data.min_intron = -1: expected 0..100000 bases" && echo 0 || echo 1) "a negative min_intron is refused ($err)"

# predict: whole records, small windows so that each record takes many
run "$PIPELINE" predict "$DNA" --file three.gb --format gff3 --set data.predict_window=300 --set data.context=50
printf '%s\n' "$out" >pred.gff3
ok $([ $rc -eq 0 ] && [ "$(grep -c '^##sequence-region' pred.gff3)" = 3 ] && echo 0 || echo 1) "predict --format gff3: a region per record ($err)"
if command -v gt >/dev/null; then
	gt gff3validator pred.gff3 >/dev/null 2>gt.err
	ok $? "gt gff3validator accepts the prediction ($(head -c 200 gt.err))"
else
	skip "gt (genometools) not installed"
fi
# predict: a bad weight is refused before decoding, by the reader's check
# of the keys, with or without --model FILE (whose configuration gets the
# --set on top)
run "$PIPELINE" predict "$DNA" --file three.gb --format gff3 --set data.signal_weight=-1
ok $([ $rc -ne 0 ] && contains "$err" "signal_weight = -1: expected a weight in 0..1000" && [ -z "$out" ] && echo 0 || echo 1) "predict --set data.signal_weight=-1 is refused ($err)"
run "$PIPELINE" predict "$DNA" --model "$work/slice.spm" --file three.gb --format gff3 --set data.tagger_weight=-2
ok $([ $rc -ne 0 ] && [ "$err" = "pipeline: error: --set data.tagger_weight=-2: data.tagger_weight = -2: expected a weight in 0..1000" ] && [ -z "$out" ] && echo 0 || echo 1) "predict --model F --set data.tagger_weight=-2 is refused ($err)"
# a FASTA file of the same records gives the same genes
zcat "$TEST" | awk '/^LOCUS/ { print ">" $2 } /^ORIGIN/ { s = 1; next } /^\/\// { s = 0 } s { $1 = ""; gsub(/ /, ""); print }' |
	awk '{ print } /^>/ { if (++n == 4) exit }' | head -n -1 >three.fa
run "$PIPELINE" predict "$DNA" --file three.fa --format gff3 --set data.predict_window=300 --set data.context=50
ok $([ $rc -eq 0 ] && [ "$out" = "$(cat pred.gff3)" ] && echo 0 || echo 1) "FASTA and GenBank input give the same GFF3 ($err)"
# a model that predicts genes: the gene grammar on random scores is not
# needed here, the writer's coordinates are; so check BED against GFF3 on
# whatever the model predicted, and on the annotation's own genes below
run "$PIPELINE" predict "$DNA" --file three.gb --format bed --set data.predict_window=300 --set data.context=50
printf '%s\n' "$out" | sed '/^$/d' >pred.bed
# every CDS line (1-based closed) is a BED block (0-based half-open)
awk -F'\t' '$3 == "CDS" { print $1, $4 - 1, $5 }' pred.gff3 | sort >cds.txt
awk -F'\t' '{ n = split($11, sz, ","); split($12, st, ","); for (i = 1; i <= $10; i++) print $1, $2 + st[i], $2 + st[i] + sz[i] }' pred.bed | sort >blocks.txt
ok $([ $rc -eq 0 ] && cmp -s cds.txt blocks.txt && echo 0 || echo 1) "BED blocks are the GFF3 CDS lines shifted to 0-based half-open ($(wc -l <cds.txt) CDS)"

# eval: the usual metrics, then the genes of the test split
run "$PIPELINE" eval "$DNA" $SLICE --set data.predict_window=300 --set data.context=50
ok $([ $rc -eq 0 ] && contains "$out" "Evaluation of gene prediction" && contains "$out" "per-base 3-class accuracy" && echo 0 || echo 1) "eval prints the gene-level evaluation ($err)"
ok $(yes_if contains "$out" "|    3 |") "eval counts the 3 annotated genes"
run "$PIPELINE" predict "$DNA" --input ACGT --format gff3
ok $([ $rc -eq 2 ] && contains "$err" "--format needs predict --file" && echo 0 || echo 1) "--format without --file: exit 2"
run "$PIPELINE" predict "$DNA" --file three.gb --format gtf
ok $([ $rc -eq 2 ] && contains "$err" "expects 'gff3' or 'bed'" && echo 0 || echo 1) "--format gtf: exit 2"
tap_done
