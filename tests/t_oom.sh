#!/usr/bin/env bash
# t_oom.sh: out-of-memory fault injection (SQLite's faultsim, from outside).
#
# tests/failalloc.so, preloaded, counts the allocations made by seqpipe's
# own code (the program, libseqpipe, the plugins; not SQLite, ICU, libltdl,
# OpenBLAS or libc) and makes the N-th one return NULL.  For each command
# below, a clean run counts them (K), then the command runs again for N in
# 1..K: every N with T_OOM_FULL=1, else every s-th N (s chosen to keep about
# $T_OOM_BUDGET runs per command) plus the first allocation of every call
# site the clean run reached.  Each run must
#   - exit 0 or 1: never a signal (a crash), an abort or a hang,
#   - on 1, print exactly one line on stderr, "pipeline: ...", saying "out
#     of memory",
#   - on 0, print what the clean run printed (the failure was harmless),
#   - have reached its N-th allocation (the runs are deterministic),
# and after `pipeline run`, `pipeline runs` (without the shim) must read
# the run log and show the run failed, never left 'running'.
#
# One TAP line per command; the N that break a rule are listed as
# diagnostics with the call site.  T_OOM_PERSIST=1 makes every allocation
# after the N-th fail too.  Skipped under AddressSanitizer, whose runtime
# must be the first preloaded library and replaces the same functions.
. "$(dirname "$0")/tap.sh"
HELLO="$top_srcdir/pipelines/hello.pipe"
SHIM="$top_builddir/tests/.libs/failalloc.so"
BUDGET=${T_OOM_BUDGET:-150}

if [ "${SEQPIPE_ASAN:-no}" = yes ]; then
	echo "1..0 # SKIP AddressSanitizer build: LD_PRELOAD interposition conflicts with ASan"
	exit 0
fi
if [ ! -f "$SHIM" ]; then
	echo "Bail out! $SHIM not built (make check builds it)"
	exit 1
fi

# The real program, not libtool's wrapper script: one process per run,
# and the shim sees the program itself.
REAL=$PIPELINE
if [ -x "$top_builddir/libtool" ]; then
	REAL=$("$top_builddir/libtool" --mode=execute sh -c 'printf "%s\n" "$1"' sh "$PIPELINE")
	libpath=$("$top_builddir/libtool" --mode=execute sh -c 'printf "%s\n" "$LD_LIBRARY_PATH"' sh "$PIPELINE")
	if [ -n "$libpath" ]; then
		LD_LIBRARY_PATH=$libpath
		export LD_LIBRARY_PATH
	fi
fi

# with_shim ENV=VALUE... -- CMD...: the command with the shim preloaded
with_shim() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" FAILALLOC_PERSIST="${T_OOM_PERSIST:-0}" LD_PRELOAD="$SHIM" \
		timeout -k 5 60 "$@"
}
# "OBJECT+0xOFF" -> "function file:line" when addr2line is there
site() {
	local obj=${1%+0x*} off=${1##*+}
	if command -v addr2line >/dev/null 2>&1; then
		addr2line -f -i -p -e "$obj" "$(printf '0x%x' $((off - 1)))" 2>/dev/null | head -1 |
			sed "s|$top_srcdir/||"
	else
		echo "$1"
	fi
}
# normalise the output that changes from run to run (epoch timings)
norm() { sed 's/| [0-9.]*s lr/| s lr/' "$1"; }

# --- the shim itself ----------------------------------------------------------
with_shim FAILALLOC_NTH=1 -- "$REAL" --version >out 2>err
rc=$?
ok $([ $rc -eq 1 ] && [ "$(cat err)" = "pipeline: error: out of memory" ] && echo 0 || echo 1) \
	"the shim fails seqpipe's first allocation: --version exits 1, out of memory (exit $rc: $(head -c 200 err))"

# --- a trained model for predict, eval, runs, show -------------------------------
mkdir base
(cd base && "$REAL" run "$HELLO" --set train.epochs=3 >../setup.out 2>../setup.err)
rc=$?
ok $rc "setup: hello.pipe trains (3 epochs) without the shim ($(head -c 200 setup.err))"

# sweep KIND FROM -- ARGS...: the fault sweep of `pipeline ARGS` run in a
# copy of FROM (empty: an empty folder); one TAP line.
sweep() {
	local kind=$1 from=$2
	shift 3
	local K N rc reached stride picked=0 bad=0 shown=0 why list ids
	fresh() {
		cd "$work" && rm -rf job && if [ -n "$from" ]; then cp -a "$from" job; else mkdir job; fi &&
			cd job
	}
	fresh || return 1
	rm -f "$work/count" "$work/trace"
	with_shim FAILALLOC_COUNT="$work/count" FAILALLOC_TRACE="$work/trace" -- \
		"$REAL" "$@" >"$work/ref.out" 2>"$work/ref.err"
	rc=$?
	K=$(cat "$work/count" 2>/dev/null || echo 0)
	if [ $rc -ne 0 ] || [ "$K" -lt 1 ]; then
		ok 1 "$kind: the clean run with the shim exits 0 and counts allocations (exit $rc, K=$K: $(head -c 200 "$work/ref.err"))"
		return
	fi
	if [ "${T_OOM_FULL:-0}" = 1 ]; then
		stride=1
	else
		stride=$(((K + BUDGET - 1) / BUDGET))
	fi
	# every stride-th N, and the first N of each call site
	{ seq 1 "$stride" "$K"; awk '!seen[$2]++ { print $1 }' "$work/trace"; } | sort -n | uniq >"$work/ns"
	while read -r N; do
		picked=$((picked + 1))
		fresh || return 1
		rm -f "$work/c"
		with_shim FAILALLOC_NTH="$N" FAILALLOC_COUNT="$work/c" -- "$REAL" "$@" >"$work/out" 2>"$work/err"
		rc=$?
		reached=$(cat "$work/c" 2>/dev/null || echo 0)
		why=""
		if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
			why="exit $rc"
		elif [ $rc -eq 1 ]; then
			[ "$(wc -l <"$work/err")" -eq 1 ] && grep -q '^pipeline: ' "$work/err" ||
				why="stderr is not one 'pipeline: ' line"
			grep -q 'out of memory' "$work/err" || why="$why; does not say out of memory"
		elif [ "$(norm "$work/out")" != "$(norm "$work/ref.out")" ]; then
			why="exit 0 with other output than the clean run"
		fi
		[ "$reached" -ge "$N" ] 2>/dev/null || why="$why; allocation $N not reached ($reached counted)"
		if [ "$kind" = run ] && [ -e runs.db ]; then
			# the run log, read without the shim
			list=$("$REAL" runs 2>&1) || why="$why; pipeline runs fails: $list"
			ids=$(printf '%s\n' "$list" | awk '$3 == "running" { print $1 }')
			[ -z "$ids" ] || why="$why; run $ids left running"
			if [ $rc -eq 1 ] && grep -q '^pipeline: error: run [0-9]* failed' "$work/err"; then
				printf '%s\n' "$list" | awk '$3 == "failed" { f = 1 } END { exit !f }' ||
					why="$why; the run is not logged as failed"
			fi
		fi
		if [ -n "$why" ]; then
			bad=$((bad + 1))
			if [ $shown -lt 20 ]; then
				shown=$((shown + 1))
				echo "# $kind N=$N at $(site "$(sed -n "${N}p" "$work/trace" | cut -d' ' -f2)"): ${why#; } :: $(head -c 300 "$work/err" | tr '\n' '|')"
			fi
		fi
	done <"$work/ns"
	echo "# $kind: K=$K allocations; failed N = 1, 1+s, 1+2s, ... (s = $stride) and the first of each of $(awk '!seen[$2]++' "$work/trace" | wc -l) call sites: $picked runs"
	ok $([ $bad -eq 0 ] && echo 0 || echo 1) "$kind: $picked of $K allocations failed one at a time, each a clean error ($bad broke a rule)"
}

start=$(date +%s)
sweep run "" -- run "$HELLO" --set train.epochs=1
sweep predict "$work/base" -- predict "$HELLO" --input hell
sweep eval "$work/base" -- eval "$HELLO"
sweep runs "$work/base" -- runs
sweep show "$work/base" -- show 1
echo "# fault sweeps took $(($(date +%s) - start)) s"

tap_done
