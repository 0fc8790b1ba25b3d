/*
 * sp_params.c: the parameter arenas of a job, the weights bound into
 * them, pretrained word vectors and the weights of a model file.
 */
#include "config.h"

#include "sp_params.h"

#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sp_job.h"
#include "sp_report.h"

void sp_params_fini(sp_params *p)
{
	free(p->value);
	free(p->grad);
	free(p->frozen_copy);
	memset(p, 0, sizeof(*p));
}

void sp_params_freeze_grad(sp_params *p)
{
	if (p->frozen_grad)
		memset(p->frozen_grad, 0, p->frozen_n * sizeof(float));
}

void sp_params_freeze_restore(sp_params *p)
{
	if (p->frozen)
		memcpy(p->frozen, p->frozen_copy, p->frozen_n * sizeof(float));
}

size_t sp_weight_floats(const sp_weight *w)
{
	size_t n = 1;
	for (int d = 0; d < w->ndim; d++)
		n *= w->dim[d];
	return n;
}

void sp_params_tensor_name(char *buf, size_t size, const sp_stage *s, const sp_weight *w)
{
	if (sp_stack_is(s->comp))
		snprintf(buf, size, "%s", w->name);
	else
		snprintf(buf, size, "%s.%s", s->section, w->name);
}

int sp_params_check_causal(const sp_job *j, const void *model)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	if (sp_task_next_token(&j->st.task) && SP_HAS_OP(sp_model_ops, m, sees_future) &&
	    m->sees_future(model))
		return sp_err(j->ctx, SP_EINVAL, "%s: model '%s' reads the sequence backwards too, so it would see the token it must predict; expected a one-directional model for head '%s'",
			      sp_kv_section_where(j->st.model.kv), j->st.model.comp->name, j->st.head.comp->name);
	return SP_OK;
}

int sp_params_check_weights(sp_ctx *ctx, const char *where, const char *comp,
			    const sp_weight *w, size_t n, size_t *out_floats)
{
	size_t total = 0;
	for (size_t k = 0; k < n; k++) {
		size_t floats = 1;
		const char *name = w[k].name;
		if (!name || !*name)
			return sp_err(ctx, SP_EINVAL, "%s: '%s' declares weight %zu without a name, expected a stable checkpoint key",
				      where, comp, k);
		if (w[k].ndim < 1 || w[k].ndim > 4)
			return sp_err(ctx, SP_EINVAL, "%s: '%s' declares weight '%s' of rank %d, expected 1..4",
				      where, comp, name, w[k].ndim);
		for (int d = 0; d < w[k].ndim; d++) {
			if (w[k].dim[d] == 0)
				return sp_err(ctx, SP_EINVAL, "%s: '%s' declares weight '%s' with size 0 in dimension %d, expected > 0",
					      where, comp, name, d);
			if (floats > SIZE_MAX / sizeof(float) / w[k].dim[d])
				return sp_err(ctx, SP_EINVAL, "%s: '%s' declares weight '%s' too large to address, expected fewer values",
					      where, comp, name);
			floats *= w[k].dim[d];
		}
		for (size_t i = 0; i < k; i++)
			if (w[i].name && !strcmp(w[i].name, name))
				return sp_err(ctx, SP_EINVAL, "%s: '%s' declares weight '%s' twice, expected unique names (they key the model file)",
					      where, comp, name);
		if (total > SIZE_MAX / sizeof(float) - floats)
			return sp_err(ctx, SP_EINVAL, "%s: '%s' declares weights too large to address, expected fewer values",
				      where, comp);
		total += floats;
	}
	*out_floats = total;
	return SP_OK;
}

/* One value arena and its mirrored gradient arena for every weight of
 * the model and the head, each stage's weights bound in order. */
static int bind_arenas(sp_job *j)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	const sp_head_ops *h = sp_head_of(&j->st);
	sp_stage *st[2] = {&j->st.model, &j->st.head};
	int rc;
	j->par.n_params = 0;
	for (int s = 0; s < 2; s++) {
		st[s]->offset = j->par.n_params;
		if ((rc = sp_params_check_weights(j->ctx, sp_kv_section_where(st[s]->kv),
						  st[s]->comp->name, st[s]->w, st[s]->n_w,
						  &st[s]->n_floats)) < 0)
			return rc;
		if (j->par.n_params > SIZE_MAX / sizeof(float) - st[s]->n_floats)
			return sp_err(j->ctx, SP_EINVAL, "%s: the weights are too large to address",
				      sp_kv_section_where(st[s]->kv));
		j->par.n_params += st[s]->n_floats;
	}
	j->par.value = calloc(j->par.n_params ? j->par.n_params : 1, sizeof(float));
	j->par.grad = calloc(j->par.n_params ? j->par.n_params : 1, sizeof(float));
	if (!j->par.value || !j->par.grad)
		return sp_err(j->ctx, SP_ENOMEM, "out of memory for %zu parameters", j->par.n_params);
	for (int s = 0; s < 2; s++) {
		float **v = calloc(st[s]->n_w + 1, sizeof(*v));
		float **g = calloc(st[s]->n_w + 1, sizeof(*g));
		size_t off = st[s]->offset;
		if (!v || !g) {
			free(v);
			free(g);
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		}
		for (size_t k = 0; k < st[s]->n_w; k++) {
			v[k] = j->par.value + off;
			g[k] = j->par.grad + off;
			off += sp_weight_floats(&st[s]->w[k]);
		}
		rc = s == 0 ? m->bind(j->st.model.self, v, g) : h->bind(j->st.head.self, v, g);
		free(v);
		free(g);
		if (rc < 0)
			return rc;
	}
	return SP_OK;
}

int sp_params_build(sp_job *j)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	const sp_head_ops *h = sp_head_of(&j->st);
	sp_head_env env;
	int rc;

	rc = sp_job_model_create(j, &j->st.model.self, sp_vocab_size(j->data.vocab));
	if (rc < 0)
		return rc;
	if ((rc = sp_params_check_causal(j, j->st.model.self)) < 0)
		return rc;
	memset(&env, 0, sizeof(env));
	env.size = sizeof(env);
	env.input = j->data.vocab;
	env.labels = j->data.labels;
	env.n_outputs = j->data.n_known;
	rc = h->create(&j->st.head.self, j->ctx, j->st.head.kv, m->out_dim(j->st.model.self), &env);
	if (rc < 0)
		return rc;
	if ((rc = m->weights(j->st.model.self, &j->st.model.w, &j->st.model.n_w)) < 0 ||
	    (rc = h->weights(j->st.head.self, &j->st.head.w, &j->st.head.n_w)) < 0)
		return rc;
	if ((rc = bind_arenas(j)) < 0)
		return rc;
	sp_batchbuf_shape(&j->buf, sp_vocab_size(j->data.vocab), m->out_dim(j->st.model.self),
			  sp_task_one_target(&j->st.task));
	j->buf.seq_target = j->st.task.labels == SP_LABELS_SEQUENCE;
	if ((rc = m->init(j->st.model.self, j->ctx)) < 0 ||
	    (rc = h->init(j->st.head.self, j->ctx)) < 0)
		return rc;
	return SP_OK;
}

/* The model's embedding table, the (V, E) weight its embedding op names,
 * or NULL. */
static float *find_embedding(sp_job *j, size_t *out_e, float **out_grad)
{
	const sp_model_ops *m = sp_model_of(&j->st);
	size_t off = j->st.model.offset;
	const sp_weight *w;
	int k;
	if (!SP_HAS_OP(sp_model_ops, m, embedding) || (k = m->embedding(j->st.model.self)) < 0 ||
	    (size_t)k >= j->st.model.n_w)
		return NULL;
	for (int i = 0; i < k; i++)
		off += sp_weight_floats(&j->st.model.w[i]);
	w = &j->st.model.w[k];
	if (w->ndim != 2 || w->dim[0] != sp_vocab_size(j->data.vocab))
		return NULL;
	*out_e = w->dim[1];
	if (out_grad)
		*out_grad = j->par.grad + off;
	return j->par.value + off;
}

/* One line of a vectors file, cut in place: 1 with its word in *word and
 * its E numbers in vec, 0 for a line to skip (empty, word2vec's header),
 * or a negative code. */
static int vector_line(sp_ctx *ctx, const char *path, size_t lineno, char *p,
		       size_t E, float *vec, char **word)
{
	char *end, *line = p;
	size_t n;
	p[strcspn(p, "\r\n")] = '\0';
	if (!*p)
		return 0;
	*word = p;
	p = strchr(p, ' ');
	if (!p)
		return sp_err(ctx, SP_EINPUT, "%s:%zu: expected a word followed by %zu numbers", path, lineno, E);
	*p++ = '\0';
	if (lineno == 1) {
		/* word2vec's header line: "<count> <dimension>" */
		char *e1, *e2;
		long a = strtol(*word, &e1, 10), b = strtol(p, &e2, 10);
		if (*e1 == '\0' && *e2 == '\0' && a > 0 && b > 0) {
			if ((size_t)b != E)
				return sp_err(ctx, SP_EINPUT, "%s:1: vectors of dimension %ld, expected %zu ([model] embed)",
					      path, b, E);
			return 0;
		}
	}
	for (n = 0; n < E; n++) {
		while (*p == ' ' || *p == '\t')
			p++;
		errno = 0;
		vec[n] = strtof(p, &end);
		if (end != p && !isfinite(vec[n]))
			return sp_err(ctx, SP_EINPUT, "%s:%zu:%zu: expected a finite number, got '%.*s' (word '%s')",
				      path, lineno, (size_t)(p - line) + 1,
				      (int)(end - p < 40 ? end - p : 40), p, *word);
		if (end == p || errno)
			break;
		p = end;
	}
	while (*p == ' ')
		p++;
	if (n != E || *p)
		return sp_err(ctx, SP_EINPUT, "%s:%zu: '%s' has %s %zu numbers, expected %zu ([model] embed)",
			      path, lineno, *word, n < E ? "only" : "more than", n, E);
	return 1;
}

/* The ceiling of one line of a vectors file (a file that is /dev/zero
 * must not be read into memory): room for 10,000 numbers. */
#define SP_VECTORS_MAX_LINE (1 << 20)

/* Reads the vectors of f into the rows of emb (V, E) of the words the
 * vocabulary has; *found counts them. */
static int read_vectors(sp_job *j, FILE *f, const char *path, float *emb,
			size_t E, size_t *found)
{
	size_t lineno = 0, cap = SP_VECTORS_MAX_LINE + 2;
	char *line = malloc(cap), *word = NULL;
	float *vec = malloc(E * sizeof(*vec));
	uint8_t *seen = calloc(sp_vocab_size(j->data.vocab), 1);
	int rc = SP_OK;
	if (!line || !vec || !seen) {
		rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
		goto done;
	}
	while (fgets(line, (int)cap, f)) {
		int32_t id;
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = sp_err(j->ctx, SP_EINPUT, "%s:%zu: line longer than %d bytes, the ceiling of a vectors line",
				    path, lineno, SP_VECTORS_MAX_LINE);
			break;
		}
		if ((rc = vector_line(j->ctx, path, lineno, line, E, vec, &word)) <= 0) {
			if (rc < 0)
				break;
			continue;
		}
		rc = SP_OK;
		id = sp_vocab_id(j->data.vocab, word, strlen(word));
		if (id >= 0 && seen[id]) {
			rc = sp_err(j->ctx, SP_EINPUT, "%s:%zu: '%s' appears twice, expected each word once",
				    path, lineno, word);
			break;
		}
		if (id >= 0) {
			memcpy(emb + (size_t)id * E, vec, E * sizeof(*vec));
			seen[id] = 1;
			(*found)++;
		}
	}
done:
	free(line);
	free(vec);
	free(seen);
	return rc;
}

/*
 * Pretrained word vectors: each line of the file is a word and its E
 * numbers (GloVe); a first line of two integers (count, E) is word2vec's
 * header.  Rows of vocabulary words found in the file are overwritten;
 * the others keep their random initial values, and are counted.
 */
int sp_params_load_vectors(sp_job *j)
{
	const char *path = sp_kv_str(j->st.enc.kv, "vectors");
	size_t V = sp_vocab_size(j->data.vocab), E = 0, found = 0;
	float *emb, *grad = NULL;
	FILE *f;
	int rc;
	if (!path || !*path)
		return SP_OK;
	emb = find_embedding(j, &E, &grad);
	if (!emb)
		return sp_err(j->ctx, SP_EINVAL, "%s: the model has no embedding table, expected [model] embed = <size> for pretrained vectors",
			      sp_kv_where(j->st.enc.kv, "vectors"));
	f = fopen(path, "r");
	if (!f)
		return sp_err(j->ctx, SP_EIO, "%s: cannot open: %s", path, strerror(errno));
	rc = read_vectors(j, f, path, emb, E, &found);
	fclose(f);
	if (rc < 0)
		return rc;
	sp_say(j->out, "vectors: %zu of %zu vocabulary entries found in %s; %zu keep their random start%s\n",
	       found, V, path, V - found, sp_kv_bool(j->st.enc.kv, "freeze") ? " (frozen)" : "");
	sp_observe_metric(&j->obs, j->ctx, -1, NULL, "vectors_found", (double)found);
	sp_observe_metric(&j->obs, j->ctx, -1, NULL, "vectors_missing", (double)(V - found));
	if (sp_kv_bool(j->st.enc.kv, "freeze")) {
		/* a copy too: decoupled weight decay (adamw) moves weights
		 * even without a gradient */
		j->par.frozen = emb;
		j->par.frozen_grad = grad;
		j->par.frozen_n = V * E;
		j->par.frozen_copy = malloc(j->par.frozen_n * sizeof(float));
		if (!j->par.frozen_copy)
			return sp_err(j->ctx, SP_ENOMEM, "out of memory");
		memcpy(j->par.frozen_copy, emb, j->par.frozen_n * sizeof(float));
	}
	return SP_OK;
}

int sp_params_load(sp_job *j, sp_modelfile *mf)
{
	sp_stage *st[2] = {&j->st.model, &j->st.head};
	for (int s = 0; s < 2; s++) {
		size_t off = st[s]->offset;
		for (size_t k = 0; k < st[s]->n_w; k++) {
			const sp_weight *w = &st[s]->w[k];
			char name[256];
			int rc;
			const float *data;
			sp_params_tensor_name(name, sizeof(name), st[s], w);
			rc = sp_modelfile_tensor_expect(&data, mf, j->ctx, name, w->ndim, w->dim);
			if (rc < 0)
				return rc;
			memcpy(j->par.value + off, data, sp_weight_floats(w) * sizeof(float));
			off += sp_weight_floats(w);
		}
	}
	return SP_OK;
}

/* The weights model and head (created on a stand-in vocabulary)
 * declare, as sp_params_build will bind them. */
static int check_declared(sp_job *j, const void *model, const void *head)
{
	const sp_weight *w;
	size_t n, floats;
	int rc;
	if ((rc = sp_model_of(&j->st)->weights(model, &w, &n)) < 0 ||
	    (rc = sp_params_check_weights(j->ctx, sp_kv_section_where(j->st.model.kv),
					  j->st.model.comp->name, w, n, &floats)) < 0 ||
	    (rc = sp_head_of(&j->st)->weights(head, &w, &n)) < 0 ||
	    (rc = sp_params_check_weights(j->ctx, sp_kv_section_where(j->st.head.kv),
					  j->st.head.comp->name, w, n, &floats)) < 0)
		return rc;
	return SP_OK;
}

int sp_params_check(sp_job *j)
{
	/* the model's and head's own checks of their values, on a stand-in
	 * vocabulary */
	void *self = NULL, *head = NULL;
	sp_vocab *v = NULL;
	sp_head_env env;
	static const char *const toks[] = {"a", "b", "c", "d"};
	int rc;
	if ((rc = sp_vocab_new(&v)) < 0)
		rc = sp_err(j->ctx, rc, "vocabulary: out of memory");
	for (int i = 0; i < 4 && rc >= 0; i++)
		rc = sp_vocab_add(v, j->ctx, toks[i], 1, 1, NULL);
	/* a target vocabulary (translation) needs <bos> and <eos> */
	if (rc >= 0 && j->st.task.labels == SP_LABELS_SEQUENCE &&
	    (rc = sp_vocab_set_special(v, j->ctx, SP_SPECIAL_BOS, 2)) >= 0)
		rc = sp_vocab_set_special(v, j->ctx, SP_SPECIAL_EOS, 3);
	if (rc >= 0)
		rc = sp_job_model_create(j, &self, 4);
	if (rc >= 0)
		rc = sp_params_check_causal(j, self);
	if (rc >= 0) {
		memset(&env, 0, sizeof(env));
		env.size = sizeof(env);
		env.input = v;
		env.labels = v;
		rc = sp_head_of(&j->st)->create(&head, j->ctx, j->st.head.kv,
						sp_model_of(&j->st)->out_dim(self), &env);
	}
	if (rc >= 0)
		rc = check_declared(j, self, head);
	if (rc >= 0 && j->st.n_more)
		rc = sp_stack_probe(self, j->ctx, 4);
	sp_head_of(&j->st)->destroy(head);
	sp_model_of(&j->st)->destroy(self);
	sp_vocab_free(v);
	return rc;
}
