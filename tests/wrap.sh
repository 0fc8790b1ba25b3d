#!/bin/sh
# Runs one test with a reproducible environment: one BLAS thread (results
# must not depend on the machine's core count), the C locale, and plugins
# from the build tree.  With VALGRIND set, runs the test under valgrind.
OPENBLAS_NUM_THREADS=1
OMP_NUM_THREADS=1
LC_ALL=C.UTF-8
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS LC_ALL
case "$1" in
*.sh) exec bash "$@" ;;
esac
if [ -n "$VALGRIND" ]; then
	exec "${top_builddir:-.}/libtool" --mode=execute valgrind -q --error-exitcode=1 \
		--leak-check=full "$@"
fi
exec "$@"
