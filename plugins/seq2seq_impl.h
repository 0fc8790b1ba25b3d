/*
 * seq2seq_impl.h: what the files of the seq2seq plugin share (private to
 * the plugin; the module exports only its entry point).
 *
 *   seq2seq.c         the `decoder` head: weights, the teacher-forced and
 *                     free-running passes over a target batch, backward
 *                     through time, metrics, the descriptor
 *   seq2seq_cell.c    one step of the decoder's cell (rnn, gru, lstm) and
 *                     its backward, over a batch of rows
 *   seq2seq_search.c  greedy and beam search (generate)
 *
 * The decoder, per target step t over a batch (Luong et al. 2015, with
 * Bahdanau's additive score as an option):
 *
 *   x(t)  = [ emb(y(t-1)) ; f(t-1) ]      input feeding: f(t-1), else
 *                                          emb only; y(-1) = <bos>
 *   s(t)  = cell(x(t), s(t-1))             s(-1) = tanh(mean_s E · Winit
 *                                          + binit), c(-1) = 0
 *   c(t), a(t) = attention(E, s(t))        sp_attn: dot, general, additive
 *   f(t)  = tanh([ s(t) ; c(t) ] · Wc + bc)
 *   p(t)  = softmax(f(t) · Wo + bo)        over the target vocabulary
 *
 * Training only: inverted dropout on emb(y(t-1)) (embed_dropout) and on
 * f(t) where it enters the output layer (dropout; the fed-back f(t) is
 * kept whole), masks m ~ Bernoulli(1 - rate) / (1 - rate) per step.
 *
 * Matrices are input-major (v·W), as the engine's (sp_cell.h).
 */
#ifndef SP_SEQ2SEQ_IMPL_H
#define SP_SEQ2SEQ_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "sp_attn.h"
#include "sp_plugin.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

typedef enum s2s_cell { S2S_RNN = 1, S2S_GRU = 2, S2S_LSTM = 3 } s2s_cell;

/* The decoder cell's weights (bound) and shape. */
typedef struct s2s_cellw {
	s2s_cell kind;
	size_t I, H, G;          /* input, hidden, gate blocks (1, 3, 4) */
	float *Wx, *Wh, *b, *bh; /* (I,GH) (H,GH) (GH) (GH: gru only) */
	float *dWx, *dWh, *db, *dbh;
} s2s_cellw;

/* One step's cache (pointers into the head's per-step buffers, or the
 * search's scratch), for Bn rows. */
typedef struct s2s_step {
	float *x;   /* (Bn,I) input */
	float *sp;  /* (Bn,H) s(t-1) */
	float *cp;  /* (Bn,H) c(t-1) lstm, else NULL */
	float *a;   /* (Bn,GH) activations */
	float *ahn; /* (Bn,H) gru: s(t-1)·Whn + bhn */
	float *s;   /* (Bn,H) s(t) */
	float *c;   /* (Bn,H) c(t) lstm */
} s2s_step;

/* a (Bn,GH) scratch of GH floats per row is `tmp`. */
void s2s_cell_forward(const s2s_cellw *w, size_t Bn, const s2s_step *st, float *tmp);
/* ds (Bn,H) ∂L/∂s(t); dc (Bn,H) lstm: in ∂L/∂c(t), out ∂L/∂c(t-1).
 * Accumulates the weight gradients; writes dx (Bn,I) and dsp (Bn,H);
 * da, dah: (Bn,GH) scratch. */
void s2s_cell_backward(const s2s_cellw *w, size_t Bn, const s2s_step *st,
		       const float *ds, float *dc, float *dx, float *dsp,
		       float *da, float *dah);

/* The head. */
typedef struct s2s {
	size_t He, H, E, V, I, F;  /* encoder, hidden, embedding, vocabulary,
				      cell input, attentional vector (= H) */
	int feed;                  /* input feeding */
	s2s_cellw cell;
	sp_attn *attn;
	sp_attn_kind attn_kind;
	size_t attn_dim, n_attn;
	int32_t bos, eos;
	double tf0, tf1, tf;       /* teacher forcing: first, last, current */
	int tf_linear;
	double drop_emb, drop_out; /* dropout rates (training) */
	int drop;                  /* this forward drops (training) */
	size_t beam;               /* generate defaults */
	double max_ratio, len_alpha;

	sp_weight w[12];
	size_t n_w;
	float *emb, *Wi, *bi, *Wc, *bc, *Wo, *bo, *pa;
	float *demb, *dWi, *dbi, *dWc, *dbc, *dWo, *dbo, *dpa;

	/* the last forward: (T' target steps, S source steps, B rows) */
	size_t T, S, B;
	int train, has_y;
	const float *enc;          /* (S,B,He) borrowed until backward */
	const uint8_t *mask;       /* (S,B) or NULL */
	const int32_t *len;        /* (B) or NULL */
	const int32_t *y;          /* (T,B) targets, -1 = none */
	size_t cap_T, cap_B, cap_S;
	int32_t *in_id;            /* (T,B) input token of each step */
	float *mean;               /* (B,He) masked mean of enc */
	float *X, *Sst, *Cst, *A, *AHn, *Ctx, *U, *Fv, *P;
	/* per step: X (T,B,I); Sst, Cst (T+1,B,H) [0] = s(-1);
	 * A (T,B,GH); AHn (T,B,H); Ctx (T,B,He); U (T,B,H+He); Fv (T,B,H);
	 * P (T,B,V) probabilities */
	float *tmp, *dF, *dS, *dC, *dX, *dU, *dZ, *dL, *da, *dah, *dSp;
	float *dEs;                /* (B,He) ∂L/∂context of one step */
	float *wts;                /* (S,B) attention weights scratch */
	float *Me, *Mf;            /* (T,B,E), (T,B,H) dropout masks (scales) */
	float *Fd;                 /* (B,H) f with dropout, scratch */

	/* metrics */
	double m_loss, m_free;
	size_t m_n, m_nfree, m_ok, m_okfree;
} s2s;

/* One step forward over Bn rows: st->x must already hold the input;
 * then the cell, attention over enc (S,Bn,He), f and the logits (Bn,V)
 * then softmax into p (Bn,V).  ctxv (Bn,He), u (Bn,H+He), f (Bn,H);
 * weights (S,Bn) or NULL; tmp (Bn,GH) scratch; fmask (Bn,H) or NULL: the
 * output dropout's scales (then d->Fd is scratch). */
int s2s_step_forward(s2s *d, sp_ctx *ctx, size_t Bn, size_t S, const float *enc,
		     const uint8_t *mask, const s2s_step *st, float *ctxv, float *u,
		     float *f, float *p, float *weights, float *tmp, const float *fmask);
/* The initial state s(-1) of Bn rows from enc (S,Bn,He) into s (Bn,H),
 * the masked mean into mean (Bn,He). */
void s2s_init_state(s2s *d, size_t Bn, size_t S, const float *enc, const uint8_t *mask,
		    float *mean, float *s);
/* x (Bn,I) = [ emb(id) ; fprev ] (fprev NULL = zeros). */
void s2s_make_input(const s2s *d, size_t Bn, const int32_t *id, const float *fprev, float *x);

/* sp_head_ops.generate */
int s2s_generate(void *self, sp_ctx *ctx, const sp_seq *h, const sp_gen_opts *opts,
		 sp_gen_fn emit, void *payload);

#endif /* SP_SEQ2SEQ_IMPL_H */
