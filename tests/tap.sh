# tap.sh: what the shell tests share.  Source it first, from the folder
# of the test itself (the test and this file lie side by side in the source
# tree, which is not the build tree in an out-of-tree or distcheck build):
#
#	. "$(dirname "$0")/tap.sh"
#
# It sets, for bash with `set -u`:
#   top_srcdir, top_builddir  absolute; from the environment `make check`
#                             gives (tests/tests.mk), else the test's folder
#   PIPELINE                  the program under test: $SEQPIPE_PIPELINE when
#                             set (another build of it), else the build tree's
#   work                      an empty folder, removed at exit; the test runs
#                             in it
#   n, failed                 the TAP counters ok() and skip() keep
# and the helpers below.  A test prints its plan first with plan N, or
# lets tap_done print it at the end; tap_done gives the exit status.
set -u
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=${top_builddir:-$top_srcdir}
top_builddir=$(cd "$top_builddir" && pwd)
PIPELINE=${SEQPIPE_PIPELINE:-$top_builddir/pipeline}
# In an ASan build, LeakSanitizer lists the suppressions it used on stderr
# (tests/lsan.supp); that is not the program's output, and the tests count
# the lines of stderr.
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}print_suppressions=0"
export LSAN_OPTIONS
work=$(mktemp -d)
# u+w first: a test may leave read-only folders behind
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0
failed=0
ok() { # STATUS DESCRIPTION: one TAP line; STATUS 0 is a pass
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
skip() { # WHY
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
# run CMD ARGS...: runs it with its output in files; sets rc, out and err
run() {
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}
contains() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }
# yes_if CMD ARGS...: 0 when the command succeeds, else 1, for ok $(...)
yes_if() { if "$@"; then echo 0; else echo 1; fi; }
# sql QUERY: a query on the work folder's run log; waits up to 10 s for a
# writer's lock (a run may be logging meanwhile)
sql() { sqlite3 -cmd ".timeout 10000" "$work/runs.db" "$1"; }
# head_pipe FILE NAME HEAD EPOCHS: a .pipe named NAME that trains a
# 3-unit rnn with the head HEAD on data/hello (characters, one-hot, plain
# SGD at lr 0.5, batch 1, at most EPOCHS epochs, early stop after 3
# without progress; dev = train): tiny and deterministic, for the tests of
# the task a head declares
head_pipe() {
	cat >"$1" <<PIPE
[pipeline]
name = $2
seed = 1
[data]
format = lines
train = "$top_srcdir/data/hello/train.txt"
dev = "$top_srcdir/data/hello/train.txt"
[tokenize]
plugin = chars
[encode]
plugin = onehot
specials = none
[model]
plugin = rnn
hidden = 3
[head]
plugin = $3
[train]
optimizer = sgd
lr = 0.5
epochs = $4
batch = 1
early_stop = 3
PIPE
}
# dev_metric best|final|first|epochs NAME: over the work folder's run log,
# the lowest dev NAME of an epoch, the final evaluation's, epoch 0's, or
# how many epochs have one
dev_metric() {
	local q="from metrics where split='dev' and name='$2'"
	case $1 in
	best) sql "select min(value) $q and epoch is not null" ;;
	final) sql "select value $q and epoch is null" ;;
	first) sql "select value $q and epoch = 0" ;;
	epochs) sql "select count(*) $q and epoch is not null" ;;
	esac
}
planned=
plan() { echo "1..$1"; planned=$1; }
# tap_done: the plan, unless plan gave it, and the exit status: 0 when
# every ok passed
tap_done() {
	[ -n "$planned" ] || echo "1..$n"
	[ "$failed" -eq 0 ]
}
