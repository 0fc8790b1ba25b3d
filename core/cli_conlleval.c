/*
 * cli_conlleval.c: `pipeline conlleval [FILE|-]`: scores a file of
 * `token ... gold guess` lines (a blank line between sentences) and prints
 * exactly what the original conlleval script prints for it
 * (core/sp_conlleval.h), so that predictions written by any tool can be
 * scored without Perl.  Standard input when FILE is `-` or absent.
 */
#include "cli_conlleval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_conlleval.h"

static const char usage_[] =
	"usage: pipeline conlleval [FILE|-]\n"
	"Scores FILE (standard input for - or none): one `token ... gold guess`\n"
	"line per token, fields separated by single spaces, an empty line between\n"
	"sentences.  Prints what the CoNLL-2000 conlleval script prints (default\n"
	"options): accuracy, chunk precision, recall and FB1, overall and per type.\n";

int sp_cli_conlleval(int argc, char **argv)
{
	const char *path = NULL;
	sp_ctx *ctx = NULL;
	sp_conlleval *ce = NULL;
	FILE *in = stdin;
	int status = EXIT_FAILURE;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_, stdout);
			return 0;
		}
		if ((argv[i][0] == '-' && argv[i][1]) || path) {
			fprintf(stderr, "pipeline conlleval: unexpected "
				"argument '%s'\n%s", argv[i], usage_);
			return 2;
		}
		path = argv[i];
	}
	if (path && !strcmp(path, "-"))
		path = NULL;
	if (sp_ctx_new(&ctx, 0) < 0) {
		fprintf(stderr, "pipeline: error: out of memory\n");
		return EXIT_FAILURE;
	}
	if (path && !(in = fopen(path, "rb"))) {
		fprintf(stderr, "pipeline: error: %s: cannot open: %s\n", path,
			strerror(errno));
		goto done;
	}
	if (sp_conlleval_new(&ce, ctx) < 0 ||
	    sp_conlleval_read(ce, ctx, in, path ? path : "<stdin>") < 0 ||
	    sp_conlleval_write(ce, ctx, stdout) < 0) {
		fprintf(stderr, "pipeline: error: %s\n", sp_errmsg(ctx));
		goto done;
	}
	status = 0;
done:
	if (in && in != stdin)
		fclose(in);
	sp_conlleval_free(ce);
	sp_ctx_free(ctx);
	return status;
}
