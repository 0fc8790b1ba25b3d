#!/bin/sh
# dist_scaling.sh: data-parallel training on this machine, N = 1 and 2
# ranks (mpirun -np N, loopback only): the mean step time and the share of
# it spent in the step's exchanges (the loss count and the one fused
# MPI_Allreduce of the gradients, waiting for the slower rank included),
# as rank 0 logs them (metrics step_seconds, allreduce_seconds, steps).
# doc/scaling.md reads these figures against its model.
#
#   bench/dist_scaling.sh [PIPE [EPOCHS]]     from a build configured --with-mpi
#
# PIPE defaults to pipelines/ner.pipe, EPOCHS to 1 (the run is cut to that
# many epochs; dev is evaluated once per epoch but is not in the steps).
# The machine's load average is printed before each run: on a shared
# machine the figures are only as good as the cores that were free.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PIPELINE="$top_builddir/pipeline"
pipe=${1:-$top_srcdir/pipelines/ner.pipe}
epochs=${2:-1}
MPIRUN=${MPIRUN:-mpirun}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
export OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_vader_single_copy_mechanism=none
# a rank waiting for the other gives up its core (more ranks than free cores)
export OMPI_MCA_mpi_yield_when_idle=1
# one BLAS thread per rank: N ranks on N cores
export OPENBLAS_NUM_THREADS=1

printf '%s, %s epoch(s)\n' "$(basename "$pipe")" "$epochs"
printf '%-3s %9s %8s %12s %9s %8s  %s\n' N params steps "step ms" "xchg ms" share load
base=
for n in 1 2; do
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	"$MPIRUN" -np "$n" "$PIPELINE" --db "$work/b$n.db" --vocab-db "$work/v$n.db" run "$pipe" \
		--quiet --set train.epochs="$epochs" --set train.save="$work/m$n.spm" \
		>"$work/out$n" 2>&1 || { tail -5 "$work/out$n"; exit 1; }
	sqlite3 -separator ' ' "$work/b$n.db" "select
		max(case when name = 'parameters' then value end),
		max(case when name = 'steps' then value end),
		max(case when name = 'step_seconds' then value end),
		max(case when name = 'allreduce_seconds' then value end)
		from metrics where epoch is null and split is null" |
	awk -v n="$n" -v load="$load" '{
		step = 1000 * $3 / $2; x = 1000 * $4 / $2
		printf "%-3d %9d %8d %12.2f %9.2f %7.1f%%  %s\n", n, $1, $2, step, x, 100 * x / step, load }'
done
