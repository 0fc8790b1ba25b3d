#!/usr/bin/env bash
# t_smooth.sh: the example head plugin of doc/plugins.md
# (doc/example-plugin/smooth.c, label-smoothing cross-entropy), built in
# the tree: the component harness passes it and catches the same source
# built with a wrong backward (-DSMOOTH_WRONG_GRAD); its task table reaches
# the host (its own metric picks the kept epoch; undeclared metrics are
# refused); both components train.  tests/installcheck.sh builds it out of
# tree as a user would.
. "$(dirname "$0")/tap.sh"
TP="$top_builddir/tests/plugins"
export SEQPIPE_PLUGIN_PATH="$TP"

count() { printf '%s\n' "$1" | grep -c "$2"; }
near() { awk -v a="$1" -v b="$2" -v tol="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= tol * b) }'; }

# --- the component harness ------------------------------------------------
run "$PIPELINE" check --plugin "$TP/smooth.la"
ok $([ $rc -eq 0 ] && [ "$(count "$out" '^ok')" -eq 10 ] && ! contains "$out" "not ok" \
	&& contains "$out" "smooth.next: dW" && contains "$out" "smooth.tags: dh" && echo 0 || echo 1) \
	"check --plugin: both heads' dW, db and dh agree with finite differences ($(count "$out" '^ok') checks; $err)"
run "$PIPELINE" check --plugin "$TP/wrong/smooth.la"
ok $([ $rc -eq 1 ] && [ "$(count "$out" '^not ok')" -eq 6 ] \
	&& contains "$out" "not ok 3 - smooth.next: dW" && contains "$out" "not ok 10 - smooth.tags: dh" \
	&& contains "$err" "6 checks failed, the first: smooth.next: dW" && echo 0 || echo 1) \
	"the same head with a wrong backward: every gradient of both components fails, exit 1 ($err)"
run "$PIPELINE" check --plugin "$TP/wrong/smooth.la" --set epsilon=0
ok $([ $rc -eq 0 ] && ! contains "$out" "not ok" && echo 0 || echo 1) \
	"with epsilon = 0 the wrong backward is the right one: the harness saw the smoothing term ($err)"
run "$PIPELINE" check --plugin "$TP/smooth.la" --set head.epsilon=1
ok $([ $rc -eq 1 ] && contains "$out" "epsilon = 1, expected 0 <= epsilon < 1" && echo 0 || echo 1) \
	"a bad epsilon is refused by create, naming the key ($err)"

# --- the task it declares, read by the host --------------------------------
head_pipe lm.pipe smooth smooth.next 60
run "$PIPELINE" check lm.pipe
ok $rc "check accepts smooth.next and its default metric (${err##*$'\n'})"
run "$PIPELINE" check lm.pipe --set train.metric=loss
ok $([ $rc -ne 0 ] && contains "$err" "smoothed_xent, xent, top1" && echo 0 || echo 1) \
	"check refuses a train.metric the head does not declare, listing those it does (${err##*$'\n'})"
run "$PIPELINE" check lm.pipe --set head.plugin=next
ok $([ $rc -ne 0 ] && contains "$err" "MODULE.next" && echo 0 || echo 1) \
	"a bare component name does not reach a user module (${err##*$'\n'})"

# smoothed_xent falls: read as lower-is-better the run keeps the last
# epochs and never stops early (as higher-is-better it would keep epoch 1)
run "$PIPELINE" run lm.pipe
best=$(dev_metric best smoothed_xent)
kept=$(dev_metric final smoothed_xent)
epochs=$(dev_metric epochs smoothed_xent)
ok $([ $rc -eq 0 ] && [ -n "$best" ] && [ "$best" = "$kept" ] && [ "$epochs" -eq 60 ] && echo 0 || echo 1) \
	"the kept model has the lowest dev smoothed_xent ($kept), no early stop ($epochs epochs; ${err##*$'\n'})"

# Trained to the end, p becomes q itself: the smoothed loss reaches its
# floor, the entropy of q, and the plain one -log(1 - ε + ε/K); K = 4 here.
run "$PIPELINE" run "$top_srcdir/pipelines/hello.pipe" --set head.plugin=smooth.next
line=$(printf '%s\n' "$out" | grep '^final train smoothed_xent')
sx=$(printf '%s\n' "$line" | awk '{print $4}')
xe=$(printf '%s\n' "$line" | awk '{print $6}')
floor=$(awk 'BEGIN { e = 0.1; K = 4; g = 1 - e + e / K; o = e / K; print -(g * log(g) + (K - 1) * o * log(o)) }')
nll=$(awk 'BEGIN { print -log(1 - 0.1 + 0.1 / 4) }')
ok $([ $rc -eq 0 ] && near "$sx" "$floor" 0.01 && near "$xe" "$nll" 0.02 && echo 0 || echo 1) \
	"hello.pipe trains to the floor: smoothed_xent $sx vs H(q) $floor, xent $xe vs $nll (${err##*$'\n'})"

# --- the tagging component ------------------------------------------------
cat >tags.pipe <<PIPE
[pipeline]
name = smooth-tags
seed = 1
[data]
format = conll
train = "$top_srcdir/tests/data/tiny/ner_train.conll"
dev = "$top_srcdir/tests/data/tiny/ner_dev.conll"
[encode]
plugin = onehot
[model]
plugin = lstm
embed = 8
hidden = 8
[head]
plugin = smooth.tags
epsilon = 0.2
[train]
optimizer = adam
lr = 0.01
epochs = 2
batch = 16
PIPE
run "$PIPELINE" run tags.pipe
first=$(sqlite3 "$work/runs.db" "select value from metrics where split='train' and name='smoothed_xent' and epoch = 0 order by run_id desc limit 1")
second=$(sqlite3 "$work/runs.db" "select value from metrics where split='train' and name='smoothed_xent' and epoch = 1 order by run_id desc limit 1")
ok $([ $rc -eq 0 ] && [ -n "$first" ] && [ -n "$second" ] && awk -v a="$first" -v b="$second" 'BEGIN { exit !(b < a) }' && echo 0 || echo 1) \
	"smooth.tags trains a CoNLL tagger: train smoothed_xent $first then $second (${err##*$'\n'})"

# A label training never saw is a miss for top1: the dev file followed by
# a copy of itself whose every tag is new scores exactly half as well.
awk -F'\t' 'NF < 2 { print; next } { print $1 "\tB-NEVERSEEN" }' \
	"$top_srcdir/tests/data/tiny/ner_dev.conll" >unseen.conll
cat "$top_srcdir/tests/data/tiny/ner_dev.conll" unseen.conll >doubled.conll
top1_of() { printf '%s\n' "$1" | awk '$1 == "test" { for (i = 2; i < NF; i++) if ($i == "top1") print $(i + 1) }'; }
run "$PIPELINE" eval tags.pipe --set data.test="$top_srcdir/tests/data/tiny/ner_dev.conll"
seen=$(top1_of "$out")
run "$PIPELINE" eval tags.pipe --set data.test=doubled.conll
both=$(top1_of "$out")
ok $([ $rc -eq 0 ] && [ -n "$seen" ] && [ -n "$both" ] && near "$both" "$(awk -v a="$seen" 'BEGIN { print a / 2 }')" 1e-6 && echo 0 || echo 1) \
	"an unseen dev/test label counts as a top1 miss: $seen on the dev file, $both with an all-unseen copy appended (${err##*$'\n'})"

tap_done
