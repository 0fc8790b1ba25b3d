#!/bin/sh
# run.sh: seqpipe against PyTorch on the same machine, in one run; what
# `make bench` runs (from the build folder).
#
# For every measurement (config, cell, mode) and every thread setting it
# alternates seqpipe (bench/bench_rnn) and the PyTorch reference
# (torch_rnn.py from the shared bench folder) process by process, BENCH_PROCS
# processes each (default 3), and prints the median over processes of each
# process's median tokens/s, the ratio seqpipe / torch, the median peak RSS
# of each (getrusage ru_maxrss), and the largest share of the machine's CPU
# that other processes took during a timed part ("other").
#
# Thread settings (see the shared bench README: torch.set_num_threads does
# not reach Debian torch's OpenBLAS, and 2 torch + 2 OpenBLAS threads
# oversubscribe 2 cores):
#   best  torch: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 --threads 1
#         (PyTorch's best 2-core setting); seqpipe: the same environment,
#         --threads 2 --blas-threads 1 (2 engine threads,
#         sp_rnn_config.threads, and the head's products on one OpenBLAS
#         thread: OpenBLAS's idle threads spin for a while after each
#         product and take a core from the engine's threads; one
#         measurement, Nov 2026: 9-26 % faster than with 2 OpenBLAS
#         threads on five of seven cases of configs a-c, within noise on
#         the other two)
#   1thr  both: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1, --threads 1
# plus, in both settings and for both programs, OPENBLAS_CORETYPE=SkylakeX
# on a CPU with AVX-512: OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its AVX2
# "Haswell" kernels on AMD's AVX-512 CPUs, and forcing the AVX-512 ones made
# torch 1.1-2.2x faster here (Nov 2026: config c lstm train 1 thread 8.0k ->
# 13.3k tok/s, b lstm latency 1.39 -> 0.6 ms); without it the ratios would
# flatter seqpipe, whose engine has its own AVX-512 kernels.
#
# Environment:
#   BENCH_QUICK=1       config a only, train only (about a minute)
#   BENCH_CONFIGS       "a b c"        BENCH_CELLS  "lstm gru rnn"
#   BENCH_MODES         "train infer"  (latency is always run for config b
#                       unless BENCH_LATENCY=0)
#   BENCH_SETTINGS      "best 1thr"    BENCH_PROCS  3
#   BENCH_REPS, BENCH_MIN_TIME   per process: repetitions and seconds per
#                       repetition (default 3 and 0.25; the reference's own
#                       defaults, 7 and 1.0, make a full run take an hour)
#   BENCH_MAX_OTHER, BENCH_RETRIES   a process during whose timing other
#                       processes took more than this share of the machine
#                       (default 0.10) is run again, up to BENCH_RETRIES
#                       times (default 1); the table uses the clean
#                       processes when there are any and marks the rest
#   BENCH_CORETYPE      OPENBLAS_CORETYPE for both programs: auto (default:
#                       SkylakeX when /proc/cpuinfo lists avx512f), none
#                       (OpenBLAS's own choice), or a core name
#   BENCH_BIN           the seqpipe driver (default bench/bench_rnn)
#   SEQPIPE_SHARED      folder holding bench/torch_rnn.py (default
#                       $top_srcdir/../shared)
#   PYTHON_TORCH        interpreter with torch (default /usr/bin/python3)
#   BENCH_OUT           where the raw RESULT lines go (default
#                       bench/results.jsonl)
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
BENCH_BIN=${BENCH_BIN:-bench/bench_rnn}
PYTHON_TORCH=${PYTHON_TORCH:-/usr/bin/python3}
SHARED=${SEQPIPE_SHARED:-$top_srcdir/../shared}
TORCH_SCRIPT=$SHARED/bench/torch_rnn.py
OUT=${BENCH_OUT:-bench/results.jsonl}

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	CONFIGS=${BENCH_CONFIGS:-a}
	MODES=${BENCH_MODES:-train}
	LATENCY=${BENCH_LATENCY:-0}
else
	CONFIGS=${BENCH_CONFIGS:-a b c}
	MODES=${BENCH_MODES:-train infer}
	LATENCY=${BENCH_LATENCY:-1}
fi
CELLS=${BENCH_CELLS:-lstm gru rnn}
SETTINGS=${BENCH_SETTINGS:-best 1thr}
PROCS=${BENCH_PROCS:-3}
REPS=${BENCH_REPS:-3}
MIN_TIME=${BENCH_MIN_TIME:-0.25}
MAX_OTHER=${BENCH_MAX_OTHER:-0.10}
RETRIES=${BENCH_RETRIES:-1}
CORETYPE=${BENCH_CORETYPE:-auto}
if [ "$CORETYPE" = auto ]; then
	if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then CORETYPE=SkylakeX; else CORETYPE=none; fi
fi
CORE_ENV=
[ "$CORETYPE" = none ] || CORE_ENV=" OPENBLAS_CORETYPE=$CORETYPE"

[ -x "$BENCH_BIN" ] || { echo "run.sh: $BENCH_BIN not built (make bench builds it)" >&2; exit 1; }
[ -f "$TORCH_SCRIPT" ] || {
	echo "run.sh: $TORCH_SCRIPT not found; set SEQPIPE_SHARED to the folder holding bench/" >&2
	exit 1
}
"$PYTHON_TORCH" -c 'import torch' 2>/dev/null || {
	echo "run.sh: $PYTHON_TORCH cannot import torch (apt-get install python3-torch)" >&2
	exit 1
}
mkdir -p "$(dirname "$OUT")"
: >"$OUT"

# env for a setting: the same for both programs, so that the only
# difference is the program
setting_env() {
	case $1 in
	best) echo "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2$CORE_ENV" ;;
	1thr) echo "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1$CORE_ENV" ;;
	*) echo "run.sh: unknown setting $1" >&2; exit 1 ;;
	esac
}
sp_threads() { [ "$1" = best ] && echo 2 || echo 1; }

# one process; its RESULT line (tagged with the setting) goes to $OUT.
# Returns 1 when other processes took more than MAX_OTHER of the machine
# while it was timing (the caller may then run it again).
one() { # framework setting config cell mode
	fw=$1 st=$2 cf=$3 ce=$4 mo=$5
	if [ "$fw" = seqpipe ]; then
		line=$(env $(setting_env "$st") "$BENCH_BIN" --config "$cf" --cell "$ce" \
			--mode "$mo" --threads "$(sp_threads "$st")" --blas-threads 1 --reps "$REPS" \
			--min-time "$MIN_TIME" --warmup 0.5 --tag "$st" 2>/dev/null | grep '^RESULT ')
	else
		line=$(env $(setting_env "$st") "$PYTHON_TORCH" "$TORCH_SCRIPT" --config "$cf" \
			--cell "$ce" --mode "$mo" --threads 1 --reps "$REPS" \
			--min-time "$MIN_TIME" --tag "$st" 2>/dev/null | grep '^RESULT ')
	fi
	if [ -z "$line" ]; then
		echo "run.sh: $fw $st $cf $ce $mo failed" >&2
		return 0
	fi
	echo "${line#RESULT }" >>"$OUT"
	other=$(echo "$line" | sed -n 's/.*"foreign_cpu_max": *\([-0-9.e]*\).*/\1/p')
	awk -v o="${other:-0}" -v m="$MAX_OTHER" 'BEGIN { exit !(o <= m) }'
}

measure() { # setting config cell mode
	printf '  %-4s %s %-4s %-7s' "$1" "$2" "$3" "$4" >&2
	i=0
	while [ $i -lt "$PROCS" ]; do
		for fw in seqpipe pytorch; do
			try=0
			while ! one $fw "$@" && [ $try -lt "$RETRIES" ]; do
				printf '%s' "$( [ $fw = seqpipe ] && echo s || echo t)" >&2
				try=$((try + 1))
			done
		done
		printf '.' >&2
		i=$((i + 1))
	done
	printf '\n' >&2
}

# what was measured: the engine is under active work, so name the tree
src=$(git -C "$top_srcdir" describe --always --dirty 2>/dev/null || echo unknown)
cell_sum=$(cksum <"$top_srcdir/core/sp_cell.c" 2>/dev/null | cut -d' ' -f1)
start=$(date +%s)
echo "bench: $PROCS processes per measurement, $REPS reps of >= ${MIN_TIME}s each; raw results in $OUT" >&2
echo "bench: '.' = one seqpipe + one torch process; s/t = a busy-machine retry" >&2
for st in $SETTINGS; do
	for cf in $CONFIGS; do
		for ce in $CELLS; do
			for mo in $MODES; do
				measure "$st" "$cf" "$ce" "$mo"
			done
		done
	done
	if [ "$LATENCY" = 1 ]; then
		for ce in $CELLS; do
			measure "$st" b "$ce" latency
		done
	fi
done
elapsed=$(($(date +%s) - start))

"$PYTHON_TORCH" - "$OUT" "$elapsed" "$PROCS" "$src" "$cell_sum" "$MAX_OTHER" "$CORE_ENV" <<'EOF'
import json, os, statistics, sys
from collections import defaultdict

path, elapsed, procs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
src, cell_sum, max_other = sys.argv[4], sys.argv[5], float(sys.argv[6])
core_env = sys.argv[7]
runs = defaultdict(list)
meta = {}
for line in open(path):
    r = json.loads(line)
    runs[(r["tag"], r["config"], r["cell"], r["mode"], r["framework"])].append(r)
    meta.setdefault(r["framework"], r)

def med(xs):
    return statistics.median(xs) if xs else float("nan")

cpu = "?"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip(); break
except OSError:
    pass
print(f"machine: {cpu}, {os.cpu_count()} CPUs")
if "seqpipe" in meta:
    print(f"seqpipe: source {src} (core/sp_cell.c cksum {cell_sum}), {meta['seqpipe']['blas']}")
if "pytorch" in meta:
    print(f"pytorch: {meta['pytorch']['torch_version']}")
print(f"settings: best = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2{core_env}, torch --threads 1 "
      "(PyTorch's best 2-core setting),")
print("                 seqpipe --threads 2 --blas-threads 1 (2 engine threads, the head's products on 1 OpenBLAS thread)")
print(f"          1thr = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1{core_env}, --threads 1 for both")
print(f"each cell: median over the clean processes ({procs} wanted; n = clean seqpipe/torch) of "
      "each process's median tokens/s;")
print(f"clean = other processes took <= {max_other:.2f} of the machine while it was timing; a cell "
      "with no clean process uses all, marked !")
print("RSS = median peak RSS (ru_maxrss); other = the largest such share among the processes used")
print()
hdr = (f"{'setting':<7} {'cfg':<3} {'cell':<4} {'mode':<8} {'seqpipe tok/s':>13} "
       f"{'torch tok/s':>11} {'ratio':>6} {'sp ms':>6} {'pt ms':>6} "
       f"{'sp RSS MiB':>10} {'pt RSS MiB':>10} {'n':>3} {'other':>6}")
print(hdr)
print("-" * len(hdr))
order = lambda xs, x: xs.index(x) if x in xs else len(xs)
keys = sorted({k[:4] for k in runs},
              key=lambda k: (order(["best", "1thr"], k[0]), k[1],
                             order(["train", "infer", "latency"], k[3]),
                             order(["lstm", "gru", "rnn"], k[2])))


def pick(rs):
    """The clean runs, or all of them (flagged) when none is clean."""
    clean = [r for r in rs if r.get("foreign_cpu_max", 0) <= max_other]
    return (clean, len(clean), "") if clean else (rs, 0, "!")


for k in keys:
    sp, n_sp, f_sp = pick(runs.get(k + ("seqpipe",), []))
    pt, n_pt, f_pt = pick(runs.get(k + ("pytorch",), []))
    s_tok = med([r["tok_s_median"] for r in sp])
    p_tok = med([r["tok_s_median"] for r in pt])
    s_rss = med([r["maxrss_kb_self"] / 1024 for r in sp])
    p_rss = med([r["maxrss_kb_self"] / 1024 for r in pt])
    other = max([r.get("foreign_cpu_max", 0) for r in sp + pt] or [float("nan")])
    if k[3] == "latency":
        s_ms = f"{med([r['latency_ms_median'] for r in sp]):6.3f}"
        p_ms = f"{med([r['latency_ms_median'] for r in pt]):6.3f}"
    else:
        s_ms = p_ms = f"{'':6}"
    ratio = s_tok / p_tok if p_tok and p_tok == p_tok else float("nan")
    n = f"{n_sp}/{n_pt}"
    print(f"{k[0]:<7} {k[1]:<3} {k[2]:<4} {k[3]:<8} {s_tok:13,.0f} {p_tok:11,.0f} "
          f"{ratio:6.2f} {s_ms} {p_ms} {s_rss:10.1f} {p_rss:10.1f} {n:>3} {other:5.2f}{f_sp or f_pt}")
print()
print(f"(ratio = seqpipe / torch tokens/s; latency rows: B=1, one 30-token sentence, "
      f"ms = median call; wall time {elapsed} s)")
EOF
