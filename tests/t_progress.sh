#!/usr/bin/env bash
# t_progress.sh: progress while training.  Under a pseudo-terminal
# (`script` from util-linux) `pipeline run` of a small character model
# rewrites a live line within the first epoch (carriage-return separated
# updates before the epoch's summary); into a file it writes no carriage
# return; --quiet prints the run id and the final results only.  Nothing
# here is timed: the epoch is sized to last well over the live line's
# refresh interval (0.1 s), and only the count of updates is checked.
. "$(dirname "$0")/tap.sh"
CHARLM="$top_srcdir/pipelines/charlm.pipe"
HELLO="$top_srcdir/pipelines/hello.pipe"

# A small stream: 300 kB of the text, a small LSTM; one epoch is ~1200
# windows of 32 steps and takes a second or more (1.3 s on a 2-core machine).
head -c 300000 "$top_srcdir/data/charlm/tinyshakespeare/train.txt" >train.txt
head -c 4000 "$top_srcdir/data/charlm/tinyshakespeare/val.txt" >dev.txt
small=(--db "$work/runs.db" --set data.train="$work/train.txt" --set data.dev="$work/dev.txt"
	--set model.embed=16 --set model.hidden=64 --set train.batch=8 --set train.bptt=32
	--set train.epochs=2)
# shell-quoted, for script -c
cmd=$(printf '%q ' "$PIPELINE" run "$CHARLM" "${small[@]}")

plan 9

# --- not a terminal: plain lines, no carriage return ---------------------
"$PIPELINE" run "$CHARLM" "${small[@]}" >plain.out 2>plain.err
rc=$?
ok $rc "charlm (small) runs with its output in a file ($(tail -1 plain.err))"
ok $([ -s plain.out ] && ! grep -q $'\r' plain.out && echo 0 || echo 1) "no carriage return when the output is not a terminal"
ok $(grep -Eq '^epoch +1/2  train loss' plain.out && echo 0 || echo 1) "the epoch summary is printed as before"

# --- a terminal: the live line ------------------------------------------
if ! command -v script >/dev/null 2>&1; then
	for k in 4 5 6; do echo "ok $k # SKIP script (util-linux) is not installed"; done
	n=6
else
	script -qfec "$cmd" /dev/null >tty.out 2>tty.err </dev/null
	rc=$?
	ok $rc "charlm (small) runs under a pseudo-terminal"
	# the updates of epoch 1 are the carriage-return separated pieces
	# "epoch 1/2 [bar] k/N loss ..." before the epoch's summary line
	tr '\r' '\n' <tty.out | sed -e 's/\x1b\[K//g' |
		sed -n '1,/^epoch *1\/2  train/p' | grep -E '^epoch 1/2 \[[#.]+\] [0-9]+/[0-9]+ loss ' |
		sort -u >updates
	nu=$(wc -l <updates)
	ok $([ "$nu" -ge 2 ] && echo 0 || echo 1) "the live line updated $nu times within the first epoch"
	# nothing interleaves: the summary starts its own line (the live line
	# was erased before it, so the summary follows an erase, not a bar)
	ok $(grep -aEq '^epoch +1/2  train' <(tr '\r' '\n' <tty.out | sed -e 's/\x1b\[K//g') &&
		! grep -aEq 'tok/s[^'$'\r'']*epoch +1/2  train' tty.out && echo 0 || echo 1) \
		"the epoch summary does not run into the live line"
fi

# --- --quiet -------------------------------------------------------------
"$PIPELINE" run "$HELLO" --quiet --db "$work/runs.db" --set train.epochs=30 >quiet.out 2>quiet.err
rc=$?
ok $rc "hello --quiet runs"
bad=$(grep -Ev '^(run [0-9]+: pipeline |final |model saved to |run [0-9]+ finished$)' quiet.out)
ok $([ -s quiet.out ] && [ -z "$bad" ] && echo 0 || echo 1) "--quiet prints only the run id and the final lines (${bad:-ok})"
ok $(grep -Eq '^run [0-9]+ finished$' quiet.out && grep -q '^final ' quiet.out && echo 0 || echo 1) \
	"--quiet prints the run id and the final results"

tap_done
