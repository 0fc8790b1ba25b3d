/*
 * sp_cli_score.h: the `pipeline score REF HYP` command: BLEU and chrF2 of
 * any hypothesis file against a reference file, printed as sacreBLEU
 * prints them (or as JSON), so that output produced elsewhere can be
 * scored the same way seqpipe scores its own.  Part of the program, not
 * of the library.
 */
#ifndef SP_CLI_SCORE_H
#define SP_CLI_SCORE_H

#ifdef __cplusplus
extern "C" {
#endif

/* The one-line summary for `pipeline --help`. */
#define SP_CLI_SCORE_SUMMARY \
	"  score REF HYP       BLEU and chrF2 of HYP against REF, as sacreBLEU prints them\n"

/* Runs the command on argv[0..argc) (the words after "score"); returns
 * the exit status: 0, 1 (an error, one line on stderr) or 2 (usage). */
int sp_cli_score(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* SP_CLI_SCORE_H */
