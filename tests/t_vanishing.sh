#!/usr/bin/env bash
# t_vanishing.sh: pipelines/vanishing.pipe on a tiny setting.  The data
# are generated from the seed ([data] format = synthetic): a short T
# trains in seconds, the training loss falls, dev accuracy beats chance
# (1/4), the instruments log ||dL/dh(t)|| for every step, and bad
# synthetic settings are refused with the place of the key.
. "$(dirname "$0")/tap.sh"
PIPE="$top_srcdir/pipelines/vanishing.pipe"

tiny="--set data.length=5 --set data.n_train=300 --set data.n_dev=100 --set data.n_test=100 --set model.hidden=16 --set train.epochs=6"

plan 11
run "$PIPELINE" check "$PIPE"
ok $rc "check accepts vanishing.pipe (${err##*$'\n'})"

# the RNN's and the GRU's pipes: the LSTM's budget, only [model] differs
budget() { # a .pipe without comments, blank lines and its [model] section
	sed -e 's/[[:space:]]*#.*//' -e '/^[[:space:]]*$/d' "$1" | awk '/^\[/ { s = $0 } s != "[model]"'
}
same=0
for cell in rnn gru; do
	other="$top_srcdir/pipelines/vanishing-$cell.pipe"
	[ "$(budget "$PIPE")" = "$(budget "$other")" ] && [ -n "$(budget "$other")" ] || same=1
	run "$PIPELINE" check "$other"
	[ "$rc" = 0 ] && contains "$(grep '^plugin = ' "$other")" "$cell" || same=1
done
ok $same "vanishing-rnn.pipe and vanishing-gru.pipe pass check and equal vanishing.pipe but for [model]"
run "$PIPELINE" check "$PIPE" --set model.plugin=gru --set model.update_bias=3
ok "$([ "$rc" != 0 ] && contains "$err" "forget_bias" && echo 0 || echo 1)" "the LSTM's forget_bias is no GRU key (${err##*$'\n'})"

# shellcheck disable=SC2086
run "$PIPELINE" run "$PIPE" $tiny --set model.plugin=lstm
ok $rc "a tiny LSTM run (T = 5) finishes (${err##*$'\n'})"
first=$(sql "select value from metrics where run_id = 1 and epoch = 0 and split = 'train' and name = 'loss'")
last=$(sql "select value from metrics where run_id = 1 and epoch = 5 and split = 'train' and name = 'loss'")
ok "$(awk -v a="$first" -v b="$last" 'BEGIN { print !(b < 0.8 * a) }')" "training loss falls: $first -> $last"
acc=$(sql "select value from metrics where run_id = 1 and epoch is null and split = 'test' and name = 'accuracy'")
ok "$(awk -v a="$acc" 'BEGIN { print !(a > 0.5) }')" "test accuracy $acc beats chance 0.25 clearly"
steps=$(sql "select count(*) from metrics where run_id = 1 and epoch = 0 and name like 'dh_norm.l0.t%'")
ok "$([ "$steps" = 5 ] && echo 0 || echo 1)" "instruments: ||dL/dh(t)|| for each of the 5 steps ($steps)"

# the same seed gives the same data: a second run logs the same first loss
# shellcheck disable=SC2086
run "$PIPELINE" run "$PIPE" $tiny --set model.plugin=lstm --set train.epochs=1
again=$(sql "select value from metrics where run_id = 2 and epoch = 0 and split = 'train' and name = 'loss'")
ok "$([ "$rc" = 0 ] && [ "$again" = "$first" ] && echo 0 || echo 1)" "a second run repeats the first epoch exactly ($again)"

run "$PIPELINE" run "$PIPE" --set data.classes=30 --set train.epochs=1
ok "$([ "$rc" != 0 ] && contains "$err" "data.classes = 30, expected 2 to 26" && echo 0 || echo 1)" "30 classes are refused (${err##*$'\n'})"
run "$PIPELINE" run "$PIPE" --set data.length=0 --set train.epochs=1
ok "$([ "$rc" != 0 ] && contains "$err" "--set data.length=0: data.length = 0, expected 1 to 100000" && echo 0 || echo 1)" "length 0 is refused, naming the setting (${err##*$'\n'})"
run "$PIPELINE" check "$PIPE" --set data.format=tsv
ok "$([ "$rc" != 0 ] && contains "$err" "missing key 'train' in [data]" && echo 0 || echo 1)" "other formats still need train (${err##*$'\n'})"
tap_done
