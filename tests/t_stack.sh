#!/usr/bin/env bash
# t_stack.sh: stacked model stages ([model] then [model2]) trained as one
# model: the loss falls, the model file holds every stage's weights under
# its section's name, a reloaded model predicts and reproduces its logged
# figures, resume continues, and `pipeline check` refuses a stage that
# cannot read the vectors of the one before it, or a gap in the numbering.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PIPELINE="$top_builddir/pipeline"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0
ok() { # cond-status, description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
run() {
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}
contains() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }
sql() { sqlite3 "$work/runs.db" "$1"; }

echo 1..10
cat >stack.pipe <<PIPE
[pipeline]
name = stack
seed = 3
[data]
format = conll
train = "$top_srcdir/tests/data/tiny/ner_train.conll"
dev = "$top_srcdir/tests/data/tiny/ner_dev.conll"
[encode]
plugin = onehot
[model]
plugin = gru                # stage 1: word ids -> 12 vectors
embed = 12
hidden = 12
[model2]
plugin = lstm               # stage 2: reads stage 1's vectors both ways
hidden = 10
bidirectional = true
[head]
plugin = tagger
[train]
optimizer = adam
lr = 0.02
epochs = 6
batch = 16
PIPE

run "$PIPELINE" check stack.pipe
ok $rc "check accepts two stacked model stages (${err##*$'\n'})"
run "$PIPELINE" run stack.pipe --quiet
ok $rc "a pipeline of two stacked model stages trains (${err##*$'\n'})"
first=$(sql "select value from metrics where run_id = 1 and split = 'train' and name = 'loss' and epoch = 0" 2>/dev/null)
last=$(sql "select value from metrics where run_id = 1 and split = 'train' and name = 'loss' and epoch = 5" 2>/dev/null)
ok $(awk -v a="$first" -v b="$last" 'BEGIN { exit !(a != "" && b != "" && b < 0.8 * a) }'; echo $?) \
	"the training loss falls ($first after epoch 1, $last after epoch 6)"
model=$(ls models/stack-run1*.spm 2>/dev/null | grep -v last | head -1)
run "$PIPELINE" model "$model"
ok $([ $rc -eq 0 ] && contains "$out" "model.embed" && contains "$out" "model.l0.Wh" &&
	contains "$out" "model2.l0.Wx" && contains "$out" "model2.l0r.Wh" && echo 0 || echo 1) \
	"the model file holds both stages' weights under their sections' names"
run "$PIPELINE" predict stack.pipe --input "going to Paris with Taylor"
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c "'")" -ge 5 ] && echo 0 || echo 1) \
	"the reloaded stack tags every word (${err##*$'\n'})"
logged=$(sql "select printf('%.6f', value) from metrics where run_id = 1 and split = 'dev' and name = 'loss' and epoch is null" 2>/dev/null)
run "$PIPELINE" eval stack.pipe
ok $([ $rc -eq 0 ] && contains "$out" "dev   loss ${logged%??}" && echo 0 || echo 1) \
	"eval of the reloaded stack gives the logged dev loss ($logged)"
run "$PIPELINE" run stack.pipe --quiet --resume models/stack-run1.last.spm --set train.epochs=8
ok $rc "resume continues a stacked model (${err##*$'\n'})"

sed 's/^hidden = 10$/hidden = 10\nembed = 8/' stack.pipe >ids.pipe
run "$PIPELINE" check ids.pipe
ok $([ $rc -eq 1 ] && contains "$err" "ids.pipe:" && contains "$err" "embed=8 needs ids" && echo 0 || echo 1) \
	"check refuses a second stage that wants ids: ${err##*$'\n'}"
sed 's/^\[model2\]/[model3]/' stack.pipe >gap.pipe
run "$PIPELINE" check gap.pipe
ok $([ $rc -eq 1 ] && contains "$err" "gap.pipe:14:1: [model3] without [model2]" && echo 0 || echo 1) \
	"check refuses a gap in the stage numbers: ${err##*$'\n'}"
cat >lm.pipe <<PIPE
[data]
format = lines
train = "$top_srcdir/data/hello/train.txt"
[tokenize]
plugin = chars
[model]
plugin = gru
hidden = 4
[model2]
plugin = lstm
hidden = 4
bidirectional = true
[head]
plugin = lm
PIPE
run "$PIPELINE" check lm.pipe
ok $([ $rc -eq 1 ] && contains "$err" "would see the token it must predict" && echo 0 || echo 1) \
	"a language model refuses a stack with a bidirectional stage: ${err##*$'\n'}"
