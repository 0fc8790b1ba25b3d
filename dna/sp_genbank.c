/*
 * sp_genbank.c: GenBank records, one at a time.  A record is read in two
 * steps: its lines (LOCUS, the CDS features with their locations and a few
 * qualifiers, the ORIGIN sequence), then its genes are built from the
 * locations, checked against the sequence and painted into labels.
 */
#include "sp_genbank.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_lines.h"

/* ---- locations ---------------------------------------------------------- */

typedef struct loc_part {
	long beg, end;  /* [beg, end), 0-based */
	int strand;
	int lt, gt;     /* '<' before beg, '>' before end */
} loc_part;

typedef struct loc_parser {
	sp_ctx *ctx;
	const char *s;  /* the whole location, blanks removed */
	size_t i;
	long seqlen;
	loc_part *part;
	size_t n, cap;
} loc_parser;

static int loc_err_(loc_parser *p, const char *what)
{
	return sp_err(p->ctx, SP_EINPUT, "location '%s': %s at column %zu",
		      p->s, what, p->i + 1);
}

static int eat_(loc_parser *p, const char *word)
{
	size_t n = strlen(word);
	if (strncmp(p->s + p->i, word, n) != 0)
		return 0;
	p->i += n;
	return 1;
}

static int number_(loc_parser *p, long *out)
{
	char *end;
	long v;
	if (!isdigit((unsigned char)p->s[p->i]))
		return loc_err_(p, "expected a base number");
	errno = 0;
	v = strtol(p->s + p->i, &end, 10);
	if (errno || v < 1)
		return loc_err_(p, "expected a base number >= 1");
	p->i = (size_t)(end - p->s);
	*out = v;
	return SP_OK;
}

static int range_(loc_parser *p, int strand)
{
	loc_part r = { 0, 0, strand, 0, 0 };
	size_t at = p->i;
	long a, b;
	int rc;
	r.lt = eat_(p, "<");
	if ((rc = number_(p, &a)))
		return rc;
	b = a;
	if (p->s[p->i] == '^' || p->s[p->i] == ':')
		return loc_err_(p, "between-base or remote locations are not "
				"supported, expected '..'");
	if (eat_(p, "..")) {
		r.gt = eat_(p, ">");
		if ((rc = number_(p, &b)))
			return rc;
	} else {
		r.gt = eat_(p, ">");
	}
	if (b < a)
		return loc_err_(p, "range end before its start");
	if (p->seqlen && b > p->seqlen) {
		char m[96];
		snprintf(m, sizeof(m), "range %ld..%ld outside the sequence "
			 "1..%ld", a, b, p->seqlen);
		p->i = at;
		return loc_err_(p, m);
	}
	r.beg = a - 1;
	r.end = b;
	if (p->n == p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 16;
		loc_part *np = realloc(p->part, nc * sizeof(*np));
		if (!np)
			return sp_err(p->ctx, SP_ENOMEM, "location: out of memory");
		p->part = np;
		p->cap = nc;
	}
	p->part[p->n++] = r;
	return SP_OK;
}

static int loc_(loc_parser *p, int strand, int depth)
{
	int rc, comp;
	if (depth > 8)
		return loc_err_(p, "nested too deeply");
	comp = eat_(p, "complement(");
	if (comp || eat_(p, "join(") || eat_(p, "order(")) {
		if (comp)
			strand = -strand;
		do {
			if ((rc = loc_(p, strand, depth + 1)))
				return rc;
		} while (!comp && eat_(p, ","));
		return eat_(p, ")") ? SP_OK : loc_err_(p, "expected ')'");
	}
	return range_(p, strand);
}

static int by_part_beg_(const void *a, const void *b)
{
	long x = ((const loc_part *)a)->beg, y = ((const loc_part *)b)->beg;
	return (x > y) - (x < y);
}

/* Exons, strand and partial ends from the parsed parts. */
static int loc_gene_(loc_parser *p, sp_gene *g)
{
	loc_part *q = p->part;
	qsort(q, p->n, sizeof(*q), by_part_beg_);
	for (size_t k = 0; k < p->n; k++) {
		if (q[k].strand != q[0].strand)
			return sp_err(p->ctx, SP_EINPUT, "location '%s': parts on "
				      "both strands, expected one strand", p->s);
		if (k && q[k].beg < q[k - 1].end)
			return sp_err(p->ctx, SP_EINPUT, "location '%s': parts "
				      "%ld..%ld and %ld..%ld overlap", p->s,
				      q[k - 1].beg + 1, q[k - 1].end,
				      q[k].beg + 1, q[k].end);
		if ((q[k].lt && k > 0) || (q[k].gt && k + 1 < p->n))
			return sp_err(p->ctx, SP_EINPUT, "location '%s': '<' or "
				      "'>' inside the gene, expected them only "
				      "at its ends", p->s);
	}
	if (!(g->exon = malloc(p->n * sizeof(*g->exon))))
		return sp_err(p->ctx, SP_ENOMEM, "location: out of memory");
	for (size_t k = 0; k < p->n; k++) {
		g->exon[k].beg = q[k].beg;
		g->exon[k].end = q[k].end;
	}
	g->nexon = p->n;
	g->strand = q[0].strand;
	/* '<' opens the left end: the 5' end on plus, the 3' end on minus */
	g->partial5 = g->strand > 0 ? q[0].lt : q[p->n - 1].gt;
	g->partial3 = g->strand > 0 ? q[p->n - 1].gt : q[0].lt;
	return SP_OK;
}

int sp_genbank_location(sp_ctx *ctx, const char *loc, long seqlen,
			sp_gene *out)
{
	loc_parser p = { ctx, NULL, 0, seqlen, NULL, 0, 0 };
	char *s = malloc(strlen(loc) + 1), *w = s;
	int rc;
	memset(out, 0, sizeof(*out));
	if (!s)
		return sp_err(ctx, SP_ENOMEM, "location: out of memory");
	for (const char *r = loc; *r; r++)
		if (!isspace((unsigned char)*r))
			*w++ = *r;
	*w = '\0';
	p.s = s;
	rc = loc_(&p, 1, 0);
	if (!rc && p.s[p.i])
		rc = loc_err_(&p, "expected the end of the location");
	if (!rc)
		rc = loc_gene_(&p, out);
	if (rc)
		sp_gene_clear(out);
	free(p.part);
	free(s);
	return rc;
}

/* ---- records ------------------------------------------------------------ */

typedef struct cds_feat {
	char *loc;       /* location text, continuation lines appended */
	size_t loclen;
	long line;       /* line of the feature key */
	char *name;      /* /gene or /locus_tag, may be NULL */
	int codon_start; /* 1..3 */
} cds_feat;

enum { IN_NONE, IN_HEAD, IN_FEATURES, IN_ORIGIN };

struct sp_genbank {
	sp_lines *in;
	cds_feat *cds;
	size_t ncds, cap;
	int in_loc;      /* the last CDS still collects location lines */
	int in_cds;      /* qualifiers belong to the last CDS */
	long declared;   /* LOCUS length, -1 if absent */
};

int sp_genbank_open(sp_genbank **out, sp_ctx *ctx, const char *path)
{
	sp_genbank *g = calloc(1, sizeof(*g));
	int rc;
	*out = NULL;
	if (!g)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	if ((rc = sp_lines_open(&g->in, ctx, path))) {
		free(g);
		return rc;
	}
	*out = g;
	return SP_OK;
}

static void drop_cds_(sp_genbank *g)
{
	for (size_t i = 0; i < g->ncds; i++) {
		free(g->cds[i].loc);
		free(g->cds[i].name);
	}
	g->ncds = 0;
	g->in_loc = g->in_cds = 0;
}

void sp_genbank_close(sp_genbank *g)
{
	if (!g)
		return;
	drop_cds_(g);
	free(g->cds);
	sp_lines_close(g->in);
	free(g);
}

#define WHERE(g) sp_lines_path((g)->in), sp_lines_lineno((g)->in)

static int oom_(sp_genbank *g, sp_ctx *ctx)
{
	return sp_err(ctx, SP_ENOMEM, "%s:%ld: out of memory", WHERE(g));
}

static int locus_(sp_genbank *g, sp_ctx *ctx, sp_dna_record *rec,
		  const char *s)
{
	char name[256];
	long len;
	int k = sscanf(s, "LOCUS %255s %ld", name, &len);
	if (k < 1)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: LOCUS without a name, "
			      "expected 'LOCUS NAME LENGTH bp'", WHERE(g));
	g->declared = k == 2 ? len : -1;
	rec->line = sp_lines_lineno(g->in);
	if (!(rec->name = strdup(name)) || !(rec->desc = strdup("")))
		return oom_(g, ctx);
	return SP_OK;
}

static int append_loc_(sp_genbank *g, sp_ctx *ctx, const char *s, size_t n)
{
	cds_feat *f = &g->cds[g->ncds - 1];
	char *nl = realloc(f->loc, f->loclen + n + 1);
	if (!nl)
		return oom_(g, ctx);
	memcpy(nl + f->loclen, s, n);
	f->loclen += n;
	nl[f->loclen] = '\0';
	f->loc = nl;
	return SP_OK;
}

static int new_cds_(sp_genbank *g, sp_ctx *ctx)
{
	if (g->ncds == g->cap) {
		size_t nc = g->cap ? 2 * g->cap : 4;
		cds_feat *nf = realloc(g->cds, nc * sizeof(*nf));
		if (!nf)
			return oom_(g, ctx);
		g->cds = nf;
		g->cap = nc;
	}
	memset(&g->cds[g->ncds], 0, sizeof(g->cds[0]));
	g->cds[g->ncds].line = sp_lines_lineno(g->in);
	g->cds[g->ncds].codon_start = 1;
	g->ncds++;
	return SP_OK;
}

/* A qualifier line of the current CDS: keeps /gene, /locus_tag and
 * /codon_start, ignores the others. */
static int qualifier_(sp_genbank *g, sp_ctx *ctx, const char *q, size_t n)
{
	cds_feat *f = &g->cds[g->ncds - 1];
	int gene = n > 6 && !strncmp(q, "/gene=", 6);
	int tag = n > 11 && !strncmp(q, "/locus_tag=", 11);
	if (n > 13 && !strncmp(q, "/codon_start=", 13)) {
		int c = q[13] - '0';
		if (n != 14 || c < 1 || c > 3)
			return sp_err(ctx, SP_EINPUT, "%s:%ld: /codon_start=%.*s, "
				      "expected 1, 2 or 3", WHERE(g),
				      (int)(n - 13), q + 13);
		f->codon_start = c;
	} else if ((gene || (tag && !f->name))) {
		const char *v = q + (gene ? 6 : 11);
		size_t m = n - (size_t)(v - q);
		if (m >= 2 && v[0] == '"' && v[m - 1] == '"')
			v++, m -= 2;
		free(f->name);
		if (!(f->name = strndup(v, m)))
			return oom_(g, ctx);
	}
	return SP_OK;
}

static int feature_line_(sp_genbank *g, sp_ctx *ctx, const char *s, size_t n)
{
	size_t i = 0;
	int rc;
	while (i < n && s[i] == ' ')
		i++;
	if (i == 5 && n > 5) { /* a new feature key */
		size_t k = strcspn(s + 5, " ");
		g->in_loc = g->in_cds = 0;
		if (k != 3 || strncmp(s + 5, "CDS", 3) != 0)
			return SP_OK;
		if ((rc = new_cds_(g, ctx)))
			return rc;
		g->in_loc = g->in_cds = 1;
		return n > 21 ? append_loc_(g, ctx, s + 21, n - 21) : SP_OK;
	}
	if (i < 21 || i == n)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: expected a feature key at "
			      "column 6 or a location or qualifier at column 22",
			      WHERE(g));
	if (s[i] == '/')
		g->in_loc = 0;
	if (g->in_loc)
		return append_loc_(g, ctx, s + i, n - i);
	if (g->in_cds && s[i] == '/')
		return qualifier_(g, ctx, s + i, n - i);
	return SP_OK;
}

/* "   61 acgtacgtac gtac..." : checks the number, appends the bases. */
static int origin_line_(sp_genbank *g, sp_ctx *ctx, sp_dna_record *rec,
			const char *s, size_t n)
{
	size_t i = 0;
	long pos = 0;
	while (i < n && s[i] == ' ')
		i++;
	if (i < n && isdigit((unsigned char)s[i])) {
		/* saturate: a number of 19+ digits must not overflow */
		while (i < n && isdigit((unsigned char)s[i])) {
			int d = s[i++] - '0';
			pos = pos > (LONG_MAX - d) / 10 ? LONG_MAX : pos * 10 + d;
		}
		if (pos != (long)rec->len + 1)
			return sp_err(ctx, SP_EINPUT, "%s:%ld: sequence line "
				      "numbered %s%ld, expected %zu", WHERE(g),
				      pos == LONG_MAX ? "more than " : "",
				      pos == LONG_MAX ? LONG_MAX - 1 : pos, rec->len + 1);
	}
	for (; i < n; i++) {
		int c = (unsigned char)s[i], code;
		if (c == ' ' || c == '\t')
			continue;
		if ((code = sp_base_code(c)) < 0)
			return sp_err(ctx, SP_EINPUT, "%s:%ld:%zu: '%c' in the "
				      "sequence of %s, expected a nucleotide "
				      "(ACGTU) or an IUPAC code (NRYSWKMBDHV)",
				      WHERE(g), i + 1, c > 0x20 && c < 0x7f ? c : '?',
				      rec->name);
		if (sp_dna_record_push(rec, ctx, (uint8_t)code))
			return SP_ENOMEM;
	}
	return SP_OK;
}

/* One line of a record; sets *end at "//". */
static int record_line_(sp_genbank *g, sp_ctx *ctx, sp_dna_record *rec,
			int *state, const char *s, size_t n, int *end)
{
	if (n >= 2 && s[0] == '/' && s[1] == '/') {
		*end = 1;
		return SP_OK;
	}
	if (*state == IN_ORIGIN)
		return origin_line_(g, ctx, rec, s, n);
	if (n > 0 && s[0] != ' ') {
		g->in_loc = g->in_cds = 0;
		if (!strncmp(s, "FEATURES", 8))
			*state = IN_FEATURES;
		else if (!strncmp(s, "ORIGIN", 6))
			*state = IN_ORIGIN;
		else if (!strncmp(s, "LOCUS", 5))
			return sp_err(ctx, SP_EINPUT, "%s:%ld: LOCUS inside record "
				      "%s, expected '//' to close it first",
				      WHERE(g), rec->name);
		else
			*state = IN_HEAD;
		return SP_OK;
	}
	if (*state == IN_FEATURES && n > 0)
		return feature_line_(g, ctx, s, n);
	return SP_OK;
}

static int by_gene_beg_(const void *a, const void *b)
{
	long x = sp_gene_beg(a), y = sp_gene_beg(b);
	return (x > y) - (x < y);
}

/* Genes from the CDS features, then labels. */
static int build_genes_(sp_genbank *g, sp_ctx *ctx, sp_dna_record *rec)
{
	const char *path = sp_lines_path(g->in);
	uint8_t *lab;
	int rc;
	if (g->ncds > rec->gcap) {
		sp_gene *ng = realloc(rec->gene, g->ncds * sizeof(*ng));
		if (!ng)
			return oom_(g, ctx);
		rec->gene = ng;
		rec->gcap = g->ncds;
	}
	for (size_t i = 0; i < g->ncds; i++) {
		cds_feat *f = &g->cds[i];
		sp_gene *gn = &rec->gene[i];
		if (!f->loc)
			return sp_err(ctx, SP_EINPUT, "%s:%ld: CDS without a "
				      "location", path, f->line);
		if ((rc = sp_genbank_location(ctx, f->loc, (long)rec->len, gn)))
			return sp_err_prefix(ctx, rc, "%s:%ld: CDS", path, f->line);
		rec->ngene++;
		gn->phase = f->codon_start - 1;
		gn->name = f->name;
		f->name = NULL;
	}
	if (rec->ngene > 1) /* a record without CDS has no array: qsort(NULL) is UB */
		qsort(rec->gene, rec->ngene, sizeof(*rec->gene), by_gene_beg_);
	if (!(lab = realloc(rec->label, rec->len ? rec->len : 1)))
		return oom_(g, ctx);
	rec->label = lab;
	if ((rc = sp_genes_paint(ctx, rec->gene, rec->ngene, rec->len, lab)))
		return sp_err_prefix(ctx, rc, "%s:%ld: record %s", path,
				     rec->line, rec->name);
	return SP_OK;
}

static int finish_(sp_genbank *g, sp_ctx *ctx, sp_dna_record *rec)
{
	const char *path = sp_lines_path(g->in);
	if (rec->len == 0)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: record %s has no sequence, "
			      "expected ORIGIN and sequence lines before //",
			      path, sp_lines_lineno(g->in), rec->name);
	if (g->declared >= 0 && (size_t)g->declared != rec->len)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: record %s has %zu bases, "
			      "expected %ld as its LOCUS line says", path,
			      sp_lines_lineno(g->in), rec->name, rec->len,
			      g->declared);
	return build_genes_(g, ctx, rec);
}

int sp_genbank_next(sp_genbank *g, sp_ctx *ctx, sp_dna_record *rec)
{
	const char *s;
	size_t n;
	int rc, state = IN_NONE, end = 0;
	sp_dna_record_reset(rec);
	drop_cds_(g);
	while ((rc = sp_lines_next(g->in, ctx, &s, &n)) == 1) {
		if (state == IN_NONE) {
			size_t i = 0;
			while (i < n && isspace((unsigned char)s[i]))
				i++;
			if (i == n)
				continue;
			if (strncmp(s, "LOCUS", 5) != 0)
				return sp_err(ctx, SP_EINPUT, "%s:%ld: expected "
					      "'LOCUS' to start a record",
					      WHERE(g));
			if ((rc = locus_(g, ctx, rec, s)))
				return rc;
			state = IN_HEAD;
			continue;
		}
		if ((rc = record_line_(g, ctx, rec, &state, s, n, &end)))
			return rc;
		if (end)
			break;
	}
	if (rc < 0)
		return rc;
	if (state == IN_NONE)
		return 0;
	if (!end)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: record %s is not closed, "
			      "expected '//' before the end of the file",
			      sp_lines_path(g->in), rec->line, rec->name);
	if ((rc = finish_(g, ctx, rec)))
		return rc;
	return 1;
}
