/*
 * sp_extras.c: named float arrays kept in a model file (sp_extras.h).
 */
#include "sp_extras.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "extra."

int sp_extras_set(sp_extras *x, sp_ctx *ctx, const char *name, const float *v, size_t n)
{
	sp_extra *e = NULL, *grown;
	float *copy;
	if (strlen(name) > SP_EXTRA_NAME_MAX)
		return sp_err(ctx, SP_EINVAL, "extra '%.40s...': a name of at most %d bytes expected",
			      name, SP_EXTRA_NAME_MAX);
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->e[i].name, name))
			e = &x->e[i];
	if (!(copy = malloc((n ? n : 1) * sizeof(*copy))))
		return sp_err(ctx, SP_ENOMEM, "out of memory for %zu floats of '%s'", n, name);
	if (n)
		memcpy(copy, v, n * sizeof(*copy));
	if (!e) {
		char *nm = strdup(name);
		grown = nm ? realloc(x->e, (x->n + 1) * sizeof(*x->e)) : NULL;
		if (!grown) {
			free(nm);
			free(copy);
			return sp_err(ctx, SP_ENOMEM, "out of memory for '%s'", name);
		}
		x->e = grown;
		e = &x->e[x->n++];
		e->name = nm;
		e->v = NULL;
	}
	free(e->v);
	e->v = copy;
	e->n = n;
	return SP_OK;
}

const float *sp_extras_get(const sp_extras *x, const char *name, size_t *n)
{
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->e[i].name, name)) {
			*n = x->e[i].n;
			return x->e[i].v;
		}
	*n = 0;
	return NULL;
}

void sp_extras_fini(sp_extras *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->e[i].name);
		free(x->e[i].v);
	}
	free(x->e);
	x->e = NULL;
	x->n = 0;
}

int sp_extras_write(const sp_extras *x, sp_modelfile_writer *w)
{
	for (size_t i = 0; i < x->n; i++) {
		char name[256];
		size_t dim = x->e[i].n;
		int rc;
		snprintf(name, sizeof(name), PREFIX "%s", x->e[i].name); /* fits: see set */
		if ((rc = sp_modelfile_writer_tensor(w, name, 1, &dim, x->e[i].v)) < 0)
			return rc;
	}
	return SP_OK;
}

int sp_extras_read(sp_extras *x, sp_ctx *ctx, const sp_modelfile *m)
{
	size_t count = sp_modelfile_count(m, SP_MODELFILE_TENSOR);
	for (size_t i = 0; i < count; i++) {
		const char *name = sp_modelfile_name(m, SP_MODELFILE_TENSOR, i);
		size_t dims[SP_MODELFILE_MAX_DIMS], n = 1;
		const float *v;
		int ndim, rc;
		if (!name || strncmp(name, PREFIX, strlen(PREFIX)))
			continue;
		if ((rc = sp_modelfile_tensor(&v, &ndim, dims, m, ctx, name)) < 0)
			return rc;
		for (int d = 0; d < ndim; d++)
			n *= dims[d];
		if ((rc = sp_extras_set(x, ctx, name + strlen(PREFIX), v, n)) < 0)
			return rc;
	}
	return SP_OK;
}
