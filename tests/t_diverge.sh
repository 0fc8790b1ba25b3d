#!/usr/bin/env bash
# t_diverge.sh: a run whose training loss diverges (issue 12, finding 5).
# hello.pipe with lr = 1e6 blows up in its second epoch (a loss of 1e5,
# past 1e4 times the first step's).  With train.on_diverge = stop (the
# default) the run stops there: an error, its status in the run log, and
# `predict` does not take it for a trained model.  With rollback it goes
# back to the last good state with the lr lowered and goes on: the same
# result as a run started at the lowered lr (the state really is restored),
# an event in the run log, a `rollbacks` metric, a checkpoint that resumes
# at the lowered lr; past train.max_rollbacks it stops as with stop.
. "$(dirname "$0")/tap.sh"
sed -e "s|\"../data/hello/train.txt\"|\"$top_srcdir/data/hello/train.txt\"|" \
    -e 's/^epochs = 300.*/epochs = 3/' "$top_srcdir/pipelines/hello.pipe" >hello.pipe

is() { # GOT EXPECTED DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3: got '$1', expected '$2'"; fi
}
sqldb() { sqlite3 -batch "$1" "$2" 2>&1; }
hello() { # DB ARGS...: pipeline run hello.pipe into DB, output in out/err
	local db=$1
	shift
	"$PIPELINE" run hello.pipe --db "$db" "$@" >out 2>err </dev/null
	rc=$?
}
final() { grep '^final train' out; }
ROLL=(--set train.lr=1e6 --set train.on_diverge=rollback --set train.rollback_lr_factor=1e-6)

plan 21

# --- stop (the default) --------------------------------------------------
hello stop.db --set train.lr=1e6
ok $([ $rc -ge 1 ] && [ $rc -le 127 ] && echo 0 || echo 1) "lr = 1e6 stops with an error (exit $rc)"
is "$(grep -c '' err)" 1 "one line on stderr"
ok $(grep -q 'training epoch 2, batch 1: diverged: training loss .* is past 10000 times' err && echo 0 || echo 1) \
	"it names the epoch, the batch and the bound: $(cat err)"
ok $(grep -q '^pipeline: error: run 1 diverged: ' err && echo 0 || echo 1) \
	"the line says the run diverged (its status), not that it failed"
is "$(sqldb stop.db "select status from runs where id = 1")" diverged "the run log says diverged"
ok $(sqldb stop.db "select error from runs where id = 1" | grep -q 'diverged: training loss' && echo 0 || echo 1) \
	"with the reason"
"$PIPELINE" --db stop.db runs --where "status = 'diverged'" --format csv >rout 2>rerr </dev/null
ok $([ $? -eq 0 ] && [ "$(grep -c '^1,' rout)" -eq 1 ] && echo 0 || echo 1) "runs --where \"status = 'diverged'\" lists it: $(tr '\n' ' ' <rout)"
"$PIPELINE" predict hello.pipe --db stop.db --input hell >pout 2>perr </dev/null
prc=$?
ok $([ $prc -ne 0 ] && grep -q "no finished run of pipeline 'hello'" perr && echo 0 || echo 1) \
	"predict does not use the diverged run's model: $(cat perr)"

# --- rollback ----------------------------------------------------------------
hello roll.db "${ROLL[@]}"
is "$rc" 0 "on_diverge = rollback: the run finishes ($(tail -n 1 err))"
ok $(grep -q 'diverged: .*; rolled back to the start of epoch 1, lr 1e+06 -> 1 (rollback 1 of 3)$' out && echo 0 || echo 1) \
	"it says where it went back to and the new lr"
rolled=$(final)
is "$(sqldb roll.db "select level || ' ' || (message like '%rolled back to the start of epoch 1%') from events where message like '%rolled back%'")" \
	"warn 1" "the rollback is an event of the run"
is "$(sqldb roll.db "select value from metrics where name = 'rollbacks'")" 1.0 "and a metric"
is "$(sqldb roll.db "select status from runs")" finished "the run is finished"
# back at the initial weights, optimizer state and RNG with lr 1: exactly
# the run that started at lr 1
hello plain.db --set train.lr=1
is "$rolled" "$(final)" "the rolled-back run ends where a run at lr 1 ends"

# a checkpoint of a run that rolled back resumes at the lowered lr, even
# with on_diverge = stop
hello part.db "${ROLL[@]}" --set train.epochs=2
"$PIPELINE" run hello.pipe --db part.db --resume models/hello-run1.last.spm --set train.epochs=3 >out 2>err </dev/null
rc=$?
ok $([ $rc -eq 0 ] && grep -q '^epoch   3/3 .*lr 1$' out && echo 0 || echo 1) "resumed, epoch 3 trains at lr 1: $(grep '^epoch' out)"
is "$(final)" "$rolled" "and ends where the uninterrupted run ends"

# no rollback left: stops as with stop, saying so
hello few.db --set train.lr=1e6 --set train.on_diverge=rollback --set train.rollback_lr_factor=0.9 --set train.max_rollbacks=2
ok $([ $rc -ge 1 ] && [ $rc -le 127 ] && echo 0 || echo 1) "lr 1e6 lowered by 0.9 twice still diverges (exit $rc)"
ok $(grep -q '^pipeline: error: run 1 diverged: after 2 rollbacks (train.max_rollbacks): training epoch 2, batch 1: diverged' err && echo 0 || echo 1) \
	"the error says diverged and counts the rollbacks: $(cat err)"
is "$(sqldb few.db "select count(*) from events where message like '%rolled back%'")" 2 "two rollback events"
is "$(sqldb few.db "select status from runs")" diverged "the run log says it diverged"

# the settings are checked
"$PIPELINE" check hello.pipe --set train.rollback_lr_factor=1 >out 2>err </dev/null
ok $([ $? -ne 0 ] && grep -q 'rollback_lr_factor' err && echo 0 || echo 1) "rollback_lr_factor = 1 is refused: $(cat err)"
tap_done
