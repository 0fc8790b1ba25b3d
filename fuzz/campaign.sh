#!/usr/bin/env bash
# A fuzzing campaign measured in CPU time, not wall time: each target runs
# (at nice 19) until its process has used CPU_SECONDS of CPU, so a busy,
# shared machine still gets the budget it asked for.  libFuzzer's own
# -max_total_time counts wall seconds, hence the watch on /proc.
#
#   fuzz/campaign.sh BIN_DIR WORK_DIR CPU_SECONDS [PARALLEL] [TARGET...]
#
# BIN_DIR holds the libFuzzer builds (`make fuzz/bin/T` in a build folder);
# WORK_DIR (keep it outside the repository) gets the growing corpus
# WORK_DIR/corpus/T (seeded from fuzz/corpus/T), findings WORK_DIR/findings/T
# and the log WORK_DIR/T.log.  A crash stops that run: the input is kept and
# the target is started again on its corpus until the budget is used.  The
# summary line of each target (WORK_DIR/summary.txt) gives its CPU seconds,
# executions, execs per CPU second, the final cov/ft and the findings.
set -u
bin=$1 work=$2 budget=$3 par=${4:-1}
shift 4 2>/dev/null || shift $#
src=$(cd "$(dirname "$0")" && pwd)
targets=${*:-$(ls "$bin")}
tck=$(getconf CLK_TCK)
mkdir -p "$work"

cpu_of() { # pid -> CPU seconds used so far (user + system)
	awk -v t="$tck" '{ sub(/^.*\) /, ""); print int(($12 + $13) / t) }' "/proc/$1/stat" 2>/dev/null
}

run_target() {
	local t=$1 used=0 runs=0 execs=0 line
	mkdir -p "$work/corpus/$t" "$work/findings/$t"
	cp -n "$src/corpus/$t"/* "$work/corpus/$t/" 2>/dev/null
	: >"$work/$t.log"
	while [ "$used" -lt "$budget" ]; do
		runs=$((runs + 1))
		nice -n 19 "$bin/$t" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
			-print_final_stats=1 -artifact_prefix="$work/findings/$t/" \
			"$work/corpus/$t" >>"$work/$t.log" 2>&1 &
		local pid=$! c=0 last=0 nstat
		nstat=$(grep -c '^stat::number_of_executed_units' "$work/$t.log")
		while kill -0 "$pid" 2>/dev/null; do
			c=$(cpu_of "$pid") || true; c=${c:-$last}; last=$c
			if [ $((used + c)) -ge "$budget" ]; then kill -INT "$pid"; fi
			sleep 5
		done
		wait "$pid"
		used=$((used + c))
		# the executions of this run, from its final stats
		if [ "$(grep -c '^stat::number_of_executed_units' "$work/$t.log")" -gt "$nstat" ]; then
			line=$(grep '^stat::number_of_executed_units' "$work/$t.log" | tail -n 1)
			execs=$((execs + ${line##* }))
		fi
		[ "$runs" -lt 20 ] || break # the same crash again and again
	done
	local cov
	cov=$(grep -E '^#[0-9]+' "$work/$t.log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -n 1)
	printf '%s: %d CPU s in %d run(s), %d execs, %d execs/CPU s, %s, findings: %d\n' \
		"$t" "$used" "$runs" "$execs" $((execs / (used > 0 ? used : 1))) "$cov" \
		"$(ls "$work/findings/$t" | wc -l)" | tee -a "$work/summary.txt"
}

# PARALLEL targets at a time, in the order given.
set -- $targets
while [ $# -gt 0 ]; do
	for _ in $(seq "$par"); do
		[ $# -gt 0 ] || break
		run_target "$1" & shift
	done
	wait
done
