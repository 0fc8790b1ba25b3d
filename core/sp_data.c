/*
 * sp_data.c: the corpus (examples held in memory, whichever reader made
 * them), sp_corpus_read for the built-in text formats, and the batcher.
 *
 * A reader emits examples (sp_example, sp_plugin.h); the corpus copies
 * every string into one growing byte arena and refers to it by offset
 * while it grows; token and tag pointers are made once at the end.  So a
 * corpus is a handful of allocations however big the file.  The readers
 * themselves live in sp_read_*.c, one file per format.
 *
 * Batching: a stable sort by (length, index), shuffles drawn from the
 * context's RNG only, never from time or addresses, so a seed gives the
 * same batches everywhere.
 */
#include "sp_data.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_data_mem.h"
#include "sp_grow.h"
#include "sp_read_text.h"

#define NONE_ SIZE_MAX

typedef struct example_ {
	size_t a;     /* text offset, or index of the first token */
	size_t n;     /* text length, or token count */
	size_t label; /* label offset, or NONE_ */
	size_t t_off; /* target text offset, or NONE_ */
	size_t t_len; /*   and length */
	size_t line;  /* 1-based source line */
} example_;

struct sp_corpus {
	char format[32];    /* the reader's name */
	unsigned fields;    /* sp_field bits the examples carry */
	char *arena;        /* every string, NUL-terminated */
	size_t alen, acap;
	example_ *ex;
	size_t n, ncap;
	size_t *tok;        /* while reading: token, tag offsets (2 each) */
	size_t ntok, tcap;
	const char **ptr;   /* once finished: tokens [0, ntok), tags
			       [ntok, 2 ntok) */
	size_t skipped;
	size_t skipped_first; /* line of the first skipped line */
	size_t max;         /* stop after this many examples; 0 = all */
	sp_ctx *ctx;        /* while reading, for errors */
};

/* ------------------------------------------------------------------ */
/* Formats and options                                                 */
/* ------------------------------------------------------------------ */

static const char *const format_names_[] = {NULL, "lines", "conll", "tsv",
					     "parallel"};

int sp_data_format_parse(sp_data_format *out, sp_ctx *ctx, const char *name)
{
	for (int f = SP_DATA_LINES; f <= SP_DATA_TSV; f++)
		if (strcmp(name, format_names_[f]) == 0) {
			*out = (sp_data_format)f;
			return SP_OK;
		}
	return sp_err(ctx, SP_EINVAL,
		      "data: unknown format '%s' (lines | conll | tsv)", name);
}

const char *sp_data_format_name(sp_data_format format)
{
	if (format >= SP_DATA_LINES && format <= SP_DATA_PARALLEL)
		return format_names_[format];
	return "?";
}

void sp_data_opts_init(sp_data_opts *opts)
{
	const sp_data_opts def = SP_DATA_OPTS_INIT;
	*opts = def;
}

static int key_given_(const sp_kv *kv, const char *key)
{
	const char *where = sp_kv_where(kv, key);
	return where && strcmp(where, "default") != 0;
}

void sp_read_text_opts(sp_data_opts *o, const sp_kv *args,
		       const sp_read_env *env)
{
	sp_data_opts_init(o);
	o->text_col = (int)sp_kv_int(args, "text_column");
	o->label_col = (int)sp_kv_int(args, "label_column");
	o->header = sp_kv_bool(args, "header");
	o->skip_bad = sp_kv_bool(args, "skip_bad");
	o->max_line_bytes = env->max_line_bytes;
	o->max_file_bytes = env->max_file_bytes;
	/* conll: the label column only when given; else by the column count */
	if (key_given_(args, "label_column"))
		o->conll_label_col = o->label_col;
}

/* ------------------------------------------------------------------ */
/* Corpus storage                                                      */
/* ------------------------------------------------------------------ */

/* Copies s[0, len) into the arena; *off gets its offset. */
static int arena_put_(sp_corpus *c, const char *s, size_t len, size_t *off)
{
	if (len >= SIZE_MAX - c->alen - 1)
		return -1;
	if (sp_grow(&c->arena, &c->acap, c->alen + len + 1, 1) < 0)
		return -1;
	if (len)
		memcpy(c->arena + c->alen, s, len);
	c->arena[c->alen + len] = '\0';
	*off = c->alen;
	c->alen += len + 1;
	return 0;
}

int sp_corpus_new(sp_corpus **out, sp_ctx *ctx, const char *format,
		  unsigned fields, size_t max_examples)
{
	sp_corpus *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	snprintf(c->format, sizeof(c->format), "%s", format);
	c->fields = fields;
	c->max = max_examples;
	c->ctx = ctx;
	*out = c;
	return SP_OK;
}

/* Does the example carry every field its reader declared? */
static const char *missing_field_(unsigned fields, const sp_example *e)
{
	if ((fields & SP_FIELD_TEXT) && !e->text)
		return "text";
	if ((fields & SP_FIELD_TOKENS) && !e->tokens && e->n_tokens)
		return "tokens";
	if ((fields & SP_FIELD_TAGS) && !e->tags && e->n_tokens)
		return "tags";
	if ((fields & SP_FIELD_LABEL) && !e->label)
		return "label";
	if ((fields & SP_FIELD_TARGET) && !e->target)
		return "target";
	return NULL;
}

/* The tokens (and tags) of e, appended to the token list. */
static int add_tokens_(sp_corpus *c, const sp_example *e, example_ *x)
{
	int tags = (c->fields & SP_FIELD_TAGS) != 0;

	x->a = c->ntok;
	x->n = e->n_tokens;
	if (sp_grow(&c->tok, &c->tcap, 2 * (c->ntok + e->n_tokens), sizeof(size_t)) < 0)
		return -1;
	for (size_t k = 0; k < e->n_tokens; k++) {
		size_t *o = &c->tok[2 * (c->ntok + k)];
		if (arena_put_(c, e->tokens[k], strlen(e->tokens[k]), &o[0]) < 0 ||
		    (tags && arena_put_(c, e->tags[k], strlen(e->tags[k]), &o[1]) < 0))
			return -1;
		if (!tags)
			o[1] = o[0];
	}
	c->ntok += e->n_tokens;
	return 0;
}

static int add_strings_(sp_corpus *c, const sp_example *e, example_ *x)
{
	if (c->fields & SP_FIELD_TOKENS) {
		if (add_tokens_(c, e, x) < 0)
			return -1;
	} else if (c->fields & SP_FIELD_TEXT) {
		if (arena_put_(c, e->text, e->text_len, &x->a) < 0)
			return -1;
		x->n = e->text_len;
	}
	if ((c->fields & SP_FIELD_LABEL) &&
	    arena_put_(c, e->label, strlen(e->label), &x->label) < 0)
		return -1;
	if (c->fields & SP_FIELD_TARGET) {
		if (arena_put_(c, e->target, e->target_len, &x->t_off) < 0)
			return -1;
		x->t_len = e->target_len;
	}
	return 0;
}

int sp_corpus_add(void *corpus, const sp_example *e)
{
	sp_corpus *c = corpus;
	const char *miss = missing_field_(c->fields, e);
	example_ *x;

	if (e->size < sizeof(sp_example))
		return sp_err(c->ctx, SP_EABI,
			      "reader '%s': an example of %zu bytes, expected %zu "
			      "(start it from SP_EXAMPLE_INIT)",
			      c->format, e->size, sizeof(sp_example));
	if (miss)
		return sp_err(c->ctx, SP_EINVAL,
			      "reader '%s': the example of line %zu has no %s, "
			      "expected one (the reader declares it)",
			      c->format, e->line, miss);
	if (c->max && c->n >= c->max)
		return 1;
	if (sp_grow(&c->ex, &c->ncap, c->n + 1, sizeof(*c->ex)) < 0)
		goto nomem;
	x = &c->ex[c->n];
	*x = (example_){0, 0, NONE_, NONE_, 0, e->line};
	if (add_strings_(c, e, x) < 0)
		goto nomem;
	c->n++;
	return c->max && c->n >= c->max ? 1 : 0;
nomem:
	return sp_err(c->ctx, SP_ENOMEM, "out of memory reading line %zu",
		      e->line);
}

int sp_corpus_skip(void *corpus, size_t line)
{
	sp_corpus *c = corpus;
	if (c->skipped++ == 0)
		c->skipped_first = line;
	return SP_OK;
}

void sp_corpus_sink(sp_corpus *c, sp_read_env *env)
{
	env->emit = sp_corpus_add;
	env->skip = sp_corpus_skip;
	env->payload = c;
}

int sp_corpus_finish(sp_corpus *c, const char *path)
{
	sp_ctx *ctx = c->ctx;

	c->ctx = NULL;
	if (c->n == 0)
		return sp_err(ctx, SP_EINPUT, "%s: no examples (%s format)",
			      path, c->format);
	if (c->ntok == 0)
		return SP_OK;
	c->ptr = malloc(2 * c->ntok * sizeof(*c->ptr));
	if (!c->ptr)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < c->ntok; i++) {
		c->ptr[i] = c->arena + c->tok[2 * i];
		c->ptr[c->ntok + i] = c->arena + c->tok[2 * i + 1];
	}
	free(c->tok);
	c->tok = NULL;
	c->tcap = 0;
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Reading the built-in text formats                                   */
/* ------------------------------------------------------------------ */

/* Copies the caller's options into *o, a version-1 struct (the fields
 * up to skip_bad) with the defaults of the later ones, and puts the
 * default ceilings in for 0. */
static int check_opts_(sp_ctx *ctx, sp_data_format format,
		       const sp_data_opts *in, sp_data_opts *o)
{
	sp_data_opts_init(o);
	if (in->version == 1) {
		memcpy(o, in, offsetof(sp_data_opts, skip_bad) +
				      sizeof(in->skip_bad));
		o->version = SP_DATA_OPTS_VERSION;
	} else if (in->version == SP_DATA_OPTS_VERSION) {
		*o = *in;
	} else {
		return sp_err(ctx, SP_EINVAL,
			      "data: options version %u, expected %d "
			      "(start from SP_DATA_OPTS_INIT)",
			      in->version, SP_DATA_OPTS_VERSION);
	}
	if (o->max_line_bytes == 0)
		o->max_line_bytes = SP_DATA_MAX_LINE_DEFAULT;
	if (o->max_file_bytes == 0)
		o->max_file_bytes = SP_DATA_MAX_FILE_DEFAULT;
	if (o->max_line_bytes > SIZE_MAX / 4)
		o->max_line_bytes = SIZE_MAX / 4;
	if (o->conll_label_col < SP_DATA_LABEL_AUTO ||
	    o->conll_label_col == 0)
		return sp_err(ctx, SP_EINVAL,
			      "data: conll label column %d, expected >= 1, -1 "
			      "(last) or SP_DATA_LABEL_AUTO (-2)",
			      o->conll_label_col);
	if (format != SP_DATA_LINES && format != SP_DATA_CONLL &&
	    format != SP_DATA_TSV)
		return sp_err(ctx, SP_EINVAL, "data: unknown format %d",
			      (int)format);
	if (format == SP_DATA_TSV &&
	    (o->text_col < -1 || o->label_col < -1 ||
	     o->text_col == o->label_col))
		return sp_err(ctx, SP_EINVAL,
			      "data: tsv needs two different columns >= 0 "
			      "or -1 (last), got text_col=%d label_col=%d",
			      o->text_col, o->label_col);
	return SP_OK;
}

int sp_corpus_read(sp_corpus **out, sp_ctx *ctx, const char *path,
		   sp_data_format format, const sp_data_opts *in)
{
	static const sp_reader_ops *const readers[] = {
		NULL, &sp_reader_lines, &sp_reader_conll, &sp_reader_tsv};
	static int (*const read[])(sp_ctx *, const char *, const sp_data_opts *,
				   const sp_read_env *) = {
		NULL, sp_read_lines, sp_read_conll, sp_read_tsv};
	const sp_data_opts def = SP_DATA_OPTS_INIT;
	sp_read_env env = {sizeof(env), "train", 0, 0, 0, NULL, NULL, NULL};
	sp_corpus *c = NULL;
	sp_data_opts o;
	int rc;

	*out = NULL;
	if ((rc = check_opts_(ctx, format, in ? in : &def, &o)) < 0)
		return rc;
	/* "" is how a .pipe says "no file": never a file to read */
	if (!path || !*path)
		return sp_err(ctx, SP_EINVAL, "data: empty file name, expected "
			      "the path of a %s file", sp_data_format_name(format));
	rc = sp_corpus_new(&c, ctx, readers[format]->base.name,
			   readers[format]->fields, o.max_examples);
	if (rc < 0)
		return rc;
	sp_corpus_sink(c, &env);
	if ((rc = read[format](ctx, path, &o, &env)) < 0 ||
	    (rc = sp_corpus_finish(c, path)) < 0) {
		sp_corpus_free(c);
		return rc;
	}
	*out = c;
	return SP_OK;
}

void sp_corpus_free(sp_corpus *c)
{
	if (!c)
		return;
	free(c->arena);
	free(c->ex);
	free(c->tok);
	free(c->ptr);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

size_t sp_corpus_count(const sp_corpus *c)
{
	return c ? c->n : 0;
}

sp_data_format sp_corpus_format(const sp_corpus *c)
{
	for (int f = SP_DATA_LINES; c && f <= SP_DATA_PARALLEL; f++)
		if (!strcmp(c->format, format_names_[f]))
			return (sp_data_format)f;
	return (sp_data_format)0;
}

const char *sp_corpus_format_name(const sp_corpus *c)
{
	return c ? c->format : "";
}

unsigned sp_corpus_fields(const sp_corpus *c)
{
	return c ? c->fields : 0;
}

/* Example i when the corpus has all of `fields`, else NULL. */
static const example_ *at_(const sp_corpus *c, size_t i, unsigned fields)
{
	if (!c || i >= c->n || (c->fields & fields) != fields)
		return NULL;
	return &c->ex[i];
}

const char *sp_corpus_text(const sp_corpus *c, size_t i, size_t *len)
{
	const example_ *x = at_(c, i, SP_FIELD_TEXT);
	if (len)
		*len = x ? x->n : 0;
	return x ? c->arena + x->a : NULL;
}

const char *sp_corpus_target(const sp_corpus *c, size_t i, size_t *len)
{
	const example_ *x = at_(c, i, SP_FIELD_TARGET);
	if (len)
		*len = x ? x->t_len : 0;
	return x ? c->arena + x->t_off : NULL;
}

const char *sp_corpus_label(const sp_corpus *c, size_t i)
{
	const example_ *x = at_(c, i, SP_FIELD_LABEL);
	return x ? c->arena + x->label : NULL;
}

static const char *const *token_ptrs_(const sp_corpus *c, size_t i,
				      size_t *n, unsigned field, size_t base)
{
	const example_ *x = c && c->ptr ? at_(c, i, SP_FIELD_TOKENS | field) : NULL;
	if (n)
		*n = x ? x->n : 0;
	return x ? c->ptr + base + x->a : NULL;
}

const char *const *sp_corpus_tokens(const sp_corpus *c, size_t i, size_t *n)
{
	return token_ptrs_(c, i, n, 0, 0);
}

const char *const *sp_corpus_labels(const sp_corpus *c, size_t i, size_t *n)
{
	return token_ptrs_(c, i, n, SP_FIELD_TAGS, c ? c->ntok : 0);
}

size_t sp_corpus_line(const sp_corpus *c, size_t i)
{
	return c && i < c->n ? c->ex[i].line : 0;
}

size_t sp_corpus_skipped(const sp_corpus *c)
{
	return c ? c->skipped : 0;
}

size_t sp_corpus_skipped_first(const sp_corpus *c)
{
	return c ? c->skipped_first : 0;
}

/* ------------------------------------------------------------------ */
/* Batcher                                                             */
/* ------------------------------------------------------------------ */

struct sp_batcher {
	size_t n, batch;
	int shuffle, bucket;
	size_t *len;    /* (n) copied lengths, or NULL */
	size_t *sorted; /* (n) indices by (length, index) when bucketing */
	size_t *order;  /* (n) this epoch's indices; batch k is a run */
	size_t *border; /* (nb) this epoch's batch order */
	size_t nb;      /* batches per epoch */
	size_t next;    /* position in border */
};

typedef struct lenidx_ {
	size_t len, idx;
} lenidx_;

static int lenidx_cmp_(const void *a, const void *b)
{
	const lenidx_ *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Fisher-Yates over v[0, n) with the context's RNG. */
static void shuffle_(sp_ctx *ctx, size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)sp_rng_below(ctx, i), t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* The unshuffled order of an epoch. */
static void batcher_base_(sp_batcher *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->order[i] = b->bucket ? b->sorted[i] : i;
	for (size_t k = 0; k < b->nb; k++)
		b->border[k] = k;
	b->next = 0;
}

int sp_batcher_new(sp_batcher **out, sp_ctx *ctx, const size_t *lengths,
		   size_t n, size_t batch_size, int shuffle, int bucket)
{
	sp_batcher *b = NULL;
	lenidx_ *tmp = NULL;
	int rc;

	*out = NULL;
	if (n == 0 || batch_size == 0) {
		rc = sp_err(ctx, SP_EINVAL,
			    "batcher: needs examples and a batch size > 0 "
			    "(n=%zu, batch=%zu)",
			    n, batch_size);
		goto fail;
	}
	if (bucket && !lengths) {
		rc = sp_err(ctx, SP_EINVAL,
			    "batcher: bucketing needs the lengths");
		goto fail;
	}
	rc = SP_ENOMEM;
	if (n > SIZE_MAX / sizeof(lenidx_))
		goto fail;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto fail;
	b->n = n;
	b->batch = batch_size;
	b->shuffle = shuffle;
	b->bucket = bucket;
	b->nb = n / batch_size + (n % batch_size != 0);
	b->order = malloc(n * sizeof(size_t));
	b->border = malloc(b->nb * sizeof(size_t));
	if (!b->order || !b->border)
		goto fail;
	if (lengths) {
		b->len = malloc(n * sizeof(size_t));
		if (!b->len)
			goto fail;
		memcpy(b->len, lengths, n * sizeof(size_t));
	}
	if (bucket) {
		tmp = malloc(n * sizeof(*tmp));
		b->sorted = malloc(n * sizeof(size_t));
		if (!tmp || !b->sorted)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			tmp[i].len = lengths[i];
			tmp[i].idx = i;
		}
		/* (length, index) is a total order: qsort's instability
		 * cannot show. */
		qsort(tmp, n, sizeof(*tmp), lenidx_cmp_);
		for (size_t i = 0; i < n; i++)
			b->sorted[i] = tmp[i].idx;
		free(tmp);
		tmp = NULL;
	}
	batcher_base_(b);
	*out = b;
	return SP_OK;
fail:
	if (rc == SP_ENOMEM)
		sp_err(ctx, rc, "batcher: out of memory for %zu examples", n);
	free(tmp);
	sp_batcher_free(b);
	return rc;
}

void sp_batcher_free(sp_batcher *b)
{
	if (!b)
		return;
	free(b->len);
	free(b->sorted);
	free(b->order);
	free(b->border);
	free(b);
}

void sp_batcher_epoch(sp_batcher *b, sp_ctx *ctx)
{
	batcher_base_(b);
	if (!b->shuffle)
		return;
	if (!b->bucket) {
		shuffle_(ctx, b->order, b->n);
		return;
	}
	/* Shuffle within runs of equal length, then the batch order: the
	 * batches stay length-homogeneous but vary in content and order. */
	for (size_t i = 0; i < b->n;) {
		size_t j = i + 1;
		while (j < b->n && b->len[b->order[j]] == b->len[b->order[i]])
			j++;
		shuffle_(ctx, b->order + i, j - i);
		i = j;
	}
	shuffle_(ctx, b->border, b->nb);
}

int sp_batcher_next(const size_t **idx, size_t *count, sp_batcher *b)
{
	size_t k, start;

	if (b->next >= b->nb) {
		*idx = NULL;
		*count = 0;
		return 0;
	}
	k = b->border[b->next++];
	start = k * b->batch;
	*idx = b->order + start;
	*count = b->n - start < b->batch ? b->n - start : b->batch;
	return 1;
}

size_t sp_batcher_count(const sp_batcher *b)
{
	return b->nb;
}

size_t sp_batcher_padding(const sp_batcher *b)
{
	size_t pad = 0;

	if (!b->len)
		return 0;
	for (size_t start = 0; start < b->n; start += b->batch) {
		size_t end = start + b->batch < b->n ? start + b->batch : b->n;
		size_t max = 0, sum = 0;
		for (size_t i = start; i < end; i++) {
			size_t l = b->len[b->order[i]];
			max = l > max ? l : max;
			sum += l;
		}
		pad += max * (end - start) - sum;
	}
	return pad;
}

/* ------------------------------------------------------------------ */
/* Corpora built in memory (sp_data_mem.h)                             */
/* ------------------------------------------------------------------ */

int sp_corpus_new_tsv(sp_corpus **out, sp_ctx *ctx)
{
	return sp_corpus_new(out, ctx, "tsv", SP_FIELD_TEXT | SP_FIELD_LABEL, 0);
}

int sp_corpus_add_tsv(sp_corpus *c, sp_ctx *ctx, const char *text,
		      size_t len, const char *label)
{
	sp_example e = SP_EXAMPLE_INIT;
	e.line = c->n + 1; /* the example's 1-based number */
	e.text = text;
	e.text_len = len;
	e.label = label;
	c->ctx = ctx;
	return sp_corpus_add(c, &e) < 0 ? SP_ENOMEM : SP_OK;
}
