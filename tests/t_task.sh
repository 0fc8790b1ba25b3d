#!/usr/bin/env bash
# t_task.sh: a task described by its plugins.  A head with a metric of its
# own name and direction (tests/plugins/xenthead.c: "xent", lower is
# better) drives best-epoch selection and early stopping; a train.metric
# the head does not declare, and wrong weight declarations
# (tests/plugins/badweights.c), are refused by `pipeline check`.
. "$(dirname "$0")/tap.sh"
export SEQPIPE_PLUGIN_PATH="$top_builddir/tests/plugins"

plan 11
head_pipe task.pipe xent xenthead.xent 40

run "$PIPELINE" check task.pipe
ok $rc "check accepts the head's own default metric (${err##*$'\n'})"
run "$PIPELINE" check task.pipe --set train.metric=f1
ok $([ $rc -ne 0 ] && contains "$err" "train.metric = f1 is not a metric of head 'xent', expected one of: hits, xent" && echo 0 || echo 1) "check refuses a metric the head does not declare (${err##*$'\n'})"

# xent falls as the model learns: lower is better keeps the last epochs
# and never stops early; read as higher-is-better it would keep epoch 1
# and stop after epoch 4
run "$PIPELINE" run task.pipe
best=$(dev_metric best xent)
final=$(dev_metric final xent)
first=$(dev_metric first xent)
epochs=$(dev_metric epochs xent)
ok $([ $rc -eq 0 ] && [ -n "$best" ] && [ "$best" = "$final" ] && [ "$best" != "$first" ] && echo 0 || echo 1) "the kept model has the lowest dev xent ($final; first epoch $first)"
ok $([ $rc -eq 0 ] && [ "$epochs" -gt 4 ] && echo 0 || echo 1) "early stopping reads xent as lower-is-better ($epochs epochs run)"
run "$PIPELINE" run task.pipe --set train.metric=hits --set train.epochs=3
ok $rc "train.metric = hits (declared, higher is better) runs (${err##*$'\n'})"

# the same head with the table of a build before `task` was appended: it
# loads, and the host never reads the task past the table's size
run "$PIPELINE" check task.pipe --set head.plugin=xenthead.old
ok $rc "a head whose ops table stops before task loads and checks (${err##*$'\n'})"
run "$PIPELINE" check task.pipe --set head.plugin=xenthead.old --set train.metric=xent
ok $([ $rc -ne 0 ] && contains "$err" "train.metric = xent is not a metric of head 'old'" && echo 0 || echo 1) "its task is absent: the defaults of its target hold (${err##*$'\n'})"

# weight declarations, refused before any training
bad() { # key: the test model declares that wrong
	sed -e 's/^plugin = rnn$/plugin = badweights.bad/' -e "s/^hidden = 3$/bad = $1/" task.pipe >bad.pipe
	run "$PIPELINE" check bad.pipe
}
bad none
ok $rc "check accepts the test model's right declarations (${err##*$'\n'})"
bad rank
ok $([ $rc -ne 0 ] && contains "$err" "weight 'b' of rank 5, expected 1..4" && echo 0 || echo 1) "check refuses a rank-5 weight (${err##*$'\n'})"
bad dup
ok $([ $rc -ne 0 ] && contains "$err" "weight 'W' twice" && echo 0 || echo 1) "check refuses two weights of one name (${err##*$'\n'})"
bad zero
ok $([ $rc -ne 0 ] && contains "$err" "size 0" && echo 0 || echo 1) "check refuses a weight of size 0 (${err##*$'\n'})"
tap_done
