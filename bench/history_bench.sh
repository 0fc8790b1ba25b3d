#!/usr/bin/env bash
# history_bench.sh: the run log at 100,000 runs.  Builds a runs.db of
# N runs (default 100000; three pipelines, rnn/lstm/gru, 10 epochs of
# train/dev loss and dev f1 each plus the final metrics: 34 metric and 6
# parameter rows per run, 3.4 M metric rows), then times the history verbs
# on it, each the best of 3:
#
#   runs                    the newest 100 (the default --limit)
#   runs --limit 0          all N runs
#   runs --where ...        the issue's filter, and a selective one that
#                           matches few runs (a full scan)
#   compare A B C           three runs spread over the file
#   best --metric dev.f1    over all finished runs
#
#   make history-bench  (or)  bench/history_bench.sh [N]   in the build tree
# The goal: a filtered `runs` under 0.5 s at 100,000 runs.
set -eu
N=${1:-100000}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PIPELINE="$top_builddir/pipeline"
# In the build tree `pipeline` is libtool's wrapper script, which costs a
# shell start per call: time the real program.
# A copy, so that a rebuild meanwhile does not pull the program away.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -x "$top_builddir/.libs/pipeline" ]; then
	mkdir "$work/bin"
	cp "$top_builddir/.libs/pipeline" "$top_builddir"/core/.libs/libseqpipe.so* "$work/bin/"
	PIPELINE="$work/bin/pipeline"
	export LD_LIBRARY_PATH="$work/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
cd "$work"

t0=$(date +%s.%N)
# one real run creates the schema (and is run 1)
"$top_builddir/pipeline" run "$top_srcdir/pipelines/hello.pipe" --set train.epochs=2 >/dev/null 2>&1
sqlite3 runs.db <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM c WHERE i < $N + 1)
INSERT INTO runs (id, pipeline, status, started, ended, seed, seqpipe_version)
SELECT i, CASE i % 3 WHEN 0 THEN 'ner' WHEN 1 THEN 'charlm' ELSE 'dna' END,
       CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'finished' END,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ($N + 1 - i) || ' minutes'),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ($N + 1 - i) || ' minutes', '+30 seconds'),
       i, '0.1.0' FROM c;
INSERT INTO params (run_id, section, key, value)
SELECT id, 'model', 'plugin', CASE id % 3 WHEN 0 THEN 'lstm' WHEN 1 THEN 'gru' ELSE 'rnn' END FROM runs WHERE id > 1
UNION ALL SELECT id, 'model', 'hidden', 32 << (id % 4) FROM runs WHERE id > 1
UNION ALL SELECT id, 'model', 'layers', 1 + id % 2 FROM runs WHERE id > 1
UNION ALL SELECT id, 'train', 'lr', 0.001 * (1 + id % 7) FROM runs WHERE id > 1
UNION ALL SELECT id, 'train', 'epochs', 10 FROM runs WHERE id > 1
UNION ALL SELECT id, 'train', 'optimizer', 'adam' FROM runs WHERE id > 1;
WITH RECURSIVE e(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM e WHERE k < 9)
INSERT INTO metrics (run_id, epoch, split, name, value, ts)
SELECT r.id, e.k, s.split, s.name,
       CASE s.name WHEN 'f1' THEN (abs(random()) % 1000) / 1000.0 * (e.k + 1) / 10.0
                   ELSE 3.0 / (e.k + 1) + (abs(random()) % 100) / 1000.0 END,
       r.started
FROM runs r, e, (SELECT 'train' AS split, 'loss' AS name UNION ALL SELECT 'dev', 'loss'
                 UNION ALL SELECT 'dev', 'f1') s
WHERE r.id > 1 ORDER BY r.id, e.k;
INSERT INTO metrics (run_id, epoch, split, name, value, ts)
SELECT r.id, NULL, s.split, s.name, (SELECT value FROM metrics m WHERE m.run_id = r.id
       AND m.epoch = 9 AND m.name = s.name AND m.split = (CASE s.split WHEN 'test' THEN 'dev' ELSE s.split END)),
       r.ended
FROM runs r, (SELECT 'train' AS split, 'loss' AS name UNION ALL SELECT 'dev', 'loss'
              UNION ALL SELECT 'dev', 'f1' UNION ALL SELECT 'test', 'f1') s
WHERE r.id > 1 AND r.status = 'finished' ORDER BY r.id;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
ANALYZE;
SQL
t1=$(date +%s.%N)
echo "built $N runs, $(sqlite3 runs.db 'select count(*) from metrics') metric rows, $(du -h runs.db | cut -f1) in $(echo "$t1 - $t0" | bc) s"

# Best of 3 by wall-clock time, with the CPU time (user + sys) of that
# run: on a shared machine the CPU time is the steadier figure.
best_of3() { # description, command...
	local desc=$1 best=999 cpu=0 k t
	shift
	TIMEFORMAT='%R %U %S'
	for k in 1 2 3; do
		t=$( { time "$@" >"$work/out" 2>"$work/err"; } 2>&1 ) ||
			{ echo "FAILED: $desc: $(cat "$work/err")"; return 1; }
		set -- "$@"
		read -r r u s <<<"$t"
		if [ "$(echo "$r < $best" | bc)" = 1 ]; then best=$r; cpu=$(echo "$u + $s" | bc); fi
	done
	printf '%-64s %6.3f s wall %6.3f s cpu  (%s lines)\n' "$desc" "$best" "$cpu" "$(wc -l <"$work/out")"
}
best_of3 "pipeline --version (start-up)" "$PIPELINE" --version
best_of3 "runs (newest 100)" "$PIPELINE" runs
best_of3 "runs --limit 0 (all $N)" "$PIPELINE" runs --limit 0
best_of3 "runs --where \"metrics.dev.f1 > 0.2 and params.model.plugin = 'lstm'\"" \
	"$PIPELINE" runs --where "metrics.dev.f1 > 0.2 and params.model.plugin = 'lstm'"
best_of3 "runs --where (selective: dev.f1 > 0.998 and hidden = 256)" \
	"$PIPELINE" runs --where "metrics.dev.f1 > 0.998 and params.model.hidden = 256"
best_of3 "runs --pipeline ner --status failed --limit 0" "$PIPELINE" runs --pipeline ner --status failed --limit 0
best_of3 "runs --order-by metrics.dev.f1 --limit 10" "$PIPELINE" runs --order-by metrics.dev.f1 --limit 10
best_of3 "compare 2 $((N / 2)) $N" "$PIPELINE" compare 2 $((N / 2)) $N
best_of3 "show $((N / 2))" "$PIPELINE" show $((N / 2))
best_of3 "best --metric dev.f1" "$PIPELINE" best --metric dev.f1
best_of3 "best --metric dev.f1 --pipeline ner" "$PIPELINE" best --metric dev.f1 --pipeline ner
