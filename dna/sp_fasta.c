/*
 * sp_fasta.c: FASTA records, one at a time.  The header of the next record
 * is seen while reading the current one, so it is kept until the next call.
 */
#include "sp_fasta.h"

#include <stdlib.h>
#include <string.h>

#include "sp_lines.h"

struct sp_fasta {
	sp_lines *in;
	char *header;   /* the pending '>' line (without '>'), or NULL */
	long hline;     /* its line number */
	int done;
};

int sp_fasta_open(sp_fasta **out, sp_ctx *ctx, const char *path)
{
	sp_fasta *f = calloc(1, sizeof(*f));
	int rc;
	*out = NULL;
	if (!f)
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory", path);
	if ((rc = sp_lines_open(&f->in, ctx, path))) {
		free(f);
		return rc;
	}
	*out = f;
	return SP_OK;
}

void sp_fasta_close(sp_fasta *f)
{
	if (!f)
		return;
	sp_lines_close(f->in);
	free(f->header);
	free(f);
}

static int blank_(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* Splits the pending header into the record's name and description. */
static int take_header_(sp_fasta *f, sp_ctx *ctx, sp_dna_record *rec)
{
	char *h = f->header, *sp;
	size_t n;
	while (*h == ' ' || *h == '\t')
		h++;
	n = strcspn(h, " \t");
	if (n == 0)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: header without a name, "
			      "expected '>NAME [description]'",
			      sp_lines_path(f->in), f->hline);
	sp = h + n;
	while (*sp == ' ' || *sp == '\t')
		sp++;
	if (!(rec->name = strndup(h, n)) || !(rec->desc = strdup(sp)))
		return sp_err(ctx, SP_ENOMEM, "%s:%ld: out of memory",
			      sp_lines_path(f->in), f->hline);
	rec->line = f->hline;
	free(f->header);
	f->header = NULL;
	return SP_OK;
}

static int add_bases_(sp_fasta *f, sp_ctx *ctx, sp_dna_record *rec,
		      const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], code;
		if (c == ' ' || c == '\t')
			continue;
		if ((code = sp_base_code(c)) < 0) {
			if (c > 0x20 && c < 0x7f)
				return sp_err(ctx, SP_EINPUT, "%s:%ld:%zu: '%c' in "
					      "record %s, expected a nucleotide "
					      "(ACGTU) or an IUPAC code (NRYSWKMBDHV)",
					      sp_lines_path(f->in),
					      sp_lines_lineno(f->in), i + 1, c,
					      rec->name);
			return sp_err(ctx, SP_EINPUT, "%s:%ld:%zu: byte 0x%02X in "
				      "record %s, expected a nucleotide (ACGTU) "
				      "or an IUPAC code (NRYSWKMBDHV)",
				      sp_lines_path(f->in), sp_lines_lineno(f->in),
				      i + 1, (unsigned)c, rec->name);
		}
		if (sp_dna_record_push(rec, ctx, (uint8_t)code))
			return SP_ENOMEM;
	}
	return SP_OK;
}

/* Reads up to the first header; sequence before it is an error. */
static int first_header_(sp_fasta *f, sp_ctx *ctx)
{
	const char *s;
	size_t n;
	int rc;
	while ((rc = sp_lines_next(f->in, ctx, &s, &n)) == 1) {
		if (blank_(s, n))
			continue;
		if (s[0] != '>')
			return sp_err(ctx, SP_EINPUT, "%s:%ld: sequence before the "
				      "first header, expected '>NAME'",
				      sp_lines_path(f->in), sp_lines_lineno(f->in));
		if (!(f->header = strndup(s + 1, n - 1)))
			return sp_err(ctx, SP_ENOMEM, "out of memory");
		f->hline = sp_lines_lineno(f->in);
		return 1;
	}
	return rc;
}

int sp_fasta_next(sp_fasta *f, sp_ctx *ctx, sp_dna_record *rec)
{
	const char *s;
	size_t n;
	int rc;
	sp_dna_record_reset(rec);
	if (f->done)
		return 0;
	if (!f->header && (rc = first_header_(f, ctx)) <= 0) {
		f->done = rc == 0;
		return rc;
	}
	if ((rc = take_header_(f, ctx, rec)))
		return rc;
	while ((rc = sp_lines_next(f->in, ctx, &s, &n)) == 1) {
		if (n > 0 && s[0] == '>') {
			if (!(f->header = strndup(s + 1, n - 1)))
				return sp_err(ctx, SP_ENOMEM, "out of memory");
			f->hline = sp_lines_lineno(f->in);
			break;
		}
		if ((rc = add_bases_(f, ctx, rec, s, n)))
			return rc;
	}
	if (rc < 0)
		return rc;
	if (rc == 0)
		f->done = 1;
	if (rec->len == 0)
		return sp_err(ctx, SP_EINPUT, "%s:%ld: record %s is empty, "
			      "expected sequence lines after its header",
			      sp_lines_path(f->in), rec->line, rec->name);
	return 1;
}
