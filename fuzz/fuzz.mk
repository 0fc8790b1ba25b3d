# Fuzz targets (fuzz/README.md): each is built twice.
#  - `make check`: with the ordinary compiler and fuzz/driver.c, run by
#    fuzz/t_fuzz.sh over the seed corpus (fuzz/corpus/T) and every
#    crash-regression input (fuzz/regress/T).
#  - `make fuzz`: with clang -fsanitize=fuzzer,address,undefined (found by
#    configure, or FUZZ_CC=...), each target run for FUZZ_SECONDS on a
#    copy of its seeds under fuzz/work/T; findings land in fuzz/findings/T.

FUZZ_NAMES = pipe lines conll tsv modelfile vocab runlog tokenizers
FUZZ_DRIVER_SRC = fuzz/driver.c fuzz/scratch.c
FUZZ_PROGS = fuzz/fuzz_pipe fuzz/fuzz_lines fuzz/fuzz_conll fuzz/fuzz_tsv \
	fuzz/fuzz_modelfile fuzz/fuzz_vocab fuzz/fuzz_runlog fuzz/fuzz_tokenizers
check_PROGRAMS += $(FUZZ_PROGS)
TESTS += fuzz/t_fuzz.sh
noinst_HEADERS += fuzz/fuzz.h
EXTRA_DIST += fuzz/t_fuzz.sh fuzz/corpus fuzz/regress fuzz/README.md fuzz/campaign.sh

fuzz_fuzz_pipe_SOURCES = fuzz/fuzz_pipe.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_pipe_LDADD = $(TEST_LDADD)
fuzz_fuzz_lines_SOURCES = fuzz/fuzz_data.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_lines_CFLAGS = $(AM_CFLAGS) -DFUZZ_FORMAT=SP_DATA_LINES
fuzz_fuzz_lines_LDADD = $(TEST_LDADD)
fuzz_fuzz_conll_SOURCES = fuzz/fuzz_data.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_conll_CFLAGS = $(AM_CFLAGS) -DFUZZ_FORMAT=SP_DATA_CONLL
fuzz_fuzz_conll_LDADD = $(TEST_LDADD)
fuzz_fuzz_tsv_SOURCES = fuzz/fuzz_data.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_tsv_CFLAGS = $(AM_CFLAGS) -DFUZZ_FORMAT=SP_DATA_TSV
fuzz_fuzz_tsv_LDADD = $(TEST_LDADD)
fuzz_fuzz_modelfile_SOURCES = fuzz/fuzz_modelfile.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_modelfile_LDADD = $(TEST_LDADD)
fuzz_fuzz_vocab_SOURCES = fuzz/fuzz_vocab.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_vocab_LDADD = $(TEST_LDADD)
fuzz_fuzz_runlog_SOURCES = fuzz/fuzz_runlog.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_runlog_LDADD = $(TEST_LDADD)
fuzz_fuzz_tokenizers_SOURCES = fuzz/fuzz_tokenizers.c plugins/tokenizers.c \
	$(FUZZ_DRIVER_SRC)
fuzz_fuzz_tokenizers_CFLAGS = $(AM_CFLAGS) $(ICU_CFLAGS)
fuzz_fuzz_tokenizers_LDADD = $(TEST_LDADD) $(ICU_LIBS)

# ---- make fuzz: libFuzzer builds, outside libtool ------------------------
FUZZ_SECONDS = 60
FUZZ_TARGETS = $(FUZZ_NAMES)
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LINK = -fsanitize=fuzzer,address,undefined
FUZZ_CPPFLAGS = $(DEFS) -I$(top_builddir) $(AM_CPPFLAGS) $(ICU_CFLAGS) \
	$(SQLITE_CFLAGS) $(BLAS_CFLAGS) $(ZLIB_CFLAGS)
FUZZ_LIBS = $(ICU_LIBS) $(SQLITE_LIBS) $(BLAS_LIBS) $(ZLIB_LIBS) $(LIBLTDL) -lm
# The library sources the targets need (not the runner or the cell engine).
FUZZ_LIB_SRC = core/sp_ctx.c core/sp_kv.c core/sp_pipe.c core/sp_data.c \
	core/sp_textfile.c core/sp_read_lines.c core/sp_read_conll.c core/sp_read_tsv.c \
	core/sp_runlog.c core/sp_runlog_schema.c core/sp_runlog_read.c core/sp_runlog_queue.c core/sp_where.c \
	core/sp_hash.c core/sp_modelfile.c core/sp_sqlite.c \
	vocab/sp_vocab.c vocab/sp_vocab_store.c fuzz/scratch.c
FUZZ_EXTRA_pipe =
FUZZ_EXTRA_lines = -DFUZZ_FORMAT=SP_DATA_LINES
FUZZ_EXTRA_conll = -DFUZZ_FORMAT=SP_DATA_CONLL
FUZZ_EXTRA_tsv = -DFUZZ_FORMAT=SP_DATA_TSV
FUZZ_SRC_pipe = fuzz/fuzz_pipe.c
FUZZ_SRC_lines = fuzz/fuzz_data.c
FUZZ_SRC_conll = fuzz/fuzz_data.c
FUZZ_SRC_tsv = fuzz/fuzz_data.c
FUZZ_SRC_modelfile = fuzz/fuzz_modelfile.c
FUZZ_SRC_vocab = fuzz/fuzz_vocab.c
FUZZ_SRC_runlog = fuzz/fuzz_runlog.c
FUZZ_SRC_tokenizers = fuzz/fuzz_tokenizers.c plugins/tokenizers.c

# fuzz/bin/T: one clang invocation per target over its sources and the
# library's, so no object of the gcc build is mixed in.  The wildcards
# cover the per-target sources (FUZZ_SRC_T) a pattern rule cannot name.
fuzz/bin/%: $(FUZZ_LIB_SRC:%=$(top_srcdir)/%) $(top_srcdir)/fuzz/*.c \
	    $(top_srcdir)/dna/*.c $(top_srcdir)/plugins/*.c $(top_srcdir)/core/*.h $(top_srcdir)/dna/*.h
	@if test "x$(HAVE_LIBFUZZER)" != xyes; then \
	  echo "make fuzz needs clang with libFuzzer (-fsanitize=fuzzer):" \
	       "install the Debian package clang and run configure again," \
	       "or configure FUZZ_CC=/path/to/clang" >&2; exit 1; fi
	@$(MKDIR_P) fuzz/bin
	$(AM_V_CC)$(FUZZ_CC) -std=c11 $(FUZZ_FLAGS) $(FUZZ_CPPFLAGS) \
	  $(FUZZ_EXTRA_$*) -o $@ \
	  $(addprefix $(top_srcdir)/,$(FUZZ_SRC_$*) $(FUZZ_LIB_SRC)) \
	  $(FUZZ_LINK) $(FUZZ_LIBS)

# One target after the other (the machine may be shared); the log of each
# run ends with libFuzzer's final stats (execs per second, cov, ft).
fuzz: $(FUZZ_TARGETS:%=fuzz/bin/%)
	@for t in $(FUZZ_TARGETS); do \
	  $(MKDIR_P) fuzz/work/$$t fuzz/findings/$$t || exit 1; \
	  cp -n $(top_srcdir)/fuzz/corpus/$$t/* fuzz/work/$$t/ 2>/dev/null; \
	  echo "fuzz $$t for $(FUZZ_SECONDS) s (log: fuzz/$$t.log)"; \
	  ./fuzz/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=fuzz/findings/$$t/ $(FUZZ_ARGS) \
	    fuzz/work/$$t >fuzz/$$t.log 2>&1; rc=$$?; \
	  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|Done )' fuzz/$$t.log; \
	  tail -n 1 fuzz/$$t.log; \
	  if test $$rc -ne 0; then echo "fuzz $$t: exit $$rc, see fuzz/$$t.log and fuzz/findings/$$t" >&2; exit $$rc; fi; \
	done

clean-local: clean-fuzz
clean-fuzz:
	rm -rf fuzz/bin fuzz/work fuzz/findings fuzz/*.log
.PHONY: fuzz clean-fuzz

# The readers added as components: parallel, ptb (built in), fasta and
# genbank (the dnaread plugin, compiled into the target).
FUZZ_NAMES += parallel ptb fasta genbank
FUZZ_PROGS += fuzz/fuzz_parallel fuzz/fuzz_ptb fuzz/fuzz_fasta fuzz/fuzz_genbank
fuzz_fuzz_parallel_SOURCES = fuzz/fuzz_reader.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_parallel_CFLAGS = $(AM_CFLAGS) -DFUZZ_READER='"parallel"'
fuzz_fuzz_parallel_LDADD = $(TEST_LDADD)
fuzz_fuzz_ptb_SOURCES = fuzz/fuzz_reader.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_ptb_CFLAGS = $(AM_CFLAGS) -DFUZZ_READER='"ptb"'
fuzz_fuzz_ptb_LDADD = $(TEST_LDADD)
fuzz_fuzz_fasta_SOURCES = fuzz/fuzz_reader.c plugins/dnaread.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_fasta_CFLAGS = $(AM_CFLAGS) -DFUZZ_READER='"fasta"' -DFUZZ_PLUGIN=dnaread
fuzz_fuzz_fasta_LDADD = dna/libspdna.la $(TEST_LDADD)
fuzz_fuzz_genbank_SOURCES = fuzz/fuzz_reader.c plugins/dnaread.c $(FUZZ_DRIVER_SRC)
fuzz_fuzz_genbank_CFLAGS = $(AM_CFLAGS) -DFUZZ_READER='"genbank"' -DFUZZ_PLUGIN=dnaread
fuzz_fuzz_genbank_LDADD = dna/libspdna.la $(TEST_LDADD)
FUZZ_LIB_SRC += core/sp_readers.c core/sp_registry.c core/sp_module.c \
	core/sp_read_parallel.c core/sp_read_synth.c core/sp_read_ptb.c \
	core/sp_parallel.c core/sp_ptb.c core/sp_synth.c core/sp_utf8.c
FUZZ_LIB_SRC += core/sp_grow.c
FUZZ_DNA_SRC = plugins/dnaread.c dna/sp_lines.c dna/sp_dna.c dna/sp_fasta.c dna/sp_genbank.c
FUZZ_EXTRA_parallel = -DFUZZ_READER='"parallel"'
FUZZ_EXTRA_ptb = -DFUZZ_READER='"ptb"'
FUZZ_EXTRA_fasta = -DFUZZ_READER='"fasta"' -DFUZZ_PLUGIN=dnaread -I$(top_srcdir)/dna
FUZZ_EXTRA_genbank = -DFUZZ_READER='"genbank"' -DFUZZ_PLUGIN=dnaread -I$(top_srcdir)/dna
FUZZ_SRC_parallel = fuzz/fuzz_reader.c
FUZZ_SRC_ptb = fuzz/fuzz_reader.c
FUZZ_SRC_fasta = fuzz/fuzz_reader.c $(FUZZ_DNA_SRC)
FUZZ_SRC_genbank = fuzz/fuzz_reader.c $(FUZZ_DNA_SRC)
