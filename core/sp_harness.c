/*
 * sp_harness.c: the component test harness (sp_harness.h): one plugin's
 * models and heads, each alone on a tiny padded batch, their gradients
 * checked by central differences.  What it is not: a test of the host's
 * wiring (the runner) or of a component's numbers against a reference.
 */
#include "config.h"

#include "sp_harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_kv_host.h"
#include "sp_vocab.h"

/* One run of checks: where lines go and how many failed. */
typedef struct tap {
	FILE *out;
	size_t n, failed;
	sp_ctx *ctx;
	int first_failure_set;
} tap;

static void line_(tap *t, int good, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void line_(tap *t, int good, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->n++;
	fprintf(t->out, "%s %zu - %s\n", good ? "ok" : "not ok", t->n, msg);
	if (!good) {
		t->failed++;
		if (!t->first_failure_set) {
			/* the context's message is the first failure, kept
			 * apart from the errors the components set */
			t->first_failure_set = 1;
			sp_err(t->ctx, SP_ERROR, "%s", msg);
		}
	}
}

/* The component under test, as the host sees it. */
typedef struct unit {
	const char *label;      /* "rnn.lstm" */
	const sp_component *c;
	void *self;
	size_t n_w;
	const sp_weight *w;
	float *value, *grad;    /* the arenas */
	float **vp, **gp;       /* per weight */
	size_t total;
	uint64_t rng[4];        /* restored before every forward */
	/* the batch */
	size_t T, B, D, out;
	float *x, *dx, *r;      /* input, its gradient, model's R / head's dh */
	uint8_t *mask;
	int32_t *len, *lab;
	sp_labels y;
	double scale;           /* head: the n_loss of the first forward */
	int32_t *cp, *nc;       /* each token's characters, for a model that
				   reads them (sp_model_ops.chars) */
	size_t C;
} unit;

/* A value for a required key: small, so the checks stay fast. */
static const char *required_value_(const sp_param_spec *s, char *buf, size_t n)
{
	switch (s->type) {
	case SP_T_INT: return "3";
	case SP_T_FLOAT: return "0.5";
	case SP_T_BOOL: return "false";
	default:
		if (s->choices) {
			size_t k = strcspn(s->choices, "|");
			snprintf(buf, n, "%.*s", (int)k, s->choices);
			return buf;
		}
		return NULL;
	}
}

/* Applies the opts' sets meant for `section` to kv. */
static int apply_sets_(sp_kv *kv, sp_ctx *ctx, const sp_param_spec *spec,
		       const char *section, const sp_harness_opts *o)
{
	for (size_t i = 0; i < o->n_sets; i++) {
		const char *s = o->sets[i], *eq = strchr(s, '='), *key = s, *dot;
		char k[128];
		size_t n;
		int known = 0;
		if (!eq)
			return sp_err(ctx, SP_EINVAL, "--set %s: expected KEY=VALUE", s);
		dot = memchr(s, '.', (size_t)(eq - s));
		if (dot) {
			if (strncmp(s, section, (size_t)(dot - s)) != 0 ||
			    strlen(section) != (size_t)(dot - s))
				continue;
			key = dot + 1;
		}
		n = (size_t)(eq - key);
		if (n >= sizeof(k))
			continue;
		memcpy(k, key, n);
		k[n] = '\0';
		for (size_t j = 0; spec[j].key; j++)
			known |= strcmp(spec[j].key, k) == 0;
		if (!known && !dot)
			continue; /* a bare key is for the components that have it */
		if (sp_kv_set(kv, ctx, k, eq + 1, 0, "--set") < 0)
			return sp_err_prefix(ctx, SP_EINVAL, "--set %s", s);
	}
	return SP_OK;
}

/* The component's keys: its defaults, small values for required ones,
 * and the sets (caller frees *out). */
static int make_args_(sp_kv **out, sp_ctx *ctx, const sp_component *c,
		      const char *section, const sp_harness_opts *o)
{
	sp_kv *kv;
	int rc = sp_kv_new(&kv, section);
	*out = NULL;
	if (rc < 0)
		return sp_err(ctx, SP_ENOMEM, "harness: out of memory");
	for (size_t j = 0; c->params[j].key && rc >= 0; j++) {
		char buf[64];
		const char *v;
		if (c->params[j].def)
			continue;
		v = required_value_(&c->params[j], buf, sizeof(buf));
		if (!v)
			rc = sp_err(ctx, SP_EINVAL,
				    "%s: required key '%s' has no default the harness can guess: give it with --set %s=VALUE",
				    c->name, c->params[j].key, c->params[j].key);
		else
			rc = sp_kv_set(kv, ctx, c->params[j].key, v, 0, "harness");
	}
	if (rc >= 0)
		rc = apply_sets_(kv, ctx, c->params, section, o);
	if (rc >= 0)
		rc = sp_kv_validate(kv, ctx, c->params, ".");
	if (rc < 0) {
		sp_kv_free(kv);
		return rc;
	}
	*out = kv;
	return SP_OK;
}

static void unit_free_(unit *u)
{
	free(u->value);
	free(u->grad);
	free(u->vp);
	free(u->gp);
	free(u->x);
	free(u->dx);
	free(u->r);
	free(u->mask);
	free(u->len);
	free(u->lab);
	free(u->cp);
	free(u->nc);
}

/* Random characters for every real token (1..C letters, some outside
 * ASCII), when the model reads them. */
static int chars_(unit *u, sp_ctx *ctx)
{
	static const int32_t pool[] = {'a', 'e', 'k', 'S', '#', '@', '7', 0xe9, 0x4e2d, 0x1f600};
	size_t TB = u->T * u->B, np = sizeof(pool) / sizeof(pool[0]);
	u->C = 5;
	u->cp = calloc(TB * u->C, sizeof(*u->cp));
	u->nc = calloc(TB, sizeof(*u->nc));
	if (!u->cp || !u->nc)
		return sp_err(ctx, SP_ENOMEM, "harness: out of memory");
	for (size_t i = 0; i < TB; i++) {
		if (!u->mask[i])
			continue;
		u->nc[i] = 1 + (int32_t)(sp_rng_next(ctx) % u->C);
		for (int32_t k = 0; k < u->nc[i]; k++)
			u->cp[i * u->C + (size_t)k] = pool[sp_rng_next(ctx) % np];
	}
	return SP_OK;
}

/* Allocates the arenas for the declared weights after checking them;
 * a bad declaration is a failed check, not a crash. */
static int arenas_(unit *u, tap *t, sp_ctx *ctx)
{
	size_t off = 0;
	for (size_t i = 0; i < u->n_w; i++) {
		const sp_weight *w = &u->w[i];
		size_t n = 1;
		if (!w->name || w->ndim < 1 || w->ndim > 4) {
			line_(t, 0, "%s: weight %zu declares ndim %d, expected 1..4",
			      u->label, i, w->ndim);
			return SP_EINVAL;
		}
		for (int d = 0; d < w->ndim; d++) {
			if (w->dim[d] == 0 || n > ((size_t)1 << 40) / w->dim[d]) {
				line_(t, 0, "%s: weight '%s' has a zero or huge dimension",
				      u->label, w->name);
				return SP_EINVAL;
			}
			n *= w->dim[d];
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(u->w[k].name, w->name) == 0) {
				line_(t, 0, "%s: weight name '%s' declared twice",
				      u->label, w->name);
				return SP_EINVAL;
			}
		off += n;
	}
	u->total = off;
	u->value = calloc(off ? off : 1, sizeof(float));
	u->grad = calloc(off ? off : 1, sizeof(float));
	u->vp = calloc(u->n_w + 1, sizeof(float *));
	u->gp = calloc(u->n_w + 1, sizeof(float *));
	if (!u->value || !u->grad || !u->vp || !u->gp)
		return sp_err(ctx, SP_ENOMEM, "harness: out of memory");
	off = 0;
	for (size_t i = 0; i < u->n_w; i++) {
		size_t n = 1;
		for (int d = 0; d < u->w[i].ndim; d++)
			n *= u->w[i].dim[d];
		u->vp[i] = u->value + off;
		u->gp[i] = u->grad + off;
		off += n;
	}
	return SP_OK;
}

/* The padded batch: row b has T - b real steps (at least 1); x and R
 * random where real, 0 at padding. */
static int batch_(unit *u, sp_ctx *ctx, size_t width_x, size_t width_r)
{
	size_t TB = u->T * u->B;
	u->x = calloc(TB * width_x, sizeof(float));
	u->dx = calloc(TB * width_x, sizeof(float));
	u->r = calloc(TB * (width_r ? width_r : 1), sizeof(float));
	u->mask = calloc(TB, 1);
	u->len = calloc(u->B, sizeof(int32_t));
	u->lab = calloc(TB, sizeof(int32_t));
	if (!u->x || !u->dx || !u->r || !u->mask || !u->len || !u->lab)
		return sp_err(ctx, SP_ENOMEM, "harness: out of memory");
	for (size_t b = 0; b < u->B; b++)
		u->len[b] = (int32_t)(u->T > b ? u->T - b : 1);
	for (size_t t = 0; t < u->T; t++)
		for (size_t b = 0; b < u->B; b++) {
			size_t row = t * u->B + b;
			if ((int32_t)t >= u->len[b])
				continue;
			u->mask[row] = 1;
			for (size_t k = 0; k < width_x; k++)
				u->x[row * width_x + k] = (float)sp_rng_normal(ctx);
			for (size_t k = 0; k < width_r; k++)
				u->r[row * width_r + k] = (float)sp_rng_normal(ctx);
		}
	return SP_OK;
}

static void seq_(sp_seq *s, const unit *u, float *x, size_t D)
{
	memset(s, 0, sizeof(*s));
	s->T = u->T;
	s->B = u->B;
	s->D = D;
	s->x = x;
	s->mask = u->mask;
	s->len = u->len;
}

/* ---- models ---------------------------------------------------------- */

/* L = sum(y * R) of a training forward from the saved RNG state. */
static int model_loss_(unit *u, sp_ctx *ctx, double *out)
{
	const sp_model_ops *o = (const sp_model_ops *)u->c;
	sp_seq x, y;
	double L = 0;
	int rc;
	seq_(&x, u, u->x, u->D);
	memset(&y, 0, sizeof(y));
	sp_rng_set_state(ctx, u->rng);
	if (u->cp) {
		sp_chars ch = {sizeof(sp_chars), u->T, u->B, u->C, u->cp, u->nc};
		if ((rc = o->chars(u->self, ctx, &ch)) < 0)
			return rc;
	}
	if ((rc = o->forward(u->self, ctx, &x, &y, 1)) < 0)
		return rc;
	if (!y.x || y.T != u->T || y.B != u->B || y.D != u->out)
		return sp_err(ctx, SP_EINVAL,
			      "%s: forward gave a (%zu,%zu,%zu) output, expected (%zu,%zu,%zu) from out_dim",
			      u->label, y.T, y.B, y.D, u->T, u->B, u->out);
	for (size_t i = 0; i < u->T * u->B * u->out; i++)
		L += (double)y.x[i] * u->r[i];
	*out = L;
	return SP_OK;
}

static int head_loss_(unit *u, sp_ctx *ctx, double *out);

/* Central differences over at most max_checks entries of v against g;
 * prints one line. */
static int fd_check_(unit *u, tap *t, sp_ctx *ctx, const sp_harness_opts *o,
		     const char *what, float *v, const float *g, size_t n,
		     const uint8_t *skip_rows, size_t row_width)
{
	size_t step = n > o->max_checks ? n / o->max_checks : 1, checked = 0, worst = 0;
	double max_rel = 0, an = 0, nu = 0;
	int head = u->c->kind == SP_KIND_HEAD;
	for (size_t i = 0; i < n; i += step) {
		float keep = v[i];
		double lp, lm, num, rel;
		int rc;
		if (skip_rows && !skip_rows[i / row_width])
			continue; /* a padded step's input: no gradient expected */
		v[i] = keep + (float)o->eps;
		rc = head ? head_loss_(u, ctx, &lp) : model_loss_(u, ctx, &lp);
		v[i] = keep - (float)o->eps;
		if (rc >= 0)
			rc = head ? head_loss_(u, ctx, &lm) : model_loss_(u, ctx, &lm);
		v[i] = keep;
		if (rc < 0) {
			line_(t, 0, "%s: %s: a forward failed: %s", u->label, what,
			      sp_errmsg(ctx));
			return SP_OK;
		}
		num = (lp - lm) / (double)((keep + (float)o->eps) - (keep - (float)o->eps));
		rel = fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), 1e-2);
		if (rel > max_rel || checked == 0) {
			max_rel = rel;
			worst = i;
			an = g[i];
			nu = num;
		}
		checked++;
	}
	if (max_rel <= o->tolerance && isfinite(max_rel))
		line_(t, 1, "%s: %s max_rel=%.1e (%zu entries)", u->label, what,
		      max_rel, checked);
	else
		line_(t, 0, "%s: %s max_rel=%.1e at [%zu]: backward %.6g, finite differences %.6g",
		      u->label, what, max_rel, worst, an, nu);
	return SP_OK;
}

/* Every declared weight's gradient, one line each. */
static void check_weights_(unit *u, tap *t, sp_ctx *ctx,
			   const sp_harness_opts *o)
{
	for (size_t i = 0; i < u->n_w; i++) {
		size_t n = 1;
		char what[160];
		for (int d = 0; d < u->w[i].ndim; d++)
			n *= u->w[i].dim[d];
		snprintf(what, sizeof(what), "d%s", u->w[i].name);
		fd_check_(u, t, ctx, o, what, u->vp[i], u->gp[i], n, NULL, 1);
	}
}

static int check_model_(unit *u, tap *t, sp_ctx *ctx, const sp_harness_opts *o)
{
	const sp_model_ops *mo = (const sp_model_ops *)u->c;
	sp_seq dy, dx;
	double L;
	int rc;

	u->out = mo->out_dim(u->self);
	if ((rc = batch_(u, ctx, u->D, u->out)) < 0 ||
	    (SP_HAS_OP(sp_model_ops, mo, chars) && (rc = chars_(u, ctx)) < 0))
		return rc;
	sp_rng_get_state(ctx, u->rng);
	rc = model_loss_(u, ctx, &L);
	if (rc >= 0) {
		seq_(&dy, u, u->r, u->out);
		memset(&dx, 0, sizeof(dx));
		rc = mo->backward(u->self, ctx, &dy, &dx);
	}
	line_(t, rc >= 0 && isfinite(L), "%s: training forward and backward on a (%zu,%zu,%zu) padded batch%s%s",
	      u->label, u->T, u->B, u->D, rc < 0 ? ": " : "", rc < 0 ? sp_errmsg(ctx) : "");
	if (rc < 0 || !isfinite(L))
		return SP_OK;
	if (dx.x)
		memcpy(u->dx, dx.x, u->T * u->B * u->D * sizeof(float));
	check_weights_(u, t, ctx, o);
	if (!dx.x)
		line_(t, 0, "%s: backward gave no dx for a dense input", u->label);
	else
		fd_check_(u, t, ctx, o, "dx", u->x, u->dx, u->T * u->B * u->D,
			  u->mask, u->D);
	return SP_OK;
}

/* ---- heads ------------------------------------------------------------ */

/* loss / scale of a training forward from the saved RNG state. */
static int head_loss_(unit *u, sp_ctx *ctx, double *out)
{
	const sp_head_ops *o = (const sp_head_ops *)u->c;
	sp_seq h;
	double loss = 0;
	size_t n = 0;
	int rc;
	seq_(&h, u, u->x, u->D);
	sp_rng_set_state(ctx, u->rng);
	if ((rc = o->forward(u->self, ctx, &h, &u->y, &loss, &n, 1)) < 0)
		return rc;
	*out = loss / u->scale;
	return SP_OK;
}

/* Random tags form a valid IOB2 sequence, so that a head which refuses
 * impossible sequences (crf, constrain = true) can be checked too: an
 * I-X (the tags of check_component_: 2 = I-PER, 4 = I-LOC) not after B-X or I-X
 * becomes B-X. */
static void iob2_fix_(unit *u)
{
	for (size_t t = 0; t < u->T; t++)
		for (size_t b = 0; b < u->B; b++) {
			int32_t *id = &u->lab[t * u->B + b];
			int32_t prev = t ? u->lab[(t - 1) * u->B + b] : -1;
			if (*id >= 2 && *id % 2 == 0 && prev != *id && prev != *id - 1)
				*id -= 1;
		}
}

/* Labels for the head's target kind, from its label set of n ids. */
static void labels_(unit *u, sp_ctx *ctx, sp_target target, size_t n)
{
	memset(&u->y, 0, sizeof(u->y));
	u->y.B = u->B;
	u->y.id = u->lab;
	if (target == SP_TARGET_CLASS) {
		u->y.T = 1;
		for (size_t b = 0; b < u->B; b++)
			u->lab[b] = (int32_t)sp_rng_below(ctx, n);
		return;
	}
	u->y.T = u->T;
	u->y.mask = u->mask;
	for (size_t i = 0; i < u->T * u->B; i++)
		u->lab[i] = u->mask[i] ? (int32_t)sp_rng_below(ctx, n) : -1;
	if (target == SP_TARGET_TAGS)
		iob2_fix_(u);
}

static int check_head_(unit *u, tap *t, sp_ctx *ctx, const sp_harness_opts *o)
{
	const sp_head_ops *ho = (const sp_head_ops *)u->c;
	sp_seq h, dh;
	double loss = 0;
	size_t n = 0;
	int rc;

	seq_(&h, u, u->x, u->D);
	sp_rng_get_state(ctx, u->rng);
	rc = ho->forward(u->self, ctx, &h, &u->y, &loss, &n, 1);
	u->scale = n ? (double)n : 1.0;
	if (rc >= 0) {
		seq_(&dh, u, u->dx, u->D);
		rc = ho->backward(u->self, ctx, u->scale, &dh);
	}
	line_(t, rc >= 0 && isfinite(loss) && n > 0,
	      "%s: training forward and backward on a (%zu,%zu,%zu) padded batch (loss %.4g over %zu targets)%s%s",
	      u->label, u->T, u->B, u->D, loss, n, rc < 0 ? ": " : "",
	      rc < 0 ? sp_errmsg(ctx) : "");
	if (rc < 0 || !isfinite(loss) || n == 0)
		return SP_OK;
	check_weights_(u, t, ctx, o);
	fd_check_(u, t, ctx, o, "dh", u->x, u->dx, u->T * u->B * u->D, u->mask, u->D);
	return SP_OK;
}

/* A vocabulary of n tokens "<prefix><i>" or of the given names. */
static int vocab_(sp_vocab **out, sp_ctx *ctx, const char *const *names, size_t n)
{
	int rc = sp_vocab_new(out);
	if (rc < 0)
		return sp_err(ctx, SP_ENOMEM, "harness: out of memory");
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = sp_vocab_add(*out, ctx, names[i], strlen(names[i]), 1, NULL);
	return rc;
}

/* ---- one component ---------------------------------------------------- */

static int check_component_(tap *t, sp_ctx *ctx, const sp_plugin *p,
			    const sp_component *c, const sp_harness_opts *o)
{
	static const char *const words[] = {"<unk>", "a", "b", "c", "d", "e"};
	static const char *const tags[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
	static const char *const classes[] = {"neg", "neu", "pos"};
	char label[256];
	unit u;
	sp_kv *kv = NULL;
	sp_vocab *in = NULL, *lab = NULL;
	int head = c->kind == SP_KIND_HEAD, rc;

	memset(&u, 0, sizeof(u));
	snprintf(label, sizeof(label), "%s.%s", p->name, c->name);
	u.label = label;
	u.c = c;
	u.T = o->T;
	u.B = o->B;
	u.D = o->in_dim;
	sp_rng_seed(ctx, o->seed);
	rc = make_args_(&kv, ctx, c, head ? "head" : "model", o);
	if (rc >= 0 && head) {
		const sp_head_ops *ho = (const sp_head_ops *)c;
		sp_head_env env = {sizeof(sp_head_env), NULL, NULL, 0};
		rc = vocab_(&in, ctx, words, 6);
		if (rc >= 0) {
			if (ho->target == SP_TARGET_TAGS)
				rc = vocab_(&lab, ctx, tags, 5);
			else if (ho->target == SP_TARGET_CLASS)
				rc = vocab_(&lab, ctx, classes, 3);
			else if (ho->target != SP_TARGET_NEXT_TOKEN) {
				line_(t, 1, "%s: # SKIP target kind %d is not driven by the harness",
				      label, (int)ho->target);
				goto done;
			}
		}
		if (rc >= 0 && (rc = sp_vocab_set_special(in, ctx, SP_SPECIAL_UNK, 0)) >= 0) {
			env.input = in;
			env.labels = lab ? lab : in;
			rc = ho->create(&u.self, ctx, kv, u.D, &env);
		}
		if (rc >= 0) {
			rc = batch_(&u, ctx, u.D, 0);
			if (rc >= 0)
				labels_(&u, ctx, ho->target, sp_vocab_size(env.labels));
		}
	} else if (rc >= 0) {
		rc = ((const sp_model_ops *)c)->create(&u.self, ctx, kv, u.D);
	}
	if (rc >= 0) {
		/* weights, bind and init are the same ops in both tables */
		const sp_model_ops *mo = (const sp_model_ops *)c;
		const sp_head_ops *ho = (const sp_head_ops *)c;
		rc = head ? ho->weights(u.self, &u.w, &u.n_w) : mo->weights(u.self, &u.w, &u.n_w);
		if (rc >= 0 && (rc = arenas_(&u, t, ctx)) == SP_EINVAL) {
			rc = SP_OK;
			goto done; /* reported */
		}
		if (rc >= 0)
			rc = head ? ho->bind(u.self, u.vp, u.gp) : mo->bind(u.self, u.vp, u.gp);
		if (rc >= 0)
			rc = head ? ho->init(u.self, ctx) : mo->init(u.self, ctx);
	}
	line_(t, rc >= 0, "%s: created with default keys, %zu weights (%zu values) bound and initialised%s%s",
	      label, u.n_w, u.total, rc < 0 ? ": " : "", rc < 0 ? sp_errmsg(ctx) : "");
	if (rc >= 0)
		rc = head ? check_head_(&u, t, ctx, o) : check_model_(&u, t, ctx, o);
	if (rc == SP_ENOMEM)
		goto done;
	rc = SP_OK;
done:
	if (u.self)
		(head ? ((const sp_head_ops *)c)->destroy
		      : ((const sp_model_ops *)c)->destroy)(u.self);
	unit_free_(&u);
	sp_kv_free(kv);
	sp_vocab_free(in);
	sp_vocab_free(lab);
	return rc == SP_ENOMEM ? rc : SP_OK;
}

void sp_harness_opts_init(sp_harness_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->size = sizeof(*opts);
	opts->T = 4;
	opts->B = 3;
	opts->in_dim = 5;
	opts->seed = 1;
	opts->max_checks = 24;
	opts->eps = 1e-2;
	opts->tolerance = 1e-2;
}

int sp_harness_check_plugin(sp_ctx *ctx, const sp_plugin *p,
			    const sp_harness_opts *opts, FILE *out,
			    size_t *n_failed)
{
	sp_harness_opts o;
	tap t = {out, 0, 0, ctx, 0};
	int rc = SP_OK;

	sp_harness_opts_init(&o);
	/* a caller built against a smaller struct gets the defaults for
	 * the members it does not know */
	if (opts)
		memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
	o.size = sizeof(o);
	if (o.T == 0 || o.B == 0 || o.in_dim == 0 || o.max_checks == 0)
		return sp_err(ctx, SP_EINVAL, "harness: T, B, in_dim and max_checks must be > 0");
	for (size_t k = 0; p->components[k] && rc >= 0; k++) {
		const sp_component *c = p->components[k];
		if (c->kind == SP_KIND_MODEL || c->kind == SP_KIND_HEAD)
			rc = check_component_(&t, ctx, p, c, &o);
	}
	if (rc >= 0 && t.n == 0)
		line_(&t, 1, "%s: # SKIP no model or head component to check", p->name);
	fprintf(out, "1..%zu\n", t.n);
	if (n_failed)
		*n_failed = t.failed;
	if (rc < 0)
		return rc;
	return t.failed ? SP_ERROR : SP_OK;
}
