/*
 * sp_harness.h: the component test harness, for plugin authors.
 *
 * Drives each model and head component of one plugin on its own, as the
 * host would, on a tiny random batch (with padding): create with the
 * component's default keys, weights, bind, init, a training forward, a
 * backward; then checks every declared weight's gradient, and the
 * gradient into the input, by central finite differences of the
 * component's own loss.  For a model the loss is L = sum(y * R) with a
 * fixed random R (so dy = R); for a head it is its own loss divided by
 * the scale passed to backward.  Before each forward the random number
 * generator is put back where it was, so dropout masks repeat.
 *
 * `pipeline check --plugin FILE` runs it from the command line.  What it
 * does not check: tokenizers and encoders (no gradients), sequence
 * targets, and ops other than create/weights/bind/init/forward/backward.
 */
#ifndef SP_HARNESS_H
#define SP_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sp_ctx.h"
#include "sp_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_harness_opts {
	size_t size;          /* sizeof(sp_harness_opts), set by _init */
	size_t T, B;          /* batch: T steps, B sequences (row b has
				 T - b real steps, at least 1) */
	size_t in_dim;        /* input width of models and heads */
	uint64_t seed;
	size_t max_checks;    /* entries checked per weight (spread evenly) */
	double eps;           /* finite-difference step */
	double tolerance;     /* largest accepted relative error */
	/* "key=value" or "model.key=value" / "head.key=value": values for
	 * the components' keys (required keys without one get a small
	 * value: int 3, float 0.5, bool false, the first choice).
	 * Borrowed for the call. */
	const char *const *sets;
	size_t n_sets;
} sp_harness_opts;

/* Defaults: T 4, B 3, in_dim 5, seed 1, 24 checks, eps 1e-2, tolerance
 * 1e-2, no sets. */
void sp_harness_opts_init(sp_harness_opts *opts);

/*
 * Checks every model and head component of p, printing one TAP line per
 * check to out ("ok 3 - rnn.lstm: dWx max_rel=2.1e-04 (24 entries)"), then
 * "1..N".  *n_failed (may be NULL) gets the number of failed checks.
 * Returns SP_OK when every check passed, SP_ERROR when one failed (the
 * message in ctx names the first), or another negative code when the
 * harness itself could not run (out of memory).
 */
int sp_harness_check_plugin(sp_ctx *ctx, const sp_plugin *p,
			    const sp_harness_opts *opts, FILE *out,
			    size_t *n_failed);

#ifdef __cplusplus
}
#endif
#endif /* SP_HARNESS_H */
