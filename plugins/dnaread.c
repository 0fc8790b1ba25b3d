/*
 * dnaread.c: the DNA data formats as reader components, `[data] format =
 * fasta` and `format = genbank` (dna/sp_fasta.h, dna/sp_genbank.h): a
 * record becomes one example whose tokens are its bases ("A", "C", "G",
 * "T", and "N" for N and every IUPAC ambiguity code), and for GenBank a
 * label per base from its CDS features: the fine labels of sp_dna.h
 * (intergenic, coding by strand and codon position, intron by strand), or
 * their three classes with `labels = class`.
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

/* The per-record arrays of token and tag pointers (static strings). */
typedef struct arrays_ {
	const char **tok, **tag;
	size_t cap;
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

/* The record as an example: bases, and labels when it has them. */
static int emit_record_(const sp_dna_record *r, arrays_ *a, sp_ctx *ctx, const char *path,
			int classes, const sp_read_env *env)
{
	sp_example e = SP_EXAMPLE_INIT;
	int rc;
	if ((uint64_t)r->len > env->max_file_bytes)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: record of %zu bases, more than %llu, the ceiling of a data file (max_file_bytes)",
			      path, r->line, r->len, (unsigned long long)env->max_file_bytes);
	if ((rc = arrays_fit_(a, ctx, r->len, path)) < 0)
		return rc;
	for (size_t i = 0; i < r->len; i++) {
		a->tok[i] = bases_[r->seq[i] <= SP_BASE_UNKNOWN ? r->seq[i] : SP_BASE_UNKNOWN];
		if (r->label)
			a->tag[i] = classes ? sp_class_name(sp_label_class(r->label[i]))
					    : sp_label_name(r->label[i]);
	}
	e.line = (size_t)r->line;
	e.tokens = a->tok;
	e.tags = r->label ? a->tag : NULL;
	e.n_tokens = r->len;
	return env->emit(env->payload, &e);
}

static int fasta_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
		       const sp_read_env *env)
{
	sp_fasta *f = NULL;
	sp_dna_record rec;
	arrays_ a = {0};
	int rc;
	(void)args;
	sp_dna_record_init(&rec);
	rc = sp_fasta_open(&f, ctx, path);
	while (rc >= 0 && (rc = sp_fasta_next(f, ctx, &rec)) == 1)
		if ((rc = emit_record_(&rec, &a, ctx, path, 0, env)) != 0)
			break; /* > 0: the host has enough */
	sp_fasta_close(f);
	sp_dna_record_free(&rec);
	free(a.tok);
	free(a.tag);
	return rc < 0 ? rc : SP_OK;
}

static int genbank_read_(sp_ctx *ctx, const sp_kv *args, const char *path,
			 const sp_read_env *env)
{
	int classes = !strcmp(sp_kv_str(args, "labels"), "class");
	sp_genbank *g = NULL;
	sp_dna_record rec;
	arrays_ a = {0};
	int rc;
	sp_dna_record_init(&rec);
	rc = sp_genbank_open(&g, ctx, path);
	while (rc >= 0 && (rc = sp_genbank_next(g, ctx, &rec)) == 1)
		if ((rc = emit_record_(&rec, &a, ctx, path, classes, env)) != 0)
			break;
	sp_genbank_close(g);
	sp_dna_record_free(&rec);
	free(a.tok);
	free(a.tag);
	return rc < 0 ? rc : SP_OK;
}

static const sp_param_spec fasta_params_[] = {{NULL, 0, NULL, NULL, NULL}};
static const sp_param_spec genbank_params_[] = {
	{"labels", SP_T_STRING, "fine", "genbank: a label per base, fine (intergenic, cds+0..2, cds-0..2, intron+, intron-) or class (intergenic, coding, intron)", "fine|class"},
	{NULL, 0, NULL, NULL, NULL}};

static const sp_reader_ops fasta_ = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "fasta",
		 "FASTA records (.gz too): one example per record, a token per base",
		 fasta_params_},
	.fields = SP_FIELD_TOKENS,
	.read = fasta_read_,
};

static const sp_reader_ops genbank_ = {
	.base = {sizeof(sp_reader_ops), SP_KIND_READER, "genbank",
		 "GenBank records: a token per base, labelled from the CDS features",
		 genbank_params_},
	.fields = SP_FIELD_TOKENS | SP_FIELD_TAGS,
	.read = genbank_read_,
};

SP_PLUGIN_DEFINE(dnaread, PACKAGE_VERSION,
		 "DNA data formats: FASTA and GenBank records as examples",
		 &fasta_.base, &genbank_.base)
