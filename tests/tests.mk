# Tests: TAP programs run through Automake's tap-driver.sh.  `make check`
# builds and runs them all; tests/wrap.sh fixes threads and the locale so
# results are reproducible.

TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/wrap.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/wrap.sh
AM_TESTS_ENVIRONMENT = top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	srcdir='$(abs_top_srcdir)' SEQPIPE_ASAN='$(ENABLE_ASAN)'; \
	export top_srcdir top_builddir srcdir SEQPIPE_ASAN;

TEST_PROGS = tests/t_ctx tests/t_blas tests/t_kv tests/t_pipe tests/t_registry \
	tests/t_tokenizers tests/t_vocab tests/t_grad_cell tests/t_grad_heads \
	tests/t_metrics tests/t_optim tests/t_data tests/t_modelfile \
	tests/t_tags tests/t_conlleval
TEST_PROGS += tests/t_grad_mgu
TEST_PROGS += tests/t_grad_charword
TEST_PROGS += tests/t_grad_seq2seq
TEST_PROGS += tests/t_ptb
TEST_PROGS += tests/t_progress_fmt
TEST_PROGS += tests/t_partsum
TEST_PROGS += tests/t_unkrep
check_PROGRAMS = $(TEST_PROGS)
# Script tests: one per line, so that additions merge cleanly.
SCRIPT_TESTS = tests/t_cli.sh
SCRIPT_TESTS += tests/t_oom.sh
SCRIPT_TESTS += tests/t_cli_conlleval.sh
SCRIPT_TESTS += tests/t_dna_pipe.sh
SCRIPT_TESTS += tests/t_task.sh
SCRIPT_TESTS += tests/t_stack.sh
SCRIPT_TESTS += tests/t_catalogue.sh
SCRIPT_TESTS += tests/t_history.sh
SCRIPT_TESTS += tests/t_plugins.sh
SCRIPT_TESTS += tests/t_predict_file.sh
SCRIPT_TESTS += tests/t_ensemble.sh
SCRIPT_TESTS += tests/t_progress.sh
SCRIPT_TESTS += tests/t_smooth.sh
SCRIPT_TESTS += tests/t_diverge.sh
SCRIPT_TESTS += tests/t_translate.sh
SCRIPT_TESTS += tests/t_quality.sh
TESTS = $(TEST_PROGS) $(SCRIPT_TESTS)
EXTRA_DIST += tests/wrap.sh tests/tap.sh tests/data $(SCRIPT_TESTS)
# the public side: installed headers compile alone as C99, the library
# exports only their functions, the ABI structs keep their layout
TESTS += tests/t_headers.sh tests/t_exports.sh tests/t_abi_layout
EXTRA_DIST += tests/t_headers.sh tests/t_exports.sh tests/abi_layout.lp64.txt
check_PROGRAMS += tests/t_abi_layout
AM_TESTS_ENVIRONMENT += CC='$(CC)' SEQPIPE_HEADERS='$(seqpipeinclude_HEADERS)'; \
	export CC SEQPIPE_HEADERS;

TEST_LDADD = core/libseqpipe-host.la $(ZLIB_LIBS) $(SQLITE_LIBS) $(BLAS_LIBS) -lm
TEST_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
# Every program here links TEST_LDADD unless it says otherwise, and one
# named tests/t_x is built from tests/t_x.c unless it lists its sources:
# a test of one file needs no lines of its own.  (The other programs of
# the tree all set their own LDADD.)
LDADD = $(TEST_LDADD)

tests_t_registry_LDADD = $(TEST_LDADD) $(LIBLTDL)
tests_t_vocab_SOURCES = tests/t_vocab.c plugins/onehot.c
tests_t_vocab_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS) $(ICU_CFLAGS)
tests_t_vocab_LDADD = $(TEST_LDADD) $(ICU_LIBS)
tests_t_tokenizers_SOURCES = tests/t_tokenizers.c plugins/tokenizers.c
tests_t_tokenizers_CFLAGS = $(TEST_CFLAGS) $(ICU_CFLAGS)
tests_t_tokenizers_LDADD = $(TEST_LDADD) $(ICU_LIBS)
# the recurrent engine: gradients (t_grad_cell), kernels and threads,
# contracts, and the rnn plugin through its descriptor
TEST_PROGS += tests/t_cell_paths tests/t_cell_contracts tests/t_cell_plugin
noinst_HEADERS += tests/cellnet.h
tests_t_cell_plugin_SOURCES = tests/t_cell_plugin.c plugins/rnn.c
tests_t_grad_heads_SOURCES = tests/t_grad_heads.c $(HEADS_SOURCES)
tests_t_grad_seq2seq_SOURCES = tests/t_grad_seq2seq.c $(SEQ2SEQ_SOURCES)
tests_t_grad_seq2seq_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins
tests_t_metrics_SOURCES = tests/t_metrics.c $(HEADS_SOURCES)
# the run log: writing, reading and the views, migrations, the queue
RUNLOG_TESTS = tests/t_runlog_write tests/t_runlog_read tests/t_runlog_migrate \
	tests/t_runlog_queue
TEST_PROGS += $(RUNLOG_TESTS)
noinst_HEADERS += tests/runlog_fix.h
tests_t_runlog_write_SOURCES = tests/t_runlog_write.c tests/runlog_fix.c
tests_t_runlog_write_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_t_runlog_read_SOURCES = tests/t_runlog_read.c tests/runlog_fix.c
tests_t_runlog_read_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_t_runlog_migrate_SOURCES = tests/t_runlog_migrate.c tests/runlog_fix.c
tests_t_runlog_migrate_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_t_runlog_queue_SOURCES = tests/t_runlog_queue.c tests/runlog_fix.c
tests_t_runlog_queue_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)

# translation: sacreBLEU-compatible scores
TEST_PROGS += tests/t_bleu
tests_t_bleu_CFLAGS = $(TEST_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
TEST_PROGS += tests/t_parallel
TEST_PROGS += tests/t_bpe
tests_t_bpe_CFLAGS = $(TEST_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
TEST_PROGS += tests/t_grad_attn
TESTS += tests/t_score.sh
EXTRA_DIST += tests/t_score.sh
tests_t_parallel_CFLAGS = $(TEST_CFLAGS) $(ZLIB_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
tests_t_parallel_SOURCES = tests/t_parallel.c tests/tmpdir.c
noinst_HEADERS += tests/tmpdir.h

# Plugins that must be refused: built for another ABI, misnamed, a module
# without the entry symbol, and one with a required op left NULL; and a
# model built before an optional op was appended (t_cli.sh).
# -rpath makes libtool build them shared.
TEST_PLUGIN_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -no-undefined -rpath /nowhere
check_LTLIBRARIES = tests/plugins/badabi.la tests/plugins/misnamed.la \
	tests/plugins/noentry.la tests/plugins/nullops.la tests/plugins/myplugin.la \
	tests/plugins/oldrnn.la tests/plugins/xenthead.la tests/plugins/badweights.la \
	tests/plugins/oldabi.la \
	tests/plugins/unresolved.la \
	tests/plugins/clash/twina.la \
	tests/plugins/clash/twinb.la \
	tests/plugins/clash/shadow.la \
	tests/plugins/badgrad.la
tests_plugins_badabi_la_SOURCES = tests/plugins/badabi.c
tests_plugins_badabi_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_misnamed_la_SOURCES = tests/plugins/misnamed.c
tests_plugins_misnamed_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_noentry_la_SOURCES = tests/plugins/noentry.c
tests_plugins_noentry_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_nullops_la_SOURCES = tests/plugins/nullops.c
tests_plugins_nullops_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_oldrnn_la_SOURCES = tests/plugins/oldrnn.c
tests_plugins_oldrnn_la_CFLAGS = $(AM_CFLAGS) $(BLAS_CFLAGS)
tests_plugins_oldrnn_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_oldrnn_la_LIBADD = core/libseqpipe.la $(BLAS_LIBS) -lm
# a head with its own metric and direction; a model with wrong weights (t_task.sh)
tests_plugins_xenthead_la_SOURCES = tests/plugins/xenthead.c
tests_plugins_xenthead_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_xenthead_la_LIBADD = core/libseqpipe.la -lm
tests_plugins_badweights_la_SOURCES = tests/plugins/badweights.c
tests_plugins_badweights_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_badweights_la_LIBADD = core/libseqpipe.la
# another ABI without the ELF note; a symbol nothing defines; two modules
# with one component name, and one with a built-in's (t_registry, t_cli.sh)
tests_plugins_oldabi_la_SOURCES = tests/plugins/oldabi.c
tests_plugins_oldabi_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_unresolved_la_SOURCES = tests/plugins/unresolved.c
tests_plugins_unresolved_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_clash_twina_la_SOURCES = tests/plugins/clash/twina.c
tests_plugins_clash_twina_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_clash_twinb_la_SOURCES = tests/plugins/clash/twinb.c
tests_plugins_clash_twinb_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_clash_shadow_la_SOURCES = tests/plugins/clash/shadow.c
tests_plugins_clash_shadow_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
# a model whose backward is wrong, for `pipeline check --plugin`
tests_plugins_badgrad_la_SOURCES = tests/plugins/badgrad.c
tests_plugins_badgrad_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_badgrad_la_LIBADD = core/libseqpipe.la
# the example of doc/plugins.md, built in the tree as well as out of it
tests_plugins_myplugin_la_SOURCES = doc/example-plugin/myplugin.c
tests_plugins_myplugin_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
# the example model plugin (a cell written as gate math), likewise
check_LTLIBRARIES += tests/plugins/mgu.la
tests_plugins_mgu_la_SOURCES = doc/example-plugin/mgu.c
tests_plugins_mgu_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_mgu_la_LIBADD = core/libseqpipe.la
# the example head plugin (label smoothing, a metric of its own), likewise;
# and the same source with a wrong backward, which the harness must catch
# (t_smooth.sh).  The module file names the plugin, hence the folder.
check_LTLIBRARIES += tests/plugins/smooth.la tests/plugins/wrong/smooth.la
tests_plugins_smooth_la_SOURCES = doc/example-plugin/smooth.c
tests_plugins_smooth_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_smooth_la_LIBADD = core/libseqpipe.la -lm
tests_plugins_wrong_smooth_la_SOURCES = doc/example-plugin/smooth.c
tests_plugins_wrong_smooth_la_CPPFLAGS = $(AM_CPPFLAGS) -DSMOOTH_WRONG_GRAD
tests_plugins_wrong_smooth_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_wrong_smooth_la_LIBADD = core/libseqpipe.la -lm

# The out-of-memory fault injector t_oom.sh preloads (LD_PRELOAD): fails the
# N-th allocation of seqpipe's own code.  Tests only, never installed; built
# without the sanitizers, since t_oom.sh skips itself in an ASan build.
check_LTLIBRARIES += tests/failalloc.la
tests_failalloc_la_SOURCES = tests/failalloc.c
tests_failalloc_la_CFLAGS = -std=c11 $(WARN_CFLAGS)
tests_failalloc_la_LDFLAGS = -module -avoid-version -rpath /nowhere
tests_failalloc_la_LIBADD = -ldl

# DNA: readers, gene structures, decoding, GFF3/BED output, evaluation
DNA_TESTS = tests/t_dna_read tests/t_dna_decode tests/t_dna_out \
	tests/t_dna_eval tests/t_dna_sensors tests/t_dna_intronlen
check_PROGRAMS += $(DNA_TESTS)
TESTS += $(DNA_TESTS)
EXTRA_DIST += tests/dnafix.h
DNA_LDADD = dna/libspdna.la $(TEST_LDADD)
tests_t_dna_read_LDADD = $(DNA_LDADD)
tests_t_dna_decode_LDADD = $(DNA_LDADD)
tests_t_dna_out_LDADD = $(DNA_LDADD)
tests_t_dna_eval_LDADD = $(DNA_LDADD)
tests_t_dna_sensors_LDADD = $(DNA_LDADD)
tests_t_dna_intronlen_LDADD = $(DNA_LDADD)
# whole records in stitched windows (dna/sp_genejob.c, linked into pipeline)
check_PROGRAMS += tests/t_dna_window
TESTS += tests/t_dna_window
tests_t_dna_window_SOURCES = tests/t_dna_window.c dna/sp_genejob.c
tests_t_dna_window_LDADD = $(DNA_LDADD)
# the generated recall task (vanishing.pipe)
TEST_PROGS += tests/t_synth
SCRIPT_TESTS += tests/t_vanishing.sh
TEST_PROGS += tests/t_read_marks
tests_t_read_marks_SOURCES = tests/t_read_marks.c tests/readerkv.c tests/tmpdir.c
tests_t_read_marks_CFLAGS = $(TEST_CFLAGS)
tests_t_read_marks_LDADD = $(TEST_LDADD)

TEST_PROGS += tests/t_read_parallel
tests_t_read_parallel_SOURCES = tests/t_read_parallel.c tests/readerkv.c tests/tmpdir.c
noinst_HEADERS += tests/readerkv.h
tests_t_read_parallel_CFLAGS = $(TEST_CFLAGS) $(ZLIB_CFLAGS)
tests_t_read_parallel_LDADD = $(TEST_LDADD)
# data-parallel training: runs under mpirun when configured --with-mpi
SCRIPT_TESTS += tests/t_mpi.sh
AM_TESTS_ENVIRONMENT += SEQPIPE_MPI='$(WITH_MPI)' MPIRUN='$(MPIRUN)'; export SEQPIPE_MPI MPIRUN;
