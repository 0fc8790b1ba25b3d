/*
 * sp_batch.c: the batch buffers and how examples and stream windows are
 * laid out in them.
 */
#include "config.h"

#include "sp_batch.h"

#include <stdlib.h>
#include <string.h>

void sp_batchbuf_fini(sp_batchbuf *buf)
{
	free(buf->b_ids);
	free(buf->b_len);
	free(buf->b_tgt);
	free(buf->b_mask);
	free(buf->b_tmask);
	free(buf->dh);
	free(buf->stream);
	free(buf->b_cp);
	free(buf->b_nc);
	memset(buf, 0, sizeof(*buf));
}

void sp_batchbuf_shape(sp_batchbuf *buf, size_t V, size_t D, int one_target)
{
	buf->V = V;
	buf->D = D;
	buf->one_target = one_target;
}

static int ensure_batch(sp_batchbuf *buf, sp_ctx *ctx, size_t T, size_t B, size_t D)
{
	size_t tb = T * B;
	if (tb > buf->cap_tb) {
		free(buf->b_ids);
		free(buf->b_tgt);
		free(buf->b_mask);
		free(buf->b_tmask);
		buf->b_ids = malloc(tb * sizeof(*buf->b_ids));
		buf->b_tgt = malloc(tb * sizeof(*buf->b_tgt));
		buf->b_mask = malloc(tb);
		buf->b_tmask = malloc(tb);
		buf->cap_tb = tb;
		if (!buf->b_ids || !buf->b_tgt || !buf->b_mask || !buf->b_tmask) {
			buf->cap_tb = 0;
			return sp_err(ctx, SP_ENOMEM, "out of memory for a batch");
		}
	}
	if (B > buf->cap_b) {
		free(buf->b_len);
		buf->b_len = malloc(B * sizeof(*buf->b_len));
		buf->cap_b = buf->b_len ? B : 0;
		if (!buf->b_len)
			return sp_err(ctx, SP_ENOMEM, "out of memory for a batch");
	}
	if (tb * D > buf->cap_dh) {
		free(buf->dh);
		buf->dh = malloc(tb * D * sizeof(*buf->dh));
		buf->cap_dh = buf->dh ? tb * D : 0;
		if (!buf->dh)
			return sp_err(ctx, SP_ENOMEM, "out of memory for a batch");
	}
	return SP_OK;
}

/* Points b at the batch buffers: inputs (T,B), targets (Ty,B). */
static void batch_view(const sp_batchbuf *buf, size_t T, size_t Ty, size_t B, sp_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->x.T = T;
	b->x.B = B;
	b->x.D = buf->V;
	b->x.ids = buf->b_ids;
	b->x.mask = buf->b_mask;
	b->x.len = buf->b_len;
	b->y.T = Ty;
	b->y.B = B;
	b->y.id = buf->b_tgt;
	b->y.mask = buf->b_tmask;
}

/* The characters of the batch's tokens, when d has them recorded. */
static int batch_chars(sp_batchbuf *buf, sp_ctx *ctx, const sp_dataset *d,
		       const size_t *idx, size_t T, size_t B, sp_batch *b)
{
	size_t C = 1, n;
	if (d->ch.n_ex != d->n || d->n == 0)
		return SP_OK;
	for (size_t k = 0; k < B; k++)
		for (size_t t = 0; t < (size_t)d->in_len[idx[k]]; t++)
			if (sp_tokchars_token(&d->ch, idx[k], t, &n) && n > C)
				C = n;
	if (T * B * C > buf->cap_cp || T * B > buf->cap_nc) {
		free(buf->b_cp);
		free(buf->b_nc);
		buf->b_cp = malloc(T * B * C * sizeof(*buf->b_cp));
		buf->b_nc = malloc(T * B * sizeof(*buf->b_nc));
		buf->cap_cp = buf->b_cp ? T * B * C : 0;
		buf->cap_nc = buf->b_nc ? T * B : 0;
		if (!buf->b_cp || !buf->b_nc)
			return sp_err(ctx, SP_ENOMEM, "out of memory for a batch");
	}
	memset(buf->b_cp, 0, T * B * C * sizeof(*buf->b_cp));
	memset(buf->b_nc, 0, T * B * sizeof(*buf->b_nc));
	for (size_t k = 0; k < B; k++)
		for (size_t t = 0; t < (size_t)d->in_len[idx[k]]; t++) {
			const int32_t *cp = sp_tokchars_token(&d->ch, idx[k], t, &n);
			memcpy(buf->b_cp + (t * B + k) * C, cp, n * sizeof(*cp));
			buf->b_nc[t * B + k] = (int32_t)n;
		}
	b->c.size = sizeof(b->c);
	b->c.T = T;
	b->c.B = B;
	b->c.C = C;
	b->c.cp = buf->b_cp;
	b->c.n = buf->b_nc;
	return SP_OK;
}

int sp_batch_make(sp_batchbuf *buf, sp_ctx *ctx, const sp_dataset *d,
		  const size_t *idx, size_t B, sp_batch *b)
{
	size_t T = 0, Ty;
	int rc;
	for (size_t k = 0; k < B; k++)
		if ((size_t)d->in_len[idx[k]] > T)
			T = (size_t)d->in_len[idx[k]];
	Ty = buf->one_target ? 1 : T;
	if (buf->seq_target) {
		Ty = 0;
		for (size_t k = 0; k < B; k++)
			if ((size_t)d->tg_len[idx[k]] > Ty)
				Ty = (size_t)d->tg_len[idx[k]];
	}
	/* the buffers hold (max(T, Ty), B); dh stays (T,B,D) */
	rc = ensure_batch(buf, ctx, Ty > T ? Ty : T, B, buf->D);
	if (rc < 0)
		return rc;
	for (size_t k = 0; k < B; k++) {
		size_t e = idx[k];
		size_t n = (size_t)d->in_len[e];
		buf->b_len[k] = (int32_t)n;
		for (size_t t = 0; t < T; t++) {
			int real = t < n;
			buf->b_ids[t * B + k] = real ? d->ids[d->in_off[e] + t] : 0;
			buf->b_mask[t * B + k] = (uint8_t)real;
		}
		for (size_t t = 0; t < Ty; t++) {
			int real = t < (size_t)d->tg_len[e];
			buf->b_tgt[t * B + k] = real ? d->ids[d->tg_off[e] + t] : -1;
			buf->b_tmask[t * B + k] = (uint8_t)real;
		}
	}
	batch_view(buf, T, Ty, B, b);
	return batch_chars(buf, ctx, d, idx, T, B, b);
}

/*
 * Truncated BPTT over one long stream: the training texts joined into one
 * sequence, cut into B parallel rows; each step trains on the next k
 * positions of every row, starting from the state the previous window
 * ended in (carried, but no gradient flows into it).
 *
 * TBPTT(k1, k2) (Williams and Peng 1990, "An efficient gradient-based
 * algorithm for on-line training of recurrent network trajectories"):
 * every k1 steps, back-propagate through the last k2.  Window w covers
 * positions [w*k1, w*k1 + k2) of every row (clipped at its end) and starts
 * from the state after position w*k1, i.e. k1 steps into window w-1 (the
 * model's carry_at).  Its first k2 - k1 positions were counted by window
 * w-1, so they are context only: targets masked, gradient flowing through
 * them.  Each position is counted once per epoch, as with k1 = k2 (the
 * default, where windows lie side by side and nothing is masked).
 *
 * sp_batch_stream joins the examples of d into one sequence (caller frees
 * *out): each example's input and its last target, so the texts follow
 * each other as they were read.  Training joins the training split once;
 * sp_evaluate joins each split it evaluates the same way.
 */
int sp_batch_stream(int32_t **out, size_t *n_out, sp_ctx *ctx,
		    const sp_dataset *d)
{
	size_t n = 0;
	int32_t *stream;
	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < d->n; i++)
		n += (size_t)d->in_len[i] + 1;
	stream = malloc((n ? n : 1) * sizeof(*stream));
	if (!stream)
		return sp_err(ctx, SP_ENOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < d->n; i++) {
		size_t len = (size_t)d->in_len[i];
		/* an example is input seq[0..m-1) and target seq[1..m) */
		memcpy(stream + n, d->ids + d->in_off[i], len * sizeof(int32_t));
		n += len;
		stream[n++] = d->ids[d->tg_off[i] + len - 1];
	}
	*out = stream;
	*n_out = n;
	return SP_OK;
}

int sp_batch_window(sp_batchbuf *buf, sp_ctx *ctx, const int32_t *stream,
		    size_t t0, size_t T, size_t skip, size_t B, size_t L,
		    sp_batch *b)
{
	int rc = ensure_batch(buf, ctx, T, B, buf->D);
	if (rc < 0)
		return rc;
	for (size_t r = 0; r < B; r++) {
		const int32_t *row = stream + r * L;
		buf->b_len[r] = (int32_t)T;
		for (size_t t = 0; t < T; t++) {
			buf->b_ids[t * B + r] = row[t0 + t];
			buf->b_tgt[t * B + r] = row[t0 + t + 1];
			buf->b_mask[t * B + r] = 1;
			buf->b_tmask[t * B + r] = t >= skip;
		}
	}
	batch_view(buf, T, T, B, b);
	return SP_OK;
}

int sp_batch_next_train(sp_batchbuf *buf, sp_ctx *ctx, const sp_dataset *train,
			sp_batcher *batcher, size_t B, size_t k1, size_t k2,
			size_t *pos, sp_batch *b)
{
	int rc;
	if (k2) {
		size_t L = (buf->n_stream - 1) / B, t = *pos;
		/* where the last window ended: counted up to there */
		size_t done = t ? t - k1 + k2 : 0;
		if (done >= L)
			return 0;
		*pos += k1;
		rc = sp_batch_window(buf, ctx, buf->stream, t, L - t < k2 ? L - t : k2, done - t, B, L, b);
	} else {
		const size_t *idx;
		size_t n;
		if (!sp_batcher_next(&idx, &n, batcher))
			return 0;
		rc = sp_batch_make(buf, ctx, train, idx, n, b);
	}
	return rc < 0 ? rc : 1;
}
