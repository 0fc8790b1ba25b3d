# Benchmarks and the PyTorch cross-check, run on demand (they need the
# PyTorch reference scripts and python3-torch), never by `make` or
# `make check`:
#
#   make bench        bench/run.sh: seqpipe vs PyTorch, tokens/s and peak
#                     RSS side by side (BENCH_QUICK=1: one config, fast)
#   make crosscheck   bench/dump_cell + bench/crosscheck.py: the engine's
#                     outputs and gradients against torch.nn.RNN/LSTM/GRU
#
# The reference scripts are found in $SEQPIPE_SHARED/bench, else in
# ../shared/bench beside the source tree.  EXTRA_PROGRAMS: built only when
# a target asks for them, and not installed.

EXTRA_PROGRAMS = bench/bench_rnn bench/dump_cell
bench_bench_rnn_SOURCES = bench/bench_rnn.c
bench_bench_rnn_LDADD = core/libseqpipe-host.la -lm
bench_dump_cell_SOURCES = bench/dump_cell.c
bench_dump_cell_LDADD = core/libseqpipe-host.la -lm
CLEANFILES += $(EXTRA_PROGRAMS) bench/crosscheck.txt bench/results.jsonl
EXTRA_DIST += bench/run.sh bench/crosscheck.py

# Debian's python3-torch lives under the system interpreter, not a pyenv.
PYTHON_TORCH = /usr/bin/python3
BENCH_ENV = PYTHON_TORCH='$(PYTHON_TORCH)' top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	BENCH_BIN='$(abs_top_builddir)/bench/bench_rnn$(EXEEXT)'

bench: bench/bench_rnn$(EXEEXT)
	$(BENCH_ENV) $(SHELL) $(abs_top_srcdir)/bench/run.sh

crosscheck: bench/dump_cell$(EXEEXT)
	bench/dump_cell$(EXEEXT) bench/crosscheck.txt
	$(PYTHON_TORCH) $(abs_top_srcdir)/bench/crosscheck.py bench/crosscheck.txt

.PHONY: bench crosscheck

# DNA: seqpipe's gene-prediction evaluation of any GFF (bench/augustus.sh)
EXTRA_PROGRAMS += bench/dna_eval bench/bench_genedecode
bench_bench_genedecode_SOURCES = bench/bench_genedecode.c
bench_bench_genedecode_LDADD = dna/libspdna.la core/libseqpipe-host.la $(ZLIB_LIBS) -lm
bench_dna_eval_SOURCES = bench/dna_eval.c
bench_dna_eval_LDADD = dna/libspdna.la core/libseqpipe-host.la $(ZLIB_LIBS)
EXTRA_DIST += bench/augustus.sh bench/dna_augustus.sh

# bench/history_bench.sh: the run log's history verbs at 100,000 runs
history-bench: pipeline$(EXEEXT)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(abs_top_srcdir)/bench/history_bench.sh $(HISTORY_RUNS)
EXTRA_DIST += bench/history_bench.sh
.PHONY: history-bench

# bench/vanishing.sh: the vanishing-gradient lesson, RNN vs LSTM vs GRU on
# the generated recall task for several T (VANISH_T="5 10 20 50 100")
vanishing: pipeline$(EXEEXT) all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(abs_top_srcdir)/bench/vanishing.sh $(VANISH_T)
EXTRA_DIST += bench/vanishing.sh
.PHONY: vanishing

# data-parallel scaling, N = 1 and 2 ranks (a build configured --with-mpi)
EXTRA_DIST += bench/dist_scaling.sh
bench-dist: pipeline$(EXEEXT)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' MPIRUN='$(MPIRUN)' \
		$(SHELL) $(abs_top_srcdir)/bench/dist_scaling.sh
.PHONY: bench-dist
# bench/quality.sh: every NER and sentiment pipeline (ner, ner-btc,
# sentiment, and sst2 when $SEQPIPE_SHARED has SST) with seeds 1, 2, 3 as
# one table of dev and test metrics, wall time and tokens per second.
# Full-size training runs, one at a time; `make quality QUALITY_ARGS=ner`,
# QUALITY_SEEDS and QUALITY_DIR narrow or move it.
# built by `make check` too: tests/t_quality.sh converts a slice of SST
check_PROGRAMS += bench/sst2tsv
bench_sst2tsv_SOURCES = bench/sst2tsv.c
bench_sst2tsv_LDADD = core/libseqpipe-host.la $(ZLIB_LIBS) $(SQLITE_LIBS) $(BLAS_LIBS) -lm
quality: pipeline$(EXEEXT) all bench/sst2tsv$(EXEEXT)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
		$(SHELL) $(abs_top_srcdir)/bench/quality.sh $(QUALITY_ARGS)
EXTRA_DIST += bench/quality.sh bench/sst2.pipe bench/predict_speed.sh
.PHONY: quality

# bench/bench_bpe: CPU time of learning and applying byte-pair merges
#   bench/bench_bpe train.de.gz train.en.gz 10000 merges.txt
EXTRA_PROGRAMS += bench/bench_bpe
bench_bench_bpe_SOURCES = bench/bench_bpe.c
bench_bench_bpe_LDADD = core/libseqpipe-host.la -lm
