/*
 * head_crf.c: the `crf` head, a linear-chain conditional random field
 * over the tag set (Lafferty et al. 2001; as the output layer of a BiLSTM,
 * Lample et al. 2016 and Huang et al. 2015).
 *
 * For one sequence of n real steps with projected vectors x_t, the
 * emission scores are y_t = W·x_t + b (K each, the tagger's projection,
 * head_core.c), and a path of tags z_0..z_{n-1} scores
 *
 *     s(z) = start[z_0] + Σ_t y_t[z_t] + Σ_{t≥1} A[z_{t-1}, z_t] + end[z_{n-1}]
 *
 * with A (K,K) the transition scores (row = from, column = to).  The
 * model is p(z | x) = exp s(z) / Z, Z = Σ_z' exp s(z'), and the loss of a
 * sequence is −log p(gold) = log Z − s(gold), summed over sequences
 * (nats); n_loss counts the labelled steps, so loss / n_loss is per tag
 * as for the softmax tagger.  log Z is the forward algorithm:
 *
 *     α_0[j] = start[j] + y_0[j]
 *     α_t[j] = y_t[j] + log Σ_i exp(α_{t-1}[i] + A[i,j])
 *     log Z  = log Σ_j exp(α_{n-1}[j] + end[j])
 *
 * and, with the backward recursion β_{n-1}[i] = end[i],
 * β_t[i] = log Σ_j exp(A[i,j] + y_{t+1}[j] + β_{t+1}[j]), the marginals
 *
 *     P(z_t = j)              = exp(α_t[j] + β_t[j] − log Z)
 *     P(z_{t-1} = i, z_t = j) = exp(α_{t-1}[i] + A[i,j] + y_t[j] + β_t[j] − log Z)
 *
 * are the gradient of log Z: ∂/∂y_t[j], ∂/∂A[i,j] (summed over t),
 * ∂/∂start, ∂/∂end.  Steps whose label is missing (masked or id < 0) are
 * summed over rather than dropped: s(gold) becomes log Σ over the paths
 * that agree with every label there is, computed by the same recursions
 * with the other tags of labelled steps at −inf, and the gradient of the
 * loss is (marginals) − (marginals given the labels).  A sequence with no
 * label at all adds nothing.
 *
 * Constraints: with `constrain = true` and a scheme (iob1, iob2, iobes;
 * auto reads it from the tag strings), the transitions, starts and ends
 * that the scheme forbids (sp_tag_transition_ok: I-X after O or after
 * another type in IOB2, ...) are −inf in training and decoding, so no
 * probability goes to impossible paths and Viterbi never outputs one.
 * Their weights stay in the model file but get no gradient.  Gold tags
 * that break the constraints are SP_EINPUT naming the sequence and step.
 *
 * Decoding is Viterbi (max instead of log Σ, with back pointers; ties go
 * to the lower tag id).  `entity_bias` (default 0) is added there to the
 * score of every entity tag (B, I, E, S) at each step: a decision rule,
 * not part of the model, for data whose annotators left many entities
 * O, where the path trades recall for precision; tune it on dev (or
 * with `pipeline eval --set head.entity_bias=...` on a trained model).
 * The loss, its gradient and the marginals never see it.
 *
 * predict reports the Viterbi tag of every real step with its marginal
 * probability P(z_t = tag), then (k > 1) the other tags by marginal.
 * sample draws from the marginal at (t, b).  Metrics are the tagger's
 * (loss per tag, accuracy, entity precision / recall / F1 as conlleval,
 * f1.<TYPE>) on the Viterbi path.
 *
 * Recursions run in double, per sequence: O(n·K²) per sequence, small
 * beside the projection for tag sets of tens of tags.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heads_impl.h"
#include "sp_kv.h"
#include "sp_vocab.h"

enum { W_W, W_B, W_TRANS, W_START, W_END, N_WEIGHTS };

typedef struct crf {
	head *hd;              /* the projection, rows, metrics, tag table */
	size_t K;
	int constrain;         /* scheme rules applied as −inf */
	double *dec_bias;      /* (K) added to y at decoding: entity_bias for
				  entity tags, 0 for O */
	sp_weight w[N_WEIGHTS];
	float *A, *start, *end;      /* (K,K), (K), (K) bound values */
	float *dA, *dstart, *dend;   /* their gradients */
	uint8_t *ok_trans;     /* (K,K) 1 = allowed */
	uint8_t *ok_start, *ok_end;  /* (K) */

	/* The last forward (rows as hd's: one per real step, t major). */
	size_t cap_rows, cap_T;
	float *marg;           /* (rows,K) P(z_t = j) */
	float *gy;             /* (rows,K) d(loss)/dy, training forward */
	int32_t *path;         /* (rows) the Viterbi tags */
	double *alpha, *beta;  /* (T,K) one sequence */
	double *calpha, *cbeta;/* (T,K) the same given the labels */
	int32_t *bp;           /* (T,K) Viterbi back pointers */
	int32_t *rows;         /* (T) the rows of one sequence */
	double *gA, *gstart, *gend;  /* (K,K), (K), (K) of the last training
					forward, summed over sequences */
	double *tmp;           /* (K) */
} crf;

/* log(exp(a) + exp(b)) with −inf as the zero. */
static double lse2_(double a, double b)
{
	double m;
	if (a == -INFINITY)
		return b;
	if (b == -INFINITY)
		return a;
	m = a > b ? a : b;
	return m + log1p(exp(-fabs(a - b)));
}

/* ---- buffers -------------------------------------------------------- */

static void crf_bufs_free_(crf *c)
{
	free(c->marg);
	free(c->gy);
	free(c->path);
	free(c->alpha);
	free(c->beta);
	free(c->calpha);
	free(c->cbeta);
	free(c->bp);
	free(c->rows);
	c->marg = c->gy = NULL;
	c->path = c->bp = c->rows = NULL;
	c->alpha = c->beta = c->calpha = c->cbeta = NULL;
	c->cap_rows = c->cap_T = 0;
}

/* Sizes the per-batch buffers for a (T,B) batch; they only grow. */
static int crf_reserve_(crf *c, sp_ctx *ctx, size_t T, size_t B)
{
	const size_t K = c->K, rows = T * B;
	size_t cT, cR;
	int failed = 0;
	if (T <= c->cap_T && rows <= c->cap_rows)
		return SP_OK;
	cT = T > c->cap_T ? T : c->cap_T;
	cR = rows > c->cap_rows ? rows : c->cap_rows;
	if (heads_buf_too_large(cT, K, sizeof(double)) ||
	    heads_buf_too_large(cR, K, sizeof(float)))
		return sp_err(ctx, SP_EINVAL, "crf: batch %zu x %zu too large",
			      T, B);
	crf_bufs_free_(c);
	c->marg = heads_buf(cR * K, sizeof(float), &failed);
	c->gy = heads_buf(cR * K, sizeof(float), &failed);
	c->path = heads_buf(cR, sizeof(int32_t), &failed);
	c->alpha = heads_buf(cT * K, sizeof(double), &failed);
	c->beta = heads_buf(cT * K, sizeof(double), &failed);
	c->calpha = heads_buf(cT * K, sizeof(double), &failed);
	c->cbeta = heads_buf(cT * K, sizeof(double), &failed);
	c->bp = heads_buf(cT * K, sizeof(int32_t), &failed);
	c->rows = heads_buf(cT, sizeof(int32_t), &failed);
	if (failed) {
		crf_bufs_free_(c);
		return sp_err(ctx, SP_ENOMEM, "crf: out of memory for a %zu x "
			      "%zu batch", T, B);
	}
	c->cap_T = cT;
	c->cap_rows = cR;
	return SP_OK;
}

/* ---- the recursions, one sequence of n rows r[0..n) ------------------ */

/* May step t be tag j?  Given the labels, a labelled step only its own. */
static int lab_ok_(const crf *c, const int32_t *r, int given, size_t t,
		   size_t j)
{
	const int32_t lab = given ? c->hd->tgt[r[t]] : -1;
	return lab < 0 || lab == (int32_t)j;
}

/* α (n,K) into a; returns log Z (−inf when no path is possible). */
static double crf_alpha_(const crf *c, const int32_t *r, size_t n, int given,
			 double *a)
{
	const size_t K = c->K;
	double logz = -INFINITY;
	for (size_t t = 0; t < n; t++) {
		const float *y = c->hd->y + (size_t)r[t] * K;
		for (size_t j = 0; j < K; j++) {
			double acc = -INFINITY;
			if (!lab_ok_(c, r, given, t, j)) {
				a[t * K + j] = -INFINITY;
				continue;
			}
			if (t == 0)
				acc = c->ok_start[j] ? (double)c->start[j] :
						       -INFINITY;
			else
				for (size_t i = 0; i < K; i++)
					if (c->ok_trans[i * K + j])
						acc = lse2_(acc, a[(t - 1) * K + i] +
								 c->A[i * K + j]);
			a[t * K + j] = acc == -INFINITY ? acc : acc + y[j];
		}
	}
	for (size_t j = 0; j < K; j++)
		if (c->ok_end[j])
			logz = lse2_(logz, a[(n - 1) * K + j] + c->end[j]);
	return logz;
}

/* β (n,K) into bt. */
static void crf_beta_(const crf *c, const int32_t *r, size_t n, int given,
		      double *bt)
{
	const size_t K = c->K;
	for (size_t i = 0; i < K; i++)
		bt[(n - 1) * K + i] = c->ok_end[i] ? (double)c->end[i] :
						     -INFINITY;
	for (size_t t = n - 1; t-- > 0;) {
		const float *y = c->hd->y + (size_t)r[t + 1] * K;
		for (size_t i = 0; i < K; i++) {
			double acc = -INFINITY;
			for (size_t j = 0; j < K; j++)
				if (c->ok_trans[i * K + j] &&
				    lab_ok_(c, r, given, t + 1, j))
					acc = lse2_(acc, c->A[i * K + j] + y[j] +
							 bt[(t + 1) * K + j]);
			bt[t * K + i] = acc;
		}
	}
}

/* exp(v − logz), 0 for v = −inf. */
static double prob_(double v, double logz)
{
	return v == -INFINITY ? 0.0 : exp(v - logz);
}

/*
 * From α, β and log Z of one sequence: the marginals into c->marg when
 * `write`, and with `sign` (+1 unconstrained, −1 given the labels) the
 * marginals into the gradient sums gy, gstart, gend and the pair
 * marginals into gA (training).
 */
static void crf_marginals_(crf *c, const int32_t *r, size_t n, int given,
			   const double *a, const double *bt, double logz,
			   int write, double sign, int train)
{
	const size_t K = c->K;
	for (size_t t = 0; t < n; t++) {
		const size_t row = (size_t)r[t];
		const float *y = c->hd->y + row * K;
		for (size_t j = 0; j < K; j++) {
			const double m = prob_(a[t * K + j] + bt[t * K + j], logz);
			if (write)
				c->marg[row * K + j] = (float)m;
			if (!train)
				continue;
			c->gy[row * K + j] += (float)(sign * m);
			if (t == 0)
				c->gstart[j] += sign * m;
			if (t == n - 1)
				c->gend[j] += sign * m;
			if (t == 0 || !lab_ok_(c, r, given, t, j))
				continue;
			for (size_t i = 0; i < K; i++)
				if (c->ok_trans[i * K + j])
					c->gA[i * K + j] += sign * prob_(
						a[(t - 1) * K + i] + c->A[i * K + j] +
							y[j] + bt[t * K + j],
						logz);
		}
	}
}

/* The best path of one sequence (Viterbi) into c->path; ties go to the
 * lower tag id.  Uses c->alpha as δ. */
static void crf_viterbi_(crf *c, const int32_t *r, size_t n)
{
	const size_t K = c->K;
	double *d = c->alpha, best = -INFINITY;
	int32_t last = 0;
	for (size_t t = 0; t < n; t++) {
		const float *y = c->hd->y + (size_t)r[t] * K;
		for (size_t j = 0; j < K; j++) {
			double m = -INFINITY;
			int32_t arg = 0;
			if (t == 0) {
				m = c->ok_start[j] ? (double)c->start[j] : m;
			} else {
				for (size_t i = 0; i < K; i++) {
					const double v = d[(t - 1) * K + i] +
							 c->A[i * K + j];
					if (c->ok_trans[i * K + j] && v > m) {
						m = v;
						arg = (int32_t)i;
					}
				}
			}
			d[t * K + j] = m + y[j] + c->dec_bias[j];
			c->bp[t * K + j] = arg;
		}
	}
	for (size_t j = 0; j < K; j++) {
		const double v = d[(n - 1) * K + j] + c->end[j];
		if (c->ok_end[j] && v > best) {
			best = v;
			last = (int32_t)j;
		}
	}
	for (size_t t = n; t-- > 0;) {
		c->path[r[t]] = last;
		last = c->bp[t * K + last];
	}
}

/* ---- forward --------------------------------------------------------- */

/* "B-PER" of tag id k, for messages (buf has room for 64). */
static const char *tag_text_(const crf *c, int32_t k, char *buf)
{
	const sp_tag_info ti = c->hd->info[k];
	if (ti.type < 0)
		snprintf(buf, 64, "O (id %d)", (int)k);
	else
		snprintf(buf, 64, "%c-%s", ti.prefix,
			 c->hd->names[ti.type] + 3);
	return buf;
}

/* The gold tags of sequence b (rows r, n) break the scheme: say where. */
static int gold_impossible_(const crf *c, sp_ctx *ctx, const int32_t *r,
			    size_t n, size_t b)
{
	const int32_t *tgt = c->hd->tgt;
	char x[64], y[64];
	for (size_t t = 0; t < n; t++) {
		const int32_t k = tgt[r[t]];
		if (k < 0)
			continue;
		if (t == 0 && !c->ok_start[k])
			return sp_err(ctx, SP_EINPUT, "crf: sequence %zu starts "
				      "with %s, impossible under scheme=%s (set "
				      "constrain=false or fix the data)", b,
				      tag_text_(c, k, x),
				      sp_tag_scheme_name(c->hd->scheme));
		if (t > 0 && tgt[r[t - 1]] >= 0 &&
		    !c->ok_trans[(size_t)tgt[r[t - 1]] * c->K + (size_t)k])
			return sp_err(ctx, SP_EINPUT, "crf: sequence %zu, step "
				      "%zu: %s after %s is impossible under "
				      "scheme=%s (set constrain=false or fix "
				      "the data)", b, t, tag_text_(c, k, x),
				      tag_text_(c, tgt[r[t - 1]], y),
				      sp_tag_scheme_name(c->hd->scheme));
	}
	return sp_err(ctx, SP_EINPUT, "crf: the gold tags of sequence %zu "
		      "have no path allowed by scheme=%s (ends with B- or I- "
		      "under iobes?)", b, sp_tag_scheme_name(c->hd->scheme));
}

/* Accuracy and entities of one sequence's labelled steps. */
static void crf_count_(crf *c, const int32_t *r, size_t n)
{
	head *hd = c->hd;
	size_t m = 0;
	for (size_t t = 0; t < n; t++) {
		const int32_t gold = hd->tgt[r[t]], pred = c->path[r[t]];
		if (gold < 0)
			continue;
		hd->m_steps++;
		hd->m_correct += gold == pred;
		hd->gold_seq[m] = hd->info[gold];
		hd->pred_seq[m] = hd->info[pred];
		m++;
	}
	if (hd->scheme != SP_TAGS_NONE && m > 0)
		heads_count_entities(hd->gold_seq, hd->pred_seq, m, hd->gold_sp,
				     hd->pred_sp, hd->m_gold, hd->m_pred,
				     hd->m_hit);
}

/*
 * One sequence: marginals, Viterbi, and with labels the loss
 * log Z − log Z(labels), its gradient sums (training) and the metrics.
 */
static int crf_sequence_(crf *c, sp_ctx *ctx, const int32_t *r, size_t n,
			 size_t b, int labelled, int train, double *loss,
			 size_t *count)
{
	const int32_t *tgt = c->hd->tgt;
	double logz, logz_c;
	size_t m = 0, unseen = 0;
	for (size_t t = 0; t < n; t++) {
		m += tgt[r[t]] >= 0;
		unseen += tgt[r[t]] >= (int32_t)c->K;
	}
	/* a gold tag the CRF has no state for: no gold path, so no loss;
	 * the sequence is still decoded and scored (its tag a miss) */
	train = train && m > 0 && !unseen;
	logz = crf_alpha_(c, r, n, 0, c->alpha);
	crf_beta_(c, r, n, 0, c->beta);
	if (!isfinite(logz))
		return sp_err(ctx, SP_ENUMERIC, "crf: log Z of sequence %zu "
			      "is not finite", b);
	crf_marginals_(c, r, n, 0, c->alpha, c->beta, logz, 1, 1.0, train);
	crf_viterbi_(c, r, n);
	if (!labelled || m == 0)
		return SP_OK;
	if (unseen) {
		crf_count_(c, r, n);
		return SP_OK;
	}
	logz_c = crf_alpha_(c, r, n, 1, c->calpha);
	if (logz_c == -INFINITY)
		return gold_impossible_(c, ctx, r, n, b);
	crf_beta_(c, r, n, 1, c->cbeta);
	crf_marginals_(c, r, n, 1, c->calpha, c->cbeta, logz_c, 0, -1.0,
		       train);
	*loss += logz - logz_c;
	*count += m;
	crf_count_(c, r, n);
	return SP_OK;
}

/* forward: gather the real steps, project, then every sequence.
 * h:(T,B,in); y:(T,B) or NULL for inference. */
static int crf_forward(void *self, sp_ctx *ctx, const sp_seq *h,
		       const sp_labels *y, double *loss, size_t *n_loss,
		       int train)
{
	crf *c = self;
	head *hd = c->hd;
	const size_t K = c->K;
	double sum = 0;
	size_t count = 0;
	int rc;
	if (loss)
		*loss = 0;
	if (n_loss)
		*n_loss = 0;
	if ((rc = heads_check_forward(hd, ctx, h, y)) < 0 ||
	    (rc = heads_reserve(hd, ctx, h->T, h->B)) < 0 ||
	    (rc = crf_reserve_(c, ctx, h->T, h->B)) < 0)
		return rc;
	if (!c->A || !c->start || !c->end)
		return sp_err(ctx, SP_EINVAL, "crf: forward before bind");
	hd->T = h->T;
	hd->B = h->B;
	hd->n = 0;
	hd->train = 0; /* until this forward has succeeded */
	if ((rc = heads_steps_gather(hd, ctx, h, y)) < 0)
		goto fail;
	heads_project(hd, ctx, train);
	if (train) {
		memset(c->gy, 0, hd->n * K * sizeof(float));
		memset(c->gA, 0, K * K * sizeof(double));
		memset(c->gstart, 0, K * sizeof(double));
		memset(c->gend, 0, K * sizeof(double));
	}
	for (size_t b = 0; b < h->B; b++) {
		size_t n = 0;
		for (size_t t = 0; t < h->T; t++)
			if (hd->row_of[t * h->B + b] >= 0)
				c->rows[n++] = hd->row_of[t * h->B + b];
		if (n > 0 && (rc = crf_sequence_(c, ctx, c->rows, n, b, y != NULL,
						 train, &sum, &count)) < 0)
			goto fail;
	}
	if (!isfinite(sum)) {
		rc = sp_err(ctx, SP_ENUMERIC, "crf: loss is not finite");
		goto fail;
	}
	heads_forward_done(hd, train, y, sum, count, loss, n_loss);
	return SP_OK;
fail:
	/* leave no half-made outputs for predict, sample, trace */
	hd->T = hd->B = hd->n = 0;
	return rc;
}

/* backward: dh (T,B,in) += d(loss/scale)/dh of the last training forward;
 * W, b, trans, start and end gradients accumulate. */
static int crf_backward(void *self, sp_ctx *ctx, double scale, sp_seq *dh)
{
	crf *c = self;
	head *hd = c->hd;
	const size_t K = c->K;
	const double g = 1.0 / scale;
	if (!hd->train || !hd->has_targets)
		return sp_err(ctx, SP_EINVAL, "crf: backward needs a training "
			      "forward with labels");
	if (!(scale > 0) || !isfinite(scale))
		return sp_err(ctx, SP_EINVAL, "crf: scale=%g must be > 0",
			      scale);
	if (!dh || !dh->x || dh->T != hd->T || dh->B != hd->B ||
	    dh->D != hd->in)
		return sp_err(ctx, SP_EINVAL, "crf: dh must be (%zu,%zu,%zu)",
			      hd->T, hd->B, hd->in);
	for (size_t i = 0; i < hd->n * K; i++)
		hd->dy[i] = (float)(g * c->gy[i]);
	heads_project_backward(hd);
	heads_steps_scatter(hd, dh->x);
	for (size_t i = 0; i < K * K; i++)
		c->dA[i] += (float)(g * c->gA[i]);
	for (size_t j = 0; j < K; j++) {
		c->dstart[j] += (float)(g * c->gstart[j]);
		c->dend[j] += (float)(g * c->gend[j]);
	}
	return SP_OK;
}

/* ---- outputs ---------------------------------------------------------- */

/* Row of (t, b) of the last forward, or -1. */
static int32_t crf_row_(const crf *c, size_t t, size_t b)
{
	const head *hd = c->hd;
	if (b >= hd->B || t >= hd->T)
		return -1;
	return hd->row_of[t * hd->B + b];
}

/* The Viterbi tag of every real step with its marginal probability, then
 * (k > 1) the other tags by marginal, best first (ties: lower id). */
static int crf_predict(void *self, sp_ctx *ctx, size_t k, sp_pred_fn emit,
		       void *payload)
{
	crf *c = self;
	head *hd = c->hd;
	const size_t K = c->K;
	(void)ctx;
	if (k > K)
		k = K;
	for (size_t r = 0; r < hd->n && k > 0; r++) {
		const float *m = c->marg + r * K;
		const size_t t = hd->src[r] / hd->B, b = hd->src[r] % hd->B;
		int rc;
		/* the path's tag first, the rest by selection */
		hd->idx[0] = c->path[r];
		for (size_t i = 0, n = 1; i < K; i++)
			if ((int32_t)i != c->path[r])
				hd->idx[n++] = (int32_t)i;
		for (size_t i = 0; i < k; i++) {
			size_t best = i;
			int32_t keep;
			for (size_t j = i + 1; j < K && i > 0; j++)
				if (m[hd->idx[j]] > m[hd->idx[best]] ||
				    (m[hd->idx[j]] == m[hd->idx[best]] &&
				     hd->idx[j] < hd->idx[best]))
					best = j;
			keep = hd->idx[i];
			hd->idx[i] = hd->idx[best];
			hd->idx[best] = keep;
			if ((rc = emit(payload, t, b, i, hd->idx[i],
				       m[hd->idx[i]])) < 0)
				return rc;
		}
	}
	return SP_OK;
}

/* One draw from the marginal of (t, b) sharpened or flattened by the
 * temperature: P(j)^(1/temperature), normalised. */
static int crf_sample(void *self, sp_ctx *ctx, size_t t, size_t b,
		      double temperature, int32_t *out_id)
{
	crf *c = self;
	const size_t K = c->K;
	const int32_t r = crf_row_(c, t, b);
	const float *m;
	double sum = 0, u, acc = 0;
	int32_t best;
	if (!(temperature > 0) || !isfinite(temperature))
		return sp_err(ctx, SP_EINVAL, "crf: temperature=%g must be > 0",
			      temperature);
	if (r < 0)
		return sp_err(ctx, SP_EINVAL, "crf: no output at step %zu, "
			      "sequence %zu of the last forward", t, b);
	m = c->marg + (size_t)r * K;
	best = heads_argmax(m, K);
	for (size_t j = 0; j < K; j++)
		sum += m[j] > 0 ? pow(m[j] / m[best], 1.0 / temperature) : 0;
	u = sp_rng_uniform(ctx) * sum;
	*out_id = best;
	for (size_t j = 0; j < K; j++) {
		acc += m[j] > 0 ? pow(m[j] / m[best], 1.0 / temperature) : 0;
		if (u < acc) {
			*out_id = (int32_t)j;
			break;
		}
	}
	return SP_OK;
}

/* For `pipeline trace`: the emission scores and the marginals of (t, b),
 * K x 1 each; nothing for a padded step. */
static int crf_trace(void *self, sp_ctx *ctx, size_t t, size_t b,
		     sp_trace_fn emit, void *payload)
{
	crf *c = self;
	const head *hd = c->hd;
	int32_t r;
	int rc;
	if (b >= hd->B || t >= hd->T)
		return sp_err(ctx, SP_EINVAL, "crf: trace of step %zu, sequence "
			      "%zu is outside the last forward (%zu,%zu)", t, b,
			      hd->T, hd->B);
	if ((r = crf_row_(c, t, b)) < 0)
		return SP_OK;
	if ((rc = emit(payload, t, "y(t) = W·h(t) + b",
		       hd->y + (size_t)r * c->K, c->K, 1)) < 0)
		return rc;
	return emit(payload, t, "P(tag(t) | sentence)",
		    c->marg + (size_t)r * c->K, c->K, 1);
}

static int crf_metrics_reset(void *self)
{
	crf *c = self;
	return heads_metrics_reset(c->hd);
}

static int crf_metric_state(void *self, double *buf, size_t *n, int set)
{
	crf *c = self;
	return heads_metric_state(c->hd, buf, n, set);
}

/* The tagger's metrics (loss per tag, accuracy, entities) on the paths. */
static int crf_metrics(void *self, sp_ctx *ctx, sp_metric_fn emit,
		       void *payload)
{
	crf *c = self;
	return heads_metrics(c->hd, ctx, emit, payload);
}

/* ---- life cycle ------------------------------------------------------- */

static void crf_destroy(void *self)
{
	crf *c = self;
	if (!c)
		return;
	crf_bufs_free_(c);
	free(c->ok_trans);
	free(c->ok_start);
	free(c->ok_end);
	free(c->gA);
	free(c->gstart);
	free(c->gend);
	free(c->dec_bias);
	heads_destroy(c->hd);
	free(c);
}

static int crf_weights(const void *self, const sp_weight **out,
		       size_t *n_out)
{
	const crf *c = self;
	*out = c->w;
	*n_out = N_WEIGHTS;
	return SP_OK;
}

static int crf_bind(void *self, float *const *value, float *const *grad)
{
	crf *c = self;
	int rc;
	if (!value || !grad)
		return SP_EINVAL;
	if ((rc = heads_bind(c->hd, value, grad)) < 0)
		return rc;
	c->A = value[W_TRANS];
	c->start = value[W_START];
	c->end = value[W_END];
	c->dA = grad[W_TRANS];
	c->dstart = grad[W_START];
	c->dend = grad[W_END];
	return SP_OK;
}

/* The projection as the tagger's; transitions, starts and ends at 0. */
static int crf_init(void *self, sp_ctx *ctx)
{
	crf *c = self;
	int rc;
	if ((rc = heads_init(c->hd, ctx)) < 0)
		return rc;
	if (!c->A)
		return sp_err(ctx, SP_EINVAL, "crf: init before bind");
	sp_fill_const(c->A, c->K * c->K, 0.0f);
	sp_fill_const(c->start, c->K, 0.0f);
	sp_fill_const(c->end, c->K, 0.0f);
	return SP_OK;
}

/* What the scheme allows (everything without constraints). */
static void crf_rules_(crf *c)
{
	const size_t K = c->K;
	const sp_tag_info *info = c->hd->info;
	const sp_tag_scheme s = c->constrain ? c->hd->scheme : SP_TAGS_NONE;
	for (size_t j = 0; j < K; j++) {
		c->ok_start[j] = (uint8_t)sp_tag_transition_ok(s, NULL, info[j]);
		c->ok_end[j] = (uint8_t)sp_tag_end_ok(s, info[j]);
		for (size_t i = 0; i < K; i++)
			c->ok_trans[i * K + j] = (uint8_t)sp_tag_transition_ok(
				s, &info[i], info[j]);
	}
}

/* The decoding bias of each tag: `bias` for entity tags, 0 for O.  A
 * bias needs a scheme: without one no tag is an entity. */
static int crf_bias_(crf *c, sp_ctx *ctx, double bias)
{
	if (!isfinite(bias))
		return sp_err(ctx, SP_EINVAL, "crf: entity_bias=%g: expected a "
			      "finite number", bias);
	if (bias != 0 && c->hd->scheme == SP_TAGS_NONE)
		return sp_err(ctx, SP_EINVAL, "crf: entity_bias=%g needs entity "
			      "tags, but the tag scheme is none; expected "
			      "entity_bias = 0 or a scheme (iob1, iob2, iobes)",
			      bias);
	if (!(c->dec_bias = malloc(c->K * sizeof(double))))
		return sp_err(ctx, SP_ENOMEM, "crf: out of memory");
	for (size_t j = 0; j < c->K; j++)
		c->dec_bias[j] = c->hd->info[j].prefix == 'O' ? 0.0 : bias;
	return SP_OK;
}

static int crf_create(void **out, sp_ctx *ctx, const sp_kv *args,
		      size_t in_dim, const sp_head_env *env)
{
	crf *c = NULL;
	size_t K, N;
	int rc;
	*out = NULL;
	if ((rc = heads_env_ok(ctx, "crf", env)) < 0)
		return rc;
	if (!env->labels)
		return sp_err(ctx, SP_EINVAL, "crf: no tag set");
	/* states for the trained tags only: the transitions never see the
	 * gold-only ones */
	K = heads_env_outputs(env);
	N = sp_vocab_size(env->labels);
	if (!(c = calloc(1, sizeof(*c))))
		return sp_err(ctx, SP_ENOMEM, "crf: out of memory");
	if ((rc = heads_new(&c->hd, ctx, args, in_dim, HEAD_TAGGER, K, "W",
			    "b", N)) < 0)
		goto fail;
	c->hd->N = N;
	c->K = K;
	c->constrain = sp_kv_bool(args, "constrain");
	c->hd->info = malloc(N * sizeof(sp_tag_info));
	c->ok_trans = malloc(K * K);
	c->ok_start = malloc(K);
	c->ok_end = malloc(K);
	c->gA = malloc(K * K * sizeof(double));
	c->gstart = malloc(K * sizeof(double));
	c->gend = malloc(K * sizeof(double));
	if (!c->hd->info || !c->ok_trans || !c->ok_start || !c->ok_end ||
	    !c->gA || !c->gstart || !c->gend) {
		rc = sp_err(ctx, SP_ENOMEM, "crf: out of memory");
		goto fail;
	}
	if ((rc = heads_tag_table(ctx, "crf", env->labels, K, N,
				  sp_kv_str(args, "scheme"), c->hd->info,
				  c->hd->names, &c->hd->n_names,
				  &c->hd->scheme)) < 0 ||
	    (rc = crf_bias_(c, ctx, sp_kv_float(args, "entity_bias"))) < 0)
		goto fail;
	crf_rules_(c);
	c->w[W_W] = c->hd->w[0];
	c->w[W_B] = c->hd->w[1];
	c->w[W_TRANS] = (sp_weight){"trans", 2, {K, K, 0, 0}};
	c->w[W_START] = (sp_weight){"start", 1, {K, 0, 0, 0}};
	c->w[W_END] = (sp_weight){"end", 1, {K, 0, 0, 0}};
	*out = c;
	return SP_OK;
fail:
	crf_destroy(c);
	return rc;
}

static const sp_param_spec crf_params[] = {
	HEADS_DROPOUT_PARAM,
	{"scheme", SP_T_STRING, "auto",
	 "tag scheme: its impossible transitions are forbidden (constrain) "
	 "and its chunks scored as entities; auto: from the tag strings; "
	 "none: plain labels, token accuracy only",
	 "auto|iob1|iob2|iobes|bio|bioes|none"},
	{"constrain", SP_T_BOOL, "true",
	 "forbid the transitions the scheme does not allow, in training and "
	 "decoding", NULL},
	{"entity_bias", SP_T_FLOAT, "0",
	 "added at decoding to every entity tag's score (B, I, E, S) at each "
	 "step: > 0 finds more entities, < 0 fewer; tune it on dev. The loss "
	 "and the marginals ignore it", NULL},
	{NULL, 0, NULL, NULL, NULL}};

const sp_head_ops heads_crf_ops = {
	.base = {sizeof(sp_head_ops), SP_KIND_HEAD, "crf",
		 "one tag per step: linear-chain CRF over the tag set, Viterbi "
		 "decoding with the scheme's impossible transitions forbidden "
		 "(accuracy, entity precision/recall/F1 as conlleval)",
		 crf_params},
	.target = SP_TARGET_TAGS,
	.create = crf_create,
	.task = &heads_tagger_task,
	.destroy = crf_destroy,
	.weights = crf_weights,
	.bind = crf_bind,
	.init = crf_init,
	.forward = crf_forward,
	.backward = crf_backward,
	.metrics_reset = crf_metrics_reset,
	.metrics = crf_metrics,
	.predict = crf_predict,
	.sample = crf_sample,
	.trace = crf_trace,
	.metric_state = crf_metric_state};
