/*
 * t_dna_out.c: GFF3 and BED12 output (dna/sp_geneout.c).  A small file is
 * compared line by line with what it must be; a larger one (two sequences,
 * both strands, partial ends, a name needing escapes) must pass
 * `gt gff3validator -typecheck so` (GenomeTools; skipped when `gt` is not
 * installed), a deliberately broken GFF3 must fail it, and every BED12
 * line's blocks must be the CDS lines of the GFF3 transcript of that name.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "sp_geneout.h"
#include "tap.h"
#include "dnafix.h"

#include <sys/wait.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	b[n] = '\0';
	fclose(f);
	return b;
}

static sp_exon EX_P[3] = { { 10, 17 }, { 29, 36 }, { 46, 50 } };
static sp_exon EX_M[2] = { { 73, 78 }, { 87, 94 } };
static sp_exon EX_Q[1] = { { 0, 20 } };

static void test_golden(sp_ctx *ctx)
{
	sp_gene g = { 1, 0, 0, 0, 3, EX_P, NULL };
	sp_gene m = { -1, 0, 0, 0, 2, EX_M, NULL };
	const char *p = fx_path("small.gff3");
	FILE *f = fopen(p, "w");
	char *got;
	int rc = sp_gff3_header(ctx, f);
	rc = rc ? rc : sp_gff3_write(ctx, f, "s1", 120, &g, 1, NULL);
	rc = rc ? rc : sp_gff3_write(ctx, f, "s2", 120, &m, 1, "x");
	fclose(f);
	got = slurp(p);
	ok_str(got,
	       "##gff-version 3\n"
	       "##sequence-region s1 1 120\n"
	       "s1\tseqpipe\tgene\t11\t50\t.\t+\t.\tID=s1.g1\n"
	       "s1\tseqpipe\tmRNA\t11\t50\t.\t+\t.\tID=s1.g1.t1;Parent=s1.g1\n"
	       "s1\tseqpipe\tCDS\t11\t17\t.\t+\t0\tID=s1.g1.t1.cds;Parent=s1.g1.t1\n"
	       "s1\tseqpipe\tintron\t18\t29\t.\t+\t.\tParent=s1.g1.t1\n"
	       "s1\tseqpipe\tCDS\t30\t36\t.\t+\t2\tID=s1.g1.t1.cds;Parent=s1.g1.t1\n"
	       "s1\tseqpipe\tintron\t37\t46\t.\t+\t.\tParent=s1.g1.t1\n"
	       "s1\tseqpipe\tCDS\t47\t50\t.\t+\t1\tID=s1.g1.t1.cds;Parent=s1.g1.t1\n"
	       "##sequence-region s2 1 120\n"
	       "s2\tx\tgene\t74\t94\t.\t-\t.\tID=s2.g1\n"
	       "s2\tx\tmRNA\t74\t94\t.\t-\t.\tID=s2.g1.t1;Parent=s2.g1\n"
	       "s2\tx\tCDS\t74\t78\t.\t-\t2\tID=s2.g1.t1.cds;Parent=s2.g1.t1\n"
	       "s2\tx\tintron\t79\t87\t.\t-\t.\tParent=s2.g1.t1\n"
	       "s2\tx\tCDS\t88\t94\t.\t-\t0\tID=s2.g1.t1.cds;Parent=s2.g1.t1\n",
	       "GFF3: 1-based inclusive, phases on both strands");
	free(got);
	p = fx_path("small.bed");
	f = fopen(p, "w");
	rc = rc ? rc : sp_bed_write(ctx, f, "s1", &g, 1);
	rc = rc ? rc : sp_bed_write(ctx, f, "s2", &m, 1);
	fclose(f);
	got = slurp(p);
	ok(rc == 0, "writers succeed");
	ok_str(got, "s1\t10\t50\ts1.g1.t1\t0\t+\t10\t50\t0\t3\t7,7,4,\t0,19,36,\n"
	       "s2\t73\t94\ts2.g1.t1\t0\t-\t73\t94\t0\t2\t5,7,\t0,14,\n",
	       "BED12: 0-based half-open, blocks");
	free(got);
}

/* Runs `gt gff3validator -typecheck so FILE`: its exit status, or -1 if
 * gt is not there. */
static int gt_validate(const char *path)
{
	char cmd[1200];
	int st;
	if (system("command -v gt >/dev/null 2>&1") != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "gt gff3validator -typecheck so '%s' "
		 ">'%s.log' 2>&1", path, path);
	fx_path("big.gff3.log");
	fx_path("bad.gff3.log");
	st = system(cmd);
	if (st != 0) {
		char lp[700];
		char *log;
		snprintf(lp, sizeof(lp), "%s.log", path);
		log = slurp(lp);
		diag("gt: %s", log ? log : "?");
		free(log);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* Every BED line against the GFF3 CDS lines of its transcript. */
static int bed_matches_gff(const char *gff, const char *bed, int *lines)
{
	char *g = slurp(gff), *b = slurp(bed), *save = NULL;
	int bad = 0;
	*lines = 0;
	for (char *l = strtok_r(b, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char chrom[128], name[128], strand, sizes[512], starts[512];
		long beg, end, tb, te, n;
		char *sp = sizes, *st = starts;
		(*lines)++;
		if (sscanf(l, "%127s %ld %ld %127s %*d %c %ld %ld %*d %ld %511s %511s",
			   chrom, &beg, &end, name, &strand, &tb, &te, &n, sizes,
			   starts) != 10) {
			bad++;
			continue;
		}
		for (long k = 0; k < n; k++) {
			long sz = strtol(sp, &sp, 10), off = strtol(st, &st, 10);
			char want[600];
			sp++, st++;
			/* the GFF3 CDS line: start = beg + off + 1, end = + sz */
			snprintf(want, sizeof(want), "\tCDS\t%ld\t%ld\t.\t%c\t",
				 beg + off + 1, beg + off + sz, strand);
			if (!strstr(g, want))
				bad++;
		}
		{
			char want[600];
			snprintf(want, sizeof(want), "\tmRNA\t%ld\t%ld\t.\t%c\t.\t"
				 "ID=%s;", beg + 1, end, strand, name);
			if (!strstr(g, want) || tb != beg || te != end)
				bad++;
		}
	}
	free(g);
	free(b);
	return bad;
}

static void test_validator(sp_ctx *ctx)
{
	sp_gene p = { 1, 0, 0, 0, 3, EX_P, NULL };
	sp_gene m = { -1, 0, 0, 0, 2, EX_M, NULL };
	sp_gene q = { 1, 1, 0, 2, 1, EX_Q, NULL }; /* 5' partial */
	sp_gene two[2] = { p, m };
	const char *gp = fx_path("big.gff3"), *bp = fx_path("big.bed");
	FILE *gf = fopen(gp, "w"), *bf = fopen(bp, "w");
	int rc, lines = 0, st;
	rc = sp_gff3_header(ctx, gf);
	rc = rc ? rc : sp_gff3_write(ctx, gf, "chr 2;x", 120, two, 2, NULL);
	rc = rc ? rc : sp_gff3_write(ctx, gf, "r2", 30, &q, 1, NULL);
	rc = rc ? rc : sp_bed_write(ctx, bf, "chr 2;x", two, 2);
	rc = rc ? rc : sp_bed_write(ctx, bf, "r2", &q, 1);
	fclose(gf);
	fclose(bf);
	ok(rc == 0, "two sequences written");
	st = bed_matches_gff(gp, bp, &lines);
	ok(st == 0 && lines == 3, "BED12 blocks are the GFF3 CDS lines, %d transcripts", lines);
	st = gt_validate(gp);
	if (st < 0) {
		fx_skip("gt (genometools) not installed");
		fx_skip("gt (genometools) not installed");
		return;
	}
	ok(st == 0, "gt gff3validator accepts the output");
	/* control: a CDS past its sequence-region must be refused */
	gp = fx_put("bad.gff3", "##gff-version 3\n##sequence-region s 1 20\n"
		    "s\tx\tgene\t1\t30\t.\t+\t.\tID=g\n");
	ok(gt_validate(gp) != 0, "gt gff3validator refuses a broken file");
}

int main(void)
{
	sp_ctx *ctx;
	if (fx_init("t_dna_out") || sp_ctx_new(&ctx, 1) < 0) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_golden(ctx);
	test_validator(ctx);
	sp_ctx_free(ctx);
	fx_done();
	return tap_done();
}
