/*
 * sp_kv.c: the key = value arguments of one stage: raw values as written
 * in a .pipe file or a --set override, then checked and converted against
 * a component's sp_param_spec list.
 *
 * This file knows the value types and their canonical text.  It does not
 * know the .pipe syntax (sp_pipe.c) nor any plugin (the host passes the
 * spec).  Entries stay in the order they were first set, so validation
 * reports the first bad line of a file first; `order` sorts them by key
 * for the iteration API, so that two files differing only in the order of
 * their lines log the same configuration.
 *
 * Numbers go through strtol/strtod, which read the C locale's decimal
 * point: the program must not switch LC_NUMERIC away from "C".
 */
#include "sp_kv_host.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_plugin.h"

typedef struct kv_entry {
	char *key;
	char *text;      /* the value as written (escapes decoded) */
	char *where;     /* where the value was written */
	char *key_where; /* where the key was written */
	int quoted;      /* written as a "string" */
	sp_type type;    /* 0 until validated */
	long i;
	double f;
	int b;
	char *canon;     /* canonical text once validated, else NULL */
} kv_entry;

struct sp_kv {
	char *section;
	char *section_where; /* NULL when unknown */
	kv_entry *e;         /* in the order keys were first set */
	size_t *order;       /* indices into e, sorted by key */
	size_t n, cap;
};

/* strdup is POSIX, not C11. */
static char *dup_(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static kv_entry *find_(const sp_kv *kv, const char *key)
{
	if (!kv || !key)
		return NULL;
	for (size_t i = 0; i < kv->n; i++)
		if (strcmp(kv->e[i].key, key) == 0)
			return &kv->e[i];
	return NULL;
}

static const kv_entry *at_(const sp_kv *kv, size_t i)
{
	if (!kv || i >= kv->n)
		return NULL;
	return &kv->e[kv->order[i]];
}

int sp_kv_new(sp_kv **out, const char *section)
{
	sp_kv *kv = NULL;
	*out = NULL;
	if (!section)
		return SP_EINVAL;
	kv = calloc(1, sizeof(*kv));
	if (!kv)
		goto fail;
	kv->section = dup_(section);
	if (!kv->section)
		goto fail;
	*out = kv;
	return SP_OK;
fail:
	sp_kv_free(kv);
	return SP_ENOMEM;
}

void sp_kv_free(sp_kv *kv)
{
	if (!kv)
		return;
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->e[i].key);
		free(kv->e[i].text);
		free(kv->e[i].where);
		free(kv->e[i].key_where);
		free(kv->e[i].canon);
	}
	free(kv->e);
	free(kv->order);
	free(kv->section);
	free(kv->section_where);
	free(kv);
}

/* Room for one more entry in both arrays. */
static int grow_(sp_kv *kv)
{
	size_t cap = kv->cap ? 2 * kv->cap : 8;
	kv_entry *e;
	size_t *order;
	if (kv->n < kv->cap)
		return SP_OK;
	e = realloc(kv->e, cap * sizeof(*e));
	if (!e)
		return SP_ENOMEM;
	kv->e = e;
	order = realloc(kv->order, cap * sizeof(*order));
	if (!order)
		return SP_ENOMEM;
	kv->order = order;
	kv->cap = cap;
	return SP_OK;
}

int sp_kv_set(sp_kv *kv, sp_ctx *ctx, const char *key, const char *text,
	      int quoted, const char *where)
{
	return sp_kv_set_at(kv, ctx, key, text, quoted, where, NULL);
}

int sp_kv_set_at(sp_kv *kv, sp_ctx *ctx, const char *key, const char *text,
		 int quoted, const char *where, const char *key_where)
{
	char *k = NULL, *t = NULL, *w = NULL, *kw = NULL;
	kv_entry *e;
	size_t pos;

	if (!kv || !key || !text)
		return sp_err(ctx, SP_EINVAL, "sp_kv_set: NULL argument");
	if (!where)
		where = "(unknown)";
	if (!key_where)
		key_where = where;
	t = dup_(text);
	w = dup_(where);
	kw = dup_(key_where);
	if (!t || !w || !kw)
		goto fail;
	e = find_(kv, key);
	if (!e) {
		k = dup_(key);
		if (!k || grow_(kv))
			goto fail;
		e = &kv->e[kv->n];
		memset(e, 0, sizeof(*e));
		e->key = k;
		k = NULL;
		/* insertion into the sorted index */
		pos = kv->n;
		while (pos > 0 && strcmp(kv->e[kv->order[pos - 1]].key, key) > 0) {
			kv->order[pos] = kv->order[pos - 1];
			pos--;
		}
		kv->order[pos] = kv->n;
		kv->n++;
	}
	free(e->text);
	free(e->where);
	free(e->key_where);
	free(e->canon);
	e->text = t;
	e->where = w;
	e->key_where = kw;
	e->quoted = quoted != 0;
	e->type = 0;
	e->canon = NULL;
	return SP_OK;
fail:
	free(k);
	free(t);
	free(w);
	free(kw);
	return sp_err(ctx, SP_ENOMEM, "%s.%s: out of memory", kv->section, key);
}

int sp_kv_set_section_where(sp_kv *kv, sp_ctx *ctx, const char *where)
{
	char *w;
	if (!kv || !where)
		return sp_err(ctx, SP_EINVAL, "sp_kv_set_section_where: NULL argument");
	w = dup_(where);
	if (!w)
		return sp_err(ctx, SP_ENOMEM, "[%s]: out of memory", kv->section);
	free(kv->section_where);
	kv->section_where = w;
	return SP_OK;
}

/* ------------------------------------------------------------------ */
/* Getters                                                             */
/* ------------------------------------------------------------------ */

long sp_kv_int(const sp_kv *kv, const char *key)
{
	const kv_entry *e = find_(kv, key);
	return e && e->type == SP_T_INT ? e->i : 0;
}

double sp_kv_float(const sp_kv *kv, const char *key)
{
	const kv_entry *e = find_(kv, key);
	return e && (e->type == SP_T_FLOAT || e->type == SP_T_INT) ? e->f : 0;
}

int sp_kv_bool(const sp_kv *kv, const char *key)
{
	const kv_entry *e = find_(kv, key);
	return e && e->type == SP_T_BOOL ? e->b : 0;
}

/* Before validation this is the raw text, which is what the host needs to
 * read `plugin = rnn` before it knows the component's spec. */
const char *sp_kv_str(const sp_kv *kv, const char *key)
{
	const kv_entry *e = find_(kv, key);
	if (!e)
		return NULL;
	return e->canon ? e->canon : e->text;
}

const char *sp_kv_where(const sp_kv *kv, const char *key)
{
	const kv_entry *e = find_(kv, key);
	return e ? e->where : NULL;
}

const char *sp_kv_key_where(const sp_kv *kv, const char *key)
{
	const kv_entry *e = find_(kv, key);
	return e ? e->key_where : NULL;
}

size_t sp_kv_count(const sp_kv *kv)
{
	return kv ? kv->n : 0;
}

const char *sp_kv_key_at(const sp_kv *kv, size_t i)
{
	const kv_entry *e = at_(kv, i);
	return e ? e->key : NULL;
}

const char *sp_kv_text_at(const sp_kv *kv, size_t i)
{
	const kv_entry *e = at_(kv, i);
	if (!e)
		return NULL;
	return e->canon ? e->canon : e->text;
}

const char *sp_kv_where_at(const sp_kv *kv, size_t i)
{
	const kv_entry *e = at_(kv, i);
	return e ? e->where : NULL;
}

const char *sp_kv_section(const sp_kv *kv)
{
	return kv ? kv->section : NULL;
}

const char *sp_kv_section_where(const sp_kv *kv)
{
	return kv ? kv->section_where : NULL;
}

/* ------------------------------------------------------------------ */
/* Helpers shared with the parser                                      */
/* ------------------------------------------------------------------ */

static int digit_(char c)
{
	return c >= '0' && c <= '9';
}

int sp_kv_number_syntax(const char *s, size_t len)
{
	size_t i = 0, digits = 0, exp = 0;
	int is_float = 0;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && digit_(s[i]); i++)
		digits++;
	if (i < len && s[i] == '.') {
		is_float = 1;
		for (i++; i < len && digit_(s[i]); i++)
			digits++;
	}
	if (digits == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		is_float = 1;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < len && digit_(s[i]); i++)
			exp++;
		if (exp == 0)
			return 0;
	}
	if (i != len)
		return 0;
	return is_float ? 2 : 1;
}

/* Levenshtein distance, capped: names longer than 63 bytes are never
 * suggestions, so a fixed row suffices. */
static size_t edit_distance_(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];
	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *sp_kv_suggest(const char *word, const char *const *cand,
			  size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance_(word, cand[i]);
		if (d > 0 && d < best_d) {
			best = cand[i];
			best_d = d;
		}
	}
	return best;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* Appends s to buf[*len..size), truncating with "..." when full. */
static void append_(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 4 >= size) {
		if (*len + 4 < size)
			memcpy(buf + *len, "...", 4);
		*len = size;
		return;
	}
	memcpy(buf + *len, s, n + 1);
	*len += n;
}

/* "none|bos_eos" -> "none, bos_eos"; also the choice nearest to word
 * (1 or 2 edits) into best[0..size), or "" when none is. */
static void choices_list_(char *buf, size_t size, const char *choices,
			  const char *word, char *best, size_t best_size)
{
	size_t len = 0, best_d = 3, d;
	char one[128];
	buf[0] = '\0';
	best[0] = '\0';
	while (*choices) {
		size_t n = strcspn(choices, "|");
		if (n >= sizeof(one))
			n = sizeof(one) - 1;
		memcpy(one, choices, n);
		one[n] = '\0';
		if (len)
			append_(buf, size, &len, ", ");
		append_(buf, size, &len, one);
		d = edit_distance_(word, one);
		if (d > 0 && d < best_d && n < best_size) {
			memcpy(best, one, n + 1);
			best_d = d;
		}
		choices += strcspn(choices, "|");
		if (*choices == '|')
			choices++;
	}
}

static int in_choices_(const char *s, const char *choices)
{
	size_t n = strlen(s);
	while (*choices) {
		size_t m = strcspn(choices, "|");
		if (m == n && strncmp(choices, s, n) == 0)
			return 1;
		choices += m;
		if (*choices == '|')
			choices++;
	}
	return 0;
}

static const sp_param_spec *spec_find_(const sp_param_spec *spec,
				       const char *key)
{
	for (; spec->key; spec++)
		if (strcmp(spec->key, key) == 0)
			return spec;
	return NULL;
}

static int unknown_key_(const sp_kv *kv, sp_ctx *ctx,
			const sp_param_spec *spec, const kv_entry *e)
{
	char list[768];
	size_t len = 0, best_d = 3;
	const char *best = NULL;
	list[0] = '\0';
	for (const sp_param_spec *p = spec; p->key; p++) {
		size_t d = edit_distance_(e->key, p->key);
		if (d > 0 && d < best_d) {
			best = p->key;
			best_d = d;
		}
		if (len)
			append_(list, sizeof(list), &len, ", ");
		append_(list, sizeof(list), &len, p->key);
	}
	if (!spec->key)
		return sp_err(ctx, SP_EINVAL,
			      "%s: unknown key '%s' in [%s], expected no keys in [%s]",
			      e->key_where, e->key, kv->section, kv->section);
	if (best)
		return sp_err(ctx, SP_EINVAL,
			      "%s: unknown key '%s' in [%s], expected one of: %s (did you mean '%s'?)",
			      e->key_where, e->key, kv->section, list, best);
	return sp_err(ctx, SP_EINVAL,
		      "%s: unknown key '%s' in [%s], expected one of: %s",
		      e->key_where, e->key, kv->section, list);
}

/* How a value of this type is written, for messages. */
static const char *type_hint_(const sp_param_spec *p)
{
	switch (p->type) {
	case SP_T_INT: return "<integer>";
	case SP_T_FLOAT: return "<number>";
	case SP_T_BOOL: return "true|false";
	case SP_T_STRING: return p->choices ? p->choices : "<string>";
	case SP_T_PATH: return "<path>";
	default: return "<value>";
	}
}

static int missing_key_(const sp_kv *kv, sp_ctx *ctx, const sp_param_spec *p)
{
	const char *doc = p->doc ? p->doc : "";
	const char *lp = p->doc ? " (" : "", *rp = p->doc ? ")" : "";
	if (kv->section_where)
		return sp_err(ctx, SP_EINVAL,
			      "%s: missing key '%s' in [%s], expected a line '%s = %s'%s%s%s",
			      kv->section_where, p->key, kv->section, p->key,
			      type_hint_(p), lp, doc, rp);
	return sp_err(ctx, SP_EINVAL,
		      "missing key '%s' in [%s], expected a line '%s = %s'%s%s%s",
		      p->key, kv->section, p->key, type_hint_(p), lp, doc, rp);
}

/* The shortest %g text that reads back as the same double: 0.1 is "0.1",
 * not "0.10000000000000001". */
static void canon_double_(char *buf, size_t size, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* Path relative to base_dir unless absolute; "" stays "" (no file). */
static char *resolve_path_(const char *text, const char *base_dir)
{
	size_t nb, nt;
	char *out;
	if (!text[0] || text[0] == '/' || !base_dir || !base_dir[0] ||
	    strcmp(base_dir, ".") == 0)
		return dup_(text);
	nb = strlen(base_dir);
	nt = strlen(text);
	if (base_dir[nb - 1] == '/')
		nb--;
	out = malloc(nb + 1 + nt + 1);
	if (!out)
		return NULL;
	memcpy(out, base_dir, nb);
	out[nb] = '/';
	memcpy(out + nb + 1, text, nt + 1);
	return out;
}

/* An integer value: e->i and e->f, or an error naming where e is.  syn:
 * sp_kv_number_syntax of the text. */
static int convert_int_(const sp_kv *kv, sp_ctx *ctx, kv_entry *e, int syn)
{
	const char *q = e->quoted ? "\"" : "";
	if (e->quoted || syn != 1)
		return sp_err(ctx, SP_EINVAL,
			      "%s: %s.%s = %s%s%s is not an integer, expected a whole number such as 3%s",
			      e->where, kv->section, e->key, q, e->text, q,
			      e->quoted ? " (without quotes)" : "");
	errno = 0;
	e->i = strtol(e->text, NULL, 10);
	if (errno == ERANGE)
		return sp_err(ctx, SP_EINVAL,
			      "%s: %s.%s = %s is out of range, expected an integer from %ld to %ld",
			      e->where, kv->section, e->key, e->text,
			      LONG_MIN, LONG_MAX);
	e->f = (double)e->i;
	return SP_OK;
}

/* A string of a spec with choices must be one of them; the error lists
 * them, with the nearest when there is one. */
static int check_choice_(const sp_kv *kv, sp_ctx *ctx, const kv_entry *e,
			 const sp_param_spec *p)
{
	const char *q = e->quoted ? "\"" : "";
	char near[64], list[768];
	if (!p->choices || in_choices_(e->text, p->choices))
		return SP_OK;
	choices_list_(list, sizeof(list), p->choices, e->text, near,
		      sizeof(near));
	if (near[0])
		return sp_err(ctx, SP_EINVAL,
			      "%s: %s.%s = %s%s%s is not an accepted value, expected one of: %s (did you mean '%s'?)",
			      e->where, kv->section, e->key, q, e->text, q,
			      list, near);
	return sp_err(ctx, SP_EINVAL,
		      "%s: %s.%s = %s%s%s is not an accepted value, expected one of: %s",
		      e->where, kv->section, e->key, q, e->text, q, list);
}

/* Checks e against p, fills its typed value and canonical text. */
static int convert_(const sp_kv *kv, sp_ctx *ctx, kv_entry *e,
		    const sp_param_spec *p, const char *base_dir)
{
	const char *q = e->quoted ? "\"" : "";
	char num[64];
	int syn = sp_kv_number_syntax(e->text, strlen(e->text)), rc;
	char *canon = NULL;

	switch (p->type) {
	case SP_T_INT:
		if ((rc = convert_int_(kv, ctx, e, syn)))
			return rc;
		snprintf(num, sizeof(num), "%ld", e->i);
		canon = dup_(num);
		break;
	case SP_T_FLOAT:
		if (e->quoted || syn == 0)
			return sp_err(ctx, SP_EINVAL,
				      "%s: %s.%s = %s%s%s is not a number, expected a number such as 0.1 or 1e-3%s",
				      e->where, kv->section, e->key, q, e->text, q,
				      e->quoted ? " (without quotes)" : "");
		errno = 0;
		e->f = strtod(e->text, NULL);
		/* underflow to zero or a subnormal is fine; overflow is not */
		if (!isfinite(e->f))
			return sp_err(ctx, SP_EINVAL,
				      "%s: %s.%s = %s is out of range, expected a finite number",
				      e->where, kv->section, e->key, e->text);
		canon_double_(num, sizeof(num), e->f);
		canon = dup_(num);
		break;
	case SP_T_BOOL:
		if (e->quoted || (strcmp(e->text, "true") != 0 &&
				  strcmp(e->text, "false") != 0))
			return sp_err(ctx, SP_EINVAL,
				      "%s: %s.%s = %s%s%s is not a boolean, expected true or false%s",
				      e->where, kv->section, e->key, q, e->text, q,
				      e->quoted ? " (without quotes)" : "");
		e->b = e->text[0] == 't';
		canon = dup_(e->b ? "true" : "false");
		break;
	case SP_T_STRING:
		if ((rc = check_choice_(kv, ctx, e, p)))
			return rc;
		canon = dup_(e->text);
		break;
	case SP_T_PATH:
		canon = resolve_path_(e->text, base_dir);
		break;
	default:
		return sp_err(ctx, SP_EINVAL, "%s.%s: spec has unknown type %d",
			      kv->section, e->key, (int)p->type);
	}
	if (!canon)
		return sp_err(ctx, SP_ENOMEM, "%s.%s: out of memory",
			      kv->section, e->key);
	free(e->canon);
	e->canon = canon;
	e->type = p->type;
	return SP_OK;
}

int sp_kv_validate(sp_kv *kv, sp_ctx *ctx, const sp_param_spec *spec,
		   const char *base_dir)
{
	int rc;
	if (!kv || !spec)
		return sp_err(ctx, SP_EINVAL, "sp_kv_validate: NULL argument");
	/* file order, so the first bad line is the one reported */
	for (size_t i = 0; i < kv->n; i++) {
		const sp_param_spec *p = spec_find_(spec, kv->e[i].key);
		if (!p)
			return unknown_key_(kv, ctx, spec, &kv->e[i]);
		rc = convert_(kv, ctx, &kv->e[i], p, base_dir);
		if (rc)
			return rc;
	}
	for (const sp_param_spec *p = spec; p->key; p++) {
		if (find_(kv, p->key))
			continue;
		if (!p->def)
			return missing_key_(kv, ctx, p);
		rc = sp_kv_set_at(kv, ctx, p->key, p->def, 0, "default", NULL);
		if (rc)
			return rc;
		rc = convert_(kv, ctx, find_(kv, p->key), p, base_dir);
		if (rc)
			return rc;
	}
	return SP_OK;
}
