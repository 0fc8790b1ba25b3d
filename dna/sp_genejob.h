/*
 * sp_genejob.h: a trained per-base DNA tagger (pipelines/dna.pipe) on
 * whole records: gene structures out, or scored against annotated ones.
 *
 * A record of any length is read in overlapping windows of `W` bases:
 * window k predicts only its core, bases [k·C, (k+1)·C) with C = W − 2M,
 * and reads M bases of context on each side of it (fewer at the record's
 * ends), so every base has context both ways and a bidirectional model's
 * edge effects stay out of the result.  The tagger's probabilities of the
 * nine fine labels (sp_dna.h) of every base are stitched into one matrix,
 * and the gene grammar's Viterbi (sp_genedecode.h) turns it into genes.
 * Memory: 36 bytes a base for the matrix, 41 for the Viterbi, and one
 * batch of windows: about 80 MB per Mbp of the longest record.
 *
 * The host's program reaches this through sp_runner_opts.job_hook
 * (sp_genejob_hook), so the core does not depend on dna/.
 */
#ifndef SP_GENEJOB_H
#define SP_GENEJOB_H

#include <stdio.h>

#include "sp_ctx.h"
#include "sp_dna.h"
#include "sp_genedecode.h"

typedef struct sp_job sp_job;

typedef struct sp_genejob_opts {
	size_t window;   /* W: bases a window reads */
	size_t context;  /* M: context bases on each side of a core */
	size_t batch;    /* windows per forward pass */
	sp_genedecode_opts dec;
} sp_genejob_opts;

/* The options from the job's [data] keys (predict_window, context,
 * gene_logp, intron_logp, gc_donor, min_intron), defaults where absent. */
void sp_genejob_opts_of(const sp_job *j, sp_genejob_opts *o);

/* Is the job's model a tagger of the nine fine DNA labels? */
int sp_genejob_applies(const sp_job *j);

/* Window k (from 0) of a record of len bases read in windows of W with
 * M bases of context: it reads [*s, *s + min(W, len)) and predicts its
 * core [*cs, *ce).  The cores tile [0, len); each lies inside its window
 * with M bases on either side where the record has them.  0 when k is
 * past the last window. */
int sp_genejob_window(size_t len, size_t W, size_t M, size_t k, size_t *s,
		      size_t *cs, size_t *ce);

/* The model's log-probabilities of the nine fine labels for every base of
 * seq[0..len) (logp: len x SP_NLABEL, caller's). */
int sp_genejob_logp(sp_job *j, const sp_genejob_opts *o, const uint8_t *seq,
		    size_t len, float *logp);

/* Every record of path (FASTA or GenBank, .gz too) decoded into genes and
 * written to out as "gff3" or "bed". */
int sp_genejob_predict(sp_job *j, const char *path, const char *format,
		       FILE *out);

/* The gene-level evaluation (sp_geneeval) of the model on the annotated
 * records of path (GenBank), printed to out in AUGUSTUS's layout. */
int sp_genejob_eval(sp_job *j, const char *path, FILE *out);

/* sp_runner_opts.job_hook: verb "predict" (file, format) or "eval" (the
 * test split).  Returns 0 without doing anything when the job is not a
 * DNA tagger (eval of another pipeline). */
int sp_genejob_hook(sp_job *j, const char *verb, const char *file,
		    const char *format);

#endif
