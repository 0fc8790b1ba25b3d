/*
 * onehot.c: the one-hot encoder plugin: a token maps to its id in a
 * vocabulary, and id i stands for the V-wide one-hot vector (which nobody
 * materialises: the first model stage gathers column i of its weights).
 *
 * Building: observe() counts the training tokens, finish() builds the
 * host's vocabulary from the counts (specials first, then by descending
 * count, ties first-seen first; see sp_vocab_build).  Using: attach()
 * borrows a stored vocabulary instead.  encode() maps an unknown token to
 * <unk>, or fails when the vocabulary has none.
 *
 * case = lower keys the vocabulary by the lower-cased token ("The" and
 * "the" share a vector) while the token itself, and so what a character
 * stage (charword) reads and the shape of an unknown word, keep their
 * case: a tokenizer's case = lower would take the capitals from both.
 *
 * Not here: normalisation and case mapping of the text (tokenizers), the
 * store (the host loads and saves the vocabulary it owns).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <unicode/ucasemap.h>

#include "sp_kv.h"
#include "sp_plugin.h"
#include "sp_vocab.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

typedef struct onehot {
	sp_vocab_counter *counter;        /* until finish() */
	const sp_vocab *vocab;            /* borrowed from the host */
	int64_t min_count;
	size_t max_size;                  /* 0 = no limit */
	sp_special specials[SP_SPECIAL_N];
	size_t n_specials;
	sp_vocab_order order;
	int unk_shapes;
	float unk_replace;                /* a word seen once reads as unknown
					     in training with this chance */
	UCaseMap *lower;                  /* case = lower, else NULL */
	sp_vocab_counter *orig;           /* case = lower: the tokens as
					     written, for their shapes */
	char *buf;                        /* the lower-cased token */
	size_t cap;
} onehot;

/*
 * The shape of a word, for words the vocabulary does not have: what
 * distinguishes "Paris" from "paris", "@user", "#tag", "2017" and a URL
 * is most of what a tagger can still see in a word it never learned.
 */
static const char *word_shape(const char *tok, size_t len)
{
	int upper = 0, lower = 0, digit = 0, other = 0;
	unsigned char c0 = (unsigned char)tok[0];
	if (c0 == '@' && len > 1)
		return "<unk:@>";
	if (c0 == '#' && len > 1)
		return "<unk:#>";
	if ((len > 4 && !strncmp(tok, "http", 4)) || (len > 4 && !strncmp(tok, "www.", 4)))
		return "<unk:url>";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tok[i];
		if (c >= 'A' && c <= 'Z')
			upper++;
		else if (c >= 'a' && c <= 'z')
			lower++;
		else if (c >= '0' && c <= '9')
			digit++;
		else
			other++;
	}
	if (c0 >= 0x80)
		return "<unk:x>";       /* starts with a non-ASCII character */
	if (digit && !upper && !lower)
		return "<unk:0>";
	if (digit)
		return "<unk:a0>";
	if (c0 >= 'A' && c0 <= 'Z')
		return lower ? "<unk:Aa>" : "<unk:AA>";
	if (lower)
		return "<unk:a>";
	return other ? "<unk:.>" : "<unk:x>";
}

/* The vocabulary's key of tok[0..len): tok itself, or with case = lower
 * its root-locale lower case in self->buf (*key, *key_len). */
static int key_of(onehot *self, sp_ctx *ctx, const char *tok, size_t len,
		  const char **key, size_t *key_len)
{
	*key = tok;
	*key_len = len;
	if (!self->lower || len == 0)
		return SP_OK;
	if (len > INT32_MAX / 4)
		return sp_err(ctx, SP_EINPUT, "onehot: token of %zu bytes is too long", len);
	for (int attempt = 0; attempt < 2; attempt++) {
		UErrorCode st = U_ZERO_ERROR;
		int32_t need = ucasemap_utf8ToLower(self->lower, self->buf,
						    (int32_t)self->cap, tok,
						    (int32_t)len, &st);
		if (st == U_BUFFER_OVERFLOW_ERROR ||
		    st == U_STRING_NOT_TERMINATED_WARNING) {
			char *b = realloc(self->buf, (size_t)need + 1);
			if (!b)
				return sp_err(ctx, SP_ENOMEM, "onehot: out of memory");
			self->buf = b;
			self->cap = (size_t)need + 1;
			continue;
		}
		if (U_FAILURE(st))
			return sp_err(ctx, SP_ERROR, "onehot: lower-casing failed: %s",
				      u_errorName(st));
		*key = self->buf;
		*key_len = (size_t)need;
		return SP_OK;
	}
	return sp_err(ctx, SP_ERROR, "onehot: lower-casing did not converge");
}

/* Adds the shapes of the training words that did not make it into the
 * vocabulary, with their summed counts (the shapes of the words as
 * written, also with case = lower); with unk_replace, also of the words
 * seen once, which training reads as their shapes at times. */
static int add_shapes(onehot *self, sp_ctx *ctx, sp_vocab *vocab)
{
	const sp_vocab *seen = sp_vocab_counter_view(self->orig ? self->orig : self->counter);
	sp_vocab_counter *shapes = NULL;
	const sp_vocab *sv;
	int err;
	if ((err = sp_vocab_counter_new(&shapes)))
		return sp_err(ctx, err, "onehot: out of memory");
	for (size_t i = 0; i < sp_vocab_size(seen); i++) {
		const char *tok = sp_vocab_token(seen, (int32_t)i), *key;
		size_t len = strlen(tok), key_len;
		const char *shape;
		int32_t id;
		if ((err = key_of(self, ctx, tok, len, &key, &key_len)))
			goto done;
		id = sp_vocab_id(vocab, key, key_len);
		if (id >= 0 && !(self->unk_replace > 0 && sp_vocab_count(vocab, id) == 1))
			continue;
		shape = word_shape(tok, len);
		for (int64_t k = 0; k < sp_vocab_count(seen, (int32_t)i) && !err; k++)
			err = sp_vocab_counter_add(shapes, ctx, shape, strlen(shape));
		if (err)
			goto done;
	}
	sv = sp_vocab_counter_view(shapes);
	for (size_t i = 0; i < sp_vocab_size(sv) && !err; i++) {
		const char *shape = sp_vocab_token(sv, (int32_t)i);
		if (sp_vocab_id(vocab, shape, strlen(shape)) < 0)
			err = sp_vocab_add(vocab, ctx, shape, strlen(shape),
					   sp_vocab_count(sv, (int32_t)i), NULL);
	}
done:
	sp_vocab_counter_free(shapes);
	return err;
}

static const sp_param_spec onehot_params[] = {
	{"min_count", SP_T_INT, "1",
	 "keep training tokens seen at least this often (>= 1)", NULL},
	{"max_size", SP_T_INT, "0",
	 "at most this many entries, specials included (0 = no limit)", NULL},
	{"specials", SP_T_STRING, "all",
	 "special tokens first: all (<pad> <unk> <s> </s>), none, or a comma "
	 "list of pad, unk, bos, eos", NULL},
	{"unk_shapes", SP_T_BOOL, "false",
	 "unknown words become shape classes (<unk:Aa>, <unk:AA>, <unk:a>, "
	 "<unk:0>, <unk:@>, <unk:#>, <unk:url>, ...) learned from the rare "
	 "training words, instead of one <unk>", NULL},
	{"unk_replace", SP_T_FLOAT, "0",
	 "training taggers and classifiers: each occurrence of a word seen "
	 "once reads, with this chance drawn anew each epoch, as an unknown "
	 "word (its shape class with unk_shapes, else <unk>), so the unknown "
	 "classes learn from rare words while the words keep their vectors; "
	 "use with min_count = 1 (0 = never)", NULL},
	{"case", SP_T_STRING, "none",
	 "none, or lower: the vocabulary holds lower-cased words, while "
	 "character features and unknown words' shapes still see the case",
	 "none|lower"},
	{"order", SP_T_STRING, "count",
	 "token order after the specials: count (most frequent first) or "
	 "first (as first seen in the training data)", "count|first"},
	{NULL, 0, NULL, NULL, NULL}};

/* Parses "all", "none" or "pad,unk,..." into self->specials. */
static int onehot_parse_specials(onehot *self, sp_ctx *ctx, const char *s,
				 const char *where)
{
	const char *p = s;
	self->n_specials = 0;
	if (strcmp(s, "all") == 0) {
		for (int w = 0; w < SP_SPECIAL_N; w++)
			self->specials[self->n_specials++] = (sp_special)w;
		return SP_OK;
	}
	if (strcmp(s, "none") == 0)
		return SP_OK;
	for (;;) {
		size_t n;
		int w, found = -1;
		p += strspn(p, " \t");
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		for (w = 0; w < SP_SPECIAL_N; w++) {
			const char *name = sp_special_name((sp_special)w);
			if (strlen(name) == n && memcmp(p, name, n) == 0)
				found = w;
		}
		if (found < 0)
			return sp_err(ctx, SP_EINVAL,
				      "%s: onehot: specials=\"%s\": '%.*s' is "
				      "not one of pad, unk, bos, eos (or write "
				      "all or none)", where, s, (int)n, p);
		for (size_t i = 0; i < self->n_specials; i++)
			if ((int)self->specials[i] == found)
				return sp_err(ctx, SP_EINVAL,
					      "%s: onehot: specials=\"%s\" "
					      "lists %s twice", where, s,
					      sp_special_name(found));
		self->specials[self->n_specials++] = (sp_special)found;
		p += strcspn(p, ",");
		if (*p == '\0')
			return SP_OK;
		p++;
	}
}

static void onehot_destroy(void *self_)
{
	onehot *self = self_;
	if (!self)
		return;
	sp_vocab_counter_free(self->counter);
	sp_vocab_counter_free(self->orig);
	if (self->lower)
		ucasemap_close(self->lower);
	free(self->buf);
	free(self);
}

static int onehot_create(void **out, sp_ctx *ctx, const sp_kv *args)
{
	onehot *self = calloc(1, sizeof(*self));
	long min_count = sp_kv_int(args, "min_count");
	long max_size = sp_kv_int(args, "max_size");
	int err;
	*out = NULL;
	if (!self) {
		err = sp_err(ctx, SP_ENOMEM, "onehot: out of memory");
		goto fail;
	}
	if (min_count < 1) {
		err = sp_err(ctx, SP_EINVAL,
			     "%s: onehot: min_count=%ld must be >= 1",
			     sp_kv_where(args, "min_count"), min_count);
		goto fail;
	}
	if (max_size < 0) {
		err = sp_err(ctx, SP_EINVAL,
			     "%s: onehot: max_size=%ld must be >= 0 "
			     "(0 = no limit)",
			     sp_kv_where(args, "max_size"), max_size);
		goto fail;
	}
	if ((err = onehot_parse_specials(self, ctx, sp_kv_str(args, "specials"),
					 sp_kv_where(args, "specials"))))
		goto fail;
	if (max_size > 0 && (size_t)max_size < self->n_specials) {
		err = sp_err(ctx, SP_EINVAL,
			     "%s: onehot: max_size=%ld leaves no room for the "
			     "%zu special tokens", sp_kv_where(args, "max_size"),
			     max_size, self->n_specials);
		goto fail;
	}
	self->min_count = min_count;
	self->unk_shapes = sp_kv_bool(args, "unk_shapes");
	self->unk_replace = (float)sp_kv_float(args, "unk_replace");
	if (!(self->unk_replace >= 0 && self->unk_replace <= 1)) {
		err = sp_err(ctx, SP_EINVAL, "%s: onehot: unk_replace=%g: expected a chance in 0..1",
			     sp_kv_where(args, "unk_replace"), sp_kv_float(args, "unk_replace"));
		goto fail;
	}
	self->order = strcmp(sp_kv_str(args, "order"), "first") == 0
			      ? SP_VOCAB_FIRST_SEEN : SP_VOCAB_BY_COUNT;
	self->max_size = (size_t)max_size;
	if ((err = sp_vocab_counter_new(&self->counter))) {
		err = sp_err(ctx, err, "onehot: out of memory");
		goto fail;
	}
	if (strcmp(sp_kv_str(args, "case"), "lower") == 0) {
		UErrorCode st = U_ZERO_ERROR;
		self->lower = ucasemap_open("", U_FOLD_CASE_DEFAULT, &st);
		if (U_FAILURE(st)) {
			err = sp_err(ctx, SP_ERROR, "onehot: case map: %s", u_errorName(st));
			goto fail;
		}
		if (self->unk_shapes && (err = sp_vocab_counter_new(&self->orig))) {
			err = sp_err(ctx, err, "onehot: out of memory");
			goto fail;
		}
	}
	*out = self;
	return SP_OK;
fail:
	onehot_destroy(self);
	return err;
}

static int onehot_observe(void *self_, sp_ctx *ctx, const char *tok,
			  size_t len)
{
	onehot *self = self_;
	const char *key;
	size_t key_len;
	int err;
	if (!self->counter)
		return sp_err(ctx, SP_EINVAL,
			      "onehot: observe() after finish() or attach()");
	if (self->orig && (err = sp_vocab_counter_add(self->orig, ctx, tok, len)))
		return err;
	if ((err = key_of(self, ctx, tok, len, &key, &key_len)))
		return err;
	return sp_vocab_counter_add(self->counter, ctx, key, key_len);
}

static int onehot_finish(void *self_, sp_ctx *ctx, sp_vocab *vocab)
{
	onehot *self = self_;
	int err;
	if (!self->counter)
		return sp_err(ctx, SP_EINVAL,
			      "onehot: finish() after finish() or attach()");
	if ((err = sp_vocab_build_ordered(vocab, ctx, self->counter,
					  self->min_count, self->max_size,
					  self->specials, self->n_specials,
					  self->order)))
		return sp_err_prefix(ctx, err, "onehot");
	if (self->unk_shapes && (err = add_shapes(self, ctx, vocab)))
		return err;
	/* The counts now live in the vocabulary; the counter can be large
	 * (every distinct training token), so it goes now. */
	sp_vocab_counter_free(self->counter);
	sp_vocab_counter_free(self->orig);
	self->counter = self->orig = NULL;
	self->vocab = vocab;
	return SP_OK;
}

static int onehot_attach(void *self_, sp_ctx *ctx, const sp_vocab *vocab)
{
	onehot *self = self_;
	if (!vocab)
		return sp_err(ctx, SP_EINVAL, "onehot: attach() to no vocabulary");
	sp_vocab_counter_free(self->counter);
	sp_vocab_counter_free(self->orig);
	self->counter = self->orig = NULL;
	self->vocab = vocab;
	return SP_OK;
}

static int onehot_encode(void *self_, sp_ctx *ctx, const char *tok,
			 size_t len, int32_t *out_id)
{
	onehot *self = self_;
	const char *key;
	size_t key_len;
	int32_t id;
	int err;
	if (!self->vocab)
		return sp_err(ctx, SP_EINVAL,
			      "onehot: encode() before finish() or attach()");
	if ((err = key_of(self, ctx, tok, len, &key, &key_len)))
		return err;
	id = sp_vocab_id(self->vocab, key, key_len);
	if (id < 0 && self->unk_shapes && len > 0) {
		const char *shape = word_shape(tok, len);
		id = sp_vocab_id(self->vocab, shape, strlen(shape));
	}
	if (id < 0)
		id = sp_vocab_special(self->vocab, SP_SPECIAL_UNK);
	if (id < 0) {
		/* Cut long tokens at a UTF-8 character boundary. */
		size_t n = len;
		if (n > 60) {
			n = 60;
			while (n > 0 && ((unsigned char)tok[n] & 0xC0) == 0x80)
				n--;
		}
		return sp_err(ctx, SP_EINPUT,
			      "onehot: unknown token '%.*s%s' and the "
			      "vocabulary has no <unk>", (int)n, tok,
			      n < len ? "..." : "");
	}
	*out_id = id;
	return SP_OK;
}

/* sp_encoder_ops.unknown: a word seen once reads at times as the unknown
 * word it would be (its shape, from its spelling as written). */
static int onehot_unknown(void *self_, sp_ctx *ctx, const char *tok, size_t len,
			  int32_t *out_id, float *out_p)
{
	onehot *self = self_;
	const char *key;
	size_t key_len;
	int32_t id = -1;
	int err;
	*out_p = 0;
	*out_id = -1;
	if (!self->vocab)
		return sp_err(ctx, SP_EINVAL, "onehot: unknown() before finish() or attach()");
	if (self->unk_replace <= 0)
		return SP_OK;
	if ((err = key_of(self, ctx, tok, len, &key, &key_len)))
		return err;
	id = sp_vocab_id(self->vocab, key, key_len);
	if (id < 0 || sp_vocab_count(self->vocab, id) != 1)
		return SP_OK;
	id = -1;
	if (self->unk_shapes && len > 0) {
		const char *shape = word_shape(tok, len);
		id = sp_vocab_id(self->vocab, shape, strlen(shape));
	}
	if (id < 0)
		id = sp_vocab_special(self->vocab, SP_SPECIAL_UNK);
	if (id >= 0) {
		*out_id = id;
		*out_p = self->unk_replace;
	}
	return SP_OK;
}

static const sp_encoder_ops onehot_ops = {
	{sizeof(sp_encoder_ops), SP_KIND_ENCODER, "onehot",
	 "token -> id in a vocabulary built from training counts",
	 onehot_params},
	onehot_create,
	onehot_destroy,
	onehot_observe,
	onehot_finish,
	onehot_attach,
	onehot_encode,
	onehot_unknown,
};

SP_PLUGIN_DEFINE(onehot, PACKAGE_VERSION,
		 "one-hot encoding: vocabulary from token counts",
		 &onehot_ops.base)
