# `make valgrind`: memcheck of a full small pipeline run (train hello.pipe,
# predict, eval) with the installed-layout plugins of the build tree.
# Clean means no error and no leak (--error-exitcode=1, leak-check=full);
# tests/valgrind.supp suppresses only libltdl, ICU and OpenBLAS internals.
EXTRA_DIST += tests/valgrind.sh tests/valgrind.supp
valgrind: all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  $(SHELL) $(top_srcdir)/tests/valgrind.sh
.PHONY: valgrind
