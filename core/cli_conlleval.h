/*
 * cli_conlleval.h: the `pipeline conlleval` command (core/cli_conlleval.c).
 */
#ifndef SP_CLI_CONLLEVAL_H
#define SP_CLI_CONLLEVAL_H

/* Runs `pipeline conlleval ARGS...` (argv[0] is the first argument after
 * the command name) and returns the process exit status: 0, 1 on a
 * failure (one line on stderr), 2 on a bad command line. */
int sp_cli_conlleval(int argc, char **argv);

#endif /* SP_CLI_CONLLEVAL_H */
