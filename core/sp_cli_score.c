/*
 * sp_cli_score.c: `pipeline score REF HYP [--json] [--lowercase]
 * [--tokenize 13a|none]` (see sp_cli_score.h).
 *
 * Prints three scores, each with its signature:
 *   BLEU    sacreBLEU's corpus BLEU (13a, exp smoothing unless told);
 *   chrF2   sacreBLEU's chrF (6 character orders, beta 2);
 *   tokenized lowercased BLEU: 13a tokens, lowercased, no smoothing, the
 *           multi-bleu.perl-style figure older papers report.  Labelled so
 *           it is never mistaken for the first; its signature says case:lc
 *           and smooth:none.
 */
#include "config.h"

#include "sp_cli_score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_bleu.h"
#include "sp_chrf.h"
#include "sp_parallel.h"

static const char help[] =
	"usage: pipeline score REF HYP [--json] [--lowercase] [--tokenize 13a|none]\n"
	"Scores the hypothesis file HYP against the reference file REF, line by line\n"
	"(raw, detokenized text; .gz accepted; HYP - reads standard input; equal line\n"
	"counts), the way sacreBLEU 2.x does: corpus BLEU with the 13a tokenizer and\n"
	"exponential smoothing, and chrF2.\n"
	"Each score is followed by its signature; the version field names seqpipe.\n"
	"Also printed, labelled: BLEU on 13a-tokenized, lowercased text without smoothing,\n"
	"for comparison with older papers (not comparable with sacreBLEU's figure).\n"
	"  --json            one JSON object: scores, counts, totals, signatures\n"
	"  --lowercase       case-insensitive BLEU and chrF (case:lc)\n"
	"  --tokenize NAME   13a (default) or none (split on whitespace only)\n";

typedef struct result {
	sp_bleu_opts bo, lo; /* sacreBLEU's BLEU, the tokenized lowercased one */
	sp_chrf_opts co;
	sp_bleu_score bleu, legacy;
	double chrf;
	size_t lines;
} result;

static int score_files(sp_ctx *ctx, const char *ref_path, const char *hyp_path, result *r)
{
	sp_parallel_opts po;
	sp_parallel *p = NULL;
	sp_bleu *b = NULL, *l = NULL;
	sp_chrf *c = NULL;
	sp_bleu_stats bs, ls;
	sp_chrf_stats cs;
	int rc;

	memset(&bs, 0, sizeof(bs));
	memset(&ls, 0, sizeof(ls));
	memset(&cs, 0, sizeof(cs));
	sp_parallel_opts_init(&po); /* empty hypotheses are legitimate: keep */
	if ((rc = sp_parallel_read_files(&p, ctx, ref_path, hyp_path, &po)) < 0)
		return rc;
	r->lines = sp_parallel_count(p);
	if ((rc = sp_bleu_new(&b, ctx, &r->bo)) < 0 || (rc = sp_bleu_new(&l, ctx, &r->lo)) < 0 ||
	    (rc = sp_chrf_new(&c, ctx, &r->co)) < 0)
		goto done;
	for (size_t i = 0; i < r->lines; i++) {
		size_t rn, hn;
		const char *ref = sp_parallel_src(p, i, &rn), *hyp = sp_parallel_tgt(p, i, &hn);
		if ((rc = sp_bleu_add(b, ctx, hyp, hn, ref, rn, &bs)) < 0 ||
		    (rc = sp_bleu_add(l, ctx, hyp, hn, ref, rn, &ls)) < 0 ||
		    (rc = sp_chrf_add(c, ctx, hyp, hn, ref, rn, &cs)) < 0) {
			/* the side is in the message ("reference: ...") */
			rc = sp_err_prefix(ctx, rc, "%s:%zu vs %s:%zu", ref_path, i + 1, hyp_path,
					   i + 1);
			goto done;
		}
	}
	sp_bleu_compute(&r->bo, &bs, &r->bleu);
	sp_bleu_compute(&r->lo, &ls, &r->legacy);
	r->chrf = sp_chrf_compute(&r->co, &cs);
done:
	sp_bleu_free(b);
	sp_bleu_free(l);
	sp_chrf_free(c);
	sp_parallel_free(p);
	return rc;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_bleu(FILE *f, const char *name, const sp_bleu_opts *o, const sp_bleu_score *s)
{
	char line[256], sig[160];
	const sp_bleu_stats *st = &s->stats;
	sp_bleu_format(s, line, sizeof(line));
	sp_bleu_signature(o, sig, sizeof(sig));
	fprintf(f, "  \"%s\": {\"score\": %.17g, \"counts\": [%lld, %lld, %lld, %lld], "
		   "\"totals\": [%lld, %lld, %lld, %lld], \"precisions\": [%.17g, %.17g, %.17g, %.17g], "
		   "\"bp\": %.17g, \"ratio\": %.17g, \"sys_len\": %lld, \"ref_len\": %lld, "
		   "\"verbose\": ",
		name, s->score, (long long)st->correct[0], (long long)st->correct[1],
		(long long)st->correct[2], (long long)st->correct[3], (long long)st->total[0],
		(long long)st->total[1], (long long)st->total[2], (long long)st->total[3],
		s->precisions[0], s->precisions[1], s->precisions[2], s->precisions[3], s->bp,
		s->ratio, (long long)st->sys_len, (long long)st->ref_len);
	json_string(f, line);
	fprintf(f, ", \"signature\": ");
	json_string(f, sig);
	fprintf(f, "}");
}

static void print_json(FILE *f, const char *ref, const char *hyp, const result *r)
{
	char sig[160];
	fprintf(f, "{\n  \"ref\": ");
	json_string(f, ref);
	fprintf(f, ",\n  \"hyp\": ");
	json_string(f, hyp);
	fprintf(f, ",\n  \"lines\": %zu,\n", r->lines);
	json_bleu(f, "bleu", &r->bo, &r->bleu);
	sp_chrf_signature(&r->co, sig, sizeof(sig));
	fprintf(f, ",\n  \"chrf\": {\"name\": \"chrF2\", \"score\": %.17g, \"signature\": ", r->chrf);
	json_string(f, sig);
	fprintf(f, "},\n");
	json_bleu(f, "bleu_tokenized_lowercased", &r->lo, &r->legacy);
	fprintf(f, "\n}\n");
}

static void print_text(FILE *f, const result *r)
{
	char line[256], sig[160];
	sp_bleu_format(&r->bleu, line, sizeof(line));
	sp_bleu_signature(&r->bo, sig, sizeof(sig));
	fprintf(f, "%s\n  signature: %s\n", line, sig);
	sp_chrf_signature(&r->co, sig, sizeof(sig));
	fprintf(f, "chrF2 = %.2f\n  signature: %s\n", r->chrf, sig);
	sp_bleu_format(&r->legacy, line, sizeof(line));
	sp_bleu_signature(&r->lo, sig, sizeof(sig));
	fprintf(f, "tokenized lowercased %s\n  (13a tokens, lowercased, no smoothing: for comparison "
		   "with older papers, not with sacreBLEU)\n  signature: %s\n",
		line, sig);
}

int sp_cli_score(int argc, char **argv)
{
	const char *pos[2] = {NULL, NULL};
	int n_pos = 0, json = 0, rc;
	result r;
	sp_ctx *ctx = NULL;

	memset(&r, 0, sizeof(r));
	sp_bleu_opts_init(&r.bo);
	sp_chrf_opts_init(&r.co);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(help, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--lowercase")) {
			r.bo.lowercase = r.co.lowercase = 1;
		} else if (!strcmp(a, "--tokenize")) {
			if (i + 1 >= argc || (strcmp(argv[i + 1], "13a") && strcmp(argv[i + 1], "none"))) {
				fprintf(stderr, "pipeline score: --tokenize expects 13a or none\n%s", help);
				return 2;
			}
			r.bo.tokenize = !strcmp(argv[++i], "13a") ? SP_BLEU_TOK_13A : SP_BLEU_TOK_NONE;
		} else if (a[0] == '-' && a[1]) { /* "-" alone is standard input */
			fprintf(stderr, "pipeline score: unknown option '%s'\n%s", a, help);
			return 2;
		} else if (n_pos < 2) {
			pos[n_pos++] = a;
		} else {
			fprintf(stderr, "pipeline score: expected two files, REF and HYP\n%s", help);
			return 2;
		}
	}
	if (n_pos != 2) {
		fprintf(stderr, "pipeline score: expected two files, REF and HYP\n%s", help);
		return 2;
	}
	if (!strcmp(pos[0], "-") && !strcmp(pos[1], "-")) {
		fprintf(stderr, "pipeline score: REF and HYP cannot both be standard input\n");
		return 2;
	}
	sp_bleu_opts_init(&r.lo);
	r.lo.lowercase = 1;
	r.lo.smooth = SP_BLEU_SMOOTH_NONE;
	if (sp_ctx_new(&ctx, 0) < 0) {
		fprintf(stderr, "pipeline: error: out of memory\n");
		return 1;
	}
	rc = score_files(ctx, pos[0], pos[1], &r);
	if (rc < 0) {
		fprintf(stderr, "pipeline: error: %s\n", sp_errmsg(ctx));
		sp_ctx_free(ctx);
		return 1;
	}
	sp_ctx_free(ctx);
	if (json)
		print_json(stdout, pos[0], pos[1], &r);
	else
		print_text(stdout, &r);
	return fflush(stdout) == 0 ? 0 : 1;
}
