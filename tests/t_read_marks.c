/*
 * t_read_marks.c: [data] split_marks of the conll reader.  In the
 * training split a token that holds a mark is split around it ("@user"
 * is "@" "user", "don't" is "don" "'" "t"): leading marks are I-X when
 * the entity goes on through them (I-X or E-X after a token of type X),
 * O otherwise, and the pieces from the first that is not a mark on carry
 * the entity (B-X .. I-X .. E-X as the token's tag says); dev and test
 * are read as they are.
 * Through the reader component, as the runner reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_data.h"
#include "sp_kv_host.h"
#include "sp_readers.h"
#include "sp_runner.h"
#include "readerkv.h"
#include "tap.h"
#include "tmpdir.h"

/* [data] with format = conll and split_marks = marks, validated. */
static sp_kv *data_kv(sp_ctx *ctx, const char *marks)
{
	char set[64];
	snprintf(set, sizeof(set), "split_marks=%s", marks);
	return reader_kv(ctx, "conll", (const char *const[]){set}, 1);
}

static sp_corpus *read_split(sp_ctx *ctx, const char *file, const char *marks,
			     const char *split)
{
	const sp_reader_ops *r = NULL;
	sp_corpus *c = NULL;
	sp_kv *kv = data_kv(ctx, marks);
	if (!kv || sp_reader_find(&r, ctx, NULL, "conll", "test") < 0 ||
	    sp_reader_read(&c, ctx, r, kv, path_of(file), split, 1) < 0) {
		diag("read: %s", sp_errmsg(ctx));
		c = NULL;
	}
	sp_kv_free(kv);
	return c;
}

/* Sentence i as "tok/label tok/label ...". */
static const char *joined(const sp_corpus *c, size_t i, char *buf, size_t cap)
{
	size_t n = 0, m = 0, len = 0;
	const char *const *tok = sp_corpus_tokens(c, i, &n);
	const char *const *lab = sp_corpus_labels(c, i, &m);
	buf[0] = '\0';
	for (size_t k = 0; tok && lab && n == m && k < n && len < cap; k++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s/%s", k ? " " : "",
					tok[k], lab[k]);
	return buf;
}

static const char *const file_ =
	"RT\tO\n@paulwalk\tO\n:\tO\n#Obama\tB-person\nsaid\tO\n@\tO\n#\tO\n\n"
	"Star\tB-creative-work\n#Wars\tI-creative-work\nis\tO\n\n"
	"New\tB-location\n#York\tE-location\n@x\tS-person\n\n"
	"see\tO\n#it\tI-location\nnow\tO\n\n"
	"caf\xc3\xa9\tO\n\xc3\xa9t\xc3\xa9\tO\n@@\tO\n\n"
	"don't\tO\nO'Neil\tB-person\n's\tO\nrock'n'roll\tB-genre\nfans'\tO\n\n"
	"met\tO\nO'Neil\tS-person\nand\tO\nMr\tB-person\nO'Neil\tE-person\n\n"
	"don't\tVB\n@home\tNN\n\n";

static void expect(const sp_corpus *c, size_t i, const char *want, const char *what)
{
	char buf[512];
	const char *got = c ? joined(c, i, buf, sizeof(buf)) : "(no corpus)";
	ok(!strcmp(got, want), "%s", what);
	if (strcmp(got, want))
		diag("got  '%s'\nwant '%s'", got, want);
}

static void training_split(sp_ctx *ctx)
{
	sp_corpus *c = read_split(ctx, "marks.conll", "@#'", "train");
	ok(c && sp_corpus_count(c) == 8, "eight sentences");
	expect(c, 0, "RT/O @/O paulwalk/O :/O #/O Obama/B-person said/O @/O #/O",
	       "@user and #tag split, the mark O before a B- token; a lone mark kept");
	expect(c, 1, "Star/B-creative-work #/I-creative-work Wars/I-creative-work is/O",
	       "an entity that goes on through the mark: the mark is I-X");
	expect(c, 2, "New/B-location #/I-location York/E-location @/O x/S-person",
	       "IOBES: I-X before E-X, O before S-X");
	expect(c, 3, "see/O #/O it/I-location now/O",
	       "an I-X that starts an entity (IOB1): the mark is O");
	expect(c, 4, "caf\xc3\xa9/O \xc3\xa9t\xc3\xa9/O @/O @/O",
	       "other tokens as they are; \"@@\" is @ then @");
	expect(c, 5, "don/O '/O t/O O/B-person '/I-person Neil/I-person '/O s/O "
	       "rock/B-genre '/I-genre n/I-genre '/I-genre roll/I-genre fans/O '/O",
	       "a mark inside or at the end: the token split around it, the entity going on");
	expect(c, 6, "met/O O/B-person '/I-person Neil/E-person and/O Mr/B-person "
	       "O/I-person '/I-person Neil/E-person",
	       "IOBES: S-X becomes B-X .. E-X, E-X ends on the last piece");
	expect(c, 7, "don/VB '/VB t/VB @/NN home/NN", "labels of no scheme: every piece the same");
	ok(c && sp_corpus_line(c, 1) == 9, "the source line of a sentence is kept");
	sp_corpus_free(c);
}

/* 64 pieces are split, 65 and more read whole; so is a token whose
 * label is 64 bytes or longer.  Labels and state across sentences. */
static void limits(sp_ctx *ctx)
{
	char line[512] = "", want[512] = "", lab[80];
	sp_corpus *c;
	for (int i = 0; i < 32; i++) {
		strcat(line, "a'");
		strcat(want, i ? " a/O '/O" : "a/O '/O");
	}
	strcat(line, "\tO\n\n");
	for (int i = 0; i < 32; i++)
		strcat(line, "a'");
	strcat(line, "a\tO\n\n");
	memcpy(lab, "B-", 2); /* a label of 64 bytes */
	memset(lab + 2, 'X', 62);
	lab[64] = '\0';
	strcat(line, "@x\t");
	strcat(line, lab);
	strcat(line, "\n\nx\tB-X\n\n@y\tI-X\n\nx\tI-X\n@y\tB-X\n");
	write_file("limits.conll", line);
	c = read_split(ctx, "limits.conll", "'@", "train");
	ok(c && sp_corpus_count(c) == 6, "six sentences");
	expect(c, 0, want, "64 pieces: split");
	{
		char whole[256];
		size_t n = 0;
		const char *const *tok = c ? sp_corpus_tokens(c, 1, &n) : NULL;
		snprintf(whole, sizeof(whole), "%s", tok && n == 1 ? tok[0] : "");
		ok(n == 1 && strlen(whole) == 65, "65 pieces: the token read whole (%zu tokens)", n);
	}
	{
		char w[160];
		snprintf(w, sizeof(w), "@x/%s", lab);
		expect(c, 2, w, "a label of 64 bytes: the token read whole");
	}
	expect(c, 4, "@/O y/I-X", "a new sentence: nothing goes on from the last one");
	expect(c, 5, "x/I-X @/O y/B-X",
	       "IOB1's B-X after an entity of its type: O then B-X (documented; the CRF refuses it)");
	sp_corpus_free(c);
}

static void other_splits(sp_ctx *ctx)
{
	sp_corpus *c = read_split(ctx, "marks.conll", "@#", "test");
	expect(c, 0, "RT/O @paulwalk/O :/O #Obama/B-person said/O @/O #/O",
	       "test is read as it is");
	sp_corpus_free(c);
	c = read_split(ctx, "marks.conll", "@#", "dev");
	expect(c, 1, "Star/B-creative-work #Wars/I-creative-work is/O", "dev too");
	sp_corpus_free(c);
	c = read_split(ctx, "marks.conll", "", "train");
	expect(c, 0, "RT/O @paulwalk/O :/O #Obama/B-person said/O @/O #/O",
	       "no marks: training read as it is");
	sp_corpus_free(c);
	c = read_split(ctx, "marks.conll", "#", "train");
	expect(c, 0, "RT/O @paulwalk/O :/O #/O Obama/B-person said/O @/O #/O",
	       "only the marks given");
	expect(c, 5, "don't/O O'Neil/B-person 's/O rock'n'roll/B-genre fans'/O",
	       "tokens without them as they are");
	sp_corpus_free(c);
}

static void refused(sp_ctx *ctx)
{
	static const char *const bad[] = {"@ #", "\xc2\xa7", "@\t"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const sp_reader_ops *r = NULL;
		sp_kv *kv = data_kv(ctx, bad[i]);
		int rc = kv && sp_reader_find(&r, ctx, NULL, "conll", "test") == 0 ? r->check(ctx, kv) : 0;
		ok(rc == SP_EINVAL && strstr(sp_errmsg(ctx), "split_marks") &&
		   strstr(sp_errmsg(ctx), "expected ASCII"), "split_marks '%s' refused in one line: %s",
		   bad[i], sp_errmsg(ctx));
		sp_kv_free(kv);
	}
}

int main(void)
{
	sp_ctx *ctx = NULL;
	if (tmpdir_make("t_read_marks") < 0 || sp_ctx_new(&ctx, 1) < 0)
		return 1;
	write_file("marks.conll", file_);
	training_split(ctx);
	other_splits(ctx);
	limits(ctx);
	refused(ctx);
	tmpdir_remove();
	sp_ctx_free(ctx);
	return tap_done();
}
