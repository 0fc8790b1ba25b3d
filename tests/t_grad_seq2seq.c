/*
 * t_grad_seq2seq.c: the seq2seq plugin's decoder head (plugins/seq2seq.c).
 *
 *  1. One decoder cell step (rnn, gru, lstm) against central differences:
 *     L = Σ R⊙s(t) (+ Σ Rc⊙c(t) for the lstm), every weight, the input x,
 *     s(t-1) and c(t-1).
 *  2. The whole head, built through its descriptor as the host does, for
 *     each cell with general, additive and dot attention, with and without
 *     input feeding: L = forward's summed loss / scale over a padded batch
 *     of sources (lengths 4, 2, 3) and targets of 3 steps with padding;
 *     every weight and ∂L/∂E (the encoder states); padded source steps get
 *     no gradient.  With dropout and embed_dropout (the RNG reseeded before
 *     every forward, so each draws the same masks), for gru/additive.
 *  3. generate: greedy (beam 1) output is what the teacher-forced pass
 *     over it predicts at every step, and its score is that pass's
 *     -loss; a beam of 4 ends every hypothesis with <eos> or at the
 *     length limit, and each output step's attention sums to 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "seq2seq_impl.h"
#include "sp_ctx.h"
#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "sp_vocab.h"
#include "tap.h"

const sp_plugin *seq2seq_LTX_sp_plugin_entry(void);

enum { S = 4, B = 3, HE = 5, T = 3 };
static const double SCALE = 4.0;
static const double TOL = 1e-2;
static const int32_t LEN[B] = {4, 2, 3};

/* ---- 1. one cell step ------------------------------------------------ */

typedef struct cellfix {
	s2s_cellw w;
	s2s_step st;
	size_t n;
	float buf[4096], gbuf[4096];
	float R[64], Rc[64], tmp[256];
} cellfix;

static double cell_loss(void *p)
{
	cellfix *f = p;
	double l = 0;
	s2s_cell_forward(&f->w, 2, &f->st, f->tmp);
	for (size_t i = 0; i < 2 * f->w.H; i++) {
		l += (double)f->R[i] * f->st.s[i];
		if (f->st.c)
			l += (double)f->Rc[i] * f->st.c[i];
	}
	return l;
}

static void check_cell(sp_ctx *ctx, s2s_cell kind, const char *name)
{
	cellfix *f = calloc(1, sizeof(*f));
	size_t I = 3, H = 4, G = kind == S2S_LSTM ? 4 : kind == S2S_GRU ? 3 : 1, GH = G * H, o = 0;
	float *dx, *dsp, *dc, *da, *dah;
	float **slots[] = {&f->w.Wx, &f->w.Wh, &f->w.b, &f->w.bh};
	float **gslots[] = {&f->w.dWx, &f->w.dWh, &f->w.db, &f->w.dbh};
	size_t sizes[] = {I * GH, H * GH, GH, GH};
	const char *names[] = {"Wx", "Wh", "b", "bh"};
	f->w.kind = kind;
	f->w.I = I;
	f->w.H = H;
	f->w.G = G;
	for (int k = 0; k < 4; k++) {
		*slots[k] = f->buf + o;
		*gslots[k] = f->gbuf + o;
		o += sizes[k];
	}
	f->st.x = f->buf + o, o += 2 * I;
	f->st.sp = f->buf + o, o += 2 * H;
	f->st.cp = kind == S2S_LSTM ? f->buf + o : NULL, o += 2 * H;
	f->st.a = f->buf + o, o += 2 * GH;
	f->st.ahn = f->buf + o, o += 2 * H;
	f->st.s = f->buf + o, o += 2 * H;
	f->st.c = kind == S2S_LSTM ? f->buf + o : NULL, o += 2 * H;
	sp_fill_uniform(ctx, f->buf, o, -0.8f, 0.8f);
	sp_fill_uniform(ctx, f->R, 2 * H, -1, 1);
	sp_fill_uniform(ctx, f->Rc, 2 * H, -1, 1);
	dx = f->gbuf + 1000, dsp = f->gbuf + 1100, dc = f->gbuf + 1200;
	da = f->gbuf + 1300, dah = f->gbuf + 1400;
	memset(f->gbuf, 0, o * sizeof(float));
	cell_loss(f);
	memcpy(dc, f->Rc, 2 * H * sizeof(float));
	s2s_cell_backward(&f->w, 2, &f->st, f->R, kind == S2S_LSTM ? dc : NULL, dx, dsp, da, dah);
	for (int k = 0; k < 4; k++) {
		gc_result r;
		if (k == 3 && kind != S2S_GRU)
			continue;
		r = gc_check(cell_loss, f, *slots[k], *gslots[k], sizes[k], 1e-3f, 200, 1e-3);
		ok(r.max_rel < TOL, "cell %s d%s max_rel=%.2e (%zu checked)", name, names[k], r.max_rel,
		   r.checked);
	}
	{
		gc_result r = gc_check(cell_loss, f, f->st.x, dx, 2 * I, 1e-3f, 0, 1e-3);
		ok(r.max_rel < TOL, "cell %s dx max_rel=%.2e", name, r.max_rel);
		r = gc_check(cell_loss, f, f->st.sp, dsp, 2 * H, 1e-3f, 0, 1e-3);
		ok(r.max_rel < TOL, "cell %s ds(t-1) max_rel=%.2e", name, r.max_rel);
		if (kind == S2S_LSTM) {
			r = gc_check(cell_loss, f, f->st.cp, dc, 2 * H, 1e-3f, 0, 1e-3);
			ok(r.max_rel < TOL, "cell %s dc(t-1) max_rel=%.2e", name, r.max_rel);
		}
	}
	free(f);
}

/* ---- 2. the head ------------------------------------------------------ */

typedef struct fix {
	sp_ctx *ctx;
	const sp_head_ops *ops;
	void *self;
	sp_vocab *voc;
	float *val, *grad;
	size_t n_val;
	const sp_weight *w;
	size_t n_w;
	float h[S * B * HE], dh[S * B * HE];
	uint8_t mask[S * B];
	int32_t len[B];
	int32_t y[T * B];
	uint8_t ymask[T * B];
	sp_seq seq;
	sp_labels lab;
} fix;

static const sp_head_ops *find_head(void)
{
	const sp_plugin *pl = seq2seq_LTX_sp_plugin_entry();
	return (const sp_head_ops *)pl->components[0];
}

static size_t wfloats(const sp_weight *w)
{
	size_t n = 1;
	for (int d = 0; d < w->ndim; d++)
		n *= w->dim[d];
	return n;
}

static int fix_new(fix *f, const char *const *kvs)
{
	sp_kv *kv = NULL;
	sp_head_env env;
	float **v = NULL, **g = NULL;
	size_t off = 0;
	int rc;
	static const char *const toks[] = {"le", "chat", "noir", "dort"};
	f->ops = find_head();
	if ((rc = sp_vocab_new(&f->voc)) < 0)
		return rc;
	for (int s = 0; s < SP_SPECIAL_N; s++) {
		const char *t = sp_special_token((sp_special)s);
		sp_vocab_add(f->voc, f->ctx, t, strlen(t), 0, NULL);
		sp_vocab_set_special(f->voc, f->ctx, (sp_special)s, s);
	}
	for (size_t i = 0; i < 4; i++)
		sp_vocab_add(f->voc, f->ctx, toks[i], strlen(toks[i]), 1, NULL);
	env.size = sizeof(env);
	env.input = f->voc;
	env.labels = f->voc;
	if ((rc = sp_kv_new(&kv, "decoder")) < 0)
		return rc;
	for (size_t i = 0; kvs[i]; i += 2)
		if ((rc = sp_kv_set(kv, f->ctx, kvs[i], kvs[i + 1], 0, "test")) < 0)
			goto out;
	if ((rc = sp_kv_validate(kv, f->ctx, f->ops->base.params, ".")) < 0 ||
	    (rc = f->ops->create(&f->self, f->ctx, kv, HE, &env)) < 0 ||
	    (rc = f->ops->weights(f->self, &f->w, &f->n_w)) < 0)
		goto out;
	f->n_val = 0;
	for (size_t k = 0; k < f->n_w; k++)
		f->n_val += wfloats(&f->w[k]);
	f->val = calloc(f->n_val, sizeof(float));
	f->grad = calloc(f->n_val, sizeof(float));
	v = calloc(f->n_w, sizeof(*v));
	g = calloc(f->n_w, sizeof(*g));
	if (!f->val || !f->grad || !v || !g) {
		rc = SP_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < f->n_w; k++) {
		v[k] = f->val + off;
		g[k] = f->grad + off;
		off += wfloats(&f->w[k]);
	}
	if ((rc = f->ops->bind(f->self, v, g)) < 0 || (rc = f->ops->init(f->self, f->ctx)) < 0)
		goto out;
	/* biases away from 0, so that every gradient is at a generic point */
	for (size_t k = 0, o = 0; k < f->n_w; o += wfloats(&f->w[k]), k++)
		if (f->w[k].ndim == 1)
			sp_fill_uniform(f->ctx, f->val + o, wfloats(&f->w[k]), -0.5f, 0.5f);
out:
	free(v);
	free(g);
	sp_kv_free(kv);
	return rc;
}

static void fix_data(fix *f)
{
	static const int32_t TG[B][T] = {{4, 5, 3}, {6, 3, -1}, {7, 4, 3}};
	sp_fill_uniform(f->ctx, f->h, S * B * HE, -1, 1);
	for (size_t b = 0; b < B; b++) {
		f->len[b] = LEN[b];
		for (size_t s = 0; s < S; s++)
			f->mask[s * B + b] = (int32_t)s < LEN[b];
		for (size_t t = 0; t < T; t++) {
			f->y[t * B + b] = TG[b][t];
			f->ymask[t * B + b] = TG[b][t] >= 0;
		}
	}
	f->seq = (sp_seq){S, B, HE, f->h, NULL, f->mask, f->len};
	f->lab = (sp_labels){T, B, f->y, f->ymask};
}

static void fix_free(fix *f)
{
	if (f->ops && f->self)
		f->ops->destroy(f->self);
	sp_vocab_free(f->voc);
	free(f->val);
	free(f->grad);
}

static double head_loss(void *p)
{
	fix *f = p;
	double l = 0;
	size_t n = 0;
	sp_rng_seed(f->ctx, 99); /* the same dropout masks at every forward */
	f->ops->forward(f->self, f->ctx, &f->seq, &f->lab, &l, &n, 1);
	return l / SCALE;
}

static void check_head(sp_ctx *ctx, const char *cell, const char *attn, const char *feed,
		       const char *drop)
{
	const char *kvs[] = {"cell", cell, "attention", attn, "input_feed", feed, "hidden", "5",
			     "embed", "3", "attn_dim", "4", "dropout", drop, "embed_dropout", drop,
			     NULL};
	fix f;
	sp_seq dh;
	double l;
	size_t n;
	int rc, pad_zero = 1;
	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	rc = fix_new(&f, kvs);
	ok(rc == 0, "decoder %s %s feed=%s dropout=%s: created (%s)", cell, attn, feed, drop,
	   rc ? sp_errmsg(ctx) : "");
	if (rc) {
		fix_free(&f);
		return;
	}
	fix_data(&f);
	memset(f.grad, 0, f.n_val * sizeof(float));
	memset(f.dh, 0, sizeof(f.dh));
	dh = (sp_seq){S, B, HE, f.dh, NULL, f.mask, f.len};
	sp_rng_seed(ctx, 99);
	rc = f.ops->forward(f.self, ctx, &f.seq, &f.lab, &l, &n, 1);
	if (rc == 0)
		rc = f.ops->backward(f.self, ctx, SCALE, &dh);
	ok(rc == 0 && n == 8, "decoder %s %s: forward/backward, %zu targets", cell, attn, n);
	for (size_t k = 0, o = 0; k < f.n_w; o += wfloats(&f.w[k]), k++) {
		gc_result r = gc_check(head_loss, &f, f.val + o, f.grad + o, wfloats(&f.w[k]), 1e-2f,
				       60, 1e-3);
		ok(r.max_rel < TOL, "decoder %s %s feed=%s dropout=%s d%s max_rel=%.2e (%zu checked; worst %.6g vs %.6g)",
		   cell, attn, feed, drop, f.w[k].name, r.max_rel, r.checked, r.analytic, r.numeric);
	}
	{
		gc_result r = gc_check(head_loss, &f, f.h, f.dh, S * B * HE, 1e-2f, 0, 1e-3);
		ok(r.max_rel < TOL, "decoder %s %s feed=%s dE max_rel=%.2e", cell, attn, feed, r.max_rel);
	}
	for (size_t s = 0; s < S; s++)
		for (size_t b = 0; b < B; b++)
			for (size_t k = 0; k < HE && !f.mask[s * B + b]; k++)
				pad_zero &= f.dh[(s * B + b) * HE + k] == 0.0f;
	ok(pad_zero, "decoder %s %s: padded source steps get no gradient", cell, attn);
	if (strcmp(drop, "0") != 0) { /* evaluation does not drop: any seed, one loss */
		double l1 = 0, l2 = 0, lt1 = 0, lt2 = 0;
		sp_rng_seed(ctx, 1);
		f.ops->forward(f.self, ctx, &f.seq, &f.lab, &l1, &n, 0);
		sp_rng_seed(ctx, 2);
		f.ops->forward(f.self, ctx, &f.seq, &f.lab, &l2, &n, 0);
		sp_rng_seed(ctx, 1);
		f.ops->forward(f.self, ctx, &f.seq, &f.lab, &lt1, &n, 1);
		sp_rng_seed(ctx, 2);
		f.ops->forward(f.self, ctx, &f.seq, &f.lab, &lt2, &n, 1);
		ok(l1 == l2 && lt1 != lt2, "dropout: off in evaluation (%.6g = %.6g), on in training (%.6g, %.6g)",
		   l1, l2, lt1, lt2);
	}
	fix_free(&f);
}

/* ---- 3. generate ------------------------------------------------------ */

typedef struct gen_out {
	int32_t ids[B][16];
	size_t n[B];
	double score[B];
	int att_ok;
} gen_out;

static int collect(void *payload, size_t b, const int32_t *ids, size_t n, double score,
		   const float *attn, size_t Sb)
{
	gen_out *g = payload;
	memcpy(g->ids[b], ids, n * sizeof(*ids));
	g->n[b] = n;
	g->score[b] = score;
	if (attn)
		for (size_t k = 0; k < n; k++) {
			double sum = 0;
			for (size_t s = 0; s < Sb; s++)
				sum += attn[k * Sb + s];
			g->att_ok &= fabs(sum - 1.0) < 1e-4 && Sb == (size_t)LEN[b];
		}
	return 0;
}

static void check_generate(sp_ctx *ctx)
{
	const char *kvs[] = {"cell", "lstm", "hidden", "5", "embed", "3", "max_ratio", "2", NULL};
	fix f;
	gen_out g1, g4;
	sp_gen_opts o = {sizeof(sp_gen_opts), 1, 0, 1.0, 1};
	int match = 1, scores = 1, better = 1;
	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	if (fix_new(&f, kvs) != 0) {
		ok(0, "generate: decoder created (%s)", sp_errmsg(ctx));
		fix_free(&f);
		return;
	}
	fix_data(&f);
	memset(&g1, 0, sizeof(g1));
	memset(&g4, 0, sizeof(g4));
	g1.att_ok = g4.att_ok = 1;
	ok(f.ops->generate(f.self, ctx, &f.seq, &o, collect, &g1) == 0, "generate: greedy runs");
	o.beam = 4;
	ok(f.ops->generate(f.self, ctx, &f.seq, &o, collect, &g4) == 0, "generate: beam 4 runs");
	ok(g1.att_ok && g4.att_ok, "generate: each output step's attention sums to 1 over the source's real steps");
	/* greedy: one row at a time, the teacher-forced pass over its output */
	for (size_t b = 0; b < B; b++) {
		int32_t y[16];
		uint8_t ym[16];
		float hb[S * HE];
		uint8_t mb[S];
		int32_t lb = LEN[b];
		sp_seq one = {S, 1, HE, hb, NULL, mb, &lb};
		sp_labels lab = {g1.n[b], 1, y, ym};
		double l = 0;
		size_t n = 0;
		s2s *d = f.self;
		for (size_t s = 0; s < S; s++) {
			memcpy(hb + s * HE, f.h + (s * B + b) * HE, HE * sizeof(float));
			mb[s] = f.mask[s * B + b];
		}
		for (size_t k = 0; k < g1.n[b]; k++) {
			y[k] = g1.ids[b][k];
			ym[k] = 1;
		}
		if (g1.n[b] == 0 || f.ops->forward(f.self, ctx, &one, &lab, &l, &n, 1) != 0) {
			match = 0;
			continue;
		}
		for (size_t k = 0; k < g1.n[b]; k++) {
			const float *p = d->P + k * d->V;
			for (size_t v = 0; v < d->V; v++)
				match &= p[v] <= p[y[k]];
		}
		scores &= fabs(-l - g1.score[b]) < 1e-3 * (1 + fabs(l));
		better &= g4.n[b] >= 1 && g4.n[b] <= (size_t)ceil(2.0 * LEN[b]) + 1 &&
			  (g4.ids[b][g4.n[b] - 1] == d->eos || g4.n[b] == (size_t)ceil(2.0 * LEN[b]) + 1) &&
			  isfinite(g4.score[b]);
	}
	ok(match, "generate: greedy picks the most likely token at every step");
	ok(scores, "generate: greedy's score is the summed log-probability of its output");
	ok(better, "generate: beam 4 gives every source a hypothesis ending in <eos> or at the length limit");
	fix_free(&f);
}

int main(void)
{
	sp_ctx *ctx;
	static const char *const cells[] = {"gru", "lstm", "rnn"};
	static const char *const attns[] = {"general", "additive", "dot"};
	if (sp_ctx_new(&ctx, 7) < 0)
		return 1;
	check_cell(ctx, S2S_RNN, "rnn");
	check_cell(ctx, S2S_GRU, "gru");
	check_cell(ctx, S2S_LSTM, "lstm");
	for (size_t c = 0; c < 3; c++)
		for (size_t a = 0; a < 3; a++)
			check_head(ctx, cells[c], attns[a], a == 1 ? "false" : "true", "0");
	check_head(ctx, "gru", "additive", "true", "0.3");
	check_generate(ctx);
	sp_ctx_free(ctx);
	return tap_done();
}
