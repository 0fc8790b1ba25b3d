/*
 * t_dna_read.c: the FASTA and GenBank readers (dna/sp_fasta.c,
 * dna/sp_genbank.c), the labels painted from genes and the gene grammar
 * check (dna/sp_dna.c).  Error messages are compared whole, so FILE:LINE
 * must be exact.  With SEQPIPE_SHARED set, both shipped AUGUSTUS fly files
 * are read and their record, base and class counts asserted.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "sp_fasta.h"
#include "sp_genbank.h"
#include "tap.h"
#include "dnafix.h"

/* Whole FASTA file as "name:SEQ;" strings (codes as letters). */
static int fasta_dump(sp_ctx *ctx, const char *path, char *out, size_t cap)
{
	sp_fasta *f;
	sp_dna_record r;
	size_t w = 0;
	int rc;
	out[0] = '\0';
	sp_dna_record_init(&r);
	if ((rc = sp_fasta_open(&f, ctx, path)))
		return rc;
	while ((rc = sp_fasta_next(f, ctx, &r)) == 1) {
		w += (size_t)snprintf(out + w, cap - w, "%s:", r.name);
		for (size_t i = 0; i < r.len && w + 2 < cap; i++)
			out[w++] = sp_base_letter(r.seq[i]);
		w += (size_t)snprintf(out + w, cap - w, ";");
	}
	sp_fasta_close(f);
	sp_dna_record_free(&r);
	return rc;
}

static void test_fasta(sp_ctx *ctx)
{
	char got[512];
	const char *p;
	int rc;
	p = fx_put("a.fa", ">s1 first record\nACGT\nacgtn\n\n>s2\r\nNRYKM\r\n"
		   "ACGTACGTACGTACGTACGTACGTACGTACGTACGT\n>s3\nu");
	rc = fasta_dump(ctx, p, got, sizeof(got));
	ok(rc == 0, "FASTA: three records, widths and case mixed (%s)",
	   rc ? sp_errmsg(ctx) : "ok");
	ok_str(got, "s1:ACGTACGTN;s2:NNNNNACGTACGTACGTACGTACGTACGTACGTACGTACGT;"
	       "s3:T;", "FASTA: N/IUPAC read as unknown, U as T");
	p = fx_put_gz("a.fa.gz", ">z\nAC\nGT\n");
	rc = fasta_dump(ctx, p, got, sizeof(got));
	ok(rc == 0 && !strcmp(got, "z:ACGT;"), "FASTA: .gz read (%s)", got);

	p = fx_put("b.fa", "ACGT\n>x\nAC\n");
	rc = fasta_dump(ctx, p, got, sizeof(got));
	snprintf(got, sizeof(got), "%s:1: sequence before the first header, "
		 "expected '>NAME'", p);
	ok(rc == SP_EINPUT && !strcmp(sp_errmsg(ctx), got),
	   "FASTA: sequence before a header: %s", sp_errmsg(ctx));
	p = fx_put("c.fa", ">x\nACGT\n>y\n\n>z\nA\n");
	rc = fasta_dump(ctx, p, got, sizeof(got));
	snprintf(got, sizeof(got), "%s:3: record y is empty, expected sequence "
		 "lines after its header", p);
	ok(rc == SP_EINPUT && !strcmp(sp_errmsg(ctx), got),
	   "FASTA: empty record: %s", sp_errmsg(ctx));
	p = fx_put("d.fa", ">x\nACGT\nAC-T\n");
	rc = fasta_dump(ctx, p, got, sizeof(got));
	snprintf(got, sizeof(got), "%s:3:3: '-' in record x, expected a "
		 "nucleotide (ACGTU) or an IUPAC code (NRYSWKMBDHV)", p);
	ok(rc == SP_EINPUT && !strcmp(sp_errmsg(ctx), got),
	   "FASTA: bad letter: %s", sp_errmsg(ctx));
	p = fx_put("e.fa", "> \nAC\n");
	rc = fasta_dump(ctx, p, got, sizeof(got));
	ok(rc == SP_EINPUT && strstr(sp_errmsg(ctx), ":1: header without a name"),
	   "FASTA: nameless header: %s", sp_errmsg(ctx));
	p = fx_put("f.fa", "");
	rc = fasta_dump(ctx, p, got, sizeof(got));
	ok(rc == 0 && got[0] == '\0', "FASTA: empty file has no records");
	rc = fasta_dump(ctx, "/nonexistent/x.fa", got, sizeof(got));
	ok(rc == SP_EIO, "FASTA: missing file: %s", sp_errmsg(ctx));
}

/* One long line of 300 kbp and no final newline. */
static void test_fasta_long(sp_ctx *ctx)
{
	size_t n = 300000;
	char *big = malloc(n + 8);
	sp_fasta *f;
	sp_dna_record r;
	int rc, ok1 = 1;
	memcpy(big, ">L\n", 3);
	for (size_t i = 0; i < n; i++)
		big[3 + i] = "ACGT"[i % 4];
	big[3 + n] = '\0';
	sp_dna_record_init(&r);
	rc = sp_fasta_open(&f, ctx, fx_put("long.fa", big));
	rc = rc ? rc : sp_fasta_next(f, ctx, &r);
	for (size_t i = 0; rc == 1 && i < r.len; i++)
		ok1 &= r.seq[i] == i % 4;
	ok(rc == 1 && r.len == n && ok1, "FASTA: one 300 kbp line, no newline");
	ok(sp_fasta_next(f, ctx, &r) == 0, "FASTA: then the end");
	sp_fasta_close(f);
	sp_dna_record_free(&r);
	free(big);
}

static int loc(sp_ctx *ctx, const char *s, long len, char *out, size_t cap)
{
	sp_gene g;
	size_t w;
	int rc = sp_genbank_location(ctx, s, len, &g);
	if (rc)
		return rc;
	w = (size_t)snprintf(out, cap, "%c%s%s", g.strand > 0 ? '+' : '-',
			     g.partial5 ? "<5" : "", g.partial3 ? ">3" : "");
	for (size_t k = 0; k < g.nexon; k++)
		w += (size_t)snprintf(out + w, cap - w, " %ld-%ld",
				      g.exon[k].beg, g.exon[k].end);
	sp_gene_clear(&g);
	return 0;
}

static void test_locations(sp_ctx *ctx)
{
	char got[256];
	ok(!loc(ctx, "join(1001..1456,1577..2662)", 3000, got, sizeof(got)) &&
	   !strcmp(got, "+ 1000-1456 1576-2662"), "location: join (%s)", got);
	ok(!loc(ctx, "complement(join(447..2282, 2343..2656))", 3000, got,
		sizeof(got)) && !strcmp(got, "- 446-2282 2342-2656"),
	   "location: complement(join) (%s)", got);
	ok(!loc(ctx, "join(complement(20..30),complement(1..10))", 0, got,
		sizeof(got)) && !strcmp(got, "- 0-10 19-30"),
	   "location: join(complement) (%s)", got);
	ok(!loc(ctx, "join(<5..10,20..>30)", 30, got, sizeof(got)) &&
	   !strcmp(got, "+<5>3 4-10 19-30"), "location: partial plus (%s)", got);
	ok(!loc(ctx, "complement(<5..>10)", 30, got, sizeof(got)) &&
	   !strcmp(got, "-<5>3 4-10"), "location: partial minus (%s)", got);
	ok(!loc(ctx, "7", 30, got, sizeof(got)) && !strcmp(got, "+ 6-7"),
	   "location: one base (%s)", got);
	ok(loc(ctx, "join(1..10,20..31)", 30, got, sizeof(got)) == SP_EINPUT &&
	   !strcmp(sp_errmsg(ctx), "location 'join(1..10,20..31)': range "
		   "20..31 outside the sequence 1..30 at column 12"),
	   "location outside: %s", sp_errmsg(ctx));
	ok(loc(ctx, "join(1..10,5..12)", 30, got, sizeof(got)) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "parts 1..10 and 5..12 overlap"),
	   "location: overlapping parts: %s", sp_errmsg(ctx));
	ok(loc(ctx, "join(1..10,complement(20..25))", 30, got, sizeof(got)) ==
	   SP_EINPUT && strstr(sp_errmsg(ctx), "both strands"),
	   "location: mixed strands: %s", sp_errmsg(ctx));
	ok(loc(ctx, "join(1..10,20..25", 30, got, sizeof(got)) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "expected ')' at column 18"),
	   "location: unclosed: %s", sp_errmsg(ctx));
	ok(loc(ctx, "J0001.1:1..10", 30, got, sizeof(got)) == SP_EINPUT,
	   "location: remote refused: %s", sp_errmsg(ctx));
}

/* A plus gene ATG AAA | GTxxAG | CCC + TAA on 30 bases, and a minus gene
 * in a second record. */
static const char *GB_OK =
	"LOCUS       rec1   30 bp  DNA\n"
	"DEFINITION  a test record.\n"
	"FEATURES             Location/Qualifiers\n"
	"     source          1..30\n"
	"     CDS             join(3..8,\n"
	"                     15..17)\n"
	"                     /gene=\"g1\"\n"
	"                     /note=\"join(99..100)\"\n"
	"BASE COUNT     1 a\n"
	"ORIGIN\n"
	"        1 ccatgaaagt ttagccctaa cccccCCCCC\n"
	"       31\n"
	"//\n"
	"LOCUS       rec2   20 bp  DNA\n"
	"FEATURES             Location/Qualifiers\n"
	"     CDS             complement(4..12)\n"
	"ORIGIN\n"
	"        1 ttattttttc atcc\n"
	"       15 cccccc\n"
	"//\n";

static int gb_read(sp_ctx *ctx, const char *path, sp_dna_record *r, int nth)
{
	sp_genbank *g;
	int rc = sp_genbank_open(&g, ctx, path);
	for (int i = 0; rc == 0 && i < nth; i++)
		rc = sp_genbank_next(g, ctx, r) == 1 ? 0 : SP_ERROR;
	if (rc == 0)
		rc = sp_genbank_next(g, ctx, r);
	sp_genbank_close(g);
	return rc;
}

static void labels_str(const sp_dna_record *r, char *out)
{
	/* i intergenic, 0-2 / 3-5 coding plus / minus by codon position,
	 * + - intron */
	for (size_t i = 0; i < r->len; i++)
		out[i] = "i012345+-"[r->label[i]];
	out[r->len] = '\0';
}

static void test_genbank(sp_ctx *ctx)
{
	const char *p = fx_put("ok.gb", GB_OK);
	sp_dna_record r;
	char lab[64];
	int rc;
	sp_dna_record_init(&r);
	rc = gb_read(ctx, p, &r, 0);
	ok(rc == 1 && r.len == 30 && r.ngene == 1 && !strcmp(r.name, "rec1"),
	   "GenBank: record 1 (%s)", rc < 0 ? sp_errmsg(ctx) : r.name);
	if (rc == 1) {
		labels_str(&r, lab);
		ok_str(lab, "ii012012++++++012iiiiiiiiiiiii", "GenBank: labels +");
		ok_str(r.gene[0].name, "g1", "GenBank: /gene name");
		ok(sp_gene_check(ctx, r.seq, r.len, &r.gene[0], 0) == 0,
		   "GenBank: gene 1 obeys the grammar (%s)", sp_errmsg(ctx));
	}
	rc = gb_read(ctx, p, &r, 1);
	ok(rc == 1 && r.len == 20 && r.ngene == 1 && r.gene[0].strand < 0,
	   "GenBank: record 2 (%s)", rc < 0 ? sp_errmsg(ctx) : r.name);
	if (rc == 1) {
		labels_str(&r, lab);
		ok_str(lab, "iii543543543iiiiiiii", "GenBank: labels -");
		ok(sp_gene_check(ctx, r.seq, r.len, &r.gene[0], 0) == 0,
		   "GenBank: gene 2 obeys the grammar (%s)", sp_errmsg(ctx));
	}
	rc = gb_read(ctx, fx_put_gz("ok.gb.gz", GB_OK), &r, 1);
	ok(rc == 1 && r.len == 20, "GenBank: .gz");
	sp_dna_record_free(&r);
}

/* Reads the first record of text and expects message want (%s = path). */
static void gb_fails(sp_ctx *ctx, const char *text, const char *want,
		     const char *what)
{
	const char *p = fx_put("bad.gb", text);
	char msg[600];
	sp_dna_record r;
	int rc;
	sp_dna_record_init(&r);
	rc = gb_read(ctx, p, &r, 0);
	snprintf(msg, sizeof(msg), want, p);
	ok(rc == SP_EINPUT && !strcmp(sp_errmsg(ctx), msg), "GenBank error, %s",
	   what);
	if (strcmp(sp_errmsg(ctx), msg))
		diag("got  %s\n#   want %s", sp_errmsg(ctx), msg);
	sp_dna_record_free(&r);
}

static void test_genbank_errors(sp_ctx *ctx)
{
	gb_fails(ctx, "LOCUS x 10 bp\nFEATURES\n     CDS             1..12\n"
		 "ORIGIN\n        1 acgtacgtac\n//\n",
		 "%s:3: CDS: location '1..12': range 1..12 outside the "
		 "sequence 1..10 at column 1", "location outside");
	gb_fails(ctx, "LOCUS x 12 bp\nFEATURES\n     CDS             1..6\n"
		 "     CDS             complement(4..9)\n"
		 "ORIGIN\n        1 acgtacgtac gt\n//\n",
		 "%s:1: record x: gene #2 (4..9) overlaps gene #1 (1..6): "
		 "per-base labels cannot express overlapping genes",
		 "overlapping genes");
	gb_fails(ctx, "LOCUS x 10 bp\nORIGIN\n        1 acgtacgtac\n"
		 "       11 acxt\n//\n",
		 "%s:4:13: 'x' in the sequence of x, expected a nucleotide "
		 "(ACGTU) or an IUPAC code (NRYSWKMBDHV)", "unknown letter");
	gb_fails(ctx, "LOCUS x 12 bp\nORIGIN\n        1 acgtacgtac\n//\n",
		 "%s:4: record x has 10 bases, expected 12 as its LOCUS line "
		 "says", "length differs from LOCUS");
	gb_fails(ctx, "LOCUS x 10 bp\nORIGIN\n        1 acgtacgtac\n",
		 "%s:1: record x is not closed, expected '//' before the end "
		 "of the file", "unclosed record");
	gb_fails(ctx, "ORIGIN\n", "%s:1: expected 'LOCUS' to start a record",
		 "no LOCUS");
	gb_fails(ctx, "LOCUS x 10 bp\nORIGIN\n        1 acgtacgtac\n"
		 "        9 acgt\n//\n",
		 "%s:4: sequence line numbered 9, expected 11", "numbering");
	gb_fails(ctx, "LOCUS x 10 bp\nFEATURES\n     CDS             1..6\n"
		 "                     /codon_start=4\nORIGIN\n//\n",
		 "%s:4: /codon_start=4, expected 1, 2 or 3", "codon_start");
}

/* Hand-made genes broken one rule at a time. */
static void test_grammar(sp_ctx *ctx)
{
	/*                 0123456789012345678901234567890 */
	const char *s = "CCATGAAAGTTTAGCCCTAACCC";
	uint8_t seq[64];
	size_t n = strlen(s);
	sp_exon ex[2] = { { 2, 8 }, { 14, 17 } };
	sp_gene g = { 1, 0, 0, 0, 2, ex, NULL };
	for (size_t i = 0; i < n; i++)
		seq[i] = (uint8_t)sp_base_code(s[i]);
	ok(sp_gene_check(ctx, seq, n, &g, 0) == 0, "grammar: valid gene");
	seq[9] = SP_BASE_C; /* GT -> GC */
	ok(sp_gene_check(ctx, seq, n, &g, 0) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "starts with GC on its strand, expected GT"),
	   "grammar: donor %s", sp_errmsg(ctx));
	ok(sp_gene_check(ctx, seq, n, &g, SP_GRAMMAR_GC_DONOR) == 0,
	   "grammar: GC donor allowed on request");
	seq[9] = SP_BASE_T;
	seq[17] = SP_BASE_C; /* TAA -> CAA */
	ok(sp_gene_check(ctx, seq, n, &g, 0) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "no stop codon"), "grammar: stop %s",
	   sp_errmsg(ctx));
	seq[17] = SP_BASE_T;
	seq[5] = SP_BASE_T; seq[6] = SP_BASE_A; seq[7] = SP_BASE_G;
	ok(sp_gene_check(ctx, seq, n, &g, 0) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "in-frame stop codon at 6"),
	   "grammar: in-frame stop %s", sp_errmsg(ctx));
	seq[5] = seq[6] = seq[7] = SP_BASE_A;
	ex[1].end = 18;
	ok(sp_gene_check(ctx, seq, n, &g, 0) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "multiple of 3"), "grammar: length %s",
	   sp_errmsg(ctx));
	ex[0].beg = 3;
	ok(sp_gene_check(ctx, seq, n, &g, 0) == SP_EINPUT &&
	   strstr(sp_errmsg(ctx), "ATG"), "grammar: no ATG %s", sp_errmsg(ctx));
}

static void test_shared(sp_ctx *ctx)
{
	const char *root = getenv("SEQPIPE_SHARED");
	static const char *const files[2] = { "genes.gb.train", "genes.gb.test" };
	static const long want_rec[2] = { 486, 100 };
	static const long want_len[2] = { 2655825, 625369 };
	for (int f = 0; f < 2; f++) {
		char path[1024];
		sp_genbank *g;
		sp_dna_record r;
		long nrec = 0, bases = 0, cls[SP_NCLASS] = { 0 }, minus = 0,
		     exons = 0, bad = 0;
		int rc;
		if (!root) {
			fx_skip("SEQPIPE_SHARED not set");
			continue;
		}
		snprintf(path, sizeof(path), "%s/data/dna/augustus_fly_genes/%s",
			 root, files[f]);
		sp_dna_record_init(&r);
		rc = sp_genbank_open(&g, ctx, path);
		while (rc == 0 && (rc = sp_genbank_next(g, ctx, &r)) == 1) {
			nrec++;
			bases += (long)r.len;
			for (size_t i = 0; i < r.len; i++)
				cls[sp_label_class(r.label[i])]++;
			for (size_t k = 0; k < r.ngene; k++) {
				minus += r.gene[k].strand < 0;
				exons += (long)r.gene[k].nexon;
				if (sp_gene_check(ctx, r.seq, r.len, &r.gene[k],
						  SP_GRAMMAR_GC_DONOR)) {
					if (bad++ < 3)
						diag("%s: %s", r.name, sp_errmsg(ctx));
				}
			}
			rc = 0;
		}
		ok(rc == 0 && nrec == want_rec[f] && bases == want_len[f],
		   "%s: %ld records, %ld bases (%s)", files[f], nrec, bases,
		   rc ? sp_errmsg(ctx) : "ok");
		diag("%s: coding %.1f%%, intron %.1f%%, intergenic %.1f%%; "
		     "%ld minus-strand genes, %ld exons, %ld off the grammar",
		     files[f], 100.0 * cls[1] / bases, 100.0 * cls[2] / bases,
		     100.0 * cls[0] / bases, minus, exons, bad);
		if (f == 1)
			ok(minus == 56 && exons == 472 &&
			   (long)(1000.0 * cls[1] / bases + 0.5) == 271 &&
			   (long)(1000.0 * cls[2] / bases + 0.5) == 541 &&
			   (long)(1000.0 * cls[0] / bases + 0.5) == 188,
			   "test set: 56 minus genes, 472 exons, 27.1/54.1/18.8 %%");
		else
			ok((long)(1000.0 * cls[1] / bases + 0.5) == 285 &&
			   (long)(1000.0 * cls[2] / bases + 0.5) == 500,
			   "train set: 28.5 %% coding, 50.0 %% intron");
		sp_genbank_close(g);
		sp_dna_record_free(&r);
	}
}

int main(void)
{
	sp_ctx *ctx;
	if (fx_init("t_dna_read") || sp_ctx_new(&ctx, 1) < 0) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_fasta(ctx);
	test_fasta_long(ctx);
	test_locations(ctx);
	test_genbank(ctx);
	test_genbank_errors(ctx);
	test_grammar(ctx);
	test_shared(ctx);
	sp_ctx_free(ctx);
	fx_done();
	return tap_done();
}
