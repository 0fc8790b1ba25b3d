/*
 * t_metrics.c: what the heads plugin (plugins/heads.c) reports, on cases
 * small enough to work out by hand:
 *
 *   - entity spans (conlleval rules) of BIO and BIOES tag strings;
 *   - tagger precision / recall / F1 and f1.<TYPE> end to end: W = 10·I
 *     and one-hot h make the predicted tags exactly the ones we choose;
 *   - classify accuracy, macro-F1 and f1.<label> the same way;
 *   - lm perplexity = exp(loss), top-k predictions and trace;
 *   - sampling: temperature -> 0 gives the argmax, a fixed seed repeats,
 *     and frequencies over many draws approach softmax(y / temperature).
 *
 * Every head is built through the plugin descriptor, as the host does.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_ctx.h"
#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "sp_vocab.h"
#include "tap.h"

const sp_plugin *heads_LTX_sp_plugin_entry(void);
/* Test hook in plugins/heads.c (not part of the plugin ABI). */
int heads_tag_spans_text(const char *tags, char *out, size_t cap);

enum { MAXT = 8, MAXB = 4, MAXK = 10, MAXM = 32 };

/* ------------------------------------------------------------------ */
/* Plumbing                                                            */
/* ------------------------------------------------------------------ */

typedef struct tcase {
	sp_ctx *ctx;
	sp_vocab *voc;
	const sp_head_ops *ops;
	void *self;
	size_t K;
	float W[MAXK * MAXK], b[MAXK], dW[MAXK * MAXK], db[MAXK];
	/* metrics of the last report */
	size_t n_metrics;
	char name[MAXM][32];
	double value[MAXM];
} tcase;

static const sp_head_ops *find_head_(const char *name)
{
	const sp_plugin *pl = heads_LTX_sp_plugin_entry();
	for (size_t i = 0; pl->components[i]; i++)
		if (strcmp(pl->components[i]->name, name) == 0)
			return (const sp_head_ops *)pl->components[i];
	return NULL;
}

/*
 * A head `name` over the label set toks[0..n), in_dim = n, with W = 10·I
 * and b = 0, so that a one-hot h(t) of label k predicts k.  kvs: key,
 * value pairs, NULL-terminated.  Returns the create() code.
 */
static int tcase_new_out_(tcase *c, const char *name,
			  const char *const *toks, size_t n, size_t n_out,
			  const char *const *kvs);
static int tcase_new_(tcase *c, const char *name, const char *const *toks,
		      size_t n, const char *const *kvs)
{
	return tcase_new_out_(c, name, toks, n, 0, kvs);
}

/* The same with outputs for toks[0..n_out) only (0: all), as the host
 * gives a head whose dev/test has labels training never saw. */
static int tcase_new_out_(tcase *c, const char *name,
			  const char *const *toks, size_t n, size_t n_out,
			  const char *const *kvs)
{
	const size_t K = n_out ? n_out : n;
	sp_kv *kv = NULL;
	sp_head_env env;
	float *val[2], *grd[2];
	int rc;
	memset(c, 0, sizeof(*c));
	sp_ctx_new(&c->ctx, 42);
	c->ops = find_head_(name);
	if (!c->ops || sp_vocab_new(&c->voc) < 0)
		return SP_ERROR;
	for (size_t i = 0; i < n; i++)
		if ((rc = sp_vocab_add(c->voc, c->ctx, toks[i], strlen(toks[i]),
				       1, NULL)) < 0)
			return rc;
	env = (sp_head_env){sizeof(sp_head_env), c->voc, c->voc, n_out};
	if ((rc = sp_kv_new(&kv, name)) < 0)
		return rc;
	for (size_t i = 0; kvs && kvs[i]; i += 2)
		if ((rc = sp_kv_set(kv, c->ctx, kvs[i], kvs[i + 1], 0,
				    "test")) < 0)
			goto out;
	if ((rc = sp_kv_validate(kv, c->ctx, c->ops->base.params, ".")) < 0)
		goto out;
	if ((rc = c->ops->create(&c->self, c->ctx, kv, K, &env)) < 0)
		goto out;
	c->K = K;
	val[0] = c->W;
	val[1] = c->b;
	grd[0] = c->dW;
	grd[1] = c->db;
	if ((rc = c->ops->bind(c->self, val, grd)) < 0)
		goto out;
	for (size_t i = 0; i < K; i++)
		c->W[i * K + i] = 10.0f;
out:
	sp_kv_free(kv);
	return rc;
}

static void tcase_free_(tcase *c)
{
	if (c->ops)
		c->ops->destroy(c->self);
	sp_vocab_free(c->voc);
	sp_ctx_free(c->ctx);
}

static int collect_(void *payload, const char *name, double value)
{
	tcase *c = payload;
	if (c->n_metrics == MAXM)
		return SP_ERROR;
	snprintf(c->name[c->n_metrics], sizeof(c->name[0]), "%s", name);
	c->value[c->n_metrics++] = value;
	return SP_OK;
}

static int report_(tcase *c)
{
	c->n_metrics = 0;
	return c->ops->metrics(c->self, c->ctx, collect_, c);
}

/* Value of metric `name` of the last report, or NAN when absent. */
static double metric_(const tcase *c, const char *name)
{
	for (size_t i = 0; i < c->n_metrics; i++)
		if (strcmp(c->name[i], name) == 0)
			return c->value[i];
	return NAN;
}

/* Label ids of space-separated tokens (-1 for a token not in the set);
 * returns how many. */
static size_t split_ids_(const tcase *c, const char *s, int32_t *ids)
{
	size_t n = 0;
	while (*s) {
		size_t l = strcspn(s, " ");
		if (l) {
			ids[n++] = sp_vocab_id(c->voc, s, l);
			s += l;
		} else {
			s++;
		}
	}
	return n;
}

/*
 * One tagger batch: sequence b has gold tags gold[b] and predicted tags
 * pred[b] (space-separated, same length); shorter sequences are padded
 * with garbage.  Returns forward's code.
 */
static int tag_batch_(tcase *c, const char *const *gold,
		      const char *const *pred, size_t B)
{
	float h[MAXT * MAXB * MAXK];
	int32_t gid[MAXB][MAXT], pid[MAXB][MAXT], y[MAXT * MAXB];
	int32_t len[MAXB];
	uint8_t mask[MAXT * MAXB];
	size_t T = 0, n_loss;
	double loss;
	sp_seq seq;
	sp_labels lab;
	for (size_t b = 0; b < B; b++) {
		len[b] = (int32_t)split_ids_(c, gold[b], gid[b]);
		if (split_ids_(c, pred[b], pid[b]) != (size_t)len[b])
			return SP_ERROR;
		for (int32_t t = 0; t < len[b]; t++)
			if (pid[b][t] < 0)
				return SP_ERROR;
		if ((size_t)len[b] > T)
			T = (size_t)len[b];
	}
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++) {
			const size_t i = t * B + b;
			float *hi = h + i * c->K;
			int real = (int32_t)t < len[b];
			mask[i] = (uint8_t)real;
			/* padding: any id, it is ignored */
			y[i] = real ? gid[b][t] : 3;
			for (size_t k = 0; k < c->K; k++)
				hi[k] = real ? (k == (size_t)pid[b][t]) : 9.0f;
		}
	seq = (sp_seq){T, B, c->K, h, NULL, mask, len};
	lab = (sp_labels){T, B, y, NULL};
	return c->ops->forward(c->self, c->ctx, &seq, &lab, &loss, &n_loss, 0);
}

/* ------------------------------------------------------------------ */
/* Entity spans                                                        */
/* ------------------------------------------------------------------ */

static void spans_(const char *tags, const char *want, int n_want)
{
	char out[256];
	int n = heads_tag_spans_text(tags, out, sizeof(out));
	if (!ok(n == n_want && strcmp(out, want) == 0,
		"spans of \"%s\" = \"%s\"", tags, want))
		diag("got %d: \"%s\"", n, out);
}

static void test_spans(void)
{
	/* BIO */
	spans_("B-PER I-PER O B-LOC", "PER:0-2 LOC:3-4", 2);
	spans_("O O O", "", 0);
	spans_("I-PER I-PER O", "PER:0-2", 1);          /* I- without B- */
	spans_("O I-PER B-PER", "PER:1-2 PER:2-3", 2);
	spans_("B-PER B-PER", "PER:0-1 PER:1-2", 2);    /* adjacent */
	spans_("B-PER I-LOC", "PER:0-1 LOC:1-2", 2);    /* type change */
	spans_("O O B-LOC I-LOC", "LOC:2-4", 1);        /* at the end */
	spans_("B-LOC", "LOC:0-1", 1);
	/* BIOES */
	spans_("S-PER S-PER", "PER:0-1 PER:1-2", 2);
	spans_("B-PER E-PER S-LOC", "PER:0-2 LOC:2-3", 2);
	spans_("B-PER I-PER E-PER I-PER", "PER:0-3 PER:3-4", 2);
	spans_("E-PER", "PER:0-1", 1);
	spans_("O B-ORG I-ORG E-ORG", "ORG:1-4", 1);
	ok(heads_tag_spans_text("B-PER X", (char[8]){0}, 8) == -1,
	   "a malformed tag is refused");
}

/* ------------------------------------------------------------------ */
/* tagger metrics                                                      */
/* ------------------------------------------------------------------ */

static const char *const BIO[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};

/* One case in a fresh head: expected precision, recall (and so F1) and
 * token accuracy.  A gold tag "-" is a step without a target (id -1). */
static void tag_case_(const char *what, const char *gold, const char *pred,
		      double p, double r, double acc)
{
	tcase c;
	const char *g[1] = {gold}, *q[1] = {pred};
	int rc;
	double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
	rc = tcase_new_(&c, "tagger", BIO, 5, NULL);
	if (!ok(rc == 0 &&
		tag_batch_(&c, g, q, 1) == 0 && report_(&c) == 0,
		"tagger %s: runs (%s)", what, sp_errmsg(c.ctx)))
		goto out;
	ok_near(metric_(&c, "precision"), p, 1e-12, "tagger %s: precision",
		what);
	ok_near(metric_(&c, "recall"), r, 1e-12, "tagger %s: recall", what);
	ok_near(metric_(&c, "f1"), f1, 1e-12, "tagger %s: f1", what);
	ok_near(metric_(&c, "accuracy"), acc, 1e-12, "tagger %s: accuracy",
		what);
out:
	tcase_free_(&c);
}

static void test_tagger(void)
{
	tcase c;
	int rc;
	tag_case_("exact match", "B-PER I-PER O B-LOC", "B-PER I-PER O B-LOC",
		  1, 1, 1);
	tag_case_("wrong type", "B-PER I-PER O", "B-LOC I-LOC O", 0, 0,
		  1.0 / 3);
	tag_case_("partial span", "B-PER I-PER I-PER O", "B-PER I-PER O O", 0,
		  0, 3.0 / 4);
	tag_case_("I- without B-", "O B-PER I-PER", "O I-PER I-PER", 1, 1,
		  2.0 / 3);
	tag_case_("adjacent B-PER B-PER, merged", "B-PER B-PER O",
		  "B-PER I-PER O", 0, 0, 2.0 / 3);
	tag_case_("adjacent B-PER B-PER, found", "B-PER B-PER O",
		  "B-PER B-PER O", 1, 1, 1);
	tag_case_("entity at the end", "O O B-LOC I-LOC", "O O B-LOC I-LOC", 1,
		  1, 1);
	tag_case_("one of two found", "B-PER O B-LOC", "B-PER O O", 1, 0.5,
		  2.0 / 3);
	tag_case_("one extra", "B-PER O O", "B-PER O B-LOC", 0.5, 1, 2.0 / 3);
	/* steps without a target are left out of tokens and entities */
	tag_case_("unlabelled last step", "B-PER I-PER O -",
		  "B-PER I-PER O B-LOC", 1, 1, 1);
	tag_case_("unlabelled step inside", "B-PER - I-PER", "B-PER O I-PER", 1,
		  1, 1);

	/* A padded batch of four sequences (lengths 4, 3, 4, 3), counted
	 * together: gold entities 2+1+1+1 = 5, predicted 2+1+1+2 = 6,
	 * correct 2+0+0+1 = 3.
	 * PER: gold 1+1+1+1 = 4, pred 1+0+1+1 = 3, hit 1+0+0+1 = 2;
	 * LOC: gold 1+0+0+0 = 1, pred 1+1+0+1 = 3, hit 1. */
	{
		const char *gold[4] = {"B-PER I-PER O B-LOC", "B-PER I-PER O",
				       "B-PER I-PER I-PER O", "O B-PER O"};
		const char *pred[4] = {"B-PER I-PER O B-LOC", "B-LOC I-LOC O",
				       "B-PER I-PER O O", "B-LOC B-PER O"};
		rc = tcase_new_(&c, "tagger", BIO, 5, NULL);
		if (ok(rc == 0 &&
		       tag_batch_(&c, gold, pred, 4) == 0 && report_(&c) == 0,
		       "tagger batch: runs (%s)", sp_errmsg(c.ctx))) {
			ok_near(metric_(&c, "precision"), 3.0 / 6, 1e-12,
				"tagger batch: precision 3/6");
			ok_near(metric_(&c, "recall"), 3.0 / 5, 1e-12,
				"tagger batch: recall 3/5");
			ok_near(metric_(&c, "f1"), 2.0 * 3 / 11, 1e-12,
				"tagger batch: f1 = 2·3/(5+6)");
			ok_near(metric_(&c, "f1.PER"), 2.0 * 2 / 7, 1e-12,
				"tagger batch: f1.PER = 2·2/(4+3)");
			ok_near(metric_(&c, "f1.LOC"), 2.0 * 1 / 4, 1e-12,
				"tagger batch: f1.LOC = 2·1/(1+3)");
			/* tokens: 4 + 1 + 3 + 2 of 4 + 3 + 4 + 3 */
			ok_near(metric_(&c, "accuracy"), 10.0 / 14, 1e-12,
				"tagger batch: token accuracy 10/14");
			/* metrics accumulate over batches until reset */
			ok(tag_batch_(&c, gold, pred, 4) == 0 &&
			   report_(&c) == 0 &&
			   fabs(metric_(&c, "precision") - 0.5) < 1e-12,
			   "tagger batch: a second batch keeps the ratios");
			c.ops->metrics_reset(c.self);
			ok(report_(&c) == 0 && c.n_metrics == 0,
			   "tagger batch: nothing to report after reset");
		}
		tcase_free_(&c);
	}

	/* BIOES, with f1.<TYPE> for every type, also unseen ones */
	{
		static const char *const tags[] = {
			"O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC",
			"I-LOC", "E-LOC", "S-LOC", "S-MISC"};
		const char *gold[2] = {"S-PER O B-LOC I-LOC E-LOC",
				       "S-PER S-PER"};
		const char *pred[2] = {"S-PER O B-LOC E-LOC O",
				       "B-PER E-PER"};
		/* gold: PER 3, LOC 1; pred: PER 2, LOC 1; hit: PER 1 */
		rc = tcase_new_(&c, "tagger", tags, 10, NULL);
		if (ok(rc == 0 &&
		       tag_batch_(&c, gold, pred, 2) == 0 && report_(&c) == 0,
		       "tagger bioes: runs (%s)", sp_errmsg(c.ctx))) {
			ok_near(metric_(&c, "precision"), 1.0 / 3, 1e-12,
				"tagger bioes: precision 1/3");
			ok_near(metric_(&c, "recall"), 1.0 / 4, 1e-12,
				"tagger bioes: recall 1/4");
			ok_near(metric_(&c, "f1.PER"), 2.0 / 5, 1e-12,
				"tagger bioes: f1.PER = 2·1/(3+2)");
			ok(metric_(&c, "f1.LOC") == 0.0,
			   "tagger bioes: f1.LOC = 0");
			ok(metric_(&c, "f1.MISC") == 0.0,
			   "tagger bioes: f1.MISC reported though unseen");
		}
		tcase_free_(&c);
		ok(tcase_new_(&c, "tagger", tags, 10,
			      (const char *const[]){"scheme", "bio", NULL}) ==
			   SP_EINVAL,
		   "tagger: scheme=bio with E-/S- tags is SP_EINVAL");
		tcase_free_(&c);
	}

	/* scheme=none, and auto on tags that are not entities: token
	 * accuracy only */
	{
		static const char *const dna[] = {"exon", "intron", "utr"};
		const char *gold[1] = {"exon exon intron"};
		const char *pred[1] = {"exon intron intron"};
		rc = tcase_new_(&c, "tagger", dna, 3, NULL);
		if (ok(rc == 0 &&
		       tag_batch_(&c, gold, pred, 1) == 0 && report_(&c) == 0,
		       "tagger non-entity tags: runs (%s)", sp_errmsg(c.ctx))) {
			ok_near(metric_(&c, "accuracy"), 2.0 / 3, 1e-12,
				"tagger non-entity tags: accuracy 2/3");
			ok(isnan(metric_(&c, "f1")) && c.n_metrics == 2,
			   "tagger non-entity tags: only loss and accuracy");
		}
		tcase_free_(&c);
		ok(tcase_new_(&c, "tagger", dna, 3,
			      (const char *const[]){"scheme", "bioes", NULL}) ==
			   SP_EINVAL,
		   "tagger: scheme=bioes with non-entity tags is SP_EINVAL");
		tcase_free_(&c);
		rc = tcase_new_(&c, "tagger", BIO, 5,
				(const char *const[]){"scheme", "none", NULL});
		if (ok(rc == 0, "tagger scheme=none: created")) {
			const char *g[1] = {"B-PER I-PER"};
			const char *q[1] = {"B-PER O"};
			ok(tag_batch_(&c, g, q, 1) == 0 && report_(&c) == 0 &&
			   isnan(metric_(&c, "f1")) &&
			   metric_(&c, "accuracy") == 0.5,
			   "tagger scheme=none: accuracy only");
		}
		tcase_free_(&c);
	}
}

/* ------------------------------------------------------------------ */
/* classify metrics                                                    */
/* ------------------------------------------------------------------ */

static void test_classify(void)
{
	static const char *const cls[] = {"pos", "neg", "neu", "other"};
	enum { T = 3, B = 5, K = 4 };
	/* gold pos pos neg neu (and one without a label); the last real step
	 * of h is one-hot of the prediction pos neg neg neg */
	const int32_t gold[B] = {0, 0, 1, 2, -1};
	const int32_t pred[B] = {0, 1, 1, 1, 0};
	const int32_t len[B] = {3, 1, 2, 3, 2};
	float h[T * B * K];
	uint8_t mask[T * B];
	double loss;
	size_t n;
	tcase c;
	sp_seq seq;
	sp_labels lab = {1, B, gold, NULL};
	int rc;
	rc = tcase_new_(&c, "classify", cls, K, NULL);
	if (!ok(rc == 0, "classify: created (%s)", sp_errmsg(c.ctx)))
		goto out;
	for (size_t t = 0; t < T; t++)
		for (size_t b = 0; b < B; b++) {
			const size_t i = t * B + b;
			mask[i] = (int32_t)t < len[b];
			for (size_t k = 0; k < K; k++)
				h[i * K + k] = (int32_t)t == len[b] - 1 ?
						       (k == (size_t)pred[b]) :
						       (float)(k == 3) * 5;
		}
	seq = (sp_seq){T, B, K, h, NULL, mask, len};
	ok(c.ops->forward(c.self, c.ctx, &seq, &lab, &loss, &n, 0) == 0 &&
	   n == 4 && report_(&c) == 0, "classify: forward over 4 labels");
	ok_near(metric_(&c, "accuracy"), 0.5, 1e-12, "classify: accuracy 2/4");
	/* pos: hit 1, gold 2, pred 1 -> 2/3; neg: 1, 1, 3 -> 1/2;
	 * neu: 0, 1, 0 -> 0; other: never seen, left out of the mean */
	ok_near(metric_(&c, "f1.pos"), 2.0 / 3, 1e-12, "classify: f1.pos");
	ok_near(metric_(&c, "f1.neg"), 0.5, 1e-12, "classify: f1.neg");
	ok(metric_(&c, "f1.neu") == 0.0 && metric_(&c, "f1.other") == 0.0,
	   "classify: f1.neu = f1.other = 0, both reported");
	ok_near(metric_(&c, "macro_f1"), (2.0 / 3 + 0.5 + 0) / 3, 1e-12,
		"classify: macro_f1 over the 3 classes seen");
	ok_near(metric_(&c, "loss"), loss / 4, 1e-12,
		"classify: loss metric = summed loss / n");
out:
	tcase_free_(&c);
}

/* ------------------------------------------------------------------ */
/* lm: perplexity, predict, trace, sample                              */
/* ------------------------------------------------------------------ */

static const char *const CHARS[] = {"h", "e", "l", "o", "!"};
/* logits of the single step: W = I, b = 0, so y = h */
static const float Y[5] = {1.0f, 2.0f, 0.5f, 1.5f, -1.0f};

/* softmax(Y / temp)[k] in double */
static double soft_(double temp, size_t k)
{
	double s = 0;
	for (size_t i = 0; i < 5; i++)
		s += exp((Y[i] - Y[1]) / temp);
	return exp((Y[k] - Y[1]) / temp) / s;
}

typedef struct preds {
	size_t n;
	size_t t[16], b[16], k[16];
	int32_t id[16];
	float p[16];
} preds;

static int pred_(void *payload, size_t t, size_t b, size_t k, int32_t id,
		 float p)
{
	preds *q = payload;
	if (q->n == 16)
		return SP_ERROR;
	q->t[q->n] = t;
	q->b[q->n] = b;
	q->k[q->n] = k;
	q->id[q->n] = id;
	q->p[q->n++] = p;
	return SP_OK;
}

typedef struct traces {
	size_t n;
	char label[4][64];
	size_t rows[4], cols[4];
	float v0[4];
} traces;

static int trace_(void *payload, size_t t, const char *label, const float *v,
		  size_t rows, size_t cols)
{
	traces *q = payload;
	if (q->n == 4)
		return SP_ERROR;
	snprintf(q->label[q->n], sizeof(q->label[0]), "%s", label);
	q->rows[q->n] = rows;
	q->cols[q->n] = cols;
	q->v0[q->n++] = v[0];
	return SP_OK;
}

static void test_lm(void)
{
	tcase c;
	float h[2 * 5];
	const int32_t len[2] = {1, 0};
	const uint8_t mask[2] = {1, 0};
	int32_t next[2] = {3, 0};
	double loss;
	size_t n;
	sp_seq seq;
	sp_labels lab = {1, 2, next, NULL};
	int32_t s1[50], s2[50], id;
	int same = 1, argmax = 1;
	size_t count[5] = {0};
	const size_t draws = 20000;
	double worst = 0;
	preds q = {0};
	traces tr = {0};
	int rc;

	rc = tcase_new_(&c, "lm", CHARS, 5, NULL);
	if (!ok(rc == 0, "lm: created (%s)", sp_errmsg(c.ctx)))
		goto out;
	for (size_t i = 0; i < 5; i++)
		c.W[i * 5 + i] = 1.0f;
	/* one step, two sequences; the second is all padding */
	memcpy(h, Y, sizeof(Y));
	for (size_t k = 0; k < 5; k++)
		h[5 + k] = 100.0f;
	seq = (sp_seq){1, 2, 5, h, NULL, mask, len};

	ok(c.ops->forward(c.self, c.ctx, &seq, &lab, &loss, &n, 0) == 0 &&
	   n == 1 && report_(&c) == 0, "lm: forward (%s)", sp_errmsg(c.ctx));
	ok_near(loss, -log(soft_(1, 3)), 1e-6, "lm: loss = −log p(next)");
	ok_near(metric_(&c, "perplexity"), exp(metric_(&c, "loss")), 1e-12,
		"lm: perplexity = exp(loss)");
	ok(metric_(&c, "accuracy") == 0.0, "lm: top-1 'e' is not 'o'");

	/* predict: top 3 of the one real step, best first */
	ok(c.ops->predict(c.self, c.ctx, 3, pred_, &q) == 0 && q.n == 3 &&
	   q.id[0] == 1 && q.id[1] == 3 && q.id[2] == 0 && q.k[2] == 2 &&
	   q.t[0] == 0 && q.b[0] == 0, "lm: predict top 3 = e, o, h");
	ok_near(q.p[0], soft_(1, 1), 1e-6, "lm: predict p(e)");

	/* trace: y(t) and softmax(y(t)), V x 1 each */
	ok(c.ops->trace(c.self, c.ctx, 0, 0, trace_, &tr) == 0 && tr.n == 2 &&
	   strcmp(tr.label[0], "y(t) = Why·h(t) + by") == 0 &&
	   strcmp(tr.label[1], "softmax(y(t))") == 0 && tr.rows[0] == 5 &&
	   tr.cols[0] == 1 && tr.v0[0] == Y[0],
	   "lm: trace emits y(t) = Why·h(t) + by and softmax(y(t)), 5 x 1");
	tr.n = 0;
	ok(c.ops->trace(c.self, c.ctx, 0, 1, trace_, &tr) == 0 && tr.n == 0,
	   "lm: trace of a padded step emits nothing");

	/* sampling */
	ok(c.ops->sample(c.self, c.ctx, 0, 0, 0.0, &id) == SP_EINVAL &&
	   c.ops->sample(c.self, c.ctx, 0, 0, -1.0, &id) == SP_EINVAL,
	   "lm: temperature <= 0 is SP_EINVAL");
	ok(c.ops->sample(c.self, c.ctx, 0, 1, 1.0, &id) == SP_EINVAL,
	   "lm: sampling a padded step is SP_EINVAL");
	for (size_t i = 0; i < 200; i++)
		argmax &= c.ops->sample(c.self, c.ctx, 0, 0, 1e-3, &id) == 0 &&
			  id == 1;
	ok(argmax, "lm: temperature 1e-3 always samples the argmax");
	sp_rng_seed(c.ctx, 2024);
	for (size_t i = 0; i < 50; i++)
		c.ops->sample(c.self, c.ctx, 0, 0, 1.0, &s1[i]);
	sp_rng_seed(c.ctx, 2024);
	for (size_t i = 0; i < 50; i++)
		c.ops->sample(c.self, c.ctx, 0, 0, 1.0, &s2[i]);
	for (size_t i = 0; i < 50; i++)
		same &= s1[i] == s2[i];
	ok(same, "lm: the same seed gives the same 50 samples");

	for (int pass = 0; pass < 2; pass++) {
		const double temp = pass ? 2.0 : 1.0;
		memset(count, 0, sizeof(count));
		sp_rng_seed(c.ctx, 7 + pass);
		for (size_t i = 0; i < draws; i++)
			if (c.ops->sample(c.self, c.ctx, 0, 0, temp, &id) == 0)
				count[id]++;
		worst = 0;
		for (size_t k = 0; k < 5; k++) {
			double e = fabs((double)count[k] / draws -
					soft_(temp, k));
			worst = e > worst ? e : worst;
		}
		/* the standard error of a frequency is <= 0.0036 here */
		ok(worst < 0.015, "lm: %zu draws at temperature %g match "
		   "softmax(y/T) within %.4f", draws, temp, worst);
	}
out:
	tcase_free_(&c);
}

/* Labels only dev/test has (ids >= the outputs): no loss, and a miss in
 * every score; their f1 is reported (0). */
static void test_unseen(void)
{
	static const char *const tags[] = {"O", "B-PER", "I-PER", "B-LOC",
					   "I-LOC", "B-MISC"};
	static const char *const cls[] = {"pos", "neg", "other"};
	const char *gold[1] = {"B-PER O B-MISC"}, *pred[1] = {"B-PER O O"};
	const int32_t cgold[2] = {0, 2};
	float h[2 * 2] = {1, 0, 1, 0}; /* both predicted pos */
	sp_seq seq = {1, 2, 2, h, NULL, NULL, NULL};
	sp_labels lab = {1, 2, cgold, NULL};
	double loss;
	size_t n_loss = 9;
	tcase c;
	int rc = tcase_new_out_(&c, "tagger", tags, 6, 5, NULL);
	ok(rc == 0 && c.ops->weights && c.K == 5,
	   "unseen tag: a tagger of 6 labels, 5 trained, has 5 outputs (%s)",
	   sp_errmsg(c.ctx));
	if (rc == 0 && ok(tag_batch_(&c, gold, pred, 1) == 0 &&
			  report_(&c) == 0, "unseen tag: forward (%s)",
			  sp_errmsg(c.ctx))) {
		/* gold PER, MISC; predicted PER */
		ok_near(metric_(&c, "precision"), 1, 1e-12,
			"unseen tag: precision 1/1");
		ok_near(metric_(&c, "recall"), 0.5, 1e-12,
			"unseen tag: recall 1/2 (MISC missed)");
		ok_near(metric_(&c, "accuracy"), 2.0 / 3, 1e-12,
			"unseen tag: accuracy 2/3");
		ok(metric_(&c, "f1.MISC") == 0.0, "unseen tag: f1.MISC = 0");
		ok(isfinite(metric_(&c, "loss")), "unseen tag: loss finite");
	}
	tcase_free_(&c);

	rc = tcase_new_out_(&c, "classify", cls, 3, 2, NULL);
	if (ok(rc == 0, "unseen class: created (%s)", sp_errmsg(c.ctx))) {
		rc = c.ops->forward(c.self, c.ctx, &seq, &lab, &loss, &n_loss,
				    0);
		ok(rc == 0 && n_loss == 1 && report_(&c) == 0,
		   "unseen class: forward, 1 target in the loss (%zu)",
		   n_loss);
		ok_near(metric_(&c, "accuracy"), 0.5, 1e-12,
			"unseen class: accuracy 1/2");
		ok_near(metric_(&c, "loss"), loss, 1e-12,
			"unseen class: loss over the trained class only");
		/* pos 2·1/(1+2), other 0: both gold, both in the mean */
		ok_near(metric_(&c, "macro_f1"), 1.0 / 3, 1e-12,
			"unseen class: macro_f1 counts the missed class");
		ok(metric_(&c, "f1.other") == 0.0, "unseen class: f1.other = 0");
	}
	tcase_free_(&c);
}

int main(void)
{
	test_spans();
	test_tagger();
	test_classify();
	test_unseen();
	test_lm();
	return tap_done();
}
