#!/usr/bin/env bash
# t_history.sh: the run log as people query it: pipeline runs (filters,
# order, limit, formats), show, compare, best, tag, delete, report (checked
# in headless Chromium when it is installed), schema-1 and -2 logs read and
# upgraded, a diverged run, read-only places, a locked log, and writers with a reader at
# once.  Runs are of pipelines/hello.pipe, which trains in a second.
. "$(dirname "$0")/tap.sh"
HELLO="$top_srcdir/pipelines/hello.pipe"
chmod 755 "$work"

rows() { printf '%s\n' "$1" | grep -c "^ *[0-9][0-9]*  "; }
json_ok() { # valid JSON (when python3 is here), else starts right
	if command -v python3 >/dev/null; then
		printf '%s' "$1" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null
	else
		case "$1" in "["* | "{"*) return 0 ;; esac; return 1
	fi
}

# --- four runs: rnn, lstm with instruments, rnn with instruments, failed ---
"$PIPELINE" run "$HELLO" --set train.epochs=20 >/dev/null 2>&1
"$PIPELINE" run "$HELLO" --set train.epochs=10 --set model.plugin=lstm --set train.instruments=true >/dev/null 2>&1
"$PIPELINE" run "$HELLO" --set train.epochs=10 --set train.instruments=true >/dev/null 2>&1
"$PIPELINE" run "$HELLO" --set data.train=/nonexistent.txt >/dev/null 2>&1
ok $([ "$(sql "select group_concat(status) from (select status from runs order by id)")" = "finished,finished,finished,failed" ] && echo 0 || echo 1) "four hello runs logged"

# --- runs ------------------------------------------------------------------
run "$PIPELINE" runs
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 4 ] && echo 0 || echo 1) "runs lists 4 runs"
run "$PIPELINE" runs --where "metrics.train.loss < 2 and params.model.plugin = 'lstm'"
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 1 ] && printf '%s\n' "$out" | grep -q "^ *2  hello" && contains "$out" "lstm" && echo 0 || echo 1) "--where on a metric and a parameter finds the lstm run, showing both columns"
run "$PIPELINE" runs --where "params.model.hidden >= 3 and (status = 'failed' or metrics.train.accuracy = 1)"
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 2 ] && echo 0 || echo 1) "or, parentheses, a numeric parameter compare ($(rows "$out") rows)"
run "$PIPELINE" runs --where "metrics.dev.f9 > 0.2"
ok $([ $rc -eq 1 ] && contains "$err" "no metric 'metrics.dev.f9'" && contains "$err" "train.loss" && echo 0 || echo 1) "an unknown metric is named and the logged ones listed ($err)"
run "$PIPELINE" runs --where "params.model.hiden = 3"
ok $([ $rc -eq 1 ] && contains "$err" "params.model.hiden" && contains "$err" "params.model.hidden" && echo 0 || echo 1) "an unknown parameter lists the section's keys"
run "$PIPELINE" runs --where "metrics.train.loss >"
ok $([ $rc -eq 1 ] && contains "$err" "at column 21" && contains "$err" "expected a number" && echo 0 || echo 1) "a syntax error names the column ($err)"
run "$PIPELINE" runs --where "pipeline = 'x' or 1 = 1"
ok $([ $rc -eq 1 ] && contains "$err" "unknown name '1'" && echo 0 || echo 1) "a bare value is not a name ($err)"
run "$PIPELINE" runs --where "pipeline = 'x'' or 1=1; drop table runs; --'"
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 0 ] && [ "$(sql "select count(*) from runs")" = 4 ] && echo 0 || echo 1) "quotes in a value stay in the value (bound, not pasted): no rows, table intact"
run "$PIPELINE" runs --where "pipeline = 'hello'; drop table runs"
ok $([ $rc -eq 1 ] && [ "$(sql "select count(*) from runs")" = 4 ] && echo 0 || echo 1) "trailing SQL is a syntax error"
run "$PIPELINE" runs --status failed
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 1 ] && contains "$out" "failed" && echo 0 || echo 1) "--status failed"
run "$PIPELINE" runs --status done
ok $([ $rc -eq 1 ] && contains "$err" "finished, failed, interrupted" && echo 0 || echo 1) "an unknown status lists the statuses"
run "$PIPELINE" runs --pipeline nope
ok $([ $rc -eq 1 ] && contains "$err" "'nope'" && contains "$err" "hello" && echo 0 || echo 1) "an unknown pipeline lists the pipelines ($err)"
run "$PIPELINE" runs --order-by "metrics.train.loss asc" --limit 2
first=$(printf '%s\n' "$out" | sed -n 2p | awk '{print $1}')
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 2 ] && [ "$first" = "$(sql "select run_id from final_metrics where split='train' and name='loss' order by value limit 1")" ] && echo 0 || echo 1) "--order-by a metric ascending, --limit 2 (first run $first)"
run "$PIPELINE" runs --format csv
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | head -1 | tr -d '\r')" = "id,pipeline,status,started,key_metric,value,tags" ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 5 ] && echo 0 || echo 1) "--format csv: a header and 4 rows"
run "$PIPELINE" runs --format json
ok $([ $rc -eq 0 ] && json_ok "$out" && [ "$(printf '%s' "$out" | grep -o '"id": ' | wc -l)" -eq 4 ] && echo 0 || echo 1) "--format json: valid, 4 objects"
run "$PIPELINE" runs --format yaml
ok $([ $rc -eq 2 ] && contains "$err" "table, csv or json" && echo 0 || echo 1) "--format yaml is a usage error"

# --- show --------------------------------------------------------------------
run "$PIPELINE" show 1
ok $([ $rc -eq 0 ] && contains "$out" "  [model]" && contains "$out" "    hidden = 3" && contains "$out" "train.loss" && printf '%s\n' "$out" | grep -q "^\* *[0-9]" && echo 0 || echo 1) "show: params by section, a metrics table with the best epoch marked"
ok $(printf '%s\n' "$out" | grep -q "^  *final " && [ "$(printf '%s\n' "$out" | grep -c "^[ *] *[0-9][0-9]*  ")" -eq 20 ] && echo 0 || echo 1) "one row per epoch (20) and the final row"
ok $(contains "$out" "checksum" && printf '%s\n' "$out" | grep -q "hello-run1.spm .*: ok$" && echo 0 || echo 1) "the model artifact's checksum still matches"
model=$(sql "select path from artifacts where run_id=1 and kind='model'")
printf 'x' >>"$model"
run "$PIPELINE" show 1
ok $(printf '%s\n' "$out" | grep -q "hello-run1.spm .*: changed$" && echo 0 || echo 1) "a changed model file is shown as changed"
rm -f "$model"
run "$PIPELINE" show 1
ok $(printf '%s\n' "$out" | grep -q "hello-run1.spm .*: missing$" && echo 0 || echo 1) "a removed one as missing"
run "$PIPELINE" show 2
ok $(contains "$out" "instrument series" && echo 0 || echo 1) "instruments are left to the report, and it says so"
run "$PIPELINE" show 99
ok $([ $rc -eq 1 ] && contains "$err" "no run 99" && contains "$err" "ids 1 to 4" && echo 0 || echo 1) "show of an unknown run lists the ids ($err)"
run "$PIPELINE" show 2 --format json
ok $([ $rc -eq 0 ] && json_ok "$out" && contains "$out" '"model": {' && echo 0 || echo 1) "show --format json"
run "$PIPELINE" show 2 --format csv
ok $([ $rc -eq 0 ] && contains "$(printf '%s\n' "$out" | head -1)" "epoch,train.loss" && [ "$(printf '%s\n' "$out" | wc -l)" -eq 12 ] && echo 0 || echo 1) "show --format csv: the metrics table"

# --- compare -----------------------------------------------------------------
run "$PIPELINE" compare 1 2
ok $([ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^model.plugin  *rnn  *lstm" && contains "$out" "final metrics:" && contains "$out" "per epoch:" && echo 0 || echo 1) "compare: the parameters that differ, finals, curves"
ok $([ "$(printf '%s\n' "$out" | sed -n '/per epoch:/,$p' | grep -c "^ *[0-9]")" -eq 20 ] && echo 0 || echo 1) "curves aligned by epoch (20 rows for 20 and 10 epochs)"
run "$PIPELINE" compare 1 2 --format csv --metric train.accuracy
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c "^epoch,train.accuracy,")" -eq 30 ] && echo 0 || echo 1) "compare --format csv: tidy rows, 30 epoch values"
run "$PIPELINE" compare 1 2 --format json
ok $([ $rc -eq 0 ] && json_ok "$out" && echo 0 || echo 1) "compare --format json"
run "$PIPELINE" compare 1 42
ok $([ $rc -eq 1 ] && contains "$err" "no run 42" && echo 0 || echo 1) "compare names a missing run"
run "$PIPELINE" compare 1 2 --metric dev.bleu
ok $([ $rc -eq 1 ] && contains "$err" "dev.bleu" && contains "$err" "train.loss" && echo 0 || echo 1) "compare names a missing metric"

# --- best --------------------------------------------------------------------
best_loss=$(sql "select run_id from final_metrics f join runs r on r.id=f.run_id where status='finished' and split='train' and name='loss' order by value limit 1")
run "$PIPELINE" best --metric train.loss
ok $([ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^ *$best_loss  hello" && echo 0 || echo 1) "best --metric train.loss: the lowest loss (run $best_loss)"
run "$PIPELINE" best --metric accuracy --split train --pipeline hello --format csv
ok $([ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | sed -n 2p | cut -d, -f1)" = 1 ] && echo 0 || echo 1) "best accuracy is highest, csv"
run "$PIPELINE" best --metric dev.f1
ok $([ $rc -eq 1 ] && contains "$err" "dev.f1" && contains "$err" "train.accuracy" && echo 0 || echo 1) "best names a missing metric and lists the logged ones"
run "$PIPELINE" best --metric train.loss --pipeline nope
ok $([ $rc -eq 1 ] && contains "$err" "'nope'" && contains "$err" "hello" && echo 0 || echo 1) "best names a missing pipeline"

# --- tag -----------------------------------------------------------------------
run "$PIPELINE" tag 2 cell=lstm "note=first try"
ok $([ $rc -eq 0 ] && [ "$(sql "select group_concat(key || '=' || value) from tags where run_id=2")" = "cell=lstm,note=first try" ] && echo 0 || echo 1) "tag sets two tags"
run "$PIPELINE" runs --tag cell=lstm
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 1 ] && contains "$out" "cell=lstm" && echo 0 || echo 1) "runs --tag KEY=VALUE"
run "$PIPELINE" runs --where "tags.note like 'first%'"
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 1 ] && echo 0 || echo 1) "--where on a tag with like"
run "$PIPELINE" tag 2 --remove note
ok $([ $rc -eq 0 ] && [ "$(sql "select count(*) from tags")" = 1 ] && echo 0 || echo 1) "tag --remove"
run "$PIPELINE" tag 9 a=b
ok $([ $rc -eq 1 ] && contains "$err" "no run 9" && echo 0 || echo 1) "tagging a missing run names it"
run "$PIPELINE" tag 2 novalue
ok $([ $rc -eq 2 ] && contains "$err" "KEY=VALUE" && echo 0 || echo 1) "tag without = is a usage error"

# --- report ----------------------------------------------------------------------
run "$PIPELINE" report 3 2 -o report.html
ok $([ $rc -eq 0 ] && [ -s report.html ] && echo 0 || echo 1) "report of the rnn and lstm runs"
ok $([ "$(grep -o '<svg class="chart gradnorm' report.html | wc -l)" -ge 3 ] && grep -q '<svg class="chart curve' report.html && grep -q '<svg class="chart gates' report.html && grep -q 'class="bar"' report.html && echo 0 || echo 1) "it has learning curves, gradient norms per run and overlaid, gate bars"
urls=$(grep -o 'http[s]*://[^"]*' report.html | sort -u)
ok $(! grep -qi '<script\|<link\|src=\|url(' report.html && [ "$urls" = "http://www.w3.org/2000/svg" ] && echo 0 || echo 1) "self-contained: no script, no link, no URL but the SVG namespace"
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$chromium" ]; then
	flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage"
	mkdir -p profile1 profile2
	timeout 120 "$chromium" $flags --user-data-dir="$work/profile1" --window-size=1200,1600 \
		--screenshot="$work/shot.png" "file://$work/report.html" >chrome1.log 2>&1
	timeout 120 "$chromium" $flags --user-data-dir="$work/profile2" --dump-dom \
		"file://$work/report.html" >dom.html 2>chrome2.log
	n_svg=$(grep -o '<svg class="chart' dom.html | wc -l)
	n_series=$(grep -o '<polyline class="series"' dom.html | wc -l)
	ok $([ "$n_series" -ge 6 ] && [ "$n_svg" -ge 6 ] && grep -q 'class="bar"' dom.html && grep -q 'chart gradnorm overlay' dom.html && echo 0 || echo 1) "Chromium's DOM of the report holds the charts ($n_svg svg, $n_series series)"
	if command -v python3 >/dev/null; then
		colours=$(python3 - "$work/shot.png" <<'PY'
import sys, zlib, struct
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n'
i, idat, w, h, ct = 8, b'', 0, 0, 0
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i + 8]); c = d[i + 8:i + 8 + n]; i += 12 + n
    if t == b'IHDR': w, h, bd, ct = struct.unpack('>IIBB', c[:10])
    if t == b'IDAT': idat += c
raw = zlib.decompress(idat); bpp = 4 if ct == 6 else 3; stride = w * bpp
seen, prev, pos = set(), bytearray(stride), 0
for y in range(h):
    f = raw[pos]; line = bytearray(raw[pos + 1:pos + 1 + stride]); pos += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; b = prev[x]; cc = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - cc; pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, w, 4): seen.add(bytes(line[x * bpp:x * bpp + 3]))
print(len(seen))
PY
)
		ok $([ "${colours:-0}" -gt 20 ] && echo 0 || echo 1) "the screenshot is not blank ($colours colours)"
	else
		ok $([ "$(stat -c %s shot.png 2>/dev/null || echo 0)" -gt 20000 ] && echo 0 || echo 1) "the screenshot is not blank ($(stat -c %s shot.png 2>/dev/null) bytes)"
	fi
else
	skip "chromium is not installed (Debian package chromium): report not opened in a browser"
	skip "chromium is not installed: no screenshot"
fi
# --- a classifier's confusion matrix, per-class scores and samples ------------------
VANISH="$top_srcdir/pipelines/vanishing.pipe"
"$PIPELINE" run "$VANISH" --db cls.db --quiet --set data.length=6 --set data.n_train=200 --set train.epochs=3 --set train.instruments=false >/dev/null 2>&1
cells=$(sqlite3 cls.db "select sum(count) from confusion where run_id = 1 and split = 'dev' and epoch is null")
ok $([ "$cells" = 200 ] && [ "$(sqlite3 cls.db "select count(*) from samples where run_id = 1 and split = 'dev'")" = 5 ] && echo 0 || echo 1) "the final evaluation logs the dev confusion matrix (200 examples: $cells) and 5 samples"
run "$PIPELINE" report 1 --db cls.db -o cls.html
ok $([ $rc -eq 0 ] && grep -q '<svg class="chart confusion' cls.html && grep -q '<svg class="chart pertype' cls.html && [ "$(grep -o '<tr><td>' cls.html | wc -l)" -ge 5 ] && echo 0 || echo 1) "its report draws the confusion matrix, per-class F1 and a samples table"
if [ -n "$chromium" ]; then
	timeout 120 "$chromium" $flags --user-data-dir="$work/profile3" --dump-dom \
		"file://$work/cls.html" >cls-dom.html 2>chrome3.log
	n_cell=$(grep -o '<rect class="cell"' cls-dom.html | wc -l)
	n_smp=$(sed -n '/<table class="samples"/,/<\/table>/p' cls-dom.html | grep -o '<tr><td>' | wc -l)
	ok $([ "$n_cell" -eq 16 ] && [ "$n_smp" -eq 5 ] && grep -q '<svg class="chart pertype' cls-dom.html && echo 0 || echo 1) "Chromium's DOM holds the 4 x 4 confusion cells ($n_cell), per-class bars and 5 sample rows ($n_smp)"
else
	skip "chromium is not installed: confusion matrix not opened in a browser"
fi

run "$PIPELINE" report 2 -o /nonexistent/dir/r.html
ok $([ $rc -eq 1 ] && contains "$err" "r.html" && echo 0 || echo 1) "report to an unwritable place fails naming it"

# --- delete --------------------------------------------------------------------
run "$PIPELINE" delete 3 </dev/null
ok $([ $rc -eq 2 ] && contains "$err" "--yes" && [ "$(sql "select count(*) from runs where id=3")" = 1 ] && echo 0 || echo 1) "delete off a terminal without --yes refuses and deletes nothing"
m3=$(sql "select path from artifacts where run_id=3 and kind='model'")
run "$PIPELINE" delete 3 --yes --files
ok $([ $rc -eq 0 ] && [ "$(sql "select (select count(*) from runs where id=3) + (select count(*) from metrics where run_id=3) + (select count(*) from artifacts where run_id=3)")" = 0 ] && [ ! -e "$m3" ] && echo 0 || echo 1) "delete --yes --files removes the rows and the model file"
run "$PIPELINE" delete 3 --yes
ok $([ $rc -eq 1 ] && contains "$err" "no run 3" && echo 0 || echo 1) "deleting it again names the run"

# --- a log written by the release before schema 2 ---------------------------------
cp "$top_srcdir/tests/data/runs-v1.db" v1.db
run "$PIPELINE" runs --db v1.db
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 4 ] && [ "$(sqlite3 v1.db 'pragma user_version')" = 1 ] && echo 0 || echo 1) "runs reads a schema-1 log without changing it"
run "$PIPELINE" runs --db v1.db --tag x
ok $([ $rc -eq 1 ] && contains "$err" "no tags yet" && echo 0 || echo 1) "a tag filter on it says it has no tags yet"
run "$PIPELINE" tag 1 kept=yes --db v1.db
ok $([ $rc -eq 0 ] && [ "$(sqlite3 v1.db 'pragma user_version')" = 3 ] && [ "$(sqlite3 v1.db 'select count(*) from metrics')" = 109 ] && echo 0 || echo 1) "tag upgrades it in place, every row kept"

# --- a log written by the release before schema 3; a diverged run ----------------
cp "$top_srcdir/tests/data/runs-v2.db" v2.db
run "$PIPELINE" runs --db v2.db --tag baseline
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 1 ] && [ "$(sqlite3 v2.db 'pragma user_version')" = 2 ] && echo 0 || echo 1) "runs reads a schema-2 log (and its tags) without changing it"
run "$PIPELINE" tag 5 kept=yes --db v2.db
ok $([ $rc -eq 0 ] && [ "$(sqlite3 v2.db 'pragma user_version')" = 3 ] && [ "$(sqlite3 v2.db 'select count(*) from metrics')" = 2216 ] && [ "$(sqlite3 v2.db 'select count(*) from tags')" = 3 ] && echo 0 || echo 1) "tag upgrades a schema-2 log in place, every row kept"
sqlite3 v2.db "update runs set status = 'diverged', error = 'epoch 2: the loss is nan' where id = 4"
run "$PIPELINE" runs --db v2.db --status diverged
ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 1 ] && contains "$out" "diverged" && echo 0 || echo 1) "runs --status diverged lists the diverged run"
run "$PIPELINE" show 4 --db v2.db
ok $([ $rc -eq 0 ] && contains "$out" "hello, diverged" && contains "$out" "loss is nan" && echo 0 || echo 1) "show names a diverged run and its error"

# --- read-only places (as another user when run as root) ------------------------------
as_user() { "$@"; }
can_drop=1
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null; then
		as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	else
		can_drop=0
	fi
fi
if [ $can_drop = 1 ] && as_user test -x "$PIPELINE"; then
	mkdir rodir && cp runs.db rodir/runs.db && chmod 555 rodir && chmod 444 rodir/runs.db
	run as_user "$PIPELINE" runs --db rodir/runs.db
	ok $([ $rc -eq 0 ] && [ "$(rows "$out")" -eq 3 ] && echo 0 || echo 1) "runs reads a log in a read-only folder ($err)"
	run as_user "$PIPELINE" show 2 --db rodir/runs.db
	ok $([ $rc -eq 0 ] && contains "$out" "[model]" && echo 0 || echo 1) "and show"
	ok $([ ! -e rodir/runs.db-wal ] && [ ! -e rodir/runs.db-shm ] && echo 0 || echo 1) "no -wal or -shm left there"
	mkdir rwdir && cp runs.db rwdir/runs.db && chmod 777 rwdir && chmod 444 rwdir/runs.db
	run as_user "$PIPELINE" run "$HELLO" --db rwdir/runs.db --vocab-db rwdir/vocab.db --set train.epochs=2
	ok $([ $rc -eq 1 ] && contains "$err" "read-only" && [ ! -e rwdir/runs.db-wal ] && [ ! -e rwdir/runs.db-shm ] && echo 0 || echo 1) "a read-only run log is refused clearly, leaving no -wal/-shm ($err)"
	"$PIPELINE" run "$HELLO" --db rwdir/other.db --vocab-db rwdir/vocab.db --set train.epochs=2 >/dev/null 2>&1
	chmod 444 rwdir/vocab.db
	run as_user "$PIPELINE" run "$HELLO" --db rwdir/third.db --vocab-db rwdir/vocab.db --set train.epochs=2 --set pipeline.name=h2
	ok $([ $rc -eq 1 ] && contains "$err" "vocab.db" && contains "$err" "read-only" && [ ! -e rwdir/vocab.db-wal ] && [ ! -e rwdir/vocab.db-shm ] && echo 0 || echo 1) "a read-only vocabulary store is refused clearly, leaving no -wal/-shm ($err)"
	chmod 755 rwdir
else
	for i in 1 2 3 4 5; do skip "cannot run as another user to test read-only places"; done
fi

# --- a locked run log during training ------------------------------------------------
"$PIPELINE" run "$HELLO" --set pipeline.name=locked --set train.epochs=4000 >locked.out 2>locked.err &
pid=$!
for i in $(seq 1 100); do
	[ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='locked'" 2>/dev/null)" -gt 10 ] 2>/dev/null && break
	sleep 0.05
done
printf "BEGIN IMMEDIATE;\nINSERT INTO events (run_id, ts, level, message) VALUES (1, 'x', 'info', 'lock');\n.shell sleep 3\nCOMMIT;\n" | sqlite3 runs.db >/dev/null 2>&1
wait $pid
rc=$?
ok $([ $rc -eq 0 ] && [ "$(sql "select status from runs where pipeline='locked'")" = finished ] && echo 0 || echo 1) "a run whose log is locked for 3 s finishes ($(tr '\n' ' ' <locked.err | cut -c1-160))"
want=$(sql "select count(*) from metrics where run_id=1 and epoch=0")
ok $([ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='locked' and epoch is not null")" -eq $((4000 * want)) ] && echo 0 || echo 1) "with every metric row of its 4000 epochs"
grep -q "keeping the rows in memory" locked.err && echo "# the lock was met while training: rows kept in memory" || echo "# the run did not meet the lock"

# --- two writers and a reader at once -----------------------------------------------
"$PIPELINE" run "$HELLO" --set pipeline.name=w1 --set train.epochs=1500 >/dev/null 2>w1.err &
p1=$!
"$PIPELINE" run "$HELLO" --set pipeline.name=w2 --set train.epochs=1500 --set model.plugin=gru >/dev/null 2>w2.err &
p2=$!
reads=0 bad=0
while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do
	"$PIPELINE" runs --limit 5 >/dev/null 2>reader.err || bad=$((bad + 1))
	"$PIPELINE" show "$(sql "select max(id) from runs")" >/dev/null 2>>reader.err || bad=$((bad + 1))
	reads=$((reads + 1))
done
wait $p1; r1=$?
wait $p2; r2=$?
ok $([ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$(sql "select count(*) from runs where pipeline in ('w1','w2') and status='finished'")" = 2 ] && echo 0 || echo 1) "two pipelines logging at once both finish"
ok $([ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='w1' and epoch is not null")" -eq $((1500 * want)) ] && [ "$(sql "select count(*) from metrics m join runs r on r.id=m.run_id where r.pipeline='w2' and epoch is not null")" -eq $((1500 * want)) ] && echo 0 || echo 1) "with all their rows"
ok $([ $bad -eq 0 ] && [ $reads -gt 0 ] && echo 0 || echo 1) "a reader listing and showing runs meanwhile never errs ($reads rounds, $bad errors: $(head -c 200 reader.err))"

tap_done
