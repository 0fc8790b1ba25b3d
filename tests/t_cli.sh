#!/usr/bin/env bash
# t_cli.sh: the `pipeline` program end to end: exit codes, one-line error
# messages naming file:line, the "hello" RNN converging, predictions,
# trace, the run log's rows, interrupted and failed runs, determinism.
. "$(dirname "$0")/tap.sh"
HELLO="$top_srcdir/pipelines/hello.pipe"

# run CMD...: sets out, err, rc

# --- the command line itself ---------------------------------------------
run "$PIPELINE" --version
ok $([ $rc -eq 0 ] && contains "$out" "seqpipe" && echo 0 || echo 1) "--version exits 0 and names seqpipe"
run "$PIPELINE" --help
ok $([ $rc -eq 0 ] && contains "$out" "predict" && echo 0 || echo 1) "--help lists the commands"
run "$PIPELINE" run --help
ok $([ $rc -eq 0 ] && contains "$out" "usage: pipeline run" && echo 0 || echo 1) "run --help"
run "$PIPELINE" frobnicate
ok $([ $rc -eq 2 ] && contains "$err" "unknown command 'frobnicate'" && echo 0 || echo 1) "unknown command: exit 2"
run "$PIPELINE" run
ok $([ $rc -eq 2 ] && echo 0 || echo 1) "run without a file: exit 2"
run "$PIPELINE" run --bogus x.pipe
ok $([ $rc -eq 2 ] && contains "$err" "unknown option '--bogus'" && echo 0 || echo 1) "unknown option: exit 2"
run "$PIPELINE" run missing.pipe
ok $([ $rc -eq 1 ] && contains "$err" "missing.pipe: cannot open" && echo 0 || echo 1) "missing .pipe: exit 1, names the file"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]
ok $? "the error is one line"

# --- malformed and invalid .pipe files -----------------------------------
printf '[pipeline]\nname = "broken\n' >broken.pipe
run "$PIPELINE" check broken.pipe
ok $([ $rc -eq 1 ] && contains "$err" "broken.pipe:2:8" && echo 0 || echo 1) "unterminated string: file:line:col ($err)"
sed 's/^hidden = 3/hiden = 3/' "$HELLO" >typo.pipe
sed -i "s|\"../data/hello/train.txt\"|\"$top_srcdir/data/hello/train.txt\"|" typo.pipe
run "$PIPELINE" check typo.pipe
ok $([ $rc -eq 1 ] && contains "$err" "typo.pipe:" && contains "$err" "unknown key 'hiden'" && echo 0 || echo 1) "unknown key is an error naming file:line ($err)"
run "$PIPELINE" check "$HELLO" --set model.plugin=lsmt
ok $([ $rc -eq 1 ] && contains "$err" "lsmt" && contains "$err" "lstm" && echo 0 || echo 1) "unknown plugin lists the known ones"
run "$PIPELINE" check "$HELLO" --set model.hidden=-3
ok $([ $rc -eq 1 ] && contains "$err" "hidden" && echo 0 || echo 1) "hidden = -3 refused by the model ($err)"
run "$PIPELINE" check "$HELLO" --set train.lr=fast
ok $([ $rc -eq 1 ] && contains "$err" "--set train.lr=fast" && echo 0 || echo 1) "wrong type in an override names the override ($err)"
run "$PIPELINE" check "$HELLO"
ok $([ $rc -eq 0 ] && echo 0 || echo 1) "hello.pipe checks ok"

# --- the course's "hello" RNN ------------------------------------------------
run "$PIPELINE" run "$HELLO"
ok $([ $rc -eq 0 ] && contains "$out" "run 1 finished" && echo 0 || echo 1) "hello trains (exit $rc: $err)"
final=$(sql "select value from metrics where run_id=1 and epoch is null and split='train' and name='loss'")
first=$(sql "select value from metrics where run_id=1 and epoch=0 and split='train' and name='loss'")
awk -v a="$first" -v b="$final" 'BEGIN { exit !(b < 0.1 && b < a / 5) }'
ok $? "hello converges: train loss $first -> $final"
run "$PIPELINE" eval "$HELLO"
loss=$(printf '%s\n' "$out" | awk '$1 == "train" { for (i = 2; i < NF; i++) if ($i == "loss") print $(i + 1) }')
ok $([ $rc -eq 0 ] && [ -n "$loss" ] && [ "$(sql "select value = $loss from metrics where run_id=1 and epoch is null and split='train' and name='loss'")" = 1 ] && echo 0 || echo 1) "the saved model, loaded again, reproduces the logged final loss bit for bit ($loss)"
run "$PIPELINE" predict "$HELLO" --input hell
ok $([ $rc -eq 0 ] && contains "$out" "next: 'o'" && echo 0 || echo 1) "predict hell -> 'o' first ($out)"
run "$PIPELINE" predict "$HELLO" --input hel
ok $([ $rc -eq 0 ] && contains "$out" "next: 'l'" && echo 0 || echo 1) "predict hel -> 'l' first: the hidden state tells the two l's apart"
run "$PIPELINE" predict "$HELLO" --input hez
ok $([ $rc -eq 1 ] && contains "$err" "--input" && contains "$err" "'z'" && echo 0 || echo 1) "a character outside the vocabulary is an error ($err)"
run "$PIPELINE" trace "$HELLO" --input hell
ok $([ $rc -eq 0 ] && contains "$out" "x(t)" && contains "$out" "Whh·h(t-1) + b" && contains "$out" "softmax(y(t))" && contains "$out" "(4x1)" && contains "$out" "(3x1)" && echo 0 || echo 1) "trace shows x(t), Whh·h(t-1)+b, softmax with shapes"
ok $(contains "$out" "{h, e, l, o}" && contains "$out" "initial" && echo 0 || echo 1) "trace: vocabulary {h, e, l, o}, initial weights"
run "$PIPELINE" trace "$HELLO" --input hell --trained
ok $([ $rc -eq 0 ] && contains "$out" "trained" && echo 0 || echo 1) "trace --trained"

# the run log
ok $([ "$(sql "select status from runs where id=1")" = finished ] && echo 0 || echo 1) "run 1 is finished in runs.db"
ok $([ "$(sql "select count(*) from metrics where run_id=1 and split='train' and name='loss' and epoch is not null")" = 300 ] && echo 0 || echo 1) "one train loss per epoch (300)"
ok $([ "$(sql "select value from params where run_id=1 and section='model' and key='hidden'")" = 3 ] && echo 0 || echo 1) "resolved parameters logged"
ok $([ "$(sql "select count(*) from stages where run_id=1")" -ge 4 ] && echo 0 || echo 1) "stages logged with plugin versions"
model=$(sql "select path from artifacts where run_id=1 and kind='model'")
ok $([ -s "$model" ] && echo 0 || echo 1) "model artifact exists ($model)"
run "$PIPELINE" runs
ok $([ $rc -eq 0 ] && contains "$out" "hello" && contains "$out" "finished" && echo 0 || echo 1) "pipeline runs lists the run"
run "$PIPELINE" show 1
ok $([ $rc -eq 0 ] && contains "$out" "[model]" && contains "$out" "    hidden = 3" && echo 0 || echo 1) "pipeline show 1"
run "$PIPELINE" vocab hello
ok $([ $rc -eq 0 ] && contains "$out" "4 tokens" && echo 0 || echo 1) "pipeline vocab hello: 4 tokens"
run "$PIPELINE" plugins
ok $([ $rc -eq 0 ] && contains "$out" "lstm" && contains "$out" "icu_words" && contains "$out" "tagger" && echo 0 || echo 1) "pipeline plugins lists the components"

# determinism: same seed, same losses bit for bit
run "$PIPELINE" run "$HELLO"
a=$(sql "select group_concat(value) from (select value from metrics where run_id=1 and name='loss' order by epoch, split)")
b=$(sql "select group_concat(value) from (select value from metrics where run_id=2 and name='loss' order by epoch, split)")
ok $([ -n "$a" ] && [ "$a" = "$b" ] && echo 0 || echo 1) "a second run with the same seed gives identical losses"
run "$PIPELINE" run "$HELLO" --set pipeline.seed=7 --set train.epochs=5
c=$(sql "select group_concat(value) from (select value from metrics where run_id=3 and name='loss' and epoch < 5 order by epoch, split)")
a5=$(sql "select group_concat(value) from (select value from metrics where run_id=1 and name='loss' and epoch < 5 order by epoch, split)")
ok $([ "$c" != "$a5" ] && echo 0 || echo 1) "another seed, other losses"

# pretrained vectors, frozen: the model's embedding rows are the file's
V="$top_srcdir/tests/data/vectors"
run "$PIPELINE" run "$HELLO" --set pipeline.name=vec --set model.embed=4 --set train.epochs=20 \
	--set "encode.vectors=\"$V/hello.w2v\"" --set encode.freeze=true
ok $([ $rc -eq 0 ] && contains "$out" "vectors: 2 of 4 vocabulary entries found" && echo 0 || echo 1) "pretrained vectors: 2 of 4 found, counted ($err)"
vmodel=$(sql "select path from artifacts a join runs r on r.id=a.run_id where r.pipeline='vec' and kind='model'")
run "$PIPELINE" model "$vmodel" --tensor model.embed
ok $([ $rc -eq 0 ] && contains "$out" "0.5 0.25 -0.125 1" && contains "$out" "1 2 3 4" && echo 0 || echo 1) "frozen vectors unchanged after training"
run "$PIPELINE" run "$HELLO" --set pipeline.name=vec2 --set model.embed=4 --set "encode.vectors=\"$V/short.vec\""
ok $([ $rc -eq 1 ] && contains "$err" "short.vec:1:" && contains "$err" "expected 4" && echo 0 || echo 1) "a short vector line: file:line and the dimension expected ($err)"
run "$PIPELINE" run "$HELLO" --set pipeline.name=vec3 --set "encode.vectors=\"$V/hello.w2v\""
ok $([ $rc -eq 1 ] && contains "$err" "no embedding table" && echo 0 || echo 1) "vectors without an embedding table are refused ($err)"

# resume: a 6-epoch run's checkpoint resumed to 12 epochs trains exactly
# like a 12-epoch run
run "$PIPELINE" run "$HELLO" --set pipeline.name=full --set train.epochs=12 --set train.optimizer=adam --set train.lr=0.05
run "$PIPELINE" run "$HELLO" --set pipeline.name=half --set train.epochs=6 --set train.optimizer=adam --set train.lr=0.05
ckpt=$(sql "select path from artifacts a join runs r on r.id=a.run_id where r.pipeline='half' and kind='checkpoint'")
run "$PIPELINE" run "$HELLO" --resume "$ckpt" --set train.epochs=12
ok $([ $rc -eq 0 ] && contains "$out" "resuming from" && echo 0 || echo 1) "resume from $ckpt ($err)"
a=$(sql "select group_concat(value) from (select value from metrics m join runs r on r.id=m.run_id where r.pipeline='full' and name='loss' and epoch >= 6 order by epoch)")
b=$(sql "select group_concat(value) from (select value from metrics m where m.run_id=(select max(id) from runs) and name='loss' and epoch >= 6 order by epoch)")
ok $([ -n "$a" ] && [ "$a" = "$b" ] && echo 0 || echo 1) "the resumed run's losses equal the uninterrupted run's, bit for bit"
run "$PIPELINE" run "$HELLO" --resume "$model"
ok $([ $rc -eq 1 ] && contains "$err" "not a checkpoint" && echo 0 || echo 1) "resuming from a plain model file is refused ($err)"

# the NER pipeline end to end on a tiny slice of its data: tagger, dev
# split, entity F1, early stopping and the best epoch's model
NER="$top_srcdir/pipelines/ner.pipe"
T="$top_srcdir/tests/data/tiny"
run "$PIPELINE" run "$NER" --set pipeline.name=tinyner --set "data.train=\"$T/ner_train.conll\"" \
	--set "data.dev=\"$T/ner_dev.conll\"" --set 'data.test=""' --set train.epochs=6 \
	--set train.early_stop=2 --set model2.hidden=16 --set model.embed=16 --set train.instruments=true
ok $([ $rc -eq 0 ] && contains "$out" "dev loss" && contains "$out" "f1" && echo 0 || echo 1) "ner.pipe trains on a tiny slice ($err)"
ok $([ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='tinyner' and split='dev' and name='f1' and epoch is null")" = 1 ] && echo 0 || echo 1) "final dev F1 logged"
ok $([ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='tinyner' and name like 'model2.dh_norm.l0.t%'")" -gt 10 ] && echo 0 || echo 1) "instruments: per-step gradient norms logged"
ok $([ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='tinyner' and name like 'model2.gate.l0.f.%'")" -gt 0 ] && echo 0 || echo 1) "instruments: LSTM forget-gate statistics logged"
run "$PIPELINE" predict "$NER" --set pipeline.name=tinyner --input "I love Paris"
ok $([ $rc -eq 0 ] && contains "$out" "Paris" && echo 0 || echo 1) "predict tags each word ($out)"

# character-level generation with truncated BPTT over one stream
CHARLM="$top_srcdir/pipelines/charlm.pipe"
run "$PIPELINE" run "$CHARLM" --set data.max_examples=300 --set train.epochs=2 --set model.hidden=16 \
	--set model.embed=8 --set train.bptt=16 --set train.batch=4
ok $([ $rc -eq 0 ] && contains "$out" "finished" && echo 0 || echo 1) "charlm.pipe trains with bptt on a slice ($err)"
ok $([ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='charlm' and split='dev' and name='perplexity'")" -ge 2 ] && echo 0 || echo 1) "dev perplexity logged per epoch"

# splice-site classification: numbered dna tokens, BiLSTM, mean pooling, on a slice
SPLICE="$top_srcdir/pipelines/splice.pipe"
run "$PIPELINE" run "$SPLICE" --set data.max_examples=120 --set train.epochs=2 --set model.hidden=8
ok $([ $rc -eq 0 ] && contains "$out" "final test" && echo 0 || echo 1) "splice.pipe trains on a slice ($err)"
# a bptt language model is evaluated as it was trained: each split as one
# stream with the state carried from window to window
final() { sql "select value from metrics m join runs r on r.id=m.run_id where r.pipeline='$1' and epoch is null and split='$2' and name='$3'"; }
printed() { printf '%s\n' "$out" | awk -v s="$1" -v m="$2" '$1 == s { for (i = 2; i < NF; i++) if ($i == m) print $(i + 1) }'; }
same() { [ -n "$1" ] && [ "$(sql "select value = $1 from metrics m join runs r on r.id=m.run_id where r.pipeline='$2' and epoch is null and split='$3' and name='$4'")" = 1 ]; }
run "$PIPELINE" eval "$CHARLM"
ok $([ $rc -eq 0 ] && same "$(printed dev perplexity)" charlm dev perplexity && same "$(printed dev loss)" charlm dev loss && echo 0 || echo 1) "bptt LM: eval reproduces the logged final dev perplexity bit for bit ($(printed dev perplexity); $err)"
ok $([ $rc -eq 0 ] && same "$(printed train loss)" charlm train loss && same "$(printed train accuracy)" charlm train accuracy && echo 0 || echo 1) "bptt LM: and the final train loss and accuracy ($(printed train loss))"
# the best (kept) epoch's dev loss is the final one: per-epoch dev metrics
# are the same stream evaluation
ok $([ "$(sql "select min(value) = (select value from metrics m join runs r on r.id=m.run_id where r.pipeline='charlm' and epoch is null and split='dev' and name='loss') from metrics m join runs r on r.id=m.run_id where r.pipeline='charlm' and epoch is not null and split='dev' and name='loss'")" = 1 ] && echo 0 || echo 1) "bptt LM: the kept epoch's dev loss equals the final dev loss"
# the same model read text by text from a zero state (bptt = 0) counts
# other positions from other states: another loss
run "$PIPELINE" eval "$CHARLM" --set train.bptt=0
ok $([ $rc -eq 0 ] && [ -n "$(printed dev loss)" ] && ! same "$(printed dev loss)" charlm dev loss && ! same "$(printed train loss)" charlm train loss && echo 0 || echo 1) "bptt LM: stream evaluation differs from text-by-text evaluation ($(printed dev loss) vs $(final charlm dev loss))"
# evaluating dev between epochs draws nothing from the RNG and leaves the
# training state alone: with head dropout, the training losses of every
# epoch are those of the same run without a dev split
epochloss() { sql "select group_concat(value) from (select value from metrics m join runs r on r.id=m.run_id where r.pipeline='$1' and split='train' and name='loss' and epoch is not null order by epoch)"; }
run "$PIPELINE" run "$CHARLM" --set data.max_examples=300 --set train.epochs=3 --set model.hidden=16 \
	--set model.embed=8 --set train.bptt=16 --set train.batch=4 --set head.dropout=0.3 --set pipeline.name=dropdev
run "$PIPELINE" run "$CHARLM" --set data.max_examples=300 --set train.epochs=3 --set model.hidden=16 \
	--set model.embed=8 --set train.bptt=16 --set train.batch=4 --set head.dropout=0.3 --set 'data.dev=""' --set pipeline.name=dropnodev
ok $([ $rc -eq 0 ] && [ -n "$(epochloss dropdev)" ] && [ "$(epochloss dropdev)" = "$(epochloss dropnodev)" ] && [ "$(final dropdev dev loss)" != "" ] && echo 0 || echo 1) "bptt LM: dev evaluation between epochs does not change training ($(epochloss dropdev))"
run "$PIPELINE" predict "$CHARLM" --input "ROMEO:" --generate 40 --seed 3
g1=$out
run "$PIPELINE" predict "$CHARLM" --input "ROMEO:" --generate 40 --seed 3
ok $([ $rc -eq 0 ] && contains "$out" "generated: ROMEO:" && [ "$out" = "$g1" ] && echo 0 || echo 1) "sampling is reproducible for a seed"
run "$PIPELINE" run "$HELLO" --set train.bptt=4 --set data.max_examples=1 --set train.batch=8 --set pipeline.name=fewtok
ok $([ $rc -eq 1 ] && contains "$err" "too few" && echo 0 || echo 1) "bptt with too little text is refused ($err)"

# truncated BPTT(k1, k2): a window of k2 = bptt steps every k1 = bptt_stride
# steps, on the slice above
SLICE="--set data.max_examples=300 --set model.hidden=16 --set model.embed=8 --set train.bptt=16 --set train.batch=4"
losses() { sql "select group_concat(value) from (select value from metrics m join runs r on r.id=m.run_id where r.pipeline='$1' and name='loss' order by epoch is null, epoch, split)"; }
trainloss() { sql "select value from metrics m join runs r on r.id=m.run_id where r.pipeline='$1' and epoch is null and split='train' and name='$2'"; }
run "$PIPELINE" run "$CHARLM" $SLICE --set train.epochs=2 --set train.bptt_stride=16 --set pipeline.name=k1eq
a=$(losses charlm)
b=$(losses k1eq)
ok $([ $rc -eq 0 ] && [ -n "$a" ] && [ "$a" = "$b" ] && echo 0 || echo 1) "bptt_stride = bptt trains bit for bit like bptt alone ($b)"
run "$PIPELINE" run "$CHARLM" $SLICE --set train.epochs=2 --set train.bptt_stride=5 --set pipeline.name=k1lt
c=$(trainloss k1lt loss)
ok $([ $rc -eq 0 ] && awk -v v="$c" 'BEGIN { exit !(v + 0 == v && v > 0 && v < 10) }' && echo 0 || echo 1) "bptt_stride = 5 < bptt = 16 trains, finite train loss ($c; $err)"
ok $([ -n "$c" ] && [ "$c" != "$(trainloss charlm loss)" ] && echo 0 || echo 1) "and another loss than k1 = k2 ($c vs $(trainloss charlm loss))"
# with weights that do not move (lr = 1e-12), every window starting from
# the state after position w*k1 and counting each position once gives the
# loss of one pass over the rows, whatever k1: window bookkeeping checked
for k1 in 16 8 5 1; do
	run "$PIPELINE" run "$CHARLM" $SLICE --set train.epochs=1 --set train.lr=1e-12 --set train.bptt_stride=$k1 --set pipeline.name=frozen$k1
done
l16=$(trainloss frozen16 loss)
same=0
for k1 in 8 5 1; do
	awk -v a="$l16" -v b="$(trainloss frozen$k1 loss)" 'BEGIN { d = a - b; exit !(a > 0 && d * d <= 1e-16 * a * a) }' || same=1
	[ "$(trainloss frozen$k1 accuracy)" = "$(trainloss frozen16 accuracy)" ] || same=1
done
ok $same "fixed weights: k1 = 8, 5, 1 give the loss and accuracy of k1 = k2 = 16 ($l16 $(trainloss frozen5 loss) $(trainloss frozen1 loss))"
# resume: a checkpoint continues TBPTT(5, 16) as the uninterrupted run would
run "$PIPELINE" run "$CHARLM" $SLICE --set train.epochs=1 --set train.bptt_stride=5 --set pipeline.name=k1half
ckpt=$(sql "select path from artifacts a join runs r on r.id=a.run_id where r.pipeline='k1half' and kind='checkpoint'")
run "$PIPELINE" run "$CHARLM" --resume "$ckpt" --set train.epochs=2
b=$(sql "select group_concat(value) from (select value from metrics m where m.run_id=(select max(id) from runs) and name='loss' and epoch >= 1 order by epoch is null, epoch, split)")
a1=$(sql "select group_concat(value) from (select value from metrics m join runs r on r.id=m.run_id where r.pipeline='k1lt' and name='loss' and epoch >= 1 order by epoch is null, epoch, split)")
ok $([ $rc -eq 0 ] && [ -n "$a1" ] && [ "$a1" = "$b" ] && echo 0 || echo 1) "resumed TBPTT(5, 16) equals the uninterrupted run bit for bit ($b; $err)"
# refused: k1 > k2, k1 without bptt, and a model without carry_at
run "$PIPELINE" check "$CHARLM" $SLICE --set train.bptt_stride=17
ok $([ $rc -eq 1 ] && contains "$err" "--set train.bptt_stride=17: train.bptt_stride = 17, expected 1..16" && echo 0 || echo 1) "bptt_stride > bptt is refused, naming the key ($err)"
run "$PIPELINE" run "$HELLO" --set train.bptt_stride=4 --set pipeline.name=nobptt
ok $([ $rc -eq 1 ] && contains "$err" "--set train.bptt_stride=4: train.bptt_stride = 4 needs truncated BPTT, expected train.bptt" && echo 0 || echo 1) "bptt_stride without bptt is refused, naming the key ($err)"
run "$PIPELINE" check "$CHARLM" $SLICE --set train.bptt_stride=-1
ok $([ $rc -eq 1 ] && contains "$err" "train.bptt_stride = -1, expected 0.." && echo 0 || echo 1) "a negative bptt_stride is refused ($err)"
run env SEQPIPE_PLUGIN_PATH="$top_builddir/tests/plugins" "$PIPELINE" check "$CHARLM" $SLICE --set model.plugin=oldrnn.lstm --set train.bptt_stride=8
ok $([ $rc -eq 1 ] && contains "$err" "--set train.bptt_stride=8: model 'lstm'" && contains "$err" "carry_at" && echo 0 || echo 1) "a model built without carry_at is refused for bptt_stride < bptt (${err##*$'\n'})"
run env SEQPIPE_PLUGIN_PATH="$top_builddir/tests/plugins" "$PIPELINE" run "$CHARLM" $SLICE --set train.epochs=2 --set model.plugin=oldrnn.lstm --set train.bptt_stride=16 --set pipeline.name=oldk1
ok $([ $rc -eq 0 ] && [ "$(sql "select plugin from stages s join runs r on r.id=s.run_id where r.pipeline='oldk1' and s.section='model'")" = oldrnn ] && [ "$(losses oldk1)" = "$(losses charlm)" ] && echo 0 || echo 1) "and runs as before with bptt_stride = bptt (${err##*$'\n'})"

# --- bad input ----------------------------------------------------------------
printf 'hello\tO\nworld\n' >bad.conll
cat >bad.pipe <<PIPE
[data]
format = conll
train = "bad.conll"
[model]
plugin = rnn
hidden = 4
[head]
plugin = tagger
PIPE
run "$PIPELINE" run bad.pipe
ok $([ $rc -eq 1 ] && contains "$err" "bad.conll:2" && echo 0 || echo 1) "bad CoNLL line: file:line ($err)"
ok $([ "$(sql "select status from runs order by id desc limit 1")" = failed ] && echo 0 || echo 1) "the failed run is logged as failed"
ok $(printf '%s\n' "$err" | grep -q '^pipeline: error: run [0-9]* failed: ' && echo 0 || echo 1) "and its error line says failed"

# NaN in training: a huge learning rate, no clipping, unbounded relu
run "$PIPELINE" run "$HELLO" --set train.lr=1e30 --set train.clip_norm=0 --set pipeline.name=nan --set model.nonlinearity=relu
ok $([ $rc -eq 1 ] && contains "$err" "training epoch" && (contains "$err" "finite" || contains "$err" "nan" || contains "$err" "inf") && echo 0 || echo 1) "NaN/inf in training stops the run, naming epoch and batch ($err)"
ok $([ "$(sql "select status from runs where pipeline='nan'")" = diverged ] && echo 0 || echo 1) "and it is logged as diverged (a status of its own)"
ok $(printf '%s\n' "$err" | grep -q '^pipeline: error: run [0-9]* diverged: ' && echo 0 || echo 1) "and its error line says diverged, not failed ($err)"

# a truncated model file
head -c 100 "$model" >trunc.spm
run "$PIPELINE" predict "$HELLO" --input hell --model trunc.spm
ok $([ $rc -eq 1 ] && contains "$err" "trunc.spm" && echo 0 || echo 1) "truncated model refused, naming the file ($err)"

# Ctrl-C: the run is logged as interrupted and keeps its metrics
"$PIPELINE" run "$HELLO" --set train.epochs=100000000 --set pipeline.name=long >long.out 2>long.err &
pid=$!
for i in $(seq 1 100); do
	[ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='long'" 2>/dev/null)" -gt 3 ] 2>/dev/null && break
	sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
ok $([ $rc -eq 130 ] && echo 0 || echo 1) "Ctrl-C: exit 130 ($rc)"
ok $([ "$(sql "select status from runs where pipeline='long'")" = interrupted ] && echo 0 || echo 1) "Ctrl-C: run logged as interrupted"
ok $([ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='long'")" -gt 0 ] && echo 0 || echo 1) "Ctrl-C: its metrics are kept"

# SIGHUP (the terminal closed): like Ctrl-C, logged as interrupted
"$PIPELINE" run "$HELLO" --set train.epochs=100000000 --set pipeline.name=hup >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do
	[ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='hup'" 2>/dev/null)" -gt 3 ] 2>/dev/null && break
	sleep 0.1
done
kill -HUP $pid
wait $pid
rc=$?
ok $([ $rc -eq 130 ] && [ "$(sql "select status from runs where pipeline='hup'")" = interrupted ] && echo 0 || echo 1) "SIGHUP: exit 130, run logged as interrupted ($rc)"

# Ctrl-C in the final evaluation (here of a large test split, after the
# best model was saved): it stops there, not at the end; the run is logged
# as interrupted with its model and the metrics already logged
BTC="$top_srcdir/data/ner/btc"
head -300 "$BTC/dev.conll" >small.conll
for i in 1 2 3 4; do cat "$BTC/train.conll"; done >large.conll
"$PIPELINE" run "$top_srcdir/pipelines/ner-btc.pipe" --set pipeline.name=evalint --set train.epochs=1 \
	--set "data.train=\"$work/small.conll\"" --set "data.dev=\"$work/small.conll\"" \
	--set "data.test=\"$work/large.conll\"" --set model2.hidden=16 >evalint.out 2>evalint.err &
pid=$!
reached="the final dev metrics never came in 120 s"
for i in $(seq 1 1200); do
	[ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='evalint' and m.split='dev' and m.epoch is null" 2>/dev/null)" -gt 0 ] 2>/dev/null \
		&& { reached="signalled after the final dev metrics"; break; }
	sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
id=$(sql "select id from runs where pipeline='evalint'")
emodel=$(sql "select path from artifacts where run_id=$id and kind='model'")
ok $([ $rc -eq 130 ] && grep -q "interrupted in the evaluation of the test split" evalint.err \
	&& [ "$(sql "select status from runs where id=$id")" = interrupted ] && echo 0 || echo 1) \
	"Ctrl-C in the final evaluation: exit 130, logged as interrupted ($reached; $rc; $(tail -1 evalint.err))"
ok $([ -s "$emodel" ] && [ "$(sql "select count(*) from metrics where run_id=$id and split='dev' and epoch is null")" -gt 0 ] \
	&& [ "$(sql "select count(*) from metrics where run_id=$id and split='test'")" -eq 0 ] && echo 0 || echo 1) \
	"... its model and final dev metrics kept, no test metrics ($emodel)"

# a model file overwritten by a later run is refused, not silently used
run "$PIPELINE" run "$HELLO" --set pipeline.name=ow1 --set train.save=shared.spm --set train.epochs=5
r1=$rc
run "$PIPELINE" run "$HELLO" --set pipeline.name=ow2 --set train.save=shared.spm --set train.epochs=5 --set pipeline.seed=7
run "$PIPELINE" predict "$HELLO" --set pipeline.name=ow1 --input hell
ok $([ $r1 -eq 0 ] && [ $rc -eq 1 ] && contains "$err" "shared.spm: changed since run" && contains "$err" "--model FILE" && echo 0 || echo 1) "a model overwritten by a later run is refused ($err)"
run "$PIPELINE" predict "$HELLO" --set pipeline.name=ow2 --input hell
ok $([ $rc -eq 0 ] && echo 0 || echo 1) "the run that wrote it last still finds it"

# SIGKILL: the run cannot log its end; runs and show say its process is gone
"$PIPELINE" run "$HELLO" --set train.epochs=100000000 --set pipeline.name=killed >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do
	[ "$(sql "select count(*) from runs where pipeline='killed'" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
	sleep 0.1
done
kill -KILL $pid
{ wait $pid; } 2>/dev/null # the shell reports the kill on stderr
id=$(sql "select id from runs where pipeline='killed'")
run "$PIPELINE" runs
ok $([ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^ *$id  killed  *died " && echo 0 || echo 1) "a killed run is listed as died ($(printf '%s\n' "$out" | grep killed))"
run "$PIPELINE" show "$id"
ok $([ $rc -eq 0 ] && contains "$out" "process $pid on this host is gone" && [ "$(sql "select status from runs where id=$id")" = running ] && echo 0 || echo 1) "show says its process is gone; the log is left as it was"

# two runs logging to one file at once
"$PIPELINE" run "$HELLO" --set pipeline.name=par1 --set train.epochs=50 >/dev/null 2>p1.err &
p1=$!
"$PIPELINE" run "$HELLO" --set pipeline.name=par2 --set train.epochs=50 >/dev/null 2>p2.err &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
ok $([ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$(sql "select count(*) from runs where pipeline in ('par1','par2') and status='finished'")" = 2 ] && echo 0 || echo 1) "two concurrent runs both finish"

tap_done
