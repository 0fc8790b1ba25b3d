#!/usr/bin/env bash
# valgrind.sh (`make valgrind`): memcheck of a full small pipeline run:
# train hello.pipe, predict with the trained model, evaluate it.  Every
# step must be clean: no invalid access, no use of uninitialised memory,
# no leak (--leak-check=full, --error-exitcode=1).  tests/valgrind.supp
# holds the only suppressions, each for a library's own allocations
# (libltdl, ICU, OpenBLAS), never for seqpipe's code.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
if ! command -v valgrind >/dev/null; then
	echo "make valgrind needs valgrind: install the Debian package valgrind" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
# one BLAS thread: OpenBLAS's thread pool is not what is under test
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 LC_ALL=C.UTF-8
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS LC_ALL
sed -e "s|\"../data/hello/train.txt\"|\"$top_srcdir/data/hello/train.txt\"|" \
    -e 's/^epochs = 300.*/epochs = 20/' "$top_srcdir/pipelines/hello.pipe" >hello.pipe
VG="$top_builddir/libtool --mode=execute valgrind -q --error-exitcode=1 \
	--leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible \
	--suppressions=$top_srcdir/tests/valgrind.supp --num-callers=30"
failed=0
step() { # WHAT ARGS...
	local what=$1 start=$SECONDS
	shift
	echo "== valgrind: pipeline $*"
	$VG "$top_builddir/pipeline" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	cat "$work/out" | tail -n 3
	if [ $rc -ne 0 ]; then
		cat "$work/err"
		echo "FAIL: $what (exit $rc, $((SECONDS - start)) s)"
		failed=1
	else
		echo "clean: $what ($((SECONDS - start)) s)"
	fi
}
step "train" run hello.pipe
step "predict" predict hello.pipe --input hell --generate 5
step "eval" eval hello.pipe
exit $failed
