/*
 * main.c: the `pipeline` program.  A thin command-line layer over the
 * runner (run, check, predict, trace), the run log (runs, show), the
 * vocabulary store (vocab) and the plugin registry (plugins).
 *
 * Exit status: 0 success, 1 failure (the one-line message on stderr names
 * file, line and what was expected), 2 bad command line, 130 interrupted.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_build_paths.h" /* generated: PLUGINDIR, SP_BUILTIN_MODULES ... */
#include "sp_cli_score.h"
#include "sp_genejob.h"
#include "cli_conlleval.h"
#include "cli_history.h"
#include "sp_harness.h"
#include "sp_modelfile.h"
#include "sp_registry.h"
#include "sp_runlog.h"
#include "sp_runner.h"
#include "sp_translate.h"
#include "sp_vocab.h"

#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int should_stop(void *payload)
{
	(void)payload;
	return interrupted;
}

static const char usage_text[] =
	"usage: pipeline [--db FILE] [--vocab-db FILE] COMMAND [ARGS]\n"
	"\n"
	"Sequence models (RNN, LSTM, GRU) from a .pipe file.\n"
	"\n"
	"commands:\n"
	"  run FILE.pipe       train and evaluate; log the run; print its id\n"
	"  check FILE.pipe     parse and validate FILE.pipe, load its plugins\n"
	"  predict FILE.pipe --input TEXT   run the trained model on TEXT\n"
	"  trace FILE.pipe --input TEXT     forward propagation, step by step\n"
	"  eval FILE.pipe      metrics of the trained model on the data splits\n"
	"  translate FILE.pipe --input TEXT | --file PATH | -   translate with the trained model\n"
	"  runs [--where EXPR] logged runs; filters, --order-by, --format csv|json\n"
	"  show RUN            a run's parameters, metrics per epoch, artifacts\n"
	"  compare RUN RUN...  parameters that differ, metrics side by side\n"
	"  best --metric NAME  the finished run with the best value of a metric\n"
	"  tag RUN KEY=VALUE   label a run; delete RUN... [--yes] [--files]\n"
	"  report RUN... -o FILE.html   learning curves, gradients, gates (HTML)\n"
	"  model FILE.spm      what a model file holds\n"
	"  plugins             list plugins and their components\n"
	"  vocab [NAME]        list stored vocabularies, or show one\n"
	SP_CLI_SCORE_SUMMARY
	"  conlleval [FILE]    score `token gold guess` lines as conlleval does\n"
	"\n"
	"options:\n"
	"  --db FILE           run log (default: [pipeline] db, else runs.db)\n"
	"  --vocab-db FILE     vocabulary store (default: [encode] store, else vocab.db)\n"
	"  --set SECTION.KEY=VALUE   override a .pipe value (repeatable)\n"
	"  -h, --help          this text; `pipeline COMMAND --help` for a command\n"
	"  --version           print the version\n"
	"\n"
	"Plugins are searched in $SEQPIPE_PLUGIN_PATH (colon-separated), then the\n"
	"build tree when run from it, then " PLUGINDIR ".\n";

static const char *const cmd_help[][2] = {
	{"run", "usage: pipeline run FILE.pipe [--set SECTION.KEY=VALUE]... [--db FILE] [--resume CKPT]\n"
		"                    [--quiet] [--force]\n"
		"Trains the model FILE.pipe describes, prints the loss and metrics per epoch,\n"
		"evaluates on the dev and test splits, saves the model and logs everything to\n"
		"the run log (runs.db).  Ctrl-C stops after the current batch; the run is then\n"
		"logged as interrupted with the metrics it had.  Prints the run id last.\n"
		"Every epoch also writes a checkpoint, models/<pipeline>-run<id>.last.spm;\n"
		"--resume CKPT goes on from it exactly as the run would have (its own\n"
		"configuration; raise train.epochs with --set to train longer).\n"
		"On a terminal a live line shows the epoch's progress (batches, tokens/s,\n"
		"mean loss, time left); otherwise a plain line every 30 s of an epoch.\n"
		"--quiet prints only the run id and the final results.\n"
		"train.save naming a file that is not a seqpipe model is refused; --force\n"
		"overwrites it.\n"},
	{"check", "usage: pipeline check FILE.pipe [--set SECTION.KEY=VALUE]...\n"
		  "       pipeline check --plugin MODULE|FILE [--set [model.|head.]KEY=VALUE]...\n"
		  "Parses FILE.pipe, loads its plugins and validates every key, running nothing.\n"
		  "With --plugin: loads one module (a name on the plugin path, or a .la/.so\n"
		  "file) and tests each of its model and head components alone: default keys,\n"
		  "a tiny random padded batch, forward and backward, and every weight's\n"
		  "gradient and the input's checked by finite differences.  One TAP line per\n"
		  "check; exit 1 when one fails.\n"},
	{"predict", "usage: pipeline predict FILE.pipe --input TEXT [--model FILE] [--top K]\n"
		    "                        [--generate N] [--temperature T] [--seed S]\n"
		    "       pipeline predict FILE.pipe --file PATH|- [--report conlleval] [--top K]\n"
		    "                        [--scheme iob1|iob2|iobes] [--model FILE]...\n"
		    "Runs the latest trained model of FILE.pipe's pipeline (or --model FILE) on\n"
		    "TEXT.  Language models print the most likely next tokens (--generate N\n"
		    "samples N more tokens), taggers a tag per token, classifiers a label.\n"
		    "--file runs every example of PATH (- = standard input) in batches: a file\n"
		    "with tabs is read in the pipeline's data format (gold tags or labels), else\n"
		    "one text per line.  Taggers write `token [gold] tag` lines (a blank line\n"
		    "between sentences), classifiers `label<TAB>probability<TAB>text`, language\n"
		    "models each line with its top-K next tokens; --report conlleval writes\n"
		    "conlleval's report of a tagger on a labelled file instead.  --scheme writes\n"
		    "a tagger's tags (gold and predicted) in that scheme, same entities; without\n"
		    "it they are in the training data's.  --model given again (--model A --model B\n"
		    "...) makes an ensemble of taggers of one pipeline: their tag probabilities\n"
		    "and best paths averaged, each sentence the best path its tag scheme allows.\n"
		    "--set SECTION.KEY=VALUE applies on top of the model's configuration (e.g.\n"
		    "--set head.entity_bias=1, a CRF's decoding rule; eval and translate too);\n"
		    "keys that would change what the model computes (plugin, [tokenize],\n"
		    "[encode], [model] but threads) are refused.\n"
		    "       pipeline predict FILE.pipe --file X.fa|X.gb --format gff3|bed\n"
		    "A DNA tagger (pipelines/dna.pipe): the genes of every record, decoded by the\n"
		    "gene grammar, as GFF3 or BED12 (doc/dna.md).\n"},
	{"eval", "usage: pipeline eval FILE.pipe [--model FILE] [--set data.test=FILE]... [--report conlleval]\n"
		 "Evaluates the latest trained model of FILE.pipe's pipeline (or --model FILE)\n"
		 "on the train, dev and test files of its configuration (--set names others) and\n"
		 "prints every metric with all its digits: the same numbers the run logged.\n"
		 "--report conlleval prints what the conlleval script prints for a tagger's\n"
		 "predictions on the test split, and nothing else.\n"},
	{"translate", "usage: pipeline translate FILE.pipe --input TEXT | --file PATH | - [--model FILE]\n"
		      "                          [--beam K] [--max-ratio R] [--attention FILE]\n"
		      "Translates with the latest trained model of FILE.pipe's pipeline (or --model\n"
		      "FILE), an encoder-decoder (format = parallel, head decoder): TEXT, or every\n"
		      "line of PATH (- = standard input), one detokenized line each.  --beam K\n"
		      "(1 = greedy; default the head's beam), --max-ratio R: at most\n"
		      "ceil(R * source length) + 1 output tokens.  --attention FILE writes each\n"
		      "sentence's attention matrix: a line of source tokens, then one line per\n"
		      "output token with its weights.  `pipeline eval` of such a pipeline also\n"
		      "prints BLEU (sacreBLEU's, with its signature), chrF2 and the tokenized\n"
		      "lowercased BLEU of the dev and test splits, with --beam K too.  --set\n"
		      "SECTION.KEY=VALUE applies on top of the model's configuration.\n"},
	{"trace", "usage: pipeline trace FILE.pipe --input TEXT [--trained] [--model FILE]\n"
		  "Prints forward propagation step by step in the course's notation: x(t),\n"
		  "Wxh·x(t), Whh·h(t-1) + b, h(t), y(t), softmax(y(t)), with shapes.  Uses the\n"
		  "initial weights (from the seed), or the trained ones with --trained\n"
		  "(--set then applies on top of the model's configuration, as for predict).\n"},
	{"model", "usage: pipeline model FILE.spm [--tensor NAME]\n"
		  "Prints what a model file holds: its metadata, vocabularies and tensors\n"
		  "(name and shape); with --tensor NAME, that tensor's values too.\n"},
	{"plugins", "usage: pipeline plugins\n"
		    "Lists plugin modules and their components: name, kind, version, file,\n"
		    "description, and every accepted key.\n"},
	{"vocab", "usage: pipeline vocab [NAME] [--vocab-db FILE] [--limit N]\n"
		  "Without NAME lists stored vocabularies; with NAME prints its tokens:\n"
		  "id, token, count, and which are special.\n"},
};

static void log_to_stderr(void *payload, sp_level level, const char *msg)
{
	(void)payload;
	if (level >= SP_LOG_WARN)
		fprintf(stderr, "pipeline: warning: %s\n", msg);
}

static int fail(sp_ctx *ctx, int rc)
{
	fprintf(stderr, "pipeline: error: %s\n", sp_errmsg(ctx));
	return rc == SP_EINTR ? EXIT_INTERRUPTED : EXIT_FAILURE;
}

/* Is this program running from the build tree?  libtool puts the real
 * binary of an uninstalled program in .libs/ beside its wrapper script. */
static int in_build_tree(void)
{
	char exe[PATH_MAX], top[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	size_t k;
	if (n <= 0 || !realpath(BUILD_TOPDIR, top))
		return 0;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return 0;
	*slash = '\0';          /* exe is now the program's folder */
	k = strlen(top);
	return strncmp(exe, top, k) == 0 &&
	       (exe[k] == '\0' || strcmp(exe + k, "/.libs") == 0);
}

static int setup_registry(sp_registry **out, sp_ctx *ctx)
{
	const char *env = getenv("SEQPIPE_PLUGIN_PATH");
	sp_registry *reg;
	int rc = sp_registry_new(&reg, ctx);
	*out = NULL;
	if (rc < 0)
		return rc;
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		if (!copy)
			rc = sp_err(ctx, SP_ENOMEM, "SEQPIPE_PLUGIN_PATH: out of memory");
		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && rc >= 0;
		     d = strtok_r(NULL, ":", &save))
			rc = sp_registry_add_dir(reg, ctx, d, "SEQPIPE_PLUGIN_PATH");
		free(copy);
	}
	if (rc >= 0 && in_build_tree())
		rc = sp_registry_add_dir(reg, ctx, BUILD_PLUGINDIR, "build tree");
	if (rc >= 0)
		rc = sp_registry_add_dir(reg, ctx, PLUGINDIR, "install dir");
	if (rc >= 0)
		rc = sp_registry_set_builtins(reg, ctx, SP_BUILTIN_MODULES);
	if (rc < 0) {
		sp_registry_free(reg);
		return rc;
	}
	*out = reg;
	return SP_OK;
}

/* Command-line state shared by the commands. */
typedef struct cli {
	const char *db;
	const char *vocab_db;
	const char **sets;
	size_t n_sets;
	const char *positional[2];
	size_t n_positional;
	sp_runner_opts ro;
	long limit;
	const char *tensor;
	const char *plugin;     /* check --plugin */
	const char **models;    /* predict: the second and further --model */
	size_t n_models;
} cli;

/* The ceiling of predict --generate: a typo must not run for days. */
#define SP_GENERATE_MAX 1000000L

static int parse_size(const char *opt, const char *s, long lo, long *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo) {
		fprintf(stderr, "pipeline: %s expects an integer >= %ld, got '%s'\n",
			opt, lo, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* The options that take a value (the next argument). */
static const char *const value_options[] = {
	"--db", "--vocab-db", "--set", "--input", "--file", "--report",
	"--resume", "--plugin", "--tensor", "--model", "--top", "--generate",
	"--seed", "--limit", "--temperature", "--beam", "--attention", "--max-ratio",
	"--format", "--scheme",
};

static int takes_value(const char *a)
{
	for (size_t i = 0; i < sizeof(value_options) / sizeof(*value_options); i++)
		if (!strcmp(a, value_options[i]))
			return 1;
	return 0;
}

/* Where the value of an option that takes a string goes, or NULL. */
static const char **string_slot(cli *c, const char *a)
{
	if (!strcmp(a, "--db"))
		return &c->db;
	if (!strcmp(a, "--vocab-db"))
		return &c->vocab_db;
	if (!strcmp(a, "--input"))
		return &c->ro.input;
	if (!strcmp(a, "--file"))
		return &c->ro.input_file;
	if (!strcmp(a, "--resume"))
		return &c->ro.resume_path;
	if (!strcmp(a, "--plugin"))
		return &c->plugin;
	if (!strcmp(a, "--tensor"))
		return &c->tensor;
	if (!strcmp(a, "--model"))
		return &c->ro.model_path;
	if (!strcmp(a, "--attention"))
		return &c->ro.attention;
	if (!strcmp(a, "--scheme"))
		return &c->ro.scheme;
	return NULL;
}

/* Sets option a (one of value_options) to val; -1 on a bad value. */
static int set_value(cli *c, const char *cmd, const char *a, const char *val)
{
	const char **slot = string_slot(c, a);
	char *end;
	long n;
	if (!strcmp(a, "--model") && c->ro.model_path) {
		c->models[c->n_models++] = val; /* an ensemble */
		return 0;
	}
	if (slot) {
		*slot = val;
	} else if (!strcmp(a, "--set")) {
		c->sets[c->n_sets++] = val;
	} else if (!strcmp(a, "--report")) {
		if (strcmp(val, "conlleval")) {
			fprintf(stderr, "pipeline %s: --report expects 'conlleval', got '%s'\n", cmd, val);
			return -1;
		}
		c->ro.report = val;
	} else if (!strcmp(a, "--format")) {
		if (strcmp(val, "gff3") && strcmp(val, "bed")) {
			fprintf(stderr, "pipeline %s: --format expects 'gff3' or 'bed', got '%s'\n", cmd, val);
			return -1;
		}
		c->ro.out_format = val;
	} else if (!strcmp(a, "--top")) {
		if (parse_size(a, val, 1, &n))
			return -1;
		c->ro.top_k = (size_t)n;
	} else if (!strcmp(a, "--generate")) {
		if (parse_size(a, val, 0, &n))
			return -1;
		if (n > SP_GENERATE_MAX) {
			fprintf(stderr, "pipeline: --generate %ld is past the ceiling of %ld tokens\n",
				n, (long)SP_GENERATE_MAX);
			return -1;
		}
		c->ro.generate = (size_t)n;
	} else if (!strcmp(a, "--seed")) {
		if (parse_size(a, val, 0, &n))
			return -1;
		c->ro.seed = n;
	} else if (!strcmp(a, "--limit")) {
		if (parse_size(a, val, 1, &c->limit))
			return -1;
	} else if (!strcmp(a, "--beam")) {
		if (parse_size(a, val, 1, &n))
			return -1;
		if (n > 1000) {
			fprintf(stderr, "pipeline: --beam %ld is past the ceiling of 1000\n", n);
			return -1;
		}
		c->ro.beam = (size_t)n;
	} else if (!strcmp(a, "--max-ratio")) {
		errno = 0;
		c->ro.max_ratio = strtod(val, &end);
		if (errno || *end || !(c->ro.max_ratio > 0) || c->ro.max_ratio > 100) {
			fprintf(stderr, "pipeline: --max-ratio expects a number in (0, 100], got '%s'\n", val);
			return -1;
		}
	} else if (!strcmp(a, "--temperature")) {
		errno = 0;
		c->ro.temperature = strtod(val, &end);
		if (errno || *end || !(c->ro.temperature > 0) || !isfinite(c->ro.temperature)) {
			fprintf(stderr, "pipeline: --temperature expects a finite number > 0, got '%s'\n", val);
			return -1;
		}
	}
	return 0;
}

/* Parses argv[i..] of a command; returns -1 on a usage error, 1 on --help. */
static int parse_args(cli *c, const char *cmd, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			return 1;
		} else if (takes_value(a)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pipeline %s: %s expects a value\n", cmd, a);
				return -1;
			}
			if (set_value(c, cmd, a, argv[++i]))
				return -1;
		} else if (!strcmp(a, "--quiet")) {
			c->ro.quiet = 1;
		} else if (!strcmp(a, "--force")) {
			c->ro.force = 1;
		} else if (!strcmp(a, "--trained")) {
			c->ro.trained = 1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "pipeline %s: unknown option '%s' (see pipeline %s --help)\n",
				cmd, a, cmd);
			return -1;
		} else {
			if (c->n_positional == 2) {
				fprintf(stderr, "pipeline %s: unexpected argument '%s'\n", cmd, a);
				return -1;
			}
			c->positional[c->n_positional++] = a;
		}
	}
	return 0;
}

static const char *help_of(const char *cmd)
{
	for (size_t i = 0; i < sizeof(cmd_help) / sizeof(cmd_help[0]); i++)
		if (!strcmp(cmd_help[i][0], cmd))
			return cmd_help[i][1];
	return NULL;
}

/* "      hidden = REQUIRED  (int) hidden units" */
static void print_spec(const sp_param_spec *s, const char *const *type_names)
{
	printf("      %s = %s  (%s%s%s) %s\n", s->key,
	       s->def ? (*s->def ? s->def : "\"\"") : "REQUIRED",
	       type_names[s->type <= SP_T_PATH ? s->type : 0],
	       s->choices ? ": " : "", s->choices ? s->choices : "", s->doc);
}

static int cmd_plugins(sp_ctx *ctx, sp_registry *reg)
{
	static const char *const type_names[] = {"?", "int", "float", "bool",
						 "string", "path"};
	int bad = sp_registry_load_all(reg, ctx);
	if (bad < 0)
		return fail(ctx, bad);
	static const char *const sections[] = {"pipeline", "data", "tokenize", "encode",
					       "model", "head", "train"};
	printf("sections read by pipeline itself (plugins add their own keys):\n");
	for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
		const sp_param_spec *spec = sp_runner_host_spec(sections[k]);
		printf("  [%s]\n", sections[k]);
		for (size_t j = 0; spec[j].key; j++)
			print_spec(&spec[j], type_names);
	}
	printf("\nplugin search path: %s\n", sp_registry_search_path(reg));
	for (size_t i = 0; i < sp_registry_count(reg); i++) {
		const sp_plugin *p = sp_registry_plugin_at(reg, i);
		printf("\n%s %s  %s\n  %s\n", p->name, p->version,
		       sp_registry_path_at(reg, i), p->doc);
		for (size_t k = 0; p->components[k]; k++) {
			const sp_component *c = p->components[k];
			printf("  %-10s %-9s %s\n", c->name, sp_kind_name(c->kind),
			       c->doc);
			for (size_t j = 0; c->params[j].key; j++)
				print_spec(&c->params[j], type_names);
		}
	}
	return 0;
}

/* check --plugin: the component harness on one module. */
static int cmd_check_plugin(sp_ctx *ctx, sp_registry *reg, const cli *c)
{
	sp_harness_opts o;
	const sp_plugin *p;
	size_t failed = 0;
	int rc;
	if (c->n_positional) {
		fprintf(stderr, "pipeline check: --plugin takes no .pipe file\n%s",
			help_of("check"));
		return EXIT_USAGE;
	}
	rc = sp_registry_load(reg, ctx, c->plugin, &p);
	if (rc < 0)
		return fail(ctx, rc);
	sp_harness_opts_init(&o);
	o.sets = c->sets;
	o.n_sets = c->n_sets;
	rc = sp_harness_check_plugin(ctx, p, &o, stdout, &failed);
	if (rc < 0 && failed) {
		fprintf(stderr, "pipeline: error: %s: %zu check%s failed, the first: %s\n",
			c->plugin, failed, failed == 1 ? "" : "s", sp_errmsg(ctx));
		return EXIT_FAILURE;
	}
	return rc < 0 ? fail(ctx, rc) : 0;
}

static int print_vocab_row(void *payload, const char *name, size_t size,
			   const char *created, const char *hash)
{
	(void)payload;
	printf("%-20s %8zu  %-24s %s\n", name, size, created, hash);
	return 0;
}

/* Prints a token padded to width, with control characters escaped so a
 * newline token stays on its row. */
static void print_escaped(const char *tok, int width)
{
	int n = 0;
	for (const unsigned char *p = (const unsigned char *)tok; *p; p++) {
		if (*p == '\n')
			n += printf("\\n");
		else if (*p == '\t')
			n += printf("\\t");
		else if (*p < 0x20)
			n += printf("\\x%02x", *p);
		else {
			putchar(*p);
			/* count characters, not UTF-8 continuation bytes */
			n += (*p & 0xc0) != 0x80;
		}
	}
	for (; n < width; n++)
		putchar(' ');
}

static int cmd_vocab(sp_ctx *ctx, cli *c)
{
	const char *db = c->vocab_db ? c->vocab_db : "vocab.db";
	sp_vocab *v;
	size_t n, limit;
	int rc;
	if (access(db, F_OK) != 0) {
		sp_err(ctx, SP_ENOTFOUND, "%s: no vocabulary store here yet (pipeline run creates it)", db);
		return fail(ctx, SP_ENOTFOUND);
	}
	if (c->n_positional == 0) {
		printf("%-20s %8s  %-24s %s\n", "name", "size", "created", "hash");
		rc = sp_vocab_list(ctx, db, print_vocab_row, NULL);
		return rc < 0 ? fail(ctx, rc) : 0;
	}
	rc = sp_vocab_load(&v, ctx, db, c->positional[0]);
	if (rc < 0)
		return fail(ctx, rc);
	n = sp_vocab_size(v);
	limit = c->limit > 0 ? (size_t)c->limit : n;
	printf("vocabulary %s: %zu tokens, hash %016llx\n", c->positional[0], n,
	       (unsigned long long)sp_vocab_hash(v));
	printf("%6s  %-24s %10s\n", "id", "token", "count");
	for (size_t i = 0; i < n && i < limit; i++) {
		const char *special = "";
		for (int s = 0; s < SP_SPECIAL_N; s++)
			if (sp_vocab_special(v, (sp_special)s) == (int32_t)i)
				special = sp_special_token((sp_special)s);
		printf("%6zu  ", i);
		print_escaped(sp_vocab_token(v, (int32_t)i), 24);
		printf(" %10lld%s%s\n", (long long)sp_vocab_count(v, (int32_t)i),
		       *special ? "  special " : "", special);
	}
	if (limit < n)
		printf("(%zu more; --limit N shows more)\n", n - limit);
	sp_vocab_free(v);
	return 0;
}

static int cmd_model(sp_ctx *ctx, cli *c)
{
	sp_modelfile *m;
	int rc;
	if (c->n_positional != 1) {
		fprintf(stderr, "pipeline model: expected a model file\n%s", help_of("model"));
		return EXIT_USAGE;
	}
	rc = sp_modelfile_open(&m, ctx, c->positional[0]);
	if (rc < 0)
		return fail(ctx, rc);
	printf("model file %s\n", c->positional[0]);
	printf("metadata:\n");
	for (size_t i = 0; i < sp_modelfile_count(m, SP_MODELFILE_META); i++) {
		const char *k = sp_modelfile_name(m, SP_MODELFILE_META, i);
		const char *v = sp_modelfile_meta(m, k);
		if (strchr(v, '\n'))
			printf("  %-16s (%zu bytes of text)\n", k, strlen(v));
		else
			printf("  %-16s %s\n", k, v);
	}
	printf("vocabularies:\n");
	for (size_t i = 0; i < sp_modelfile_count(m, SP_MODELFILE_VOCAB) && rc >= 0; i++) {
		const char *role = sp_modelfile_name(m, SP_MODELFILE_VOCAB, i);
		sp_vocab *v;
		rc = sp_modelfile_vocab(&v, m, ctx, role);
		if (rc >= 0)
			printf("  %-16s %zu entries\n", role, sp_vocab_size(v));
		sp_vocab_free(v);
	}
	printf("tensors:\n");
	for (size_t i = 0; i < sp_modelfile_count(m, SP_MODELFILE_TENSOR) && rc >= 0; i++) {
		const char *name = sp_modelfile_name(m, SP_MODELFILE_TENSOR, i);
		const float *data;
		int nd;
		size_t dims[SP_MODELFILE_MAX_DIMS], n = 1;
		rc = sp_modelfile_tensor(&data, &nd, dims, m, ctx, name);
		if (rc < 0)
			break;
		printf("  %-16s (", name);
		for (int d = 0; d < nd; d++) {
			printf("%s%zu", d ? "x" : "", dims[d]);
			n *= dims[d];
		}
		printf(")\n");
		if (c->tensor && !strcmp(c->tensor, name)) {
			size_t row = nd > 1 ? dims[nd - 1] : n;
			for (size_t k = 0; k < n; k++)
				printf("%s%.6g%s", k % row ? " " : "    ", data[k],
				       (k + 1) % row ? "" : "\n");
		}
	}
	if (rc >= 0 && c->tensor) {
		const float *data;
		int nd;
		size_t dims[SP_MODELFILE_MAX_DIMS];
		rc = sp_modelfile_tensor(&data, &nd, dims, m, ctx, c->tensor);
	}
	sp_modelfile_free(m);
	return rc < 0 ? fail(ctx, rc) : 0;
}

/* The global options before the command, and the command (*cmd; its
 * arguments start at argv[*next]).  -1 to go on, else the exit status. */
static int global_options(cli *c, int argc, char **argv, const char **cmd, int *next)
{
	int i;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("pipeline (seqpipe) %s, plugin ABI %d\n", PACKAGE_VERSION,
			       SP_ABI_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if ((!strcmp(argv[i], "--db") || !strcmp(argv[i], "--vocab-db")) &&
			   i + 1 < argc) {
			if (argv[i][2] == 'd')
				c->db = argv[i + 1];
			else
				c->vocab_db = argv[i + 1];
			i++;
		} else if (!strcmp(argv[i], "--db") || !strcmp(argv[i], "--vocab-db")) {
			fprintf(stderr, "pipeline: %s needs a FILE\n", argv[i]);
			return EXIT_USAGE;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "pipeline: unknown option '%s'\n%s", argv[i], usage_text);
			return EXIT_USAGE;
		} else {
			*cmd = argv[i++];
			break;
		}
	}
	*next = i;
	if (!*cmd) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	/* self-contained commands: no registry, no run log */
	if (!strcmp(*cmd, "conlleval"))
		return sp_cli_conlleval(argc - i, argv + i);
	if (!strcmp(*cmd, "score"))
		return sp_cli_score(argc - i, argv + i);
	if (cli_history_handles(*cmd))
		return cli_history_main(*cmd, argc - i, argv + i, c->db);
	if (!help_of(*cmd)) {
		fprintf(stderr, "pipeline: unknown command '%s'\n%s", *cmd, usage_text);
		return EXIT_USAGE;
	}
	return -1;
}

/* The option combinations a .pipe command accepts; 0 or EXIT_USAGE
 * (after the message and the command's help). */
static int pipe_usage_(cli *c, const char *cmd)
{
	const char *why = NULL;
	/* translate F.pipe -: standard input */
	if (!strcmp(cmd, "translate") && c->n_positional == 2 && !strcmp(c->positional[1], "-") &&
	    !c->ro.input_file) {
		c->ro.input_file = "-";
		c->n_positional = 1;
	}
	if (!strcmp(cmd, "translate") && (c->ro.input != NULL) == (c->ro.input_file != NULL))
		why = "expected one of --input TEXT, --file PATH or -";
	else if (c->n_positional != 1)
		why = "expected one .pipe file";
	else if (c->n_models && (strcmp(cmd, "predict") || !c->ro.input_file || c->ro.out_format))
		why = "several --model (an ensemble) need predict --file without --format";
	else if (!strcmp(cmd, "predict") && c->ro.input_file && c->ro.input)
		why = "--input and --file exclude each other";
	else if (!strcmp(cmd, "predict") && !c->ro.input_file && c->ro.report)
		why = "--report needs --file";
	else if (c->ro.out_format && (strcmp(cmd, "predict") || !c->ro.input_file))
		why = "--format needs predict --file";
	else if (c->ro.scheme && (strcmp(cmd, "predict") || !c->ro.input_file))
		why = "--scheme needs predict --file";
	else if (c->ro.scheme && (c->ro.report || c->ro.out_format))
		why = "--scheme writes CoNLL tags: not with --report (conlleval scores the tags as trained) or --format";
	else if ((!strcmp(cmd, "predict") && !c->ro.input && !c->ro.input_file) ||
		 (!strcmp(cmd, "trace") && !c->ro.input))
		why = "--input TEXT is required";
	if (!why)
		return 0;
	fprintf(stderr, "pipeline %s: %s\n%s", cmd, why, help_of(cmd));
	return EXIT_USAGE;
}

/* pipeline run: signals end the run as logged, not the process. */
static int cmd_run_(sp_ctx *ctx, sp_registry *reg, cli *c)
{
	struct sigaction sa;
	int64_t run_id = 0;
	sp_run_status end = SP_RUN_FAILED;
	int rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed terminal ends the run as interrupted, not killed */
	sigaction(SIGHUP, &sa, NULL);
	/* a closed output pipe (`pipeline run x | head`) must not kill a
	 * run half-logged: lose the output, keep training */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	rc = sp_runner_run(ctx, reg, c->positional[0], &c->ro, &run_id, &end);
	if (rc < 0 && run_id > 0) {
		/* one line: which run, how it ended (as logged), why */
		fprintf(stderr, "pipeline: error: run %lld %s: %s\n", (long long)run_id,
			sp_run_status_name(end), sp_errmsg(ctx));
		return rc == SP_EINTR ? EXIT_INTERRUPTED : EXIT_FAILURE;
	}
	return rc < 0 ? fail(ctx, rc) : 0;
}

/* run, check, eval, predict, translate, trace: the commands on one .pipe
 * file; returns the exit status. */
static int cmd_pipe(sp_ctx *ctx, sp_registry *reg, cli *c, const char *cmd)
{
	const char *file;
	int rc = pipe_usage_(c, cmd);
	if (rc)
		return rc;
	file = c->positional[0];
	if (!strcmp(cmd, "run"))
		return cmd_run_(ctx, reg, c);
	if (!strcmp(cmd, "check")) {
		rc = sp_runner_check(ctx, reg, file, &c->ro);
		if (rc >= 0)
			printf("%s: ok\n", file);
	} else if (!strcmp(cmd, "eval")) {
		rc = sp_runner_eval(ctx, reg, file, &c->ro);
	} else if (!strcmp(cmd, "predict")) {
		rc = sp_runner_predict(ctx, reg, file, &c->ro);
	} else if (!strcmp(cmd, "translate")) {
		sp_translate_opts to = {c->ro.beam, c->ro.max_ratio, c->ro.attention};
		rc = sp_runner_translate(ctx, reg, file, &c->ro, &to);
	} else {
		rc = sp_runner_trace(ctx, reg, file, &c->ro);
	}
	return rc < 0 ? fail(ctx, rc) : 0;
}

int main(int argc, char **argv)
{
	sp_ctx *ctx = NULL;
	sp_registry *reg = NULL;
	const char *cmd = NULL;
	cli c;
	int i, rc, status = 0;

	memset(&c, 0, sizeof(c));
	sp_runner_opts_init(&c.ro);
	/* one allocation: the --set values, then the further --model ones */
	c.sets = calloc(2 * ((size_t)argc + 1), sizeof(*c.sets));
	if (!c.sets) {
		fprintf(stderr, "pipeline: error: out of memory\n");
		return EXIT_FAILURE;
	}
	c.models = c.sets + argc + 1;
	/* global options before the command */
	if ((status = global_options(&c, argc, argv, &cmd, &i)) >= 0) {
		free(c.sets);
		return status;
	}
	status = 0;
	rc = parse_args(&c, cmd, argc - i, argv + i);
	if (rc != 0) {
		fputs(help_of(cmd), rc > 0 ? stdout : stderr);
		free(c.sets);
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	c.ro.db_path = c.db;
	c.ro.vocab_db = c.vocab_db;
	c.ro.overrides = c.sets;
	c.ro.n_overrides = c.n_sets;
	c.ro.ensemble = c.models;
	c.ro.n_ensemble = c.n_models;
	c.ro.out = stdout;
	c.ro.should_stop = should_stop;
	c.ro.job_hook = sp_genejob_hook; /* DNA taggers: genes out, gene-level eval */

	if (sp_ctx_new(&ctx, 0) < 0) {
		free(c.sets);
		fprintf(stderr, "pipeline: error: out of memory\n");
		return EXIT_FAILURE;
	}
	sp_ctx_set_log(ctx, log_to_stderr, NULL);
	rc = setup_registry(&reg, ctx);
	if (rc < 0) {
		status = fail(ctx, rc);
		goto done;
	}

	if (!strcmp(cmd, "check") && c.plugin) {
		status = cmd_check_plugin(ctx, reg, &c);
	} else if (!strcmp(cmd, "run") || !strcmp(cmd, "check") || !strcmp(cmd, "predict") ||
	    !strcmp(cmd, "trace") || !strcmp(cmd, "eval") || !strcmp(cmd, "translate")) {
		status = cmd_pipe(ctx, reg, &c, cmd);
	} else if (!strcmp(cmd, "plugins")) {
		status = cmd_plugins(ctx, reg);
	} else if (!strcmp(cmd, "model")) {
		status = cmd_model(ctx, &c);
	} else if (!strcmp(cmd, "vocab")) {
		status = cmd_vocab(ctx, &c);
	}
done:
	sp_registry_free(reg);
	sp_ctx_free(ctx);
	free(c.sets);
	return status;
}
