#!/usr/bin/env bash
# t_catalogue.sh: the bad-input catalogue (issue 12).  Each case runs
# `pipeline` once on one bad input, in an empty folder of its own, and
# checks what every bad input must give:
#   - an exit status from 1 to 127 (an error, not a crash or a signal);
#   - exactly one line on stderr, containing the case's needle, which names
#     the place (FILE:LINE[:COL], a byte offset, or the --set that gave the
#     value) and what was expected;
#   - no file left in the folder other than the run log and the
#     vocabulary store (no model, checkpoint, .tmp, -wal or -shm).
# One case is one line:  bad "what" "needle" ARGS...  (ARGS for `pipeline`;
# $FX is the folder of fixtures built below).  A case that is known to
# fail (a finding not fixed yet) is written  todo "finding" "what" ...  and
# reported as a TAP TODO, so it is listed, not hidden.
. "$(dirname "$0")/tap.sh"
FX="$work/fx"
mkdir -p "$FX"

# ---- fixtures ---------------------------------------------------------------
cd "$FX" || exit 1
# a small language model that trains in a blink
sed -e "s|\"../data/hello/train.txt\"|\"$top_srcdir/data/hello/train.txt\"|" \
    -e 's/^epochs = 300.*/epochs = 2/' "$top_srcdir/pipelines/hello.pipe" >ok.pipe
# a tagger on the tiny NER slice
cat >ner.pipe <<EOF
[pipeline]
name = tinyner
[data]
format = conll
train = "$top_srcdir/tests/data/tiny/ner_train.conll"
[model]
plugin = rnn
hidden = 4
[head]
plugin = tagger
[train]
epochs = 1
EOF
# a sentiment classifier on tab-separated text
printf 'good film\tpos\nbad film\tneg\n' >ok.tsv
cat >tsv.pipe <<EOF
[pipeline]
name = tinytsv
[data]
format = tsv
train = "$FX/ok.tsv"
[tokenize]
plugin = icu_words
[model]
plugin = rnn
hidden = 4
[head]
plugin = classify
[train]
epochs = 1
EOF
# a .pipe whose train.save leaves the working folder
sed 's/^epochs = 2/epochs = 2\nsave = "..\/evil.spm"/' ok.pipe >escape.pipe
printf 'precious\n' >precious.txt
# malformed .pipe files
printf '[pipeline]\nname = "broken\n' >broken.pipe
printf 'x = 1\n[pipeline]\n' >before.pipe
printf '[model]\nplugin = rnn\n[model]\n' >dupsec.pipe
printf '[model]\nhidden = 3\nhidden = 4\n' >dupkey.pipe
printf '[modle]\n' >badsec.pipe
printf '[model]\nhidden = 3x\n' >badnum.pipe
printf '[pipeline]\nname = \xff\n' >badutf.pipe
printf '[pipeline]\nname = a\0b\n' >nul.pipe
printf '[pipeline\n' >unclosed.pipe
: >empty.pipe
sed 's/^hidden = 3/hiden = 3/' ok.pipe >typo.pipe
# data files
printf 'a\tO\nb\tO\n\nlonely\nc\tO\n' >onecol.conll
printf 'a\tO\n\tO\n' >emptytok.conll
printf 'EU\tNNP\tB-ORG\n' >threecol.conll
printf 'a\tO\nb\t\xc3(\n' >badutf.conll
printf 'hello\nhe\0llo\n' >nul.txt
printf 'good\tpos\nno label here\n' >onecol.tsv
printf 'good\tpos\nbad\t\n' >emptylabel.tsv
: >empty.txt
printf '\n  \n\t\n' >blank.txt
printf 'hello world\n' | gzip -c | head -c 20 >trunc.txt.gz
printf 'text\tlabel\n' >headeronly.tsv
printf '\xef\xbb\xbf' >bomonly.txt
printf 'good\tpos\r\nbad \xe2\x82\tneg\r\n' >badutf.tsv
printf 'a\tO\nb\tO\n' | gzip -c | head -c 25 >trunc.conll.gz
# model files
cp "$top_srcdir/fuzz/corpus/modelfile/hello.spm" good.spm
head -c 100 good.spm >trunc.spm
: >empty.spm
printf 'hello, not a model\n' >text.spm
cp good.spm flip.spm
printf '\x55' | dd of=flip.spm bs=1 seek=200 conv=notrunc 2>/dev/null
cp good.spm v99.spm
printf '\x63' | dd of=v99.spm bs=1 seek=8 conv=notrunc 2>/dev/null
# vectors
printf 'h 0.5 nan\ne 1 2\n' >nan.vec
printf 'h 0.5\n' >short.vec
# a run log with one run, a vocabulary store with one vocabulary
cp "$top_srcdir/fuzz/corpus/runlog/hello_runs.db" runs.db
cp "$top_srcdir/fuzz/corpus/vocab/hello_vocab.db" vocab.db
# a vocabulary store edited by hand: a row without a name (fuzz/regress)
cp "$top_srcdir/fuzz/regress/vocab/list_null_name.db" nullname.db
# ... and hostile ones: a recursive view that never ends, a trigger
cp "$top_srcdir/fuzz/regress/vocab/recursive_view_never_ends.db" view.db
cp "$top_srcdir/fuzz/regress/vocab/trigger_on_tokens.db" trigger.db
# run logs with a trigger that wipes the metrics, a final_metrics view
# that never ends
cp "$top_srcdir/fuzz/regress/runlog/trigger_wipes_metrics.db" wipe.db
cp "$top_srcdir/fuzz/regress/runlog/recursive_final_metrics.db" endless.db
# ... one whose run_summary, upper-cased, never ends, one without the
# trigger that keeps final_values
cp "$top_srcdir/fuzz/regress/runlog/uppercase_run_summary.db" upper.db
cp "$top_srcdir/fuzz/regress/runlog/no_final_values_trigger.db" notrigger.db
# ... and one stamped as a run log but never migrated, holding a table and
# a trigger of its own
cp "$top_srcdir/fuzz/regress/runlog/unmigrated_with_trigger.db" unmigrated.db
# run logs and vocabulary stores that are not seqpipe's
printf 'not a database\n' >text.db
sqlite3 other.db 'create table t(a); insert into t values (1);' 2>/dev/null ||
	cp "$top_srcdir/fuzz/corpus/runlog/other.db" other.db

# ---- the harness ------------------------------------------------------------
case_dir() {
	n=$((n + 1))
	mkdir -p "$work/c$n"
	cd "$work/c$n" || exit 1
}
# check WHAT NEEDLE: sets why (empty when the case passes)
check() {
	local lines left
	why=
	lines=$(grep -c '' "$work/err")
	left=$(find . -type f ! -name runs.db ! -name vocab.db | sort | tr '\n' ' ')
	if [ "$rc" -eq 0 ]; then why="exit 0"
	elif [ "$rc" -ge 128 ]; then why="exit $rc (a signal)"
	elif [ "$lines" -ne 1 ]; then why="$lines lines on stderr"
	elif ! grep -qF -- "$2" "$work/err"; then why="no '$2' in: $(cat "$work/err")"
	elif [ -n "$left" ]; then why="left $left"
	fi
}
run_case() {
	case_dir
	"$PIPELINE" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
}
bad() { # WHAT NEEDLE ARGS...
	local what=$1 needle=$2
	shift 2
	run_case "$@"
	check "$what" "$needle"
	if [ -z "$why" ]; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: $why"
	fi
}
# A usage error: exit 2, the needle in the first line (the usage follows).
usage() { # WHAT NEEDLE ARGS...
	local what=$1 needle=$2
	shift 2
	run_case "$@"
	if [ "$rc" -eq 2 ] && head -n 1 "$work/err" | grep -qF -- "$needle"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: exit $rc: $(head -n 1 "$work/err")"
	fi
}
# A bad input that an option makes acceptable: exit 0, the needle on stdout.
good() { # WHAT NEEDLE ARGS...
	local what=$1 needle=$2
	shift 2
	run_case "$@"
	if [ "$rc" -eq 0 ] && grep -qF -- "$needle" "$work/out"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: exit $rc: $(head -n 1 "$work/err")"
	fi
}
# A run that fails after training began: exit 1..127, the needle in one
# line; its checkpoint (models/) is kept on purpose, for --resume.
fails() { # WHAT NEEDLE ARGS...
	local what=$1 needle=$2
	shift 2
	run_case "$@"
	check "$what" "$needle"
	case "$why" in left\ ./models/*) why= ;; esac
	if [ -z "$why" ]; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: $why"
	fi
}
# The run of the case before, as its run log records it: STATUS.
status_is() { # WHAT STATUS
	local got
	got=$(sqlite3 "$work/c$n/runs.db" "select status from runs" 2>&1)
	n=$((n + 1))
	if [ "$got" = "$2" ]; then echo "ok $n - $1"; else echo "not ok $n - $1: status '$got'"; fi
}
todo() { # FINDING WHAT NEEDLE ARGS...
	local finding=$1 what=$2 needle=$3
	shift 3
	run_case "$@"
	check "$what" "$needle"
	if [ -z "$why" ]; then
		echo "ok $n - $what # TODO $finding (passes now: make it a bad case)"
	else
		echo "not ok $n - $what: $why # TODO $finding"
	fi
}

# ---- the cases --------------------------------------------------------------
# the command line
usage "unknown command"               "unknown command 'frobnicate'"  frobnicate
usage "unknown option"                "unknown option '--bogus'"      run --bogus "$FX/ok.pipe"
usage "run without a file"            "pipeline"                      run
bad "missing .pipe (run)"             "missing.pipe: cannot open"     run missing.pipe
bad "missing .pipe (check)"           "missing.pipe: cannot open"     check missing.pipe
bad "a folder as .pipe"               "$FX: cannot read"              check "$FX"
bad "/dev/zero as .pipe"              "/dev/zero: more than 1048576 bytes, the ceiling of a .pipe file"  check /dev/zero
bad "show without a run log"          "runs.db: no run log here"      show 1
bad "show a run that does not exist"  "runs.db: no run 5"             --db "$FX/runs.db" show 5
bad "vocab that does not exist"       "no vocabulary 'nosuch'"        --vocab-db "$FX/vocab.db" vocab nosuch
usage "--db without a value (run)"    "--db expects a value"          run "$FX/ok.pipe" --db
bad "--db without a value"            "pipeline: --db needs a FILE"   --db
bad "show a run id past int64"        "run id 99999999999999999999 is out of range"  --db "$FX/runs.db" show 99999999999999999999
usage "--temperature inf"             "--temperature expects a finite number > 0, got 'inf'"  predict "$FX/ok.pipe" --input hell --temperature inf
usage "--generate past the ceiling"   "--generate 99999999999 is past the ceiling of 1000000 tokens"  predict "$FX/ok.pipe" --input hell --generate 99999999999

# malformed .pipe files: FILE:LINE:COL and what was expected
bad "unterminated string"             "broken.pipe:2:8"               check "$FX/broken.pipe"
bad "key before any section"          "before.pipe:1:1: key 'x' before any section"  check "$FX/before.pipe"
bad "duplicate section"               "dupsec.pipe:3:1: duplicate section [model]"   check "$FX/dupsec.pipe"
bad "duplicate key"                   "dupkey.pipe:3:1: duplicate key 'hidden'"      check "$FX/dupkey.pipe"
bad "unknown section"                 "badsec.pipe:1:2: unknown section [modle]"     check "$FX/badsec.pipe"
bad "bad number"                      "badnum.pipe:2:10: bad number '3x'"            check "$FX/badnum.pipe"
bad "invalid UTF-8 in a .pipe"        "badutf.pipe:2:8: invalid UTF-8 byte 0xff"     check "$FX/badutf.pipe"
bad "NUL byte in a .pipe"             "nul.pipe:2:9: NUL byte"                       check "$FX/nul.pipe"
bad "unterminated section header"     "unclosed.pipe:1:10: unterminated section header"  check "$FX/unclosed.pipe"
bad "empty .pipe"                     "empty.pipe: missing section [data]"           check "$FX/empty.pipe"
bad "unknown key"                     "unknown key 'hiden'"                          check "$FX/typo.pipe"
bad "unknown plugin"                  "lsmt"                          check "$FX/ok.pipe" --set model.plugin=lsmt
bad "hidden = -3"                     "hidden"                        check "$FX/ok.pipe" --set model.hidden=-3
bad "wrong type in --set"             "--set train.lr=fast"           check "$FX/ok.pipe" --set train.lr=fast
bad "nan is not a number"             "--set train.lr=nan"            check "$FX/ok.pipe" --set train.lr=nan
bad "--set without a dot"             "--set model: missing '.'"      check "$FX/ok.pipe" --set model
bad "--set unknown section"           "--set modle.hidden=3: unknown section 'modle'"  check "$FX/ok.pipe" --set modle.hidden=3
bad "--set unknown format"            "expected one of: lines, conll, tsv"  check "$FX/ok.pipe" --set data.format=xml
bad "epochs out of range"             "train.epochs = -1, expected 0..1073741824"  check "$FX/ok.pipe" --set train.epochs=-1
bad "integer past long"               "is out of range"               check "$FX/ok.pipe" --set model.hidden=99999999999999999999999

# data files: FILE:LINE[:COL] and what was expected
bad "missing train file"              "nowhere.txt: cannot open"      run "$FX/ok.pipe" --set "data.train=\"$FX/nowhere.txt\""
bad "train file is a folder"          "$FX"                           run "$FX/ok.pipe" --set "data.train=\"$FX\""
bad "/dev/zero as data"               "/dev/zero:1: line longer than 16777216 bytes, the ceiling of one line"  run "$FX/ok.pipe" --set data.train=/dev/zero
bad "empty data file"                 "empty.txt: no examples (lines format)"  run "$FX/ok.pipe" --set "data.train=\"$FX/empty.txt\""
bad "blank lines only"                "blank.txt: no examples (lines format)"  run "$FX/ok.pipe" --set "data.train=\"$FX/blank.txt\""
bad "NUL byte in data"                "nul.txt:2:3: NUL byte"         run "$FX/ok.pipe" --set "data.train=\"$FX/nul.txt\""
bad "truncated gzip"                  "trunc.txt.gz: gzip:"           run "$FX/ok.pipe" --set "data.train=\"$FX/trunc.txt.gz\""
bad "conll one column"                "onecol.conll:4: expected 'token<TAB>label', got 'lonely'"  run "$FX/ner.pipe" --set "data.train=\"$FX/onecol.conll\""
bad "conll empty token (BTC)"         "emptytok.conll:2: expected 'token<TAB>label'"  run "$FX/ner.pipe" --set "data.train=\"$FX/emptytok.conll\""
bad "conll 3 columns"                 "threecol.conll:1: 3 columns, expected 2 (token label) or 4"  run "$FX/ner.pipe" --set "data.train=\"$FX/threecol.conll\""
bad "conll invalid UTF-8"             "badutf.conll:2:3: invalid UTF-8 (byte 0xc3)"  run "$FX/ner.pipe" --set "data.train=\"$FX/badutf.conll\""
bad "tsv missing column"              "onecol.tsv:2: expected 2 tab-separated columns"  run "$FX/tsv.pipe" --set "data.train=\"$FX/onecol.tsv\""
bad "tsv empty label"                 "emptylabel.tsv:2: empty label"  run "$FX/tsv.pipe" --set "data.train=\"$FX/emptylabel.tsv\""
bad "a byte order mark and nothing else" "bomonly.txt: no examples"   run "$FX/ok.pipe" --set "data.train=\"$FX/bomonly.txt\""
bad "bad dev file"                    "onecol.conll:4: expected 'token<TAB>label'"  run "$FX/ner.pipe" --set "data.dev=\"$FX/onecol.conll\""
bad "missing test file"               "notest.conll: cannot open"     run "$FX/ner.pipe" --set "data.test=\"$FX/notest.conll\""
bad "truncated gzip CoNLL"            "trunc.conll.gz: gzip:"         run "$FX/ner.pipe" --set "data.train=\"$FX/trunc.conll.gz\""
bad "tsv header and nothing else"     "headeronly.tsv: no examples (tsv format)"  run "$FX/tsv.pipe" --set "data.train=\"$FX/headeronly.tsv\"" --set data.header=true
bad "tsv invalid UTF-8"               "badutf.tsv:2:5: invalid UTF-8 (byte 0xe2)"  run "$FX/tsv.pipe" --set "data.train=\"$FX/badutf.tsv\""
bad "tsv label column out of range"   "label_column"                  check "$FX/tsv.pipe" --set data.label_column=5000
bad "empty train path"                'data.train is "", expected the path of the training file'  run "$FX/ok.pipe" --set 'data.train=""'
bad "empty train path (check)"        'data.train is "", expected the path of the training file'  check "$FX/ok.pipe" --set 'data.train=""'
bad "f1 for a language model"         "train.metric = f1 is not a metric of head 'lm'"  check "$FX/ok.pipe" --set train.metric=f1 --set "data.dev=\"$top_srcdir/data/hello/train.txt\""
good "conll empty token skipped (skip_bad)" "skipped 1 malformed line (data.skip_bad), the first at $FX/emptytok.conll:2"  run "$FX/ner.pipe" --set "data.train=\"$FX/emptytok.conll\"" --set data.skip_bad=true
good "conll 3 columns with label_column" "run 1 finished"  run "$FX/ner.pipe" --set "data.train=\"$FX/threecol.conll\"" --set data.label_column=2

# files a run writes: only a model may be replaced, names stay in the folder
bad "save over a file that is not a model" "precious.txt: exists and is not a seqpipe model"  run "$FX/ok.pipe" --set "train.save=\"$FX/precious.txt\""
bad "train.save leaving the folder"   'train.save = "../evil.spm" leaves the working folder'  check "$FX/escape.pipe"
bad "pipeline name with .."           "pipeline name '../../escaped/evil' cannot be part of a file name"  check "$FX/ok.pipe" --set 'pipeline.name="../../escaped/evil"'
bad "pipeline name with a newline"    "cannot be part of a file name"  run "$FX/ok.pipe" --set 'pipeline.name="a\nb"'

# a run that diverges stops there, not "finished"
fails "loss past train.diverge_loss"  "diverged: training loss"  run "$FX/ok.pipe" --set train.diverge_loss=0.001 --set train.epochs=3
fails "lstm with lr = 1e6"            "training epoch 1, batch 2: diverged: training loss"  run "$FX/ner.pipe" --set model.plugin=lstm --set train.lr=1e6
fails "gru with lr = 1e6"             "training epoch 1, batch 2: diverged: training loss"  run "$FX/ner.pipe" --set model.plugin=gru --set train.lr=1e6
fails "tanh rnn with lr = 1e6"        "training epoch 1, batch 2: diverged: training loss"  run "$FX/ner.pipe" --set train.lr=1e6
status_is "and its status is diverged"    diverged
fails "no rollback left"              "after 1 rollback (train.max_rollbacks): training epoch 1, batch 2: diverged"  run "$FX/ner.pipe" --set train.lr=1e6 --set train.on_diverge=rollback --set train.max_rollbacks=1 --set train.rollback_lr_factor=0.5
good "diverged, rolled back"          "rolled back to the start of epoch 1, lr 1e+06 -> 1 (rollback 1 of 3)"  run "$FX/ner.pipe" --set train.lr=1e6 --set train.on_diverge=rollback --set train.rollback_lr_factor=1e-6
bad "on_diverge not a choice"         "train.on_diverge"              check "$FX/ok.pipe" --set train.on_diverge=retry

# model files: the byte offset, or what is wrong with the file
bad "truncated model"                 "trunc.spm: truncated at byte"  model "$FX/trunc.spm"
bad "empty model file"                "empty.spm: truncated at byte 0" model "$FX/empty.spm"
bad "text as a model"                 "text.spm: not a seqpipe model file (bad magic)"  model "$FX/text.spm"
bad "bit-flipped model"               "flip.spm: checksum mismatch"   model "$FX/flip.spm"
bad "model of a newer format"         "v99.spm: model format version 99"  model "$FX/v99.spm"
bad "missing model"                   "nomodel.spm: cannot open"      model "$FX/nomodel.spm"
bad "predict with a truncated model"  "trunc.spm: truncated at byte"  predict "$FX/ok.pipe" --model "$FX/trunc.spm" --input hell
bad "eval with a bit-flipped model"   "flip.spm: checksum mismatch"   eval "$FX/ok.pipe" --model "$FX/flip.spm"
bad "resume from a text file"         "text.spm: not a seqpipe model file"  run "$FX/ok.pipe" --resume "$FX/text.spm"
bad "predict without a trained run"   "runs.db: no run log, expected one with a finished run of 'hello'"  predict "$FX/ok.pipe" --input hell

# pretrained vectors
bad "vectors file missing"            "novec.vec: cannot open"        run "$FX/ok.pipe" --set model.embed=2 --set "encode.vectors=\"$FX/novec.vec\""
bad "/dev/zero as vectors"            "/dev/zero:1: line longer than 1048576 bytes, the ceiling of a vectors line"  run "$FX/ok.pipe" --set model.embed=2 --set encode.vectors=/dev/zero
bad "short vector line"               "short.vec:1:"                  run "$FX/ok.pipe" --set model.embed=2 --set "encode.vectors=\"$FX/short.vec\""
bad "nan in vectors"                  "nan.vec:1:7: expected a finite number, got 'nan' (word 'h')"  run "$FX/ok.pipe" --set model.embed=2 --set "encode.vectors=\"$FX/nan.vec\""

# run logs and vocabulary stores that are not seqpipe's
bad "runs.db that is text"            "text.db: not a seqpipe run log (not an SQLite database)"  runs --db "$FX/text.db"
bad "runs.db of another program"      "other.db: not a seqpipe run log"  runs --db "$FX/other.db"
bad "run logging into a text file"    "text.db: not a seqpipe run log"  run "$FX/ok.pipe" --db "$FX/text.db"
bad "vocab store that is text"       "text.db' is not a seqpipe vocabulary store"  vocab --vocab-db "$FX/text.db"
bad "vocab store row without a name"  "nullname.db' is damaged: a vocabulary row without a name"  --vocab-db "$FX/nullname.db" vocab
bad "run with a vocab store of another program" "other.db"            run "$FX/ok.pipe" --vocab-db "$FX/other.db"
bad "vocab store with a recursive view" "view.db' is a damaged vocabulary store: it has views or triggers, expected only the tables vocabularies and tokens"  vocab --vocab-db "$FX/view.db"
bad "run log with a trigger of its own" "wipe.db: the trigger wipe is not seqpipe's, and would run on every write"  runs --db "$FX/wipe.db"
bad "logging into a run log with a trigger" "wipe.db: the trigger wipe is not seqpipe's"  run "$FX/ok.pipe" --db "$FX/wipe.db"
bad "run log whose view never ends"   "endless.db: the view final_metrics is not the one seqpipe creates"  show 1 --db "$FX/endless.db"
bad "run log with an upper-cased view" "upper.db: the view RUN_SUMMARY is not the one seqpipe creates"  runs --db "$FX/upper.db"
bad "run log without its trigger"     "notrigger.db: the trigger metrics_final is missing"  runs --db "$FX/notrigger.db"
bad "run log of schema 0 with objects" "unmigrated.db: a seqpipe run log of schema version 0 that holds 2 objects; expected an empty file"  run "$FX/ok.pipe" --db "$FX/unmigrated.db"
bad "vocab store with a trigger"      "trigger.db' is a damaged vocabulary store: it has views or triggers"  vocab --vocab-db "$FX/trigger.db"
bad "saving into a store with a trigger" "trigger.db' is a damaged vocabulary store: it has views or triggers"  run "$FX/ok.pipe" --vocab-db "$FX/trigger.db"

# labels that training never saw (finding 8): the head has outputs for the
# training split's labels only (the model file keeps those); a dev or test
# label is warned about once, naming FILE:LINE, and scored as a miss, by
# run and eval alike
printf 'Paris\tB-location\nis\tO\nnice\tO\n\nFoo\tB-foo\nBar\tI-foo\nrocks\tO\n' >"$FX/unseen.conll"
printf 'the\tO\nFoo\tB-foo\nBar\tI-foo\nrocks\tO\n\nBaz\tB-foo\nwins\tO\n' >"$FX/onlyfoo.conll"
printf 'fine film\tneutral\nbad film\tneg\n' >"$FX/neutral.tsv"
unseen_msg() { # FILE LINE LABEL: the warning's line on stderr
	echo "pipeline: warning: $1:$2: label '$3' does not occur in the training data; scored as a miss"
}
has_line() { grep -qxF -- "$1" "$work/err"; }
mkdir -p "$work/unseen" && cd "$work/unseen" || exit 1
run "$PIPELINE" run "$FX/ner.pipe" --set "data.dev=\"$FX/unseen.conll\""
ok $(yes_if [ "$rc" -eq 0 ] && has_line "$(unseen_msg "$FX/unseen.conll" 5 B-foo)" &&
     has_line "$(unseen_msg "$FX/unseen.conll" 6 I-foo)" &&
     [ "$(grep -c 'does not occur in the training data' "$work/err")" -eq 2 ]) \
	"dev labels training never saw: the run goes on, each warned once with FILE:LINE"
run "$PIPELINE" model models/tinyner-run1.spm
ok $(yes_if contains "$out" "labels           12 entries" && contains "$out" "head.W           (12x4)") \
	"dev labels training never saw: the model keeps the 12 training labels, 12 outputs"
run "$PIPELINE" eval "$FX/ner.pipe" --set 'data.dev=""' --set "data.test=\"$FX/onlyfoo.conll\""
ok $(yes_if [ "$rc" -eq 0 ] && has_line "$(unseen_msg "$FX/onlyfoo.conll" 2 B-foo)" &&
     echo "$out" | grep -q '^test .* recall 0 f1 0$') \
	"eval on a file with labels training never saw: works, its entities missed (recall 0)"
run "$PIPELINE" eval "$FX/ner.pipe" --set 'data.dev=""' --set "data.test=\"$FX/onlyfoo.conll\"" --report conlleval
ok $(yes_if [ "$rc" -eq 0 ] && contains "$out" "with 2 phrases;" &&
     echo "$out" | grep -q '^ *foo: precision: *0.00%; recall: *0.00%;') \
	"eval --report conlleval: the type training never saw is listed, recall 0"
mkdir -p "$work/unseen-crf" && cd "$work/unseen-crf" || exit 1
run "$PIPELINE" run "$FX/ner.pipe" --set head.plugin=crf --set "data.dev=\"$FX/unseen.conll\""
ok $(yes_if [ "$rc" -eq 0 ] && has_line "$(unseen_msg "$FX/unseen.conll" 5 B-foo)") \
	"crf with dev labels training never saw: trains, warns"
run "$PIPELINE" model models/tinyner-run1.spm
ok $(yes_if contains "$out" "head.trans       (12x12)") \
	"crf: transitions between the 12 training tags only"
run "$PIPELINE" eval "$FX/ner.pipe" --set 'data.dev=""' --set "data.test=\"$FX/onlyfoo.conll\""
ok $(yes_if [ "$rc" -eq 0 ] && echo "$out" | grep -q '^test .* recall 0 f1 0$') \
	"crf eval on labels training never saw: works, recall 0"
mkdir -p "$work/unseen-cls" && cd "$work/unseen-cls" || exit 1
run "$PIPELINE" run "$FX/tsv.pipe" --set "data.dev=\"$FX/neutral.tsv\""
ok $(yes_if [ "$rc" -eq 0 ] && has_line "$(unseen_msg "$FX/neutral.tsv" 1 neutral)") \
	"a dev class training never saw: warned with FILE:LINE"
run "$PIPELINE" model models/tinytsv-run1.spm
ok $(yes_if contains "$out" "labels           2 entries" && contains "$out" "head.W           (2x4)") \
	"a dev class training never saw: 2 outputs, 2 labels kept"
cd "$work" || exit 1

# readers added later (parallel, ptb, fasta, genbank): one line naming
# FILE:LINE (or the key) and what was expected
(
cd "$FX" || exit 1
reader_pipe() { # NAME FORMAT HEAD TOKENIZE TRAIN
	{ printf '[pipeline]\nname = %s\n[data]\nformat = %s\ntrain = "%s"\n' "$1" "$2" "$5"
	  [ -n "$4" ] && printf '[tokenize]\nplugin = %s\n' "$4"
	  printf '[model]\nplugin = rnn\nhidden = 4\n[head]\nplugin = %s\n[train]\nepochs = 1\n' "$3"; } >"$1.pipe"
}
reader_pipe par parallel decoder icu_words "$FX/par.tsv"
reader_pipe ptb ptb classify "" "$FX/ok.ptb"
reader_pipe fasta fasta lm "" "$FX/ok.fa"
reader_pipe gb genbank tagger "" "$FX/ok.gb"
printf 'hallo\thello\n' >par.tsv
printf 'eins\nzwei\ndrei\n' >mm.de
printf 'one\ntwo\n' >mm.en
printf 'hallo\thello\n\tempty\n' >emptyside.tsv
printf 'hallo\thello\njust one\n' >onecol.par
printf 'hallo\thello\nsch\xc3\xb6n\tbeaut\xff\n' >badutf.par
printf '(3 (2 good) (3 film))\n(1 (2 bad) (1 film)\n' >unbalanced.ptb
printf '(3 (2 good) (3 film))\n(x (2 bad) (1 film))\n' >badlabel.ptb
printf 'ACGT\n>r1\nACGT\n' >headless.fa
printf '>r1\nACGT\nACXT\n' >badbase.fa
printf '>r1\n>r2\nACGT\n' >emptyrec.fa
printf 'LOCUS       r1 8 bp DNA\nFEATURES             Location/Qualifiers\n     CDS             3..20\nORIGIN\n        1 acgtacgt\n//\n' >outside.gb
printf 'LOCUS       r1 8 bp DNA\nORIGIN\n        1 acgtacgt\n' >unclosed.gb
printf 'LOCUS       r1 8 bp DNA\nFEATURES             Location/Qualifiers\n     CDS             3..x\nORIGIN\n        1 acgtacgt\n//\n' >badloc.gb
printf 'LOCUS       r1 8 bp DNA\nORIGIN\n        1 acgtaxgt\n//\n' >badbase.gb
printf '>\nACGT\n' >noname.fa
printf '(3 (2 good) (3 film))\n(3 (2 good) (3 film))) x\n' >extra.ptb
printf '[pipeline]\nname = syn\n[data]\nformat = synthetic\nlength = 0\n[model]\nplugin = rnn\nhidden = 4\n[head]\nplugin = classify\n' >synlen.pipe
sed 's/^length = 0/classes = 1/' synlen.pipe >syncls.pipe
sed 's/^length = 0/task = copy/' synlen.pipe >syntask.pipe
)
bad "parallel: line counts differ"   "line counts differ: $FX/mm.de has 3 lines, $FX/mm.en has 2"  run "$FX/par.pipe" --set "data.train=\"$FX/mm\"" --set data.src_suffix=de --set data.tgt_suffix=en
bad "parallel: one suffix alone"     "data.src_suffix and data.tgt_suffix go together"  check "$FX/par.pipe" --set data.src_suffix=de
bad "parallel: an empty side"        "emptyside.tsv:2: empty source"  run "$FX/par.pipe" --set "data.train=\"$FX/emptyside.tsv\""
bad "parallel: one column"           "onecol.par:2: expected at least 2 tab-separated columns, found 1"  run "$FX/par.pipe" --set "data.train=\"$FX/onecol.par\""
bad "parallel: invalid UTF-8"        "badutf.par:2:13: invalid UTF-8 (byte 0xff), expected UTF-8 text"  run "$FX/par.pipe" --set "data.train=\"$FX/badutf.par\""
bad "parallel: missing file"         "nopar.tsv: cannot open: No such file or directory"  run "$FX/par.pipe" --set "data.train=\"$FX/nopar.tsv\""
bad "ptb: unbalanced tree"           "unbalanced.ptb:2:20: expected ')' closing a node, found the end of the line"  run "$FX/ptb.pipe" --set "data.train=\"$FX/unbalanced.ptb\""
bad "ptb: root label not 0-4"        "badlabel.ptb:2: label 'x', expected 0-4"  run "$FX/ptb.pipe" --set "data.train=\"$FX/badlabel.ptb\""
bad "ptb: unknown label scheme"      "data.labels"                    check "$FX/ptb.pipe" --set data.labels=seven
bad "fasta: sequence before a header" "headless.fa:1: sequence before the" run "$FX/fasta.pipe" --set "data.train=\"$FX/headless.fa\""
bad "fasta: a letter not a base"     "badbase.fa:3:3:"                run "$FX/fasta.pipe" --set "data.train=\"$FX/badbase.fa\""
bad "fasta: an empty record"         "emptyrec.fa:1: record r1 is empty, expected sequence lines after its header"  run "$FX/fasta.pipe" --set "data.train=\"$FX/emptyrec.fa\""
bad "genbank: CDS outside the sequence" "outside.gb:3: CDS: location '3..20': range 3..20 outside the sequence 1..8"  run "$FX/gb.pipe" --set "data.train=\"$FX/outside.gb\""
bad "genbank: record not closed"     "unclosed.gb:1: record r1 is not closed, expected '//' before the end of the file"  run "$FX/gb.pipe" --set "data.train=\"$FX/unclosed.gb\""
bad "ptb: text after the tree"       "extra.ptb:2:22: expected the end of the line after the tree, found ')'"  run "$FX/ptb.pipe" --set "data.train=\"$FX/extra.ptb\""
bad "fasta: a header without a name"  "noname.fa:1: header without a name, expected '>NAME [description]'"  run "$FX/fasta.pipe" --set "data.train=\"$FX/noname.fa\""
bad "genbank: a location that is not one" "badloc.gb:3: CDS: location '3..x': expected a base number at column 4"  run "$FX/gb.pipe" --set "data.train=\"$FX/badloc.gb\""
bad "genbank: a letter not a base"   "badbase.gb:3:16: 'x' in the sequence of r1, expected a nucleotide"  run "$FX/gb.pipe" --set "data.train=\"$FX/badbase.gb\""
bad "synthetic: length 0"            "synlen.pipe:5:10: data.length = 0, expected 1 to"  check "$FX/synlen.pipe"
bad "synthetic: one class"           "syncls.pipe:5:11: data.classes = 1, expected 2 to"  check "$FX/syncls.pipe"
bad "synthetic: an unknown task"     "syntask.pipe:5:8: data.task = copy is not an accepted value, expected one of: recall"  check "$FX/syntask.pipe"
bad "a reader plugin that is not there" "nomod"                       check "$FX/ok.pipe" --set data.format=nomod.lines
bad "a tagger on a format without tags" "format = fasta has no labels"  check "$FX/fasta.pipe" --set head.plugin=tagger

tap_done
