/*
 * dnaread.c: the DNA data formats as reader components, `[data] format =
 * fasta` and `format = genbank` (dna/sp_fasta.h, dna/sp_genbank.h): a
 * record becomes one example whose tokens are its bases ("A", "C", "G",
 * "T", and "N" for N and every IUPAC ambiguity code), and for GenBank a
 * label per base from its CDS features: the fine labels of sp_dna.h
 * (intergenic, coding by strand and codon position, intron by strand), or
 * their three classes with `labels = class`.  `window` (and `stride`)
 * cut long records into examples a recurrent model trains on in batches.
 *
 * A reader plugin like any other, built against the installed headers:
 * the host finds these by the bare names because this module ships with
 * seqpipe (a third party's reader is named module.reader).  Errors are
 * the DNA readers' own, naming FILE:LINE[:COL].
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "sp_dna.h"
#include "sp_fasta.h"
#include "sp_genbank.h"
#include "sp_kv.h"
#include "sp_plugin.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

static const char *const bases_[] = {"A", "C", "G", "T", "N"};

/* The per-record arrays of token and tag pointers (static strings, or
 * the k-mers in kbuf). */
typedef struct arrays_ {
	const char **tok, **tag;
	size_t cap;
	char *kbuf;
	size_t kcap;
} arrays_;

static int arrays_fit_(arrays_ *a, sp_ctx *ctx, size_t n, const char *path)
{
	const char **t, **g;
	if (n <= a->cap)
		return SP_OK;
	t = realloc(a->tok, n * sizeof(*t));
	if (t)
		a->tok = t;
	g = t ? realloc(a->tag, n * sizeof(*g)) : NULL;
	if (!t || !g)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory for a record of %zu bases", path, n);
	a->tag = g;
	a->cap = n;
	return SP_OK;
}

/* Windows [beg, beg + window) every stride bases; the last one ends at
 * the record's end (it may overlap the one before more), so every base is
 * in some window.  window 0: the whole record. */
typedef struct cut_ {
	size_t window, stride;
	int kmer;
} cut_;

/* The record as examples: bases, and labels when it has them; one per
 * window when the record is cut. */
static int emit_record_(const sp_dna_record *r, arrays_ *a, sp_ctx *ctx, const char *path,
			int classes, const cut_ *cut, const sp_read_env *env)
{
	sp_example e = SP_EXAMPLE_INIT;
	size_t w = cut->window && cut->window < r->len ? cut->window : r->len;
	int rc;
	if ((uint64_t)r->len > env->max_file_bytes)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: record of %zu bases, more than %llu, the ceiling of a data file (max_file_bytes)",
			      path, r->line, r->len, (unsigned long long)env->max_file_bytes);
	if ((rc = arrays_fit_(a, ctx, r->len, path)) < 0)
		return rc;
	if (cut->kmer > 1 && a->kcap < r->len * (size_t)(cut->kmer + 1)) {
		char *kb = realloc(a->kbuf, r->len * (size_t)(cut->kmer + 1));
		if (!kb)
			return sp_err(ctx, SP_ENOMEM, "%s: out of memory for a record of %zu bases", path, r->len);
		a->kbuf = kb;
		a->kcap = r->len * (size_t)(cut->kmer + 1);
	}
	for (size_t i = 0; i < r->len; i++) {
		if (cut->kmer > 1) {
			a->tok[i] = a->kbuf + i * (size_t)(cut->kmer + 1);
			sp_kmer_token(r->seq, r->len, i, cut->kmer, a->kbuf + i * (size_t)(cut->kmer + 1));
		} else {
			a->tok[i] = bases_[r->seq[i] <= SP_BASE_UNKNOWN ? r->seq[i] : SP_BASE_UNKNOWN];
		}
		if (r->label)
			a->tag[i] = classes ? sp_class_name(sp_label_class(r->label[i]))
					    : sp_label_name(r->label[i]);
	}
	e.line = (size_t)r->line;
	e.n_tokens = w;
	for (size_t beg = 0;; beg += cut->stride ? cut->stride : w) {
		if (beg + w > r->len)
			beg = r->len - w;
		e.tokens = a->tok + beg;
		e.tags = r->label ? a->tag + beg : NULL;
		if ((rc = env->emit(env->payload, &e)) != 0 || beg + w >= r->len)
			return rc;
	}
}

static cut_ cut_of_(const sp_kv *args)
{
	cut_ c = {(size_t)sp_kv_int(args, "window"), (size_t)sp_kv_int(args, "stride"),
		  (int)sp_kv_int(args, "kmer")};
	if (!c.stride)
		c.stride = c.window;
	return c;
}

static int check_(sp_ctx *ctx, const sp_kv *args)
{
	long w = sp_kv_int(args, "window"), s = sp_kv_int(args, "stride");
	long pw = sp_kv_int(args, "predict_window"), c = sp_kv_int(args, "context");
	if (w < 0 || s < 0 || (s > 0 && (w == 0 || s > w)))
		return sp_err(ctx, SP_EINVAL, "data.window = %ld, data.stride = %ld: expected "
			      "window >= 0 and stride in 1..window (or 0, meaning window)", w, s);
	long k = sp_kv_int(args, "kmer");
	if (k < 1 || k > SP_KMER_MAX || (k > 1 && k % 2 == 0))
		return sp_err(ctx, SP_EINVAL, "data.kmer = %ld: expected 1 or an odd k up to %d", k, SP_KMER_MAX);
	if (pw < 1 || c < 0 || 2 * c >= pw)
		return sp_err(ctx, SP_EINVAL, "data.predict_window = %ld, data.context = %ld: "
			      "expected predict_window >= 1 and 0 <= 2 x context < predict_window", pw, c);
	if (sp_kv_int(args, "min_intron") < 0 || sp_kv_int(args, "min_intron") > 100000)
		return sp_err(ctx, SP_EINVAL, "%s: data.min_intron = %ld: expected 0..100000 bases",
			      sp_kv_where(args, "min_intron"), sp_kv_int(args, "min_intron"));
	for (int i = 0; i < 5; i++) {
		static const char *const weights[] = {"signal_weight", "prior_weight", "content_weight",
						      "tagger_weight", "intron_length_weight"};
		double x = sp_kv_float(args, weights[i]);
		if (!(x >= 0 && x <= 1000))
			return sp_err(ctx, SP_EINVAL, "%s: data.%s = %g: expected a weight in 0..1000",
				      sp_kv_where(args, weights[i]), weights[i], x);
	}
	return SP_OK;
}

/* Every record of a FASTA or GenBank file as examples (GenBank's with
 * their labels). */
static int read_records_(sp_ctx *ctx, const sp_kv *args, const char *path,
			 const sp_read_env *env, int genbank)
{
	int classes = genbank && !strcmp(sp_kv_str(args, "labels"), "class");
	sp_fasta *f = NULL;
	sp_genbank *g = NULL;
	sp_dna_record rec;
	arrays_ a = {0};
	cut_ cut = cut_of_(args);
	int rc;
	sp_dna_record_init(&rec);
	rc = genbank ? sp_genbank_open(&g, ctx, path) : sp_fasta_open(&f, ctx, path);
	while (rc >= 0 && (rc = genbank ? sp_genbank_next(g, ctx, &rec)
				       : sp_fasta_next(f, ctx, &rec)) == 1)
		if ((rc = emit_record_(&rec, &a, ctx, path, classes, &cut, env)) != 0)
			break; /* > 0: the host has enough */
	sp_genbank_close(g);
	sp_fasta_close(f);
	sp_dna_record_free(&rec);
	free(a.tok);
	free(a.tag);
	free(a.kbuf);
	return rc < 0 ? rc : SP_OK;
}

static int fasta_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
		       const sp_read_env *env)
{
	return read_records_(ctx, args, path, env, 0);
}

static int genbank_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
			 const sp_read_env *env)
{
	return read_records_(ctx, args, path, env, 1);
}

#define WINDOW_KEYS_                                                                        \
	{"window", SP_T_INT, "0", "fasta, genbank: cut records into examples of this many bases (0 = whole records; the last window ends at the record's end)", NULL}, \
	{"stride", SP_T_INT, "0", "fasta, genbank: a window every this many bases (0 = window: no overlap)", NULL}, \
	{"kmer", SP_T_INT, "1", "fasta, genbank: each base's token is the k bases centred on it (odd k; N when one is unknown); 1 = the base", NULL}, \
	{"predict_window", SP_T_INT, "2000", "genes (predict --format, eval): a whole record is read in windows of this many bases", NULL}, \
	{"context", SP_T_INT, "250", "genes: bases of context each window reads on either side of the bases it predicts", NULL}, \
	{"gene_logp", SP_T_FLOAT, "0", "genes: log-score added at every gene start in the gene Viterbi (< 0: fewer genes)", NULL}, \
	{"intron_logp", SP_T_FLOAT, "0", "genes: log-score added at every intron start in the gene Viterbi", NULL}, \
	{"gc_donor", SP_T_BOOL, "true", "genes: the Viterbi accepts GC...AG introns as well as GT...AG", NULL}, \
	{"min_intron", SP_T_INT, "0", "genes: the Viterbi's shortest intron in bases (0: 4, the grammar's own)", NULL}, \
	{"signal_weight", SP_T_FLOAT, "0", "genes: weight of the splice-site, start and stop sensors learned from the training records (0: none)", NULL}, \
	{"prior_weight", SP_T_FLOAT, "0", "genes: weight of each label's log prior share subtracted from the tagger's log-probabilities (1: scaled likelihoods)", NULL}, \
	{"tagger_weight", SP_T_FLOAT, "1", "genes: weight of the tagger's log-probabilities when sensors are weighed in (0: the sensors alone)", NULL}, \
	{"content_weight", SP_T_FLOAT, "0", "genes: weight of the fifth-order Markov content models (intergenic, codon positions, intron) learned from the training records (0: none)", NULL}, \
	{"intron_length_weight", SP_T_FLOAT, "0", "genes: weight of the log-probability of each intron's length, learned from the training records (0: none; lengths then only bounded by min_intron)", NULL}
static const sp_param_spec fasta_params_[] = {WINDOW_KEYS_, {NULL, 0, NULL, NULL, NULL}};
static const sp_param_spec genbank_params_[] = {
	{"labels", SP_T_STRING, "fine", "genbank: a label per base, fine (intergenic, cds+0..2, cds-0..2, intron+, intron-) or class (intergenic, coding, intron)", "fine|class"},
	WINDOW_KEYS_,
	{NULL, 0, NULL, NULL, NULL}};

static const sp_reader_ops fasta_ = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "fasta",
		 "FASTA records (.gz too): one example per record, a token per base",
		 fasta_params_},
	.fields = SP_FIELD_TOKENS,
	.check = check_,
	.read = fasta_read_,
};

static const sp_reader_ops genbank_ = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "genbank",
		 "GenBank records: a token per base, labelled from the CDS features",
		 genbank_params_},
	.fields = SP_FIELD_TOKENS | SP_FIELD_TAGS,
	.check = check_,
	.read = genbank_read_,
};

SP_PLUGIN_DEFINE(dnaread, PACKAGE_VERSION,
		 "DNA data formats: FASTA and GenBank records as examples",
		 &fasta_.base, &genbank_.base)
