#!/usr/bin/env bash
# t_mpi.sh: data-parallel training over MPI (core/sp_dist.h).  On one
# machine, loopback only, `mpirun -np 2 pipeline run` gives the metrics of
# every epoch and the final dev/test figures of the one-process run with
# the same seed and the same fixed parts of a batch (train.parts = 2,
# core/sp_partsum.h), within 1e-5 relative and in fact bit for bit: a
# bidirectional LSTM tagger with dropout (batches of 7 in parts of 4 + 3),
# with word dropout too, its confusion matrix and samples, ner.pipe, and
# a classifier; a character LM trained with truncated BPTT (the stream's
# rows split; not in fixed parts) within 1e-5.
# Rank 0 alone logs; a run resumed from an MPI checkpoint, with 2 ranks
# or 1, ends as the uninterrupted run; a run that fails on the ranks is
# logged as failed.  Skipped unless configured --with-mpi.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PIPELINE="$top_builddir/pipeline"
if [ "${SEQPIPE_MPI:-no}" = no ] || [ -z "${MPIRUN:-}" ]; then
	echo "1..0 # SKIP not configured --with-mpi"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# mpirun as root (CI containers), more ranks than cores, and nothing but
# the loopback: shared memory between the ranks, the runtime's own
# messages over lo, no other interface probed
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
export OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_vader_single_copy_mechanism=none
# a rank waiting for the other gives up its core (more ranks than free cores)
export OMPI_MCA_mpi_yield_when_idle=1
mpi2() { "$MPIRUN" -np 2 "$@"; }

n=0
ok() { # cond-status, description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
run() {
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	err=$(tail -3 "$work/err")
}
# the split metrics of run 1 of a log (each epoch's train and dev, the
# final train, dev and test), one "key value" a line
metrics() {
	sqlite3 -separator ' ' "$1" "select coalesce(epoch, 'final') || '.' || split || '.' || name,
		printf('%.17g', value) from metrics where run_id = 1 and split is not null order by 1"
}
# same keys, values within 1e-5 relative (1e-9 absolute near 0), or the
# tolerance $3; prints the count compared and the worst key
same() { # db1 db2 [tolerance]
	metrics "$1" >"$work/m1"
	metrics "$2" >"$work/m2"
	join "$work/m1" "$work/m2" | awk -v n1="$(wc -l <"$work/m1")" -v n2="$(wc -l <"$work/m2")" -v tol="${3:-1e-5}" '
		{ d = $2 - $3; d = d < 0 ? -d : d; m = $2 < 0 ? -$2 : $2
		  r = m > 1e-4 ? d / m : d / 1e-4; k++
		  if (r > worst) { worst = r; key = $1 } }
		END { printf "%d metrics, worst %s %.2g", k, key, worst
		      exit !(k > 0 && k == n1 && k == n2 && worst <= tol + 0) }'
}
status() { sqlite3 "$1" "select group_concat(status, ',') from runs"; }
# bit for bit: the same weights (the model files' bytes), and metrics
# within 1e-12 (the metric sums of the ranks' parts are added in another
# order, double precision)
identical() { # db1 db2 model1 model2
	cmp -s "$3" "$4" && same "$1" "$2" 1e-12 >/dev/null
}
# the final confusion matrices and samples of run 1, one row a line
evalrec() {
	sqlite3 -separator ' ' "$1" "select split, gold, pred, count from confusion where run_id = 1 order by 1, 2, 3;
		select split, input, gold, pred from samples where run_id = 1 order by id"
}

echo 1..17
tiny="$top_srcdir/tests/data/tiny"
cat >tag.pipe <<PIPE
[pipeline]
name = tag
seed = 7
[data]
format = conll
train = "$tiny/ner_train.conll"
dev = "$tiny/ner_dev.conll"
test = "$tiny/ner_dev.conll"
[encode]
plugin = onehot
min_count = 1
[model]
plugin = lstm
embed = 16
hidden = 12
bidirectional = true
embed_dropout = 0.3
[head]
plugin = tagger
dropout = 0.3
[train]
optimizer = adam
lr = 0.02
epochs = 4
batch = 7
clip_norm = 5
PIPE

# (the same settings, saved under the same name, so that the model files
# can be compared byte for byte)
run "$PIPELINE" --db one.db --vocab-db v1.db run tag.pipe --quiet --set train.save=m.spm --set train.parts=2
ok $rc "one process trains the tagger ($err)"
mv m.spm one.spm
run mpi2 "$PIPELINE" --db two.db --vocab-db v2.db run tag.pipe --quiet --set train.save=m.spm --set train.parts=2
ok $rc "mpirun -np 2 trains it ($err)"
mv m.spm two.spm && mv m.last.spm two.last.spm
s=$(status two.db)
[ "$s" = finished ] && [ -f two.spm ] && [ -f two.last.spm ] && [ -f v2.db ]
ok $? "rank 0 alone logs one run ($s) and writes the model, checkpoint and vocabulary"
msg=$(same one.db two.db)
ok $? "2 ranks: every epoch's metrics and the final dev/test equal one process ($msg)"
identical one.db two.db one.spm two.spm
ok $? "... bit for bit: the same model file, metrics within 1e-12 ($(same one.db two.db 1e-12))"
evalrec one.db >"$work/e1"
evalrec two.db >"$work/e2"
grep -q '^dev ' "$work/e1" && cmp -s "$work/e1" "$work/e2"
ok $? "2 ranks: the final confusion matrices and samples are the one process's ($(wc -l <"$work/e1") rows, $(wc -l <"$work/e2") with 2 ranks)"
set -- --quiet --set train.save=m.spm --set train.parts=2 --set model.word_dropout=0.3 --set train.epochs=2
run "$PIPELINE" --db w1.db --vocab-db wv1.db run tag.pipe "$@"
mv m.spm w1.spm
run mpi2 "$PIPELINE" --db w2.db --vocab-db wv2.db run tag.pipe "$@"
mv m.spm w2.spm
identical w1.db w2.db w1.spm w2.spm
ok $? "2 ranks with word dropout: the one process's metrics bit for bit ($(same w1.db w2.db); $err)"

# resume: 2 epochs on 2 ranks, then 2 more on 2 ranks, and on 1
run mpi2 "$PIPELINE" --db r.db --vocab-db v3.db run tag.pipe --quiet --set train.save=r.spm --set train.epochs=2
ok $rc "2 ranks train 2 epochs ($err)"
cp r.last.spm r1.last.spm
run mpi2 "$PIPELINE" --db r2.db --vocab-db v3.db run tag.pipe --quiet --resume r.last.spm --set train.epochs=4
s=$(status r2.db)
[ $rc -eq 0 ] && [ "$s" = finished ] && grep -q . "$work/out"
ok $? "2 ranks resume the 2-rank checkpoint to epoch 4 ($s; $err)"
f() { sqlite3 -separator ' ' "$1" "select split || '.' || name, printf('%.17g', value) from metrics where epoch is null and split in ('dev', 'test') order by 1"; }
cmp_final() { # db: final dev/test figures equal one.db's
	f one.db >"$work/f1"
	f "$1" >"$work/f2"
	join "$work/f1" "$work/f2" | awk '{ d = $2 - $3; d = d < 0 ? -d : d; m = $2 < 0 ? -$2 : $2; if (d > 1e-5 * (m > 1e-4 ? m : 1e-4)) bad++; k++ }
		END { printf "%d figures", k; exit !(k > 0 && !bad) }'
}
msg=$(cmp_final r2.db)
ok $? "... and ends with the uninterrupted run's dev and test figures ($msg)"
run "$PIPELINE" --db r3.db --vocab-db v3.db run tag.pipe --quiet --resume r1.last.spm --set train.epochs=4 --set train.parts=2
msg=$(cmp_final r3.db)
ok $? "one process resumes the same checkpoint to the same figures ($msg; $err)"

# a character LM with truncated BPTT: the rows of the stream are split
cat >lm.pipe <<PIPE
[pipeline]
name = lm
seed = 3
[data]
format = lines
train = "$top_srcdir/README.md"
dev = "$top_srcdir/doc/plugins.md"
[tokenize]
plugin = chars
[encode]
plugin = onehot
[model]
plugin = gru
embed = 8
hidden = 16
embed_dropout = 0.2
[head]
plugin = lm
dropout = 0.2
[train]
optimizer = adam
lr = 0.01
epochs = 2
batch = 5
bptt = 25
PIPE
run "$PIPELINE" --db lm1.db --vocab-db lv1.db run lm.pipe --quiet --set train.save=lm1.spm
ok $rc "one process trains the LM ($err)"
run mpi2 "$PIPELINE" --db lm2.db --vocab-db lv2.db run lm.pipe --quiet --set train.save=lm2.spm
msg=$(same lm1.db lm2.db)
ok $? "2 ranks: the LM's metrics equal one process ($msg; $err)"

# a classifier (one dropout row per sequence), on generated data
set -- --quiet --set head.dropout=0.3 --set train.batch=7 --set train.epochs=3 --set train.instruments=false
run "$PIPELINE" --db c1.db --vocab-db cv1.db run "$top_srcdir/pipelines/vanishing.pipe" "$@" --set train.save=c1.spm --set train.parts=2
run mpi2 "$PIPELINE" --db c2.db --vocab-db cv2.db run "$top_srcdir/pipelines/vanishing.pipe" "$@" --set train.save=c2.spm
msg=$(same c1.db c2.db)
ok $? "2 ranks: a classifier with dropout equals one process ($msg; $err)"

# ner.pipe (train.parts = 2) for 2 epochs on the first 1,000 sentences
# of each split: every epoch's losses and F1, and the final dev and test
# figures, one process against 2 ranks
ner="$top_srcdir/pipelines/ner.pipe"
if [ -r "$top_srcdir/data/ner/wnut17/wnut17train.conll" ]; then
	set -- --quiet --set train.epochs=2 --set data.max_examples=1000 --set train.save=m.spm
	run "$PIPELINE" --db n1.db --vocab-db nv1.db run "$ner" "$@"
	mv m.spm n1.spm
	run mpi2 "$PIPELINE" --db n2.db --vocab-db nv2.db run "$ner" "$@"
	mv m.spm n2.spm
	msg=$(same n1.db n2.db)
	r=$?
	identical n1.db n2.db n1.spm n2.spm && msg="$msg, the same model file"
	ok $r "2 ranks: ner.pipe's losses and dev/test figures equal one process ($msg; $err)"
else
	n=$((n + 1))
	echo "ok $n # SKIP no WNUT-17 data"
fi

# 3 ranks cannot share 2 parts evenly: refused with the key to set
run "$MPIRUN" -np 3 "$PIPELINE" --db p3.db --vocab-db v5.db run tag.pipe --quiet --set train.parts=2
[ $rc -ne 0 ] && grep -q 'train.parts' "$work/err"
ok $? "3 ranks and train.parts = 2 are refused ($err)"

# a divergence on the ranks ends every rank and is logged as diverged
run mpi2 "$PIPELINE" --db bad.db --vocab-db v4.db run tag.pipe --quiet --set train.save=bad.spm \
	--set train.lr=1e6 --set train.clip_norm=0
s=$(status bad.db)
[ $rc -ne 0 ] && [ "$s" = diverged ] && grep -q 'diverged' "$work/err"
ok $? "a run that diverges on the ranks stops them all, logged as diverged ($s; $err)"
